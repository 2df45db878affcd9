/* API discovery (see discovery.h): aggregated v2 documents when offered,
 * else the legacy documents fetched in parallel. Feeds SPEC.md "Migration"
 * (every listable resource type, custom resources included). */
#include "k8s/discovery.h"

#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "core/buf.h"

#define DISC_ACCEPT_AGGREGATED \
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"

void k8s_discovery_init(struct k8s_discovery *d)
{
    memset(d, 0, sizeof(*d));
}

void k8s_discovery_release(struct k8s_discovery *d)
{
    for (size_t i = 0; i < d->n; i++) {
        free(d->types[i].group);
        free(d->types[i].version);
        free(d->types[i].resource);
        free(d->types[i].kind);
    }
    free(d->types);
    for (size_t i = 0; i < d->n_failed; i++)
        free(d->failed[i]);
    free(d->failed);
    k8s_discovery_init(d);
}

void k8s_discovery_free(struct k8s_discovery *d)
{
    if (d) {
        k8s_discovery_release(d);
        free(d);
    }
}

const struct k8s_resource_type *k8s_discovery_find(const struct k8s_discovery *d,
                                                   const char *group,
                                                   const char *resource)
{
    for (size_t i = 0; i < d->n; i++)
        if (strcmp(d->types[i].group, group ? group : "") == 0 &&
            strcmp(d->types[i].resource, resource) == 0)
            return &d->types[i];
    return NULL;
}

int k8s_resource_listable(const struct k8s_resource_type *t)
{
    return (t->verbs & K8S_CAN_LIST) != 0;
}

static unsigned disc_verbs(json_t *verbs)
{
    static const char *const names[] = {
        "get", "list", "watch", "create", "update", "patch", "delete", "deletecollection",
    };
    unsigned bits = 0;
    size_t i;
    json_t *v;
    json_array_foreach(verbs, i, v) {
        const char *s = json_string_value(v);
        for (unsigned k = 0; s && k < sizeof(names) / sizeof(names[0]); k++)
            if (strcmp(s, names[k]) == 0)
                bits |= 1u << k;
    }
    return bits;
}

/* Adds one type unless it is a subresource or its (group, resource) is
 * already there: callers add a group's preferred version first. */
static int disc_add(struct k8s_discovery *d, const struct k8s_resource_type *t,
                    struct err *e)
{
    struct k8s_resource_type *n;
    if (!t->resource || !*t->resource || strchr(t->resource, '/') ||
        k8s_discovery_find(d, t->group, t->resource))
        return 0;
    if (util_grow(&d->types, &d->cap, d->n, sizeof(*d->types)) < 0)
        return err_set(e, ERR_FAILED, "out of memory");
    n = &d->types[d->n];
    *n = *t;
    n->group = strdup(t->group);
    n->version = strdup(t->version);
    n->resource = strdup(t->resource);
    n->kind = strdup(t->kind ? t->kind : "");
    d->n++;   /* counted now so release frees whatever was copied */
    if (!n->group || !n->version || !n->resource || !n->kind)
        return err_set(e, ERR_FAILED, "out of memory");
    return 0;
}

static int disc_add_failed(struct k8s_discovery *d, const char *gv, const char *why)
{
    struct buf b = BUF_INIT;
    char **p = realloc(d->failed, (d->n_failed + 1) * sizeof(char *));
    if (!p)
        return -1;
    d->failed = p;
    buf_printf(&b, "%s: %s", gv, why);
    if (!(d->failed[d->n_failed] = buf_detach(&b)))
        return -1;
    d->n_failed++;
    return 0;
}

/* ---- parsers ------------------------------------------------------------- */

int k8s_discovery_add_resource_list(struct k8s_discovery *d, const char *group,
                                    const char *version, int preferred,
                                    json_t *doc, struct err *e)
{
    json_t *list = json_object_get(doc, "resources"), *r;
    size_t i;
    if (!json_is_array(list))
        return err_set(e, ERR_FAILED, "discovery %s%s%s: not an APIResourceList",
                       group, *group ? "/" : "", version);
    json_array_foreach(list, i, r) {
        struct k8s_resource_type t = {
            (char *)group, (char *)version,
            (char *)json_string_value(json_object_get(r, "name")),
            (char *)json_string_value(json_object_get(r, "kind")),
            json_is_true(json_object_get(r, "namespaced")),
            disc_verbs(json_object_get(r, "verbs")), preferred,
        };
        if (disc_add(d, &t, e) < 0)
            return -1;
    }
    return 0;
}

static int disc_add_aggregated_version(struct k8s_discovery *d, const char *group,
                                       json_t *ver, int preferred, struct err *e)
{
    const char *version = json_string_value(json_object_get(ver, "version"));
    json_t *r;
    size_t i;
    if (!version)
        return err_set(e, ERR_FAILED, "aggregated discovery: group \"%s\": version without a name",
                       group);
    json_array_foreach(json_object_get(ver, "resources"), i, r) {
        const char *scope = json_string_value(json_object_get(r, "scope"));
        struct k8s_resource_type t = {
            (char *)group, (char *)version,
            (char *)json_string_value(json_object_get(r, "resource")),
            (char *)json_string_value(json_object_get(json_object_get(r, "responseKind"), "kind")),
            scope && strcmp(scope, "Namespaced") == 0,
            disc_verbs(json_object_get(r, "verbs")), preferred,
        };
        if (disc_add(d, &t, e) < 0)
            return -1;
    }
    return 0;
}

int k8s_discovery_add_aggregated(struct k8s_discovery *d, json_t *doc, struct err *e)
{
    json_t *items = json_object_get(doc, "items"), *g, *v;
    size_t i, k;
    if (!json_is_array(items))
        return err_set(e, ERR_FAILED, "aggregated discovery: not an APIGroupDiscoveryList");
    json_array_foreach(items, i, g) {
        const char *group = json_string_value(json_object_get(json_object_get(g, "metadata"), "name"));
        /* versions come in preference order */
        json_array_foreach(json_object_get(g, "versions"), k, v)
            if (disc_add_aggregated_version(d, group ? group : "", v, k == 0, e) < 0)
                return -1;
    }
    d->aggregated = 1;
    return 0;
}

/* ---- fetching ------------------------------------------------------------ */

static int disc_json(const struct k8s_request *req, const struct k8s_response *resp,
                     json_t **out, struct err *e)
{
    json_error_t je;
    *out = json_loadb(buf_str(&resp->body), resp->body.len, 0, &je);
    if (!*out)
        return err_set(e, ERR_FAILED, "GET %s: answer is not JSON: %s", req->path, je.text);
    return 0;
}

/* One group-version to read in the legacy way. */
struct disc_gv {
    char group[256];
    char version[64];
    char path[400];
    int preferred;
};

static int disc_gv_push(struct disc_gv **v, size_t *n, const char *group,
                        const char *version, int preferred)
{
    struct disc_gv *p = realloc(*v, (*n + 1) * sizeof(**v)), *g;
    if (!p)
        return -1;
    *v = p;
    g = &p[(*n)++];
    snprintf(g->group, sizeof(g->group), "%s", group);
    snprintf(g->version, sizeof(g->version), "%s", version);
    if (*group)
        snprintf(g->path, sizeof(g->path), "/apis/%s/%s", group, version);
    else
        snprintf(g->path, sizeof(g->path), "/api/%s", version);
    g->preferred = preferred;
    return 0;
}

/* Every group-version of /api and /apis, each group's preferred first. */
static int disc_gv_list(json_t *api, json_t *apis, struct disc_gv **out, size_t *n)
{
    json_t *x, *g;
    size_t i, k;
    json_array_foreach(json_object_get(api, "versions"), i, x)
        if (json_is_string(x) && disc_gv_push(out, n, "", json_string_value(x), i == 0) < 0)
            return -1;
    json_array_foreach(json_object_get(apis, "groups"), i, g) {
        const char *name = json_string_value(json_object_get(g, "name"));
        const char *pref = json_string_value(
            json_object_get(json_object_get(g, "preferredVersion"), "version"));
        if (!name)
            continue;
        if (pref && disc_gv_push(out, n, name, pref, 1) < 0)
            return -1;
        json_array_foreach(json_object_get(g, "versions"), k, x) {
            const char *v = json_string_value(json_object_get(x, "version"));
            if (v && (!pref || strcmp(v, pref) != 0) && disc_gv_push(out, n, name, v, 0) < 0)
                return -1;
        }
    }
    return 0;
}

/* A group-version that fails with an HTTP error (an aggregated API that is
 * down, a stale group) is noted and skipped, as kubectl does; no answer at
 * all, or rejected credentials, fail discovery. */
static int disc_gv_result(struct k8s_discovery *d, const struct disc_gv *gv,
                          const struct k8s_request *req, const struct k8s_response *resp,
                          struct err *ge, struct err *e)
{
    json_t *doc;
    int rc;
    if (ge->kind) {
        if (!ge->http_status || ge->http_status == 401 || ge->http_status == 403) {
            *e = *ge;
            return -1;
        }
        return disc_add_failed(d, gv->path, ge->msg) < 0
            ? err_set(e, ERR_FAILED, "out of memory") : 0;
    }
    if (disc_json(req, resp, &doc, e) < 0)
        return -1;
    rc = k8s_discovery_add_resource_list(d, gv->group, gv->version, gv->preferred, doc, e);
    json_decref(doc);
    return rc;
}

static int disc_legacy(struct k8s_client *c, struct k8s_discovery *d, json_t *api,
                       json_t *apis, struct err *e)
{
    struct disc_gv *gvs = NULL;
    struct k8s_request *reqs = NULL;
    struct k8s_response *resps = NULL;
    struct err *errs = NULL;
    size_t n = 0;
    int rc = -1;
    if (disc_gv_list(api, apis, &gvs, &n) < 0 ||
        !(reqs = calloc(n + 1, sizeof(*reqs))) || !(resps = calloc(n + 1, sizeof(*resps))) ||
        !(errs = calloc(n + 1, sizeof(*errs)))) {
        err_set(e, ERR_FAILED, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        reqs[i] = (struct k8s_request){ .verb = "GET", .path = gvs[i].path };
    k8s_send_all(c, reqs, n, resps, errs);
    rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = disc_gv_result(d, &gvs[i], &reqs[i], &resps[i], &errs[i], e);
    for (size_t i = 0; i < n; i++)
        k8s_response_release(&resps[i]);
out:
    free(gvs);
    free(reqs);
    free(resps);
    free(errs);
    return rc;
}

static int disc_is_aggregated(json_t *doc)
{
    const char *kind = json_string_value(json_object_get(doc, "kind"));
    return kind && strcmp(kind, "APIGroupDiscoveryList") == 0;
}

/* Asks /api and /apis for aggregated documents; a server without them
 * answers with the legacy ones, which the legacy path then uses. */
static int disc_fetch(struct k8s_client *c, struct k8s_discovery *d, struct err *e)
{
    struct k8s_request reqs[2] = {
        { .verb = "GET", .path = "/api", .accept = DISC_ACCEPT_AGGREGATED },
        { .verb = "GET", .path = "/apis", .accept = DISC_ACCEPT_AGGREGATED },
    };
    struct k8s_response resps[2];
    struct err errs[2];
    json_t *docs[2] = { NULL, NULL };
    int rc = -1;
    if (c->o.legacy_discovery) {
        reqs[0].accept = NULL;
        reqs[1].accept = NULL;
    }
    k8s_send_all(c, reqs, 2, resps, errs);
    for (int i = 0; i < 2; i++)
        if (errs[i].kind) {
            *e = errs[i];
            goto out;
        }
    if (disc_json(&reqs[0], &resps[0], &docs[0], e) < 0 ||
        disc_json(&reqs[1], &resps[1], &docs[1], e) < 0)
        goto out;
    if (disc_is_aggregated(docs[0]) && disc_is_aggregated(docs[1]))
        rc = (k8s_discovery_add_aggregated(d, docs[0], e) < 0 ||
              k8s_discovery_add_aggregated(d, docs[1], e) < 0) ? -1 : 0;
    else
        rc = disc_legacy(c, d, docs[0], docs[1], e);
out:
    json_decref(docs[0]);
    json_decref(docs[1]);
    k8s_response_release(&resps[0]);
    k8s_response_release(&resps[1]);
    return rc;
}

int k8s_discover(struct k8s_client *c, const struct k8s_discovery **out,
                 struct err *e)
{
    struct k8s_discovery *d;
    if (c->discovery) {
        *out = c->discovery;
        return 0;
    }
    if (!(d = malloc(sizeof(*d))))
        return err_set(e, ERR_FAILED, "out of memory");
    k8s_discovery_init(d);
    if (disc_fetch(c, d, e) < 0) {
        k8s_discovery_free(d);
        return err_wrap(e, "discovery");
    }
    for (size_t i = 0; i < d->n_failed; i++)
        log_debug(c->log, 1, "k8s discovery skipped %s", d->failed[i]);
    c->discovery = d;
    c->discovery_free = k8s_discovery_free;
    *out = d;
    return 0;
}
