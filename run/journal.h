/* The journal (SPEC.md "Lock and journal"): one JSON record per mutating
 * command under STATE_BUCKET/NAME/journal/, keyed by time so a listing is in
 * order. Records hold ids and outcomes, never a secret. */
#ifndef RUN_JOURNAL_H
#define RUN_JOURNAL_H

#include <jansson.h>
#include "plans/paas.h"

/* Appends a record {time, id, command, user, host, outcome, message,
 * changes}. changes is borrowed (may be NULL). */
int journal_append(struct paas *p, const char *outcome, const char *message,
                   json_t *changes, struct err *e);

/* The newest `max` records (0 = all), newest first, as a new JSON array the
 * caller json_decref()s. A missing state bucket is an empty journal. */
int journal_list(struct paas *p, size_t max, json_t **out, struct err *e);

/* The newest record of `command` with outcome "ok", or *out = NULL when
 * there is none. Reads newest first and stops at the first match. */
int journal_last(struct paas *p, const char *command, json_t **out,
                 struct err *e);

#endif
