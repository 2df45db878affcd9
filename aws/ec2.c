/* EC2 calls (see ec2.h). Implements the reads behind SPEC.md "Tags": what
 * exists is found by paasctl:* tag filters. */
#include "aws/ec2.h"

#include <stdlib.h>
#include <string.h>

#include "aws/query.h"
#include "aws/xml.h"

void ec2_query_filters(struct aws_query *q, const struct ec2_filter *f,
                       size_t nf)
{
    for (size_t i = 0; i < nf; i++) {
        aws_query_addf(q, f[i].name, "Filter.%zu.Name", i + 1);
        for (size_t j = 0; j < EC2_MAX_FILTER_VALUES && f[i].values[j]; j++)
            aws_query_addf(q, f[i].values[j], "Filter.%zu.Value.%zu", i + 1, j + 1);
    }
}

void ec2_parse_tags(const void *parent_xml_node, struct ec2_tags *t)
{
    const xmlNode *parent = parent_xml_node;
    xmlNode *set = aws_xml_child(parent, "tagSet");
    memset(t, 0, sizeof(*t));
    for (xmlNode *it = aws_xml_first(set, "item"); it; it = aws_xml_next(it, "item")) {
        char key[128] = "";
        aws_xml_text(it, "key", key, sizeof(key));
        if (strcmp(key, "Name") == 0)
            aws_xml_text(it, "value", t->name, sizeof(t->name));
        else if (strcmp(key, "paasctl:paas") == 0)
            aws_xml_text(it, "value", t->paas, sizeof(t->paas));
        else if (strcmp(key, "paasctl:slot") == 0)
            aws_xml_text(it, "value", t->slot, sizeof(t->slot));
        else if (strcmp(key, "paasctl:role") == 0)
            aws_xml_text(it, "value", t->role, sizeof(t->role));
        else if (strcmp(key, "paasctl:traffic") == 0)
            aws_xml_text(it, "value", t->traffic, sizeof(t->traffic));
    }
}

/* A growable array of fixed-size records filled page by page. */
struct ec2_list {
    void *items;
    size_t n, cap, size;
};

static void *ec2_list_push(struct ec2_list *l, struct err *e)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        void *p = realloc(l->items, cap * l->size);
        if (!p) {
            err_set(e, ERR_FAILED, "out of memory");
            return NULL;
        }
        l->items = p;
        l->cap = cap;
    }
    return memset((char *)l->items + l->n++ * l->size, 0, l->size);
}

static int ec2_vpc_page(xmlNode *root, void *ctx, struct err *e)
{
    struct ec2_list *l = ctx;
    xmlNode *set = aws_xml_child(root, "vpcSet");
    for (xmlNode *it = aws_xml_first(set, "item"); it; it = aws_xml_next(it, "item")) {
        struct ec2_vpc *v = ec2_list_push(l, e);
        if (!v)
            return -1;
        aws_xml_text(it, "vpcId", v->id, sizeof(v->id));
        aws_xml_text(it, "cidrBlock", v->cidr, sizeof(v->cidr));
        aws_xml_text(it, "state", v->state, sizeof(v->state));
        ec2_parse_tags(it, &v->tags);
    }
    return 0;
}

static void ec2_parse_instance(xmlNode *it, struct ec2_instance *i)
{
    aws_xml_text(it, "instanceId", i->id, sizeof(i->id));
    aws_xml_text(it, "instanceState/name", i->state, sizeof(i->state));
    aws_xml_text(it, "instanceType", i->type, sizeof(i->type));
    aws_xml_text(it, "placement/availabilityZone", i->az, sizeof(i->az));
    aws_xml_text(it, "subnetId", i->subnet_id, sizeof(i->subnet_id));
    aws_xml_text(it, "privateIpAddress", i->private_ip, sizeof(i->private_ip));
    aws_xml_text(it, "privateDnsName", i->private_dns, sizeof(i->private_dns));
    aws_xml_text(it, "launchTime", i->launch_time, sizeof(i->launch_time));
    aws_xml_text(it, "amiLaunchIndex", i->ami_launch_index, sizeof(i->ami_launch_index));
    ec2_parse_tags(it, &i->tags);
}

static int ec2_instance_page(xmlNode *root, void *ctx, struct err *e)
{
    struct ec2_list *l = ctx;
    xmlNode *rs = aws_xml_child(root, "reservationSet");
    for (xmlNode *r = aws_xml_first(rs, "item"); r; r = aws_xml_next(r, "item")) {
        xmlNode *is = aws_xml_child(r, "instancesSet");
        for (xmlNode *it = aws_xml_first(is, "item"); it; it = aws_xml_next(it, "item")) {
            struct ec2_instance *i = ec2_list_push(l, e);
            if (!i)
                return -1;
            ec2_parse_instance(it, i);
        }
    }
    return 0;
}

/* Runs a paged Describe call with filters into a list of records. */
static int ec2_describe(struct aws_client *c, const char *action,
                        const struct ec2_filter *f, size_t nf,
                        aws_page_fn page, size_t size, void **out, size_t *n,
                        struct err *e)
{
    struct aws_query q;
    struct ec2_list l = { NULL, 0, 0, size };
    int rc;
    aws_query_init(&q, AWS_EC2, action);
    ec2_query_filters(&q, f, nf);
    aws_query_add(&q, "MaxResults", "1000");
    rc = aws_query_pages(c, &q, "NextToken", "nextToken", page, &l, e);
    aws_query_release(&q);
    if (rc < 0) {
        free(l.items);
        l.items = NULL;
        l.n = 0;
    }
    *out = l.items;
    *n = l.n;
    return rc;
}

int ec2_describe_vpcs(struct aws_client *c, const struct ec2_filter *f,
                      size_t nf, struct ec2_vpc **out, size_t *n,
                      struct err *e)
{
    return ec2_describe(c, "DescribeVpcs", f, nf, ec2_vpc_page,
                        sizeof(**out), (void **)out, n, e);
}

int ec2_describe_instances(struct aws_client *c, const struct ec2_filter *f,
                           size_t nf, struct ec2_instance **out, size_t *n,
                           struct err *e)
{
    return ec2_describe(c, "DescribeInstances", f, nf, ec2_instance_page,
                        sizeof(**out), (void **)out, n, e);
}
