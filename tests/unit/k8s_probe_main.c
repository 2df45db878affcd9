/* Test-only driver for the Kubernetes client (k8s/): tests/e2e/
 * test_k8s_client.py runs it against the stand-in API server. Exit codes as
 * paasctl's (0 ok, 1 failed, 2 usage); errors go to stderr.
 *   k8s_probe [-v] [--kubeconfig F] [--context C] [--concurrency N] [--qps Q]
 *             [--legacy-discovery] CMD ...
 *   version                          GET /version
 *   discover                         every resource type; last line "types N listable M"
 *   list-all                         list every listable type; "total N types M"
 *   list REF [NS] [--limit N] [-l SEL]   "count N rv RV pages-restarted?" for one collection
 *   create-configmaps NS PREFIX N    N configmaps in parallel; "created N failed M"
 *   get REF NS NAME | delete REF NS NAME
 *   create REF NS JSON | patch REF NS NAME JSON   (JSON: a merge patch)
 *   watch REF NS STOP_NAME TIMEOUT_MS [--rv RV]   prints "ready RV", then
 *                                    "TYPE name" per event; exits 0 once STOP_NAME
 *                                    is DELETED (--rv: start there, not at a list)
 * REF is "v1/configmaps" or "apps/v1/deployments"; NS "-" means none. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/env.h"
#include "k8s/api.h"
#include "k8s/client.h"
#include "k8s/discovery.h"
#include "k8s/kubeconfig.h"

struct probe {
    struct k8s_client c;
    struct logger log;
    char group[128], version[32], resource[128];
};

static int probe_ref(struct probe *p, const char *spec, const char *ns, struct k8s_ref *r,
                     struct err *e)
{
    const char *a = strchr(spec, '/'), *b = a ? strchr(a + 1, '/') : NULL;
    memset(r, 0, sizeof(*r));
    if (!a)
        return err_set(e, ERR_USAGE, "bad REF %s (want v1/configmaps or apps/v1/deployments)", spec);
    if (b) {
        snprintf(p->group, sizeof(p->group), "%.*s", (int)(a - spec), spec);
        snprintf(p->version, sizeof(p->version), "%.*s", (int)(b - a - 1), a + 1);
        snprintf(p->resource, sizeof(p->resource), "%s", b + 1);
    } else {
        p->group[0] = '\0';
        snprintf(p->version, sizeof(p->version), "%.*s", (int)(a - spec), spec);
        snprintf(p->resource, sizeof(p->resource), "%s", a + 1);
    }
    r->group = p->group;
    r->version = p->version;
    r->resource = p->resource;
    r->namespace = ns && strcmp(ns, "-") != 0 ? ns : NULL;
    return 0;
}

static const char *probe_name(json_t *obj)
{
    const char *n = json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));
    return n ? n : "?";
}

static int probe_print_json(json_t *obj)
{
    char *s = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
    if (s)
        printf("%s\n", s);
    free(s);
    return 0;
}

static int probe_version(struct probe *p, struct err *e)
{
    struct k8s_request req = { .verb = "GET", .path = "/version" };
    struct k8s_response resp;
    json_t *v;
    int rc = k8s_send(&p->c, &req, &resp, e);
    if (rc == 0) {
        v = json_loadb(buf_str(&resp.body), resp.body.len, 0, NULL);
        printf("version %s\n", json_string_value(json_object_get(v, "gitVersion")));
        json_decref(v);
    }
    k8s_response_release(&resp);
    return rc;
}

static int probe_discover(struct probe *p, struct err *e)
{
    const struct k8s_discovery *d;
    size_t listable = 0;
    if (k8s_discover(&p->c, &d, e) < 0)
        return -1;
    for (size_t i = 0; i < d->n; i++) {
        const struct k8s_resource_type *t = &d->types[i];
        listable += (size_t)k8s_resource_listable(t);
        printf("%s%s%s %s %s %s %s\n", t->group, *t->group ? "/" : "", t->version, t->resource,
               t->kind, t->namespaced ? "namespaced" : "cluster",
               k8s_resource_listable(t) ? "listable" : "-");
    }
    for (size_t i = 0; i < d->n_failed; i++)
        printf("failed %s\n", d->failed[i]);
    printf("types %zu listable %zu aggregated %d\n", d->n, listable, d->aggregated);
    return 0;
}

static int probe_list_all(struct probe *p, struct err *e)
{
    const struct k8s_discovery *d;
    size_t total = 0, types = 0, failed = 0;
    if (k8s_discover(&p->c, &d, e) < 0)
        return -1;
    for (size_t i = 0; i < d->n; i++) {
        const struct k8s_resource_type *t = &d->types[i];
        struct k8s_ref r = { t->group, t->version, t->resource, NULL, NULL, NULL };
        json_t *items;
        struct err le;
        if (!k8s_resource_listable(t))
            continue;
        types++;
        if (k8s_list(&p->c, &r, NULL, &items, NULL, 0, &le) < 0) {
            fprintf(stderr, "k8s_probe: list %s: %s\n", t->resource, le.msg);
            failed++;
            continue;
        }
        printf("%s%s%s/%s %zu\n", t->group, *t->group ? "/" : "", t->version, t->resource,
               json_array_size(items));
        total += json_array_size(items);
        json_decref(items);
    }
    printf("total %zu types %zu failed %zu\n", total, types, failed);
    return failed ? err_set(e, ERR_FAILED, "%zu types could not be listed", failed) : 0;
}

static int probe_list(struct probe *p, int argc, char **argv, struct err *e)
{
    struct k8s_list_opts o = { NULL, NULL, 0 };
    struct k8s_ref r;
    const char *ns = NULL;
    json_t *items;
    char rv[128] = "";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--limit") == 0 && i + 1 < argc)
            o.limit = atol(argv[++i]);
        else if (strcmp(argv[i], "-l") == 0 && i + 1 < argc)
            o.label_selector = argv[++i];
        else
            ns = argv[i];
    }
    if (probe_ref(p, argv[0], ns, &r, e) < 0 ||
        k8s_list(&p->c, &r, &o, &items, rv, sizeof(rv), e) < 0)
        return -1;
    printf("count %zu rv %s\n", json_array_size(items), rv);
    json_decref(items);
    return 0;
}

static json_t *probe_configmap(const char *ns, const char *prefix, size_t i)
{
    char name[256];
    snprintf(name, sizeof(name), "%s-%05zu", prefix, i);
    return json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s}}, s:{s:s}}", "apiVersion", "v1",
                     "kind", "ConfigMap", "metadata", "name", name, "namespace", ns,
                     "labels", "probe", prefix, "data", "index", name);
}

static int probe_create_configmaps(struct probe *p, const char *ns, const char *prefix,
                                   size_t n, struct err *e)
{
    struct k8s_op *ops = calloc(n + 1, sizeof(*ops));
    size_t failed = 0;
    struct timespec t0, t1;
    if (!ops)
        return err_set(e, ERR_FAILED, "out of memory");
    for (size_t i = 0; i < n; i++) {
        ops[i].verb = K8S_OP_CREATE;
        ops[i].ref = (struct k8s_ref){ "", "v1", "configmaps", ns, NULL, NULL };
        ops[i].body = probe_configmap(ns, prefix, i);
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    k8s_run_ops(&p->c, ops, n);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    for (size_t i = 0; i < n; i++) {
        if (ops[i].err.kind && failed++ < 5)
            fprintf(stderr, "k8s_probe: %s\n", ops[i].err.msg);
        json_decref(ops[i].body);
    }
    k8s_ops_release(ops, n);
    free(ops);
    printf("created %zu failed %zu ms %ld requests %ld retries %ld connections %ld\n",
           n - failed, failed,
           (long)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000),
           p->c.n.requests, p->c.n.retries, p->c.n.connects);
    return failed ? err_set(e, ERR_FAILED, "%zu creates failed", failed) : 0;
}

static int probe_object(struct probe *p, const char *cmd, int argc, char **argv, struct err *e)
{
    struct k8s_ref r;
    json_t *obj = NULL, *body = NULL;
    json_error_t je;
    int rc;
    if (argc < 3 || probe_ref(p, argv[0], argv[1], &r, e) < 0)
        return e->kind ? -1 : err_set(e, ERR_USAGE, "%s: REF NS ...", cmd);
    r.name = strcmp(cmd, "create") == 0 ? NULL : argv[2];
    if (strcmp(cmd, "create") == 0 || strcmp(cmd, "patch") == 0) {
        const char *text = strcmp(cmd, "create") == 0 ? argv[2] : (argc > 3 ? argv[3] : "");
        if (!(body = json_loads(text, 0, &je)))
            return err_set(e, ERR_USAGE, "%s: bad JSON: %s", cmd, je.text);
    }
    if (strcmp(cmd, "get") == 0)
        rc = k8s_get(&p->c, &r, &obj, e);
    else if (strcmp(cmd, "create") == 0)
        rc = k8s_create(&p->c, &r, body, &obj, e);
    else if (strcmp(cmd, "patch") == 0)
        rc = k8s_patch(&p->c, &r, body, &obj, e);
    else
        rc = k8s_delete(&p->c, &r, e);
    if (rc == 0 && obj)
        probe_print_json(obj);
    else if (rc == 0)
        printf("deleted %s\n", r.name);
    json_decref(obj);
    json_decref(body);
    return rc;
}

struct probe_watch {
    const char *stop_name;
};

static int probe_watch_event(void *arg, const char *type, json_t *obj)
{
    struct probe_watch *w = arg;
    printf("%s %s\n", type, probe_name(obj));
    fflush(stdout);
    return strcmp(type, "DELETED") == 0 && strcmp(probe_name(obj), w->stop_name) == 0;
}

static int probe_watch(struct probe *p, int argc, char **argv, struct err *e)
{
    struct k8s_ref r;
    struct probe_watch w;
    struct k8s_watch_opts o = { NULL, NULL, NULL, 0 };
    json_t *items;
    char rv[128] = "";
    if (argc < 4)
        return err_set(e, ERR_USAGE, "watch REF NS STOP_NAME TIMEOUT_MS [--rv RV]");
    if (probe_ref(p, argv[0], argv[1], &r, e) < 0)
        return -1;
    if (argc > 5 && strcmp(argv[4], "--rv") == 0) {
        snprintf(rv, sizeof(rv), "%s", argv[5]);
    } else {
        if (k8s_list(&p->c, &r, NULL, &items, rv, sizeof(rv), e) < 0)
            return -1;
        json_decref(items);
    }
    printf("ready %s\n", rv);
    fflush(stdout);
    w.stop_name = argv[2];
    o.resource_version = rv;
    o.timeout_ms = atol(argv[3]);
    return k8s_watch(&p->c, &r, &o, probe_watch_event, &w, e);
}

static int probe_run(struct probe *p, int argc, char **argv, struct err *e)
{
    const char *cmd = argv[0];
    if (strcmp(cmd, "version") == 0)
        return probe_version(p, e);
    if (strcmp(cmd, "discover") == 0)
        return probe_discover(p, e);
    if (strcmp(cmd, "list-all") == 0)
        return probe_list_all(p, e);
    if (strcmp(cmd, "list") == 0 && argc > 1)
        return probe_list(p, argc - 1, argv + 1, e);
    if (strcmp(cmd, "create-configmaps") == 0 && argc > 3)
        return probe_create_configmaps(p, argv[1], argv[2], (size_t)atol(argv[3]), e);
    if (strcmp(cmd, "watch") == 0)
        return probe_watch(p, argc - 1, argv + 1, e);
    if (strcmp(cmd, "get") == 0 || strcmp(cmd, "create") == 0 || strcmp(cmd, "patch") == 0 ||
        strcmp(cmd, "delete") == 0)
        return probe_object(p, cmd, argc - 1, argv + 1, e);
    return err_set(e, ERR_USAGE, "unknown command %s", cmd);
}

int main(int argc, char **argv)
{
    struct probe p;
    struct k8s_kubeconfig kc;
    /* The knobs cmd/ reads for paasctl, read here the same way. */
    struct k8s_client_opts o = { 0, 0, 0, (int)env_long("PAASCTL_MAX_ATTEMPTS", 0, 1, 100),
                                 env_long("PAASCTL_RETRY_BASE_MS", 0, 1, 60000), 0 };
    const char *kubeconfig = NULL, *context = NULL;
    struct err e;
    int i = 1, rc;
    memset(&p, 0, sizeof(p));
    err_init(&e);
    log_init(&p.log, stderr);
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "-v") == 0)
            p.log.verbosity++;
        else if (strcmp(argv[i], "--kubeconfig") == 0 && i + 1 < argc)
            kubeconfig = argv[++i];
        else if (strcmp(argv[i], "--context") == 0 && i + 1 < argc)
            context = argv[++i];
        else if (strcmp(argv[i], "--concurrency") == 0 && i + 1 < argc)
            o.max_in_flight = atoi(argv[++i]);
        else if (strcmp(argv[i], "--qps") == 0 && i + 1 < argc)
            o.qps = atof(argv[++i]);
        else if (strcmp(argv[i], "--legacy-discovery") == 0)
            o.legacy_discovery = 1;
        else
            break;
    }
    if (i >= argc) {
        fprintf(stderr, "usage: k8s_probe [-v] [--kubeconfig F] [--context C] CMD ...\n");
        return 2;
    }
    if (k8s_kubeconfig_load(&kc, kubeconfig, context, &e) < 0 ||
        k8s_client_init(&p.c, &kc, &p.log, &o, &e) < 0) {
        fprintf(stderr, "k8s_probe: %s\n", e.msg);
        return err_exit_code(&e);
    }
    rc = probe_run(&p, argc - i, argv + i, &e);
    if (rc < 0)
        fprintf(stderr, "k8s_probe: %s\n", e.msg);
    if (p.log.verbosity)
        fprintf(stderr, "k8s_probe: %ld requests, %ld retries, %ld connections\n",
                p.c.n.requests, p.c.n.retries, p.c.n.connects);
    k8s_client_release(&p.c);
    return rc < 0 ? err_exit_code(&e) : 0;
}
