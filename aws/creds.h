/* AWS credentials, region and endpoints (SPEC.md "AWS conventions").
 * Credentials: env (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN),
 * then the shared files (AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials,
 * AWS_CONFIG_FILE or ~/.aws/config with [profile x] sections; profile from
 * the config file, else AWS_PROFILE, else "default"), then IMDSv2 (token PUT,
 * role name, role credentials; AWS_EC2_METADATA_SERVICE_ENDPOINT overrides
 * http://169.254.169.254, AWS_EC2_METADATA_DISABLED=true skips it).
 * Secrets are wiped when freed and never appear in an error message. */
#ifndef AWS_CREDS_H
#define AWS_CREDS_H

#include "core/buf.h"
#include "core/err.h"

struct aws_creds {
    char *access_key;      /* owned */
    char *secret_key;      /* owned, wiped on release */
    char *session_token;   /* owned, NULL when none, wiped on release */
    char source[64];       /* "environment", "shared-credentials-file:prod",
                            * "config-file:prod", "imds" - for -v */
};

void aws_creds_init(struct aws_creds *c);
void aws_creds_release(struct aws_creds *c);   /* wipes and frees */

/* profile: from [paas] profile, NULL/"" = AWS_PROFILE or "default".
 * Fails (ERR_FAILED) with a sentence naming what was tried when no source
 * has credentials; a malformed shared file is ERR_USAGE naming file:line. */
int aws_creds_resolve(const char *profile, struct aws_creds *out,
                      struct err *e);

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

#endif
