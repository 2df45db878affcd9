/* up shell|a|b: converge that part to the configuration; idempotent and
 * safe to re-run after a crash (SPEC.md "Commands"). Prints the diff it
 * applied; the journal records the changed entries. */
#include "cmd/cmd.h"

#include <string.h>

#include "plans/shell.h"
#include "plans/slot.h"
#include "plans/slot_wait.h"
#include "plans/converge.h"

/* Takes --no-wait out of argv; 1 when it was there. */
static int up_no_wait(int *argc, char **argv)
{
    int found = 0, k = 0;
    for (int i = 0; i < *argc; i++) {
        if (strcmp(argv[i], "--no-wait") == 0)
            found = 1;
        else
            argv[k++] = argv[i];
    }
    *argc = k;
    return found;
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

/* Before the lock (the dispatch table's prepare step): the state bucket
 * the lock lives in, made for `up shell`, required for `up a|b`. */
int cmd_up_prepare(struct paas *p, int argc, char **argv, struct err *e)
{
    up_no_wait(&argc, argv);
    if (cmd_lifecycle_target(argc, argv, 1, e) < 0)
        return -1;
    return plan_up_prepare(p, argv[1], e);
}

int cmd_up(struct paas *p, int argc, char **argv, struct err *e)
{
    struct diff d;
    int rc, no_wait = up_no_wait(&argc, argv);
    if (cmd_lifecycle_target(argc, argv, 1, e) < 0)
        return -1;
    diff_init(&d, argv[1]);
    rc = plan_up(p, argv[1], !p->dry_run, &d, e);
    /* Printed on failure too: the ids say what this run made before it
     * stopped. */
    if (rc == 0 || d.n)
        cmd_print_diff(p, &d, p->dry_run ? "plan" : "up");
    /* The journal's "changes": only when something was attempted (not
     * after a refusal or a usage error). */
    if (!p->dry_run && (rc == 0 || e->kind == ERR_FAILED))
        cmd_journal_changes(p, diff_changes_json(&d));
    diff_release(&d);
    if (rc == 0 && !p->dry_run && !no_wait && strcmp(argv[1], "shell") != 0)
        rc = up_wait(p, argv[1], e);
    return rc;
}
