/* cutover: make the pre-live slot live; the live one moves to pre-live
 * (SPEC.md "Cutover rules"). */
#include "cmd/cmd.h"

#include <stdio.h>
#include <string.h>

#include "plans/swap.h"

void cmd_print_swap(struct paas *p, const struct swap_result *r)
{
    const char *out = r->outgoing.slot[0] ? r->outgoing.slot : NULL;
    if (p->output == OUT_JSON) {
        json_t *d = json_pack("{s:s, s:s, s:o, s:b, s:b, s:I, s:I}", "command", r->command,
                              "live", r->incoming.slot, "prelive", out ? json_string(out) : json_null(),
                              "resumed", r->resumed, "dry_run", r->dry_run,
                              "incoming_nodes", (json_int_t)r->incoming.n,
                              "outgoing_nodes", (json_int_t)r->outgoing.n);
        cmd_print_json(d);
        json_decref(d);
        return;
    }
    if (r->dry_run) {
        printf("would %s: slot %s (%zu ingress nodes) to live on %s", r->command,
               r->incoming.slot, r->incoming.n, p->cfg.live_name);
        if (out)
            printf(", slot %s (%zu) to pre-live on %s", out, r->outgoing.n, p->cfg.prelive_name);
        printf("\n");
        return;
    }
    printf("%s%s done: slot %s is live on %s (%zu ingress nodes InService)",
           r->resumed ? "resumed " : "", r->command, r->incoming.slot,
           p->cfg.live_name, r->incoming.n);
    if (out)
        printf("; slot %s is pre-live on %s", out, p->cfg.prelive_name);
    printf("\n");
}

int cmd_cutover(struct paas *p, int argc, char **argv, struct err *e)
{
    struct swap_result r;
    (void)argv;
    if (argc > 1)
        return err_set(e, ERR_USAGE, "cutover takes no arguments");
    if (plan_cutover(p, &r, e) < 0) {
        swap_result_release(&r);
        return -1;
    }
    cmd_print_swap(p, &r);
    cmd_journal_changes(p, r.changes);
    r.changes = NULL;
    swap_result_release(&r);
    return 0;
}
