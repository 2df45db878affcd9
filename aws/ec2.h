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

#endif
