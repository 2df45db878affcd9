/* consul-sync SRC DST (SPEC.md "Consul sync"): keeps DST's Consul KV equal
 * to SRC's. Reads both sides, writes the differences to DST in checked
 * transactions (cas on the ModifyIndex DST had when read), reports a key
 * someone changed on DST in between as a conflict instead of overwriting it,
 * then (without --once) follows SRC with blocking queries until stopped. */
#ifndef PLANS_CONSUL_SYNC_H
#define PLANS_CONSUL_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "plans/paas.h"

struct consul_sync_opts {
    const char *src, *dst;    /* "a" / "b" */
    const char *prefix;       /* NULL = [consul] prefix */
    int once;                 /* one pass, then return */
    int delete_keys;          /* --delete: DST keys SRC lacks are deleted */
};

struct consul_sync_counts {
    long created, updated, deleted, unchanged, conflicts;
};

struct consul_sync_conflict {
    char *key;                /* owned; a key name, never a value */
    char what[256];           /* Consul's reason */
};

/* Filled by the plan; release with consul_sync_report_release. */
struct consul_sync_report {
    struct consul_sync_counts total;
    struct consul_sync_conflict *conflicts;   /* every conflict, in order */
    size_t n_conflicts;
    long kept;                /* DST keys SRC lacks, left there (no --delete),
                               * as of the last pass */
    long batches;             /* passes that wrote something or conflicted */
    long transactions;        /* PUT /v1/txn sent to DST */
    uint64_t index;           /* SRC's X-Consul-Index last seen */
};

enum consul_sync_event_kind {
    CONSUL_SYNC_BATCH,        /* a pass was applied (the first one always) */
    CONSUL_SYNC_WAITING,      /* a blocking query on SRC is about to wait */
};

struct consul_sync_event {
    enum consul_sync_event_kind kind;
    struct consul_sync_counts batch;          /* BATCH: this pass's counts */
    const struct consul_sync_conflict *conflicts;   /* BATCH: this pass's */
    size_t n_conflicts;
    uint64_t index;                           /* SRC's index */
    const struct consul_sync_report *so_far;
};

/* Called by the plan (cmd/ prints); ev is valid during the call only. */
typedef void (*consul_sync_fn)(void *arg, const struct consul_sync_event *ev);

/* Runs the sync. Returns 0 after a --once pass (conflicts are in r, not an
 * error); -1 on failure, or when stopped by SIGINT/SIGTERM (e->kind
 * ERR_SIGINT/ERR_SIGTERM) after the transaction in flight finished. */
int plan_consul_sync(struct paas *p, const struct consul_sync_opts *o,
                     struct consul_sync_report *r, consul_sync_fn fn, void *arg,
                     struct err *e);
void consul_sync_report_release(struct consul_sync_report *r);

#endif
