/* The progress of an upgrade in flight (SPEC.md "Upgrade": a run again
 * resumes at the first unfinished step): the JSON document
 * STATE_BUCKET/NAME/upgrade, the same document the upgrade's journal
 * record carries ({"live","idle",...,"steps":[...]}), written after each
 * gate and removed when the upgrade finishes ok. The journal record is
 * written once, at the end of a run; this object is what survives a run
 * killed outright (SIGKILL, OOM, power loss) between two gates. Owned by
 * plans/upgrade.c, which alone reads and writes it. */
#ifndef RUN_UPGRADE_PROGRESS_H
#define RUN_UPGRADE_PROGRESS_H

#include <jansson.h>
#include "plans/paas.h"

/* Writes doc (borrowed) as the progress: one PUT. */
int upgrade_progress_write(struct paas *p, json_t *doc, struct err *e);
/* The progress, if any: *out a new reference, or NULL when there is none
 * (or no state bucket yet). One GET. */
int upgrade_progress_read(struct paas *p, json_t **out, struct err *e);
/* Best effort, one DELETE: a document left behind whose steps are all done
 * is never resumed from (see plans/upgrade.c). */
void upgrade_progress_delete(struct paas *p);

#endif
