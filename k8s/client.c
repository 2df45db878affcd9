/* The Kubernetes transport (see client.h): TLS material and credentials
 * from the kubeconfig, libcurl transfers driven by one multi handle with a
 * bound on requests in flight and an optional QPS bucket, Status documents
 * and TLS failures turned into struct err, and retries.
 * SPEC.md "Smoke" and "Migration" ([migrate] concurrency, qps). */
#include "k8s/client.h"
#include "core/util.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "core/version.h"

#define K8S_MAX_RESPONSE (256u * 1024u * 1024u)
#define K8S_MAX_PEM (4u * 1024u * 1024u)

/* One request in flight, with what must live as long as curl uses it. */
struct k8s_transfer {
    struct k8s_client *c;
    const struct k8s_request *req;
    struct k8s_response *resp;
    struct err *e;
    CURL *easy;
    struct curl_slist *hdrs;
    char curl_err[CURL_ERROR_SIZE];
    int attempt;            /* attempts started */
    int reauthed;           /* a 401 already fetched a fresh exec credential */
    int gen;                /* exec plugin run whose credential this used */
    long long not_before;   /* ms: backoff */
    long long first_ms;     /* ms: first attempt, for the log line */
    int active, done;
    int streamed, stopped;
};


void k8s_response_init(struct k8s_response *r)
{
    memset(r, 0, sizeof(*r));
}

void k8s_response_release(struct k8s_response *r)
{
    buf_release_secret(&r->body);   /* may be a Secret */
    k8s_response_init(r);
}

/* ---- set-up: URL, TLS material, credentials --------------------------- */

/* tls-server-name: curl has no option to send another SNI name, so the URL
 * carries that name (SNI and certificate check use it) and CONNECT_TO sends
 * the connection to the real address; Host keeps the real one. */
static int k8s_client_sni(struct k8s_client *c, CURLU *u, struct err *e)
{
    char *host = NULL, *port = NULL, *explicit_port = NULL;
    struct buf b = BUF_INIT;
    int rc = 0;
    curl_url_get(u, CURLUPART_HOST, &host, 0);
    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
    curl_url_get(u, CURLUPART_PORT, &explicit_port, 0);
    buf_printf(&b, "%s:%s:%s:%s", c->kc.cluster.tls_server_name, port ? port : "443",
               host ? host : "", port ? port : "443");
    if (b.failed || !(c->connect_to = curl_slist_append(NULL, buf_str(&b))))
        rc = err_set(e, ERR_FAILED, "out of memory");
    buf_reset(&b);
    buf_printf(&b, "Host: %s%s%s", host ? host : "", explicit_port ? ":" : "",
               explicit_port ? explicit_port : "");
    if (rc == 0 && !(c->host_header = buf_detach(&b)))
        rc = err_set(e, ERR_FAILED, "out of memory");
    if (rc == 0 && curl_url_set(u, CURLUPART_HOST, c->kc.cluster.tls_server_name, 0) != CURLUE_OK)
        rc = err_set(e, ERR_USAGE, "kubeconfig %s: cluster \"%s\": bad tls-server-name '%s'",
                     c->kc.cluster.file, c->kc.cluster.name, c->kc.cluster.tls_server_name);
    buf_release(&b);
    curl_free(host);
    curl_free(port);
    curl_free(explicit_port);
    return rc;
}

static int k8s_client_url(struct k8s_client *c, struct err *e)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *url = NULL;
    int rc = 0;
    size_t n;
    if (!u)
        return err_set(e, ERR_FAILED, "out of memory");
    if (curl_url_set(u, CURLUPART_URL, c->kc.cluster.server, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        (strcmp(scheme, "https") != 0 && strcmp(scheme, "http") != 0))
        rc = err_set(e, ERR_USAGE, "kubeconfig %s: cluster \"%s\": bad server URL '%s' "
                     "(want https://host[:port])", c->kc.cluster.file, c->kc.cluster.name,
                     c->kc.cluster.server);
    if (rc == 0 && c->kc.cluster.tls_server_name && strcmp(scheme, "https") == 0)
        rc = k8s_client_sni(c, u, e);
    curl_url_set(u, CURLUPART_QUERY, NULL, 0);
    curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0);
    if (rc == 0 && (curl_url_get(u, CURLUPART_URL, &url, 0) != CURLUE_OK ||
                    !(c->base_url = strdup(url))))
        rc = err_set(e, ERR_FAILED, "out of memory");
    if (rc == 0)
        for (n = strlen(c->base_url); n && c->base_url[n - 1] == '/'; n--)
            c->base_url[n - 1] = '\0';   /* paths we append start with '/' */
    curl_free(scheme);
    curl_free(url);
    curl_url_cleanup(u);
    return rc;
}

/* data wins over file, as in client-go. */
static int k8s_client_pem(struct buf *dst, const unsigned char *data, size_t len,
                          const char *file, const char *kubeconfig, const char *field,
                          struct err *e)
{
    char what[1200];
    if (data) {
        buf_add(dst, data, len);
        return dst->failed ? err_set(e, ERR_FAILED, "out of memory") : 0;
    }
    if (!file)
        return 0;
    snprintf(what, sizeof(what), "kubeconfig %s: %s", kubeconfig, field);
    return k8s_read_file(file, K8S_MAX_PEM, what, dst, e);
}

static void k8s_asn1_time(const ASN1_TIME *t, char *out, int size)
{
    BIO *b = BIO_new(BIO_s_mem());
    int n = 0;
    if (b && ASN1_TIME_print(b, t))
        n = BIO_read(b, out, size - 1);
    out[n > 0 ? n : 0] = '\0';
    BIO_free(b);
}

/* A client certificate past its notAfter would only get a TLS alert from
 * the server; say plainly what is wrong instead. */
static int k8s_check_client_cert(const char *pem, size_t len, const char *whose,
                                 struct err *e)
{
    BIO *b = BIO_new_mem_buf(pem, (int)len);
    X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    char when[64];
    int rc = 0;
    if (!x)
        rc = err_set(e, ERR_USAGE, "%s: client certificate is not a PEM certificate", whose);
    else if (X509_cmp_current_time(X509_get0_notAfter(x)) < 0) {
        k8s_asn1_time(X509_get0_notAfter(x), when, sizeof(when));
        rc = err_set(e, ERR_FAILED, "TLS: the client certificate has expired (not valid "
                     "after %s): %s", when, whose);
    } else if (X509_cmp_current_time(X509_get0_notBefore(x)) > 0) {
        k8s_asn1_time(X509_get0_notBefore(x), when, sizeof(when));
        rc = err_set(e, ERR_FAILED, "TLS: the client certificate is not valid yet (not "
                     "before %s): %s", when, whose);
    }
    X509_free(x);
    BIO_free(b);
    return rc;
}

static int k8s_client_tls(struct k8s_client *c, struct err *e)
{
    const struct k8s_kc_cluster *cl = &c->kc.cluster;
    const struct k8s_kc_user *u = &c->kc.user;
    char whose[1200];
    if (k8s_client_pem(&c->ca, cl->ca_data, cl->ca_data_len, cl->ca_file, cl->file,
                       "certificate-authority", e) < 0 ||
        k8s_client_pem(&c->cert, u->cert_data, u->cert_data_len, u->cert_file, u->file,
                       "client-certificate", e) < 0 ||
        k8s_client_pem(&c->key, u->key_data, u->key_data_len, u->key_file, u->file,
                       "client-key", e) < 0)
        return -1;
    snprintf(whose, sizeof(whose), "user \"%s\" in kubeconfig %s", u->name ? u->name : "",
             u->file ? u->file : c->kc.sources);
    if (!c->cert.len != !c->key.len)
        return err_set(e, ERR_USAGE, "%s has a client certificate without a key, or a key "
                       "without a certificate", whose);
    if (c->cert.len && k8s_check_client_cert(c->cert.data, c->cert.len, whose, e) < 0)
        return -1;
    return 0;
}

static int k8s_client_token(struct k8s_client *c, struct err *e)
{
    const struct k8s_kc_user *u = &c->kc.user;
    char what[1200];
    if (u->token) {
        buf_puts(&c->token, u->token);
    } else if (u->token_file) {
        snprintf(what, sizeof(what), "kubeconfig %s: tokenFile", u->file);
        if (k8s_read_file(u->token_file, 64 * 1024, what, &c->token, e) < 0)
            return -1;
        while (c->token.len && strchr(" \t\r\n", c->token.data[c->token.len - 1]))
            c->token.data[--c->token.len] = '\0';
    }
    return c->token.failed ? err_set(e, ERR_FAILED, "out of memory") : 0;
}

static void k8s_client_options(struct k8s_client *c, const struct k8s_client_opts *o)
{
    if (o)
        c->o = *o;
    if (c->o.max_in_flight <= 0)
        c->o.max_in_flight = 16;
    if (c->o.timeout_ms <= 0)
        c->o.timeout_ms = 60000;
    if (c->o.max_attempts <= 0)
        c->o.max_attempts = (int)util_env_long("PAASCTL_MAX_ATTEMPTS", 6, 1, 100);
    if (c->o.retry_base_ms <= 0)
        c->o.retry_base_ms = util_env_long("PAASCTL_RETRY_BASE_MS", 250, 1, 60000);
    if (c->o.qps < 0)
        c->o.qps = 0;
    c->qps_tokens = c->o.qps < 1 ? 1 : c->o.qps;   /* burst = one second's worth */
    c->qps_last_ms = util_now_ms();
    c->rng = (unsigned long long)time(NULL) ^ ((unsigned long long)getpid() << 32) ^
             (unsigned long long)(size_t)c;
}

int k8s_client_init(struct k8s_client *c, struct k8s_kubeconfig *kc,
                    const struct logger *log, const struct k8s_client_opts *o,
                    struct err *e)
{
    memset(c, 0, sizeof(*c));
    c->kc = *kc;
    k8s_kubeconfig_init(kc);
    c->log = log;
    k8s_client_options(c, o);
    if (k8s_client_url(c, e) < 0 || k8s_client_tls(c, e) < 0 || k8s_client_token(c, e) < 0)
        goto fail;
    if (c->kc.user.has_exec) {
        k8s_exec_init(&c->exec, &c->kc.user.exec);
        c->have_exec = 1;
    }
    c->share = curl_share_init();
    c->multi = curl_multi_init();
    if (!c->share || !c->multi) {
        err_set(e, ERR_FAILED, "cannot initialise libcurl");
        goto fail;
    }
    curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
    curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    return 0;
fail:
    k8s_client_release(c);
    return -1;
}

void k8s_client_release(struct k8s_client *c)
{
    if (c->discovery && c->discovery_free)
        c->discovery_free(c->discovery);
    if (c->multi)
        curl_multi_cleanup(c->multi);
    if (c->share)
        curl_share_cleanup(c->share);
    free(c->base_url);
    free(c->host_header);
    curl_slist_free_all(c->connect_to);
    buf_release(&c->ca);
    buf_release(&c->cert);
    buf_release_secret(&c->key);
    buf_release_secret(&c->token);
    if (c->have_exec)
        k8s_exec_release(&c->exec);
    k8s_kubeconfig_release(&c->kc);
    memset(c, 0, sizeof(*c));
}

/* ---- errors ------------------------------------------------------------ */

static const char *k8s_default_reason(long status)
{
    switch (status) {
    case 400: return "BadRequest";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "NotFound";
    case 405: return "MethodNotAllowed";
    case 409: return "Conflict";
    case 410: return "Expired";
    case 415: return "UnsupportedMediaType";
    case 422: return "Invalid";
    case 429: return "TooManyRequests";
    case 500: return "InternalError";
    case 503: return "ServiceUnavailable";
    case 504: return "Timeout";
    default: return status >= 500 ? "InternalError" : "";
    }
}

int k8s_error_from_status(const char *verb, const char *path, long status,
                          const char *body, size_t len, struct err *e)
{
    json_t *doc = len ? json_loadb(body, len, 0, NULL) : NULL;
    const char *reason = NULL, *msg = NULL, *kind;
    kind = json_string_value(json_object_get(doc, "kind"));
    if (kind && strcmp(kind, "Status") == 0) {
        reason = json_string_value(json_object_get(doc, "reason"));
        msg = json_string_value(json_object_get(doc, "message"));
    }
    /* Only a Status message is shown: another body could echo a Secret. */
    if (!reason || !*reason)
        reason = k8s_default_reason(status);
    if (status == 401)
        err_set(e, ERR_FAILED, "%s %s: 401 Unauthorized: credentials rejected by the API server",
                verb, path);
    else
        err_set(e, ERR_FAILED, "%s %s: %ld %s%s%s", verb, path, status, reason,
                msg && *msg ? ": " : "", msg ? msg : "");
    snprintf(e->code, sizeof(e->code), "%s", reason);
    e->http_status = status;
    json_decref(doc);
    return -1;
}

int k8s_error_retryable(const struct err *e)
{
    switch (e->http_status) {
    case 429: case 500: case 502: case 503: case 504:
        return 1;
    case 0:
        return strcmp(e->code, "Unreachable") == 0;
    default:
        return 0;
    }
}

long k8s_backoff_ms(struct k8s_client *c, int k, long ra_s)
{
    long ceiling = c->o.retry_base_ms;
    if (ra_s > 0)
        return (ra_s > 60 ? 60 : ra_s) * 1000;
    for (int i = 1; i < k && ceiling < 10000; i++)
        ceiling *= 2;
    if (ceiling > 10000)
        ceiling = 10000;
    /* xorshift64: jitter only needs to spread clients apart. */
    c->rng ^= c->rng << 13;
    c->rng ^= c->rng >> 7;
    c->rng ^= c->rng << 17;
    return (long)(c->rng % (unsigned long long)(ceiling + 1));
}

static void k8s_err_append(struct err *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void k8s_err_append(struct err *e, const char *fmt, ...)
{
    size_t n = strlen(e->msg);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg + n, sizeof(e->msg) - n, fmt, ap);
    va_end(ap);
}

/* Where the CA that failed to verify the server came from. */
static void k8s_ca_origin(const struct k8s_client *c, char *out, size_t size)
{
    const struct k8s_kc_cluster *cl = &c->kc.cluster;
    if (cl->ca_data)
        snprintf(out, size, "certificate-authority-data of cluster \"%s\" in kubeconfig %s",
                 cl->name, cl->file);
    else if (cl->ca_file)
        snprintf(out, size, "certificate-authority %s of cluster \"%s\" in kubeconfig %s",
                 cl->ca_file, cl->name, cl->file);
    else
        snprintf(out, size, "the system CA store; cluster \"%s\" in kubeconfig %s sets no "
                 "certificate-authority", cl->name, cl->file);
}

static int k8s_tls_error(struct k8s_client *c, const char *detail, CURLcode rc,
                         struct err *e)
{
    char ca[1024];
    k8s_ca_origin(c, ca, sizeof(ca));
    if (rc == CURLE_PEER_FAILED_VERIFICATION && strstr(detail, "expired"))
        err_set(e, ERR_FAILED, "TLS: the server's certificate has expired (%s)", detail);
    else if (rc == CURLE_PEER_FAILED_VERIFICATION && c->kc.cluster.tls_server_name &&
             (strstr(detail, "subject name") || strstr(detail, "does not match")))
        err_set(e, ERR_FAILED, "TLS: the server's certificate is not for %s (tls-server-name "
                "of cluster \"%s\" in kubeconfig %s): %s", c->kc.cluster.tls_server_name,
                c->kc.cluster.name, c->kc.cluster.file, detail);
    else if (rc == CURLE_PEER_FAILED_VERIFICATION &&
             (strstr(detail, "subject name") || strstr(detail, "does not match")))
        err_set(e, ERR_FAILED, "TLS: the server's certificate is not for %s (%s); "
                "set tls-server-name in the kubeconfig?", c->kc.cluster.server, detail);
    else if (rc == CURLE_PEER_FAILED_VERIFICATION)
        err_set(e, ERR_FAILED, "TLS: server certificate not trusted (%s): %s", ca, detail);
    else if (rc == CURLE_SSL_CACERT_BADFILE)
        err_set(e, ERR_FAILED, "TLS: cannot use the certificate authority (%s): %s", ca, detail);
    else if (rc == CURLE_SSL_CERTPROBLEM)
        err_set(e, ERR_FAILED, "TLS: cannot use the client certificate or key of user \"%s\" "
                "in kubeconfig %s: %s", c->kc.user.name, c->kc.user.file, detail);
    else if (strstr(detail, "alert certificate expired"))
        err_set(e, ERR_FAILED, "TLS: the server rejected the client certificate of user "
                "\"%s\" as expired (%s)", c->kc.user.name ? c->kc.user.name : "", detail);
    else if (strstr(detail, "alert") || c->cert.len)
        /* TLS 1.3 rejects a client certificate after the handshake: the
         * alert may surface as a failed write ("bad write retry") instead. */
        err_set(e, ERR_FAILED, "TLS: the server rejected the connection; is the client "
                "certificate of user \"%s\" in kubeconfig %s valid for this cluster? (%s)",
                c->kc.user.name ? c->kc.user.name : "", c->kc.user.file ? c->kc.user.file : "",
                detail);
    else
        err_set(e, ERR_FAILED, "TLS: handshake with %s failed: %s", c->kc.cluster.server, detail);
    snprintf(e->code, sizeof(e->code), "TLS");
    return -1;
}

static int k8s_curl_error(struct k8s_client *c, struct k8s_transfer *t, CURLcode rc,
                          struct err *e)
{
    const char *d = t->curl_err[0] ? t->curl_err : curl_easy_strerror(rc);
    switch (rc) {
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        return k8s_tls_error(c, d, rc, e);
    case CURLE_WRITE_ERROR:
        return err_set(e, ERR_FAILED, "%s %s: answer too large or out of memory",
                       t->req->verb, t->req->path);
    default:
        break;
    }
    /* A TLS alert after the handshake (TLS 1.3), or OpenSSL failing a read
     * or write: a TLS problem, never retried as if the network were down. */
    if (strstr(d, "alert") || strstr(d, "SSL routines"))
        return k8s_tls_error(c, d, rc, e);
    err_set(e, ERR_FAILED, "%s %s: cannot reach the API server %s: %s", t->req->verb,
            t->req->path, c->kc.cluster.server, d);
    if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
        rc == CURLE_COULDNT_RESOLVE_PROXY || rc == CURLE_OPERATION_TIMEDOUT ||
        rc == CURLE_SEND_ERROR || rc == CURLE_RECV_ERROR || rc == CURLE_GOT_NOTHING ||
        rc == CURLE_PARTIAL_FILE || rc == CURLE_HTTP2 || rc == CURLE_HTTP2_STREAM)
        snprintf(e->code, sizeof(e->code), "Unreachable");
    return -1;
}

/* ---- one attempt --------------------------------------------------------- */

static size_t k8s_write_cb(char *p, size_t size, size_t n, void *ud)
{
    struct k8s_transfer *t = ud;
    size_t len = size * n;
    long status = 0;
    t->c->n.bytes_in += (long)len;
    if (t->req->on_data) {
        curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
        if (status >= 200 && status < 300) {
            t->streamed = 1;
            if (t->req->on_data(t->req->arg, p, len)) {
                t->stopped = 1;
                return 0;   /* curl stops with CURLE_WRITE_ERROR */
            }
            return len;
        }
    }
    if (t->resp->body.len + len > K8S_MAX_RESPONSE)
        return 0;
    buf_add(&t->resp->body, p, len);
    return t->resp->body.failed ? 0 : len;
}

/* Copies the trimmed value of header line p (len bytes) into out when its
 * name is name; returns 1 then, else 0. */
static int k8s_header_value(const char *p, size_t len, const char *name, char *out,
                            size_t size)
{
    size_t k = strlen(name), end = len;
    if (len <= k || strncasecmp(p, name, k) != 0 || p[k] != ':')
        return 0;
    for (k++; k < len && p[k] == ' '; k++)
        ;
    while (end > k && (p[end - 1] == '\r' || p[end - 1] == '\n' || p[end - 1] == ' '))
        end--;
    snprintf(out, size, "%.*s", (int)(end - k), p + k);
    return 1;
}

static size_t k8s_header_cb(char *p, size_t size, size_t n, void *ud)
{
    struct k8s_transfer *t = ud;
    size_t len = size * n;
    if (!k8s_header_value(p, len, "Content-Type", t->resp->content_type,
                          sizeof(t->resp->content_type)) && t->req->want_header)
        k8s_header_value(p, len, t->req->want_header, t->resp->header,
                         sizeof(t->resp->header));
    return len;
}

static void k8s_free_headers(struct curl_slist *l)
{
    for (struct curl_slist *p = l; p; p = p->next)
        explicit_bzero(p->data, strlen(p->data));   /* Authorization */
    curl_slist_free_all(l);
}

/* Appends "fmt..." to the transfer's headers; the line is wiped after. */
static int k8s_add_header(struct k8s_transfer *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int k8s_add_header(struct k8s_transfer *t, const char *fmt, ...)
{
    struct curl_slist *l;
    va_list ap;
    char *s;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !(s = malloc((size_t)n + 1)))
        return -1;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    l = curl_slist_append(t->hdrs, s);
    explicit_bzero(s, (size_t)n);
    free(s);
    if (!l)
        return -1;
    t->hdrs = l;
    return 0;
}

static void k8s_set_blob(CURL *h, CURLoption opt, const void *p, size_t len,
                         unsigned int flags)
{
    struct curl_blob b;
    b.data = (void *)p;
    b.len = len;
    b.flags = flags;
    curl_easy_setopt(h, opt, &b);
}

/* Credentials for this attempt: exec plugin (maybe re-run), static token,
 * client certificate, or basic auth. */
static int k8s_transfer_auth(struct k8s_client *c, struct k8s_transfer *t)
{
    const struct k8s_exec_cred *cred = NULL;
    if (c->have_exec) {
        if (k8s_exec_get(&c->exec, time(NULL), &cred, t->e) < 0)
            return -1;
        t->gen = c->exec.runs;
        if (cred->token && k8s_add_header(t, "Authorization: Bearer %s", cred->token) < 0)
            return -1;
        if (cred->cert_pem) {
            /* copied: the cache may be replaced while this is in flight */
            k8s_set_blob(t->easy, CURLOPT_SSLCERT_BLOB, cred->cert_pem,
                         strlen(cred->cert_pem), CURL_BLOB_COPY);
            k8s_set_blob(t->easy, CURLOPT_SSLKEY_BLOB, cred->key_pem,
                         strlen(cred->key_pem), CURL_BLOB_COPY);
        }
    }
    if (!cred && c->token.len &&
        k8s_add_header(t, "Authorization: Bearer %s", buf_str(&c->token)) < 0)
        return -1;
    if (c->cert.len && !(cred && cred->cert_pem)) {
        /* not copied: the client outlives every transfer and wipes the key */
        k8s_set_blob(t->easy, CURLOPT_SSLCERT_BLOB, c->cert.data, c->cert.len, CURL_BLOB_NOCOPY);
        k8s_set_blob(t->easy, CURLOPT_SSLKEY_BLOB, c->key.data, c->key.len, CURL_BLOB_NOCOPY);
    }
    if (c->kc.user.username && !c->token.len && !cred) {
        curl_easy_setopt(t->easy, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(t->easy, CURLOPT_USERNAME, c->kc.user.username);
        curl_easy_setopt(t->easy, CURLOPT_PASSWORD,
                         c->kc.user.password ? c->kc.user.password : "");
    }
    return 0;
}

static void k8s_transfer_tls(struct k8s_client *c, CURL *h)
{
    long verify = c->kc.cluster.insecure ? 0L : 1L;
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, verify);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, verify ? 2L : 0L);
    if (c->ca.len && verify)
        k8s_set_blob(h, CURLOPT_CAINFO_BLOB, c->ca.data, c->ca.len, CURL_BLOB_NOCOPY);
    if (c->connect_to)
        curl_easy_setopt(h, CURLOPT_CONNECT_TO, c->connect_to);
    if (c->kc.cluster.proxy_url)
        curl_easy_setopt(h, CURLOPT_PROXY, c->kc.cluster.proxy_url);
}

static void k8s_transfer_body(struct k8s_transfer *t)
{
    const struct k8s_request *r = t->req;
    if (r->body) {
        curl_easy_setopt(t->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
        curl_easy_setopt(t->easy, CURLOPT_POSTFIELDS, r->body);
        t->c->n.bytes_out += (long)r->body_len;
    }
    if (strcmp(r->verb, "GET") != 0)
        curl_easy_setopt(t->easy, CURLOPT_CUSTOMREQUEST, r->verb);
}

static int k8s_transfer_headers(struct k8s_client *c, struct k8s_transfer *t)
{
    const struct k8s_request *r = t->req;
    if (k8s_add_header(t, "Accept: %s", r->accept ? r->accept : "application/json") < 0 ||
        (r->body && k8s_add_header(t, "Content-Type: %s",
                                   r->content_type ? r->content_type : "application/json") < 0) ||
        k8s_add_header(t, "Expect:") < 0 ||
        (c->host_header && k8s_add_header(t, "%s", c->host_header) < 0))
        return -1;
    for (const char *const *h = r->extra_headers; h && *h; h++)
        if (k8s_add_header(t, "%s", *h) < 0)
            return -1;
    return 0;
}

static int k8s_transfer_start(struct k8s_client *c, struct k8s_transfer *t)
{
    struct buf url = BUF_INIT;
    CURL *h = curl_easy_init();
    if (!h)
        return err_set(t->e, ERR_FAILED, "cannot initialise libcurl");
    t->easy = h;
    t->hdrs = NULL;
    t->curl_err[0] = '\0';
    t->attempt++;
    buf_reset(&t->resp->body);
    t->resp->content_type[0] = '\0';
    t->resp->header[0] = '\0';
    if (k8s_transfer_auth(c, t) < 0 || k8s_transfer_headers(c, t) < 0) {
        if (!t->e->kind)
            err_set(t->e, ERR_FAILED, "out of memory");
        return -1;
    }
    buf_printf(&url, "%s%s", c->base_url, t->req->path);
    curl_easy_setopt(h, CURLOPT_URL, buf_str(&url));
    buf_release(&url);
    curl_easy_setopt(h, CURLOPT_SHARE, c->share);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, t->hdrs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, k8s_write_cb);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, k8s_header_cb);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, t);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, t->curl_err);
    curl_easy_setopt(h, CURLOPT_PRIVATE, t);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    /* over HTTP/2, wait to multiplex on one connection rather than open more */
    curl_easy_setopt(h, CURLOPT_PIPEWAIT, 1L);
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(h, CURLOPT_USERAGENT, "paasctl/" PAASCTL_VERSION);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, t->req->timeout_ms > 0 ? t->req->timeout_ms
                                                                   : c->o.timeout_ms);
    k8s_transfer_tls(c, h);
    k8s_transfer_body(t);
    if (curl_multi_add_handle(c->multi, h) != CURLM_OK)
        return err_set(t->e, ERR_FAILED, "cannot start a transfer");
    t->active = 1;
    c->n.requests++;
    return 0;
}

static void k8s_transfer_cleanup(struct k8s_client *c, struct k8s_transfer *t)
{
    if (t->easy) {
        if (t->active)
            curl_multi_remove_handle(c->multi, t->easy);
        curl_easy_cleanup(t->easy);
    }
    k8s_free_headers(t->hdrs);
    t->easy = NULL;
    t->hdrs = NULL;
    t->active = 0;
}

/* One line per request at -v: never a header or a body. */
static void k8s_transfer_log(struct k8s_client *c, const struct k8s_transfer *t)
{
    char status[16];
    if (t->resp->status)
        snprintf(status, sizeof(status), "%ld", t->resp->status);
    else
        snprintf(status, sizeof(status), "failed");
    log_debug(c->log, 1, "k8s %s %s -> %s (%lld ms, %d retr%s)", t->req->verb, t->req->path,
              status, util_now_ms() - t->first_ms, t->attempt - 1,
              t->attempt == 2 ? "y" : "ies");
}

static void k8s_transfer_done(struct k8s_client *c, struct k8s_transfer *t)
{
    t->done = 1;
    k8s_transfer_log(c, t);
}

/* Decides what a finished attempt means: done (ok or failed) or retry. */
static void k8s_transfer_finish(struct k8s_client *c, struct k8s_transfer *t, CURLcode rc)
{
    long status = 0;
    curl_off_t ra = 0;
    long connects = 0;
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(t->easy, CURLINFO_RETRY_AFTER, &ra);
    curl_easy_getinfo(t->easy, CURLINFO_NUM_CONNECTS, &connects);
    c->n.connects += connects;
    k8s_transfer_cleanup(c, t);
    t->resp->status = status;
    if (rc == CURLE_WRITE_ERROR && t->stopped)
        rc = CURLE_OK;     /* the caller stopped a stream */
    if (rc != CURLE_OK)
        k8s_curl_error(c, t, rc, t->e);
    else if (status < 200 || status >= 300)
        k8s_error_from_status(t->req->verb, t->req->path, status, buf_str(&t->resp->body),
                              t->resp->body.len, t->e);
    else {
        err_init(t->e);
        k8s_transfer_done(c, t);
        return;
    }
    if (status == 401 && c->have_exec && !t->reauthed) {
        t->reauthed = 1;
        if (t->gen == c->exec.runs)   /* nobody fetched a newer one yet */
            k8s_exec_invalidate(&c->exec);
        t->not_before = 0;
        c->n.retries++;
        return;
    }
    if (k8s_error_retryable(t->e) && !t->streamed && t->attempt < c->o.max_attempts) {
        long wait = k8s_backoff_ms(c, t->attempt, (long)ra);
        log_debug(c->log, 2, "k8s %s %s -> %s; retry %d in %ld ms", t->req->verb,
                  t->req->path, t->e->code, t->attempt, wait);
        t->not_before = util_now_ms() + wait;
        c->n.retries++;
        return;
    }
    if (status == 401)
        k8s_err_append(t->e, " (user \"%s\" in kubeconfig %s)",
                       c->kc.user.name ? c->kc.user.name : "",
                       c->kc.user.file ? c->kc.user.file : c->kc.sources);
    if (t->attempt > 1 && k8s_error_retryable(t->e))
        k8s_err_append(t->e, " (gave up after %d attempts)", t->attempt);
    k8s_transfer_done(c, t);
}

/* ---- the loop ------------------------------------------------------------ */

/* Takes one token from the QPS bucket; returns 0, or ms to wait. */
static long k8s_qps_take(struct k8s_client *c, long long now)
{
    double qps = c->o.qps, burst = qps < 1 ? 1 : qps;
    if (qps <= 0)
        return 0;
    c->qps_tokens += (double)(now - c->qps_last_ms) * qps / 1000.0;
    if (c->qps_tokens > burst)
        c->qps_tokens = burst;
    c->qps_last_ms = now;
    if (c->qps_tokens >= 1.0) {
        c->qps_tokens -= 1.0;
        return 0;
    }
    return (long)((1.0 - c->qps_tokens) * 1000.0 / qps) + 1;
}

/* Starts what may start now; returns the time of the next possible start. */
static long long k8s_start_ready(struct k8s_client *c, struct k8s_transfer *ts, size_t n,
                                 int *active, size_t *left)
{
    long long now = util_now_ms(), wake = now + 1000;
    for (size_t i = 0; i < n && *active < c->o.max_in_flight; i++) {
        struct k8s_transfer *t = &ts[i];
        long wait;
        if (t->done || t->active)
            continue;
        if (t->not_before > now) {
            wake = t->not_before < wake ? t->not_before : wake;
            continue;
        }
        if ((wait = k8s_qps_take(c, now)) > 0) {
            wake = now + wait < wake ? now + wait : wake;
            break;
        }
        if (!t->first_ms)
            t->first_ms = now;
        if (k8s_transfer_start(c, t) < 0) {
            k8s_transfer_cleanup(c, t);
            k8s_transfer_done(c, t);
            (*left)--;
            continue;
        }
        (*active)++;
    }
    return wake;
}

static int k8s_reap(struct k8s_client *c, int *active, size_t *left)
{
    CURLMsg *m;
    int q, finished = 0;
    while ((m = curl_multi_info_read(c->multi, &q))) {
        struct k8s_transfer *t = NULL;
        if (m->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&t);
        (*active)--;
        finished++;
        k8s_transfer_finish(c, t, m->data.result);
        if (t->done)
            (*left)--;
    }
    return finished;
}

static int k8s_cancelled(const struct k8s_transfer *t)
{
    return t->req->cancel && *t->req->cancel;
}

/* Abandons the transfers whose request was cancelled (Ctrl-C during a long
 * read): in flight or waiting, they end now with code "Interrupted". */
static void k8s_cancel(struct k8s_client *c, struct k8s_transfer *ts, size_t n,
                       int *active, size_t *left)
{
    for (size_t i = 0; i < n; i++) {
        struct k8s_transfer *t = &ts[i];
        if (t->done || !k8s_cancelled(t))
            continue;
        if (t->active)
            (*active)--;
        k8s_transfer_cleanup(c, t);
        err_set(t->e, ERR_FAILED, "%s %s: interrupted", t->req->verb, t->req->path);
        snprintf(t->e->code, sizeof(t->e->code), "Interrupted");
        k8s_transfer_done(c, t);
        (*left)--;
    }
}

static void k8s_run(struct k8s_client *c, struct k8s_transfer *ts, size_t n)
{
    size_t left = n;
    int active = 0, running;
    while (left) {
        long long wake, now;
        k8s_cancel(c, ts, n, &active, &left);
        if (!left)
            break;
        wake = k8s_start_ready(c, ts, n, &active, &left);
        if (!left)
            break;
        now = util_now_ms();
        if (!active) {
            if (wake > now)
                usleep((useconds_t)((wake - now) * 1000));
            continue;
        }
        curl_multi_perform(c->multi, &running);
        if (k8s_reap(c, &active, &left))
            continue;
        curl_multi_poll(c->multi, NULL, 0, (int)(wake > now ? (wake - now > 1000 ? 1000 : wake - now) : 0),
                        NULL);
    }
}

int k8s_send_all(struct k8s_client *c, const struct k8s_request *reqs,
                 size_t n, struct k8s_response *resps, struct err *errs)
{
    struct k8s_transfer *ts = calloc(n ? n : 1, sizeof(*ts));
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        k8s_response_init(&resps[i]);
        err_init(&errs[i]);
    }
    if (!ts) {
        for (size_t i = 0; i < n; i++)
            err_set(&errs[i], ERR_FAILED, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        ts[i] = (struct k8s_transfer){ .c = c, .req = &reqs[i], .resp = &resps[i],
                                       .e = &errs[i] };
    k8s_run(c, ts, n);
    for (size_t i = 0; i < n; i++)
        if (errs[i].kind != ERR_NONE)
            rc = -1;
    free(ts);
    return rc;
}

int k8s_send(struct k8s_client *c, const struct k8s_request *req,
             struct k8s_response *resp, struct err *e)
{
    return k8s_send_all(c, req, 1, resp, e);
}
