/* AWS Signature Version 4 (SPEC.md "AWS conventions": every request is
 * SigV4-signed) for Authorization headers and presigned query strings, in
 * stages over struct sigv4_state; checked against AWS's suites in
 * tests/unit/test_sigv4.c. Hashing and HMAC are OpenSSL's. */
#include "aws/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIGV4_ALGORITHM "AWS4-HMAC-SHA256"
#define SIGV4_SECRET_MAX 256      /* real secrets are 40 bytes */
#define SIGV4_EXPIRES_MAX 604800L /* seven days: AWS's presign limit */

/* One header in the sorted view of req->headers; idx keeps the sort stable
 * so repeated headers keep their order when their values are joined. */
struct sigv4_hdr_ref {
    const struct sigv4_header *h;
    size_t idx;
};

/* One canonical query parameter: "key=value", both already encoded. */
struct sigv4_param {
    char *kv;
    size_t klen;
};

/* ---- small helpers ---- */

static void sigv4_hex(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

void sigv4_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    /* An empty body may come as NULL; EVP wants a pointer either way. */
    if (!EVP_Digest(data ? data : "", len, md, &n, EVP_sha256(), NULL) ||
        n != 32) {
        out[0] = '\0';
        return;
    }
    sigv4_hex(md, 32, out);
}

void sigv4_amz_date(time_t t, char out[17])
{
    struct tm tm;
    if (!gmtime_r(&t, &tm) || strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm) != 16)
        out[0] = '\0';
}

static int sigv4_hmac(const void *key, size_t klen, const void *msg,
                      size_t mlen, unsigned char out[32])
{
    unsigned int n = 0;
    if (!HMAC(EVP_sha256(), key, (int)klen, msg, mlen, out, &n) || n != 32)
        return -1;
    return 0;
}

static int sigv4_lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* ASCII-only and locale-free, unlike strcasecmp: header names are tokens. */
static int sigv4_name_cmp(const char *a, const char *b)
{
    while (*a && sigv4_lower((unsigned char)*a) == sigv4_lower((unsigned char)*b))
        a++, b++;
    return sigv4_lower((unsigned char)*a) - sigv4_lower((unsigned char)*b);
}

static int sigv4_hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decodes s[0..n) and encodes the result once, so the raw ("a b")
 * and the pre-encoded ("a%20b") forms come out alike; a '%' not followed by
 * two hex digits is taken literally. '+' is a literal too (not form
 * encoding), as AWS reads it. */
static void sigv4_add_reencoded(struct buf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int hi, lo;
        if (c == '%' && i + 2 < n && (hi = sigv4_hexval(s[i + 1])) >= 0 &&
            (lo = sigv4_hexval(s[i + 2])) >= 0) {
            c = (char)(hi << 4 | lo);
            i += 2;
        }
        buf_uri_encode(b, &c, 1, 0);
    }
}

static int sigv4_oom(struct err *e)
{
    return err_set(e, ERR_FAILED, "sigv4: out of memory");
}

/* ---- canonical path ---- */

/* S3: the path is the object key as sent; '/' runs and dot segments are
 * part of the key, so each segment is only brought to canonical encoding. */
static void sigv4_add_s3_path(struct buf *b, const char *path)
{
    for (;;) {
        const char *slash = strchr(path, '/');
        size_t n = slash ? (size_t)(slash - path) : strlen(path);
        sigv4_add_reencoded(b, path, n);
        if (!slash)
            return;
        buf_putc(b, '/');
        path = slash + 1;
    }
}

/* Drops the last "/segment" written since base (a ".." segment). */
static void sigv4_pop_segment(struct buf *b, size_t base)
{
    if (!b->data)
        return;
    while (b->len > base && b->data[--b->len] != '/')
        ;
    b->data[b->len] = '\0';
}

/* Every other service: empty and "." segments dropped, ".." resolved (RFC
 * 3986 section 5.2.4), then each segment encoded as it stands - the wire
 * form is encoded again, which is AWS's double encoding. */
static void sigv4_add_normalized_path(struct buf *b, const char *path)
{
    size_t base = b->len;
    int trailing = 0;
    for (const char *s = path + 1;;) {
        const char *slash = strchr(s, '/');
        size_t n = slash ? (size_t)(slash - s) : strlen(s);
        int dot = n == 1 && s[0] == '.', dotdot = n == 2 && !strncmp(s, "..", 2);
        trailing = n == 0 || dot || dotdot;
        if (dotdot) {
            sigv4_pop_segment(b, base);
        } else if (!trailing) {
            buf_putc(b, '/');
            buf_uri_encode(b, s, n, 0);
        }
        if (!slash)
            break;
        s = slash + 1;
    }
    if (b->len == base || trailing)
        buf_putc(b, '/');
}

/* ---- canonical query ---- */

static int sigv4_param_cmp(const void *a, const void *b)
{
    const struct sigv4_param *x = a, *y = b;
    size_t n = x->klen < y->klen ? x->klen : y->klen;
    int c = memcmp(x->kv, y->kv, n);
    if (c)
        return c;
    if (x->klen != y->klen)
        return x->klen < y->klen ? -1 : 1;
    return strcmp(x->kv + x->klen + 1, y->kv + y->klen + 1);
}

/* Encodes one "key[=value]" piece into a new param; no '=' means "". */
static int sigv4_param_make(const char *s, size_t n, struct sigv4_param *out)
{
    const char *eq = memchr(s, '=', n);
    size_t klen = eq ? (size_t)(eq - s) : n;
    struct buf t = BUF_INIT;
    sigv4_add_reencoded(&t, s, klen);
    out->klen = t.len;
    buf_putc(&t, '=');
    if (eq)
        sigv4_add_reencoded(&t, eq + 1, n - klen - 1);
    out->kv = buf_detach(&t);
    return out->kv ? 0 : -1;
}

/* Splits q at '&' into params (empty pieces skipped). *np counts the
 * entries to free, also on failure. */
static int sigv4_params_split(const char *q, struct sigv4_param **out,
                              size_t *np)
{
    size_t cap = 1;
    *np = 0;
    for (const char *s = q; *s; s++)
        cap += *s == '&';
    *out = calloc(cap, sizeof(**out));
    if (!*out)
        return -1;
    for (const char *s = q; *s;) {
        size_t len = strcspn(s, "&");
        if (len && sigv4_param_make(s, len, &(*out)[(*np)++]) < 0)
            return -1;
        s += len + (s[len] == '&');
    }
    return 0;
}

static void sigv4_params_free(struct sigv4_param *ps, size_t n)
{
    for (size_t i = 0; ps && i < n; i++)
        free(ps[i].kv);
    free(ps);
}

/* Sorted by encoded key, then encoded value (byte order, as AWS does). */
static int sigv4_add_query(struct buf *b, const char *q, struct err *e)
{
    struct sigv4_param *ps = NULL;
    size_t n = 0;
    if (sigv4_params_split(q ? q : "", &ps, &n) < 0) {
        sigv4_params_free(ps, n);
        return sigv4_oom(e);
    }
    qsort(ps, n, sizeof(*ps), sigv4_param_cmp);
    for (size_t i = 0; i < n; i++) {
        if (i)
            buf_putc(b, '&');
        buf_puts(b, ps[i].kv);
    }
    sigv4_params_free(ps, n);
    return 0;
}

/* ---- canonical headers ---- */

static int sigv4_hdr_cmp(const void *a, const void *b)
{
    const struct sigv4_hdr_ref *x = a, *y = b;
    int c = sigv4_name_cmp(x->h->name, y->h->name);
    if (c)
        return c;
    return (x->idx > y->idx) - (x->idx < y->idx);
}

static int sigv4_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Trims the value and folds every run of white space, line breaks of
 * folded (obs-fold) header lines included, into one space. */
static void sigv4_add_trimmed(struct buf *b, const char *v)
{
    int any = 0, pending = 0;
    for (; *v; v++) {
        if (sigv4_is_space(*v)) {
            pending = any;
            continue;
        }
        if (pending)
            buf_putc(b, ' ');
        pending = 0;
        any = 1;
        buf_putc(b, *v);
    }
}

static void sigv4_add_lower(struct buf *b, const char *s)
{
    for (; *s; s++)
        buf_putc(b, (char)sigv4_lower((unsigned char)*s));
}

/* "name:v1,v2\n" per distinct name; repeated headers joined in order. */
static void sigv4_add_headers(struct buf *b, const struct sigv4_hdr_ref *r,
                              size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int first = i == 0 || sigv4_name_cmp(r[i - 1].h->name, r[i].h->name);
        if (first && i)
            buf_putc(b, '\n');
        if (first) {
            sigv4_add_lower(b, r[i].h->name);
            buf_putc(b, ':');
        } else {
            buf_putc(b, ',');
        }
        sigv4_add_trimmed(b, r[i].h->value);
    }
    if (n)
        buf_putc(b, '\n');
}

static int sigv4_fill_signed_headers(const struct sigv4_hdr_ref *r, size_t n,
                                     struct sigv4_state *st, struct err *e)
{
    struct buf t = BUF_INIT;
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        if (i && !sigv4_name_cmp(r[i - 1].h->name, r[i].h->name))
            continue;
        if (i)
            buf_putc(&t, ';');
        sigv4_add_lower(&t, r[i].h->name);
    }
    if (t.failed)
        rc = sigv4_oom(e);
    else if (t.len >= sizeof(st->signed_headers))
        rc = err_set(e, ERR_FAILED, "sigv4: too many signed headers");
    else
        memcpy(st->signed_headers, buf_str(&t), t.len + 1);
    buf_release(&t);
    return rc;
}

/* Sorts the headers (the caller frees *out) and fills st->signed_headers. */
static int sigv4_headers_prepare(const struct sigv4_request *req,
                                 struct sigv4_state *st,
                                 struct sigv4_hdr_ref **out, struct err *e)
{
    struct sigv4_hdr_ref *r = calloc(req->n_headers, sizeof(*r));
    if (!r) {
        sigv4_oom(e);
        return -1;   /* spelled out: *out must never be read as set */
    }
    for (size_t i = 0; i < req->n_headers; i++) {
        r[i].h = &req->headers[i];
        r[i].idx = i;
    }
    qsort(r, req->n_headers, sizeof(*r), sigv4_hdr_cmp);
    if (sigv4_fill_signed_headers(r, req->n_headers, st, e) < 0) {
        free(r);
        return -1;
    }
    *out = r;
    return 0;
}

/* ---- stage 1 ---- */

static int sigv4_check_request(const struct sigv4_request *req, struct err *e)
{
    if (!req->method || !*req->method || !req->path || req->path[0] != '/')
        return err_set(e, ERR_USAGE,
                       "sigv4: a method and a path starting with '/' are required");
    if (!req->headers || !req->n_headers)
        return err_set(e, ERR_USAGE, "sigv4: no headers to sign (host is required)");
    for (size_t i = 0; i < req->n_headers; i++)
        if (!req->headers[i].name || !*req->headers[i].name ||
            !req->headers[i].value)
            return err_set(e, ERR_USAGE, "sigv4: header %zu has no name or value", i);
    if (req->body_len && !req->body)
        return err_set(e, ERR_USAGE, "sigv4: body_len without a body");
    return 0;
}

/* amz_date and scope, from the signing time and the credential's place. */
static int sigv4_scope(const struct sigv4_params *p, struct sigv4_state *st,
                       struct err *e)
{
    int n;
    if (!p->access_key || !*p->access_key || !p->secret_key ||
        !*p->secret_key || !p->region || !*p->region || !p->service ||
        !*p->service)
        return err_set(e, ERR_USAGE,
                       "sigv4: access key, secret key, region and service are required");
    sigv4_amz_date(p->when, st->amz_date);
    if (!st->amz_date[0])
        return err_set(e, ERR_FAILED, "sigv4: signing time out of range");
    n = snprintf(st->scope, sizeof(st->scope), "%.8s/%s/%s/aws4_request",
                 st->amz_date, p->region, p->service);
    if (n < 0 || (size_t)n >= sizeof(st->scope))
        return err_set(e, ERR_USAGE, "sigv4: region or service name too long");
    return 0;
}

static int sigv4_build_creq(const struct sigv4_request *req,
                            const struct sigv4_params *p,
                            const struct sigv4_hdr_ref *refs,
                            struct sigv4_state *st, struct err *e)
{
    struct buf *b = &st->canonical_request;
    char body_hash[65];
    buf_reset(b);
    buf_puts(b, req->method);
    buf_putc(b, '\n');
    if (p->s3_path_rules)
        sigv4_add_s3_path(b, req->path);
    else
        sigv4_add_normalized_path(b, req->path);
    buf_putc(b, '\n');
    if (sigv4_add_query(b, req->query, e) < 0)
        return -1;
    buf_putc(b, '\n');
    sigv4_add_headers(b, refs, req->n_headers);
    buf_putc(b, '\n');
    buf_puts(b, st->signed_headers);
    buf_putc(b, '\n');
    if (req->payload_hash) {
        buf_puts(b, req->payload_hash);
    } else {
        sigv4_sha256_hex(req->body, req->body_len, body_hash);
        if (!body_hash[0])
            return err_set(e, ERR_FAILED, "sigv4: SHA-256 failed");
        buf_puts(b, body_hash);
    }
    return b->failed ? sigv4_oom(e) : 0;
}

int sigv4_canonical_request(const struct sigv4_request *req,
                            const struct sigv4_params *p,
                            struct sigv4_state *st, struct err *e)
{
    struct sigv4_hdr_ref *refs = NULL;
    int rc;
    if (sigv4_check_request(req, e) < 0 || sigv4_scope(p, st, e) < 0 ||
        sigv4_headers_prepare(req, st, &refs, e) < 0)
        return -1;
    rc = sigv4_build_creq(req, p, refs, st, e);
    free(refs);
    return rc;
}

/* ---- stages 2 and 3 ---- */

int sigv4_string_to_sign(const struct sigv4_params *p, struct sigv4_state *st,
                         struct err *e)
{
    char h[65];
    (void)p; /* everything it needs is already in st */
    if (!st->canonical_request.len || !st->scope[0])
        return err_set(e, ERR_FAILED, "sigv4: no canonical request to sign");
    sigv4_sha256_hex(st->canonical_request.data, st->canonical_request.len, h);
    if (!h[0])
        return err_set(e, ERR_FAILED, "sigv4: SHA-256 failed");
    buf_reset(&st->string_to_sign);
    buf_printf(&st->string_to_sign, "%s\n%s\n%s\n%s", SIGV4_ALGORITHM,
               st->amz_date, st->scope, h);
    return st->string_to_sign.failed ? sigv4_oom(e) : 0;
}

/* kSigning = HMAC chain over date, region, service, "aws4_request",
 * starting from "AWS4" + secret. Every intermediate lives on this stack
 * frame and is wiped before returning. */
static int sigv4_signing_key(const struct sigv4_params *p,
                             const struct sigv4_state *st, unsigned char key[32])
{
    const char *parts[4] = { st->amz_date, p->region, p->service, "aws4_request" };
    size_t lens[4] = { 8, strlen(p->region), strlen(p->service), 12 };
    char secret[4 + SIGV4_SECRET_MAX + 1];
    unsigned char cur[32], next[32];
    size_t slen = strlen(p->secret_key);
    int rc = 0;
    if (slen > SIGV4_SECRET_MAX)
        return -1;
    snprintf(secret, sizeof(secret), "AWS4%s", p->secret_key);
    rc |= sigv4_hmac(secret, 4 + slen, parts[0], lens[0], cur);
    for (int i = 1; i < 4; i++) {
        rc |= sigv4_hmac(cur, 32, parts[i], lens[i], next);
        memcpy(cur, next, 32);
    }
    memcpy(key, cur, 32);
    explicit_bzero(secret, sizeof(secret));
    explicit_bzero(cur, sizeof(cur));
    explicit_bzero(next, sizeof(next));
    return rc ? -1 : 0;
}

int sigv4_signature(const struct sigv4_params *p, struct sigv4_state *st,
                    struct err *e)
{
    unsigned char key[32], mac[32];
    int rc;
    if (!st->string_to_sign.len)
        return err_set(e, ERR_FAILED, "sigv4: no string to sign");
    if (!p->secret_key || !p->access_key || !p->region || !p->service)
        return err_set(e, ERR_USAGE, "sigv4: no credentials or scope");
    rc = sigv4_signing_key(p, st, key);
    if (rc == 0)
        rc = sigv4_hmac(key, 32, st->string_to_sign.data,
                        st->string_to_sign.len, mac);
    explicit_bzero(key, sizeof(key));
    if (rc < 0)
        return err_set(e, ERR_FAILED, "sigv4: HMAC failed (secret key too long?)");
    sigv4_hex(mac, 32, st->signature);
    buf_reset(&st->authorization);
    buf_printf(&st->authorization,
               "%s Credential=%s/%s, SignedHeaders=%s, Signature=%s",
               SIGV4_ALGORITHM, p->access_key, st->scope, st->signed_headers,
               st->signature);
    return st->authorization.failed ? sigv4_oom(e) : 0;
}

int sigv4_sign(const struct sigv4_request *req, const struct sigv4_params *p,
               struct sigv4_state *st, struct err *e)
{
    if (sigv4_canonical_request(req, p, st, e) < 0 ||
        sigv4_string_to_sign(p, st, e) < 0 || sigv4_signature(p, st, e) < 0)
        return -1;
    return 0;
}

/* ---- presigned query ---- */

/* Appends "&k=v" ("k=v" to an empty buffer) with v encoded. */
static void sigv4_add_query_param(struct buf *b, const char *k, const char *v)
{
    buf_printf(b, "%s%s=", b->len ? "&" : "", k);
    buf_uri_encode(b, v, strlen(v), 0);
}

/* The request's query and the auth parameters, in the order AWS's suite
 * writes them (the canonical query sorts them anyway). */
static void sigv4_add_auth_params(struct buf *out, const char *query,
                                  const struct sigv4_params *p,
                                  const struct sigv4_state *st, long expires_s)
{
    char num[24];
    buf_puts(out, query ? query : "");
    sigv4_add_query_param(out, "X-Amz-Algorithm", SIGV4_ALGORITHM);
    sigv4_add_query_param(out, "X-Amz-Credential", p->access_key);
    buf_puts(out, "%2F");
    buf_uri_encode(out, st->scope, strlen(st->scope), 0);
    sigv4_add_query_param(out, "X-Amz-Date", st->amz_date);
    sigv4_add_query_param(out, "X-Amz-SignedHeaders", st->signed_headers);
    snprintf(num, sizeof(num), "%ld", expires_s);
    sigv4_add_query_param(out, "X-Amz-Expires", num);
    if (p->session_token && *p->session_token && !p->session_token_unsigned)
        sigv4_add_query_param(out, "X-Amz-Security-Token", p->session_token);
}

/* Stage 1 for a presigned request: the auth parameters join the query. */
static int sigv4_presign_creq(const struct sigv4_request *req,
                              const struct sigv4_params *p, long expires_s,
                              struct sigv4_state *st, struct buf *out,
                              struct err *e)
{
    struct sigv4_hdr_ref *refs = NULL;
    struct sigv4_request signed_req = *req;
    int rc;
    if (sigv4_check_request(req, e) < 0 || sigv4_scope(p, st, e) < 0 ||
        sigv4_headers_prepare(req, st, &refs, e) < 0)
        return -1;
    sigv4_add_auth_params(out, req->query, p, st, expires_s);
    signed_req.query = buf_str(out);
    rc = out->failed ? sigv4_oom(e) : sigv4_build_creq(&signed_req, p, refs, st, e);
    free(refs);
    return rc;
}

int sigv4_presign_query(const struct sigv4_request *req,
                        const struct sigv4_params *p, long expires_s,
                        struct sigv4_state *st, struct buf *out, struct err *e)
{
    buf_reset(out);
    if (expires_s < 1 || expires_s > SIGV4_EXPIRES_MAX)
        return err_set(e, ERR_USAGE, "sigv4: presign expiry %ld is not 1..%ld seconds",
                       expires_s, SIGV4_EXPIRES_MAX);
    if (sigv4_presign_creq(req, p, expires_s, st, out, e) < 0 ||
        sigv4_string_to_sign(p, st, e) < 0 || sigv4_signature(p, st, e) < 0) {
        buf_reset(out);
        return -1;
    }
    if (p->session_token && *p->session_token && p->session_token_unsigned)
        sigv4_add_query_param(out, "X-Amz-Security-Token", p->session_token);
    sigv4_add_query_param(out, "X-Amz-Signature", st->signature);
    if (out->failed) {
        buf_reset(out);
        return sigv4_oom(e);
    }
    return 0;
}

/* ---- state ---- */

void sigv4_state_init(struct sigv4_state *st)
{
    memset(st, 0, sizeof(*st));
}

void sigv4_state_release(struct sigv4_state *st)
{
    buf_release_secret(&st->canonical_request);
    buf_release_secret(&st->string_to_sign);
    buf_release_secret(&st->authorization);
    explicit_bzero(st, sizeof(*st));
}
