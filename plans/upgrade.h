/* upgrade [--to a|b] [--from-step N] (SPEC.md "Upgrade"): the whole story to
 * the idle slot as seven gates run in-process under the caller's one lock:
 * up IDLE, smoke IDLE, migrate LIVE IDLE, consul-sync LIVE IDLE --once
 * (skipped without [consul]), smoke IDLE, cutover, smoke IDLE (now on the
 * live ELB). Stops at the first failed gate; the result's steps go into the
 * journal record, from which the next run resumes. Never tears down. */
#ifndef PLANS_UPGRADE_H
#define PLANS_UPGRADE_H

#include <stddef.h>
#include <jansson.h>

#include "plans/paas.h"

enum upgrade_step_id {
    UPGRADE_UP, UPGRADE_SMOKE, UPGRADE_MIGRATE, UPGRADE_CONSUL, UPGRADE_SMOKE_AGAIN,
    UPGRADE_CUTOVER, UPGRADE_SMOKE_LIVE, UPGRADE_N_STEPS
};

struct upgrade_step {
    char command[48];      /* "migrate a b" */
    const char *what;      /* static: what the step does */
    const char *outcome;   /* static: "pending", "ok", "skipped", "failed",
                            * "refused", "interrupted", "would run",
                            * "would skip" */
    int earlier;           /* done by an earlier run (outcome and time are
                            * that run's) */
    char started[32];      /* ISO 8601 UTC; "" = not run */
    double seconds;
    char detail[1024];     /* counts, or why it failed; never a secret */
    json_t *changes;       /* the step's journal changes (ids, counts); owned */
};

struct upgrade_opts {
    const char *to;        /* "a"/"b", NULL = the slot not live */
    int from_step;         /* 1..UPGRADE_N_STEPS, 0 = from the journal */
};

struct upgrade_result {
    char live[8], idle[8];     /* LIVE and IDLE when the upgrade started */
    int resumed;               /* continues an unfinished earlier run */
    int first;                 /* 1-based step this run started at */
    int stopped;               /* 1-based step that failed, 0 = none */
    struct upgrade_step steps[UPGRADE_N_STEPS];
};

/* Called after each step this run ran (cmd/ prints); r is valid during the
 * call only. */
typedef void (*upgrade_fn)(void *arg, const struct upgrade_result *r, int step);

/* Runs (or with p->dry_run only describes) the upgrade. 0 when every step
 * passed; -1 with e naming the step and how to continue: ERR_FAILED (a
 * gate failed), ERR_REFUSED (an interlock: no live slot, --to the live
 * slot, cutover to an unhealthy slot), ERR_USAGE, or the signal's kind. r
 * is filled as far as it got either way (r->idle is "" when no step could
 * be named); release it with upgrade_result_release. */
int plan_upgrade(struct paas *p, const struct upgrade_opts *o, struct upgrade_result *r,
                 upgrade_fn fn, void *arg, struct err *e);
void upgrade_result_release(struct upgrade_result *r);

/* {"live","idle","resumed","first_step","stopped_at","steps":[{"step",
 * "command","what","outcome","earlier","started","seconds","detail",
 * "changes"?}]}: the -o json document and the journal record's changes.
 * New reference. */
json_t *upgrade_result_json(const struct upgrade_result *r);

#endif
