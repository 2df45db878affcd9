/* Kubernetes objects over the transport: paths for (group, version,
 * resource, namespace, name, subresource), get, list (every page), create,
 * replace, merge-patch, delete, watch, and batches of these run in parallel.
 * Objects are jansson json_t*. SPEC.md "Smoke" and "Migration". */
#ifndef K8S_API_H
#define K8S_API_H

#include <stddef.h>

#include <jansson.h>

#include "core/buf.h"
#include "core/err.h"
#include "k8s/client.h"

/* Names an object or a collection. Strings are borrowed. */
struct k8s_ref {
    const char *group;        /* NULL or "" = the core group (/api/v1) */
    const char *version;      /* "v1" */
    const char *resource;     /* plural: "configmaps" */
    const char *namespace;    /* NULL/"" = cluster-scoped, or all namespaces */
    const char *name;         /* NULL = the collection */
    const char *subresource;  /* NULL, "status", "scale"... */
};

/* Appends the URI-encoded path of r to out ("/apis/apps/v1/namespaces/
 * ns/deployments/web"). ERR_USAGE when version or resource is missing, a
 * subresource has no name, or a name contains '/'. */
int k8s_path(struct buf *out, const struct k8s_ref *r, struct err *e);

/* Appends "?key=value" or "&key=value" (value URI-encoded). */
void k8s_query_add(struct buf *path, const char *key, const char *value);

/* The object at r: *out is a new reference (caller json_decref). */
int k8s_get(struct k8s_client *c, const struct k8s_ref *r, json_t **out,
            struct err *e);

struct k8s_list_opts {
    const char *label_selector;   /* NULL = everything */
    const char *field_selector;
    long limit;                   /* page size; 0 = 500 */
};

/* Every object of the collection r (namespace NULL/"" = all namespaces),
 * following every continue token. A 410 Expired on a continue token
 * restarts the list from the beginning (at most 3 times). Items get the
 * kind and apiVersion the server leaves out of list items. *items: a new
 * JSON array (caller json_decref). rv: when not NULL, the list's
 * resourceVersion (a watch can start from it). */
int k8s_list(struct k8s_client *c, const struct k8s_ref *r,
             const struct k8s_list_opts *o, json_t **items,
             char *rv, size_t rv_size, struct err *e);

/* Called with each page's items (borrowed; kind and apiVersion filled in).
 * restarted is 1 on the first page after a 410 Expired made the list start
 * over: items seen before may come again. Return -1 (with e) to stop. */
typedef int (*k8s_page_fn)(void *arg, json_t *items, int restarted, struct err *e);

/* As k8s_list, a page at a time, so memory stays bounded by the page size
 * (SPEC.md "Migration" reads whole clusters this way). */
int k8s_list_pages(struct k8s_client *c, const struct k8s_ref *r,
                   const struct k8s_list_opts *o, k8s_page_fn fn, void *arg,
                   char *rv, size_t rv_size, struct err *e);

/* POST obj to the collection r. obj is borrowed; out (may be NULL) gets the
 * created object (caller json_decref). An existing object is an error with
 * code "AlreadyExists" (and, after a retried POST, may be our own). */
int k8s_create(struct k8s_client *c, const struct k8s_ref *r, json_t *obj,
               json_t **out, struct err *e);
/* PUT obj to r (which names the object). */
int k8s_replace(struct k8s_client *c, const struct k8s_ref *r, json_t *obj,
                json_t **out, struct err *e);
/* PATCH r with a JSON merge patch (RFC 7386). */
int k8s_patch(struct k8s_client *c, const struct k8s_ref *r, json_t *patch,
              json_t **out, struct err *e);
/* DELETE r (background propagation). A missing object is an error with
 * code "NotFound". */
int k8s_delete(struct k8s_client *c, const struct k8s_ref *r, struct err *e);

/* ---- batches ------------------------------------------------------------ */

enum k8s_op_verb { K8S_OP_GET, K8S_OP_CREATE, K8S_OP_REPLACE, K8S_OP_PATCH, K8S_OP_DELETE };

struct k8s_op {
    enum k8s_op_verb verb;
    struct k8s_ref ref;
    json_t *body;          /* borrowed: the object, or the merge patch */
    const char *query;     /* extra query ("dryRun=All"), NULL = none */
    json_t *result;        /* out: the answer (caller json_decref), or NULL */
    struct err err;        /* out */
};

/* Runs n operations in parallel, at most the client's max_in_flight at
 * once (and within its QPS), each retried on its own. Returns 0 if all
 * succeeded, else -1: look at each ops[i].err. */
int k8s_run_ops(struct k8s_client *c, struct k8s_op *ops, size_t n);

/* Releases results and errors of ops (not the bodies). */
void k8s_ops_release(struct k8s_op *ops, size_t n);

/* ---- watch -------------------------------------------------------------- */

/* Called per event: type "ADDED", "MODIFIED" or "DELETED"; object is
 * borrowed for the call. Return 0 to go on, non-zero to stop watching. */
typedef int (*k8s_watch_fn)(void *arg, const char *type, json_t *object);

struct k8s_watch_opts {
    const char *label_selector;
    const char *field_selector;
    const char *resource_version;  /* start after this; NULL/"" = list first */
    long timeout_ms;               /* give up after; 0 = until fn stops it */
};

/* Watches the collection r. Without a resource version it lists first and
 * reports every existing object as ADDED (as the API does for a watch with
 * no resourceVersion); the stream is then followed, reconnecting from the
 * last resourceVersion seen whenever the server ends it. When that version
 * is too old (410 / ERROR Expired) it lists again, reporting every object
 * as ADDED once more (deletions during the gap are not seen). Returns 0 when
 * fn stopped it; -1 on failure, or on timeout with code "Timeout". */
int k8s_watch(struct k8s_client *c, const struct k8s_ref *r,
              const struct k8s_watch_opts *o, k8s_watch_fn fn, void *arg,
              struct err *e);

#endif
