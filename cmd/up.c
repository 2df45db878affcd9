/* up shell|a|b: converge that part to the configuration; idempotent and
 * safe to re-run after a crash (SPEC.md "Commands"). Prints the diff it
 * applied; the journal records the changed entries. */
#include "cmd/cmd.h"

#include <string.h>

#include "plans/shell.h"
#include "plans/slot.h"
#include "plans/slot_wait.h"
#include "plans/converge.h"
#include "plans/preflight.h"

struct up_args {
    char *target;          /* "shell", "a", "b" */
    int no_wait;
    int skip_preflight;
};

/* The target and the flags, in any order; argv is left as it is (the
 * dispatcher hands the same argv to the prepare step and to cmd_up). */
static int up_args(int argc, char **argv, struct up_args *a, struct err *e)
{
    char *tv[2] = { argv[0], NULL };
    int n = 1;
    memset(a, 0, sizeof(*a));
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--no-wait") == 0)
            a->no_wait = 1;
        else if (strcmp(argv[i], "--skip-preflight") == 0)
            a->skip_preflight = 1;
        else if (n < 2)
            tv[n++] = argv[i];
        else
            n = 3;
    }
    if (cmd_lifecycle_target(n, tv, 1, e) < 0)
        return -1;
    a->target = tv[1];
    return 0;
}

/* After `up a|b` (SPEC.md "Clusters"): wait for the cluster when its API
 * can be reached from here; else say why and how to check from inside. */
static int up_wait(struct paas *p, const char *slot, struct err *e)
{
    struct slot_wait w;
    if (plan_slot_wait(p, slot, &w, e) < 0)
        return -1;
    if (!w.reachable) {
        log_info(&p->log, "not waiting for slot %s's cluster: %s.", slot, w.why);
        log_info(&p->log, "Its instances are up. To check the cluster from inside the "
                 "VPC: %s.", w.how);
        return 0;
    }
    log_info(&p->log, "slot %s's cluster is ready: %s; %s", slot,
             w.report.checks[SMOKE_API].reason, w.report.checks[SMOKE_NODES].reason);
    return 0;
}

/* Before the lock (the dispatch table's prepare step). Pre-flight first
 * (README "Pre-flight"): it only reads, so it needs no lock, and it must
 * come before the state bucket `up shell` makes here, the first mutating
 * request. A slot's missing shell is refused (exit 3) before pre-flight
 * would count a whole slot. */
int cmd_up_prepare(struct paas *p, int argc, char **argv, struct err *e)
{
    struct up_args a;
    int shell;
    if (up_args(argc, argv, &a, e) < 0)
        return -1;
    shell = strcmp(a.target, "shell") == 0;
    p->skip_preflight = a.skip_preflight;
    if (!shell && plan_up_prepare(p, a.target, e) < 0)
        return -1;
    if (!p->dry_run && plan_preflight(p, a.target, e) < 0)
        return -1;
    return shell ? plan_up_prepare(p, a.target, e) : 0;
}

int cmd_up(struct paas *p, int argc, char **argv, struct err *e)
{
    struct diff d;
    struct up_args a;
    int rc;
    if (up_args(argc, argv, &a, e) < 0)
        return -1;
    diff_init(&d, a.target);
    rc = plan_up(p, a.target, !p->dry_run, &d, e);
    /* Printed on failure too: the ids say what this run made before it
     * stopped. */
    if (rc == 0 || d.n)
        cmd_print_diff(p, &d, p->dry_run ? "plan" : "up");
    /* The journal's "changes": only when something was attempted (not
     * after a refusal or a usage error). */
    if (!p->dry_run && (rc == 0 || e->kind == ERR_FAILED))
        cmd_journal_changes(p, diff_changes_json(&d));
    diff_release(&d);
    if (rc == 0 && !p->dry_run && !a.no_wait && strcmp(a.target, "shell") != 0)
        rc = up_wait(p, a.target, e);
    return rc;
}
