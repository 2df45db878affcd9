/* The plan/diff model shared by `plan`, `up`, `teardown` and --dry-run
 * (SPEC.md "Commands": one line per resource, `+ create`, `= exists`,
 * `~ update`, `- destroy`, with totals). A plan function fills a diff while
 * it reads the world; when it applies, the same entries get the ids of what
 * it made, so what `plan` prints is what `up` does. */
#ifndef PLANS_DIFF_H
#define PLANS_DIFF_H

#include <stddef.h>
#include <jansson.h>

enum diff_op {
    DIFF_EXISTS,    /* = */
    DIFF_CREATE,    /* + */
    DIFF_UPDATE,    /* ~ */
    DIFF_DESTROY,   /* - */
    DIFF_N_OPS
};

struct diff_item {
    enum diff_op op;
    char kind[24];       /* "vpc", "subnet", "instance", "elb", "dns-record"... */
    char name[128];      /* Name tag, ELB/bucket/record name */
    char id[64];         /* AWS id, when known */
    char detail[256];    /* what it is or what changes */
};

struct diff {
    char target[16];     /* "shell", "a", "b" */
    struct diff_item *items;
    size_t n, cap;
    int failed;          /* an allocation failed: entries are missing */
    char note[512];      /* a sentence for the operator, "" = none */
};

void diff_init(struct diff *d, const char *target);
void diff_release(struct diff *d);

/* Appends an entry and returns its index (the caller may fill the id
 * later with diff_set_id). */
size_t diff_add(struct diff *d, enum diff_op op, const char *kind,
                const char *name, const char *id, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
void diff_set_id(struct diff *d, size_t i, const char *id);

/* Counts per op. */
void diff_totals(const struct diff *d, size_t out[DIFF_N_OPS]);
/* 1 if anything is not `=`. */
int diff_changes(const struct diff *d);

/* "+", "=", "~", "-" and "create", "exists", "update", "destroy". */
const char *diff_op_sign(enum diff_op op);
const char *diff_op_word(enum diff_op op);

/* The document `-o json` prints: {"target", "items": [{op, kind, name, id,
 * detail}], "totals": {create, exists, update, destroy}, "note"}. New
 * reference. */
json_t *diff_json(const struct diff *d);
/* Only the changed entries, for the journal. New reference. */
json_t *diff_changes_json(const struct diff *d);

#endif
