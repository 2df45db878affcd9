/* migrate SRC DST (SPEC.md "Migration"): discovery of SRC decides what is
 * read, k8s/migrate_rules decides what is skipped and stripped and in which
 * order types go; each type is read page by page and each page created in
 * DST concurrently ([migrate] concurrency, qps), so memory stays bounded by
 * the page size. CRDs come first, their custom resources only after DST
 * reports them Established; a namespace is made before anything in it. */
#include "plans/migrate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "k8s/api.h"
#include "k8s/discovery.h"
#include "k8s/migrate_rules.h"
#include "plans/kube.h"
#include "plans/migrate_read.h"
#include "run/wait.h"

#define MIG_PAGE 500
#define MIG_ESTABLISHED_TIMEOUT_S 120.0
#define MIG_STACK_LABEL "paasctl.io/stack"

struct mig {
    struct paas *p;
    const struct migrate_opts *o;
    struct migrate_report *r;
    struct k8s_client src, dst;
    int have_src, have_dst;
    struct k8s_client reader;         /* SRC again, for the reading thread */
    int have_reader;
    struct migrate_reader *rd;
    struct migrate_read_job *jobs;
    const struct k8s_discovery *sd, *dd;
    json_t *crds;         /* SRC's CRD names "plural.group" (set) */
    json_t *scope;        /* -n/--stack: the namespaces (set); NULL = all */
    json_t *need;         /* scoped: "resource/name" of cluster-scoped needs */
    json_t *ns_ready;     /* namespaces DST has (made or found this run) */
    json_t *ns_new;       /* dry run: namespaces that would be made */
    json_t *crd_new;      /* dry run: CRDs that would be made */
    json_t *established;  /* CRDs to wait for before custom resources */
    json_t *uids;         /* SRC uid -> DST uid of the objects made */
    struct progress prog;
    long long t0;
};

/* One type's pass over SRC. */
struct mig_step {
    struct mig *m;
    struct migrate_type *t;
    const struct k8s_resource_type *dt;   /* DST's type, NULL if not served */
    const char *unserved;                 /* why every object fails, or NULL */
    int unvalidated;                      /* dry run: DST cannot judge (new CRD) */
    json_t *seen;                         /* "ns/name" already handled */
};

/* ---- report ------------------------------------------------------------------ */

static void mig_skip(struct migrate_type *t, const char *reason)
{
    json_t *n = json_object_get(t->skips, reason);
    json_object_set_new(t->skips, reason, json_integer(json_integer_value(n) + 1));
    t->skipped++;
}

/* Adds a line to the failure list (the counts are the caller's). */
static void mig_record(struct mig *m, const struct migrate_type *t, const char *ns,
                       const char *name, const char *reason)
{
    struct migrate_report *r = m->r;
    struct migrate_failure *f;
    if (r->n_failures == r->cap_failures) {
        size_t cap = r->cap_failures ? r->cap_failures * 2 : 16;
        f = realloc(r->failures, cap * sizeof(*f));
        if (!f)
            return;     /* the count stays right; only the detail is lost */
        r->failures = f;
        r->cap_failures = cap;
    }
    f = &r->failures[r->n_failures++];
    snprintf(f->type, sizeof(f->type), "%s", t->name);
    snprintf(f->ns, sizeof(f->ns), "%s", ns ? ns : "");
    snprintf(f->name, sizeof(f->name), "%s", name ? name : "");
    snprintf(f->reason, sizeof(f->reason), "%s", reason);
}

static void mig_fail(struct mig *m, struct migrate_type *t, const char *ns,
                     const char *name, const char *reason)
{
    t->failed++;
    mig_record(m, t, ns, name, reason);
}

void migrate_report_release(struct migrate_report *r)
{
    for (size_t i = 0; i < r->n_types; i++)
        json_decref(r->types[i].skips);
    free(r->types);
    free(r->failures);
    json_decref(r->skipped_types);
    memset(r, 0, sizeof(*r));
}

static void mig_totals(struct migrate_report *r)
{
    for (size_t i = 0; i < r->n_types; i++) {
        r->created += r->types[i].created;
        r->updated += r->types[i].updated;
        r->exists += r->types[i].exists;
        r->skipped += r->types[i].skipped;
        r->failed += r->types[i].failed;
    }
}

static struct migrate_type *mig_row(struct mig *m, const char *group, const char *resource)
{
    for (size_t i = 0; i < m->r->n_types; i++)
        if (strcmp(m->r->types[i].group, group) == 0 &&
            strcmp(m->r->types[i].resource, resource) == 0)
            return &m->r->types[i];
    return NULL;
}

/* ---- small JSON helpers -------------------------------------------------------- */

static const char *mig_s(json_t *v)
{
    const char *s = json_string_value(v);
    return s ? s : "";
}

static const char *mig_meta(json_t *obj, const char *key)
{
    return mig_s(json_object_get(json_object_get(obj, "metadata"), key));
}

static int mig_has(json_t *set, const char *key)
{
    return set && json_object_get(set, key) != NULL;
}

static void mig_add(json_t *set, const char *key)
{
    json_object_set_new(set, key, json_true());
}

static int mig_ns_excluded(const struct mig *m, const char *ns)
{
    const struct config *c = &m->p->cfg;
    for (int i = 0; i < c->n_exclude_namespaces; i++)
        if (strcmp(ns, c->exclude_namespaces[i]) == 0)
            return 1;
    return 0;
}

/* ---- which types ------------------------------------------------------------------ */

static int mig_type_excluded(const struct mig *m, const struct k8s_resource_type *t)
{
    const struct config *c = &m->p->cfg;
    int listed = m->o->n_resources == 0;
    for (int i = 0; i < c->n_exclude_resources; i++)
        if (k8s_mig_type_matches(t, c->exclude_resources[i]))
            return 1;
    for (size_t i = 0; i < m->o->n_exclude; i++)
        if (k8s_mig_type_matches(t, m->o->exclude[i]))
            return 1;
    for (size_t i = 0; i < m->o->n_resources; i++)
        listed |= k8s_mig_type_matches(t, m->o->resources[i]);
    return !listed;
}

static void mig_type_name(char *out, size_t size, const struct k8s_resource_type *t)
{
    snprintf(out, size, "%s%s%s", t->resource, *t->group ? "." : "", t->group);
}

static int mig_rank_cmp(const void *x, const void *y)
{
    const struct migrate_type *a = x, *b = y;
    if (a->rank != b->rank)
        return a->rank < b->rank ? -1 : 1;
    return strcmp(a->name, b->name);
}

static void mig_type_add(struct mig *m, const struct k8s_resource_type *st)
{
    struct migrate_type *t = &m->r->types[m->r->n_types++];
    char crd[256];
    memset(t, 0, sizeof(*t));
    mig_type_name(t->name, sizeof(t->name), st);
    snprintf(t->group, sizeof(t->group), "%s", st->group);
    snprintf(t->version, sizeof(t->version), "%s", st->version);
    snprintf(t->resource, sizeof(t->resource), "%s", st->resource);
    snprintf(t->kind, sizeof(t->kind), "%s", st->kind);
    snprintf(crd, sizeof(crd), "%s.%s", st->resource, st->group);
    t->namespaced = st->namespaced;
    t->custom = *st->group && mig_has(m->crds, crd);
    t->rank = k8s_mig_rank(st->group, st->resource, t->custom);
    t->selected = !mig_type_excluded(m, st);
    t->skips = json_object();
}

/* Every SRC type, skipped kinds recorded with their reason, in order. */
static int mig_types(struct mig *m, struct err *e)
{
    m->r->types = calloc(m->sd->n + 1, sizeof(*m->r->types));
    m->r->skipped_types = json_array();
    if (!m->r->types || !m->r->skipped_types)
        return err_set(e, ERR_FAILED, "out of memory");
    for (size_t i = 0; i < m->sd->n; i++) {
        const struct k8s_resource_type *st = &m->sd->types[i];
        const char *why = k8s_mig_type_skip(st);
        char name[256];
        mig_type_name(name, sizeof(name), st);
        if (why)
            json_array_append_new(m->r->skipped_types,
                                  json_pack("{s:s, s:s}", "type", name, "reason", why));
        else
            mig_type_add(m, st);
    }
    qsort(m->r->types, m->r->n_types, sizeof(*m->r->types), mig_rank_cmp);
    return 0;
}

/* ---- which types have objects at all ------------------------------------------- */

static int mig_body_empty(const struct k8s_response *resp)
{
    json_t *doc = json_loadb(buf_str(&resp->body), resp->body.len, 0, NULL);
    int empty = doc && json_array_size(json_object_get(doc, "items")) == 0;
    json_decref(doc);
    return empty;
}

/* 1 if the collection at ref (selector applied) has an object: one page
 * of one, no continuation. */
static int mig_any(struct mig *m, const struct k8s_ref *ref, struct err *e)
{
    struct buf path = BUF_INIT;
    struct k8s_request req = { .verb = "GET" };
    struct k8s_response resp;
    int rc = k8s_path(&path, ref, e);
    k8s_response_init(&resp);
    if (rc == 0) {
        if (m->o->selector)
            k8s_query_add(&path, "labelSelector", m->o->selector);
        k8s_query_add(&path, "limit", "1");
        req.path = buf_str(&path);
        rc = k8s_send(&m->src, &req, &resp, e);
    }
    if (rc == 0)
        rc = !mig_body_empty(&resp);
    k8s_response_release(&resp);
    buf_release(&path);
    return rc;
}

struct mig_probe {
    struct k8s_request *reqs;
    struct k8s_response *resps;
    struct err *errs;
    struct buf *paths;
    size_t *idx;
    size_t n;
};

static void mig_probe_release(struct mig_probe *pr)
{
    for (size_t j = 0; j < pr->n; j++) {
        k8s_response_release(&pr->resps[j]);
        buf_release(&pr->paths[j]);
    }
    free(pr->reqs);
    free(pr->resps);
    free(pr->errs);
    free(pr->paths);
    free(pr->idx);
}

/* One list of one object per selected type, all sent at once: most types
 * discovery lists have no object, and each would otherwise cost a serial
 * round trip before the first create. */
static int mig_probe(struct mig *m, struct err *e)
{
    size_t n = m->r->n_types;
    struct mig_probe pr = { calloc(n + 1, sizeof(*pr.reqs)), calloc(n + 1, sizeof(*pr.resps)),
                            calloc(n + 1, sizeof(*pr.errs)), calloc(n + 1, sizeof(*pr.paths)),
                            calloc(n + 1, sizeof(*pr.idx)), 0 };
    int rc = pr.reqs && pr.resps && pr.errs && pr.paths && pr.idx ? 0 : -1;
    if (rc < 0)
        err_set(e, ERR_FAILED, "out of memory");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        struct migrate_type *t = &m->r->types[i];
        struct k8s_ref ref = { t->group, t->version, t->resource, NULL, NULL, NULL };
        if (!t->selected)
            continue;
        pr.idx[pr.n] = i;
        rc = k8s_path(&pr.paths[pr.n], &ref, e);
        if (m->o->selector)
            k8s_query_add(&pr.paths[pr.n], "labelSelector", m->o->selector);
        k8s_query_add(&pr.paths[pr.n], "limit", "1");
        pr.reqs[pr.n] = (struct k8s_request){ .verb = "GET", .path = buf_str(&pr.paths[pr.n]) };
        pr.n++;
    }
    if (rc == 0 && pr.n)
        k8s_send_all(&m->src, pr.reqs, pr.n, pr.resps, pr.errs);
    for (size_t j = 0; rc == 0 && j < pr.n; j++) {
        struct migrate_type *t = &m->r->types[pr.idx[j]];
        if (pr.errs[j].kind) {
            *e = pr.errs[j];
            rc = err_wrap(e, "reading %s from %s", t->name, m->o->src);
        }
        t->empty = mig_body_empty(&pr.resps[j]);
    }
    mig_probe_release(&pr);
    return rc;
}

/* ---- scope: -n, --stack and what their namespaces need -------------------------- */

/* A page of objects whose names go into the set arg (CRDs, namespaces). */
static int mig_names_page(void *arg, json_t *items, int restarted, struct err *e)
{
    json_t *set = arg, *it;
    size_t i;
    (void)restarted;
    (void)e;
    json_array_foreach(items, i, it) {
        mig_add(set, mig_meta(it, "name"));
    }
    return 0;
}

static int mig_list_src(struct mig *m, const char *group, const char *resource,
                        const char *ns, const char *selector, long limit,
                        k8s_page_fn fn, void *arg, struct err *e)
{
    const struct k8s_resource_type *t = k8s_discovery_find(m->sd, group, resource);
    struct k8s_ref ref = { group, t ? t->version : "v1", resource, ns, NULL, NULL };
    struct k8s_list_opts lo = { selector, NULL, limit };
    if (!t)
        return 0;   /* SRC does not serve it: nothing there */
    return k8s_list_pages(&m->src, &ref, &lo, fn, arg, NULL, 0, e);
}

/* The namespaces of -n and of every --stack. */
static int mig_scope(struct mig *m, struct err *e)
{
    const struct migrate_opts *o = m->o;
    if (!o->n_namespaces && !o->n_stacks)
        return 0;
    m->scope = json_object();
    for (size_t i = 0; i < o->n_namespaces; i++)
        mig_add(m->scope, o->namespaces[i]);
    for (size_t i = 0; i < o->n_stacks; i++) {
        char sel[320];
        snprintf(sel, sizeof(sel), "%s=%s", MIG_STACK_LABEL, o->stacks[i]);
        if (mig_list_src(m, "", "namespaces", NULL, sel, MIG_PAGE, mig_names_page, m->scope, e) < 0)
            return err_wrap(e, "stack %s", o->stacks[i]);
    }
    return 0;
}

struct mig_need_ctx {
    struct mig *m;
    const char *what;     /* "clusterroles", "storageclasses" */
};

static void mig_need(struct mig *m, const char *resource, const char *name)
{
    char key[512];
    if (!name || !*name)
        return;
    snprintf(key, sizeof(key), "%s/%s", resource, name);
    mig_add(m->need, key);
}

static int mig_need_page(void *arg, json_t *items, int restarted, struct err *e)
{
    struct mig_need_ctx *n = arg;
    json_t *it;
    size_t i;
    (void)restarted;
    (void)e;
    json_array_foreach(items, i, it) {
        json_t *ref = json_object_get(it, "roleRef");
        json_t *spec = json_object_get(it, "spec");
        if (ref && strcmp(mig_s(json_object_get(ref, "kind")), "ClusterRole") == 0)
            mig_need(n->m, n->what, json_string_value(json_object_get(ref, "name")));
        else if (spec)
            mig_need(n->m, n->what,
                     json_string_value(json_object_get(spec, "storageClassName")));
    }
    return 0;
}

/* The custom resource types with objects in ns need their CRDs. */
static int mig_need_crds(struct mig *m, const char *ns, struct err *e)
{
    for (size_t i = 0; i < m->r->n_types; i++) {
        struct migrate_type *t = &m->r->types[i];
        struct k8s_ref ref = { t->group, t->version, t->resource, ns, NULL, NULL };
        char crd[256];
        int any;
        if (!t->custom || !t->namespaced || !t->selected || t->empty)
            continue;
        if ((any = mig_any(m, &ref, e)) < 0)
            return -1;
        snprintf(crd, sizeof(crd), "%s.%s", t->resource, t->group);
        if (any)
            mig_need(m, "customresourcedefinitions", crd);
    }
    return 0;
}

/* Cluster-scoped objects the scoped namespaces need (SPEC.md "stack"). */
static int mig_needs(struct mig *m, struct err *e)
{
    const char *ns;
    json_t *v;
    if (!m->scope)
        return 0;
    m->need = json_object();
    json_object_foreach(m->scope, ns, v) {
        struct mig_need_ctx roles = { m, "clusterroles" };
        struct mig_need_ctx classes = { m, "storageclasses" };
        if (mig_list_src(m, "rbac.authorization.k8s.io", "rolebindings", ns, NULL, MIG_PAGE,
                         mig_need_page, &roles, e) < 0 ||
            mig_list_src(m, "", "persistentvolumeclaims", ns, NULL, MIG_PAGE,
                         mig_need_page, &classes, e) < 0 ||
            mig_need_crds(m, ns, e) < 0)
            return err_wrap(e, "namespace %s", ns);
    }
    return 0;
}

/* Cluster-scoped types a scoped run reads at all. */
static int mig_scoped_kind(const struct migrate_type *t)
{
    return strcmp(t->resource, "namespaces") == 0 ||
           strcmp(t->resource, "customresourcedefinitions") == 0 ||
           strcmp(t->resource, "clusterroles") == 0 ||
           strcmp(t->resource, "storageclasses") == 0;
}

/* ---- one object -------------------------------------------------------------------- */

#define MIG_IGNORE ""   /* outside the selection: not counted at all */

/* Why obj is not created, MIG_IGNORE when it is not selected, or NULL. */
static const char *mig_select(struct mig *m, struct migrate_type *t, json_t *obj)
{
    const char *ns = mig_meta(obj, "namespace"), *name = mig_meta(obj, "name");
    int is_ns = strcmp(t->resource, "namespaces") == 0 && !*t->group;
    if (m->scope && !t->namespaced) {
        char key[512];
        snprintf(key, sizeof(key), "%s/%s", t->resource, name);
        if (is_ns ? !mig_has(m->scope, name) : !mig_has(m->need, key))
            return MIG_IGNORE;
    }
    if ((t->namespaced && mig_ns_excluded(m, ns)) || (is_ns && mig_ns_excluded(m, name)))
        return "excluded namespace";
    return k8s_mig_object_skip(t->group, t->resource, obj);
}

static const char *mig_owner_uid(void *arg, const char *src_uid)
{
    struct mig *m = arg;
    return json_string_value(json_object_get(m->uids, src_uid));
}

/* Jobs carry a selector and labels generated from their own uid, which DST
 * would refuse (it generates its own). */
static void mig_strip_job(struct migrate_type *t, json_t *obj)
{
    json_t *spec = json_object_get(obj, "spec");
    json_t *labels;
    if (strcmp(t->group, "batch") != 0 || strcmp(t->resource, "jobs") != 0 ||
        json_is_true(json_object_get(spec, "manualSelector")))
        return;
    json_object_del(spec, "selector");
    labels = json_object_get(json_object_get(json_object_get(spec, "template"), "metadata"),
                             "labels");
    json_object_del(labels, "controller-uid");
    json_object_del(labels, "batch.kubernetes.io/controller-uid");
}

/* ---- namespaces before their contents ----------------------------------------------- */

static void mig_query(const struct mig *m, struct k8s_op *op)
{
    op->query = m->p->dry_run ? "dryRun=All" : NULL;
}

/* Records a namespace that DST has or (dry run) would have. */
static void mig_ns_done(struct mig *m, const char *name, int made)
{
    mig_add(m->ns_ready, name);
    if (made && m->p->dry_run)
        mig_add(m->ns_new, name);
}

/* Brings ns along before an object in it (for -l, --resources, and
 * namespaces the namespaces step did not reach). 0 when DST has it. */
static int mig_ensure_ns(struct mig *m, const char *ns, struct err *e)
{
    struct migrate_type *row = mig_row(m, "", "namespaces");
    struct k8s_ref ref = { "", "v1", "namespaces", NULL, ns, NULL };
    struct k8s_op op = { .verb = K8S_OP_CREATE, .ref = ref };
    json_t *obj;
    if (!*ns || mig_has(m->ns_ready, ns))
        return 0;
    if (k8s_get(&m->src, &ref, &obj, e) < 0)
        return -1;
    k8s_mig_strip("", "namespaces", obj, NULL, NULL);
    op.body = obj;
    mig_query(m, &op);
    k8s_run_ops(&m->dst, &op, 1);
    if (!op.err.kind || strcmp(op.err.code, "AlreadyExists") == 0) {
        if (row)
            ++*(op.err.kind ? &row->exists : &row->created);
        mig_ns_done(m, ns, !op.err.kind);
        err_init(&op.err);
    }
    *e = op.err;
    json_decref(obj);
    k8s_ops_release(&op, 1);
    return e->kind ? -1 : 0;
}

/* ---- a page: create, then (with --update) replace what exists -------------------- */

struct mig_batch {
    struct k8s_op *ops;
    char **src_uid;
    size_t n;
};

static void mig_batch_release(struct mig_batch *b)
{
    k8s_ops_release(b->ops, b->n);
    for (size_t i = 0; i < b->n; i++)
        free(b->src_uid[i]);
    free(b->ops);
    free(b->src_uid);
}

/* What DST keeps of its own object when it is replaced: the version
 * (optimistic concurrency) and, for a Service, the allocated addresses. */
static void mig_keep_dst(json_t *obj, json_t *cur)
{
    static const char *const svc[] = { "clusterIP", "clusterIPs", "healthCheckNodePort" };
    json_t *spec = json_object_get(obj, "spec"), *cspec = json_object_get(cur, "spec");
    json_object_set_new(json_object_get(obj, "metadata"), "resourceVersion",
                        json_string(mig_meta(cur, "resourceVersion")));
    if (strcmp(mig_s(json_object_get(cur, "kind")), "Service") != 0)
        return;
    for (size_t i = 0; i < sizeof(svc) / sizeof(svc[0]); i++)
        if (!json_object_get(spec, svc[i]) && json_object_get(cspec, svc[i]))
            json_object_set(spec, svc[i], json_object_get(cspec, svc[i]));
}

/* --update: read DST's version of each existing object, then replace it. */
static void mig_update(struct mig *m, struct migrate_type *t, struct k8s_op *ex, size_t n)
{
    struct k8s_op *get = calloc(n + 1, sizeof(*get));
    if (!get) {
        for (size_t i = 0; i < n; i++)
            mig_fail(m, t, ex[i].ref.namespace, ex[i].ref.name, "out of memory");
        return;
    }
    for (size_t i = 0; i < n; i++)
        get[i] = (struct k8s_op){ .verb = K8S_OP_GET, .ref = ex[i].ref };
    k8s_run_ops(&m->dst, get, n);
    for (size_t i = 0; i < n; i++) {
        if (!get[i].err.kind)
            mig_keep_dst(ex[i].body, get[i].result);
    }
    k8s_run_ops(&m->dst, ex, n);
    for (size_t i = 0; i < n; i++) {
        struct err *fe = get[i].err.kind ? &get[i].err : &ex[i].err;
        if (fe->kind)
            mig_fail(m, t, ex[i].ref.namespace, ex[i].ref.name, fe->msg);
        else
            t->updated++;
    }
    k8s_ops_release(get, n);
    k8s_ops_release(ex, n);
    free(get);
}

/* Counts one created object and remembers what later steps need. */
static void mig_created(struct mig *m, struct migrate_type *t, struct k8s_op *op,
                        const char *src_uid)
{
    const char *dst_uid = op->result ? mig_meta(op->result, "uid") : "";
    t->created++;
    if (!m->p->dry_run && src_uid && *dst_uid)
        json_object_set_new(m->uids, src_uid, json_string(dst_uid));
    if (strcmp(t->resource, "namespaces") == 0 && !*t->group)
        mig_ns_done(m, op->ref.name, 1);
    if (strcmp(t->resource, "customresourcedefinitions") == 0)
        mig_add(m->p->dry_run ? m->crd_new : m->established, op->ref.name);
}

static void mig_existed(struct mig *m, struct migrate_type *t, struct k8s_op *op)
{
    t->exists++;
    if (strcmp(t->resource, "namespaces") == 0 && !*t->group)
        mig_ns_done(m, op->ref.name, 0);
    if (strcmp(t->resource, "customresourcedefinitions") == 0 && !m->p->dry_run)
        mig_add(m->established, op->ref.name);
}

static void mig_results(struct mig *m, struct migrate_type *t, struct mig_batch *b)
{
    struct k8s_op *ex = m->o->update ? calloc(b->n + 1, sizeof(*ex)) : NULL;
    size_t n_ex = 0;
    for (size_t i = 0; i < b->n; i++) {
        struct k8s_op *op = &b->ops[i];
        if (!op->err.kind)
            mig_created(m, t, op, b->src_uid[i]);
        else if (strcmp(op->err.code, "AlreadyExists") != 0)
            mig_fail(m, t, op->ref.namespace, op->ref.name, op->err.msg);
        else if (ex)   /* --update: replaced below; the body is still ours */
            ex[n_ex++] = (struct k8s_op){ .verb = K8S_OP_REPLACE, .ref = op->ref,
                                          .body = op->body, .query = op->query };
        else
            mig_existed(m, t, op);
    }
    if (n_ex)
        mig_update(m, t, ex, n_ex);
    free(ex);
}

/* Decides one listed object: counted now, or queued as a create in b. */
static void mig_object(struct mig_step *s, json_t *obj, struct mig_batch *b, struct err *e)
{
    struct mig *m = s->m;
    struct migrate_type *t = s->t;
    const char *ns = t->namespaced ? mig_meta(obj, "namespace") : "";
    const char *why = mig_select(m, t, obj);
    struct k8s_op *op = &b->ops[b->n];
    if (why && !*why)
        return;
    if (why) {
        mig_skip(t, why);
        return;
    }
    if (s->unserved) {
        t->failed++;
        return;
    }
    if (mig_ensure_ns(m, ns, e) < 0) {
        mig_fail(m, t, ns, mig_meta(obj, "name"), e->msg);
        err_init(e);
        return;
    }
    if (s->unvalidated || mig_has(m->ns_new, ns)) {
        /* dry run: DST cannot judge an object whose namespace or CRD it
         * does not have yet; the real run would create it */
        t->created++;
        return;
    }
    b->src_uid[b->n] = strdup(mig_meta(obj, "uid"));
    k8s_mig_strip(t->group, t->resource, obj, mig_owner_uid, m);
    mig_strip_job(t, obj);
    *op = (struct k8s_op){ .verb = K8S_OP_CREATE, .body = obj,
        .ref = { t->group, s->dt->version, t->resource, ns, mig_meta(obj, "name"), NULL } };
    mig_query(m, op);
    b->n++;
}

static void mig_show(struct mig *m, struct migrate_type *t)
{
    log_progress(&m->p->log, &m->prog, (double)(util_now_ms() - m->t0) / 1000.0,
                 "migrate %s: %ld created, %ld updated, %ld exist, %ld skipped, %ld failed",
                 t->name, t->created, t->updated, t->exists, t->skipped, t->failed);
}

/* k8s_list_pages callback: one page of SRC objects into DST. */
static int mig_page(void *arg, json_t *items, int restarted, struct err *e)
{
    struct mig_step *s = arg;
    size_t n = json_array_size(items), i;
    struct mig_batch b = { calloc(n + 1, sizeof(*b.ops)), calloc(n + 1, sizeof(char *)), 0 };
    json_t *obj;
    (void)restarted;   /* seen makes a relisted object count once */
    if (!b.ops || !b.src_uid) {
        mig_batch_release(&b);
        return err_set(e, ERR_FAILED, "out of memory");
    }
    json_array_foreach(items, i, obj) {
        char key[512];
        snprintf(key, sizeof(key), "%s/%s", mig_meta(obj, "namespace"), mig_meta(obj, "name"));
        if (mig_has(s->seen, key))
            continue;
        mig_add(s->seen, key);
        mig_object(s, obj, &b, e);
    }
    if (b.n)
        k8s_run_ops(&s->m->dst, b.ops, b.n);
    mig_results(s->m, s->t, &b);
    mig_batch_release(&b);
    if (s->m->p->log.tty)
        mig_show(s->m, s->t);
    return wait_check_interrupt(s->m->p, s->t->name, e);
}

/* ---- one type ----------------------------------------------------------------------- */

static void mig_dst_type(struct mig *m, struct mig_step *s, char *why, size_t size)
{
    struct migrate_type *t = s->t;
    char crd[256], gv[160];
    snprintf(crd, sizeof(crd), "%s.%s", t->resource, t->group);
    snprintf(gv, sizeof(gv), "%s%s%s", t->group, *t->group ? "/" : "", t->version);
    s->dt = k8s_discovery_find(m->dd, t->group, t->resource);
    if (t->custom && mig_has(m->crd_new, crd)) {
        s->unvalidated = 1;
        return;
    }
    /* No conversion between versions: DST must serve the same
     * group/version (an API removed in DST's newer release fails, and is
     * reported, never dropped). */
    if (!s->dt)
        snprintf(why, size, "DST does not serve %s %s", gv, t->kind);
    else if (strcmp(s->dt->version, t->version) != 0)
        snprintf(why, size, "DST does not serve %s %s (it serves %s)", gv, t->kind,
                 s->dt->version);
    else
        return;
    s->unserved = why;
}

/* 1 if the run reads type t from SRC at all. */
static int mig_reads(const struct mig *m, const struct migrate_type *t)
{
    if (!t->selected || t->empty)
        return 0;
    if (m->scope && !t->namespaced)
        return mig_scoped_kind(t);
    return !m->scope || json_object_size(m->scope) > 0;
}

/* The pages of t, as the reading thread hands them over, into DST. */
static int mig_consume(struct mig *m, struct mig_step *s, size_t idx, struct err *e)
{
    struct migrate_page pg;
    while (migrate_reader_next(m->rd, &pg) == 0) {
        int rc = 0;
        if (pg.type != idx) {
            json_decref(pg.items);
            return err_set(e, ERR_FAILED, "migrate: pages out of order (a bug)");
        }
        if (pg.end) {
            *e = pg.err;
            return pg.err.kind ? -1 : 0;
        }
        rc = mig_page(s, pg.items, pg.restarted, e);
        json_decref(pg.items);
        if (rc < 0)
            return -1;
    }
    return err_set(e, ERR_FAILED, "migrate: the reading thread ended early (a bug)");
}

static int mig_type(struct mig *m, size_t idx, struct err *e)
{
    struct migrate_type *t = &m->r->types[idx];
    struct mig_step s = { .m = m, .t = t };
    char why[512];
    int rc;
    if (!mig_reads(m, t))
        return 0;
    s.seen = json_object();
    mig_dst_type(m, &s, why, sizeof(why));
    rc = mig_consume(m, &s, idx, e);
    if (s.unserved && t->failed) {
        char reason[640];
        snprintf(reason, sizeof(reason), "%s (%ld object%s)", s.unserved, t->failed,
                 t->failed == 1 ? "" : "s");
        mig_record(m, t, "", "", reason);
    }
    if (t->created || t->updated || t->exists || t->skipped || t->failed || m->p->log.tty)
        mig_show(m, t);
    log_progress_end(&m->p->log, &m->prog);
    json_decref(s.seen);
    if (rc < 0 && !paas_interrupted(m->p))
        return err_wrap(e, "reading %s from %s", t->name, m->o->src);
    return rc;
}

/* Every collection the run reads, in creation order, for the reading
 * thread: one per type, or one per namespace of -n/--stack. */
static int mig_start_reader(struct mig *m, struct err *e)
{
    struct k8s_client_opts ro = { .max_in_flight = 2 };
    size_t n_ns = m->scope ? json_object_size(m->scope) : 1, n = 0;
    if (kube_open_slot(m->p, m->o->src, &ro, &m->reader, e) < 0)
        return -1;
    m->have_reader = 1;
    m->jobs = calloc(m->r->n_types * n_ns + 1, sizeof(*m->jobs));
    if (!m->jobs)
        return err_set(e, ERR_FAILED, "out of memory");
    for (size_t i = 0; i < m->r->n_types; i++) {
        struct migrate_type *t = &m->r->types[i];
        struct k8s_ref ref = { t->group, t->version, t->resource, NULL, NULL, NULL };
        const char *ns;
        json_t *v;
        if (!mig_reads(m, t))
            continue;
        if (m->scope && t->namespaced) {
            json_object_foreach(m->scope, ns, v) {
                ref.namespace = ns;
                m->jobs[n++] = (struct migrate_read_job){ i, ref, 0 };
            }
        } else {
            m->jobs[n++] = (struct migrate_read_job){ i, ref, 0 };
        }
        m->jobs[n - 1].last = 1;
    }
    return migrate_reader_start(&m->rd, &m->reader, m->o->selector, m->jobs, n, e);
}

/* ---- CRDs Established, then DST's discovery again -------------------------------- */

static int mig_is_established(json_t *crd)
{
    json_t *conds = json_object_get(json_object_get(crd, "status"), "conditions"), *c;
    size_t i;
    json_array_foreach(conds, i, c) {
        if (strcmp(mig_s(json_object_get(c, "type")), "Established") == 0 &&
            strcmp(mig_s(json_object_get(c, "status")), "True") == 0)
            return 1;
    }
    return 0;
}

/* How many of the CRDs awaited are not Established yet. */
static int mig_pending_crds(struct mig *m, struct err *e)
{
    const char *name;
    json_t *v, *tmp;
    int pending = 0;
    json_object_foreach_safe(m->established, tmp, name, v) {
        struct k8s_ref ref = { "apiextensions.k8s.io", "v1", "customresourcedefinitions",
                               NULL, name, NULL };
        json_t *crd;
        if (k8s_get(&m->dst, &ref, &crd, e) < 0)
            return -1;
        if (mig_is_established(crd))
            json_object_del(m->established, name);
        else
            pending++;
        json_decref(crd);
    }
    return pending;
}

static int mig_wait_crds(struct mig *m, struct err *e)
{
    struct wait w;
    char status[64];
    int pending, total = (int)json_object_size(m->established);
    if (!total)
        return 0;
    wait_init(&w, "CRDs Established in DST", MIG_ESTABLISHED_TIMEOUT_S);
    while ((pending = mig_pending_crds(m, e)) > 0) {
        snprintf(status, sizeof(status), "%d/%d Established", total - pending, total);
        wait_progress(m->p, &w, status);
        if (wait_next(m->p, &w, e) < 0)
            break;
    }
    wait_done(m->p, &w);
    if (pending != 0)
        return -1;
    /* the custom resource types appear in DST's discovery only now */
    if (m->dst.discovery_free)
        m->dst.discovery_free(m->dst.discovery);
    m->dst.discovery = NULL;
    return k8s_discover(&m->dst, &m->dd, e);
}

/* ---- the whole run ---------------------------------------------------------------- */

static int mig_open(struct mig *m, struct err *e)
{
    const struct config *c = &m->p->cfg;
    struct k8s_client_opts so = { .max_in_flight = c->migrate_concurrency };
    struct k8s_client_opts dopt = { .max_in_flight = c->migrate_concurrency,
                                    .qps = c->migrate_qps };
    if (strcmp(m->o->src, m->o->dst) == 0) {
        err_set(e, ERR_USAGE, "migrate: SRC and DST are both %s", m->o->src);
        return -1;   /* spelled out: the analyzer cannot see err_set's -1 */
    }
    if (kube_open_slot(m->p, m->o->src, &so, &m->src, e) < 0)
        return -1;
    m->have_src = 1;
    if (kube_open_slot(m->p, m->o->dst, &dopt, &m->dst, e) < 0)
        return -1;
    m->have_dst = 1;
    if (k8s_discover(&m->src, &m->sd, e) < 0)
        return err_wrap(e, "discovery of %s", m->o->src);
    if (k8s_discover(&m->dst, &m->dd, e) < 0)
        return err_wrap(e, "discovery of %s", m->o->dst);
    return 0;
}

static void mig_release(struct mig *m)
{
    json_t *sets[] = { m->crds, m->scope, m->need, m->ns_ready, m->ns_new, m->crd_new,
                       m->established, m->uids };
    for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++)
        json_decref(sets[i]);
    migrate_reader_stop(m->rd);
    free(m->jobs);
    if (m->have_reader)
        k8s_client_release(&m->reader);
    if (m->have_src)
        k8s_client_release(&m->src);
    if (m->have_dst)
        k8s_client_release(&m->dst);
}

static int mig_run(struct mig *m, struct err *e)
{
    int crds_done = 0;
    if (mig_open(m, e) < 0 ||
        mig_list_src(m, "apiextensions.k8s.io", "customresourcedefinitions", NULL, NULL,
                     MIG_PAGE, mig_names_page, m->crds, e) < 0 ||
        mig_types(m, e) < 0 || mig_probe(m, e) < 0 || mig_scope(m, e) < 0 ||
        mig_needs(m, e) < 0 || mig_start_reader(m, e) < 0)
        return -1;
    for (size_t i = 0; i < m->r->n_types; i++) {
        struct migrate_type *t = &m->r->types[i];
        if (!crds_done && t->rank > 0) {
            crds_done = 1;
            if (mig_wait_crds(m, e) < 0)
                return err_wrap(e, "waiting for CRDs in %s", m->o->dst);
        }
        if (wait_check_interrupt(m->p, t->name, e) < 0 || mig_type(m, i, e) < 0)
            return -1;
    }
    return 0;
}

int plan_migrate(struct paas *p, const struct migrate_opts *o,
                 struct migrate_report *r, struct err *e)
{
    struct mig m = { .p = p, .o = o, .r = r, .t0 = util_now_ms() };
    int rc;
    memset(r, 0, sizeof(*r));
    snprintf(r->src, sizeof(r->src), "%s", o->src);
    snprintf(r->dst, sizeof(r->dst), "%s", o->dst);
    r->dry_run = p->dry_run;
    r->update = o->update;
    m.crds = json_object();
    m.ns_ready = json_object();
    m.ns_new = json_object();
    m.crd_new = json_object();
    m.established = json_object();
    m.uids = json_object();
    rc = mig_run(&m, e);
    mig_totals(r);
    r->elapsed_s = (double)(util_now_ms() - m.t0) / 1000.0;
    mig_release(&m);
    return rc;
}
