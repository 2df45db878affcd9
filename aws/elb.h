/* Classic Elastic Load Balancing over the Query protocol (API 2012-06-01):
 * the two long-lived ELBs, live and pre-live (SPEC.md "Cutover rules"). */
#ifndef AWS_ELB_H
#define AWS_ELB_H

#include <stddef.h>
#include "aws/transport.h"

#define ELB_MAX_MEMBERS 1024

/* A listener as the API names it: Protocol HTTP/HTTPS/SSL/TCP, and the
 * certificate of an HTTPS/SSL one. policy is what DescribeLoadBalancers
 * reads back: the first of its PolicyNames ("" = none); senders ignore it. */
struct elb_listener {
    int lb_port;
    int instance_port;
    char protocol[8];           /* "" = HTTP */
    char instance_protocol[8];  /* "" = HTTP */
    char cert_arn[256];         /* SSLCertificateId, "" = none */
    char policy[80];
};

struct elb_health_check {
    char target[128];        /* "HTTP:80/healthz" */
    int interval, timeout, healthy, unhealthy;
};

#define ELB_MAX_LISTENERS 8
#define ELB_MAX_SUBNETS 8
#define ELB_MAX_POLICIES 8

struct elb_lb {
    char name[64];
    char dns_name[256];
    char canonical_zone_id[64]; /* CanonicalHostedZoneNameID: what a Route53
                                 * alias record to this balancer names */
    char scheme[16];          /* "internet-facing" or "internal" */
    size_t n_instances;
    char (*instances)[32];   /* malloc'd, n_instances ids sorted by id;
                              * elb_lb_release */
    size_t n_listeners;      /* beyond ELB_MAX_LISTENERS dropped */
    struct elb_listener listeners[ELB_MAX_LISTENERS];
    size_t n_policies;       /* Policies/OtherPolicies: the policies made on
                              * this balancer (SSL negotiation ones among
                              * them); beyond ELB_MAX_POLICIES dropped */
    char policies[ELB_MAX_POLICIES][80];
    struct elb_health_check health;
    char vpc_id[32];
    size_t n_subnets;
    char subnets[ELB_MAX_SUBNETS][32];
    char security_group[32]; /* the first one */
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

/* 1 if the load balancer has instance id as a member (a bisection). */
int elb_lb_has(const struct elb_lb *lb, const char *id);
/* Replaces lb's member list by a sorted copy of ids: what the caller knows
 * the membership to be after its own (de)register calls. */
int elb_lb_set_members(struct elb_lb *lb, const char *const *ids, size_t n,
                       struct err *e);

/* Registers / deregisters every listed instance in one call. Ids that are
 * already (or no longer) members are fine: the API answers the same. */
int elb_register(struct aws_client *c, const char *lb, const char *const *ids,
                 size_t n, struct err *e);
int elb_deregister(struct aws_client *c, const char *lb,
                   const char *const *ids, size_t n, struct err *e);

struct elb_attrs {
    int cross_zone;
    int draining;
    int draining_timeout;    /* seconds */
};

int elb_describe_attrs(struct aws_client *c, const char *lb,
                       struct elb_attrs *out, struct err *e);

/* Every load balancer of the region that carries the tag key (any value),
 * e.g. "kubernetes.io/cluster/prod-a" for the ones a cluster's cloud
 * provider made. *names is malloc'd (caller frees). */
int elb_find_by_tag_key(struct aws_client *c, const char *key,
                        char (**names)[64], size_t *n, struct err *e);

int elb_delete(struct aws_client *c, const char *lb, struct err *e);

/* ---- creates and updates, added to a batch (aws/batch.h) -------------- */
struct aws_batch;
struct aws_batch_item;

struct elb_tag {
    const char *key;
    const char *value;
};

/* An internet-facing classic ELB with HTTP listeners across the subnets,
 * tagged in the create call. */
struct elb_spec {
    const char *name;
    const struct elb_listener *listeners;
    size_t n_listeners;
    const char *const *subnets;
    size_t n_subnets;
    const char *security_group;
    const struct elb_tag *tags;
    size_t n_tags;
    const char *scheme;       /* "internal", or NULL = internet-facing */
};

struct aws_batch_item *elb_create(struct aws_batch *b, const struct elb_spec *s);
struct aws_batch_item *elb_configure_health_check(struct aws_batch *b,
                                                  const char *lb,
                                                  const struct elb_health_check *h);
struct aws_batch_item *elb_modify_attrs(struct aws_batch *b, const char *lb,
                                        const struct elb_attrs *a);
struct aws_batch_item *elb_create_listeners(struct aws_batch *b, const char *lb,
                                            const struct elb_listener *l,
                                            size_t n);
struct aws_batch_item *elb_delete_listeners(struct aws_batch *b, const char *lb,
                                            const int *lb_ports, size_t n);
/* CreateLoadBalancerPolicy of type SSLNegotiationPolicyType whose only
 * attribute, Reference-Security-Policy, names a predefined policy
 * (ELBSecurityPolicy-*): the ELB then negotiates TLS as that one says. */
struct aws_batch_item *elb_create_ssl_policy(struct aws_batch *b, const char *lb,
                                             const char *policy_name,
                                             const char *reference);
/* SetLoadBalancerPoliciesOfListener: the listener on lb_port uses exactly
 * policy_name (it replaces what the listener had). */
/* SetLoadBalancerListenerSSLCertificate: the listener on lb_port serves
 * cert_arn from now on, without being deleted (its policies stay). */
struct aws_batch_item *elb_set_listener_cert(struct aws_batch *b, const char *lb,
                                             int lb_port, const char *cert_arn);
struct aws_batch_item *elb_set_listener_policy(struct aws_batch *b, const char *lb,
                                               int lb_port, const char *policy_name);
/* DeleteLoadBalancerPolicy (a policy no listener uses any more). */
struct aws_batch_item *elb_delete_policy(struct aws_batch *b, const char *lb,
                                         const char *policy_name);

#endif
