/* The Kubernetes transport (see client.h): TLS material and credentials
 * from the kubeconfig, libcurl transfers driven by one multi handle with a
 * bound on requests in flight and an optional QPS bucket, Status documents
 * and TLS failures turned into struct err, and retries.
 * SPEC.md "Smoke" and "Migration" ([migrate] concurrency, qps). */
#include "k8s/client.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "core/env.h"
#include "core/util.h"
#include "core/version.h"

#define K8S_MAX_PEM ((size_t)4 * 1024 * 1024)

/* One request's Kubernetes side, beside its struct http_xfer. */
struct k8s_transfer {
    struct k8s_client *c;
    const struct k8s_request *req;
    struct k8s_response *resp;
    int reauthed;           /* a 401 already fetched a fresh exec credential */
    int gen;                /* exec plugin run whose credential this used */
    int streamed;           /* data went to on_data: never resent */
};

void k8s_response_init(struct k8s_response *r)
{
    memset(r, 0, sizeof(*r));
    buf_init_max(&r->body, K8S_MAX_RESPONSE);
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
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK || !scheme ||
        (strcmp(scheme, "https") != 0 && strcmp(scheme, "http") != 0)) {
        err_set(e, ERR_USAGE, "kubeconfig %s: cluster \"%s\": bad server URL '%s' "
                "(want https://host[:port])", c->kc.cluster.file, c->kc.cluster.name,
                c->kc.cluster.server);
        rc = -1;   /* spelled out: the analyzer cannot see err_set's -1 */
    }
    if (rc == 0 && scheme && c->kc.cluster.tls_server_name && strcmp(scheme, "https") == 0)
        rc = k8s_client_sni(c, u, e);
    curl_url_set(u, CURLUPART_QUERY, NULL, 0);
    curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0);
    if (rc == 0 && (curl_url_get(u, CURLUPART_URL, &url, 0) != CURLUE_OK ||
                    !(c->base_url = strdup(url))))
        rc = err_set(e, ERR_FAILED, "out of memory");
    if (rc == 0 && c->base_url)
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
        if (k8s_read_file(u->token_file, (size_t)64 * 1024, what, &c->token, e) < 0)
            return -1;
        while (c->token.len && strchr(" \t\r\n", c->token.data[c->token.len - 1]))
            c->token.data[--c->token.len] = '\0';
    }
    return c->token.failed ? err_set(e, ERR_FAILED, "out of memory") : 0;
}

static int k8s_client_engine(struct k8s_client *c, const struct k8s_client_opts *o,
                             struct err *e)
{
    struct http_engine_opts ho;
    if (o)
        c->o = *o;
    if (c->o.max_in_flight <= 0)
        c->o.max_in_flight = 16;
    if (c->o.timeout_ms <= 0)
        c->o.timeout_ms = 60000;
    if (c->o.max_attempts <= 0)
        c->o.max_attempts = K8S_MAX_ATTEMPTS;
    if (c->o.retry_base_ms <= 0)
        c->o.retry_base_ms = K8S_RETRY_BASE_MS;
    if (c->o.qps < 0)
        c->o.qps = 0;
    ho = (struct http_engine_opts){ c->o.max_in_flight, c->o.qps, c->o.timeout_ms, 10000,
                                    { c->o.max_attempts, c->o.retry_base_ms,
                                      K8S_RETRY_CAP_MS } };
    c->clock = env_wall_clock;
    return http_engine_init(&c->http, &ho, &c->n, e);
}

int k8s_client_init(struct k8s_client *c, struct k8s_kubeconfig *kc,
                    const struct logger *log, const struct k8s_client_opts *o,
                    struct err *e)
{
    memset(c, 0, sizeof(*c));
    c->kc = *kc;
    k8s_kubeconfig_init(kc);
    c->log = log;
    if (k8s_client_engine(c, o, e) < 0 || k8s_client_url(c, e) < 0 ||
        k8s_client_tls(c, e) < 0 || k8s_client_token(c, e) < 0)
        goto fail;
    if (c->kc.user.has_exec) {
        k8s_exec_init(&c->exec, &c->kc.user.exec);
        c->have_exec = 1;
    }
    return 0;
fail:
    k8s_client_release(c);
    return -1;
}

void k8s_client_release(struct k8s_client *c)
{
    if (c->discovery && c->discovery_free)
        c->discovery_free(c->discovery);
    http_engine_release(&c->http);
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
    return http_backoff_ms(&c->http, k, ra_s);
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

static int k8s_curl_error(struct k8s_client *c, struct http_xfer *x, CURLcode rc,
                          struct err *e)
{
    const struct k8s_transfer *t = x->arg;
    const char *d = x->curl_err[0] ? x->curl_err : curl_easy_strerror(rc);
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

/* A watch streams a 2xx body to the caller instead of storing it. */
static int k8s_data_cb(struct http_xfer *x, const char *p, size_t len)
{
    struct k8s_transfer *t = x->arg;
    long status = 0;
    if (!t->req->on_data)
        return 0;
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
    if (status < 200 || status >= 300)
        return 0;
    t->streamed = 1;
    return t->req->on_data(t->req->arg, p, len) ? -1 : 1;
}

static void k8s_header_cb(struct http_xfer *x, const char *p, size_t len)
{
    struct k8s_transfer *t = x->arg;
    if (!http_header_value(p, len, "Content-Type", t->resp->content_type,
                           sizeof(t->resp->content_type)) && t->req->want_header)
        http_header_value(p, len, t->req->want_header, t->resp->header,
                          sizeof(t->resp->header));
}

static int k8s_cancelled(const struct k8s_transfer *t)
{
    return t->req->cancel && *t->req->cancel;
}

static int k8s_err_interrupted(const struct k8s_transfer *t, struct err *e)
{
    err_set(e, ERR_FAILED, "%s %s: interrupted", t->req->verb, t->req->path);
    snprintf(e->code, sizeof(e->code), "Interrupted");
    return -1;
}

/* A request with a cancel flag (a long Consul blocking query) ends as soon
 * as the flag is set: libcurl calls this at least once a second, idle or
 * not, and a non-zero answer aborts the transfer. */
static int k8s_xferinfo_cb(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                           curl_off_t ulnow)
{
    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    return k8s_cancelled(arg);
}

/* Credentials for this attempt: exec plugin (maybe re-run), static token,
 * client certificate, or basic auth. */
static int k8s_transfer_auth(struct k8s_client *c, struct http_xfer *x)
{
    struct k8s_transfer *t = x->arg;
    const struct k8s_exec_cred *cred = NULL;
    if (c->have_exec) {
        if (k8s_exec_get(&c->exec, c->clock(), &cred, x->e) < 0)
            return -1;
        t->gen = c->exec.runs;
        if (cred->token && http_xfer_header(x, "Authorization: Bearer %s", cred->token) < 0)
            return -1;
        if (cred->cert_pem) {
            /* copied: the cache may be replaced while this is in flight */
            http_set_blob(x, "CURLOPT_SSLCERT_BLOB", CURLOPT_SSLCERT_BLOB, cred->cert_pem,
                          strlen(cred->cert_pem), CURL_BLOB_COPY);
            http_set_blob(x, "CURLOPT_SSLKEY_BLOB", CURLOPT_SSLKEY_BLOB, cred->key_pem,
                          strlen(cred->key_pem), CURL_BLOB_COPY);
        }
    }
    if (!cred && c->token.len &&
        http_xfer_header(x, "Authorization: Bearer %s", buf_str(&c->token)) < 0)
        return -1;
    if (c->cert.len && !(cred && cred->cert_pem)) {
        /* not copied: the client outlives every transfer and wipes the key */
        http_set_blob(x, "CURLOPT_SSLCERT_BLOB", CURLOPT_SSLCERT_BLOB, c->cert.data,
                      c->cert.len, CURL_BLOB_NOCOPY);
        http_set_blob(x, "CURLOPT_SSLKEY_BLOB", CURLOPT_SSLKEY_BLOB, c->key.data,
                      c->key.len, CURL_BLOB_NOCOPY);
    }
    if (c->kc.user.username && !c->token.len && !cred) {
        HTTP_SET(x, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        HTTP_SET(x, CURLOPT_USERNAME, c->kc.user.username);
        HTTP_SET(x, CURLOPT_PASSWORD, c->kc.user.password ? c->kc.user.password : "");
    }
    return 0;
}

static void k8s_transfer_tls(struct k8s_client *c, struct http_xfer *x)
{
    long verify = c->kc.cluster.insecure ? 0L : 1L;
    HTTP_SET(x, CURLOPT_SSL_VERIFYPEER, verify);
    HTTP_SET(x, CURLOPT_SSL_VERIFYHOST, verify ? 2L : 0L);
    if (c->ca.len && verify)
        http_set_blob(x, "CURLOPT_CAINFO_BLOB", CURLOPT_CAINFO_BLOB, c->ca.data, c->ca.len,
                      CURL_BLOB_NOCOPY);
    if (c->connect_to)
        HTTP_SET(x, CURLOPT_CONNECT_TO, c->connect_to);
    if (c->kc.cluster.proxy_url)
        HTTP_SET(x, CURLOPT_PROXY, c->kc.cluster.proxy_url);
}

static void k8s_transfer_body(struct http_xfer *x)
{
    const struct k8s_request *r = ((struct k8s_transfer *)x->arg)->req;
    if (r->body) {
        HTTP_SET(x, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
        HTTP_SET(x, CURLOPT_POSTFIELDS, r->body);
    }
    if (strcmp(r->verb, "GET") != 0)
        HTTP_SET(x, CURLOPT_CUSTOMREQUEST, r->verb);
}

static int k8s_transfer_headers(struct k8s_client *c, struct http_xfer *x)
{
    const struct k8s_request *r = ((struct k8s_transfer *)x->arg)->req;
    if (http_xfer_header(x, "Accept: %s", r->accept ? r->accept : "application/json") < 0 ||
        (r->body && http_xfer_header(x, "Content-Type: %s",
                                     r->content_type ? r->content_type
                                                     : "application/json") < 0) ||
        (c->host_header && http_xfer_header(x, "%s", c->host_header) < 0))
        return -1;
    for (const char *const *h = r->extra_headers; h && *h; h++)
        if (http_xfer_header(x, "%s", *h) < 0)
            return -1;
    return 0;
}

/* Before each attempt: URL, credentials, headers, TLS and body. */
static int k8s_transfer_prepare(struct http_xfer *x)
{
    struct k8s_transfer *t = x->arg;
    struct k8s_client *c = t->c;
    struct buf url = BUF_INIT;
    t->resp->content_type[0] = '\0';
    t->resp->header[0] = '\0';
    if (k8s_cancelled(t))             /* e.g. Ctrl-C during a retry's backoff */
        return k8s_err_interrupted(t, x->e);
    if (k8s_transfer_auth(c, x) < 0 || k8s_transfer_headers(c, x) < 0)
        return -1;
    if (t->req->cancel) {
        HTTP_SET(x, CURLOPT_XFERINFOFUNCTION, (curl_xferinfo_callback)k8s_xferinfo_cb);
        HTTP_SET(x, CURLOPT_XFERINFODATA, t);
        HTTP_SET(x, CURLOPT_NOPROGRESS, 0L);
    }
    buf_printf(&url, "%s%s", c->base_url, t->req->path);
    if (url.failed)
        return err_set(x->e, ERR_FAILED, "out of memory");
    HTTP_SET(x, CURLOPT_URL, buf_str(&url));   /* curl copies it */
    buf_release(&url);
    HTTP_SET(x, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    /* over HTTP/2, wait to multiplex on one connection rather than open more */
    HTTP_SET(x, CURLOPT_PIPEWAIT, 1L);
    HTTP_SET(x, CURLOPT_ACCEPT_ENCODING, "");
    HTTP_SET(x, CURLOPT_USERAGENT, "paasctl/" PAASCTL_VERSION);
    k8s_transfer_tls(c, x);
    k8s_transfer_body(x);
    return 0;
}

/* One line per request at -v: never a header or a body. */
static void k8s_transfer_done(struct http_xfer *x)
{
    struct k8s_transfer *t = x->arg;
    struct k8s_client *c = t->c;
    char status[16];
    t->resp->status = x->status;
    if (x->e->http_status == 401)
        k8s_err_append(x->e, " (user \"%s\" in kubeconfig %s)",
                       c->kc.user.name ? c->kc.user.name : "",
                       c->kc.user.file ? c->kc.user.file : c->kc.sources);
    if (x->attempt > 1 && k8s_error_retryable(x->e))
        k8s_err_append(x->e, " (gave up after %d attempts)", x->attempt);
    if (x->status)
        snprintf(status, sizeof(status), "%ld", x->status);
    else
        snprintf(status, sizeof(status), "failed");
    log_debug(c->log, 1, "k8s %s %s -> %s (%lld ms, %d retr%s)", t->req->verb, t->req->path,
              status, x->first_ms ? util_now_ms() - x->first_ms : 0LL,
              x->attempt > 1 ? x->attempt - 1 : 0, x->attempt == 2 ? "y" : "ies");
}

/* What a finished attempt means: done (ok or failed) or retry. A TLS
 * failure is never retried (k8s_error_retryable); a 401 with an exec
 * plugin gets one attempt with a fresh credential. */
static enum http_verdict k8s_transfer_judge(struct http_xfer *x, CURLcode rc)
{
    struct k8s_transfer *t = x->arg;
    struct k8s_client *c = t->c;
    t->resp->status = x->status;
    if (rc == CURLE_ABORTED_BY_CALLBACK && k8s_cancelled(t)) {
        k8s_err_interrupted(t, x->e);
        return HTTP_DONE;
    }
    if (rc != CURLE_OK)
        k8s_curl_error(c, x, rc, x->e);
    else if (x->status < 200 || x->status >= 300)
        k8s_error_from_status(t->req->verb, t->req->path, x->status,
                              buf_str(&t->resp->body), t->resp->body.len, x->e);
    else {
        err_init(x->e);
        return HTTP_DONE;
    }
    if (rc == CURLE_OK && x->status == 401 && c->have_exec && !t->reauthed) {
        t->reauthed = 1;
        if (t->gen == c->exec.runs)   /* nobody fetched a newer one yet */
            k8s_exec_invalidate(&c->exec);
        return HTTP_RETRY_NOW;
    }
    if (k8s_error_retryable(x->e) && !t->streamed) {
        log_debug(c->log, 2, "k8s %s %s -> %s; retry %d", t->req->verb, t->req->path,
                  x->e->code, x->attempt);
        return HTTP_RETRY;
    }
    return HTTP_DONE;
}

static const struct http_driver k8s_driver = {
    k8s_transfer_prepare, k8s_transfer_judge, k8s_header_cb, k8s_data_cb, k8s_transfer_done
};

/* ---- sending ------------------------------------------------------------ */

int k8s_send_all(struct k8s_client *c, const struct k8s_request *reqs,
                 size_t n, struct k8s_response *resps, struct err *errs)
{
    struct k8s_transfer *ts = calloc(n ? n : 1, sizeof(*ts));
    struct http_xfer *xs = calloc(n ? n : 1, sizeof(*xs));
    int rc;
    for (size_t i = 0; i < n; i++) {
        k8s_response_init(&resps[i]);
        err_init(&errs[i]);
    }
    if (!ts || !xs) {
        for (size_t i = 0; i < n; i++)
            err_set(&errs[i], ERR_FAILED, "out of memory");
        free(ts);
        free(xs);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        ts[i] = (struct k8s_transfer){ .c = c, .req = &reqs[i], .resp = &resps[i] };
        http_xfer_init(&xs[i], &k8s_driver, &ts[i], &resps[i].body, &errs[i]);
        xs[i].timeout_ms = reqs[i].timeout_ms;
    }
    rc = http_run(&c->http, xs, n);
    free(ts);
    free(xs);
    return rc;
}

int k8s_send(struct k8s_client *c, const struct k8s_request *req,
             struct k8s_response *resp, struct err *e)
{
    return k8s_send_all(c, req, 1, resp, e);
}
