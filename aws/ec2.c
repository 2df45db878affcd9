/* EC2 calls (see ec2.h). Implements the reads behind SPEC.md "Tags": what
 * exists is found by paasctl:* tag filters. */
#include "aws/ec2.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "core/util.h"
#include "aws/batch.h"
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
        else if (strcmp(key, "paasctl:k8s-version") == 0)
            aws_xml_text(it, "value", t->k8s_version, sizeof(t->k8s_version));
    }
}

/* Fills one record from one <item> of a Describe answer. */
/* Fills one record; -1 (e filled) when the answer does not fit it. */
typedef int (*ec2_fill_fn)(xmlNode *it, void *rec, struct err *e);

/* What one Describe call answers: the set under the root holding one
 * <item> per resource, the record size, and how to fill a record. */
struct ec2_shape {
    const char *action;
    const char *max_results;   /* page size, or NULL for the calls that take
                                * none (DescribeAddresses) */
    const char *set;
    size_t size;
    ec2_fill_fn fill;
};

/* A growable array of fixed-size records filled page by page. */
struct ec2_list {
    void *items;
    size_t n, cap;
    const struct ec2_shape *shape;
};

/* A fixed-size part of a record that the answer overflows: an error, never
 * a silent cut (a dropped rule or route would be "missing" and re-added). */
static int ec2_too_many(struct err *e, const char *id, const char *what, int max)
{
    return err_set(e, ERR_FAILED, "%s has more than %d %s, more than paasctl reads; "
                   "remove the extra ones by hand", id, max, what);
}

static void *ec2_list_push(struct ec2_list *l, struct err *e)
{
    if (util_grow(&l->items, &l->cap, l->n, l->shape->size) < 0) {
        err_set(e, ERR_FAILED, "out of memory");
        return NULL;
    }
    return memset((char *)l->items + l->n++ * l->shape->size, 0, l->shape->size);
}

static int ec2_fill_vpc(xmlNode *it, void *rec, struct err *e)
{
    struct ec2_vpc *v = rec;
    aws_xml_text(it, "vpcId", v->id, sizeof(v->id));
    aws_xml_text(it, "cidrBlock", v->cidr, sizeof(v->cidr));
    aws_xml_text(it, "state", v->state, sizeof(v->state));
    ec2_parse_tags(it, &v->tags);
    (void)e;
    return 0;
}

static int ec2_fill_instance(xmlNode *it, void *rec, struct err *e)
{
    struct ec2_instance *i = rec;
    aws_xml_text(it, "instanceId", i->id, sizeof(i->id));
    aws_xml_text(it, "instanceState/name", i->state, sizeof(i->state));
    aws_xml_text(it, "instanceType", i->type, sizeof(i->type));
    aws_xml_text(it, "placement/availabilityZone", i->az, sizeof(i->az));
    aws_xml_text(it, "subnetId", i->subnet_id, sizeof(i->subnet_id));
    aws_xml_text(it, "privateIpAddress", i->private_ip, sizeof(i->private_ip));
    aws_xml_text(it, "privateDnsName", i->private_dns, sizeof(i->private_dns));
    aws_xml_text(it, "launchTime", i->launch_time, sizeof(i->launch_time));
    aws_xml_text(it, "amiLaunchIndex", i->ami_launch_index, sizeof(i->ami_launch_index));
    aws_xml_text(it, "instanceLifecycle", i->lifecycle, sizeof(i->lifecycle));
    ec2_parse_tags(it, &i->tags);
    (void)e;
    return 0;
}

/* Gives the records to the caller (who frees them), or frees them when rc
 * says the listing failed. Returns rc. */
static int ec2_list_hand_out(struct ec2_list *l, int rc, void **out, size_t *n)
{
    if (rc < 0) {
        free(l->items);
        l->items = NULL;
        l->n = 0;
    }
    *out = l->items;
    *n = l->n;
    return rc;
}

/* One record per <item> of set. */
static int ec2_push_items(struct ec2_list *l, xmlNode *set, struct err *e)
{
    for (xmlNode *it = aws_xml_first(set, "item"); it; it = aws_xml_next(it, "item")) {
        void *rec = ec2_list_push(l, e);
        if (!rec)
            return -1;
        if (l->shape->fill(it, rec, e) < 0)
            return -1;
    }
    return 0;
}

static int ec2_page(xmlNode *root, void *ctx, struct err *e)
{
    struct ec2_list *l = ctx;
    xmlNode *set = aws_xml_child(root, l->shape->set);
    if (strcmp(l->shape->set, "reservationSet") != 0)
        return ec2_push_items(l, set, e);
    /* DescribeInstances groups its instances in reservations. */
    for (xmlNode *r = aws_xml_first(set, "item"); r; r = aws_xml_next(r, "item"))
        if (ec2_push_items(l, aws_xml_child(r, "instancesSet"), e) < 0)
            return -1;
    return 0;
}

/* Runs a paged Describe call with filters into a list of records. */
static int ec2_describe(struct aws_client *c, const struct ec2_shape *shape,
                        const struct ec2_filter *f, size_t nf, void **out,
                        size_t *n, struct err *e)
{
    struct aws_query q;
    struct ec2_list l = { NULL, 0, 0, shape };
    int rc;
    aws_query_init(&q, AWS_EC2, shape->action);
    ec2_query_filters(&q, f, nf);
    if (shape->max_results)
        aws_query_add(&q, "MaxResults", shape->max_results);
    rc = aws_query_pages(c, &q, "NextToken", "nextToken", ec2_page, &l, e);
    aws_query_release(&q);
    return ec2_list_hand_out(&l, rc, out, n);
}

static const struct ec2_shape ec2_shape_vpc = {
    "DescribeVpcs", "1000", "vpcSet", sizeof(struct ec2_vpc), ec2_fill_vpc
};

int ec2_describe_vpcs(struct aws_client *c, const struct ec2_filter *f,
                      size_t nf, struct ec2_vpc **out, size_t *n,
                      struct err *e)
{
    return ec2_describe(c, &ec2_shape_vpc, f, nf, (void **)out, n, e);
}

static const struct ec2_shape ec2_shape_instance = {
    "DescribeInstances", "1000", "reservationSet", sizeof(struct ec2_instance),
    ec2_fill_instance
};

int ec2_describe_instances(struct aws_client *c, const struct ec2_filter *f,
                           size_t nf, struct ec2_instance **out, size_t *n,
                           struct err *e)
{
    return ec2_describe(c, &ec2_shape_instance, f, nf, (void **)out, n, e);
}

/* ---- the shell's network: reads ------------------------------------------ */

static int ec2_fill_subnet(xmlNode *it, void *rec, struct err *e)
{
    struct ec2_subnet *s = rec;
    aws_xml_text(it, "subnetId", s->id, sizeof(s->id));
    aws_xml_text(it, "vpcId", s->vpc_id, sizeof(s->vpc_id));
    aws_xml_text(it, "cidrBlock", s->cidr, sizeof(s->cidr));
    aws_xml_text(it, "availabilityZone", s->az, sizeof(s->az));
    aws_xml_text(it, "state", s->state, sizeof(s->state));
    ec2_parse_tags(it, &s->tags);
    (void)e;
    return 0;
}

static int ec2_fill_igw(xmlNode *it, void *rec, struct err *e)
{
    struct ec2_igw *g = rec;
    xmlNode *att;
    aws_xml_text(it, "internetGatewayId", g->id, sizeof(g->id));
    att = aws_xml_first(aws_xml_child(it, "attachmentSet"), "item");
    if (att)
        aws_xml_text(att, "vpcId", g->attached_vpc, sizeof(g->attached_vpc));
    ec2_parse_tags(it, &g->tags);
    (void)e;
    return 0;
}

static int ec2_fill_address(xmlNode *it, void *rec, struct err *e)
{
    struct ec2_address *a = rec;
    aws_xml_text(it, "allocationId", a->allocation_id, sizeof(a->allocation_id));
    aws_xml_text(it, "publicIp", a->public_ip, sizeof(a->public_ip));
    aws_xml_text(it, "associationId", a->association_id, sizeof(a->association_id));
    ec2_parse_tags(it, &a->tags);
    (void)e;
    return 0;
}

static int ec2_fill_nat(xmlNode *it, void *rec, struct err *e)
{
    struct ec2_nat *g = rec;
    xmlNode *addr;
    aws_xml_text(it, "natGatewayId", g->id, sizeof(g->id));
    aws_xml_text(it, "subnetId", g->subnet_id, sizeof(g->subnet_id));
    aws_xml_text(it, "state", g->state, sizeof(g->state));
    addr = aws_xml_first(aws_xml_child(it, "natGatewayAddressSet"), "item");
    if (addr)
        aws_xml_text(addr, "allocationId", g->allocation_id, sizeof(g->allocation_id));
    ec2_parse_tags(it, &g->tags);
    (void)e;
    return 0;
}

static int ec2_fill_route_table(xmlNode *it, void *rec, struct err *e)
{
    struct ec2_route_table *t = rec;
    xmlNode *set;
    aws_xml_text(it, "routeTableId", t->id, sizeof(t->id));
    aws_xml_text(it, "vpcId", t->vpc_id, sizeof(t->vpc_id));
    set = aws_xml_child(it, "routeSet");
    for (xmlNode *r = aws_xml_first(set, "item"); r; r = aws_xml_next(r, "item")) {
        struct ec2_route *x;
        if (t->n_routes == EC2_MAX_ROUTES)
            return ec2_too_many(e, t->id, "routes", EC2_MAX_ROUTES);
        x = &t->routes[t->n_routes++];
        aws_xml_text(r, "destinationCidrBlock", x->dest, sizeof(x->dest));
        aws_xml_text(r, "gatewayId", x->gateway_id, sizeof(x->gateway_id));
        aws_xml_text(r, "natGatewayId", x->nat_id, sizeof(x->nat_id));
        aws_xml_text(r, "state", x->state, sizeof(x->state));
    }
    set = aws_xml_child(it, "associationSet");
    for (xmlNode *a = aws_xml_first(set, "item"); a; a = aws_xml_next(a, "item")) {
        struct ec2_rtb_assoc *x;
        char main[8] = "";
        if (t->n_assocs == EC2_MAX_ROUTES)
            return ec2_too_many(e, t->id, "subnet associations", EC2_MAX_ROUTES);
        x = &t->assocs[t->n_assocs++];
        aws_xml_text(a, "routeTableAssociationId", x->id, sizeof(x->id));
        aws_xml_text(a, "subnetId", x->subnet_id, sizeof(x->subnet_id));
        aws_xml_text(a, "main", main, sizeof(main));
        x->main = strcmp(main, "true") == 0;
    }
    ec2_parse_tags(it, &t->tags);
    return 0;
}

static int ec2_xml_int(const xmlNode *n, const char *path, int dflt)
{
    char v[16];
    return aws_xml_text(n, path, v, sizeof(v)) ? util_leading_int(v, dflt) : dflt;
}

/* One <item> of ipPermissions, flattened into one entry per source; more
 * than EC2_MAX_PERMS is an error (a dropped rule would be "missing" and
 * added again). */
static int ec2_parse_permission(xmlNode *p, struct ec2_security_group *g, struct err *e)
{
    struct ec2_perm base;
    memset(&base, 0, sizeof(base));
    aws_xml_text(p, "ipProtocol", base.proto, sizeof(base.proto));
    base.from = ec2_xml_int(p, "fromPort", -1);
    base.to = ec2_xml_int(p, "toPort", -1);
    for (xmlNode *r = aws_xml_first(aws_xml_child(p, "ipRanges"), "item");
         r; r = aws_xml_next(r, "item")) {
        struct ec2_perm *x;
        if (g->n_perms == EC2_MAX_PERMS)
            return ec2_too_many(e, g->id, "inbound rules", EC2_MAX_PERMS);
        x = &g->perms[g->n_perms++];
        *x = base;
        aws_xml_text(r, "cidrIp", x->cidr, sizeof(x->cidr));
    }
    for (xmlNode *r = aws_xml_first(aws_xml_child(p, "groups"), "item");
         r; r = aws_xml_next(r, "item")) {
        struct ec2_perm *x;
        if (g->n_perms == EC2_MAX_PERMS)
            return ec2_too_many(e, g->id, "inbound rules", EC2_MAX_PERMS);
        x = &g->perms[g->n_perms++];
        *x = base;
        aws_xml_text(r, "groupId", x->group_id, sizeof(x->group_id));
    }
    return 0;
}

static int ec2_fill_sg(xmlNode *it, void *rec, struct err *e)
{
    struct ec2_security_group *g = rec;
    aws_xml_text(it, "groupId", g->id, sizeof(g->id));
    aws_xml_text(it, "groupName", g->name, sizeof(g->name));
    aws_xml_text(it, "vpcId", g->vpc_id, sizeof(g->vpc_id));
    for (xmlNode *p = aws_xml_first(aws_xml_child(it, "ipPermissions"), "item");
         p; p = aws_xml_next(p, "item"))
        if (ec2_parse_permission(p, g, e) < 0)
            return -1;
    ec2_parse_tags(it, &g->tags);
    return 0;
}

static const struct ec2_shape ec2_shape_subnet = {
    "DescribeSubnets", "1000", "subnetSet", sizeof(struct ec2_subnet), ec2_fill_subnet
};

int ec2_describe_subnets(struct aws_client *c, const struct ec2_filter *f,
                         size_t nf, struct ec2_subnet **out, size_t *n,
                         struct err *e)
{
    return ec2_describe(c, &ec2_shape_subnet, f, nf, (void **)out, n, e);
}

static const struct ec2_shape ec2_shape_igw = {
    "DescribeInternetGateways", "1000", "internetGatewaySet", sizeof(struct ec2_igw), ec2_fill_igw
};

int ec2_describe_igws(struct aws_client *c, const struct ec2_filter *f,
                      size_t nf, struct ec2_igw **out, size_t *n,
                      struct err *e)
{
    return ec2_describe(c, &ec2_shape_igw, f, nf, (void **)out, n, e);
}

static const struct ec2_shape ec2_shape_address = {
    "DescribeAddresses", NULL, "addressesSet", sizeof(struct ec2_address), ec2_fill_address
};

int ec2_describe_addresses(struct aws_client *c, const struct ec2_filter *f,
                           size_t nf, struct ec2_address **out, size_t *n,
                           struct err *e)
{
    return ec2_describe(c, &ec2_shape_address, f, nf, (void **)out, n, e);
}

static const struct ec2_shape ec2_shape_nat = {
    "DescribeNatGateways", "1000", "natGatewaySet", sizeof(struct ec2_nat), ec2_fill_nat
};

int ec2_describe_nat_gateways(struct aws_client *c, const struct ec2_filter *f,
                              size_t nf, struct ec2_nat **out, size_t *n,
                              struct err *e)
{
    return ec2_describe(c, &ec2_shape_nat, f, nf, (void **)out, n, e);
}

static const struct ec2_shape ec2_shape_route_table = {
    "DescribeRouteTables", "100", "routeTableSet", sizeof(struct ec2_route_table),
    ec2_fill_route_table
};

int ec2_describe_route_tables(struct aws_client *c, const struct ec2_filter *f,
                              size_t nf, struct ec2_route_table **out,
                              size_t *n, struct err *e)
{
    return ec2_describe(c, &ec2_shape_route_table, f, nf, (void **)out, n, e);
}

static const struct ec2_shape ec2_shape_security_group = {
    "DescribeSecurityGroups", "1000", "securityGroupInfo",
    sizeof(struct ec2_security_group), ec2_fill_sg
};

int ec2_describe_security_groups(struct aws_client *c,
                                 const struct ec2_filter *f, size_t nf,
                                 struct ec2_security_group **out, size_t *n,
                                 struct err *e)
{
    return ec2_describe(c, &ec2_shape_security_group, f, nf, (void **)out, n, e);
}

static int ec2_fill_endpoint(xmlNode *it, void *rec, struct err *e)
{
    struct ec2_vpc_endpoint *v = rec;
    xmlNode *set;
    aws_xml_text(it, "vpcEndpointId", v->id, sizeof(v->id));
    aws_xml_text(it, "vpcId", v->vpc_id, sizeof(v->vpc_id));
    aws_xml_text(it, "serviceName", v->service, sizeof(v->service));
    aws_xml_text(it, "vpcEndpointType", v->type, sizeof(v->type));
    aws_xml_text(it, "state", v->state, sizeof(v->state));
    set = aws_xml_child(it, "routeTableIdSet");
    for (xmlNode *r = aws_xml_first(set, "item"); r; r = aws_xml_next(r, "item")) {
        if (v->n_rtbs == EC2_MAX_ENDPOINT_RTBS)
            return ec2_too_many(e, v->id, "route tables", EC2_MAX_ENDPOINT_RTBS);
        aws_xml_text(r, "", v->rtbs[v->n_rtbs], sizeof(v->rtbs[0]));
        v->n_rtbs++;
    }
    ec2_parse_tags(it, &v->tags);
    return 0;
}

static const struct ec2_shape ec2_shape_endpoint = {
    "DescribeVpcEndpoints", "1000", "vpcEndpointSet", sizeof(struct ec2_vpc_endpoint),
    ec2_fill_endpoint
};

int ec2_describe_vpc_endpoints(struct aws_client *c, const struct ec2_filter *f,
                               size_t nf, struct ec2_vpc_endpoint **out, size_t *n,
                               struct err *e)
{
    return ec2_describe(c, &ec2_shape_endpoint, f, nf, (void **)out, n, e);
}

int ec2_vpc_dns_hostnames(struct aws_client *c, const char *vpc, int *on,
                          struct err *e)
{
    struct aws_query q;
    xmlDoc *doc;
    char v[8] = "";
    int rc;
    *on = 0;
    aws_query_init(&q, AWS_EC2, "DescribeVpcAttribute");
    aws_query_add(&q, "VpcId", vpc);
    aws_query_add(&q, "Attribute", "enableDnsHostnames");
    rc = aws_batch_call1(c, &q, 1, AWS_NF_RETRY, &doc, e);
    aws_query_release(&q);
    if (rc < 0)
        return -1;
    aws_xml_text(xmlDocGetRootElement(doc), "enableDnsHostnames/value", v, sizeof(v));
    *on = strcmp(v, "true") == 0;
    xmlFreeDoc(doc);
    return 0;
}

/* ---- mutations --------------------------------------------------------------- */

/* TagSpecification.k for rtype. */
static void ec2_query_tag_spec_k(struct aws_query *q, int k, const char *rtype,
                                 const struct ec2_tag *t, size_t n)
{
    if (!n)
        return;
    aws_query_addf(q, rtype, "TagSpecification.%d.ResourceType", k);
    for (size_t i = 0; i < n; i++) {
        aws_query_addf(q, t[i].key, "TagSpecification.%d.Tag.%zu.Key", k, i + 1);
        aws_query_addf(q, t[i].value, "TagSpecification.%d.Tag.%zu.Value", k, i + 1);
    }
}

void ec2_query_tag_spec(struct aws_query *q, const char *rtype,
                        const struct ec2_tag *t, size_t n)
{
    ec2_query_tag_spec_k(q, 1, rtype, t, n);
}

/* CreateTags takes up to 1000 resource ids per call (EC2 API reference). */
#define EC2_TAGS_MAX_IDS 1000

int ec2_create_tags(struct aws_client *c, const char *const *resource_ids,
                    size_t n, const char *const *keys,
                    const char *const *values, size_t ntags, struct err *e)
{
    struct aws_query q;
    int rc;
    if (n > EC2_TAGS_MAX_IDS) {
        if (ec2_create_tags(c, resource_ids, EC2_TAGS_MAX_IDS, keys, values, ntags, e) < 0)
            return -1;
        return ec2_create_tags(c, resource_ids + EC2_TAGS_MAX_IDS, n - EC2_TAGS_MAX_IDS,
                               keys, values, ntags, e);
    }
    aws_query_init(&q, AWS_EC2, "CreateTags");
    for (size_t i = 0; i < n; i++)
        aws_query_addf(&q, resource_ids[i], "ResourceId.%zu", i + 1);
    for (size_t i = 0; i < ntags; i++) {
        aws_query_addf(&q, keys[i], "Tag.%zu.Key", i + 1);
        aws_query_addf(&q, values[i], "Tag.%zu.Value", i + 1);
    }
    /* Setting a tag to a value is the same however often it is sent. */
    rc = aws_batch_call1(c, &q, 1, AWS_NF_RETRY, NULL, e);
    aws_query_release(&q);
    return rc;
}

/* A create: a NotFound of what it references is retried. */
static struct aws_batch_item *ec2_add(struct aws_batch *b, const char *action,
                                      int idempotent, const char *id_path)
{
    struct aws_batch_item *it = aws_batch_add(b, AWS_EC2, action, idempotent);
    it->id_path = id_path;
    return it;
}

struct aws_batch_item *ec2_create_vpc(struct aws_batch *b, const char *cidr,
                                      const struct ec2_tag *t, size_t nt)
{
    struct aws_batch_item *it = ec2_add(b, "CreateVpc", 0, "vpc/vpcId");
    aws_query_add(&it->q, "CidrBlock", cidr);
    ec2_query_tag_spec(&it->q, "vpc", t, nt);
    return it;
}

struct aws_batch_item *ec2_enable_dns_hostnames(struct aws_batch *b,
                                                const char *vpc)
{
    struct aws_batch_item *it = ec2_add(b, "ModifyVpcAttribute", 1, NULL);
    aws_query_add(&it->q, "VpcId", vpc);
    aws_query_add(&it->q, "EnableDnsHostnames.Value", "true");
    return it;
}

struct aws_batch_item *ec2_create_subnet(struct aws_batch *b, const char *vpc,
                                         const char *cidr, const char *az,
                                         const struct ec2_tag *t, size_t nt)
{
    struct aws_batch_item *it = ec2_add(b, "CreateSubnet", 0, "subnet/subnetId");
    aws_query_add(&it->q, "VpcId", vpc);
    aws_query_add(&it->q, "CidrBlock", cidr);
    aws_query_add(&it->q, "AvailabilityZone", az);
    ec2_query_tag_spec(&it->q, "subnet", t, nt);
    return it;
}

struct aws_batch_item *ec2_create_igw(struct aws_batch *b,
                                      const struct ec2_tag *t, size_t nt)
{
    struct aws_batch_item *it = ec2_add(b, "CreateInternetGateway", 0,
                                        "internetGateway/internetGatewayId");
    ec2_query_tag_spec(&it->q, "internet-gateway", t, nt);
    return it;
}

static struct aws_batch_item *ec2_igw_call(struct aws_batch *b,
                                           const char *action, const char *igw,
                                           const char *vpc)
{
    struct aws_batch_item *it = ec2_add(b, action, 0, NULL);
    aws_query_add(&it->q, "InternetGatewayId", igw);
    aws_query_add(&it->q, "VpcId", vpc);
    return it;
}

struct aws_batch_item *ec2_attach_igw(struct aws_batch *b, const char *igw,
                                      const char *vpc)
{
    return ec2_igw_call(b, "AttachInternetGateway", igw, vpc);
}

struct aws_batch_item *ec2_detach_igw(struct aws_batch *b, const char *igw,
                                      const char *vpc)
{
    struct aws_batch_item *it = ec2_igw_call(b, "DetachInternetGateway", igw, vpc);
    it->notfound = AWS_NF_OK;
    return it;
}

struct aws_batch_item *ec2_allocate_address(struct aws_batch *b,
                                            const struct ec2_tag *t, size_t nt)
{
    struct aws_batch_item *it = ec2_add(b, "AllocateAddress", 0, "allocationId");
    aws_query_add(&it->q, "Domain", "vpc");
    ec2_query_tag_spec(&it->q, "elastic-ip", t, nt);
    return it;
}

struct aws_batch_item *ec2_create_nat_gateway(struct aws_batch *b,
                                              const char *subnet,
                                              const char *allocation_id,
                                              const char *token,
                                              const struct ec2_tag *t,
                                              size_t nt)
{
    /* Not resent by the transport either (see ec2_run_instances). */
    struct aws_batch_item *it = ec2_add(b, "CreateNatGateway", 0,
                                        "natGateway/natGatewayId");
    aws_query_add(&it->q, "SubnetId", subnet);
    aws_query_add(&it->q, "AllocationId", allocation_id);
    aws_query_add(&it->q, "ClientToken", token);
    ec2_query_tag_spec(&it->q, "natgateway", t, nt);
    return it;
}

struct aws_batch_item *ec2_create_route_table(struct aws_batch *b,
                                              const char *vpc,
                                              const struct ec2_tag *t,
                                              size_t nt)
{
    struct aws_batch_item *it = ec2_add(b, "CreateRouteTable", 0,
                                        "routeTable/routeTableId");
    aws_query_add(&it->q, "VpcId", vpc);
    ec2_query_tag_spec(&it->q, "route-table", t, nt);
    return it;
}

struct aws_batch_item *ec2_create_route(struct aws_batch *b, const char *rtb,
                                        const char *dest,
                                        const char *gateway_id,
                                        const char *nat_id, int replace)
{
    /* Replacing a route is the same however often it is sent. */
    struct aws_batch_item *it = ec2_add(b, replace ? "ReplaceRoute" : "CreateRoute",
                                        replace, NULL);
    aws_query_add(&it->q, "RouteTableId", rtb);
    aws_query_add(&it->q, "DestinationCidrBlock", dest);
    if (gateway_id && *gateway_id)
        aws_query_add(&it->q, "GatewayId", gateway_id);
    if (nat_id && *nat_id)
        aws_query_add(&it->q, "NatGatewayId", nat_id);
    return it;
}

struct aws_batch_item *ec2_associate_route_table(struct aws_batch *b,
                                                 const char *rtb,
                                                 const char *subnet)
{
    struct aws_batch_item *it = ec2_add(b, "AssociateRouteTable", 0, "associationId");
    aws_query_add(&it->q, "RouteTableId", rtb);
    aws_query_add(&it->q, "SubnetId", subnet);
    return it;
}

struct aws_batch_item *ec2_create_security_group(struct aws_batch *b,
                                                 const char *vpc,
                                                 const char *name,
                                                 const char *description,
                                                 const struct ec2_tag *t,
                                                 size_t nt)
{
    struct aws_batch_item *it = ec2_add(b, "CreateSecurityGroup", 0, "groupId");
    aws_query_add(&it->q, "VpcId", vpc);
    aws_query_add(&it->q, "GroupName", name);
    aws_query_add(&it->q, "GroupDescription", description);
    ec2_query_tag_spec(&it->q, "security-group", t, nt);
    return it;
}

static void ec2_query_perms(struct aws_query *q, const struct ec2_perm *p,
                            size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char port[16];
        aws_query_addf(q, p[i].proto, "IpPermissions.%zu.IpProtocol", i + 1);
        if (strcmp(p[i].proto, "-1") != 0) {
            snprintf(port, sizeof(port), "%d", p[i].from);
            aws_query_addf(q, port, "IpPermissions.%zu.FromPort", i + 1);
            snprintf(port, sizeof(port), "%d", p[i].to);
            aws_query_addf(q, port, "IpPermissions.%zu.ToPort", i + 1);
        }
        if (p[i].cidr[0])
            aws_query_addf(q, p[i].cidr, "IpPermissions.%zu.IpRanges.1.CidrIp", i + 1);
        else
            aws_query_addf(q, p[i].group_id, "IpPermissions.%zu.Groups.1.GroupId", i + 1);
    }
}

struct aws_batch_item *ec2_authorize_ingress(struct aws_batch *b,
                                             const char *group,
                                             const struct ec2_perm *p,
                                             size_t n)
{
    struct aws_batch_item *it = ec2_add(b, "AuthorizeSecurityGroupIngress", 0, NULL);
    aws_query_add(&it->q, "GroupId", group);
    ec2_query_perms(&it->q, p, n);
    return it;
}

struct aws_batch_item *ec2_revoke_ingress(struct aws_batch *b,
                                          const char *group,
                                          const struct ec2_perm *p, size_t n)
{
    struct aws_batch_item *it = ec2_add(b, "RevokeSecurityGroupIngress", 1, NULL);
    aws_query_add(&it->q, "GroupId", group);
    ec2_query_perms(&it->q, p, n);
    it->notfound = AWS_NF_OK;
    return it;
}

/* Adds key.1..N = ids[0..n). */
static void ec2_query_list(struct aws_query *q, const char *key, const char *const *ids,
                           size_t n)
{
    for (size_t i = 0; i < n; i++)
        aws_query_addf(q, ids[i], "%s.%zu", key, i + 1);
}

struct aws_batch_item *ec2_create_gateway_endpoint(struct aws_batch *b, const char *vpc,
                                                   const char *service,
                                                   const char *const *rtbs, size_t n,
                                                   const char *token,
                                                   const struct ec2_tag *t, size_t nt)
{
    /* With the ClientToken a resend is answered with the first endpoint. */
    struct aws_batch_item *it = ec2_add(b, "CreateVpcEndpoint", 1,
                                        "vpcEndpoint/vpcEndpointId");
    aws_query_add(&it->q, "VpcId", vpc);
    aws_query_add(&it->q, "ServiceName", service);
    aws_query_add(&it->q, "VpcEndpointType", "Gateway");
    ec2_query_list(&it->q, "RouteTableId", rtbs, n);
    aws_query_add(&it->q, "ClientToken", token);
    ec2_query_tag_spec(&it->q, "vpc-endpoint", t, nt);
    return it;
}

struct aws_batch_item *ec2_modify_endpoint_rtbs(struct aws_batch *b, const char *endpoint,
                                                const char *const *add, size_t n_add,
                                                const char *const *del, size_t n_del)
{
    struct aws_batch_item *it = ec2_add(b, "ModifyVpcEndpoint", 1, NULL);
    aws_query_add(&it->q, "VpcEndpointId", endpoint);
    ec2_query_list(&it->q, "AddRouteTableId", add, n_add);
    ec2_query_list(&it->q, "RemoveRouteTableId", del, n_del);
    return it;
}

struct aws_batch_item *ec2_delete(struct aws_batch *b, const char *action,
                                  const char *id_param, const char *id)
{
    struct aws_batch_item *it = ec2_add(b, action, 1, NULL);
    aws_query_add(&it->q, id_param, id);
    it->notfound = AWS_NF_OK;
    return it;
}

/* User data travels base64-encoded. */
static void ec2_query_user_data(struct aws_query *q, const char *text)
{
    size_t len = strlen(text);
    unsigned char *b64 = malloc(4 * ((len + 2) / 3) + 1);
    if (!b64) {
        q->body.failed = 1;
        return;
    }
    EVP_EncodeBlock(b64, (const unsigned char *)text, (int)len);
    aws_query_add(q, "UserData", (const char *)b64);
    free(b64);
}

/* The cluster nodes' options (SPEC.md "Clusters", IAM): a second group,
 * the instance profile, IMDSv2 only with room for one more hop (pods on
 * the host network and behind it reach IMDS too), an encrypted gp3 root. */
static void ec2_run_node_options(struct aws_query *q, const struct ec2_run_spec *s)
{
    char gb[16];
    if (s->extra_group && *s->extra_group)
        aws_query_add(q, "SecurityGroupId.2", s->extra_group);
    if (s->iam_profile && *s->iam_profile)
        aws_query_add(q, "IamInstanceProfile.Name", s->iam_profile);
    if (s->imds_v2_only) {
        aws_query_add(q, "MetadataOptions.HttpTokens", "required");
        aws_query_add(q, "MetadataOptions.HttpPutResponseHopLimit", "2");
        aws_query_add(q, "MetadataOptions.HttpEndpoint", "enabled");
    }
    if (s->root_gb > 0 && s->root_device && *s->root_device) {
        snprintf(gb, sizeof(gb), "%d", s->root_gb);
        aws_query_add(q, "BlockDeviceMapping.1.DeviceName", s->root_device);
        aws_query_add(q, "BlockDeviceMapping.1.Ebs.VolumeSize", gb);
        aws_query_add(q, "BlockDeviceMapping.1.Ebs.VolumeType", "gp3");
        aws_query_add(q, "BlockDeviceMapping.1.Ebs.Encrypted", "true");
        aws_query_add(q, "BlockDeviceMapping.1.Ebs.DeleteOnTermination", "true");
    }
}

static void ec2_fill_image(xmlNode *img, struct ec2_image *out)
{
    aws_xml_text(img, "imageId", out->id, sizeof(out->id));
    aws_xml_text(img, "architecture", out->architecture, sizeof(out->architecture));
    aws_xml_text(img, "imageState", out->state, sizeof(out->state));
    aws_xml_text(img, "rootDeviceName", out->root_device, sizeof(out->root_device));
    aws_xml_text(img, "name", out->name, sizeof(out->name));
}

int ec2_describe_image(struct aws_client *c, const char *ami, struct ec2_image *out,
                       int *found, struct err *e)
{
    struct aws_query q;
    xmlDoc *doc;
    xmlNode *img;
    int rc;
    *found = 0;
    memset(out, 0, sizeof(*out));
    aws_query_init(&q, AWS_EC2, "DescribeImages");
    aws_query_add(&q, "ImageId.1", ami);
    rc = aws_query_call(c, &q, 1, &doc, e);
    aws_query_release(&q);
    if (rc < 0) {
        if (strncmp(e->code, "InvalidAMIID.", 13) != 0)
            return -1;
        err_init(e);
        return 0;
    }
    img = aws_xml_first(aws_xml_child(xmlDocGetRootElement(doc), "imagesSet"), "item");
    if (img) {
        ec2_fill_image(img, out);
        *found = 1;
    }
    xmlFreeDoc(doc);
    return 0;
}

int ec2_image_root_device(struct aws_client *c, const char *ami, char *out,
                          size_t size, int *found, struct err *e)
{
    struct ec2_image img;
    out[0] = '\0';
    if (ec2_describe_image(c, ami, &img, found, e) < 0)
        return -1;
    snprintf(out, size, "%s", img.root_device);
    *found = out[0] != '\0';
    return 0;
}

/* One DescribeInstanceTypes call for up to 100 names. */
static int ec2_type_vcpus_call(struct aws_client *c, const char *const *types, size_t n,
                               int *vcpus, struct err *e)
{
    struct aws_query q;
    xmlDoc *doc;
    xmlNode *set;
    int rc;
    aws_query_init(&q, AWS_EC2, "DescribeInstanceTypes");
    for (size_t i = 0; i < n; i++)
        aws_query_addf(&q, types[i], "InstanceType.%zu", i + 1);
    rc = aws_query_call(c, &q, 1, &doc, e);
    aws_query_release(&q);
    if (rc < 0)
        return -1;
    set = aws_xml_child(xmlDocGetRootElement(doc), "instanceTypeSet");
    for (xmlNode *it = aws_xml_first(set, "item"); it; it = aws_xml_next(it, "item")) {
        char name[32];
        aws_xml_text(it, "instanceType", name, sizeof(name));
        for (size_t i = 0; i < n; i++)
            if (strcmp(types[i], name) == 0)
                vcpus[i] = ec2_xml_int(it, "vCpuInfo/defaultVCpus", 0);
    }
    xmlFreeDoc(doc);
    for (size_t i = 0; i < n; i++)
        if (vcpus[i] <= 0)
            return err_set(e, ERR_FAILED, "DescribeInstanceTypes did not answer the vCPUs "
                           "of %s", types[i]);
    return 0;
}

int ec2_instance_type_vcpus(struct aws_client *c, const char *const *types, size_t n,
                            int *vcpus, struct err *e)
{
    for (size_t i = 0; i < n; i += 100) {
        size_t k = n - i < 100 ? n - i : 100;
        memset(vcpus + i, 0, k * sizeof(*vcpus));
        if (ec2_type_vcpus_call(c, types + i, k, vcpus + i, e) < 0)
            return -1;
    }
    return 0;
}

struct aws_batch_item *ec2_run_instances(struct aws_batch *b,
                                         const struct ec2_run_spec *s)
{
    /* Not resent by the transport: an emulator may ignore the ClientToken
     * (moto does) and launch again. An uncertain outcome makes up look by
     * tags instead (plans/converge.h); if AWS does not show the instances
     * yet, the next pass derives the same token from the same instances
     * seen, and AWS answers it with the first call's reservation. */
    struct aws_batch_item *it = ec2_add(b, "RunInstances", 0, NULL);
    char count[16];
    snprintf(count, sizeof(count), "%d", s->count);
    aws_query_add(&it->q, "ImageId", s->ami);
    aws_query_add(&it->q, "InstanceType", s->type);
    aws_query_add(&it->q, "MinCount", count);
    aws_query_add(&it->q, "MaxCount", count);
    aws_query_add(&it->q, "ClientToken", s->client_token);
    if (s->public_ip) {
        aws_query_add(&it->q, "NetworkInterface.1.DeviceIndex", "0");
        aws_query_add(&it->q, "NetworkInterface.1.SubnetId", s->subnet);
        aws_query_add(&it->q, "NetworkInterface.1.AssociatePublicIpAddress", "true");
        aws_query_add(&it->q, "NetworkInterface.1.SecurityGroupId.1", s->security_group);
    } else {
        aws_query_add(&it->q, "SubnetId", s->subnet);
        aws_query_add(&it->q, "SecurityGroupId.1", s->security_group);
    }
    if (s->key_name && *s->key_name)
        aws_query_add(&it->q, "KeyName", s->key_name);
    if (s->user_data)
        ec2_query_user_data(&it->q, s->user_data);
    ec2_run_node_options(&it->q, s);
    ec2_query_tag_spec(&it->q, "instance", s->tags, s->n_tags);
    if (s->tag_volumes)
        ec2_query_tag_spec_k(&it->q, 2, "volume", s->tags, s->n_tags);
    return it;
}

int ec2_run_result(const struct aws_batch_item *it, struct ec2_instance **out,
                   size_t *n, struct err *e)
{
    struct ec2_list l = { NULL, 0, 0, &ec2_shape_instance };
    xmlNode *set = it->doc ? aws_xml_child(xmlDocGetRootElement(it->doc),
                                           "instancesSet") : NULL;
    return ec2_list_hand_out(&l, ec2_push_items(&l, set, e), (void **)out, n);
}
static struct aws_batch_item *ec2_instances_call(struct aws_batch *b,
                                                 const char *action,
                                                 const char *const *ids,
                                                 size_t n)
{
    struct aws_batch_item *it = ec2_add(b, action, 1, NULL);
    for (size_t i = 0; i < n; i++)
        aws_query_addf(&it->q, ids[i], "InstanceId.%zu", i + 1);
    return it;
}

struct aws_batch_item *ec2_terminate_instances(struct aws_batch *b,
                                               const char *const *ids,
                                               size_t n)
{
    return ec2_instances_call(b, "TerminateInstances", ids, n);
}

struct aws_batch_item *ec2_start_instances(struct aws_batch *b,
                                           const char *const *ids, size_t n)
{
    return ec2_instances_call(b, "StartInstances", ids, n);
}
