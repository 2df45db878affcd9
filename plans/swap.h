/* Traffic swaps (SPEC.md "Cutover rules"): cutover and rollback both move
 * one slot's ingress nodes onto the live ELB, gated on health, and the other
 * slot's onto pre-live. An S3 marker (STATE_BUCKET/NAME/swap) written before
 * the first change makes an interrupted swap resumable: the next cutover or
 * rollback finishes it (or undoes it, if the incoming nodes never became
 * healthy on live). */
#ifndef PLANS_SWAP_H
#define PLANS_SWAP_H

#include <stddef.h>
#include <jansson.h>
#include "plans/paas.h"
#include "run/swap_marker.h"

#define SWAP_MAX_NODES 1000

/* One slot's ingress nodes as the swap sees them. */
struct swap_side {
    char slot[8];                  /* "a", "b", or "" (no slot) */
    size_t n;
    char (*ids)[32];               /* malloc'd */
};

struct swap_result {
    char command[16];              /* "cutover" or "rollback" */
    struct swap_side incoming;     /* now live */
    struct swap_side outgoing;     /* now pre-live (empty on a first cutover) */
    int resumed;                   /* finished a swap interrupted earlier */
    int dry_run;                   /* nothing was changed */
    json_t *changes;               /* the journal's "changes" of a swap that
                                    * completed (SPEC.md "Lock and journal");
                                    * owned, NULL otherwise */
};

void swap_result_release(struct swap_result *r);

/* cutover: the pre-live slot becomes live. */
int plan_cutover(struct paas *p, struct swap_result *r, struct err *e);
/* rollback: the slot the last swap moved away from becomes live again. */
int plan_rollback(struct paas *p, struct swap_result *r, struct err *e);

#endif
