/* up shell|a|b: converge that part to the configuration; idempotent and
 * safe to re-run after a crash (SPEC.md "Commands"). Prints the diff it
 * applied; the journal records the changed entries. */
#include "cmd/cmd.h"

#include <string.h>

#include "plans/shell.h"
#include "plans/slot.h"

/* Before the lock (the dispatch table's prepare step): the state bucket
 * the lock lives in, made for `up shell`, required for `up a|b`. */
int cmd_up_prepare(struct paas *p, int argc, char **argv, struct err *e)
{
    if (cmd_lifecycle_target(argc, argv, 1, e) < 0)
        return -1;
    return plan_up_prepare(p, argv[1], e);
}

int cmd_up(struct paas *p, int argc, char **argv, struct err *e)
{
    struct diff d;
    int rc;
    if (cmd_lifecycle_target(argc, argv, 1, e) < 0)
        return -1;
    diff_init(&d, argv[1]);
    rc = strcmp(argv[1], "shell") == 0 ? plan_up_shell(p, !p->dry_run, &d, e)
                                       : plan_up_slot(p, argv[1], !p->dry_run, &d, e);
    /* Printed on failure too: the ids say what this run made before it
     * stopped. */
    if (rc == 0 || d.n)
        cmd_print_diff(p, &d, p->dry_run ? "plan" : "up");
    /* The journal's "changes": only when something was attempted (not
     * after a refusal or a usage error). */
    if (!p->dry_run && (rc == 0 || e->kind == ERR_FAILED))
        cmd_journal_changes(p, diff_changes_json(&d));
    diff_release(&d);
    return rc;
}
