/* The AWS driver of the request engine (see transport.h): signing before
 * each attempt, error documents turned into struct err, and the AWS rules
 * for what is retried. Implements SPEC.md "AWS conventions" (signing,
 * endpoints, retries). */
#include "aws/transport.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "aws/xml.h"
#include "core/env.h"
#include "core/util.h"

/* One request's AWS side, beside its struct http_xfer. */
struct aws_transfer {
    struct aws_client *c;
    const struct aws_request *req;
    struct aws_response *resp;
    struct sigv4_state sig;
    struct buf url;
    char what[128];         /* "ec2 DescribeVpcs", for messages */
    unsigned creds_gen;     /* the credentials the last attempt was signed with */
    int creds_renewed;      /* this request already asked for fresh ones */
};

static const struct http_driver aws_driver;

int aws_client_init(struct aws_client *c, const struct aws_client_opts *o,
                    struct err *e)
{
    struct http_engine_opts ho = { 16, 0, 60000, 10000, {
        o->max_attempts > 0 ? o->max_attempts : AWS_MAX_ATTEMPTS,
        o->retry_base_ms > 0 ? o->retry_base_ms : AWS_RETRY_BASE_MS, AWS_RETRY_CAP_MS } };
    memset(c, 0, sizeof(*c));
    aws_creds_init(&c->creds);
    c->log = o->log;
    c->clock = o->clock ? o->clock : env_wall_clock;
    if (aws_region_resolve(o->region, o->profile, c->region, sizeof(c->region), e) < 0)
        return -1;
    for (int s = 0; s < AWS_N_SERVICES; s++)
        if (aws_endpoint_resolve((enum aws_service)s, c->region, o->endpoint,
                                 &c->ep[s], e) < 0)
            return -1;
    snprintf(c->profile, sizeof(c->profile), "%s", o->profile ? o->profile : "");
    if (aws_creds_resolve(o->profile, &c->creds, e) < 0)
        return -1;
    return http_engine_init(&c->http, &ho, &c->n, e);
}

void aws_client_release(struct aws_client *c)
{
    http_engine_release(&c->http);
    aws_creds_release(&c->creds);
    memset(c, 0, sizeof(*c));
}

void aws_response_init(struct aws_response *r)
{
    memset(r, 0, sizeof(*r));
    buf_init_max(&r->body, AWS_MAX_RESPONSE);
}

void aws_response_release(struct aws_response *r)
{
    buf_release(&r->body);
    aws_response_init(r);
}

static const char *aws_service_label(enum aws_service s)
{
    static const char *const names[AWS_N_SERVICES] = {
        "ec2", "elb", "s3", "route53", "sts", "iam", "servicequotas"
    };
    return (unsigned)s < AWS_N_SERVICES ? names[s] : "aws";
}

/* ---- errors ---------------------------------------------------------- */

/* The JSON protocol's error document (Service Quotas): {"__type":
 * "[prefix#]Code", "message"|"Message": "..."}; the code is what follows
 * the '#'. Leaves code and msg alone when body is not such a document. */
static void aws_json_error(const char *body, size_t len, char *code, size_t code_size,
                           char *msg, size_t msg_size)
{
    json_t *doc = json_loadb(body, len, 0, NULL);
    const char *type, *m, *hash;
    if (!json_is_object(doc)) {
        json_decref(doc);
        return;
    }
    type = json_string_value(json_object_get(doc, "__type"));
    m = json_string_value(json_object_get(doc, "message"));
    if (!m)
        m = json_string_value(json_object_get(doc, "Message"));
    if (type) {
        hash = strrchr(type, '#');
        snprintf(code, code_size, "%s", hash ? hash + 1 : type);
    }
    if (m)
        snprintf(msg, msg_size, "%s", m);
    json_decref(doc);
}

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
    } else if (len && body[0] == '{') {
        aws_json_error(body, len, code, sizeof(code), msg, sizeof(msg));
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

/* A TLS or option error happens before the request is sent: certain. */
int aws_error_uncertain(const struct err *e, CURLcode rc)
{
    switch (rc) {
    case CURLE_OK:
        return (e->http_status >= 500 && !aws_code_in(e->code, aws_throttle_codes)) ||
               aws_code_in(e->code, aws_transient_codes);
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_WRITE_ERROR:
        return 1;
    default:
        return 0;
    }
}

/* Credentials that ran out (temporary ones from IMDS or an exported SSO
 * session outlive a long wait): the AWS SDKs' codes for it. */
static const char *const aws_expired_codes[] = {
    "ExpiredToken", "ExpiredTokenException", "RequestExpired", NULL
};

/* Resolves the credential chain again (env, files, IMDS), once per
 * request; a sibling request that already did it only re-signs. 1: send
 * again now; 0: keep the error. */
static int aws_renew_creds(struct aws_transfer *t, struct err *e)
{
    struct aws_client *c = t->c;
    struct aws_creds fresh;
    struct err re;
    if (t->creds_renewed || !aws_code_in(e->code, aws_expired_codes))
        return 0;
    t->creds_renewed = 1;
    if (t->creds_gen != c->creds_gen)
        return 1;
    aws_creds_init(&fresh);
    err_init(&re);
    if (aws_creds_resolve(c->profile[0] ? c->profile : NULL, &fresh, &re) < 0) {
        aws_creds_release(&fresh);
        err_wrap(e, "credentials expired, and resolving them again failed (%s)", re.msg);
        return 0;
    }
    aws_creds_release(&c->creds);
    c->creds = fresh;
    c->creds_gen++;
    log_debug(c->log, 1, "aws %s: %s; credentials resolved again from %s", t->what,
              e->code, c->creds.source);
    return 1;
}

long aws_backoff_ms(struct aws_client *c, int k)
{
    return http_backoff_ms(&c->http, k, 0);
}

/* ---- one attempt ------------------------------------------------------ */

static void aws_header_cb(struct http_xfer *x, const char *p, size_t len)
{
    struct aws_transfer *t = x->arg;
    http_header_value(p, len, "x-amz-request-id", t->resp->request_id,
                      sizeof(t->resp->request_id));
    http_header_value(p, len, "x-amzn-RequestId", t->resp->request_id,
                      sizeof(t->resp->request_id));
    http_header_value(p, len, "ETag", t->resp->etag, sizeof(t->resp->etag));
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

/* Signs the request with a fresh date and lists the headers to send. */
static int aws_transfer_sign(struct http_xfer *x)
{
    struct aws_transfer *t = x->arg;
    struct aws_client *c = t->c;
    const struct aws_request *r = t->req;
    const struct aws_endpoint *ep = &c->ep[r->svc];
    struct sigv4_header h[5 + AWS_MAX_EXTRA_HEADERS];
    struct sigv4_request sr;
    struct sigv4_params p;
    char host[256], date[17], payload[65];
    size_t n = 0;
    int s3 = r->svc == AWS_S3;
    time_t now = c->clock();   /* once: X-Amz-Date and the scope must agree */

    t->creds_gen = c->creds_gen;
    if (r->n_headers > AWS_MAX_EXTRA_HEADERS)
        return err_set(x->e, ERR_FAILED, "%s: %zu extra headers, more than the %d a "
                       "request may carry", t->what, r->n_headers, AWS_MAX_EXTRA_HEADERS);
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
    for (size_t i = 0; i < r->n_headers; i++)
        h[n++] = r->headers[i];

    sr = (struct sigv4_request){ r->method, r->path, r->query, h, n,
                                 r->body, r->body_len, payload };
    p = (struct sigv4_params){ c->creds.access_key, c->creds.secret_key,
                               c->creds.session_token, ep->signing_region,
                               ep->signing_name, now, s3, 0 };
    sigv4_state_release(&t->sig);
    sigv4_state_init(&t->sig);
    if (sigv4_sign(&sr, &p, &t->sig, x->e) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (http_xfer_header(x, "%s: %s", h[i].name, h[i].value) < 0)
            return -1;
    return http_xfer_header(x, "Authorization: %s", buf_str(&t->sig.authorization));
}

static void aws_transfer_set_method(struct http_xfer *x)
{
    const struct aws_request *r = ((struct aws_transfer *)x->arg)->req;
    if (strcmp(r->method, "HEAD") == 0) {
        HTTP_SET(x, CURLOPT_NOBODY, 1L);
    } else if (r->body_len || strcmp(r->method, "POST") == 0 ||
               strcmp(r->method, "PUT") == 0) {
        HTTP_SET(x, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
        HTTP_SET(x, CURLOPT_POSTFIELDS, r->body ? r->body : "");
        if (strcmp(r->method, "POST") != 0)
            HTTP_SET(x, CURLOPT_CUSTOMREQUEST, r->method);
    } else if (strcmp(r->method, "GET") != 0) {
        HTTP_SET(x, CURLOPT_CUSTOMREQUEST, r->method);
    }
}

/* Before each attempt: a fresh signature, the URL and the method. */
static int aws_transfer_prepare(struct http_xfer *x)
{
    struct aws_transfer *t = x->arg;
    const struct aws_request *r = t->req;
    t->resp->status = 0;
    t->resp->request_id[0] = '\0';
    t->resp->etag[0] = '\0';
    if (aws_transfer_sign(x) < 0)
        return -1;
    buf_reset(&t->url);
    aws_endpoint_base(t->c->ep[r->svc].url, r->host_prefix, &t->url);
    buf_printf(&t->url, "%s%s%s", r->path,
               r->query && *r->query ? "?" : "", r->query ? r->query : "");
    if (t->url.failed)
        return err_set(x->e, ERR_FAILED, "out of memory preparing %s", t->what);
    HTTP_SET(x, CURLOPT_URL, buf_str(&t->url));
    /* libcurl silently sends a request again when a reused connection turns
     * out dead before any answer byte (Curl_retry_request), and the server
     * may have run it. For a call that must not run twice: libcurl 8.16's
     * CURLOPT_FORBID_RETRY_ON_REUSE turns that off; older ones get a fresh
     * connection for it (a handshake per mutating call, reuse otherwise). */
    if (!r->idempotent) {
#if LIBCURL_VERSION_NUM >= 0x081000   /* 8.16.0 */
        HTTP_SET(x, CURLOPT_FORBID_RETRY_ON_REUSE, 1L);
#else
        HTTP_SET(x, CURLOPT_FRESH_CONNECT, 1L);
#endif
    }
    aws_transfer_set_method(x);
    return 0;
}

/* Judges a finished attempt: done (ok or final error) or retry. */
static enum http_verdict aws_transfer_judge(struct http_xfer *x, CURLcode rc)
{
    struct aws_transfer *t = x->arg;
    const struct aws_request *r = t->req;
    int retry;
    if (rc != CURLE_OK) {
        err_set(x->e, ERR_FAILED, "%s: %s", t->what,
                x->curl_err[0] ? x->curl_err : curl_easy_strerror(rc));
        retry = aws_curl_retryable(r, rc);
    } else {
        t->resp->status = x->status;
        if (x->status >= 200 && x->status < 300) {
            err_init(x->e);
            return HTTP_DONE;
        }
        aws_error_from_response(r, x->status, buf_str(&t->resp->body),
                                t->resp->body.len, t->resp->request_id, x->e);
        if (aws_renew_creds(t, x->e))
            return HTTP_RETRY_NOW;
        retry = aws_error_retryable(r, x->e);
        x->throttled = retry && (x->status == 429 || aws_code_in(x->e->code, aws_throttle_codes));
    }
    x->e->uncertain = aws_error_uncertain(x->e, rc);
    if (retry)
        log_debug(t->c->log, 2, "aws retry %s after %s", t->what, x->e->msg);
    return retry ? HTTP_RETRY : HTTP_DONE;
}

static void aws_transfer_done(struct http_xfer *x)
{
    struct aws_transfer *t = x->arg;
    log_debug(t->c->log, 1, "aws %s %ld %lld ms retries=%d%s%s", t->what,
              t->resp->status, x->first_ms ? util_now_ms() - x->first_ms : 0LL,
              x->attempt > 1 ? x->attempt - 1 : 0,
              x->e->code[0] ? " " : "", x->e->code);
}

static const struct http_driver aws_driver = {
    aws_transfer_prepare, aws_transfer_judge, aws_header_cb, NULL, aws_transfer_done
};

/* ---- sending ----------------------------------------------------------- */

int aws_send_all(struct aws_client *c, const struct aws_request *reqs,
                 size_t n, struct aws_response *resps, struct err *errs)
{
    struct aws_transfer *ts = calloc(n ? n : 1, sizeof(*ts));
    struct http_xfer *xs = calloc(n ? n : 1, sizeof(*xs));
    int rc;
    if (!ts || !xs) {
        for (size_t i = 0; i < n; i++)
            err_set(&errs[i], ERR_FAILED, "out of memory");
        free(ts);
        free(xs);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const struct aws_request *r = &reqs[i];
        ts[i] = (struct aws_transfer){ .c = c, .req = r, .resp = &resps[i] };
        snprintf(ts[i].what, sizeof(ts[i].what), "%s %s", aws_service_label(r->svc),
                 r->action ? r->action : r->method);
        sigv4_state_init(&ts[i].sig);
        buf_init(&ts[i].url);
        aws_response_init(&resps[i]);
        http_xfer_init(&xs[i], &aws_driver, &ts[i], &resps[i].body, &errs[i]);
        xs[i].what = ts[i].what;
    }
    rc = http_run(&c->http, xs, n);
    for (size_t i = 0; i < n; i++) {
        sigv4_state_release(&ts[i].sig);
        buf_release(&ts[i].url);
    }
    free(ts);
    free(xs);
    return rc;
}

int aws_send(struct aws_client *c, const struct aws_request *req,
             struct aws_response *resp, struct err *e)
{
    return aws_send_all(c, req, 1, resp, e);
}
