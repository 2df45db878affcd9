/* JSON documents in the state bucket (SPEC.md "Lock and journal"): the
 * lock, the journal records and the swap marker are each one S3 object
 * under STATE_BUCKET/NAME/. */
#ifndef RUN_STATE_H
#define RUN_STATE_H

#include <jansson.h>
#include "plans/paas.h"

/* Writes doc (borrowed) at key. if_none_match: only if the key does not
 * exist yet (S3 answers 412, e->http_status 412, when it does). */
int state_put_json(struct paas *p, const char *key, json_t *doc,
                   int if_none_match, struct err *e);
/* Reads key: *out is a new reference, or NULL when there is no such key (or
 * no bucket yet). A document that is not a JSON object is an error. */
int state_get_json(struct paas *p, const char *key, json_t **out,
                   struct err *e);
/* Like state_get_json; etag gets the document's ETag ("" when none). */
int state_get_json_etag(struct paas *p, const char *key, json_t **out, char *etag,
                        size_t size, struct err *e);
int state_delete(struct paas *p, const char *key, struct err *e);
/* state_delete for an object whose loss is not the run's failure (a
 * marker, the upgrade's progress): a failure is logged naming what. */
void state_delete_or_log(struct paas *p, const char *key, const char *what);
/* Deletes key only if it is still the document of that ETag; *gone = 0
 * when it was replaced meanwhile (nothing deleted; not an error). */
int state_delete_if(struct paas *p, const char *key, const char *etag, int *gone,
                    struct err *e);
/* The string member k of o copied into dst ("" when absent). */
void state_copy_str(char *dst, size_t size, json_t *o, const char *k);

#endif
