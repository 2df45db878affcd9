/* EC2 over the Query protocol (API 2016-11-15): the calls paasctl makes,
 * with results as plain structs. Lists returned are malloc'd arrays the
 * caller frees with free(). Reads are filtered and paged, never one call per
 * resource. */
#ifndef AWS_EC2_H
#define AWS_EC2_H

#include <stddef.h>
#include "aws/transport.h"

#define EC2_MAX_FILTER_VALUES 8

/* One Filter.N: a name and up to 8 values (OR-ed by EC2). */
struct ec2_filter {
    const char *name;                       /* "tag:paasctl:paas", "vpc-id" */
    const char *values[EC2_MAX_FILTER_VALUES]; /* NULL-terminated */
};

/* The paasctl tags of a resource (SPEC.md "Tags"). */
struct ec2_tags {
    char name[128];
    char paas[32];
    char slot[16];
    char role[32];
    char traffic[16];
    char k8s_version[16];     /* paasctl:k8s-version, on slot instances */
};

struct ec2_vpc {
    char id[32];
    char cidr[20];
    char state[16];
    struct ec2_tags tags;
};

struct ec2_instance {
    char id[32];
    char state[16];        /* pending, running, stopping, stopped, ... */
    char type[32];
    char az[32];
    char subnet_id[32];
    char private_ip[16];
    char private_dns[256];
    char launch_time[32];  /* ISO 8601, sorts as text */
    char ami_launch_index[8];
    char lifecycle[16];    /* "" on-demand, "spot", "scheduled", "capacity-block" */
    struct ec2_tags tags;
};

int ec2_describe_vpcs(struct aws_client *c, const struct ec2_filter *f,
                      size_t nf, struct ec2_vpc **out, size_t *n,
                      struct err *e);

int ec2_describe_instances(struct aws_client *c, const struct ec2_filter *f,
                           size_t nf, struct ec2_instance **out, size_t *n,
                           struct err *e);

/* Adds the filters to a query (Filter.1..N). */
struct aws_query;
void ec2_query_filters(struct aws_query *q, const struct ec2_filter *f,
                       size_t nf);
/* Reads a <tagSet> under parent into t (unknown keys ignored). */
void ec2_parse_tags(const void *parent_xml_node, struct ec2_tags *t);

/* ---- tags at creation ---------------------------------------------------- */

/* One tag put on a resource by its create call (SPEC.md "Tags"). */
struct ec2_tag {
    const char *key;
    const char *value;
};

/* Adds TagSpecification.1 for resource type rtype ("vpc", "subnet",
 * "instance", ...) with the n tags. */
void ec2_query_tag_spec(struct aws_query *q, const char *rtype,
                        const struct ec2_tag *t, size_t n);

/* Sets the tags on every listed resource in one CreateTags call per 1000
 * ids (existing keys are overwritten). A just-created id that EC2 does not know yet is
 * retried shortly. keys[i] gets values[i]. */
int ec2_create_tags(struct aws_client *c, const char *const *resource_ids,
                    size_t n, const char *const *keys,
                    const char *const *values, size_t ntags, struct err *e);

/* ---- the shell's network --------------------------------------------------- */

struct ec2_subnet {
    char id[32];
    char vpc_id[32];
    char cidr[20];
    char az[32];
    char state[16];
    struct ec2_tags tags;
};

struct ec2_igw {
    char id[32];
    char attached_vpc[32];     /* "" when detached */
    struct ec2_tags tags;
};

struct ec2_address {
    char allocation_id[32];
    char public_ip[16];
    char association_id[40];   /* "" when free */
    struct ec2_tags tags;
};

struct ec2_nat {
    char id[32];
    char subnet_id[32];
    char state[16];            /* pending, available, deleting, deleted, failed */
    char allocation_id[32];
    struct ec2_tags tags;
};

#define EC2_MAX_ROUTES 16
struct ec2_route {
    char dest[20];
    char gateway_id[32];       /* igw-..., "local" */
    char nat_id[32];
    char state[16];            /* active, blackhole */
};

struct ec2_rtb_assoc {
    char id[40];
    char subnet_id[32];
    int main;
};

struct ec2_route_table {
    char id[32];
    char vpc_id[32];
    size_t n_routes, n_assocs;    /* more than EC2_MAX_ROUTES: an error */
    struct ec2_route routes[EC2_MAX_ROUTES];
    struct ec2_rtb_assoc assocs[EC2_MAX_ROUTES];
    struct ec2_tags tags;
};

/* One ingress rule with a single source (EC2's permissions are flattened:
 * one entry per CIDR and per source group). proto "-1" is all traffic. */
struct ec2_perm {
    char proto[8];
    int from, to;
    char cidr[20];             /* "" when the source is a group */
    char group_id[32];         /* "" when the source is a CIDR */
};

#define EC2_MAX_PERMS 64
struct ec2_security_group {
    char id[32];
    char name[256];
    char vpc_id[32];
    size_t n_perms;            /* more than EC2_MAX_PERMS: an error */
    struct ec2_perm perms[EC2_MAX_PERMS];
    struct ec2_tags tags;
};

int ec2_describe_subnets(struct aws_client *c, const struct ec2_filter *f,
                         size_t nf, struct ec2_subnet **out, size_t *n,
                         struct err *e);
int ec2_describe_igws(struct aws_client *c, const struct ec2_filter *f,
                      size_t nf, struct ec2_igw **out, size_t *n,
                      struct err *e);
int ec2_describe_addresses(struct aws_client *c, const struct ec2_filter *f,
                           size_t nf, struct ec2_address **out, size_t *n,
                           struct err *e);
int ec2_describe_nat_gateways(struct aws_client *c, const struct ec2_filter *f,
                              size_t nf, struct ec2_nat **out, size_t *n,
                              struct err *e);
int ec2_describe_route_tables(struct aws_client *c, const struct ec2_filter *f,
                              size_t nf, struct ec2_route_table **out,
                              size_t *n, struct err *e);
int ec2_describe_security_groups(struct aws_client *c,
                                 const struct ec2_filter *f, size_t nf,
                                 struct ec2_security_group **out, size_t *n,
                                 struct err *e);
/* *on = the VPC's enableDnsHostnames. */
int ec2_vpc_dns_hostnames(struct aws_client *c, const char *vpc, int *on,
                          struct err *e);

/* ---- mutations, added to a batch (aws/batch.h) ------------------------------
 * Each returns the batch item (valid until the next add) so the caller can
 * set its ref. Creates retry a NotFound of the ids they reference; deletes
 * count NotFound as done. Where the answer has the new id, item->id gets it
 * after aws_batch_run. */
struct aws_batch;
struct aws_batch_item;

struct aws_batch_item *ec2_create_vpc(struct aws_batch *b, const char *cidr,
                                      const struct ec2_tag *t, size_t nt);
struct aws_batch_item *ec2_enable_dns_hostnames(struct aws_batch *b,
                                                const char *vpc);
struct aws_batch_item *ec2_create_subnet(struct aws_batch *b, const char *vpc,
                                         const char *cidr, const char *az,
                                         const struct ec2_tag *t, size_t nt);
struct aws_batch_item *ec2_create_igw(struct aws_batch *b,
                                      const struct ec2_tag *t, size_t nt);
struct aws_batch_item *ec2_attach_igw(struct aws_batch *b, const char *igw,
                                      const char *vpc);
struct aws_batch_item *ec2_detach_igw(struct aws_batch *b, const char *igw,
                                      const char *vpc);
struct aws_batch_item *ec2_allocate_address(struct aws_batch *b,
                                            const struct ec2_tag *t, size_t nt);
/* token: ClientToken, so a resent call cannot make a second gateway. */
struct aws_batch_item *ec2_create_nat_gateway(struct aws_batch *b,
                                              const char *subnet,
                                              const char *allocation_id,
                                              const char *token,
                                              const struct ec2_tag *t,
                                              size_t nt);
struct aws_batch_item *ec2_create_route_table(struct aws_batch *b,
                                              const char *vpc,
                                              const struct ec2_tag *t,
                                              size_t nt);
/* A route to an internet gateway (gateway_id) or a NAT gateway (nat_id);
 * replace: ReplaceRoute for a route that exists with another target. */
struct aws_batch_item *ec2_create_route(struct aws_batch *b, const char *rtb,
                                        const char *dest,
                                        const char *gateway_id,
                                        const char *nat_id, int replace);
struct aws_batch_item *ec2_associate_route_table(struct aws_batch *b,
                                                 const char *rtb,
                                                 const char *subnet);
struct aws_batch_item *ec2_create_security_group(struct aws_batch *b,
                                                 const char *vpc,
                                                 const char *name,
                                                 const char *description,
                                                 const struct ec2_tag *t,
                                                 size_t nt);
/* The n rules into one Authorize/RevokeSecurityGroupIngress call. */
struct aws_batch_item *ec2_authorize_ingress(struct aws_batch *b,
                                             const char *group,
                                             const struct ec2_perm *p,
                                             size_t n);
struct aws_batch_item *ec2_revoke_ingress(struct aws_batch *b,
                                          const char *group,
                                          const struct ec2_perm *p, size_t n);
/* A Gateway endpoint for service on the n route tables, tagged at
 * creation; token: ClientToken, so a resent call makes no second one. */
struct aws_batch_item *ec2_create_gateway_endpoint(struct aws_batch *b, const char *vpc,
                                                   const char *service,
                                                   const char *const *rtbs, size_t n,
                                                   const char *token,
                                                   const struct ec2_tag *t, size_t nt);
/* Adds and removes route tables of an endpoint in one ModifyVpcEndpoint. */
struct aws_batch_item *ec2_modify_endpoint_rtbs(struct aws_batch *b, const char *endpoint,
                                                const char *const *add, size_t n_add,
                                                const char *const *del, size_t n_del);
/* Delete calls taking one id: action "DeleteVpc" with param "VpcId", ... */
struct aws_batch_item *ec2_delete(struct aws_batch *b, const char *action,
                                  const char *id_param, const char *id);

/* RunInstances: count instances of one role in one subnet, in one call
 * (MinCount = MaxCount = count), tagged at creation. */
struct ec2_run_spec {
    const char *ami;
    const char *type;
    const char *subnet;
    const char *security_group;
    const char *key_name;       /* NULL/"" = none */
    const char *user_data;      /* raw text (base64-encoded here); NULL = none */
    const char *client_token;   /* deterministic, <= 64 ASCII characters */
    int count;
    int public_ip;              /* bastion: a public address in a public subnet */
    const struct ec2_tag *tags;
    size_t n_tags;
    /* SPEC.md "Clusters": the slot's nodes. */
    const char *extra_group;    /* a second security group; NULL = none */
    const char *iam_profile;    /* instance profile name; NULL = none */
    int imds_v2_only;           /* HttpTokens=required, hop limit 2 (pods) */
    const char *root_device;    /* with root_gb: the AMI's root device name */
    int root_gb;                /* >0: encrypted gp3 root volume this size */
    int tag_volumes;            /* the tags go on the volumes too */
};
struct aws_batch_item *ec2_run_instances(struct aws_batch *b,
                                         const struct ec2_run_spec *s);
/* The root device name of the image ("/dev/sda1", "/dev/xvda"); *found = 0
 * when the image is unknown. One DescribeImages call. */
int ec2_image_root_device(struct aws_client *c, const char *ami, char *out,
                          size_t size, int *found, struct err *e);

/* What pre-flight checks of an image (README "Pre-flight"). */
struct ec2_image {
    char id[32];
    char architecture[16];     /* x86_64, arm64, i386, ... */
    char state[16];            /* available, pending, failed, ... */
    char root_device[64];
    char name[128];
};
/* One DescribeImages call for ami; *found = 0 when this region does not
 * know it (InvalidAMIID.* counts as not found). */
int ec2_describe_image(struct aws_client *c, const char *ami, struct ec2_image *out,
                       int *found, struct err *e);

/* The default vCPUs of each of the n instance types (DescribeInstanceTypes,
 * up to 100 names a call): vcpus[i] for types[i]. An unknown type is the
 * AWS error InvalidInstanceType. */
int ec2_instance_type_vcpus(struct aws_client *c, const char *const *types, size_t n,
                            int *vcpus, struct err *e);

/* ---- VPC endpoints (the shell's S3 gateway endpoint) ----------------------- */

#define EC2_MAX_ENDPOINT_RTBS 16
struct ec2_vpc_endpoint {
    char id[32];
    char vpc_id[32];
    char service[96];          /* com.amazonaws.REGION.s3 */
    char type[16];             /* Gateway, Interface */
    char state[16];            /* pendingAcceptance, pending, available, deleting,
                                * deleted, rejected, failed */
    size_t n_rtbs;             /* more than EC2_MAX_ENDPOINT_RTBS: an error */
    char rtbs[EC2_MAX_ENDPOINT_RTBS][32];
    struct ec2_tags tags;
};
int ec2_describe_vpc_endpoints(struct aws_client *c, const struct ec2_filter *f,
                               size_t nf, struct ec2_vpc_endpoint **out, size_t *n,
                               struct err *e);
/* The instances a RunInstances item launched (malloc'd; caller frees). */
int ec2_run_result(const struct aws_batch_item *it, struct ec2_instance **out,
                   size_t *n, struct err *e);
/* TerminateInstances / StartInstances for every id in one call. */
struct aws_batch_item *ec2_terminate_instances(struct aws_batch *b,
                                               const char *const *ids,
                                               size_t n);
struct aws_batch_item *ec2_start_instances(struct aws_batch *b,
                                           const char *const *ids, size_t n);

#endif
