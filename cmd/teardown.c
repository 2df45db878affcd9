/* teardown a|b|shell: destroy that part and everything it owns; refused
 * for the live slot and for the shell while a slot has instances (SPEC.md
 * "Commands"). The operator confirms by typing the slot's name (the paas
 * name for the shell), or passes --yes. */
#include "cmd/cmd.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "plans/teardown.h"

/* Shows what will go (on a terminal), then asks. */
static int teardown_confirm(struct paas *p, const struct diff *d, void *ctx,
                            struct err *e)
{
    const char *target = ctx;
    char what[160];
    size_t t[DIFF_N_OPS];
    diff_totals(d, t);
    if (!p->yes && isatty(STDIN_FILENO))
        cmd_print_diff(p, d, "teardown");
    if (strcmp(target, "shell") == 0)
        snprintf(what, sizeof(what), "tear down the shell of %s (%zu resources)",
                 p->cfg.name, t[DIFF_DESTROY]);
    else
        snprintf(what, sizeof(what), "tear down slot %s (%zu resources)", target,
                 t[DIFF_DESTROY]);
    return cmd_confirm(p, what, strcmp(target, "shell") == 0 ? p->cfg.name : target, e);
}

int cmd_teardown(struct paas *p, int argc, char **argv, struct err *e)
{
    struct diff d;
    int rc;
    if (cmd_lifecycle_target(argc, argv, 1, e) < 0)
        return -1;
    diff_init(&d, argv[1]);
    rc = plan_teardown(p, argv[1], !p->dry_run, teardown_confirm, argv[1], &d, e);
    if ((rc == 0 || (d.n && e->kind == ERR_FAILED)))
        cmd_print_diff(p, &d, p->dry_run ? "plan" : "teardown");
    /* The journal's "changes": only when something was attempted (not
     * after a refusal or a usage error). */
    if (!p->dry_run && (rc == 0 || e->kind == ERR_FAILED))
        cmd_journal_changes(p, diff_changes_json(&d));
    diff_release(&d);
    return rc;
}
