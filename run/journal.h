/* The journal (SPEC.md "Lock and journal"): one JSON record per mutating
 * command under STATE_BUCKET/NAME/journal/, keyed newest first:
 *   NAME/journal/0<10^17-1 - microseconds since the epoch, 17 digits>-
 *       <UTC time to the microsecond>-<id>-<command>.json
 * so one short ListObjectsV2 gives the newest records however long the
 * journal is. Keys of older versions (NAME/journal/<UTC time>-<id>-
 * <command>.json, oldest first) sort after all of these and are still
 * read, newest first, after them. Records hold ids and outcomes, never a
 * secret. */
#ifndef RUN_JOURNAL_H
#define RUN_JOURNAL_H

#include <jansson.h>
#include "plans/paas.h"

/* Appends a record {time, id, command, user, host, outcome, message,
 * changes}. changes is borrowed (may be NULL). */
int journal_append(struct paas *p, const char *outcome, const char *message,
                   json_t *changes, struct err *e);

/* The newest `max` records (0 = all), newest first, as a new JSON array the
 * caller json_decref()s: one listing request of max + 1 keys, then one GET
 * per record. A missing state bucket is an empty journal. */
int journal_list(struct paas *p, size_t max, json_t **out, struct err *e);

/* The newest record of `command` with outcome "ok", or *out = NULL when
 * there is none. Reads newest first and stops at the first match. */
int journal_last(struct paas *p, const char *command, json_t **out,
                 struct err *e);

/* The newest record of `command` whatever its outcome (upgrade's resume
 * point), or *out = NULL when there is none. */
int journal_newest(struct paas *p, const char *command, json_t **out,
                   struct err *e);

#endif
