/* plan shell|a|b: what `up` would do, one line per resource, changing
 * nothing (SPEC.md "Commands"). Also the diff printer that up and teardown
 * share. */
#include "cmd/cmd.h"

#include <stdio.h>
#include <string.h>

#include "plans/shell.h"
#include "plans/slot.h"

void cmd_print_diff(struct paas *p, const struct diff *d, const char *verb)
{
    size_t t[DIFF_N_OPS];
    struct table tb;
    if (d->note[0])
        log_info(&p->log, "note: %s", d->note);
    if (p->output == OUT_JSON) {
        json_t *doc = diff_json(d);
        json_object_set_new(doc, "command", json_string(verb));
        json_object_set_new(doc, "dry_run", json_boolean(p->dry_run));
        cmd_print_json(doc);
        json_decref(doc);
        return;
    }
    table_init(&tb, 5);
    for (size_t i = 0; i < d->n; i++) {
        const struct diff_item *it = &d->items[i];
        char op[16];
        snprintf(op, sizeof(op), "%s %s", diff_op_sign(it->op), diff_op_word(it->op));
        table_add(&tb, op, it->kind, it->name, it->id[0] ? it->id : "-", it->detail);
    }
    table_print(&tb);
    table_release(&tb);
    diff_totals(d, t);
    printf("%s %s: %zu to create, %zu to update, %zu to destroy, %zu unchanged.\n",
           verb, d->target, t[DIFF_CREATE], t[DIFF_UPDATE], t[DIFF_DESTROY],
           t[DIFF_EXISTS]);
}

/* "shell", "a" or "b" as the only argument. */
int cmd_lifecycle_target(int argc, char **argv, int allow_shell, struct err *e)
{
    if (argc != 2)
        return err_set(e, ERR_USAGE, "usage: paasctl %s %s", argv[0],
                       allow_shell ? "shell|a|b" : "a|b");
    if (allow_shell && strcmp(argv[1], "shell") == 0)
        return 0;
    return slot_check_name(argv[1], e);
}

int cmd_plan(struct paas *p, int argc, char **argv, struct err *e)
{
    struct diff d;
    int rc;
    if (cmd_lifecycle_target(argc, argv, 1, e) < 0)
        return -1;
    diff_init(&d, argv[1]);
    rc = strcmp(argv[1], "shell") == 0 ? plan_up_shell(p, 0, &d, e)
                                       : plan_up_slot(p, argv[1], 0, &d, e);
    if (rc == 0)
        cmd_print_diff(p, &d, "plan");
    diff_release(&d);
    return rc;
}
