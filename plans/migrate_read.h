/* Reading SRC ahead of the writes to DST (SPEC.md "Migration"): a thread
 * lists the collections a migration will create, in the order it will
 * create them, a page at a time, and hands the pages over through a queue
 * a few pages deep. DST's creates then never wait for SRC's lists, and memory
 * stays bounded by a few pages. The thread uses its own client. */
#ifndef PLANS_MIGRATE_READ_H
#define PLANS_MIGRATE_READ_H

#include <stddef.h>
#include <jansson.h>

#include "core/err.h"
#include "k8s/api.h"

/* One collection to list. Strings are borrowed until migrate_reader_stop. */
struct migrate_read_job {
    size_t type;            /* the caller's index, given back with each page */
    struct k8s_ref ref;
    int last;               /* the type's last job: an end mark follows it */
};

struct migrate_page {
    size_t type;
    json_t *items;          /* owned by the receiver; NULL on an end mark */
    int restarted;          /* see k8s_page_fn */
    int end;                /* every page of the type came before this mark */
    struct err err;         /* on an end mark: why the listing stopped */
};

struct migrate_reader;

/* Starts listing jobs[0..n) with c (which the thread alone uses from now
 * on) and the label selector (NULL = all). */
int migrate_reader_start(struct migrate_reader **out, struct k8s_client *c,
                         const char *selector, const struct migrate_read_job *jobs,
                         size_t n, struct err *e);

/* The next page or end mark, in job order (blocks). 0, or 1 when every job
 * is done. */
int migrate_reader_next(struct migrate_reader *r, struct migrate_page *pg);

/* Stops the thread (after the request in flight), drops what is queued. */
void migrate_reader_stop(struct migrate_reader *r);

#endif
