/* The listeners and the TLS negotiation policy of the shell's two ELBs
 * (SPEC.md "Configuration" [elb] listener and ssl_policy): what [elb]
 * asks for, how an existing balancer differs, and the calls that make it
 * so in place (`~ update` in `plan shell`), so a listener change never
 * recreates a balancer (its DNS name, which the public records alias,
 * stays). Both balancers get the same listeners. */
#ifndef PLANS_ELB_LISTENERS_H
#define PLANS_ELB_LISTENERS_H

#include <stddef.h>
#include "aws/batch.h"
#include "aws/elb.h"
#include "core/config.h"

/* The listeners [elb] asks for, in API spelling; returns how many. */
size_t lsn_want(const struct config *cfg, struct elb_listener *out);

/* How lb's listeners differ from [elb]: add gets the wanted ones missing
 * (or different: protocol, ports or certificate), del the LB ports of the
 * ones that are not wanted as they are. Deleting first and then creating
 * is the in-place change (a port is one listener). */
struct lsn_diff {
    struct elb_listener add[CONFIG_MAX_LISTENERS];
    size_t n_add;
    int del[ELB_MAX_LISTENERS];
    size_t n_del;
    /* Listeners that differ only in their certificate: swapped in place
     * (SetLoadBalancerListenerSSLCertificate), never deleted and made
     * again, so a certificate change leaves no moment without the
     * listener on the live ELB. */
    struct elb_listener cert[CONFIG_MAX_LISTENERS];
    size_t n_cert;
};
void lsn_diff(const struct config *cfg, const struct elb_lb *lb, struct lsn_diff *out);
/* 1 when the balancer's listeners need any change. */
int lsn_todo(const struct lsn_diff *ld);
/* The creates and certificate swaps of ld on balancer lb (the deletes go
 * in an earlier round). */
void lsn_add(struct aws_batch *b, const char *lb, const struct lsn_diff *ld);

/* The SSL negotiation policy work on one balancer: create the paasctl
 * policy for [elb] ssl_policy when the balancer lacks it, set it on every
 * https/ssl listener that does not use it (a re-created listener has
 * none), then delete older paasctl policies that no listener uses. Nothing
 * when ssl_policy is unset (the ELB's default policy stays). */
struct lsn_policy {
    char name[80];                      /* "paasctl-ELBSecurityPolicy-..." */
    int create;
    int ports[CONFIG_MAX_LISTENERS];    /* listeners to set it on */
    size_t n_ports;
    char stale[ELB_MAX_POLICIES][80];   /* paasctl-* policies to delete */
    size_t n_stale;
};
/* lb is NULL for a balancer that is about to be created. */
void lsn_policy_decide(const struct config *cfg, const struct elb_lb *lb,
                       struct lsn_policy *out);
/* 1 when out has anything to do. */
int lsn_policy_todo(const struct lsn_policy *pol);

/* "; listeners +443 HTTPS->80, -8080; TLS policy X on 443" for the plan
 * line ("" when nothing changes). */
void lsn_describe(const struct lsn_diff *ld, const struct lsn_policy *pol, char *out,
                  size_t size);

/* The policy calls for one balancer, in the three rounds they need (each
 * depends on the one before): 0 create, 1 set on listeners, 2 delete
 * stale. Nothing is added when the step has nothing to do. */
void lsn_policy_add(struct aws_batch *b, const char *lb, const struct lsn_policy *pol,
                    int step);
/* The three steps for n balancers (lbs[i] with pols[i]), one batch each;
 * an empty step sends nothing. */
int lsn_policy_apply(struct aws_client *c, const char *const *lbs,
                     const struct lsn_policy *pols, size_t n, struct err *e);

#endif
