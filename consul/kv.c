/* Consul's HTTP KV API over the Kubernetes transport (see kv.h): listings
 * with blocking queries, single reads, and KV transactions.
 * SPEC.md "Consul sync" and "[consul]". */
#include "consul/kv.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/buf.h"

/* A blocking query answers within wait + wait/16 (Consul's jitter); the
 * rest is for the transfer of a large listing. */
#define CONSUL_LIST_TIMEOUT_MS ((CONSUL_WAIT_S + CONSUL_WAIT_S / 16 + 60) * 1000L)

/* ---- connections ---------------------------------------------------------- */

static int consul_token(struct consul *c, const char *token, struct err *e)
{
    struct buf b = BUF_INIT;
    if (!token || !*token)
        return 0;
    buf_printf(&b, "X-Consul-Token: %s", token);
    if (b.failed) {
        buf_release_secret(&b);
        return err_set(e, ERR_FAILED, "out of memory");
    }
    c->token_header = buf_detach(&b);
    c->headers[0] = c->token_header;
    c->headers[1] = NULL;
    return 0;
}

static int consul_open(struct consul *c, struct k8s_kubeconfig *kc, const char *base,
                       const char *token, const char *where, const struct logger *log,
                       struct err *e)
{
    struct k8s_client_opts o = { .max_in_flight = 4, .timeout_ms = 60000 };
    memset(c, 0, sizeof(*c));
    snprintf(c->where, sizeof(c->where), "%s", where);
    if (k8s_client_init(&c->http, kc, log, &o, e) < 0)
        return err_wrap(e, "Consul of %s", where);
    if (!(c->base = strdup(base))) {
        consul_close(c);
        return err_set(e, ERR_FAILED, "out of memory");
    }
    if (consul_token(c, token, e) < 0) {
        consul_close(c);
        return -1;
    }
    return 0;
}

int consul_open_proxy(struct consul *c, struct k8s_kubeconfig *kc, const char *service,
                      const char *token, const char *where, const struct logger *log,
                      struct err *e)
{
    /* [consul] service is NAMESPACE/SERVICE:PORT (checked by config). */
    const char *slash = strchr(service, '/');
    struct buf b = BUF_INIT;
    int rc;
    if (!slash) {
        k8s_kubeconfig_release(kc);
        return err_set(e, ERR_USAGE, "[consul] service '%s' is not NAMESPACE/SERVICE:PORT",
                       service);
    }
    buf_puts(&b, "/api/v1/namespaces/");
    buf_uri_encode(&b, service, (size_t)(slash - service), 0);
    buf_puts(&b, "/services/");
    buf_puts(&b, slash + 1);    /* NAME:PORT: ':' is the proxy syntax */
    buf_puts(&b, "/proxy");
    if (b.failed) {
        k8s_kubeconfig_release(kc);
        buf_release(&b);
        return err_set(e, ERR_FAILED, "out of memory");
    }
    rc = consul_open(c, kc, buf_str(&b), token, where, log, e);
    buf_release(&b);
    return rc;
}

static char *consul_strdup_or_null(const char *s)
{
    return s && *s ? strdup(s) : NULL;
}

/* A kubeconfig made in memory: the server is Consul, the CA is ca_file, and
 * there is no user (the token goes in X-Consul-Token). The transport then
 * gives Consul the same TLS checks, keep-alive and retries as the API. */
int consul_open_direct(struct consul *c, const char *address, const char *ca_file,
                       const char *token, const char *origin, const char *where,
                       const struct logger *log, struct err *e)
{
    struct k8s_kubeconfig kc;
    k8s_kubeconfig_init(&kc);
    kc.sources = strdup(origin);
    kc.context = strdup("consul");
    kc.cluster.name = strdup(where);
    kc.cluster.file = strdup(origin);
    kc.cluster.server = strdup(address);
    kc.cluster.ca_file = consul_strdup_or_null(ca_file);
    kc.user.name = strdup("consul");
    kc.user.file = strdup(origin);
    if (!kc.sources || !kc.context || !kc.cluster.name || !kc.cluster.file ||
        !kc.cluster.server || (ca_file && *ca_file && !kc.cluster.ca_file) || !kc.user.name ||
        !kc.user.file) {
        k8s_kubeconfig_release(&kc);
        return err_set(e, ERR_FAILED, "out of memory");
    }
    return consul_open(c, &kc, "", token, where, log, e);
}

void consul_close(struct consul *c)
{
    if (c->token_header) {
        explicit_bzero(c->token_header, strlen(c->token_header));
        free(c->token_header);
    }
    free(c->base);
    k8s_client_release(&c->http);
    memset(c, 0, sizeof(*c));
}

/* ---- entries ---------------------------------------------------------------- */

void consul_kv_release(struct consul_kv *kv)
{
    free(kv->key);
    free(kv->value);
    memset(kv, 0, sizeof(*kv));
}

void consul_kvs_release(struct consul_kvs *l)
{
    for (size_t i = 0; i < l->n; i++)
        consul_kv_release(&l->v[i]);
    free(l->v);
    memset(l, 0, sizeof(*l));
}

static int consul_kv_cmp(const void *a, const void *b)
{
    return strcmp(((const struct consul_kv *)a)->key, ((const struct consul_kv *)b)->key);
}

const struct consul_kv *consul_kvs_find(const struct consul_kvs *l, const char *key)
{
    struct consul_kv k = { .key = (char *)key };
    if (!l->n)
        return NULL;
    return bsearch(&k, l->v, l->n, sizeof(k), consul_kv_cmp);
}

int consul_kv_same(const struct consul_kv *a, const struct consul_kv *b)
{
    const char *va = a->value ? a->value : "", *vb = b->value ? b->value : "";
    return a->flags == b->flags && strcmp(va, vb) == 0;
}

static uint64_t consul_uint(const json_t *v)
{
    json_int_t n = json_integer_value(v);
    return n > 0 ? (uint64_t)n : 0;
}

/* One {"Key","Value","Flags","ModifyIndex",...} object into kv. */
static int consul_kv_from_json(const json_t *o, struct consul_kv *kv, struct err *e)
{
    const json_t *val = json_object_get(o, "Value");
    const char *key = json_string_value(json_object_get(o, "Key"));
    memset(kv, 0, sizeof(*kv));
    if (!json_is_object(o) || !key || (val && !json_is_null(val) && !json_is_string(val)))
        return err_set(e, ERR_FAILED, "Consul sent a KV entry without a Key or with a "
                       "Value that is not a string");
    kv->key = strdup(key);
    if (json_is_string(val) && json_string_length(val))
        kv->value = strdup(json_string_value(val));
    kv->flags = consul_uint(json_object_get(o, "Flags"));
    kv->modify_index = consul_uint(json_object_get(o, "ModifyIndex"));
    if (!kv->key || (json_is_string(val) && json_string_length(val) && !kv->value)) {
        consul_kv_release(kv);
        return err_set(e, ERR_FAILED, "out of memory");
    }
    return 0;
}

/* Entries of arr (each the object itself, or its "KV" member when sub). */
static int consul_kvs_from_array(const json_t *arr, const char *sub, struct consul_kvs *out,
                                 struct err *e)
{
    size_t i, n = json_array_size(arr);
    memset(out, 0, sizeof(*out));
    if (n && !(out->v = calloc(n, sizeof(*out->v))))
        return err_set(e, ERR_FAILED, "out of memory");
    for (i = 0; i < n; i++) {
        const json_t *o = json_array_get(arr, i);
        if (sub)
            o = json_object_get(o, sub);
        if (sub && !o)
            continue;   /* a result of another kind */
        if (consul_kv_from_json(o, &out->v[out->n], e) < 0) {
            consul_kvs_release(out);
            return -1;
        }
        out->n++;
    }
    if (out->n > 1)
        qsort(out->v, out->n, sizeof(*out->v), consul_kv_cmp);
    return 0;
}

int consul_kvs_parse(const char *body, size_t len, struct consul_kvs *out, struct err *e)
{
    json_error_t je;
    json_t *doc = json_loadb(body, len, 0, &je);
    int rc;
    memset(out, 0, sizeof(*out));
    if (!json_is_array(doc)) {
        json_decref(doc);
        return err_set(e, ERR_FAILED, "Consul sent a KV listing that is not a JSON array "
                       "(line %d: %s)", je.line, doc ? "not an array" : je.text);
    }
    rc = consul_kvs_from_array(doc, NULL, out, e);
    json_decref(doc);
    return rc;
}

/* ---- reads -------------------------------------------------------------------- */

static void consul_kv_path(const struct consul *c, struct buf *b, const char *key)
{
    buf_puts(b, c->base);
    buf_puts(b, "/v1/kv/");
    buf_uri_encode(b, key, strlen(key), 1);
}

/* Consul's own words for the common refusals. */
static int consul_error(const struct consul *c, struct err *e)
{
    if (e->http_status == 403)
        return err_wrap(e, "Consul of %s refused the request (check the ACL token: "
                        "[consul] token_file or CONSUL_HTTP_TOKEN, and its KV policy)", c->where);
    return err_wrap(e, "Consul of %s", c->where);
}

static int consul_get(struct consul *c, const char *path, long timeout_ms,
                      const volatile sig_atomic_t *cancel, struct k8s_response *resp,
                      int *missing, struct err *e)
{
    struct k8s_request req = { .verb = "GET", .path = path, .timeout_ms = timeout_ms,
                               .extra_headers = c->headers, .cancel = cancel,
                               .want_header = "X-Consul-Index" };
    *missing = 0;
    c->reads++;
    if (k8s_send(&c->http, &req, resp, e) == 0)
        return 0;
    if (e->http_status == 404 && !strstr(resp->content_type, "json")) {
        /* Consul's 404 (no such key) has no JSON body; the API server's
         * (no such service) is a Status document. */
        err_init(e);
        *missing = 1;
        return 0;
    }
    if (strcmp(e->code, "Interrupted") == 0)
        return -1;
    return consul_error(c, e);
}

int consul_kv_list(struct consul *c, const char *prefix, uint64_t index,
                   const volatile sig_atomic_t *cancel, struct consul_kvs *out,
                   struct err *e)
{
    struct buf path = BUF_INIT;
    struct k8s_response resp;
    int missing = 0, rc;
    memset(out, 0, sizeof(*out));
    k8s_response_init(&resp);
    consul_kv_path(c, &path, prefix);
    buf_puts(&path, "?recurse");
    if (index)
        buf_printf(&path, "&index=%" PRIu64 "&wait=%ds", index, CONSUL_WAIT_S);
    if (path.failed)
        rc = err_set(e, ERR_FAILED, "out of memory");
    else
        rc = consul_get(c, buf_str(&path), CONSUL_LIST_TIMEOUT_MS, cancel, &resp, &missing, e);
    if (rc == 0 && !missing &&
        (rc = consul_kvs_parse(buf_str(&resp.body), resp.body.len, out, e)) < 0)
        err_wrap(e, "Consul of %s", c->where);
    if (rc == 0)
        out->index = strtoull(resp.header, NULL, 10);
    k8s_response_release(&resp);
    buf_release(&path);
    return rc;
}

int consul_kv_get(struct consul *c, const char *key, struct consul_kv *out, int *found,
                  struct err *e)
{
    struct buf path = BUF_INIT;
    struct k8s_response resp;
    struct consul_kvs l;
    int missing = 0, rc;
    memset(out, 0, sizeof(*out));
    *found = 0;
    k8s_response_init(&resp);
    consul_kv_path(c, &path, key);
    rc = path.failed ? err_set(e, ERR_FAILED, "out of memory")
                     : consul_get(c, buf_str(&path), 0, NULL, &resp, &missing, e);
    if (rc == 0 && !missing && consul_kvs_parse(buf_str(&resp.body), resp.body.len, &l, e) == 0) {
        const struct consul_kv *kv = consul_kvs_find(&l, key);
        if (kv) {
            *out = *kv;   /* moved out of the list */
            memset((struct consul_kv *)kv, 0, sizeof(*kv));
            *found = 1;
        }
        consul_kvs_release(&l);
    } else if (rc == 0 && !missing) {
        rc = err_wrap(e, "Consul of %s", c->where);
    }
    k8s_response_release(&resp);
    buf_release(&path);
    return rc;
}

/* ---- transactions --------------------------------------------------------------- */

char *consul_txn_body(const struct consul_op *ops, size_t n)
{
    json_t *arr = json_array();
    char *s = NULL;
    size_t i;
    for (i = 0; arr && i < n; i++) {
        const struct consul_op *op = &ops[i];
        json_t *kv = json_pack("{s:s, s:s, s:I}", "Verb",
                               op->verb == CONSUL_CAS ? "cas" : "delete-cas", "Key", op->key,
                               "Index", (json_int_t)op->index);
        if (kv && op->verb == CONSUL_CAS &&
            (json_object_set_new(kv, "Value", json_string(op->value ? op->value : "")) < 0 ||
             json_object_set_new(kv, "Flags", json_integer((json_int_t)op->flags)) < 0)) {
            json_decref(kv);
            kv = NULL;
        }
        if (!kv || json_array_append_new(arr, json_pack("{s:o}", "KV", kv)) < 0)
            break;
    }
    if (arr && i == n)
        s = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    return s;
}

static int consul_txn_failures(const json_t *errs, size_t n, struct consul_txn_result *r,
                               struct err *e)
{
    size_t i;
    if (!json_is_array(errs) || !json_array_size(errs))
        return err_set(e, ERR_FAILED, "Consul rolled a transaction back without saying why");
    for (i = 0; i < json_array_size(errs) && r->n_failed < CONSUL_TXN_MAX_OPS; i++) {
        const json_t *x = json_array_get(errs, i);
        json_int_t op = json_integer_value(json_object_get(x, "OpIndex"));
        const char *what = json_string_value(json_object_get(x, "What"));
        struct consul_txn_failure *f = &r->failed[r->n_failed];
        if (op < 0 || (size_t)op >= n)
            return err_set(e, ERR_FAILED, "Consul named operation %lld of a transaction of %zu",
                           (long long)op, n);
        f->op = (size_t)op;
        snprintf(f->what, sizeof(f->what), "%s", what ? what : "failed");
        r->n_failed++;
    }
    return 0;
}

int consul_txn_parse(long status, const char *body, size_t len, size_t n,
                     struct consul_txn_result *r, struct err *e)
{
    json_t *doc = json_loadb(body, len, 0, NULL);
    int rc;
    memset(r, 0, sizeof(*r));
    if (!json_is_object(doc)) {
        json_decref(doc);
        return err_set(e, ERR_FAILED, "Consul answered a transaction (HTTP %ld) with no "
                       "JSON object", status);
    }
    if (status == 200) {
        r->committed = 1;
        rc = consul_kvs_from_array(json_object_get(doc, "Results"), "KV", &r->kvs, e);
    } else if (status == 409) {
        rc = consul_txn_failures(json_object_get(doc, "Errors"), n, r, e);
    } else {
        rc = err_set(e, ERR_FAILED, "Consul answered a transaction with HTTP %ld", status);
    }
    json_decref(doc);
    return rc;
}

void consul_txn_result_release(struct consul_txn_result *r)
{
    consul_kvs_release(&r->kvs);
    memset(r, 0, sizeof(*r));
}

int consul_txn(struct consul *c, const struct consul_op *ops, size_t n,
               struct consul_txn_result *r, struct err *e)
{
    struct buf path = BUF_INIT;
    struct k8s_response resp;
    struct k8s_request req = { .verb = "PUT", .extra_headers = c->headers };
    char *body;
    int rc;
    memset(r, 0, sizeof(*r));
    if (n > CONSUL_TXN_MAX_OPS)
        return err_set(e, ERR_FAILED, "a transaction of %zu operations (at most %d)", n,
                       CONSUL_TXN_MAX_OPS);
    body = consul_txn_body(ops, n);
    buf_puts(&path, c->base);
    buf_puts(&path, "/v1/txn");
    if (!body || path.failed) {
        free(body);
        buf_release(&path);
        return err_set(e, ERR_FAILED, "out of memory");
    }
    req.path = buf_str(&path);
    req.body = body;
    req.body_len = strlen(body);
    k8s_response_init(&resp);
    c->writes++;
    rc = k8s_send(&c->http, &req, &resp, e);
    if (rc == 0 || e->http_status == 409) {
        err_init(e);
        rc = consul_txn_parse(resp.status, buf_str(&resp.body), resp.body.len, n, r, e);
    } else {
        consul_error(c, e);
    }
    if (rc < 0)
        consul_txn_result_release(r);
    k8s_response_release(&resp);
    explicit_bzero(body, strlen(body));   /* values: not secret, but not kept */
    free(body);
    buf_release(&path);
    return rc;
}
