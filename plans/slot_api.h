/* A slot's API endpoint (SPEC.md "Clusters", DNS and `master_count`).
 * With master_count = 3 the slot's masters stand behind an internal classic
 * ELB NAME-SLOT-api (TCP 6443 -> 6443, health TCP:6443, in the private
 * subnets, guarded by NAME-SLOT-sg-api, tagged role elb-api at creation)
 * and api.SLOT.k8s.DNS_ZONE is a Route53 alias of it; with 1 the record is
 * an A record of the master and there is no balancer. A running slot is
 * never switched between the two: that is what the other slot is for.
 * Called by plans/slot.c (up/plan) and plans/teardown.c. */
#ifndef PLANS_SLOT_API_H
#define PLANS_SLOT_API_H

#include <stddef.h>
#include "aws/elb.h"
#include "aws/route53.h"
#include "plans/bootstrap.h"
#include "plans/diff.h"
#include "plans/paas.h"
#include "plans/shell.h"

#define SLOT_API_PORT 6443

struct slot_api {
    char name[64];           /* NAME-SLOT-api */
    int want;                /* master_count = 3 */
    int have;                /* the balancer exists (read only when wanted,
                              * and always by teardown) */
    struct elb_lb lb;        /* as read, then as made */
    int todo_create, todo_health, todo_members;
    size_t d_lb;             /* its diff entry */
};

void slot_api_release(struct slot_api *a);

/* 1 when slot's [cluster] asks for master_count = 3 (a balancer). */
int slot_api_wanted(const struct paas *p, const char *slot);
/* "NAME-SLOT-api". */
void slot_api_name(const struct paas *p, const char *slot, char *out, size_t size);

/* up/plan: reads the balancer by name when master_count = 3 (one
 * DescribeLoadBalancers; none with 1). */
int slot_api_read(struct paas *p, const char *slot, struct slot_api *a,
                  struct err *e);

/* The interlock: a slot with alive masters built with the other master
 * count (its api record an alias = 3, an A record = 1; no record: 1 when
 * the balancer is wanted but missing, as it is made before any master) is
 * not converted in place. Applying: ERR_REFUSED (exit 3) naming why and the A/B
 * way; planning: d->note says `up` will refuse. api_rec may be NULL. */
int slot_api_refuse_change(const char *slot, const struct slot_api *a,
                           const struct r53_record *api_rec,
                           size_t masters_alive, int apply, struct diff *d,
                           struct err *e);

/* The env-file values the bootstrap branches on: @MASTER_COUNT@ and
 * @INIT_ZONE@ (the zone whose first-launched master runs kubeadm init). */
void slot_api_vars(const struct paas *p, const struct cluster_config *cc,
                   struct bootstrap_vars *v);

/* The balancer's diff line (when wanted) and its members' line: the kept
 * masters' ids and how many masters will be launched. */
void slot_api_decide(const struct shell_world *w, struct slot_api *a, struct diff *d);
void slot_api_decide_members(struct slot_api *a,
                             const char *const *kept, size_t n_kept, int n_launch,
                             struct diff *d);

/* The record api.SLOT... should be when wanted: an alias of the balancer
 * (its DNS name and CanonicalHostedZoneNameID). 1 when have (NULL = none)
 * already is exactly that. */
void slot_api_record(const struct slot_api *a, const char *name, struct r53_record *out);
int slot_api_record_ok(const struct slot_api *a, const struct r53_record *have);
/* The diff detail of the record. */
void slot_api_record_detail(const struct slot_api *a, char *out, size_t size);

/* up: creates the balancer in the shell's private subnets with security
 * group sg, sets its health check, and reads it back (its DNS name and
 * canonical zone id feed the record). Before any master launches, so a
 * slot with masters and no balancer was built with master_count = 1. */
int slot_api_apply_lb(struct paas *p, const char *slot, const struct shell_world *w,
                      const char *sg, struct slot_api *a, struct diff *d,
                      struct err *e);
/* up, after the wait: the members become exactly the running masters. */
int slot_api_apply_members(struct paas *p, struct slot_api *a,
                           const char *const *masters, size_t n, struct err *e);

/* teardown a|b: the balancer by name whatever master_count says now. */
int slot_api_teardown_read(struct paas *p, const char *slot, struct slot_api *a,
                           struct err *e);
void slot_api_teardown_decide(const struct slot_api *a, struct diff *d);
int slot_api_teardown_apply(struct paas *p, const struct slot_api *a, struct err *e);

#endif
