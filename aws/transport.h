/* The AWS client and its transport (SPEC.md "AWS conventions"): the AWS
 * driver of the request engine (core/http.h). Every request SigV4-signed
 * afresh per attempt, TLS verification always on, connections shared and
 * kept alive, retried per the SDK "standard" idea (throttling always;
 * transient errors and timeouts only when idempotent; full-jitter backoff
 * under a cap), and a non-idempotent call never re-sent, not even by
 * libcurl on a reused connection. With -v, one log line per request. */
#ifndef AWS_TRANSPORT_H
#define AWS_TRANSPORT_H

#include <time.h>
#include "aws/creds.h"
#include "aws/sigv4.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/http.h"
#include "core/log.h"

/* The retry policy: 13 attempts (throttling at scale lasts minutes, as
 * kops found), backoff from 500 ms capped at 20 s. */
#define AWS_MAX_ATTEMPTS 13
#define AWS_RETRY_BASE_MS 500L
#define AWS_RETRY_CAP_MS 20000L

struct aws_client {
    struct aws_creds creds;
    char region[32];
    struct aws_endpoint ep[AWS_N_SERVICES];
    const struct logger *log;          /* borrowed */
    struct http_counters n;
    struct http_engine http;           /* requests in flight, retries; its
                                        * stop pointer, when it points at
                                        * non-zero (Ctrl-C), lets no new
                                        * request start */
    time_t (*clock)(void);             /* wall clock for X-Amz-Date */
    char profile[128];                 /* [paas] profile, "" = none: for
                                        * re-resolving expired credentials */
    unsigned creds_gen;                /* bumped each time creds change */
    char account[16];                  /* the caller's account (STS), asked once
                                        * by the first S3 call: every S3 call
                                        * names it as the expected owner */
};

struct aws_client_opts {
    const char *profile;       /* [paas] profile or NULL */
    const char *region;        /* [paas] region or NULL */
    const char *endpoint;      /* [paas] endpoint or NULL */
    const struct logger *log;
    int max_attempts;          /* 0 = AWS_MAX_ATTEMPTS */
    long retry_base_ms;        /* 0 = AWS_RETRY_BASE_MS */
    time_t (*clock)(void);     /* NULL = env_wall_clock */
};

/* Resolves credentials, region and every endpoint. The retry policy comes
 * from o (cmd/ reads PAASCTL_MAX_ATTEMPTS / PAASCTL_RETRY_BASE_MS into it;
 * tests shorten waits with them). */
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
    const struct sigv4_header *headers;   /* extra headers, signed too; more
                                           * than fit (AWS_MAX_EXTRA_HEADERS)
                                           * is an error, never a cut */
    size_t n_headers;
    const char *action;          /* for log lines and errors: "DescribeVpcs" */
    int idempotent;              /* safe to resend after a 5xx or timeout */
    const char *host_prefix;     /* S3 virtual-hosted style: "bucket." is put
                                  * before the endpoint's host; NULL = none */
};

/* A listing longer than this many pages is an error, never a cut. */
#define AWS_MAX_PAGES 10000

#define AWS_MAX_EXTRA_HEADERS 11   /* 16 signed headers, 5 of them ours */
#define AWS_MAX_RESPONSE ((size_t)64 * 1024 * 1024)

struct aws_response {
    long status;
    struct buf body;             /* owned; at most AWS_MAX_RESPONSE */
    char request_id[128];
    char etag[130];
};

void aws_response_init(struct aws_response *r);
void aws_response_release(struct aws_response *r);

/* Sends one request. A non-2xx answer is an error: e gets the HTTP status,
 * the AWS code, message and request id, and resp still holds the body. */
int aws_send(struct aws_client *c, const struct aws_request *req,
             struct aws_response *resp, struct err *e);

/* Sends n independent requests in parallel (at most 16 in flight), each
 * retried on its own. resps[i] and errs[i] belong to reqs[i].
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
/* 1 if a failed call may have been executed (err.uncertain): sent, then a
 * reset, timeout or 5xx; 0 if certainly not: never connected, throttled,
 * or refused with 4xx. rc is curl's result (CURLE_OK: e is an answer). */
int aws_error_uncertain(const struct err *e, CURLcode rc);

/* Full-jitter backoff before attempt k (1-based retry count), in ms
 * (http_backoff_ms with the AWS policy). */
long aws_backoff_ms(struct aws_client *c, int k);

#endif
