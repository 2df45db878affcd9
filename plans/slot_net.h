/* A slot's own network pieces (SPEC.md "Clusters", Security groups and
 * DNS): the security groups NAME-SLOT-sg-node (every instance of the slot)
 * and NAME-SLOT-sg-master (its masters), which allow exactly what kubeadm,
 * flannel and the ingress need and nothing from the other slot; and the
 * api/auth records of an older layout left in the public zone, which go
 * (no private address is published). */
#ifndef PLANS_SLOT_NET_H
#define PLANS_SLOT_NET_H

#include "aws/ec2.h"
#include "aws/route53.h"
#include "plans/diff.h"
#include "plans/paas.h"
#include "plans/shell.h"

/* SLOT_SG_API (NAME-SLOT-sg-api) guards the internal API load balancer of
 * a slot with master_count = 3 (plans/slot_api.h); it exists only then. */
enum slot_sg { SLOT_SG_NODE, SLOT_SG_MASTER, SLOT_SG_API, SLOT_N_SG };

#define SLOT_NET_MAX_RULES 24

struct slot_net {
    int have_sg[SLOT_N_SG];
    struct ec2_security_group sg[SLOT_N_SG];
    int todo_sg[SLOT_N_SG], todo_rules[SLOT_N_SG];
    size_t d_sg[SLOT_N_SG];
    struct r53_record stale[2];        /* api/auth A records in the public zone */
    size_t n_stale;
    char public_zone_id[64];
    struct ec2_security_group gone[SLOT_N_SG];   /* teardown: what exists */
    size_t n_gone;
    char dup[256];     /* "" or two groups of the slot for one role */
};

/* Reads the slot's groups (in the shell's VPC) and stale public records. */
int slot_net_read(struct paas *p, const char *slot, const struct shell_world *w,
                  struct slot_net *n, struct err *e);
void slot_net_decide(struct paas *p, const char *slot, const struct shell_world *w,
                     struct slot_net *n, struct diff *d);
/* Creates the groups, adds their missing rules, drops the stale records. */
int slot_net_apply(struct paas *p, const char *slot, const struct shell_world *w,
                   struct slot_net *n, struct diff *d, struct err *e);
/* The rules group g must have (ids of the shell's groups and the slot's). */
size_t slot_net_rules(const struct paas *p, const struct shell_world *w,
                      const struct slot_net *n, enum slot_sg g,
                      struct ec2_perm *out);

/* teardown a|b: the groups (into gone[]) and stale records, as `-`
 * entries. The caller deletes the groups once the instances are gone;
 * this drops the stale records. */
int slot_net_teardown_read(struct paas *p, const char *slot, struct slot_net *n,
                           struct err *e);
void slot_net_teardown_decide(const struct slot_net *n, struct diff *d);
int slot_net_teardown_records(struct paas *p, struct slot_net *n, struct err *e);

#endif
