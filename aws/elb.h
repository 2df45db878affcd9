/* Classic Elastic Load Balancing over the Query protocol (API 2012-06-01):
 * the two long-lived ELBs, live and pre-live (SPEC.md "Cutover rules"). */
#ifndef AWS_ELB_H
#define AWS_ELB_H

#include <stddef.h>
#include "aws/transport.h"

#define ELB_MAX_MEMBERS 1024

struct elb_lb {
    char name[64];
    char dns_name[256];
    size_t n_instances;
    char (*instances)[32];   /* malloc'd, n_instances ids; elb_lb_release */
};

void elb_lb_release(struct elb_lb *lb);

/* Describes the named load balancers. found[i] is set to 1 when names[i]
 * exists, and out[i] filled; absent ones (LoadBalancerNotFound) are not an
 * error. One call for all names; only if one is missing, one per name. */
int elb_describe(struct aws_client *c, const char *const *names, size_t n,
                 struct elb_lb *out, int *found, struct err *e);

struct elb_health {
    char instance_id[32];
    char state[32];          /* InService, OutOfService, Unknown */
    char reason[64];         /* ReasonCode */
    char description[256];
};

/* Health of the listed instances (or of every member when n_ids is 0), one
 * call. *out is malloc'd (caller frees). */
int elb_describe_health(struct aws_client *c, const char *lb,
                        const char *const *ids, size_t n_ids,
                        struct elb_health **out, size_t *n, struct err *e);

#endif
