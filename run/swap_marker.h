/* The marker of a traffic swap in progress (SPEC.md "Cutover rules": an
 * interrupted cutover is finished, or undone, by running it again): the
 * JSON document STATE_BUCKET/NAME/swap, {"command","from","to","started"},
 * written before a swap's first change and removed when it is done. */
#ifndef RUN_SWAP_MARKER_H
#define RUN_SWAP_MARKER_H

#include "plans/paas.h"

/* Writes the marker of `command` moving traffic from slot `from` ("" =
 * none) to slot `to`, dated with p->clock. */
int swap_marker_write(struct paas *p, const char *command, const char *from,
                      const char *to, struct err *e);
/* Best effort: a marker left behind only makes the next run resume. */
void swap_marker_delete(struct paas *p);
/* The marker, if any (for status and the next swap). *found = 0 when none;
 * from/to (8 bytes each) get the slots, command (16 bytes) the command. */
int swap_marker_read(struct paas *p, int *found, char *from, char *to,
                     char *command, struct err *e);

#endif
