/* The IAM side of a slot (SPEC.md "Clusters", IAM): roles and instance
 * profiles NAME-SLOT-master, NAME-SLOT-node and NAME-SLOT-auth under /paasctl/, trusted by
 * EC2, each with one inline policy that reads exactly the slot bucket's keys
 * its nodes need. Found by name; made before RunInstances (`up`), removed
 * after the instances (`teardown`). The number of IAM calls is the same
 * for 3 nodes and for 300. */
#ifndef PLANS_SLOT_IAM_H
#define PLANS_SLOT_IAM_H

#include "aws/batch.h"
#include "core/buf.h"
#include "plans/diff.h"
#include "plans/paas.h"

/* The auth server has a role of its own: only it reads Keycloak's TLS key
 * and credentials (plans/auth_store.h). */
enum slot_iam_kind { SLOT_IAM_MASTER, SLOT_IAM_NODE, SLOT_IAM_AUTH, SLOT_IAM_N };

/* The kind whose profile an instance of role (enum slot_role) gets. */
enum slot_iam_kind slot_iam_kind_of(int role);

#define SLOT_IAM_POLICY "slot-bucket-read"

struct slot_iam {
    char name[SLOT_IAM_N][128];       /* role = profile name */
    int have_role[SLOT_IAM_N];
    int have_profile[SLOT_IAM_N];
    int role_in_profile[SLOT_IAM_N];
    int policy_ok[SLOT_IAM_N];
    int have_policy[SLOT_IAM_N];
    struct buf policy[SLOT_IAM_N];    /* the wanted documents (JSON) */
};

/* "NAME-SLOT-master" / "NAME-SLOT-node" / "NAME-SLOT-auth". */
void slot_iam_name(const struct paas *p, const char *slot,
                   enum slot_iam_kind k, char *out, size_t size);

/* Reads both roles, their policies and profiles; renders the wanted
 * policies for bucket. s is released with slot_iam_release. */
int slot_iam_read(struct paas *p, const char *slot, const char *bucket,
                  struct slot_iam *s, struct err *e);
void slot_iam_decide(struct slot_iam *s, struct diff *d);
int slot_iam_apply(struct paas *p, const char *slot, struct slot_iam *s,
                   struct err *e);
void slot_iam_release(struct slot_iam *s);

/* RunInstances batch b, retrying the launches that EC2 refuses because a
 * just-made instance profile has not reached it yet (IAM is eventually
 * consistent: InvalidParameterValue for several seconds), for a bounded
 * time (PAASCTL_IAM_WAIT_S, default 120 s). */
int slot_iam_run_launch(struct paas *p, struct aws_batch *b, struct err *e);

/* teardown: what exists (by name) as `-` entries, then its removal:
 * roles out of profiles, inline policies, profiles, roles. */
struct slot_iam_gone {
    char name[SLOT_IAM_N][128];
    int have_role[SLOT_IAM_N];
    int have_profile[SLOT_IAM_N];
};
int slot_iam_teardown_read(struct paas *p, const char *slot,
                           struct slot_iam_gone *g, struct err *e);
void slot_iam_teardown_decide(const struct slot_iam_gone *g, struct diff *d);
int slot_iam_teardown_apply(struct paas *p, const struct slot_iam_gone *g,
                            struct err *e);

/* The policy document of kind k for bucket (tests and plan use it). */
int slot_iam_policy(const struct paas *p, const char *bucket,
                    enum slot_iam_kind k, struct buf *out, struct err *e);

#endif
