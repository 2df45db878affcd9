/* smoke a|b: the six checks of SPEC.md "Smoke", in order, against the slot's
 * Kubernetes API (its kubeconfig), its EC2 instances (by tags) and its ELB.
 * A round runs every check that has not passed yet; rounds repeat with
 * backoff until all pass or [smoke] timeout runs out. */
#include "plans/smoke.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/ec2.h"
#include "aws/elb.h"
#include "core/http.h"
#include "k8s/api.h"
#include "k8s/client.h"
#include "plans/kube.h"
#include "plans/public_dns.h"
#include "plans/tags.h"
#include "run/wait.h"

/* One GET of check 6 may take this long (connect included). */
#define SMOKE_HTTP_TIMEOUT_MS 10000L

/* A check's requests are few and small: a short timeout, a few at once. */
static const struct k8s_client_opts smoke_kube_opts = { .max_in_flight = 8, .timeout_ms = 10000 };

/* Objects named in one reason before "and N more". */
#define SMOKE_NAMED 5

struct smoke_ctx {
    struct paas *p;
    const char *slot;
    struct k8s_client kube;
    struct ec2_instance *inst;      /* ingress and minion nodes, not terminated */
    size_t n_inst;
    struct elb_lb lb;               /* the ELB the slot's ingress belongs to */
    int have_lb;
    int on_prelive;                 /* ...the pre-live one */
};

/* A reason listing offending objects, capped at SMOKE_NAMED names. */
struct smoke_list {
    struct buf text;
    int count;
};

static void smoke_list_add(struct smoke_list *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void smoke_list_add(struct smoke_list *l, const char *fmt, ...)
{
    char item[512];
    va_list ap;
    if (l->count++ >= SMOKE_NAMED)
        return;
    va_start(ap, fmt);
    vsnprintf(item, sizeof(item), fmt, ap);
    va_end(ap);
    buf_printf(&l->text, "%s%s", l->text.len ? "; " : "", item);
}

/* Sets the check's verdict: pass with ok_text when the list is empty,
 * else fail with the list. Releases the list. */
static void smoke_verdict(struct smoke_check *c, struct smoke_list *l,
                          const char *ok_text)
{
    c->pass = l->count == 0;
    if (c->pass)
        snprintf(c->reason, sizeof(c->reason), "%s", ok_text);
    else if (l->count > SMOKE_NAMED)
        snprintf(c->reason, sizeof(c->reason), "%s; and %d more", buf_str(&l->text),
                 l->count - SMOKE_NAMED);
    else
        snprintf(c->reason, sizeof(c->reason), "%s", buf_str(&l->text));
    buf_release(&l->text);
}

static void smoke_fail(struct smoke_check *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void smoke_fail(struct smoke_check *c, const char *fmt, ...)
{
    va_list ap;
    c->pass = 0;
    va_start(ap, fmt);
    vsnprintf(c->reason, sizeof(c->reason), fmt, ap);
    va_end(ap);
}

/* The string at a path of object keys (NULL-terminated), or "". */
/* The string at a dotted path ("metadata.name"), or "" when absent. */
static const char *smoke_str(json_t *o, const char *path)
{
    char key[64];
    while (o && *path) {
        size_t n = strcspn(path, ".");
        if (n >= sizeof(key))
            return "";
        memcpy(key, path, n);
        key[n] = '\0';
        o = json_object_get(o, key);
        path += n + (path[n] == '.');
    }
    return json_is_string(o) ? json_string_value(o) : "";
}

static long smoke_int(json_t *o, const char *k1, const char *k2, long dflt)
{
    json_t *v = json_object_get(json_object_get(o, k1), k2);
    return json_is_integer(v) ? (long)json_integer_value(v) : dflt;
}

static int smoke_list_objects(struct smoke_ctx *s, const char *group,
                              const char *resource, const char *ns,
                              json_t **items, struct err *e)
{
    struct k8s_ref r = { group, "v1", resource, ns, NULL, NULL };
    struct k8s_list_opts o = { NULL, NULL, 500 };
    return k8s_list(&s->kube, &r, &o, items, NULL, 0, e);
}

/* ---- 1. the API answers ---------------------------------------------------- */

static void smoke_api(struct smoke_ctx *s, struct smoke_check *c)
{
    struct k8s_request req = { .verb = "GET", .path = "/version" };
    struct k8s_response resp;
    struct err e;
    json_t *v;
    err_init(&e);
    k8s_response_init(&resp);
    if (k8s_send(&s->kube, &req, &resp, &e) < 0) {
        smoke_fail(c, "%s", e.msg);
    } else {
        v = json_loadb(buf_str(&resp.body), resp.body.len, 0, NULL);
        c->pass = 1;
        snprintf(c->reason, sizeof(c->reason), "server %s answers %s",
                 s->kube.base_url, v ? smoke_str(v, "gitVersion") : "(no version)");
        json_decref(v);
    }
    k8s_response_release(&resp);
}

/* ---- 2. nodes -------------------------------------------------------------- */

static int smoke_node_ready(json_t *node)
{
    size_t i;
    json_t *cond;
    json_array_foreach(json_object_get(json_object_get(node, "status"), "conditions"), i, cond)
        if (strcmp(smoke_str(cond, "type"), "Ready") == 0)
            return strcmp(smoke_str(cond, "status"), "True") == 0;
    return 0;
}

static json_t *smoke_node_for(json_t *nodes, const struct ec2_instance *in)
{
    char provider[128];
    size_t i;
    json_t *n;
    snprintf(provider, sizeof(provider), "aws:///%s/%s", in->az, in->id);
    json_array_foreach(nodes, i, n) {
        if (strcmp(smoke_str(n, "spec.providerID"), provider) == 0 ||
            (in->private_dns[0] &&
             strcmp(smoke_str(n, "metadata.name"), in->private_dns) == 0))
            return n;
    }
    return NULL;
}

static void smoke_nodes(struct smoke_ctx *s, struct smoke_check *c)
{
    struct smoke_list l = { BUF_INIT, 0 };
    char ok[128];
    json_t *nodes, *n;
    struct err e;
    size_t i;
    err_init(&e);
    if (smoke_list_objects(s, NULL, "nodes", NULL, &nodes, &e) < 0) {
        smoke_fail(c, "cannot list nodes: %s", e.msg);
        return;
    }
    for (i = 0; i < s->n_inst; i++) {
        json_t *node;
        if (strcmp(s->inst[i].state, "running") != 0)
            continue;   /* only running instances run a kubelet */
        node = smoke_node_for(nodes, &s->inst[i]);
        if (!node)
            smoke_list_add(&l, "%s instance %s (%s) has no Node", s->inst[i].tags.role,
                           s->inst[i].id, s->inst[i].private_dns);
    }
    json_array_foreach(nodes, i, n)
        if (!smoke_node_ready(n))
            smoke_list_add(&l, "Node %s is NotReady", smoke_str(n, "metadata.name"));
    snprintf(ok, sizeof(ok), "every running ingress and minion instance has a Ready Node; "
             "%zu Nodes Ready", json_array_size(nodes));
    smoke_verdict(c, &l, ok);
    json_decref(nodes);
}

/* ---- 3. kube-system pods ---------------------------------------------------- */

/* A container stuck in one of these is not running, whatever the phase. */
static const char *smoke_pod_stuck(json_t *pod)
{
    static const char *const bad[] = { "CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull",
                                       "CreateContainerConfigError", NULL };
    size_t i;
    json_t *cs;
    json_array_foreach(json_object_get(json_object_get(pod, "status"), "containerStatuses"), i, cs) {
        const char *why = smoke_str(cs, "state.waiting.reason");
        for (int k = 0; bad[k]; k++)
            if (strcmp(why, bad[k]) == 0)
                return bad[k];
    }
    return NULL;
}

static void smoke_system_pods(struct smoke_ctx *s, struct smoke_check *c)
{
    struct smoke_list l = { BUF_INIT, 0 };
    char ok[128];
    json_t *pods, *pod;
    struct err e;
    size_t i;
    err_init(&e);
    if (smoke_list_objects(s, NULL, "pods", "kube-system", &pods, &e) < 0) {
        smoke_fail(c, "cannot list kube-system pods: %s", e.msg);
        return;
    }
    json_array_foreach(pods, i, pod) {
        const char *phase = smoke_str(pod, "status.phase");
        const char *stuck = smoke_pod_stuck(pod);
        if (stuck || (strcmp(phase, "Running") != 0 && strcmp(phase, "Succeeded") != 0))
            smoke_list_add(&l, "pod kube-system/%s is %s", smoke_str(pod, "metadata.name"),
                           stuck ? stuck : phase[0] ? phase : "without a phase");
    }
    snprintf(ok, sizeof(ok), "%zu kube-system pods Running or Succeeded", json_array_size(pods));
    smoke_verdict(c, &l, ok);
    json_decref(pods);
}

/* ---- 4. workloads ------------------------------------------------------------ */

static int smoke_namespace_wanted(const struct config *cfg, const char *ns)
{
    static const char *const system[] = { "kube-system", "kube-public", "kube-node-lease", NULL };
    if (cfg->n_smoke_namespaces > 0) {
        for (int i = 0; i < cfg->n_smoke_namespaces; i++)
            if (strcmp(cfg->smoke_namespaces[i], ns) == 0)
                return 1;
        return 0;
    }
    for (int i = 0; system[i]; i++)
        if (strcmp(system[i], ns) == 0)
            return 0;
    return 1;
}

/* want/have for one workload kind; have < want is a failure. */
static void smoke_workload(struct smoke_list *l, const char *kind, json_t *o,
                           long want, long have)
{
    if (have < want)
        smoke_list_add(l, "%s %s/%s has %ld/%ld available", kind,
                       smoke_str(o, "metadata.namespace"),
                       smoke_str(o, "metadata.name"), have, want);
}

static int smoke_workloads_of(struct smoke_ctx *s, const char *resource,
                              struct smoke_list *l, size_t *count, struct err *e)
{
    json_t *items, *o;
    size_t i;
    if (smoke_list_objects(s, "apps", resource, NULL, &items, e) < 0)
        return -1;
    json_array_foreach(items, i, o) {
        if (!smoke_namespace_wanted(&s->p->cfg, smoke_str(o, "metadata.namespace")))
            continue;
        (*count)++;
        if (strcmp(resource, "daemonsets") == 0)
            smoke_workload(l, "daemonset", o, smoke_int(o, "status", "desiredNumberScheduled", 0),
                           smoke_int(o, "status", "numberReady", 0));
        else
            smoke_workload(l, strcmp(resource, "deployments") == 0 ? "deployment" : "statefulset",
                           o, smoke_int(o, "spec", "replicas", 1),
                           smoke_int(o, "status", "availableReplicas",
                                     smoke_int(o, "status", "readyReplicas", 0)));
    }
    json_decref(items);
    return 0;
}

static void smoke_workloads(struct smoke_ctx *s, struct smoke_check *c)
{
    static const char *const kinds[] = { "deployments", "statefulsets", "daemonsets" };
    struct smoke_list l = { BUF_INIT, 0 };
    size_t count = 0;
    char ok[128];
    struct err e;
    err_init(&e);
    for (int k = 0; k < 3; k++) {
        if (smoke_workloads_of(s, kinds[k], &l, &count, &e) < 0) {
            buf_release(&l.text);
            smoke_fail(c, "cannot list %s: %s", kinds[k], e.msg);
            return;
        }
    }
    snprintf(ok, sizeof(ok), "%zu deployments, statefulsets and daemonsets fully available", count);
    smoke_verdict(c, &l, ok);
}

/* ---- 5. ELB health ------------------------------------------------------------ */

static size_t smoke_ingress_ids(struct smoke_ctx *s, const char **ids)
{
    size_t n = 0;
    for (size_t i = 0; i < s->n_inst; i++)
        if (strcmp(s->inst[i].tags.role, "ingress") == 0)
            ids[n++] = s->inst[i].id;
    return n;
}

static void smoke_elb(struct smoke_ctx *s, struct smoke_check *c)
{
    struct smoke_list l = { BUF_INIT, 0 };
    const char **ids = calloc(s->n_inst + 1, sizeof(*ids));
    struct elb_health *h = NULL;
    size_t n, nh = 0;
    char ok[200];
    struct err e;
    err_init(&e);
    if (!ids || !s->have_lb) {
        free(ids);
        smoke_fail(c, "slot %s has no ELB to check: its ingress nodes carry no traffic tag "
                   "or the ELB is missing", s->slot);
        return;
    }
    n = smoke_ingress_ids(s, ids);
    if (n == 0)
        smoke_list_add(&l, "slot %s has no ingress instance", s->slot);
    else if (elb_describe_health(&s->p->aws, s->lb.name, ids, n, &h, &nh, &e) < 0)
        smoke_list_add(&l, "%s", e.msg);
    for (size_t i = 0; i < nh; i++)
        if (strcmp(h[i].state, "InService") != 0)
            smoke_list_add(&l, "instance %s is %s on %s (%s)", h[i].instance_id, h[i].state,
                           s->lb.name, h[i].description[0] ? h[i].description : h[i].reason);
    snprintf(ok, sizeof(ok), "%zu ingress instances InService on %s", n, s->lb.name);
    smoke_verdict(c, &l, ok);
    free(ids);
    free(h);
}

/* ---- 6. ingress hosts through the ELB -------------------------------------------- */

/* The GET of check 6 (the status of url with a Host header, optionally
 * sent elsewhere with curl's CONNECT_TO syntax "host:port:connhost:connport"),
 * one request through the request engine: no retry (the smoke rounds retry
 * whole checks), the body dropped. A transport failure is -1 with e saying
 * what (refused, timed out...). */
struct smoke_http_req {
    const char *url;
    const char *host;
    struct curl_slist *connect_to;
    CURLcode rc;
};

static int smoke_http_prepare(struct http_xfer *x)
{
    const struct smoke_http_req *q = x->arg;
    HTTP_SET(x, CURLOPT_URL, q->url);
    if (q->connect_to)
        HTTP_SET(x, CURLOPT_CONNECT_TO, q->connect_to);
    return http_xfer_header(x, "Host: %s", q->host);
}

static enum http_verdict smoke_http_judge(struct http_xfer *x, CURLcode rc)
{
    ((struct smoke_http_req *)x->arg)->rc = rc;
    if (rc != CURLE_OK)
        err_set(x->e, ERR_FAILED, "%s", x->curl_err[0] ? x->curl_err : curl_easy_strerror(rc));
    return HTTP_DONE;
}

static const struct http_driver smoke_http_driver = {
    smoke_http_prepare, smoke_http_judge, NULL, NULL, NULL
};

static int smoke_http_get(const char *url, const char *host, const char *connect_to,
               long timeout_ms, long *status, struct err *e)
{
    struct http_engine_opts o = { 1, 0, timeout_ms, timeout_ms, { 1, 0, 0 } };
    struct smoke_http_req q = { url, host, NULL, CURLE_OK };
    struct http_counters n;
    struct http_engine en;
    struct http_xfer x;
    struct err xe;
    int rc;
    *status = 0;
    memset(&n, 0, sizeof(n));
    if (connect_to && *connect_to && !(q.connect_to = curl_slist_append(NULL, connect_to)))
        return err_set(e, ERR_FAILED, "out of memory");
    if (http_engine_init(&en, &o, &n, e) < 0) {
        http_engine_release(&en);
        curl_slist_free_all(q.connect_to);
        return -1;
    }
    http_xfer_init(&x, &smoke_http_driver, &q, NULL, &xe);
    rc = http_run(&en, &x, 1);
    if (rc == 0)
        *status = x.status;
    else
        err_set(e, ERR_FAILED, "%s", xe.msg);
    http_engine_release(&en);
    curl_slist_free_all(q.connect_to);
    return rc;
}

static void smoke_probe_host(struct smoke_ctx *s, const char *ingress, const char *host,
                             struct smoke_list *l)
{
    char url[600], name[300];
    long status;
    struct err e;
    err_init(&e);
    /* Without connect_to, through the slot's public name (SPEC.md
     * "Clusters", DNS), i.e. the way users come; with it, the ELB's own
     * name, which connect_to redirects. */
    if (s->p->cfg.connect_to[0])
        snprintf(name, sizeof(name), "%s", s->lb.dns_name);
    else
        pdns_host_for(s->p->cfg.dns_zone, s->on_prelive ? PDNS_PRELIVE : PDNS_LIVE, host, name,
                      sizeof(name));
    snprintf(url, sizeof(url), "http://%s%s", name, s->p->cfg.smoke_path);
    if (smoke_http_get(url, host, s->p->cfg.connect_to, SMOKE_HTTP_TIMEOUT_MS, &status, &e) < 0)
        smoke_list_add(l, "host %s (ingress %s): %s", host, ingress, e.msg);
    else if (status >= 500)
        smoke_list_add(l, "host %s (ingress %s) answered %ld", host, ingress, status);
}

static void smoke_ingress(struct smoke_ctx *s, struct smoke_check *c)
{
    struct smoke_list l = { BUF_INIT, 0 };
    struct k8s_ref r = { "networking.k8s.io", "v1", "ingresses", NULL, NULL, NULL };
    struct k8s_list_opts o = { NULL, NULL, 500 };
    json_t *items, *ing, *rule;
    size_t i, j, hosts = 0;
    char ok[400];
    struct err e;
    err_init(&e);
    if (!s->have_lb) {
        smoke_fail(c, "slot %s has no ELB to probe through", s->slot);
        return;
    }
    if (k8s_list(&s->kube, &r, &o, &items, NULL, 0, &e) < 0) {
        smoke_fail(c, "cannot list ingresses: %s", e.msg);
        return;
    }
    json_array_foreach(items, i, ing) {
        char name[320];
        snprintf(name, sizeof(name), "%s/%s", smoke_str(ing, "metadata.namespace"),
                 smoke_str(ing, "metadata.name"));
        json_array_foreach(json_object_get(json_object_get(ing, "spec"), "rules"), j, rule) {
            const char *host = smoke_str(rule, "host");
            if (!host[0])
                continue;
            hosts++;
            smoke_probe_host(s, name, host, &l);
        }
    }
    snprintf(ok, sizeof(ok), "%zu ingress hosts answer below 500 via %s%s", hosts,
             s->p->cfg.connect_to[0] ? "" : "the public names of ", s->lb.dns_name);
    smoke_verdict(c, &l, ok);
    json_decref(items);
}

/* ---- the suite ------------------------------------------------------------------ */

/* Reads the slot's ingress/minion nodes (a stopped ingress node must fail
 * the ELB check, so not only running ones) and the ELB they belong to. */
static int smoke_read_aws(struct smoke_ctx *s, struct err *e)
{
    struct ec2_filter f[] = {
        { "tag:" TAG_PAAS, { s->p->cfg.name, NULL } },
        { "tag:" TAG_SLOT, { s->slot, NULL } },
        { "tag:" TAG_ROLE, { "ingress", "minion", NULL } },
        { "instance-state-name", { "pending", "running", "stopping", "stopped", NULL } },
    };
    const char *lb = NULL;
    int found = 0;
    free(s->inst);
    elb_lb_release(&s->lb);
    s->have_lb = 0;
    if (ec2_describe_instances(&s->p->aws, f, 4, &s->inst, &s->n_inst, e) < 0)
        return -1;
    for (size_t i = 0; i < s->n_inst && !lb; i++) {
        if (strcmp(s->inst[i].tags.role, "ingress") != 0)
            continue;
        if (strcmp(s->inst[i].tags.traffic, "live") == 0)
            lb = s->p->cfg.live_name;
        else if (strcmp(s->inst[i].tags.traffic, "prelive") == 0)
            lb = s->p->cfg.prelive_name;
        s->on_prelive = lb == s->p->cfg.prelive_name;
    }
    if (lb && elb_describe(&s->p->aws, &lb, 1, &s->lb, &found, e) < 0)
        return -1;
    s->have_lb = found;
    return 0;
}

typedef void (*smoke_fn)(struct smoke_ctx *, struct smoke_check *);

static const struct {
    const char *name;
    smoke_fn fn;
} smoke_checks[SMOKE_N] = {
    { "api", smoke_api },
    { "nodes", smoke_nodes },
    { "kube-system", smoke_system_pods },
    { "workloads", smoke_workloads },
    { "elb", smoke_elb },
    { "ingress", smoke_ingress },
};

/* One round: every check below upto not yet passed. Returns 1 when all
 * of them have passed. */
static int smoke_round(struct smoke_ctx *s, struct smoke_report *r, int upto,
                       struct err *e)
{
    int all = 1;
    if (smoke_read_aws(s, e) < 0)
        return -1;
    for (int i = 0; i < upto; i++) {
        if (r->checks[i].pass)
            continue;
        if (i > SMOKE_API && !r->checks[SMOKE_API].pass && i != SMOKE_ELB)
            smoke_fail(&r->checks[i], "not run: the API does not answer");
        else
            smoke_checks[i].fn(s, &r->checks[i]);
        all &= r->checks[i].pass;
    }
    r->attempts++;
    return all;
}

/* "4/6 checks pass" for the progress line. */
static void smoke_status(const struct smoke_report *r, int upto, char *out, size_t size)
{
    int n = 0;
    for (int i = 0; i < upto; i++)
        n += r->checks[i].pass;
    snprintf(out, size, "%d/%d checks pass", n, upto);
}

int plan_smoke(struct paas *p, const char *slot, struct smoke_report *r,
               struct err *e)
{
    return plan_smoke_upto(p, slot, SMOKE_N, p->cfg.smoke_timeout, r, e);
}

int plan_smoke_upto(struct paas *p, const char *slot, int upto, double timeout_s,
                    struct smoke_report *r, struct err *e)
{
    struct smoke_ctx s;
    struct wait w;
    char what[64], status[64];
    int idx = config_slot_index(slot), rc;
    memset(r, 0, sizeof(*r));
    memset(&s, 0, sizeof(s));
    snprintf(r->slot, sizeof(r->slot), "%s", slot);
    for (int i = 0; i < SMOKE_N; i++)
        r->checks[i].name = smoke_checks[i].name;
    if (idx < 0)
        return err_set(e, ERR_USAGE, "unknown slot '%s' (a or b)", slot);
    if (!p->cfg.cluster[idx].present)
        return err_set(e, ERR_USAGE, "%s: no [cluster %s] section", p->cfg.path, slot);
    s.p = p;
    s.slot = slot;
    if (kube_open_slot(p, slot, &smoke_kube_opts, &s.kube, e) < 0)
        return -1;
    snprintf(what, sizeof(what), "smoke checks of slot %s", slot);
    wait_init(&w, what, timeout_s);
    /* Failing checks are retried until the timeout; Ctrl-C ends the wait
     * with the verdict so far. */
    while ((rc = smoke_round(&s, r, upto, e)) == 0) {
        smoke_status(r, upto, status, sizeof(status));
        wait_progress(p, &w, status);
        if (wait_expired(&w) || wait_next(p, &w, e) < 0)
            break;
    }
    wait_done(p, &w);
    if (rc >= 0)
        err_init(e);   /* a timeout or Ctrl-C ends in a verdict, not an error */
    r->elapsed_s = wait_elapsed(&w);
    r->passed = rc == 1;
    free(s.inst);
    elb_lb_release(&s.lb);
    k8s_client_release(&s.kube);
    return rc < 0 ? -1 : 0;
}
