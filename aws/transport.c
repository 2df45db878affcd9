/* The AWS transport (see transport.h): signing, libcurl transfers driven by
 * one multi handle, error documents turned into struct err, and retries.
 * Implements SPEC.md "AWS conventions" (signing, endpoints, retries). */
#include "aws/transport.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "aws/xml.h"
#include "core/util.h"

#define AWS_MAX_RESPONSE (64u * 1024u * 1024u)

/* One request in flight, with everything that must live as long as curl
 * uses it. */
struct aws_transfer {
    const struct aws_request *req;
    struct aws_response *resp;
    struct err *e;
    CURL *easy;
    struct curl_slist *hdrs;
    struct sigv4_state sig;
    struct buf url;
    char curl_err[CURL_ERROR_SIZE];
    int attempt;            /* 1-based */
    long long not_before;   /* ms since start: backoff */
    long long started;      /* ms, for the log line */
    int active, done;
};

int aws_client_init(struct aws_client *c, const struct aws_client_opts *o,
                    struct err *e)
{
    memset(c, 0, sizeof(*c));
    aws_creds_init(&c->creds);
    c->log = o->log;
    c->retry.max_attempts = (int)util_env_long("PAASCTL_MAX_ATTEMPTS", 13, 1, 100);
    c->retry.base_ms = util_env_long("PAASCTL_RETRY_BASE_MS", 500, 1, 60000);
    c->retry.cap_ms = 20000;
    c->timeout_ms = 60000;
    c->max_parallel = 16;
    c->rng = (unsigned long long)time(NULL) ^ ((unsigned long long)getpid() << 32);
    if (aws_region_resolve(o->region, o->profile, c->region, sizeof(c->region), e) < 0)
        return -1;
    for (int s = 0; s < AWS_N_SERVICES; s++)
        if (aws_endpoint_resolve((enum aws_service)s, c->region, o->endpoint,
                                 &c->ep[s], e) < 0)
            return -1;
    if (aws_creds_resolve(o->profile, &c->creds, e) < 0)
        return -1;
    c->share = curl_share_init();
    c->multi = curl_multi_init();
    if (!c->share || !c->multi)
        return err_set(e, ERR_FAILED, "cannot initialise libcurl");
    curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
    curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    return 0;
}

void aws_client_release(struct aws_client *c)
{
    if (c->multi)
        curl_multi_cleanup(c->multi);
    if (c->share)
        curl_share_cleanup(c->share);
    aws_creds_release(&c->creds);
    memset(c, 0, sizeof(*c));
}

void aws_response_init(struct aws_response *r)
{
    memset(r, 0, sizeof(*r));
    buf_init(&r->body);
}

void aws_response_release(struct aws_response *r)
{
    buf_release(&r->body);
    aws_response_init(r);
}

static const char *aws_service_label(enum aws_service s)
{
    static const char *const names[AWS_N_SERVICES] = {
        "ec2", "elb", "s3", "route53", "sts", "iam"
    };
    return (unsigned)s < AWS_N_SERVICES ? names[s] : "aws";
}

/* ---- errors ---------------------------------------------------------- */

int aws_error_from_response(const struct aws_request *req, long status,
                            const char *body, size_t len,
                            const char *request_id, struct err *e)
{
    char code[96] = "", msg[512] = "", rid[128] = "";
    xmlDoc *doc = NULL;
    struct err ignored;
    err_init(&ignored);
    if (len && aws_xml_parse(body, len, &doc, &ignored) == 0) {
        xmlNode *root = xmlDocGetRootElement(doc);
        xmlNode *n;
        if ((n = aws_xml_find(root, "Code")) || (n = aws_xml_child(root, "Code")))
            aws_xml_text(n, "", code, sizeof(code));
        if ((n = aws_xml_find(root, "Message")))
            aws_xml_text(n, "", msg, sizeof(msg));
        if ((n = aws_xml_find(root, "RequestId")) ||
            (n = aws_xml_find(root, "RequestID")))
            aws_xml_text(n, "", rid, sizeof(rid));
        xmlFreeDoc(doc);
    }
    if (!rid[0] && request_id)
        snprintf(rid, sizeof(rid), "%s", request_id);
    if (!code[0])
        snprintf(code, sizeof(code), "%s", status == 404 ? "NotFound" :
                 status == 412 ? "PreconditionFailed" :
                 status == 403 ? "Forbidden" : status >= 500 ? "ServerError" : "");
    err_set(e, ERR_FAILED, "%s %s: HTTP %ld%s%s%s%s (request id %s)",
            aws_service_label(req->svc), req->action ? req->action : req->method,
            status, code[0] ? " " : "", code, msg[0] ? ": " : "", msg,
            rid[0] ? rid : "none");
    snprintf(e->code, sizeof(e->code), "%s", code);
    snprintf(e->request_id, sizeof(e->request_id), "%s", rid);
    e->http_status = status;
    return -1;
}

static int aws_code_in(const char *code, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(code, *list) == 0)
            return 1;
    return 0;
}

/* The server refused before doing anything: always safe to resend. */
static const char *const aws_throttle_codes[] = {
    "Throttling", "ThrottlingException", "ThrottledException",
    "RequestThrottledException", "TooManyRequestsException",
    "ProvisionedThroughputExceededException", "TransactionInProgressException",
    "RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException",
    "RequestThrottled", "SlowDown", "PriorRequestNotComplete",
    "EC2ThrottledException", NULL
};

/* Transient server trouble: safe to resend only an idempotent request. */
static const char *const aws_transient_codes[] = {
    "RequestTimeout", "RequestTimeoutException", "InternalError",
    "InternalFailure", "ServiceUnavailable", "IDPCommunicationError", NULL
};

int aws_error_retryable(const struct aws_request *req, const struct err *e)
{
    if (aws_code_in(e->code, aws_throttle_codes) || e->http_status == 429)
        return 1;
    if (!req->idempotent)
        return 0;
    return e->http_status >= 500 || aws_code_in(e->code, aws_transient_codes);
}

/* A curl failure: a refused connection never reached the server; anything
 * after sending may have been executed, so only idempotent calls go again. */
static int aws_curl_retryable(const struct aws_request *req, CURLcode rc)
{
    switch (rc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
        return 1;
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
        return req->idempotent;
    default:
        return 0;
    }
}

long aws_backoff_ms(struct aws_client *c, int k)
{
    long ceiling = c->retry.base_ms;
    for (int i = 1; i < k && ceiling < c->retry.cap_ms; i++)
        ceiling *= 2;
    if (ceiling > c->retry.cap_ms)
        ceiling = c->retry.cap_ms;
    /* xorshift64: jitter only needs to spread clients apart. */
    c->rng ^= c->rng << 13;
    c->rng ^= c->rng >> 7;
    c->rng ^= c->rng << 17;
    return (long)(c->rng % (unsigned long long)(ceiling + 1));
}

/* ---- one attempt ------------------------------------------------------ */

static size_t aws_write_cb(char *p, size_t size, size_t n, void *ud)
{
    struct aws_transfer *t = ud;
    size_t len = size * n;
    if (t->resp->body.len + len > AWS_MAX_RESPONSE)
        return 0;   /* abort: curl reports CURLE_WRITE_ERROR */
    buf_add(&t->resp->body, p, len);
    return t->resp->body.failed ? 0 : len;
}

static void aws_header_value(const char *line, size_t len, const char *name,
                             char *out, size_t size)
{
    size_t k = strlen(name);
    if (len <= k + 1 || strncasecmp(line, name, k) != 0 || line[k] != ':')
        return;
    line += k + 1;
    len -= k + 1;
    while (len && (*line == ' ' || *line == '\t'))
        line++, len--;
    while (len && (line[len - 1] == '\r' || line[len - 1] == '\n' ||
                   line[len - 1] == ' '))
        len--;
    if (len >= size)
        len = size - 1;
    memcpy(out, line, len);
    out[len] = '\0';
}

static size_t aws_header_cb(char *p, size_t size, size_t n, void *ud)
{
    struct aws_transfer *t = ud;
    size_t len = size * n;
    aws_header_value(p, len, "x-amz-request-id", t->resp->request_id,
                     sizeof(t->resp->request_id));
    aws_header_value(p, len, "x-amzn-RequestId", t->resp->request_id,
                     sizeof(t->resp->request_id));
    aws_header_value(p, len, "ETag", t->resp->etag, sizeof(t->resp->etag));
    return len;
}

/* [prefix]host[:port] of an endpoint URL, as sent in Host and signed. */
static void aws_endpoint_host(const char *url, const char *prefix, char *out,
                              size_t size)
{
    const char *h = strstr(url, "://");
    h = h ? h + 3 : url;
    snprintf(out, size, "%s%.*s", prefix ? prefix : "", (int)strcspn(h, "/"), h);
}

/* scheme://[prefix]host[:port] */
static void aws_endpoint_base(const char *url, const char *prefix,
                              struct buf *out)
{
    const char *h = strstr(url, "://");
    if (!h || !prefix) {
        buf_puts(out, url);
        return;
    }
    buf_add(out, url, (size_t)(h + 3 - url));
    buf_puts(out, prefix);
    buf_puts(out, h + 3);
}

static void aws_add_header(struct aws_transfer *t, const char *name,
                           const char *value)
{
    struct buf line = BUF_INIT;
    struct curl_slist *l;
    buf_printf(&line, "%s: %s", name, value);
    l = curl_slist_append(t->hdrs, buf_str(&line));
    if (l)
        t->hdrs = l;
    buf_release_secret(&line);   /* may be the session token */
}

/* Signs the request with a fresh date and lists the headers to send. */
static int aws_transfer_sign(struct aws_client *c, struct aws_transfer *t)
{
    const struct aws_request *r = t->req;
    const struct aws_endpoint *ep = &c->ep[r->svc];
    struct sigv4_header h[16];
    struct sigv4_request sr;
    struct sigv4_params p;
    char host[256], date[17], payload[65];
    size_t n = 0;
    int s3 = r->svc == AWS_S3;
    time_t now = time(NULL);   /* once: X-Amz-Date and the scope must agree */

    aws_endpoint_host(ep->url, r->host_prefix, host, sizeof(host));
    sigv4_amz_date(now, date);
    sigv4_sha256_hex(r->body, r->body_len, payload);
    h[n++] = (struct sigv4_header){ "Host", host };
    h[n++] = (struct sigv4_header){ "X-Amz-Date", date };
    if (r->content_type)
        h[n++] = (struct sigv4_header){ "Content-Type", r->content_type };
    if (s3)
        h[n++] = (struct sigv4_header){ "x-amz-content-sha256", payload };
    if (c->creds.session_token && *c->creds.session_token)
        h[n++] = (struct sigv4_header){ "X-Amz-Security-Token", c->creds.session_token };
    for (size_t i = 0; i < r->n_headers && n < 16; i++)
        h[n++] = r->headers[i];

    sr = (struct sigv4_request){ r->method, r->path, r->query, h, n,
                                 r->body, r->body_len, payload };
    p = (struct sigv4_params){ c->creds.access_key, c->creds.secret_key,
                               c->creds.session_token, ep->signing_region,
                               ep->signing_name, now, s3, 0 };
    sigv4_state_release(&t->sig);
    sigv4_state_init(&t->sig);
    if (sigv4_sign(&sr, &p, &t->sig, t->e) < 0)
        return -1;
    curl_slist_free_all(t->hdrs);
    t->hdrs = NULL;
    for (size_t i = 0; i < n; i++)
        aws_add_header(t, h[i].name, h[i].value);
    aws_add_header(t, "Authorization", buf_str(&t->sig.authorization));
    t->hdrs = curl_slist_append(t->hdrs, "Expect:");
    return 0;
}

static void aws_transfer_set_method(struct aws_transfer *t)
{
    const struct aws_request *r = t->req;
    if (strcmp(r->method, "HEAD") == 0) {
        curl_easy_setopt(t->easy, CURLOPT_NOBODY, 1L);
    } else if (r->body_len || strcmp(r->method, "POST") == 0 ||
               strcmp(r->method, "PUT") == 0) {
        curl_easy_setopt(t->easy, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)r->body_len);
        curl_easy_setopt(t->easy, CURLOPT_POSTFIELDS, r->body ? r->body : "");
        if (strcmp(r->method, "POST") != 0)
            curl_easy_setopt(t->easy, CURLOPT_CUSTOMREQUEST, r->method);
    } else if (strcmp(r->method, "GET") != 0) {
        curl_easy_setopt(t->easy, CURLOPT_CUSTOMREQUEST, r->method);
    }
}

/* Prepares a fresh easy handle for the next attempt. */
static int aws_transfer_prepare(struct aws_client *c, struct aws_transfer *t)
{
    const struct aws_request *r = t->req;
    aws_response_release(t->resp);
    aws_response_init(t->resp);
    if (aws_transfer_sign(c, t) < 0)
        return -1;
    buf_reset(&t->url);
    aws_endpoint_base(c->ep[r->svc].url, r->host_prefix, &t->url);
    buf_printf(&t->url, "%s%s%s", r->path,
               r->query && *r->query ? "?" : "", r->query ? r->query : "");
    if (!t->easy)
        t->easy = curl_easy_init();
    else
        curl_easy_reset(t->easy);
    if (!t->easy || t->url.failed || !t->hdrs)
        return err_set(t->e, ERR_FAILED, "out of memory preparing %s", r->action);
    curl_easy_setopt(t->easy, CURLOPT_SHARE, c->share);
    curl_easy_setopt(t->easy, CURLOPT_URL, buf_str(&t->url));
    curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, t->hdrs);
    curl_easy_setopt(t->easy, CURLOPT_WRITEFUNCTION, aws_write_cb);
    curl_easy_setopt(t->easy, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(t->easy, CURLOPT_HEADERFUNCTION, aws_header_cb);
    curl_easy_setopt(t->easy, CURLOPT_HEADERDATA, t);
    curl_easy_setopt(t->easy, CURLOPT_ERRORBUFFER, t->curl_err);
    curl_easy_setopt(t->easy, CURLOPT_PRIVATE, t);
    curl_easy_setopt(t->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(t->easy, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(t->easy, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(t->easy, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    curl_easy_setopt(t->easy, CURLOPT_TIMEOUT_MS, c->timeout_ms);
    curl_easy_setopt(t->easy, CURLOPT_PROTOCOLS_STR, "http,https");
    t->curl_err[0] = '\0';
    aws_transfer_set_method(t);
    return 0;
}

/* Judges a finished attempt: 0 done (ok or final error), 1 retry. */
static int aws_transfer_judge(struct aws_client *c, struct aws_transfer *t,
                              CURLcode rc)
{
    const struct aws_request *r = t->req;
    long status = 0;
    int retry;
    if (rc != CURLE_OK) {
        err_set(t->e, ERR_FAILED, "%s %s: %s", aws_service_label(r->svc),
                r->action ? r->action : r->method,
                t->curl_err[0] ? t->curl_err : curl_easy_strerror(rc));
        retry = aws_curl_retryable(r, rc);
    } else {
        curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
        t->resp->status = status;
        if (status >= 200 && status < 300) {
            err_init(t->e);
            return 0;
        }
        aws_error_from_response(r, status, buf_str(&t->resp->body),
                                t->resp->body.len, t->resp->request_id, t->e);
        retry = aws_error_retryable(r, t->e);
        if (retry && (status == 429 || aws_code_in(t->e->code, aws_throttle_codes)))
            c->n.throttled++;
    }
    return retry && t->attempt < c->retry.max_attempts;
}

static void aws_transfer_log(struct aws_client *c, const struct aws_transfer *t)
{
    const struct aws_request *r = t->req;
    log_debug(c->log, 1, "aws %s %s %ld %lld ms retries=%d%s%s",
              aws_service_label(r->svc), r->action ? r->action : r->method,
              t->resp->status, util_now_ms() - t->started, t->attempt - 1,
              t->e->code[0] ? " " : "", t->e->code);
}

static void aws_transfer_release(struct aws_transfer *t)
{
    if (t->easy)
        curl_easy_cleanup(t->easy);
    curl_slist_free_all(t->hdrs);
    sigv4_state_release(&t->sig);
    buf_release(&t->url);
}

/* ---- the multi loop ---------------------------------------------------- */

static int aws_start_ready(struct aws_client *c, struct aws_transfer *ts,
                           size_t n, size_t *in_flight)
{
    long long now = util_now_ms();
    for (size_t i = 0; i < n && *in_flight < (size_t)c->max_parallel; i++) {
        struct aws_transfer *t = &ts[i];
        if (t->done || t->active || t->not_before > now)
            continue;
        if (c->stop && *c->stop) {
            /* Interrupted: what was sent completes, nothing new starts, so
             * a re-run finds a world it can converge. */
            err_set(t->e, ERR_FAILED, "%s %s: interrupted; not sent. Run the command "
                    "again to continue", aws_service_label(t->req->svc), t->req->action);
            t->done = 1;
            continue;
        }
        t->attempt++;
        if (aws_transfer_prepare(c, t) < 0) {
            t->done = 1;
            continue;
        }
        if (t->attempt == 1)
            t->started = now;
        c->n.requests++;
        c->n.bytes_out += (long)t->req->body_len;
        curl_multi_add_handle(c->multi, t->easy);
        t->active = 1;
        (*in_flight)++;
    }
    return 0;
}

static void aws_finish_done(struct aws_client *c, size_t *in_flight)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(c->multi, &left))) {
        struct aws_transfer *t;
        if (m->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&t);
        curl_multi_remove_handle(c->multi, t->easy);
        t->active = 0;
        (*in_flight)--;
        c->n.bytes_in += (long)t->resp->body.len;
        if (aws_transfer_judge(c, t, m->data.result)) {
            c->n.retries++;
            t->not_before = util_now_ms() + aws_backoff_ms(c, t->attempt);
            log_debug(c->log, 2, "aws retry %s after %s", t->req->action, t->e->msg);
        } else {
            t->done = 1;
            aws_transfer_log(c, t);
        }
    }
}

/* How long to poll: until the earliest backoff ends, at most 1 s. */
static int aws_poll_timeout(const struct aws_transfer *ts, size_t n)
{
    long long now = util_now_ms(), wait = 1000;
    for (size_t i = 0; i < n; i++)
        if (!ts[i].done && !ts[i].active && ts[i].not_before - now < wait)
            wait = ts[i].not_before - now;
    return wait < 0 ? 0 : (int)wait;
}

static int aws_all_done(const struct aws_transfer *ts, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!ts[i].done)
            return 0;
    return 1;
}

int aws_send_all(struct aws_client *c, const struct aws_request *reqs,
                 size_t n, struct aws_response *resps, struct err *errs)
{
    struct aws_transfer *ts = calloc(n ? n : 1, sizeof(*ts));
    size_t in_flight = 0;
    int failed = 0;
    if (!ts) {
        for (size_t i = 0; i < n; i++)
            err_set(&errs[i], ERR_FAILED, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        ts[i] = (struct aws_transfer){ .req = &reqs[i], .resp = &resps[i], .e = &errs[i] };
        sigv4_state_init(&ts[i].sig);
        buf_init(&ts[i].url);
        aws_response_init(&resps[i]);
        err_init(&errs[i]);
    }
    while (!aws_all_done(ts, n)) {
        int running;
        aws_start_ready(c, ts, n, &in_flight);
        curl_multi_perform(c->multi, &running);
        aws_finish_done(c, &in_flight);
        if (!aws_all_done(ts, n))
            curl_multi_poll(c->multi, NULL, 0, in_flight ? 100 : aws_poll_timeout(ts, n), NULL);
    }
    for (size_t i = 0; i < n; i++) {
        failed |= errs[i].kind != ERR_NONE;
        aws_transfer_release(&ts[i]);
    }
    free(ts);
    return failed ? -1 : 0;
}

int aws_send(struct aws_client *c, const struct aws_request *req,
             struct aws_response *resp, struct err *e)
{
    return aws_send_all(c, req, 1, resp, e);
}
