/* The AWS client and its transport (SPEC.md "AWS conventions"): every request
 * SigV4-signed, sent over libcurl with TLS verification always on, connections
 * shared and kept alive, retried per the SDK "standard" idea (throttling and
 * transient errors, exponential backoff with full jitter, a cap), and never
 * retried blindly when not idempotent. With -v, one log line per request. */
#ifndef AWS_TRANSPORT_H
#define AWS_TRANSPORT_H

#include <curl/curl.h>
#include <signal.h>
#include "aws/creds.h"
#include "aws/sigv4.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/log.h"

struct aws_counters {
    long requests;       /* HTTP exchanges, retries included */
    long retries;
    long throttled;
    long bytes_out;
    long bytes_in;
};

struct aws_retry_policy {
    int max_attempts;    /* 13: throttling at scale lasts minutes (kops) */
    long base_ms;        /* first backoff ceiling */
    long cap_ms;         /* backoff ceiling cap */
};

struct aws_client {
    struct aws_creds creds;
    char region[32];
    struct aws_endpoint ep[AWS_N_SERVICES];
    const struct logger *log;          /* borrowed */
    struct aws_retry_policy retry;
    struct aws_counters n;
    long timeout_ms;                   /* per attempt */
    int max_parallel;                  /* transfers in flight at once */
    CURLSH *share;                     /* connection cache, DNS */
    CURLM *multi;
    unsigned long long rng;            /* jitter only; not for secrets */
    char account[16];                  /* the caller's account (STS), asked once
                                        * by the first S3 call: every S3 call
                                        * names it as the expected owner */
    volatile sig_atomic_t *stop;       /* when it points at non-zero (Ctrl-C),
                                        * no new request starts; those in
                                        * flight finish. NULL = never. */
};

struct aws_client_opts {
    const char *profile;       /* [paas] profile or NULL */
    const char *region;        /* [paas] region or NULL */
    const char *endpoint;      /* [paas] endpoint or NULL */
    const struct logger *log;
};

/* Resolves credentials, region and every endpoint. The retry policy starts
 * from its defaults, which PAASCTL_RETRY_BASE_MS / PAASCTL_MAX_ATTEMPTS
 * override (tests shorten waits with them). */
int aws_client_init(struct aws_client *c, const struct aws_client_opts *o,
                    struct err *e);
void aws_client_release(struct aws_client *c);

struct aws_request {
    enum aws_service svc;
    const char *method;          /* "GET", "POST", "PUT", "DELETE", "HEAD" */
    const char *path;            /* URI-encoded, starts with '/' */
    const char *query;           /* URI-encoded, no '?', NULL = none */
    const char *content_type;    /* NULL = none */
    const void *body;
    size_t body_len;
    const struct sigv4_header *headers;   /* extra headers, signed too */
    size_t n_headers;
    const char *action;          /* for log lines and errors: "DescribeVpcs" */
    int idempotent;              /* safe to resend after a 5xx or timeout */
    const char *host_prefix;     /* S3 virtual-hosted style: "bucket." is put
                                  * before the endpoint's host; NULL = none */
};

struct aws_response {
    long status;
    struct buf body;             /* owned */
    char request_id[128];
    char etag[130];
};

void aws_response_init(struct aws_response *r);
void aws_response_release(struct aws_response *r);

/* Sends one request. A non-2xx answer is an error: e gets the HTTP status,
 * the AWS code, message and request id, and resp still holds the body. */
int aws_send(struct aws_client *c, const struct aws_request *req,
             struct aws_response *resp, struct err *e);

/* Sends n independent requests in parallel (at most c->max_parallel in
 * flight), each retried on its own. resps[i] and errs[i] belong to reqs[i].
 * Returns 0 when all succeeded, else -1 (look at each errs[i].kind). */
int aws_send_all(struct aws_client *c, const struct aws_request *reqs,
                 size_t n, struct aws_response *resps, struct err *errs);

/* Fills e from an AWS error document (any of the EC2, Query, S3 and Route53
 * shapes) or, if body is not XML, from the status alone. Returns -1. */
int aws_error_from_response(const struct aws_request *req, long status,
                            const char *body, size_t len,
                            const char *request_id, struct err *e);

/* 1 if this error is worth retrying for this request. */
int aws_error_retryable(const struct aws_request *req, const struct err *e);

/* Full-jitter backoff before attempt k (1-based retry count), in ms. */
long aws_backoff_ms(struct aws_client *c, int k);

#endif
