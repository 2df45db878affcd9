/* AWS credentials (SPEC.md "AWS conventions"); regions and endpoints are
 * in aws/endpoint.h, included here for the callers of both.
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
#include "aws/endpoint.h"

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

/* The region the shared config file gives profile (NULL/"" = AWS_PROFILE
 * or "default"): 0 with out and what ("FILE [profile]") filled, 1 when it
 * names none, -1 on a malformed file. Unchecked: aws_region_resolve checks. */
int aws_profile_region(const char *profile, char *out, size_t size, char *what,
                       size_t what_size, struct err *e);

#endif
