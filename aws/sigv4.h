/* AWS Signature Version 4, in stages over one state struct (aws-c-auth's
 * shape): canonical request -> string to sign -> signature -> Authorization.
 * Each stage is testable alone against the official test suite; the signing
 * time is a parameter. Pure: no I/O, no globals. */
#ifndef AWS_SIGV4_H
#define AWS_SIGV4_H

#include <stddef.h>
#include <time.h>
#include "core/buf.h"
#include "core/err.h"

struct sigv4_header {
    const char *name;    /* any case; lower-cased when signed */
    const char *value;   /* raw; trimmed and inner runs of spaces folded */
};

struct sigv4_request {
    const char *method;             /* "GET", "POST", ... */
    const char *path;               /* as sent on the wire, e.g. "/a%20b/" */
    const char *query;              /* as sent, without '?', may be NULL/"" */
    const struct sigv4_header *headers;  /* every header to sign, incl. host
                                          * and x-amz-date */
    size_t n_headers;
    const void *body;               /* may be NULL when body_len is 0 */
    size_t body_len;
    const char *payload_hash;       /* NULL: hex sha256(body); else used as
                                     * given, e.g. "UNSIGNED-PAYLOAD" */
};

struct sigv4_params {
    const char *access_key;
    const char *secret_key;         /* never copied into any output buffer */
    const char *session_token;      /* NULL/"" when none */
    const char *region;
    const char *service;            /* "ec2", "s3", "elasticloadbalancing"... */
    time_t when;                    /* signing time, UTC */
    int s3_path_rules;              /* 1 for S3: path neither normalized nor
                                     * encoded a second time */
    int session_token_unsigned;     /* presign only: 1 = put
                                     * X-Amz-Security-Token in the query after
                                     * signing, unsigned (the few services that
                                     * want it so); 0 = sign it (the usual) */
};

/* The session token and header signing: sigv4_sign() signs exactly
 * req->headers and never adds one, so the caller decides. To sign the token
 * (most services), put "X-Amz-Security-Token" in req->headers; to send it
 * unsigned, add it to the outgoing request only after signing. params'
 * session_token is used by sigv4_presign_query() alone. */

/* All outputs of the stages. Owned by the caller; sigv4_state_release()
 * frees and wipes it. */
struct sigv4_state {
    char amz_date[17];              /* "20150830T123600Z" */
    char scope[128];                /* "20150830/us-east-1/service/aws4_request" */
    char signed_headers[1024];      /* "host;x-amz-date" */
    struct buf canonical_request;
    struct buf string_to_sign;
    char signature[65];             /* lower-case hex */
    struct buf authorization;       /* full Authorization header value */
};

void sigv4_state_init(struct sigv4_state *st);
void sigv4_state_release(struct sigv4_state *st);

/* Stage 1: fills amz_date, scope, signed_headers, canonical_request. */
int sigv4_canonical_request(const struct sigv4_request *req,
                            const struct sigv4_params *p,
                            struct sigv4_state *st, struct err *e);
/* Stage 2: fills string_to_sign from canonical_request. */
int sigv4_string_to_sign(const struct sigv4_params *p, struct sigv4_state *st,
                         struct err *e);
/* Stage 3: derives the key (HMAC-SHA256 chain, wiped after use) and fills
 * signature and authorization. */
int sigv4_signature(const struct sigv4_params *p, struct sigv4_state *st,
                    struct err *e);
/* All three stages. */
int sigv4_sign(const struct sigv4_request *req, const struct sigv4_params *p,
               struct sigv4_state *st, struct err *e);

/* Query-string signing (presigned URL): given the request WITHOUT auth
 * parameters, appends X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date,
 * X-Amz-Expires, X-Amz-SignedHeaders (and X-Amz-Security-Token) to the
 * query, signs, and writes the full signed query (incl. X-Amz-Signature)
 * into out. st holds the stages as for header signing. req->headers are
 * signed as given (host at least; no X-Amz-Date, it goes in the query); the
 * payload hash follows the same rule as header signing (S3 presigned URLs
 * pass "UNSIGNED-PAYLOAD"). expires_s is 1..604800. out is reset first and
 * left empty on failure. */
int sigv4_presign_query(const struct sigv4_request *req,
                        const struct sigv4_params *p, long expires_s,
                        struct sigv4_state *st, struct buf *out, struct err *e);

/* Hex SHA-256 of data into out (65 bytes). */
void sigv4_sha256_hex(const void *data, size_t len, char out[65]);
/* "20150830T123600Z" for t. */
void sigv4_amz_date(time_t t, char out[17]);

#endif
