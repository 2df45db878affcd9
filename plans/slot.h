/* `up a|b` / `plan a|b` (SPEC.md "Clusters", "Tags"): the slot's
 * config bucket with its bootstrap files, the auth server, master_count
 * masters (3: behind the slot's API balancer, plans/slot_api.h),
 * ingress_count ingress nodes and minion_count minions spread evenly over
 * the zones, the api/auth DNS records, and the ingress nodes behind the
 * pre-live ELB. Counts converge both ways; the newest extras go first. */
#ifndef PLANS_SLOT_H
#define PLANS_SLOT_H

#include <stddef.h>
#include "aws/ec2.h"
#include "aws/route53.h"
#include "plans/diff.h"
#include "plans/paas.h"

enum slot_role { ROLE_AUTH, ROLE_MASTER, ROLE_INGRESS, ROLE_MINION, SLOT_N_ROLES };

const char *slot_role_name(enum slot_role r);
/* The role named name ("master"), or -1. */
int slot_role_of(const char *name);
/* The instance type of role r in the slot's [cluster x] section. */
const char *slot_cluster_role_type(const struct cluster_config *cc, enum slot_role r);
/* How many instances of role r the slot runs: ingress_count, minion_count,
 * one auth server and one master. */
int slot_cluster_role_count(const struct cluster_config *cc, enum slot_role r);
/* Zone z's share of count instances over nz zones: count/nz, and one more
 * in each of the first count%nz zones (the even spread of SPEC.md
 * "Clusters"). */
int slot_spread(int count, int nz, int z);

/* Checks "a"/"b" (ERR_USAGE otherwise). */
int slot_check_name(const char *slot, struct err *e);
/* Also that the configuration has the slot's [cluster x] section
 * (ERR_USAGE, exit 2: a slot without one cannot be brought up). */
int slot_check_config(const struct paas *p, const char *slot, struct err *e);

/* Every instance tagged for the slot, terminated ones included (they feed
 * the ClientTokens); *out is malloc'd. */
int slot_read_instances(struct paas *p, const char *slot,
                        struct ec2_instance **out, size_t *n, struct err *e);
/* 1 for pending, running, stopping, stopped. */
int slot_instance_alive(const struct ec2_instance *i);
/* 1 if any alive ingress instance carries paasctl:traffic=live. */
int slot_is_live(const struct ec2_instance *in, size_t n);

/* The slot's config bucket: NAME-SLOT-config. *exists says whether it is
 * there; one owned by another account is an error (SPEC.md "Clusters"). */
int slot_bucket_name(struct paas *p, const char *slot, char *out, size_t size,
                     int *exists, struct err *e);

/* "api.SLOT.DNS_ZONE." and "auth.SLOT.DNS_ZONE.". */
void slot_record_name(const struct paas *p, const char *slot, const char *host,
                      char *out, size_t size);

/* Computes the slot's diff into d and, when apply is set, makes it so.
 * Without the shell: ERR_REFUSED when applying (exit 3: run `up shell`
 * first); a plan lists everything as to create with a note. */
int plan_up_slot(struct paas *p, const char *slot, int apply, struct diff *d,
                 struct err *e);

#endif
