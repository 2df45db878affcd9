/* Classic ELB calls (see elb.h). */
#include "aws/elb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "aws/batch.h"
#include "aws/query.h"
#include "aws/xml.h"

void elb_lb_release(struct elb_lb *lb)
{
    free(lb->instances);
    memset(lb, 0, sizeof(*lb));
}

static int elb_xml_int(const xmlNode *n, const char *path)
{
    char v[16] = "";
    aws_xml_text(n, path, v, sizeof(v));
    return util_leading_int(v, 0);
}

/* One ListenerDescriptions member: the listener and its first policy. */
static void elb_parse_listener(xmlNode *it, struct elb_listener *l)
{
    xmlNode *pol = aws_xml_first(aws_xml_child(it, "PolicyNames"), "member");
    l->lb_port = elb_xml_int(it, "Listener/LoadBalancerPort");
    l->instance_port = elb_xml_int(it, "Listener/InstancePort");
    aws_xml_text(it, "Listener/Protocol", l->protocol, sizeof(l->protocol));
    aws_xml_text(it, "Listener/InstanceProtocol", l->instance_protocol,
                 sizeof(l->instance_protocol));
    aws_xml_text(it, "Listener/SSLCertificateId", l->cert_arn, sizeof(l->cert_arn));
    if (pol)
        aws_xml_text(pol, "", l->policy, sizeof(l->policy));
}

/* Listeners, policies, health check, subnets and group: what `up shell`
 * compares. */
static void elb_parse_config(xmlNode *m, struct elb_lb *lb)
{
    xmlNode *set = aws_xml_child(m, "ListenerDescriptions");
    for (xmlNode *it = aws_xml_first(set, "member");
         it && lb->n_listeners < ELB_MAX_LISTENERS; it = aws_xml_next(it, "member"))
        elb_parse_listener(it, &lb->listeners[lb->n_listeners++]);
    set = aws_xml_path(m, "Policies/OtherPolicies");
    for (xmlNode *it = aws_xml_first(set, "member");
         it && lb->n_policies < ELB_MAX_POLICIES; it = aws_xml_next(it, "member"))
        aws_xml_text(it, "", lb->policies[lb->n_policies++], sizeof(lb->policies[0]));
    aws_xml_text(m, "HealthCheck/Target", lb->health.target, sizeof(lb->health.target));
    lb->health.interval = elb_xml_int(m, "HealthCheck/Interval");
    lb->health.timeout = elb_xml_int(m, "HealthCheck/Timeout");
    lb->health.healthy = elb_xml_int(m, "HealthCheck/HealthyThreshold");
    lb->health.unhealthy = elb_xml_int(m, "HealthCheck/UnhealthyThreshold");
    aws_xml_text(m, "VPCId", lb->vpc_id, sizeof(lb->vpc_id));
    set = aws_xml_child(m, "Subnets");
    for (xmlNode *it = aws_xml_first(set, "member");
         it && lb->n_subnets < ELB_MAX_SUBNETS; it = aws_xml_next(it, "member"))
        aws_xml_text(it, "", lb->subnets[lb->n_subnets++], sizeof(lb->subnets[0]));
    set = aws_xml_child(m, "SecurityGroups");
    if (aws_xml_first(set, "member"))
        aws_xml_text(aws_xml_first(set, "member"), "", lb->security_group,
                     sizeof(lb->security_group));
}

/* Members are kept sorted by id, so elb_lb_has() is a bisection: callers
 * ask it inside loops over instances. */
static int elb_cmp_id(const void *a, const void *b)
{
    return strcmp(a, b);
}

static int elb_parse_lb(xmlNode *m, struct elb_lb *lb, struct err *e)
{
    xmlNode *set = aws_xml_child(m, "Instances");
    size_t n = 0;
    memset(lb, 0, sizeof(*lb));
    aws_xml_text(m, "LoadBalancerName", lb->name, sizeof(lb->name));
    aws_xml_text(m, "DNSName", lb->dns_name, sizeof(lb->dns_name));
    aws_xml_text(m, "CanonicalHostedZoneNameID", lb->canonical_zone_id,
                 sizeof(lb->canonical_zone_id));
    aws_xml_text(m, "Scheme", lb->scheme, sizeof(lb->scheme));
    elb_parse_config(m, lb);
    for (xmlNode *it = aws_xml_first(set, "member"); it; it = aws_xml_next(it, "member"))
        n++;
    if (!n)
        return 0;
    lb->instances = calloc(n, sizeof(*lb->instances));
    if (!lb->instances)
        return err_set(e, ERR_FAILED, "out of memory");
    for (xmlNode *it = aws_xml_first(set, "member"); it; it = aws_xml_next(it, "member"))
        aws_xml_text(it, "InstanceId", lb->instances[lb->n_instances++], 32);
    qsort(lb->instances, lb->n_instances, sizeof(*lb->instances), elb_cmp_id);
    return 0;
}

struct elb_describe_ctx {
    const char *const *names;
    size_t n;
    struct elb_lb *out;
    int *found;
};

static int elb_describe_page(xmlNode *root, void *ctx, struct err *e)
{
    struct elb_describe_ctx *d = ctx;
    xmlNode *set = aws_xml_path(root, "DescribeLoadBalancersResult/LoadBalancerDescriptions");
    for (xmlNode *m = aws_xml_first(set, "member"); m; m = aws_xml_next(m, "member")) {
        struct elb_lb lb;
        if (elb_parse_lb(m, &lb, e) < 0)
            return -1;
        for (size_t i = 0; i < d->n; i++) {
            if (!d->found[i] && strcmp(lb.name, d->names[i]) == 0) {
                d->out[i] = lb;
                d->found[i] = 1;
                lb.instances = NULL;
                break;
            }
        }
        elb_lb_release(&lb);
    }
    return 0;
}

static int elb_describe_names(struct aws_client *c, struct elb_describe_ctx *d,
                              struct err *e)
{
    struct aws_query q;
    int rc;
    aws_query_init(&q, AWS_ELB, "DescribeLoadBalancers");
    for (size_t i = 0; i < d->n; i++)
        aws_query_addf(&q, d->names[i], "LoadBalancerNames.member.%zu", i + 1);
    rc = aws_query_pages(c, &q, "Marker", "DescribeLoadBalancersResult/NextMarker",
                         elb_describe_page, d, e);
    aws_query_release(&q);
    return rc;
}

int elb_describe(struct aws_client *c, const char *const *names, size_t n,
                 struct elb_lb *out, int *found, struct err *e)
{
    struct elb_describe_ctx d = { names, n, out, found };
    memset(found, 0, n * sizeof(*found));
    memset(out, 0, n * sizeof(*out));
    if (elb_describe_names(c, &d, e) == 0)
        return 0;
    if (strcmp(e->code, "LoadBalancerNotFound") != 0)
        return -1;
    /* One name of several is missing, and the API then fails the whole
     * call: ask for each alone to learn which exist. */
    for (size_t i = 0; i < n; i++) {
        struct elb_describe_ctx one = { &names[i], 1, &out[i], &found[i] };
        if (elb_describe_names(c, &one, e) < 0 &&
            strcmp(e->code, "LoadBalancerNotFound") != 0)
            return -1;
    }
    err_init(e);
    return 0;
}

int elb_describe_health(struct aws_client *c, const char *lb,
                        const char *const *ids, size_t n_ids,
                        struct elb_health **out, size_t *n, struct err *e)
{
    struct aws_query q;
    xmlDoc *doc;
    xmlNode *set;
    size_t count = 0, k = 0;
    *out = NULL;
    *n = 0;
    aws_query_init(&q, AWS_ELB, "DescribeInstanceHealth");
    aws_query_add(&q, "LoadBalancerName", lb);
    for (size_t i = 0; i < n_ids; i++)
        aws_query_addf(&q, ids[i], "Instances.member.%zu.InstanceId", i + 1);
    if (aws_query_call(c, &q, 1, &doc, e) < 0) {
        aws_query_release(&q);
        return -1;
    }
    aws_query_release(&q);
    set = aws_xml_path(xmlDocGetRootElement(doc),
                       "DescribeInstanceHealthResult/InstanceStates");
    for (xmlNode *m = aws_xml_first(set, "member"); m; m = aws_xml_next(m, "member"))
        count++;
    *out = calloc(count ? count : 1, sizeof(**out));
    if (!*out) {
        xmlFreeDoc(doc);
        return err_set(e, ERR_FAILED, "out of memory");
    }
    for (xmlNode *m = aws_xml_first(set, "member"); m; m = aws_xml_next(m, "member"), k++) {
        struct elb_health *h = &(*out)[k];
        aws_xml_text(m, "InstanceId", h->instance_id, sizeof(h->instance_id));
        aws_xml_text(m, "State", h->state, sizeof(h->state));
        aws_xml_text(m, "ReasonCode", h->reason, sizeof(h->reason));
        aws_xml_text(m, "Description", h->description, sizeof(h->description));
    }
    *n = count;
    xmlFreeDoc(doc);
    return 0;
}

int elb_lb_has(const struct elb_lb *lb, const char *id)
{
    if (lb->n_instances == 0)
        return 0;
    return bsearch(id, lb->instances, lb->n_instances, sizeof(*lb->instances),
                   elb_cmp_id) != NULL;
}

int elb_lb_set_members(struct elb_lb *lb, const char *const *ids, size_t n,
                       struct err *e)
{
    char (*members)[32] = calloc(n + 1, sizeof(*members));
    if (!members)
        return err_set(e, ERR_FAILED, "out of memory");
    for (size_t i = 0; i < n; i++)
        snprintf(members[i], sizeof(members[i]), "%s", ids[i]);
    qsort(members, n, sizeof(*members), elb_cmp_id);
    free(lb->instances);
    lb->instances = members;
    lb->n_instances = n;
    return 0;
}

/* Register/Deregister: one call for all ids. Both only set membership, so a
 * resend after a timeout does no harm. */
static int elb_membership(struct aws_client *c, const char *action,
                          const char *lb, const char *const *ids, size_t n,
                          struct err *e)
{
    struct aws_query q;
    int rc;
    if (n == 0)
        return 0;
    aws_query_init(&q, AWS_ELB, action);
    aws_query_add(&q, "LoadBalancerName", lb);
    for (size_t i = 0; i < n; i++)
        aws_query_addf(&q, ids[i], "Instances.member.%zu.InstanceId", i + 1);
    rc = aws_batch_call1(c, &q, 1, AWS_NF_FAIL, NULL, e);
    aws_query_release(&q);
    return rc;
}

int elb_register(struct aws_client *c, const char *lb, const char *const *ids,
                 size_t n, struct err *e)
{
    return elb_membership(c, "RegisterInstancesWithLoadBalancer", lb, ids, n, e);
}

int elb_deregister(struct aws_client *c, const char *lb,
                   const char *const *ids, size_t n, struct err *e)
{
    return elb_membership(c, "DeregisterInstancesFromLoadBalancer", lb, ids, n, e);
}

int elb_describe_attrs(struct aws_client *c, const char *lb,
                       struct elb_attrs *out, struct err *e)
{
    struct aws_query q;
    xmlDoc *doc;
    xmlNode *a;
    char v[8] = "";
    int rc;
    memset(out, 0, sizeof(*out));
    aws_query_init(&q, AWS_ELB, "DescribeLoadBalancerAttributes");
    aws_query_add(&q, "LoadBalancerName", lb);
    rc = aws_query_call(c, &q, 1, &doc, e);
    aws_query_release(&q);
    if (rc < 0)
        return -1;
    a = aws_xml_path(xmlDocGetRootElement(doc),
                     "DescribeLoadBalancerAttributesResult/LoadBalancerAttributes");
    aws_xml_text(a, "CrossZoneLoadBalancing/Enabled", v, sizeof(v));
    out->cross_zone = strcmp(v, "true") == 0;
    aws_xml_text(a, "ConnectionDraining/Enabled", v, sizeof(v));
    out->draining = strcmp(v, "true") == 0;
    out->draining_timeout = elb_xml_int(a, "ConnectionDraining/Timeout");
    xmlFreeDoc(doc);
    return 0;
}

/* ---- finding load balancers by a tag key --------------------------------- */

struct elb_names {
    char (*names)[64];
    size_t n, cap;
};

static int elb_names_push(struct elb_names *l, const char *name, struct err *e)
{
    if (util_grow(&l->names, &l->cap, l->n, sizeof(*l->names)) < 0)
        return err_set(e, ERR_FAILED, "out of memory");
    snprintf(l->names[l->n++], sizeof(l->names[0]), "%s", name);
    return 0;
}

static int elb_all_names_page(xmlNode *root, void *ctx, struct err *e)
{
    xmlNode *set = aws_xml_path(root, "DescribeLoadBalancersResult/LoadBalancerDescriptions");
    for (xmlNode *m = aws_xml_first(set, "member"); m; m = aws_xml_next(m, "member")) {
        char name[64] = "";
        aws_xml_text(m, "LoadBalancerName", name, sizeof(name));
        if (elb_names_push(ctx, name, e) < 0)
            return -1;
    }
    return 0;
}

/* DescribeTags for up to 20 names; those with the key go into out. */
static int elb_tags_match(struct aws_client *c, char (*names)[64], size_t n,
                          const char *key, struct elb_names *out,
                          struct err *e)
{
    struct aws_query q;
    xmlDoc *doc;
    xmlNode *set;
    int rc;
    aws_query_init(&q, AWS_ELB, "DescribeTags");
    for (size_t i = 0; i < n; i++)
        aws_query_addf(&q, names[i], "LoadBalancerNames.member.%zu", i + 1);
    rc = aws_query_call(c, &q, 1, &doc, e);
    aws_query_release(&q);
    if (rc < 0)
        return -1;
    set = aws_xml_path(xmlDocGetRootElement(doc), "DescribeTagsResult/TagDescriptions");
    for (xmlNode *m = aws_xml_first(set, "member"); m && rc == 0;
         m = aws_xml_next(m, "member")) {
        char lb[64] = "";
        aws_xml_text(m, "LoadBalancerName", lb, sizeof(lb));
        for (xmlNode *t = aws_xml_first(aws_xml_child(m, "Tags"), "member"); t;
             t = aws_xml_next(t, "member")) {
            char k[256] = "";
            aws_xml_text(t, "Key", k, sizeof(k));
            if (strcmp(k, key) == 0) {
                rc = elb_names_push(out, lb, e);
                break;
            }
        }
    }
    xmlFreeDoc(doc);
    return rc;
}

int elb_find_by_tag_key(struct aws_client *c, const char *key,
                        char (**names)[64], size_t *n, struct err *e)
{
    struct elb_names all = { NULL, 0, 0 }, out = { NULL, 0, 0 };
    struct aws_query q;
    int rc;
    aws_query_init(&q, AWS_ELB, "DescribeLoadBalancers");
    aws_query_add(&q, "PageSize", "400");
    rc = aws_query_pages(c, &q, "Marker", "DescribeLoadBalancersResult/NextMarker",
                         elb_all_names_page, &all, e);
    aws_query_release(&q);
    /* DescribeTags takes at most 20 names per call. */
    for (size_t i = 0; rc == 0 && i < all.n; i += 20)
        rc = elb_tags_match(c, &all.names[i], all.n - i < 20 ? all.n - i : 20,
                            key, &out, e);
    free(all.names);
    if (rc < 0) {
        free(out.names);
        out.names = NULL;
        out.n = 0;
    }
    *names = out.names;
    *n = out.n;
    return rc;
}

int elb_delete(struct aws_client *c, const char *lb, struct err *e)
{
    struct aws_query q;
    int rc;
    aws_query_init(&q, AWS_ELB, "DeleteLoadBalancer");
    aws_query_add(&q, "LoadBalancerName", lb);
    /* Deleting a load balancer that is gone is success (the API says so). */
    rc = aws_batch_call1(c, &q, 1, AWS_NF_OK, NULL, e);
    aws_query_release(&q);
    return rc;
}

/* ---- creates and updates ---------------------------------------------------- */

static void elb_query_listeners(struct aws_query *q, const struct elb_listener *l,
                                size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char port[16];
        aws_query_addf(q, l[i].protocol[0] ? l[i].protocol : "HTTP",
                       "Listeners.member.%zu.Protocol", i + 1);
        aws_query_addf(q, l[i].instance_protocol[0] ? l[i].instance_protocol : "HTTP",
                       "Listeners.member.%zu.InstanceProtocol", i + 1);
        if (l[i].cert_arn[0])
            aws_query_addf(q, l[i].cert_arn, "Listeners.member.%zu.SSLCertificateId", i + 1);
        snprintf(port, sizeof(port), "%d", l[i].lb_port);
        aws_query_addf(q, port, "Listeners.member.%zu.LoadBalancerPort", i + 1);
        snprintf(port, sizeof(port), "%d", l[i].instance_port);
        aws_query_addf(q, port, "Listeners.member.%zu.InstancePort", i + 1);
    }
}

struct aws_batch_item *elb_create(struct aws_batch *b, const struct elb_spec *s)
{
    /* Not resent blindly: AWS answers a resend with the existing balancer,
     * but other implementations (moto) say DuplicateLoadBalancerName; an
     * uncertain outcome makes up look for it by name instead. */
    struct aws_batch_item *it = aws_batch_add(b, AWS_ELB, "CreateLoadBalancer", 0);
    it->id_path = "CreateLoadBalancerResult/DNSName";
    aws_query_add(&it->q, "LoadBalancerName", s->name);
    elb_query_listeners(&it->q, s->listeners, s->n_listeners);
    for (size_t i = 0; i < s->n_subnets; i++)
        aws_query_addf(&it->q, s->subnets[i], "Subnets.member.%zu", i + 1);
    aws_query_add(&it->q, "SecurityGroups.member.1", s->security_group);
    if (s->scheme)
        aws_query_add(&it->q, "Scheme", s->scheme);
    for (size_t i = 0; i < s->n_tags; i++) {
        aws_query_addf(&it->q, s->tags[i].key, "Tags.member.%zu.Key", i + 1);
        aws_query_addf(&it->q, s->tags[i].value, "Tags.member.%zu.Value", i + 1);
    }
    return it;
}

struct aws_batch_item *elb_configure_health_check(struct aws_batch *b,
                                                  const char *lb,
                                                  const struct elb_health_check *h)
{
    struct aws_batch_item *it = aws_batch_add(b, AWS_ELB, "ConfigureHealthCheck", 1);
    char v[16];
    aws_query_add(&it->q, "LoadBalancerName", lb);
    aws_query_add(&it->q, "HealthCheck.Target", h->target);
    snprintf(v, sizeof(v), "%d", h->interval);
    aws_query_add(&it->q, "HealthCheck.Interval", v);
    snprintf(v, sizeof(v), "%d", h->timeout);
    aws_query_add(&it->q, "HealthCheck.Timeout", v);
    snprintf(v, sizeof(v), "%d", h->healthy);
    aws_query_add(&it->q, "HealthCheck.HealthyThreshold", v);
    snprintf(v, sizeof(v), "%d", h->unhealthy);
    aws_query_add(&it->q, "HealthCheck.UnhealthyThreshold", v);
    return it;
}

struct aws_batch_item *elb_modify_attrs(struct aws_batch *b, const char *lb,
                                        const struct elb_attrs *a)
{
    struct aws_batch_item *it = aws_batch_add(b, AWS_ELB,
                                              "ModifyLoadBalancerAttributes", 1);
    char v[16];
    aws_query_add(&it->q, "LoadBalancerName", lb);
    aws_query_add(&it->q, "LoadBalancerAttributes.CrossZoneLoadBalancing.Enabled",
                  a->cross_zone ? "true" : "false");
    aws_query_add(&it->q, "LoadBalancerAttributes.ConnectionDraining.Enabled",
                  a->draining ? "true" : "false");
    snprintf(v, sizeof(v), "%d", a->draining_timeout);
    aws_query_add(&it->q, "LoadBalancerAttributes.ConnectionDraining.Timeout", v);
    return it;
}

struct aws_batch_item *elb_create_listeners(struct aws_batch *b, const char *lb,
                                            const struct elb_listener *l,
                                            size_t n)
{
    struct aws_batch_item *it = aws_batch_add(b, AWS_ELB,
                                              "CreateLoadBalancerListeners", 1);
    aws_query_add(&it->q, "LoadBalancerName", lb);
    elb_query_listeners(&it->q, l, n);
    return it;
}

struct aws_batch_item *elb_delete_listeners(struct aws_batch *b, const char *lb,
                                            const int *lb_ports, size_t n)
{
    struct aws_batch_item *it = aws_batch_add(b, AWS_ELB,
                                              "DeleteLoadBalancerListeners", 1);
    aws_query_add(&it->q, "LoadBalancerName", lb);
    for (size_t i = 0; i < n; i++) {
        char port[16];
        snprintf(port, sizeof(port), "%d", lb_ports[i]);
        aws_query_addf(&it->q, port, "LoadBalancerPorts.member.%zu", i + 1);
    }
    return it;
}

struct aws_batch_item *elb_create_ssl_policy(struct aws_batch *b, const char *lb,
                                             const char *policy_name,
                                             const char *reference)
{
    /* Not resent blindly: a resend after success says DuplicatePolicyName;
     * up reads the balancer's policies on its next run instead. */
    struct aws_batch_item *it = aws_batch_add(b, AWS_ELB, "CreateLoadBalancerPolicy", 0);
    aws_query_add(&it->q, "LoadBalancerName", lb);
    aws_query_add(&it->q, "PolicyName", policy_name);
    aws_query_add(&it->q, "PolicyTypeName", "SSLNegotiationPolicyType");
    aws_query_add(&it->q, "PolicyAttributes.member.1.AttributeName",
                  "Reference-Security-Policy");
    aws_query_add(&it->q, "PolicyAttributes.member.1.AttributeValue", reference);
    return it;
}

/* A call on one listener of lb: its port and one more parameter. */
static struct aws_batch_item *elb_listener_call(struct aws_batch *b, const char *action,
                                                const char *lb, int lb_port,
                                                const char *key, const char *value)
{
    struct aws_batch_item *it = aws_batch_add(b, AWS_ELB, action, 1);
    char port[16];
    snprintf(port, sizeof(port), "%d", lb_port);
    aws_query_add(&it->q, "LoadBalancerName", lb);
    aws_query_add(&it->q, "LoadBalancerPort", port);
    aws_query_add(&it->q, key, value);
    return it;
}

struct aws_batch_item *elb_set_listener_cert(struct aws_batch *b, const char *lb,
                                             int lb_port, const char *cert_arn)
{
    return elb_listener_call(b, "SetLoadBalancerListenerSSLCertificate", lb, lb_port,
                             "SSLCertificateId", cert_arn);
}

struct aws_batch_item *elb_set_listener_policy(struct aws_batch *b, const char *lb,
                                               int lb_port, const char *policy_name)
{
    return elb_listener_call(b, "SetLoadBalancerPoliciesOfListener", lb, lb_port,
                             "PolicyNames.member.1", policy_name);
}

struct aws_batch_item *elb_delete_policy(struct aws_batch *b, const char *lb,
                                         const char *policy_name)
{
    struct aws_batch_item *it = aws_batch_add(b, AWS_ELB, "DeleteLoadBalancerPolicy", 1);
    aws_query_add(&it->q, "LoadBalancerName", lb);
    aws_query_add(&it->q, "PolicyName", policy_name);
    return it;
}
