/* Classic ELB calls (see elb.h). */
#include "aws/elb.h"

#include <stdlib.h>
#include <string.h>

#include "aws/query.h"
#include "aws/xml.h"

void elb_lb_release(struct elb_lb *lb)
{
    free(lb->instances);
    memset(lb, 0, sizeof(*lb));
}

static int elb_parse_lb(xmlNode *m, struct elb_lb *lb, struct err *e)
{
    xmlNode *set = aws_xml_child(m, "Instances");
    size_t n = 0;
    memset(lb, 0, sizeof(*lb));
    aws_xml_text(m, "LoadBalancerName", lb->name, sizeof(lb->name));
    aws_xml_text(m, "DNSName", lb->dns_name, sizeof(lb->dns_name));
    for (xmlNode *it = aws_xml_first(set, "member"); it; it = aws_xml_next(it, "member"))
        n++;
    if (!n)
        return 0;
    lb->instances = calloc(n, sizeof(*lb->instances));
    if (!lb->instances)
        return err_set(e, ERR_FAILED, "out of memory");
    for (xmlNode *it = aws_xml_first(set, "member"); it; it = aws_xml_next(it, "member"))
        aws_xml_text(it, "InstanceId", lb->instances[lb->n_instances++], 32);
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
