/* AWS regions and service endpoints (SPEC.md "AWS conventions"): which
 * region, which URL and signing scope each service has, and the checks an
 * endpoint URL from outside must pass. */
#ifndef AWS_ENDPOINT_H
#define AWS_ENDPOINT_H

#include <stddef.h>

#include "core/err.h"

/* Region: cfg_region if set, else AWS_REGION, else AWS_DEFAULT_REGION, else
 * the profile's `region` in the config file. out gets at most size-1 bytes.
 * Fails (ERR_USAGE) when none is found. */
int aws_region_resolve(const char *cfg_region, const char *profile,
                       char *out, size_t size, struct err *e);

/* The services paasctl talks to. */
enum aws_service {
    AWS_EC2,
    AWS_ELB,        /* classic ELB, "elasticloadbalancing" */
    AWS_S3,
    AWS_ROUTE53,
    AWS_STS,
    AWS_IAM,
    AWS_SERVICE_QUOTAS,
    AWS_N_SERVICES
};

struct aws_endpoint {
    char url[512];          /* scheme://host[:port], no trailing slash */
    char signing_region[32];/* route53 and iam sign with us-east-1 */
    const char *signing_name;   /* static: "ec2", "elasticloadbalancing", ... */
    int overridden;         /* came from env or [paas] endpoint (S3 then uses
                             * path-style addressing) */
};

/* Endpoint for svc: AWS_ENDPOINT_URL_<SERVICE> (EC2, ELASTIC_LOAD_BALANCING,
 * S3, ROUTE_53, STS, IAM), else AWS_ENDPOINT_URL, else cfg_endpoint, else the
 * real one (https://ec2.REGION.amazonaws.com, https://route53.amazonaws.com,
 * https://iam.amazonaws.com, ...). A malformed URL is ERR_USAGE. */
int aws_endpoint_resolve(enum aws_service svc, const char *region,
                         const char *cfg_endpoint, struct aws_endpoint *out,
                         struct err *e);

/* "ec2", "elasticloadbalancing", "s3", "route53", "sts", "iam". */
const char *aws_service_signing_name(enum aws_service svc);

/* Copies url without trailing slashes into out, after checking that it is
 * http(s)://host[:port] (no user info, path, query or fragment). The
 * message names what (where the URL came from) but never the URL, which
 * may carry user:password. ERR_USAGE when bad. */
int aws_endpoint_url_set(char *out, size_t size, const char *url,
                         const char *what, struct err *e);

#endif
