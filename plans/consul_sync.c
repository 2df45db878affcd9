/* consul-sync (SPEC.md "Consul sync"; see consul_sync.h). The order of
 * events: open both sides, read DST, read SRC, write the differences; then,
 * without --once, wait on SRC with a blocking query and write each change
 * as it comes. Nothing is remembered between runs: a restart reads both
 * sides again, so a stop at any point converges. */
#include "plans/consul_sync.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "core/env.h"
#include "consul/kv.h"
#include "k8s/kubeconfig.h"

/* One write of a pass. */
struct sync_op {
    struct consul_op op;      /* key owned (op.key), value borrowed from SRC */
    int created;              /* a cas on a key DST lacked */
};

struct sync {
    struct paas *p;
    const struct consul_sync_opts *o;
    const char *prefix;
    struct consul src, dst;
    int have_src, have_dst;
    struct consul_kvs dstv;   /* DST as last read or written */
    /* Keys in conflict: modify_index = SRC's ModifyIndex of the value that
     * conflicted (0 = a delete). Skipped until SRC changes them again, so a
     * conflict is never retried blindly. */
    struct consul_kvs held;
    struct consul_sync_report *r;
    struct consul_sync_counts batch;
    size_t batch_first_conflict;
};

/* ---- the DST cache: a sorted consul_kvs with put and delete ---------------- */

static size_t kvs_lower_bound(const struct consul_kvs *l, const char *key)
{
    size_t lo = 0, hi = l->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(l->v[mid].key, key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Sets key's entry (value and flags copied; value may be NULL). */
static int kvs_put(struct consul_kvs *l, const char *key, const char *value, uint64_t flags,
                   uint64_t modify_index, struct err *e)
{
    size_t at = kvs_lower_bound(l, key);
    struct consul_kv *kv, *grown;
    char *v = value ? strdup(value) : NULL;
    if (value && !v)
        return err_set(e, ERR_FAILED, "out of memory");
    if (at == l->n || strcmp(l->v[at].key, key) != 0) {
        char *k = strdup(key);
        if (!k || !(grown = realloc(l->v, (l->n + 1) * sizeof(*l->v)))) {
            free(k);
            free(v);
            return err_set(e, ERR_FAILED, "out of memory");
        }
        l->v = grown;
        memmove(&l->v[at + 1], &l->v[at], (l->n - at) * sizeof(*l->v));
        l->n++;
        l->v[at] = (struct consul_kv){ .key = k };
    }
    kv = &l->v[at];
    free(kv->value);
    kv->value = v;
    kv->flags = flags;
    kv->modify_index = modify_index;
    return 0;
}

static void kvs_del(struct consul_kvs *l, const char *key)
{
    size_t at = kvs_lower_bound(l, key);
    if (at == l->n || strcmp(l->v[at].key, key) != 0)
        return;
    consul_kv_release(&l->v[at]);
    memmove(&l->v[at], &l->v[at + 1], (l->n - at - 1) * sizeof(*l->v));
    l->n--;
}

/* ---- opening both sides --------------------------------------------------------- */

/* [consul] token_file, else CONSUL_HTTP_TOKEN; "" = none. */
static int sync_token(const struct config *cfg, struct buf *tok, struct err *e)
{
    const char *env = env_get("CONSUL_HTTP_TOKEN");
    if (cfg->consul_token_file[0]) {
        if (k8s_read_file(cfg->consul_token_file, (size_t)64 * 1024, "[consul] token_file", tok, e) < 0)
            return -1;
        while (tok->len && strchr(" \t\r\n", tok->data[tok->len - 1]))
            tok->data[--tok->len] = '\0';
    } else if (env) {
        buf_puts(tok, env);
    }
    return tok->failed ? err_set(e, ERR_FAILED, "out of memory") : 0;
}

static int sync_open_side(struct sync *s, const char *slot, const char *token,
                          struct consul *c, struct err *e)
{
    const struct config *cfg = &s->p->cfg;
    int i = config_slot_index(slot);
    const char *address = i == 0 ? cfg->consul_address_a : cfg->consul_address_b;
    char where[700], origin[4200];
    struct k8s_kubeconfig kc;
    if (address[0]) {
        snprintf(where, sizeof(where), "slot %s (%s)", slot, address);
        snprintf(origin, sizeof(origin), "[consul] address_%s in %s", slot, cfg->path);
        return consul_open_direct(c, address, cfg->consul_ca_file, token, origin, where,
                                  &s->p->log, e);
    }
    if (!cfg->consul_service[0])
        return err_set(e, ERR_USAGE, "%s: [consul] sets neither service nor address_%s, so "
                       "slot %s's Consul cannot be reached", cfg->path, slot, slot);
    snprintf(where, sizeof(where), "slot %s (service %s through its API server)", slot,
             cfg->consul_service);
    if (k8s_kubeconfig_load(&kc, cfg->cluster[i].kubeconfig, cfg->cluster[i].context, e) < 0)
        return err_wrap(e, "slot %s", slot);
    return consul_open_proxy(c, &kc, cfg->consul_service, token, where, &s->p->log, e);
}

static int sync_open(struct sync *s, struct err *e)
{
    struct buf tok = BUF_INIT;
    int rc = sync_token(&s->p->cfg, &tok, e);
    if (rc == 0 && (rc = sync_open_side(s, s->o->src, buf_str(&tok), &s->src, e)) == 0)
        s->have_src = 1;
    if (rc == 0 && (rc = sync_open_side(s, s->o->dst, buf_str(&tok), &s->dst, e)) == 0)
        s->have_dst = 1;
    buf_release_secret(&tok);
    return rc;
}

/* ---- one pass ------------------------------------------------------------------- */

static int sync_note_conflict(struct sync *s, const char *key, const char *what,
                              uint64_t src_index, struct err *e)
{
    struct consul_sync_report *r = s->r;
    struct consul_sync_conflict *grown;
    char *k = strdup(key);
    if (!k || !(grown = realloc(r->conflicts, (r->n_conflicts + 1) * sizeof(*grown)))) {
        free(k);
        return err_set(e, ERR_FAILED, "out of memory");
    }
    r->conflicts = grown;
    grown[r->n_conflicts].key = k;
    snprintf(grown[r->n_conflicts].what, sizeof(grown[r->n_conflicts].what), "%s", what);
    r->n_conflicts++;
    s->batch.conflicts++;
    log_debug(&s->p->log, 1, "conflict on %s: %s", key, what);
    return kvs_put(&s->held, key, NULL, 0, src_index, e);
}

static void sync_count(struct sync *s, const struct sync_op *w)
{
    if (w->op.verb == CONSUL_DELETE_CAS)
        s->batch.deleted++;
    else if (w->created)
        s->batch.created++;
    else
        s->batch.updated++;
}

/* An op Consul rolled back: read the key on DST again. If it already is
 * what we wanted (an earlier attempt of ours went through), that is not a
 * conflict; otherwise someone else wrote it, and DST's value stays. */
static int sync_resolve(struct sync *s, const struct sync_op *w, uint64_t src_index,
                        const char *what, struct err *e)
{
    struct consul_kv now, want = { .value = (char *)w->op.value, .flags = w->op.flags };
    int found, rc;
    if (consul_kv_get(&s->dst, w->op.key, &now, &found, e) < 0)
        return -1;
    if (w->op.verb == CONSUL_DELETE_CAS ? !found : found && consul_kv_same(&now, &want)) {
        sync_count(s, w);
        rc = 0;
    } else {
        rc = sync_note_conflict(s, w->op.key, what, src_index, e);
    }
    if (rc == 0 && found)
        rc = kvs_put(&s->dstv, now.key, now.value, now.flags, now.modify_index, e);
    else if (rc == 0)
        kvs_del(&s->dstv, w->op.key);
    consul_kv_release(&now);
    return rc;
}

/* A committed transaction: DST now holds what we sent, at the indexes
 * Consul returned. */
static int sync_committed(struct sync *s, struct sync_op *ws, size_t n,
                          const struct consul_txn_result *r, struct err *e)
{
    for (size_t i = 0; i < n; i++) {
        const struct consul_op *op = &ws[i].op;
        const struct consul_kv *kv = consul_kvs_find(&r->kvs, op->key);
        sync_count(s, &ws[i]);
        if (op->verb == CONSUL_DELETE_CAS)
            kvs_del(&s->dstv, op->key);
        else if (kvs_put(&s->dstv, op->key, op->value, op->flags,
                         kv ? kv->modify_index : 0, e) < 0)
            return -1;
    }
    return 0;
}

static uint64_t sync_src_index(const struct consul_kvs *srcv, const char *key)
{
    const struct consul_kv *kv = consul_kvs_find(srcv, key);
    return kv ? kv->modify_index : 0;
}

/* Sends ws[0..n) as one transaction; what Consul rolls back is resolved
 * key by key and the rest is sent again, until nothing is left. */
static int sync_apply_chunk(struct sync *s, struct sync_op *ws, size_t n,
                            const struct consul_kvs *srcv, struct err *e)
{
    struct consul_op ops[CONSUL_TXN_MAX_OPS];
    while (n) {
        struct consul_txn_result r;
        size_t i, keep = 0;
        for (i = 0; i < n; i++)
            ops[i] = ws[i].op;
        if (consul_txn(&s->dst, ops, n, &r, e) < 0)
            return -1;
        s->r->transactions++;
        if (r.committed) {
            int rc = sync_committed(s, ws, n, &r, e);
            consul_txn_result_release(&r);
            return rc;
        }
        for (i = 0; i < n; i++) {
            const char *what = NULL;
            for (size_t f = 0; f < r.n_failed; f++)
                if (r.failed[f].op == i)
                    what = r.failed[f].what;
            if (!what) {
                struct sync_op t = ws[i];
                ws[i].op.key = NULL;   /* moved: freed once, where it lands */
                ws[keep++] = t;
                continue;
            }
            if (sync_resolve(s, &ws[i], sync_src_index(srcv, ws[i].op.key), what, e) < 0) {
                consul_txn_result_release(&r);
                return -1;
            }
            free((char *)ws[i].op.key);
            ws[i].op.key = NULL;
        }
        consul_txn_result_release(&r);
        n = keep;
    }
    return 0;
}

static size_t sync_op_bytes(const struct sync_op *w)
{
    return strlen(w->op.key) + (w->op.value ? strlen(w->op.value) : 0) + 96;
}

/* Sends the pass's writes in transactions of at most 64 operations and
 * CONSUL_TXN_MAX_BYTES; stops between two of them on Ctrl-C. */
static int sync_apply(struct sync *s, struct sync_op *ws, size_t n,
                      const struct consul_kvs *srcv, struct err *e)
{
    size_t i = 0;
    while (i < n) {
        size_t j = i, bytes = 0;
        if (paas_interrupted(s->p))
            return -1;
        while (j < n && j - i < CONSUL_TXN_MAX_OPS &&
               (j == i || bytes + sync_op_bytes(&ws[j]) <= CONSUL_TXN_MAX_BYTES))
            bytes += sync_op_bytes(&ws[j++]);
        if (sync_apply_chunk(s, ws + i, j - i, srcv, e) < 0)
            return -1;
        i = j;
    }
    return 0;
}

static int sync_add(struct sync_op **ws, size_t *n, size_t *cap, const struct sync_op *w,
                    struct err *e)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 64;
        struct sync_op *g = realloc(*ws, c * sizeof(*g));
        if (!g)
            return err_set(e, ERR_FAILED, "out of memory");
        *ws = g;
        *cap = c;
    }
    (*ws)[*n] = *w;
    if (!((*ws)[*n].op.key = strdup(w->op.key)))
        return err_set(e, ERR_FAILED, "out of memory");
    (*n)++;
    return 0;
}

/* 1 if key is held in conflict for this SRC state (src_index; 0 = absent). */
static int sync_held(const struct sync *s, const char *key, uint64_t src_index)
{
    const struct consul_kv *h = consul_kvs_find(&s->held, key);
    return h && h->modify_index == src_index;
}

/* The writes that make DST equal to SRC (srcv), as far as DST is known. */
static int sync_diff(struct sync *s, const struct consul_kvs *srcv, struct sync_op **ws,
                     size_t *n, struct err *e)
{
    size_t cap = 0;
    *ws = NULL;
    *n = 0;
    s->r->kept = 0;
    for (size_t i = 0; i < srcv->n; i++) {
        const struct consul_kv *sv = &srcv->v[i], *dv = consul_kvs_find(&s->dstv, sv->key);
        struct sync_op w = { { CONSUL_CAS, sv->key, sv->value, sv->flags,
                               dv ? dv->modify_index : 0 }, !dv };
        if (dv && consul_kv_same(sv, dv)) {
            s->batch.unchanged++;
            kvs_del(&s->held, sv->key);
        } else if (!sync_held(s, sv->key, sv->modify_index) &&
                   sync_add(ws, n, &cap, &w, e) < 0) {
            return -1;
        }
    }
    for (size_t i = 0; i < s->dstv.n; i++) {
        const struct consul_kv *dv = &s->dstv.v[i];
        struct sync_op w = { { CONSUL_DELETE_CAS, dv->key, NULL, 0, dv->modify_index }, 0 };
        if (consul_kvs_find(srcv, dv->key))
            continue;
        if (!s->o->delete_keys)
            s->r->kept++;
        else if (!sync_held(s, dv->key, 0) && sync_add(ws, n, &cap, &w, e) < 0)
            return -1;
    }
    return 0;
}

static void sync_free_ops(struct sync_op *ws, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free((char *)ws[i].op.key);
    free(ws);
}

static void sync_add_counts(struct consul_sync_counts *t, const struct consul_sync_counts *b)
{
    t->created += b->created;
    t->updated += b->updated;
    t->deleted += b->deleted;
    t->conflicts += b->conflicts;
    t->unchanged = b->unchanged;   /* a state, not an event */
}

/* One pass: diff SRC against DST, write, tell fn. */
static int sync_pass(struct sync *s, const struct consul_kvs *srcv, int always_tell,
                     consul_sync_fn fn, void *arg, struct err *e)
{
    struct sync_op *ws;
    size_t n;
    int rc;
    memset(&s->batch, 0, sizeof(s->batch));
    s->batch_first_conflict = s->r->n_conflicts;
    rc = sync_diff(s, srcv, &ws, &n, e);
    if (rc == 0)
        rc = sync_apply(s, ws, n, srcv, e);
    sync_free_ops(ws, n);
    sync_add_counts(&s->r->total, &s->batch);
    s->r->index = srcv->index;
    if (rc == 0 && (n || always_tell)) {
        struct consul_sync_event ev = {
            CONSUL_SYNC_BATCH, s->batch, s->r->conflicts + s->batch_first_conflict,
            s->r->n_conflicts - s->batch_first_conflict, srcv->index, s->r };
        s->r->batches++;
        if (fn)
            fn(arg, &ev);
    }
    return rc;
}

/* ---- the run -------------------------------------------------------------------- */

static int sync_read_dst(struct sync *s, struct err *e)
{
    consul_kvs_release(&s->dstv);
    return consul_kv_list(&s->dst, s->prefix, 0, s->p->interrupted, &s->dstv, e);
}

/* Follows SRC: each blocking query returns when SRC changed (or after the
 * wait), and its listing is written at once, so a change reaches DST within
 * one round trip plus one transaction. */
static int sync_follow(struct sync *s, uint64_t index, consul_sync_fn fn, void *arg,
                       struct err *e)
{
    for (;;) {
        struct consul_sync_event wait = { CONSUL_SYNC_WAITING, { 0, 0, 0, 0, 0 }, NULL, 0,
                                          index, s->r };
        struct consul_kvs srcv;
        int rc = 0;
        if (paas_interrupted(s->p))
            return -1;
        if (fn)
            fn(arg, &wait);
        if (consul_kv_list(&s->src, s->prefix, index, s->p->interrupted, &srcv, e) < 0)
            return -1;
        /* Consul's rules for blocking queries: an index that went backwards
         * (a restore, a new leader's state) starts over; one below 1 is
         * treated as 1, or every query would return at once. */
        if (srcv.index < index) {
            log_info(&s->p->log, "Consul of %s: index went back from %llu to %llu; reading "
                     "%s again", s->src.where, (unsigned long long)index,
                     (unsigned long long)srcv.index, s->dst.where);
            rc = sync_read_dst(s, e);
        }
        if (srcv.index < 1)
            srcv.index = 1;
        if (rc == 0 && srcv.index != index)
            rc = sync_pass(s, &srcv, 0, fn, arg, e);
        index = srcv.index;
        consul_kvs_release(&srcv);
        if (rc < 0)
            return -1;
    }
}

static int sync_run(struct sync *s, consul_sync_fn fn, void *arg, struct err *e)
{
    struct consul_kvs srcv;
    uint64_t index;
    int rc;
    if (sync_open(s, e) < 0 || sync_read_dst(s, e) < 0 ||
        consul_kv_list(&s->src, s->prefix, 0, s->p->interrupted, &srcv, e) < 0)
        return -1;
    rc = sync_pass(s, &srcv, 1, fn, arg, e);
    index = srcv.index < 1 ? 1 : srcv.index;
    consul_kvs_release(&srcv);
    if (rc < 0 || s->o->once)
        return rc;
    return sync_follow(s, index, fn, arg, e);
}

int plan_consul_sync(struct paas *p, const struct consul_sync_opts *o,
                     struct consul_sync_report *r, consul_sync_fn fn, void *arg,
                     struct err *e)
{
    struct sync s;
    int rc;
    memset(r, 0, sizeof(*r));
    memset(&s, 0, sizeof(s));
    s.p = p;
    s.o = o;
    s.r = r;
    s.prefix = o->prefix ? o->prefix : p->cfg.consul_prefix;
    if (strcmp(o->src, o->dst) == 0)
        return err_set(e, ERR_USAGE, "consul-sync: SRC and DST are both slot %s", o->src);
    rc = sync_run(&s, fn, arg, e);
    if (paas_interrupted(p)) {
        int sig = *p->interrupted;
        err_set(e, sig == SIGTERM ? ERR_SIGTERM : ERR_SIGINT, "consul-sync stopped by %s "
                "after %ld transaction%s; what was written stays, and running it again "
                "reads both sides and converges", sig == SIGTERM ? "SIGTERM" : "SIGINT",
                r->transactions, r->transactions == 1 ? "" : "s");
        rc = -1;
    }
    if (s.have_src)
        consul_close(&s.src);
    if (s.have_dst)
        consul_close(&s.dst);
    consul_kvs_release(&s.dstv);
    consul_kvs_release(&s.held);
    return rc;
}

void consul_sync_report_release(struct consul_sync_report *r)
{
    for (size_t i = 0; i < r->n_conflicts; i++)
        free(r->conflicts[i].key);
    free(r->conflicts);
    memset(r, 0, sizeof(*r));
}
