/* rollback: undo the last cutover - the slot that was live before it
 * becomes live again, by the same health-gated swap (SPEC.md "Commands"). */
#include "cmd/cmd.h"

#include "plans/swap.h"

int cmd_rollback(struct paas *p, int argc, char **argv, struct err *e)
{
    struct swap_result r;
    (void)argv;
    if (argc > 1)
        return err_set(e, ERR_USAGE, "rollback takes no arguments");
    if (plan_rollback(p, &r, e) < 0) {
        swap_result_release(&r);
        return -1;
    }
    cmd_print_swap(p, &r);
    cmd_journal_changes(p, r.changes);
    r.changes = NULL;
    swap_result_release(&r);
    return 0;
}
