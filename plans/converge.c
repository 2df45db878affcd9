/* Looking again after uncertain outcomes (see converge.h). */
#include "plans/converge.h"

#include <string.h>

#include "plans/shell.h"
#include "plans/slot.h"
#include "run/wait.h"

static struct diff_item *converge_find(struct diff *d, const struct diff_item *it)
{
    for (size_t i = 0; i < d->n; i++)
        if (strcmp(d->items[i].kind, it->kind) == 0 &&
            strcmp(d->items[i].name, it->name) == 0)
            return &d->items[i];
    return NULL;
}

/* A later pass sees what an earlier one made as `=` (or what it deleted as
 * absent): the first pass's entry stays, it says what this run did, and
 * gets the id; a change the first pass did not list is added. */
static void converge_merge(struct diff *d, const struct diff *later)
{
    for (size_t i = 0; i < later->n; i++) {
        const struct diff_item *it = &later->items[i];
        struct diff_item *was = converge_find(d, it);
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

int plan_converge(struct paas *p, const char *command, plan_pass_fn fn, void *ctx,
                  struct diff *d, struct err *e)
{
    int rc = fn(p, ctx, 1, d, e);
    for (int pass = 2; rc < 0 && e->uncertain && pass <= PLAN_CONVERGE_PASSES; pass++) {
        struct diff later;
        log_info(&p->log, "%s; its outcome is unknown, so looking at what exists before "
                 "going on (pass %d of at most %d)", e->msg, pass, PLAN_CONVERGE_PASSES);
        if (wait_check_interrupt(p, "looking again", e) < 0)
            return -1;
        diff_init(&later, d->target);
        err_init(e);
        rc = fn(p, ctx, pass, &later, e);
        converge_merge(d, &later);
        diff_release(&later);
    }
    if (rc < 0 && e->uncertain)
        err_wrap(e, "outcome still unknown after %d passes; 'paasctl status' shows what "
                 "exists, and 'paasctl %s' goes on from there",
                 PLAN_CONVERGE_PASSES, command);
    return rc;
}

struct converge_up {
    const char *target;
    int apply;
};

static int converge_up_pass(struct paas *p, void *ctx, int pass, struct diff *d,
                            struct err *e)
{
    const struct converge_up *u = ctx;
    (void)pass;
    return strcmp(u->target, "shell") == 0 ? plan_up_shell(p, u->apply, d, e)
                                           : plan_up_slot(p, u->target, u->apply, d, e);
}

int plan_up(struct paas *p, const char *target, int apply, struct diff *d, struct err *e)
{
    struct converge_up u = { target, apply };
    if (!apply)
        return converge_up_pass(p, &u, 1, d, e);
    return plan_converge(p, p->command_line, converge_up_pass, &u, d, e);
}
