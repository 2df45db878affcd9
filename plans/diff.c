/* The plan/diff model (see diff.h; SPEC.md "Commands" plan/up). */
#include "plans/diff.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

void diff_init(struct diff *d, const char *target)
{
    memset(d, 0, sizeof(*d));
    snprintf(d->target, sizeof(d->target), "%s", target);
}

void diff_release(struct diff *d)
{
    free(d->items);
    memset(d, 0, sizeof(*d));
}

size_t diff_add(struct diff *d, enum diff_op op, const char *kind,
                const char *name, const char *id, const char *fmt, ...)
{
    struct diff_item *it;
    va_list ap;
    if (util_grow(&d->items, &d->cap, d->n, sizeof(*d->items)) < 0) {
        d->failed = 1;
        return (size_t)-1;
    }
    it = memset(&d->items[d->n], 0, sizeof(*it));
    it->op = op;
    snprintf(it->kind, sizeof(it->kind), "%s", kind);
    snprintf(it->name, sizeof(it->name), "%s", name ? name : "");
    snprintf(it->id, sizeof(it->id), "%s", id ? id : "");
    va_start(ap, fmt);
    vsnprintf(it->detail, sizeof(it->detail), fmt, ap);
    va_end(ap);
    return d->n++;
}

void diff_set_id(struct diff *d, size_t i, const char *id)
{
    if (i < d->n)
        snprintf(d->items[i].id, sizeof(d->items[i].id), "%s", id);
}

void diff_totals(const struct diff *d, size_t out[DIFF_N_OPS])
{
    memset(out, 0, DIFF_N_OPS * sizeof(*out));
    for (size_t i = 0; i < d->n; i++)
        out[d->items[i].op]++;
}

int diff_changes(const struct diff *d)
{
    for (size_t i = 0; i < d->n; i++)
        if (d->items[i].op != DIFF_EXISTS)
            return 1;
    return 0;
}

const char *diff_op_sign(enum diff_op op)
{
    static const char *const s[DIFF_N_OPS] = { "=", "+", "~", "-" };
    return (unsigned)op < DIFF_N_OPS ? s[op] : "?";
}

const char *diff_op_word(enum diff_op op)
{
    static const char *const s[DIFF_N_OPS] = { "exists", "create", "update", "destroy" };
    return (unsigned)op < DIFF_N_OPS ? s[op] : "?";
}

static json_t *diff_item_json(const struct diff_item *it)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s}", "op", diff_op_word(it->op),
                     "kind", it->kind, "name", it->name, "id", it->id,
                     "detail", it->detail);
}

json_t *diff_json(const struct diff *d)
{
    size_t t[DIFF_N_OPS];
    json_t *items = json_array();
    for (size_t i = 0; i < d->n; i++)
        json_array_append_new(items, diff_item_json(&d->items[i]));
    diff_totals(d, t);
    return json_pack("{s:s, s:o, s:{s:I, s:I, s:I, s:I}, s:s}",
                     "target", d->target, "items", items, "totals",
                     "create", (json_int_t)t[DIFF_CREATE],
                     "exists", (json_int_t)t[DIFF_EXISTS],
                     "update", (json_int_t)t[DIFF_UPDATE],
                     "destroy", (json_int_t)t[DIFF_DESTROY], "note", d->note);
}

json_t *diff_changes_json(const struct diff *d)
{
    json_t *items = json_array();
    for (size_t i = 0; i < d->n; i++)
        if (d->items[i].op != DIFF_EXISTS)
            json_array_append_new(items, diff_item_json(&d->items[i]));
    return items;
}
