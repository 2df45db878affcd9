/* upgrade [--to a|b] [--from-step N]: the whole story to the idle slot, gate
 * by gate (SPEC.md "Upgrade"). Prints a line per step as it finishes (or
 * the steps it would run, with --dry-run), or one JSON document at the
 * end; the journal record holds every step's outcome and time (and the
 * progress object, after each step, what the next run resumes from). */
#include "cmd/cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plans/upgrade.h"

static int upgrade_args(struct paas *p, int argc, char **argv, struct upgrade_opts *o,
                        struct err *e)
{
    for (int i = 1; i < argc; i++) {
        char *end = NULL;
        if (strcmp(argv[i], "--skip-preflight") == 0) {
            p->skip_preflight = 1;   /* for the up step (README "Pre-flight") */
        } else if (strcmp(argv[i], "--to") == 0 && i + 1 < argc) {
            o->to = argv[++i];
        } else if (strcmp(argv[i], "--from-step") == 0 && i + 1 < argc) {
            long n = strtol(argv[++i], &end, 10);
            if (!*argv[i] || *end || n < 1 || n > UPGRADE_N_STEPS)
                return err_set(e, ERR_USAGE, "upgrade --from-step: a step number from 1 to %d, "
                               "not '%s'", UPGRADE_N_STEPS, argv[i]);
            o->from_step = (int)n;
        } else {
            return err_set(e, ERR_USAGE, "usage: paasctl upgrade [--to a|b] [--from-step N] "
                           "[--skip-preflight]");
        }
    }
    return 0;
}

static void upgrade_step_line(const struct upgrade_result *r, int step)
{
    const struct upgrade_step *s = &r->steps[step - 1];
    printf("step %d/%d  %-26s %-8s %6.1f s  %s\n", step, UPGRADE_N_STEPS, s->command,
           s->outcome, s->seconds, s->detail);
    fflush(stdout);
}

static void upgrade_on_step(void *arg, const struct upgrade_result *r, int step)
{
    struct paas *p = arg;
    if (p->output == OUT_JSON)
        return;
    if (step == r->first)
        printf("upgrade %s -> %s%s, from step %d of %d\n", r->live, r->idle,
               r->resumed ? " (resuming the unfinished upgrade)" : "",
               r->first, UPGRADE_N_STEPS);
    upgrade_step_line(r, step);
}

static void upgrade_print_plan(const struct upgrade_result *r)
{
    struct table t;
    char n[16];
    printf("upgrade %s -> %s%s, from step %d:\n", r->live, r->idle,
           r->resumed ? " (resuming the unfinished upgrade)" : "", r->first);
    table_init(&t, 4);
    table_add(&t, "STEP", "COMMAND", "OUTCOME", "WHAT");
    for (int i = 0; i < UPGRADE_N_STEPS; i++) {
        const struct upgrade_step *s = &r->steps[i];
        snprintf(n, sizeof(n), "%d", i + 1);
        table_add(&t, n, s->command, s->earlier ? "done earlier" : s->outcome, s->detail);
    }
    table_print(&t);
    table_release(&t);
}

int cmd_upgrade(struct paas *p, int argc, char **argv, struct err *e)
{
    struct upgrade_opts o = { NULL, 0 };
    struct upgrade_result r;
    json_t *doc;
    int rc;
    if (upgrade_args(p, argc, argv, &o, e) < 0)
        return -1;
    rc = plan_upgrade(p, &o, &r, upgrade_on_step, p, e);
    if (!r.idle[0]) {     /* refused or unusable before any step */
        upgrade_result_release(&r);
        return rc;
    }
    doc = upgrade_result_json(&r);
    if (p->output == OUT_JSON)
        cmd_print_json(doc);
    else if (p->dry_run)
        upgrade_print_plan(&r);
    else if (rc == 0)
        printf("upgrade done: slot %s is live, slot %s is pre-live (tear it down with "
               "'paasctl teardown %s' once you no longer need to roll back)\n", r.idle, r.live,
               r.live);
    if (!p->dry_run)
        cmd_journal_changes(p, doc);
    else
        json_decref(doc);
    upgrade_result_release(&r);
    return rc;
}
