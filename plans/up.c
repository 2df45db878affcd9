/* up shell|a|b with its looks after uncertain outcomes (see up.h). */
#include "plans/up.h"

#include <string.h>

#include "plans/shell.h"
#include "plans/slot.h"
#include "run/wait.h"

static int up_pass(struct paas *p, const char *target, int apply, struct diff *d,
                   struct err *e)
{
    return strcmp(target, "shell") == 0 ? plan_up_shell(p, apply, d, e)
                                        : plan_up_slot(p, target, apply, d, e);
}

static struct diff_item *up_find(struct diff *d, const struct diff_item *it)
{
    for (size_t i = 0; i < d->n; i++)
        if (strcmp(d->items[i].kind, it->kind) == 0 &&
            strcmp(d->items[i].name, it->name) == 0)
            return &d->items[i];
    return NULL;
}

/* A later pass sees what an earlier one made as `=`: the first pass's
 * entry stays (it says what this run did), and gets the id; a change the
 * first pass did not list is added. */
static void up_merge(struct diff *d, const struct diff *later)
{
    for (size_t i = 0; i < later->n; i++) {
        const struct diff_item *it = &later->items[i];
        struct diff_item *was = up_find(d, it);
        if (!was) {
            if (it->op != DIFF_EXISTS)
                diff_add(d, it->op, it->kind, it->name, it->id, "%s", it->detail);
            continue;
        }
        if (it->id[0])
            memcpy(was->id, it->id, sizeof(was->id));
        if (was->op == DIFF_EXISTS && it->op != DIFF_EXISTS) {
            was->op = it->op;
            memcpy(was->detail, it->detail, sizeof(was->detail));
        }
    }
    if (later->note[0])
        memcpy(d->note, later->note, sizeof(d->note));
}

int plan_up(struct paas *p, const char *target, int apply, struct diff *d, struct err *e)
{
    int rc = up_pass(p, target, apply, d, e);
    for (int look = 1; rc < 0 && apply && e->uncertain && look < PLAN_UP_LOOKS; look++) {
        struct diff later;
        log_info(&p->log, "%s; its outcome is unknown, so looking at what exists before "
                 "going on (look %d of %d)", e->msg, look, PLAN_UP_LOOKS - 1);
        if (wait_check_interrupt(p, "looking again", e) < 0)
            return -1;
        diff_init(&later, d->target);
        err_init(e);
        rc = up_pass(p, target, apply, &later, e);
        up_merge(d, &later);
        diff_release(&later);
    }
    if (rc < 0 && e->uncertain)
        err_wrap(e, "outcome unknown after %d looks; 'paasctl status' and 'paasctl plan %s' "
                 "show what exists, and 'paasctl up %s' goes on from there",
                 PLAN_UP_LOOKS, target, target);
    return rc;
}
