/* consul-sync SRC DST [--once] [--prefix P] [--delete]: keep DST's Consul KV
 * equal to SRC's (SPEC.md "Consul sync"). Prints a line per change batch
 * (and a status line on a terminal), or with --once the report; exit 1 when
 * a --once pass met conflicts, 130/143 when stopped by a signal. Key names
 * may be printed, values never. */
#include "cmd/cmd.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/util.h"
#include "plans/consul_sync.h"

struct sync_out {
    struct paas *p;
    struct progress prog;
    long long started_ms;
};

static void sync_print_conflicts(const struct consul_sync_conflict *c, size_t n)
{
    for (size_t i = 0; i < n; i++)
        printf("conflict: %s: %s (DST's value kept)\n", c[i].key, c[i].what);
}

/* The status line is only ever the last line on a terminal: erased (not
 * left behind) before a batch line or the report. */
static void sync_clear_status(struct sync_out *o)
{
    log_progress_clear(&o->p->log, &o->prog);
}

/* "+3 ~1 -0, index 4711" per batch; the status line while waiting. */
static void sync_on_event(void *arg, const struct consul_sync_event *ev)
{
    struct sync_out *o = arg;
    const struct consul_sync_report *r = ev->so_far;
    if (ev->kind == CONSUL_SYNC_WAITING) {
        if (o->p->log.tty)
            log_progress(&o->p->log, &o->prog, (double)(util_now_ms() - o->started_ms) / 1000.0,
                         "in sync at index %llu; %ld batch%s, +%ld ~%ld -%ld, %ld conflict%s",
                         (unsigned long long)ev->index, r->batches, r->batches == 1 ? "" : "es",
                         r->total.created, r->total.updated, r->total.deleted,
                         r->total.conflicts, r->total.conflicts == 1 ? "" : "s");
        return;
    }
    if (o->p->output == OUT_JSON)
        return;
    sync_clear_status(o);
    printf("+%ld ~%ld -%ld, index %llu", ev->batch.created, ev->batch.updated,
           ev->batch.deleted, (unsigned long long)ev->index);
    if (ev->n_conflicts)
        printf(", %zu conflict%s", ev->n_conflicts, ev->n_conflicts == 1 ? "" : "s");
    printf("\n");
    sync_print_conflicts(ev->conflicts, ev->n_conflicts);
    fflush(stdout);
}

static void sync_print_report(struct paas *p, const struct consul_sync_opts *so,
                              const struct consul_sync_report *r)
{
    if (p->output == OUT_JSON) {
        json_t *conflicts = json_array();
        json_t *d;
        for (size_t i = 0; i < r->n_conflicts; i++)
            json_array_append_new(conflicts, json_pack("{s:s, s:s}", "key", r->conflicts[i].key,
                                                       "reason", r->conflicts[i].what));
        d = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "src", so->src,
                      "dst", so->dst, "created", (json_int_t)r->total.created,
                      "updated", (json_int_t)r->total.updated,
                      "deleted", (json_int_t)r->total.deleted,
                      "unchanged", (json_int_t)r->total.unchanged,
                      "kept", (json_int_t)r->kept, "transactions", (json_int_t)r->transactions,
                      "index", (json_int_t)r->index, "conflicts", conflicts);
        cmd_print_json(d);
        json_decref(d);
        return;
    }
    printf("consul-sync %s -> %s: %ld created, %ld updated, %ld deleted, %ld unchanged, "
           "%zu conflict%s", so->src, so->dst, r->total.created, r->total.updated,
           r->total.deleted, r->total.unchanged, r->n_conflicts, r->n_conflicts == 1 ? "" : "s");
    if (r->kept)
        printf("; %ld key%s only on %s kept (no --delete)", r->kept, r->kept == 1 ? "" : "s",
               so->dst);
    printf("; %ld transaction%s\n", r->transactions, r->transactions == 1 ? "" : "s");
}

static int sync_args(int argc, char **argv, struct consul_sync_opts *so, struct err *e)
{
    const char *slots[2] = { NULL, NULL };
    int n = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--once") == 0)
            so->once = 1;
        else if (strcmp(argv[i], "--delete") == 0)
            so->delete_keys = 1;
        else if (strcmp(argv[i], "--prefix") == 0 && i + 1 < argc)
            so->prefix = argv[++i];
        else if (strncmp(argv[i], "--prefix=", 9) == 0)
            so->prefix = argv[i] + 9;
        else if (argv[i][0] == '-')
            return err_set(e, ERR_USAGE, "consul-sync: unknown option '%s'", argv[i]);
        else if (n < 2)
            slots[n++] = argv[i];
        else
            return err_set(e, ERR_USAGE, "usage: paasctl consul-sync SRC DST [--once] "
                           "[--prefix P] [--delete]");
    }
    if (n != 2)
        return err_set(e, ERR_USAGE, "usage: paasctl consul-sync SRC DST [--once] "
                       "[--prefix P] [--delete]");
    for (int i = 0; i < 2; i++)
        if (config_slot_index(slots[i]) < 0)
            return err_set(e, ERR_USAGE, "unknown slot '%s' (a or b)", slots[i]);
    if (so->prefix && so->prefix[0] == '/')
        return err_set(e, ERR_USAGE, "--prefix: Consul keys do not start with '/'");
    so->src = slots[0];
    so->dst = slots[1];
    return 0;
}

int cmd_consul_sync(struct paas *p, int argc, char **argv, struct err *e)
{
    struct consul_sync_opts so = { 0 };
    struct consul_sync_report r;
    struct sync_out out = { p, { "", 0 }, util_now_ms() };
    int rc;
    if (sync_args(argc, argv, &so, e) < 0)
        return -1;
    rc = plan_consul_sync(p, &so, &r, sync_on_event, &out, e);
    sync_clear_status(&out);
    if (rc == 0 || r.transactions || r.batches)
        sync_print_report(p, &so, &r);
    if (rc == 0 && r.n_conflicts)
        rc = err_set(e, ERR_FAILED, "consul-sync: %zu conflict%s: key%s changed on %s while "
                     "it was being written; %s's value%s kept (see above)", r.n_conflicts,
                     r.n_conflicts == 1 ? "" : "s", r.n_conflicts == 1 ? "" : "s", so.dst,
                     so.dst, r.n_conflicts == 1 ? " was" : "s were");
    consul_sync_report_release(&r);
    return rc;
}
