/* Kubernetes objects over the transport (see api.h): paths, CRUD as
 * batches of operations, paged lists and watches.
 * SPEC.md "Smoke" (reads) and "Migration" (list everything, create in DST). */
#include "k8s/api.h"
#include "core/util.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define API_LIST_RESTARTS 3
#define API_WATCH_FAILURES 5
#define API_MAX_EVENT ((size_t)64 * 1024 * 1024)

/* ---- paths ------------------------------------------------------------- */

static void api_segment(struct buf *b, const char *s)
{
    buf_putc(b, '/');
    buf_uri_encode(b, s, strlen(s), 0);
}

static int api_bad_name(const char *s)
{
    return strchr(s, '/') || strcmp(s, ".") == 0 || strcmp(s, "..") == 0;
}

int k8s_path(struct buf *out, const struct k8s_ref *r, struct err *e)
{
    int named = r->name && *r->name;
    if (!r->version || !*r->version || !r->resource || !*r->resource)
        return err_set(e, ERR_USAGE, "kubernetes path: version and resource are required");
    if (r->subresource && *r->subresource && !named)
        return err_set(e, ERR_USAGE, "kubernetes path: subresource %s needs an object name",
                       r->subresource);
    if ((named && api_bad_name(r->name)) ||
        (r->namespace && *r->namespace && api_bad_name(r->namespace)))
        return err_set(e, ERR_USAGE, "kubernetes path: invalid name '%s'",
                       named ? r->name : r->namespace);
    if (r->group && *r->group) {
        buf_puts(out, "/apis");
        api_segment(out, r->group);
    } else {
        buf_puts(out, "/api");
    }
    api_segment(out, r->version);
    if (r->namespace && *r->namespace) {
        buf_puts(out, "/namespaces");
        api_segment(out, r->namespace);
    }
    api_segment(out, r->resource);
    if (named)
        api_segment(out, r->name);
    if (r->subresource && *r->subresource)
        api_segment(out, r->subresource);
    return out->failed ? err_set(e, ERR_FAILED, "out of memory") : 0;
}

void k8s_query_add(struct buf *path, const char *key, const char *value)
{
    buf_putc(path, strchr(buf_str(path), '?') ? '&' : '?');
    buf_puts(path, key);
    buf_putc(path, '=');
    buf_uri_encode(path, value, strlen(value), 0);
}

/* ---- operations ---------------------------------------------------------- */

static const char *const api_verbs[] = { "GET", "POST", "PUT", "PATCH", "DELETE" };

/* What one operation needs while it is in flight. */
struct api_slot {
    struct buf path;
    char *body;
};

static void api_slot_release(struct api_slot *s)
{
    buf_release(&s->path);
    if (s->body) {
        explicit_bzero(s->body, strlen(s->body));   /* may be a Secret */
        free(s->body);
    }
    s->body = NULL;
}

static int api_op_body(const struct k8s_op *op, struct api_slot *s, struct err *e)
{
    if (op->verb == K8S_OP_DELETE) {
        s->body = strdup("{\"kind\":\"DeleteOptions\",\"apiVersion\":\"v1\","
                         "\"propagationPolicy\":\"Background\"}");
        return s->body ? 0 : err_set(e, ERR_FAILED, "out of memory");
    }
    if (op->verb == K8S_OP_GET)
        return 0;
    if (!op->body)
        return err_set(e, ERR_USAGE, "%s %s: no object given", api_verbs[op->verb],
                       buf_str(&s->path));
    s->body = json_dumps(op->body, JSON_COMPACT);
    return s->body ? 0 : err_set(e, ERR_FAILED, "%s %s: cannot encode the object",
                                 api_verbs[op->verb], buf_str(&s->path));
}

static int api_op_prepare(const struct k8s_op *op, struct api_slot *s,
                          struct k8s_request *req, struct err *e)
{
    struct k8s_ref ref = op->ref;
    if (op->verb == K8S_OP_CREATE)
        ref.name = NULL;     /* POST goes to the collection */
    if ((unsigned)op->verb > K8S_OP_DELETE)
        return err_set(e, ERR_USAGE, "kubernetes: unknown operation %d", (int)op->verb);
    if (op->verb != K8S_OP_CREATE && !(ref.name && *ref.name))
        return err_set(e, ERR_USAGE, "%s: an object name is required", api_verbs[op->verb]);
    if (k8s_path(&s->path, &ref, e) < 0)
        return -1;
    if (op->query && *op->query)
        buf_printf(&s->path, "?%s", op->query);
    if (api_op_body(op, s, e) < 0)
        return -1;
    *req = (struct k8s_request){
        .verb = api_verbs[op->verb], .path = buf_str(&s->path),
        .content_type = op->verb == K8S_OP_PATCH ? "application/merge-patch+json" : NULL,
        .body = s->body, .body_len = s->body ? strlen(s->body) : 0,
    };
    return 0;
}

static void api_op_result(struct k8s_op *op, const struct k8s_request *req,
                          const struct k8s_response *resp)
{
    json_error_t je;
    op->result = json_loadb(buf_str(&resp->body), resp->body.len, 0, &je);
    if (!op->result)
        err_set(&op->err, ERR_FAILED, "%s %s: answer is not JSON: %s", req->verb, req->path,
                je.text);
}

void k8s_ops_release(struct k8s_op *ops, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        json_decref(ops[i].result);
        ops[i].result = NULL;
        err_init(&ops[i].err);
    }
}

int k8s_run_ops(struct k8s_client *c, struct k8s_op *ops, size_t n)
{
    struct api_slot *slots = calloc(n + 1, sizeof(*slots));
    struct k8s_request *reqs = calloc(n + 1, sizeof(*reqs));
    struct k8s_response *resps = calloc(n + 1, sizeof(*resps));
    struct err *errs = calloc(n + 1, sizeof(*errs));
    size_t *idx = calloc(n + 1, sizeof(*idx)), m = 0;
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        ops[i].result = NULL;
        err_init(&ops[i].err);
        if (!slots || !reqs || !resps || !errs || !idx)
            err_set(&ops[i].err, ERR_FAILED, "out of memory");
        else if (api_op_prepare(&ops[i], &slots[i], &reqs[m], &ops[i].err) == 0)
            idx[m++] = i;
    }
    if (m)
        k8s_send_all(c, reqs, m, resps, errs);
    for (size_t j = 0; j < m; j++) {
        struct k8s_op *op = &ops[idx[j]];
        if (errs[j].kind)
            op->err = errs[j];
        else
            api_op_result(op, &reqs[j], &resps[j]);
        k8s_response_release(&resps[j]);
    }
    for (size_t i = 0; i < n; i++) {
        if (ops[i].err.kind)
            rc = -1;
        if (slots)
            api_slot_release(&slots[i]);
    }
    free(slots);
    free(reqs);
    free(resps);
    free(errs);
    free(idx);
    return rc;
}

static int api_one(struct k8s_client *c, enum k8s_op_verb verb, const struct k8s_ref *r,
                   json_t *body, json_t **out, struct err *e)
{
    struct k8s_op op = { .verb = verb, .ref = *r, .body = body };
    int rc = k8s_run_ops(c, &op, 1);
    if (rc < 0)
        *e = op.err;
    if (out)
        *out = op.result;
    else
        json_decref(op.result);
    return rc;
}

int k8s_get(struct k8s_client *c, const struct k8s_ref *r, json_t **out, struct err *e)
{
    return api_one(c, K8S_OP_GET, r, NULL, out, e);
}

int k8s_create(struct k8s_client *c, const struct k8s_ref *r, json_t *obj,
               json_t **out, struct err *e)
{
    return api_one(c, K8S_OP_CREATE, r, obj, out, e);
}

int k8s_replace(struct k8s_client *c, const struct k8s_ref *r, json_t *obj,
                json_t **out, struct err *e)
{
    return api_one(c, K8S_OP_REPLACE, r, obj, out, e);
}

int k8s_patch(struct k8s_client *c, const struct k8s_ref *r, json_t *patch,
              json_t **out, struct err *e)
{
    return api_one(c, K8S_OP_PATCH, r, patch, out, e);
}

int k8s_delete(struct k8s_client *c, const struct k8s_ref *r, struct err *e)
{
    return api_one(c, K8S_OP_DELETE, r, NULL, NULL, e);
}

/* ---- lists --------------------------------------------------------------- */

/* The collection path with selectors (and, for a watch, more after). */
static int api_collection_path(struct buf *p, const struct k8s_ref *r, const char *labels,
                               const char *fields, struct err *e)
{
    struct k8s_ref coll = *r;
    coll.name = NULL;
    coll.subresource = NULL;
    if (k8s_path(p, &coll, e) < 0)
        return -1;
    if (labels && *labels)
        k8s_query_add(p, "labelSelector", labels);
    if (fields && *fields)
        k8s_query_add(p, "fieldSelector", fields);
    return 0;
}

/* List items carry no kind/apiVersion; give them the list's. */
static void api_fill_type(json_t *items, json_t *list)
{
    const char *kind = json_string_value(json_object_get(list, "kind"));
    json_t *api = json_object_get(list, "apiVersion"), *it;
    size_t len = kind ? strlen(kind) : 0, i;
    char item_kind[256];
    if (len <= 4 || len - 4 >= sizeof(item_kind) || strcmp(kind + len - 4, "List") != 0)
        return;
    memcpy(item_kind, kind, len - 4);
    item_kind[len - 4] = '\0';
    json_array_foreach(items, i, it) {
        if (!json_object_get(it, "kind"))
            json_object_set_new(it, "kind", json_string(item_kind));
        if (!json_object_get(it, "apiVersion") && json_is_string(api))
            json_object_set(it, "apiVersion", api);
    }
}

/* Reads one page; *page gets its items (a new array, kind and apiVersion
 * filled in), *next the continue token (malloc'd) or NULL. */
static int api_list_page(struct k8s_client *c, const char *path, json_t **page,
                         char **next, char *rv, size_t rv_size, struct err *e)
{
    struct k8s_request req = { .verb = "GET", .path = path };
    struct k8s_response resp;
    json_t *doc, *items, *meta;
    const char *cont, *v;
    json_error_t je;
    int rc = k8s_send(c, &req, &resp, e);
    *next = NULL;
    *page = NULL;
    if (rc < 0) {
        k8s_response_release(&resp);
        return -1;
    }
    doc = json_loadb(buf_str(&resp.body), resp.body.len, 0, &je);
    k8s_response_release(&resp);
    items = json_object_get(doc, "items");
    if (!doc || !(json_is_array(items) || json_is_null(items)))
        rc = err_set(e, ERR_FAILED, "GET %s: answer is not a list", path);
    if (rc == 0) {
        api_fill_type(items, doc);
        meta = json_object_get(doc, "metadata");
        cont = json_string_value(json_object_get(meta, "continue"));
        v = json_string_value(json_object_get(meta, "resourceVersion"));
        if (rv && v)
            snprintf(rv, rv_size, "%s", v);
        *page = json_is_array(items) ? json_incref(items) : json_array();
        if (!*page)
            rc = err_set(e, ERR_FAILED, "out of memory");
        if (rc == 0 && cont && *cont && !(*next = strdup(cont)))
            rc = err_set(e, ERR_FAILED, "out of memory");
    }
    json_decref(doc);
    return rc;
}

/* One pass over every page, each handed to fn. Returns 1 when a continue
 * token expired (fn has seen part of the collection). */
static int api_list_pass(struct k8s_client *c, const struct k8s_ref *r,
                         const struct k8s_list_opts *o, k8s_page_fn fn, void *arg,
                         int restarted, char *rv, size_t rv_size, struct err *e)
{
    char *cont = NULL, limit[32];
    int rc = 0;
    snprintf(limit, sizeof(limit), "%ld", o && o->limit > 0 ? o->limit : 500L);
    do {
        struct buf path = BUF_INIT;
        char *next = NULL;
        json_t *page = NULL;
        rc = api_collection_path(&path, r, o ? o->label_selector : NULL,
                                 o ? o->field_selector : NULL, e);
        if (rc == 0) {
            k8s_query_add(&path, "limit", limit);
            if (cont)
                k8s_query_add(&path, "continue", cont);
            rc = api_list_page(c, buf_str(&path), &page, &next, rv, rv_size, e);
            if (rc < 0 && cont && e->http_status == 410)
                rc = 1;
        }
        if (rc == 0 && fn(arg, page, restarted, e) < 0)
            rc = -1;
        restarted = 0;
        json_decref(page);
        buf_release(&path);
        free(cont);
        cont = next;
    } while (rc == 0 && cont);
    free(cont);
    return rc;
}

int k8s_list_pages(struct k8s_client *c, const struct k8s_ref *r,
                   const struct k8s_list_opts *o, k8s_page_fn fn, void *arg,
                   char *rv, size_t rv_size, struct err *e)
{
    for (int pass = 0;; pass++) {
        int rc = api_list_pass(c, r, o, fn, arg, pass > 0, rv, rv_size, e);
        if (rc == 0)
            return 0;
        if (rc < 0 || pass == API_LIST_RESTARTS)
            return -1;
        /* the snapshot behind the continue token is gone: start over */
        log_debug(c->log, 1, "k8s list %s: continue token expired, listing again", r->resource);
    }
}

/* k8s_list's page function: gathers every item, from scratch on a restart. */
static int api_gather(void *arg, json_t *items, int restarted, struct err *e)
{
    json_t *all = arg;
    if (restarted)
        json_array_clear(all);
    if (json_array_extend(all, items) < 0)
        return err_set(e, ERR_FAILED, "out of memory");
    return 0;
}

int k8s_list(struct k8s_client *c, const struct k8s_ref *r,
             const struct k8s_list_opts *o, json_t **items,
             char *rv, size_t rv_size, struct err *e)
{
    json_t *all = json_array();
    *items = NULL;
    if (!all)
        return err_set(e, ERR_FAILED, "out of memory");
    if (k8s_list_pages(c, r, o, api_gather, all, rv, rv_size, e) < 0) {
        json_decref(all);
        return -1;
    }
    *items = all;
    return 0;
}

/* ---- watch ------------------------------------------------------------- */

struct api_watch {
    struct k8s_client *c;
    k8s_watch_fn fn;
    void *arg;
    struct buf line;        /* bytes of an event not yet complete */
    char rv[128];           /* last resourceVersion seen */
    int stopped;            /* fn asked to stop */
    int expired;            /* ERROR 410: list again */
    int events;             /* events this connection */
    struct err fail;        /* a bad event or an ERROR event */
};

static void api_watch_rv(struct api_watch *w, json_t *object)
{
    const char *v = json_string_value(
        json_object_get(json_object_get(object, "metadata"), "resourceVersion"));
    if (v && *v)
        snprintf(w->rv, sizeof(w->rv), "%s", v);
}

/* An ERROR event carries a Status: 410 means list again. */
static void api_watch_error(struct api_watch *w, json_t *status)
{
    json_int_t code = json_integer_value(json_object_get(status, "code"));
    const char *msg = json_string_value(json_object_get(status, "message"));
    const char *reason = json_string_value(json_object_get(status, "reason"));
    if (code == 410) {
        w->expired = 1;
        return;
    }
    err_set(&w->fail, ERR_FAILED, "watch: the server ended the watch: %lld %s%s%s",
            (long long)code, reason ? reason : "", msg ? ": " : "", msg ? msg : "");
    snprintf(w->fail.code, sizeof(w->fail.code), "%s", reason ? reason : "");
    w->fail.http_status = (long)code;
}

static void api_watch_event(struct api_watch *w, const char *line, size_t len)
{
    json_t *ev = json_loadb(line, len, 0, NULL);
    const char *type = json_string_value(json_object_get(ev, "type"));
    json_t *object = json_object_get(ev, "object");
    if (!type || !json_is_object(object))
        err_set(&w->fail, ERR_FAILED, "watch: the server sent a malformed event");
    else if (strcmp(type, "ERROR") == 0)
        api_watch_error(w, object);
    else {
        api_watch_rv(w, object);
        w->events++;
        if (strcmp(type, "BOOKMARK") != 0 && w->fn(w->arg, type, object))
            w->stopped = 1;
    }
    json_decref(ev);
}

/* The stream, chunk by chunk: one JSON event per line. */
static int api_watch_data(void *arg, const char *p, size_t n)
{
    struct api_watch *w = arg;
    char *nl;
    size_t used = 0;
    buf_add(&w->line, p, n);
    if (w->line.failed || w->line.len > API_MAX_EVENT) {
        err_set(&w->fail, ERR_FAILED, "watch: event too large or out of memory");
        return 1;
    }
    while (!w->stopped && !w->expired && !w->fail.kind &&
           (nl = memchr(w->line.data + used, '\n', w->line.len - used))) {
        size_t len = (size_t)(nl - (w->line.data + used));
        if (len)
            api_watch_event(w, w->line.data + used, len);
        used += len + 1;
    }
    memmove(w->line.data, w->line.data + used, w->line.len - used);
    w->line.len -= used;
    w->line.data[w->line.len] = '\0';
    return w->stopped || w->expired || w->fail.kind;
}

/* Lists, reports every object as ADDED, and starts from the list's version. */
static int api_watch_relist(struct api_watch *w, const struct k8s_ref *r,
                            const struct k8s_watch_opts *o, struct err *e)
{
    struct k8s_list_opts lo = { o->label_selector, o->field_selector, 0 };
    json_t *items, *it;
    size_t i;
    if (k8s_list(w->c, r, &lo, &items, w->rv, sizeof(w->rv), e) < 0)
        return -1;
    json_array_foreach(items, i, it)
        if (w->fn(w->arg, "ADDED", it)) {
            w->stopped = 1;
            break;
        }
    json_decref(items);
    w->expired = 0;
    return 0;
}

/* One connection of the watch, until the server or the deadline ends it. */
static int api_watch_connect(struct api_watch *w, const struct k8s_ref *r,
                             const struct k8s_watch_opts *o, long long left_ms,
                             struct err *e)
{
    struct buf path = BUF_INIT;
    struct k8s_response resp;
    long secs = left_ms > 0 && left_ms < 300000 ? (long)((left_ms + 999) / 1000) : 300;
    char num[32];
    struct k8s_request req = { .verb = "GET", .on_data = api_watch_data, .arg = w };
    int rc;
    if (api_collection_path(&path, r, o->label_selector, o->field_selector, e) < 0) {
        buf_release(&path);
        return -1;
    }
    snprintf(num, sizeof(num), "%ld", secs);
    k8s_query_add(&path, "watch", "1");
    k8s_query_add(&path, "resourceVersion", w->rv);
    k8s_query_add(&path, "allowWatchBookmarks", "true");
    k8s_query_add(&path, "timeoutSeconds", num);
    req.path = buf_str(&path);
    /* the server ends the stream at timeoutSeconds; curl's limit is a
     * backstop, or the caller's deadline */
    req.timeout_ms = left_ms > 0 && left_ms < 300000 ? (long)left_ms + 200 : secs * 1000 + 15000;
    buf_reset(&w->line);
    w->events = 0;
    rc = k8s_send(w->c, &req, &resp, e);
    k8s_response_release(&resp);
    buf_release(&path);
    return rc;
}

/* Decides what follows a connection: 0 go on (maybe relist), -1 fail. */
static int api_watch_next(struct api_watch *w, int rc, int *failures, struct err *e)
{
    if (w->fail.kind) {
        *e = w->fail;
        return -1;
    }
    if (w->expired || (rc < 0 && e->http_status == 410)) {
        w->expired = 1;
        return 0;
    }
    if (rc == 0 || w->events) {
        /* a stream that ended at once, empty: don't hammer the server */
        if (!w->events)
            usleep((useconds_t)k8s_backoff_ms(w->c, 1, 0) * 1000);
        *failures = 0;
        return 0;
    }
    if (!k8s_error_retryable(e) || ++*failures >= API_WATCH_FAILURES)
        return -1;
    usleep((useconds_t)k8s_backoff_ms(w->c, *failures, 0) * 1000);
    return 0;
}

int k8s_watch(struct k8s_client *c, const struct k8s_ref *r,
              const struct k8s_watch_opts *o, k8s_watch_fn fn, void *arg,
              struct err *e)
{
    struct api_watch w = { .c = c, .fn = fn, .arg = arg };
    long long deadline = o->timeout_ms > 0 ? util_now_ms() + o->timeout_ms : 0;
    int failures = 0, rc = 0;
    err_init(&w.fail);
    buf_init(&w.line);
    if (o->resource_version && *o->resource_version)
        snprintf(w.rv, sizeof(w.rv), "%s", o->resource_version);
    else
        w.expired = 1;    /* no starting point: list first */
    while (rc == 0 && !w.stopped) {
        long long left = deadline ? deadline - util_now_ms() : 0;
        if (w.expired && (rc = api_watch_relist(&w, r, o, e)) < 0)
            break;
        if (w.stopped)
            break;
        if (deadline && left <= 0) {
            rc = err_set(e, ERR_FAILED, "watch %s: nothing stopped it within %ld ms",
                         r->resource, o->timeout_ms);
            snprintf(e->code, sizeof(e->code), "Timeout");
            break;
        }
        rc = api_watch_next(&w, api_watch_connect(&w, r, o, left, e), &failures, e);
    }
    buf_release(&w.line);
    return w.stopped ? 0 : rc;
}
