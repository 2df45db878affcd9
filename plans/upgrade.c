/* upgrade (SPEC.md "Upgrade"): the seven gates in order, each calling the
 * plan its own command calls, all under the one lock the dispatcher took
 * for this run. Which slot is LIVE and which IDLE comes from the traffic
 * tags (or --to); a run that follows an unfinished one takes its slots and
 * starts at its first unfinished step, as the progress object (written
 * after every gate, run/upgrade_progress.h) or else the journal recorded
 * them. */
#include "plans/upgrade.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"
#include "plans/consul_sync.h"
#include "plans/diff.h"
#include "plans/migrate.h"
#include "plans/preflight.h"
#include "plans/slot.h"
#include "plans/slot_wait.h"
#include "plans/smoke.h"
#include "plans/swap.h"
#include "plans/swap_world.h"
#include "run/identity.h"
#include "run/journal.h"
#include "run/upgrade_progress.h"

static const char *const step_what[UPGRADE_N_STEPS] = {
    "converge the idle slot's instances, DNS and pre-live membership; wait for its nodes",
    "the smoke suite against the idle slot, through the pre-live ELB",
    "recreate the live slot's Kubernetes objects in the idle slot",
    "one pass of Consul KV from the live slot to the idle one ([consul] set)",
    "the smoke suite again, now with the migrated workloads",
    "health-gated swap: the idle slot becomes live, the old one pre-live",
    "the smoke suite against the new live slot, through the live ELB",
};

static void step_detail(struct upgrade_step *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void step_detail(struct upgrade_step *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->detail, sizeof(s->detail), fmt, ap);
    va_end(ap);
}

static int consul_configured(const struct paas *p)
{
    return p->cfg.consul_service[0] || p->cfg.consul_address_a[0] || p->cfg.consul_address_b[0];
}

static void upgrade_name_steps(struct upgrade_result *r)
{
    const char *L = r->live, *I = r->idle;
    snprintf(r->steps[UPGRADE_UP].command, sizeof(r->steps[0].command), "up %s", I);
    snprintf(r->steps[UPGRADE_SMOKE].command, sizeof(r->steps[0].command), "smoke %s", I);
    snprintf(r->steps[UPGRADE_MIGRATE].command, sizeof(r->steps[0].command), "migrate %s %s", L, I);
    snprintf(r->steps[UPGRADE_CONSUL].command, sizeof(r->steps[0].command),
             "consul-sync %s %s --once", L, I);
    snprintf(r->steps[UPGRADE_SMOKE_AGAIN].command, sizeof(r->steps[0].command), "smoke %s", I);
    snprintf(r->steps[UPGRADE_CUTOVER].command, sizeof(r->steps[0].command), "cutover");
    snprintf(r->steps[UPGRADE_SMOKE_LIVE].command, sizeof(r->steps[0].command), "smoke %s", I);
    for (int i = 0; i < UPGRADE_N_STEPS; i++) {
        r->steps[i].what = step_what[i];
        r->steps[i].outcome = "pending";
    }
}

/* ---- the gates ------------------------------------------------------------ */

/* Fails the step with the first failing check of a smoke report. */
static int smoke_verdict(struct upgrade_step *s, const struct smoke_report *sr, struct err *e)
{
    int failed = 0;
    for (int i = 0; i < SMOKE_N; i++)
        failed += !sr->checks[i].pass;
    if (sr->passed) {
        /* The ELB check's reason says which ELB was probed: pre-live for
         * steps 2 and 5, live for step 7. */
        step_detail(s, "%d/%d checks passed in %d round%s; %s", SMOKE_N, SMOKE_N, sr->attempts,
                    sr->attempts == 1 ? "" : "s", sr->checks[SMOKE_ELB].reason);
        return 0;
    }
    for (int i = 0; i < SMOKE_N; i++)
        if (!sr->checks[i].pass) {
            step_detail(s, "%d check%s failed; %s: %s", failed, failed == 1 ? "" : "s",
                        sr->checks[i].name, sr->checks[i].reason);
            return err_set(e, ERR_FAILED, "smoke %s failed: %s: %s", sr->slot,
                           sr->checks[i].name, sr->checks[i].reason);
        }
    return 0;
}

static int gate_smoke(struct paas *p, struct upgrade_result *r, struct upgrade_step *s,
                      struct err *e)
{
    struct smoke_report sr;
    if (plan_smoke(p, r->idle, &sr, e) < 0)
        return -1;
    return smoke_verdict(s, &sr, e);
}

/* up IDLE, then the wait `up` does: a cluster not reachable from here is no
 * failure of this step (smoke, next, says what it cannot reach). */
static int gate_up(struct paas *p, struct upgrade_result *r, struct upgrade_step *s,
                   struct err *e)
{
    struct diff d;
    struct slot_wait w;
    size_t t[DIFF_N_OPS];
    int rc;
    /* Pre-flight as `up` does it (README "Pre-flight"), under the lock
     * upgrade already holds: nothing is made when a quota would stop it. */
    if (plan_preflight(p, r->idle, e) < 0)
        return -1;
    diff_init(&d, r->idle);
    rc = plan_up_slot(p, r->idle, 1, &d, e);
    diff_totals(&d, t);
    s->changes = diff_changes_json(&d);
    diff_release(&d);
    step_detail(s, "%zu created, %zu updated, %zu destroyed, %zu unchanged", t[DIFF_CREATE],
                t[DIFF_UPDATE], t[DIFF_DESTROY], t[DIFF_EXISTS]);
    if (rc < 0 || plan_slot_wait(p, r->idle, &w, e) < 0)
        return -1;
    if (!w.reachable) {
        size_t n = strlen(s->detail);
        snprintf(s->detail + n, sizeof(s->detail) - n, "; cluster not reachable from here: %s",
                 w.why);
    }
    return 0;
}

static int gate_migrate(struct paas *p, struct upgrade_result *r, struct upgrade_step *s,
                        struct err *e)
{
    struct migrate_opts o;
    struct migrate_report m;
    int rc;
    memset(&o, 0, sizeof(o));
    memset(&m, 0, sizeof(m));
    o.src = r->live;
    o.dst = r->idle;
    rc = plan_migrate(p, &o, &m, e);
    if (rc == 0) {
        step_detail(s, "%ld created, %ld updated, %ld exist, %ld skipped, %ld failed",
                    m.created, m.updated, m.exists, m.skipped, m.failed);
        s->changes = json_pack("{s:I, s:I, s:I, s:I, s:I}", "created", (json_int_t)m.created,
                               "updated", (json_int_t)m.updated, "exists", (json_int_t)m.exists,
                               "skipped", (json_int_t)m.skipped, "failed", (json_int_t)m.failed);
        if (m.failed)
            rc = err_set(e, ERR_FAILED, "migrate %s %s: %ld object%s failed, the first: %s %s%s%s: %s",
                         m.src, m.dst, m.failed, m.failed == 1 ? "" : "s",
                         m.n_failures ? m.failures[0].type : "?",
                         m.n_failures ? m.failures[0].ns : "",
                         m.n_failures && m.failures[0].ns[0] ? "/" : "",
                         m.n_failures ? m.failures[0].name : "",
                         m.n_failures ? m.failures[0].reason : "");
    }
    migrate_report_release(&m);
    return rc;
}

static int gate_consul(struct paas *p, struct upgrade_result *r, struct upgrade_step *s,
                       struct err *e)
{
    struct consul_sync_opts o = { r->live, r->idle, NULL, 1, 0 };
    struct consul_sync_report c;
    int rc = plan_consul_sync(p, &o, &c, NULL, NULL, e);
    if (rc == 0) {
        step_detail(s, "%ld created, %ld updated, %ld unchanged, %zu conflict%s",
                    c.total.created, c.total.updated, c.total.unchanged, c.n_conflicts,
                    c.n_conflicts == 1 ? "" : "s");
        if (c.n_conflicts)
            rc = err_set(e, ERR_FAILED, "consul-sync %s %s: %zu conflict%s, the first: %s: %s "
                         "(%s's value kept)", r->live, r->idle, c.n_conflicts,
                         c.n_conflicts == 1 ? "" : "s", c.conflicts[0].key, c.conflicts[0].what,
                         r->idle);
    }
    consul_sync_report_release(&c);
    return rc;
}

/* The swap under the name `cutover`: plan_cutover writes its own journal
 * record before it removes the swap marker (SPEC.md "Cutover rules" 6),
 * and `rollback` reads the newest ok cutover record to know where to go
 * back to. The upgrade's own record is still the dispatcher's to write. */
static int cutover_as_cutover(struct paas *p, struct swap_result *sw, struct err *e)
{
    const char *cmd = p->command;
    char line[sizeof(p->command_line)];
    int rc;
    memcpy(line, p->command_line, sizeof(line));
    p->command = "cutover";
    snprintf(p->command_line, sizeof(p->command_line), "cutover (upgrade)");
    rc = plan_cutover(p, sw, e);
    p->command = cmd;
    memcpy(p->command_line, line, sizeof(line));
    p->journaled = 0;
    return rc;
}

/* The traffic tags now: live and pre-live slots. */
static int read_traffic(struct paas *p, char live[8], char prelive[8], struct err *e)
{
    struct swap_world w;
    int rc;
    memset(&w, 0, sizeof(w));
    if (swap_world_read(p, &w, e) < 0)
        return -1;
    rc = swap_world_traffic(&w, live, prelive, e);
    swap_world_release(&w);
    return rc;
}

static int gate_cutover(struct paas *p, struct upgrade_result *r, struct upgrade_step *s,
                        struct err *e)
{
    struct swap_result sw;
    char live[8], prelive[8];
    int rc;
    if (read_traffic(p, live, prelive, e) < 0)
        return -1;
    /* Resumed after a cutover finished by hand: nothing to swap, and
     * swapping would send traffic back to the old slot. */
    if (strcmp(live, r->idle) == 0) {
        step_detail(s, "slot %s is already live", r->idle);
        return 0;
    }
    memset(&sw, 0, sizeof(sw));
    rc = cutover_as_cutover(p, &sw, e);
    if (rc == 0) {
        step_detail(s, "%sslot %s live (%zu ingress nodes InService), slot %s pre-live",
                    sw.resumed ? "resumed; " : "", sw.incoming.slot, sw.incoming.n,
                    sw.outgoing.slot[0] ? sw.outgoing.slot : "(none)");
        s->changes = json_incref(sw.changes);
    }
    swap_result_release(&sw);
    return rc;
}

typedef int (*gate_fn)(struct paas *, struct upgrade_result *, struct upgrade_step *,
                       struct err *);

static const gate_fn gates[UPGRADE_N_STEPS] = {
    gate_up, gate_smoke, gate_migrate, gate_consul, gate_smoke, gate_cutover, gate_smoke,
};

/* ---- where to start ---------------------------------------------------------- */

/* LIVE and IDLE by the traffic tags and --to. Refuses (exit 3) when no
 * slot is live (there is nothing to upgrade from: `up a`, `cutover` first)
 * or --to names the live slot. */
static int slots_from_tags(struct paas *p, const char *to, struct upgrade_result *r,
                           struct err *e)
{
    char live[8], prelive[8];
    if (read_traffic(p, live, prelive, e) < 0)
        return -1;
    if (!live[0])
        return err_set(e, ERR_REFUSED, "refusing upgrade: no slot is live (bring one up and "
                       "run 'paasctl cutover' first)");
    if (to && strcmp(to, live) == 0)
        return err_set(e, ERR_REFUSED, "refusing upgrade --to %s: slot %s is the live slot; "
                       "an upgrade goes to the idle one", to, to);
    snprintf(r->live, sizeof(r->live), "%s", live);
    snprintf(r->idle, sizeof(r->idle), "%s", strcmp(live, "a") == 0 ? "b" : "a");
    return 0;
}

/* The string at key of a record, "" when absent (records are read back). */
static const char *upgrade_str(json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v ? v : "";
}

/* A step of an earlier run's record, kept as that run left it. */
static void step_from_record(struct upgrade_step *s, json_t *js)
{
    const char *o = json_string_value(json_object_get(js, "outcome"));
    static const char *const known[] = { "ok", "skipped", "failed", "refused", "interrupted" };
    s->earlier = 1;
    for (size_t k = 0; o && k < sizeof(known) / sizeof(known[0]); k++)
        if (strcmp(o, known[k]) == 0)
            s->outcome = known[k];
    snprintf(s->started, sizeof(s->started), "%s", upgrade_str(js, "started"));
    s->seconds = json_real_value(json_object_get(js, "seconds"));
    snprintf(s->detail, sizeof(s->detail), "%s", upgrade_str(js, "detail"));
}

/* The first step (1-based) an earlier run left neither ok nor skipped;
 * UPGRADE_N_STEPS + 1 when it left none. */
static int first_unfinished(json_t *steps)
{
    int i;
    for (i = 0; i < UPGRADE_N_STEPS; i++) {
        const char *so = json_string_value(json_object_get(
            json_array_get(steps, (size_t)i), "outcome"));
        if (!so || (strcmp(so, "ok") != 0 && strcmp(so, "skipped") != 0))
            break;
    }
    return i + 1;
}

/* Takes an earlier run's slots and steps from doc (an upgrade document as
 * upgrade_result_json made it: the progress object, or a journal record's
 * "changes") when it names both slots, --to (if given) names its idle one,
 * and a step is unfinished. unfinished: the run is known not to have
 * finished (a journal record not "ok"), so a record of seven done steps
 * still resumes at the last. Returns 1 when resuming. */
static int resume_from_doc(json_t *doc, const char *to, int unfinished,
                           struct upgrade_result *r)
{
    const char *live = json_string_value(json_object_get(doc, "live"));
    const char *idle = json_string_value(json_object_get(doc, "idle"));
    json_t *steps = json_object_get(doc, "steps");
    int first;
    if (!live || !idle || !json_is_array(steps) || json_array_size(steps) != UPGRADE_N_STEPS ||
        (to && strcmp(to, idle) != 0) || config_slot_index(live) < 0 ||
        config_slot_index(idle) < 0)
        return 0;
    first = first_unfinished(steps);
    if (first > UPGRADE_N_STEPS) {
        if (!unfinished)
            return 0;
        first = UPGRADE_N_STEPS;
    }
    snprintf(r->live, sizeof(r->live), "%s", live);
    snprintf(r->idle, sizeof(r->idle), "%s", idle);
    upgrade_name_steps(r);
    r->first = first;
    for (int i = 0; i < r->first - 1; i++)
        step_from_record(&r->steps[i], json_array_get(steps, (size_t)i));
    return 1;
}

/* Where an earlier, unfinished run stopped. The progress object first: it
 * is written after every gate, so it is as new as the journal's last
 * upgrade record or newer (the only record of a run killed outright), and
 * it is gone once an upgrade finished ok. Without one (a run before this
 * object existed, or its write failed), the newest upgrade record when it
 * did not finish. Returns 1 when resuming. */
static int resume_earlier(struct paas *p, const char *to, struct upgrade_result *r,
                          struct err *e)
{
    json_t *doc = NULL;
    const char *outcome;
    int resume;
    if (upgrade_progress_read(p, &doc, e) < 0)
        return -1;
    resume = doc ? resume_from_doc(doc, to, 0, r) : 0;
    json_decref(doc);
    if (resume)
        return 1;
    if (journal_newest(p, "upgrade", &doc, e) < 0)
        return -1;
    outcome = json_string_value(json_object_get(doc, "outcome"));
    resume = doc && outcome && strcmp(outcome, "ok") != 0 &&
             resume_from_doc(json_object_get(doc, "changes"), to, 1, r);
    json_decref(doc);
    return resume;
}

static int upgrade_start(struct paas *p, const struct upgrade_opts *o, struct upgrade_result *r,
                         struct err *e)
{
    int resume;
    if (o->to && config_slot_index(o->to) < 0)
        return err_set(e, ERR_USAGE, "upgrade --to: unknown slot '%s' (a or b)", o->to);
    if (o->from_step < 0 || o->from_step > UPGRADE_N_STEPS)
        return err_set(e, ERR_USAGE, "upgrade --from-step: 1 to %d", UPGRADE_N_STEPS);
    if ((resume = resume_earlier(p, o->to, r, e)) < 0)
        return -1;
    r->resumed = resume;
    if (!resume) {
        r->first = 1;
        if (slots_from_tags(p, o->to, r, e) < 0)
            return -1;
        upgrade_name_steps(r);
    }
    if (o->from_step) {
        /* --from-step overrides: steps before it count as done elsewhere. */
        for (int i = 0; i < UPGRADE_N_STEPS; i++)
            if (i >= o->from_step - 1) {
                r->steps[i].earlier = 0;
                r->steps[i].outcome = "pending";
                r->steps[i].started[0] = r->steps[i].detail[0] = '\0';
                r->steps[i].seconds = 0;
            } else if (!r->steps[i].earlier) {
                r->steps[i].outcome = "skipped";
                snprintf(r->steps[i].detail, sizeof(r->steps[i].detail), "--from-step %d",
                         o->from_step);
            }
        r->first = o->from_step;
    }
    return slot_check_config(p, r->idle, e);
}

/* ---- running ----------------------------------------------------------------- */

static void upgrade_describe(struct paas *p, struct upgrade_result *r)
{
    for (int i = r->first - 1; i < UPGRADE_N_STEPS; i++) {
        struct upgrade_step *s = &r->steps[i];
        s->outcome = i == UPGRADE_CONSUL && !consul_configured(p) ? "would skip" : "would run";
        snprintf(s->detail, sizeof(s->detail), "%s", s->what);
    }
    if (r->first - 1 <= UPGRADE_UP) {
        struct diff d;
        struct err ignored;
        size_t t[DIFF_N_OPS];
        err_init(&ignored);
        diff_init(&d, r->idle);
        if (plan_up_slot(p, r->idle, 0, &d, &ignored) == 0) {
            diff_totals(&d, t);
            step_detail(&r->steps[UPGRADE_UP], "%s: %zu to create, %zu to update, %zu to "
                        "destroy, %zu exist", step_what[UPGRADE_UP], t[DIFF_CREATE],
                        t[DIFF_UPDATE], t[DIFF_DESTROY], t[DIFF_EXISTS]);
        }
        diff_release(&d);
    }
}

static int run_step(struct paas *p, struct upgrade_result *r, int i, struct err *e)
{
    struct upgrade_step *s = &r->steps[i];
    long long t0 = util_now_ms();
    int rc;
    identity_iso_time(paas_now(p), s->started, sizeof(s->started));
    if (i == UPGRADE_CONSUL && !consul_configured(p)) {
        s->outcome = "skipped";
        step_detail(s, "no [consul] in the configuration");
        return 0;
    }
    rc = gates[i](p, r, s, e);
    s->seconds = (double)(util_now_ms() - t0) / 1000.0;
    if (rc == 0 && paas_interrupted(p))
        rc = err_set(e, ERR_FAILED, "interrupted");
    if (rc == 0) {
        s->outcome = "ok";
        return 0;
    }
    s->outcome = paas_interrupted(p) ? "interrupted" : e->kind == ERR_REFUSED ? "refused" : "failed";
    step_detail(s, "%s", e->msg);
    return -1;
}

/* SPEC.md "Upgrade": the failed gate's error, naming the step and how to
 * continue; the kind (1 or 3, or the signal's) stays. */
static int upgrade_stop_message(const struct upgrade_result *r, int i, struct err *e)
{
    char why[sizeof(e->msg)];
    enum err_kind kind = e->kind == ERR_NONE ? ERR_FAILED : e->kind;
    memcpy(why, e->msg, sizeof(why));
    why[sizeof(why) / 2] = '\0';   /* room for the way on */
    return err_set(e, kind, "upgrade stopped at step %d/%d (%s): %s. Fix that and run "
                   "'paasctl upgrade' to continue from step %d (or 'paasctl upgrade "
                   "--from-step %d')", i + 1, UPGRADE_N_STEPS, r->steps[i].command, why,
                   i + 1, i + 1);
}

/* The steps so far, where a run after this one being killed resumes (one
 * PUT per gate). Not after a signal: no new request starts then (SPEC.md
 * "Exit codes"), and the journal record the dispatcher writes says the
 * same. A failed write costs only the durability: logged, not fatal. */
static void upgrade_record_progress(struct paas *p, const struct upgrade_result *r)
{
    struct err pe;
    json_t *doc;
    if (paas_interrupted(p))
        return;
    err_init(&pe);
    doc = upgrade_result_json(r);
    if (!doc || upgrade_progress_write(p, doc, &pe) < 0)
        log_error(&p->log, "could not record the upgrade's progress in s3://%s/%s/upgrade "
                  "(a run after a crash would start at an earlier step): %s",
                  p->cfg.state_bucket, p->cfg.name, doc ? pe.msg : "out of memory");
    json_decref(doc);
}

int plan_upgrade(struct paas *p, const struct upgrade_opts *o, struct upgrade_result *r,
                 upgrade_fn fn, void *arg, struct err *e)
{
    memset(r, 0, sizeof(*r));
    if (upgrade_start(p, o, r, e) < 0)
        return -1;
    if (p->dry_run) {
        upgrade_describe(p, r);
        return 0;
    }
    for (int i = r->first - 1; i < UPGRADE_N_STEPS; i++) {
        int rc = run_step(p, r, i, e);
        if (rc < 0)
            r->stopped = i + 1;
        upgrade_record_progress(p, r);
        if (fn)
            fn(arg, r, i + 1);
        if (rc < 0)
            return upgrade_stop_message(r, i, e);
    }
    upgrade_progress_delete(p);
    return 0;
}

void upgrade_result_release(struct upgrade_result *r)
{
    for (int i = 0; i < UPGRADE_N_STEPS; i++) {
        json_decref(r->steps[i].changes);
        r->steps[i].changes = NULL;
    }
}

json_t *upgrade_result_json(const struct upgrade_result *r)
{
    json_t *steps = json_array();
    for (int i = 0; i < UPGRADE_N_STEPS; i++) {
        const struct upgrade_step *s = &r->steps[i];
        json_t *js = json_pack("{s:i, s:s, s:s, s:s, s:b, s:s*, s:f, s:s}", "step", i + 1,
                               "command", s->command, "what", s->what ? s->what : "",
                               "outcome", s->outcome ? s->outcome : "pending",
                               "earlier", s->earlier, "started", s->started[0] ? s->started : NULL,
                               "seconds", s->seconds, "detail", s->detail);
        if (s->changes)
            json_object_set(js, "changes", s->changes);
        json_array_append_new(steps, js);
    }
    return json_pack("{s:s, s:s, s:b, s:i, s:o, s:o}", "live", r->live, "idle", r->idle,
                     "resumed", r->resumed, "first_step", r->first,
                     "stopped_at", r->stopped ? json_integer(r->stopped) : json_null(),
                     "steps", steps);
}
