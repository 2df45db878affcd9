/* The one place that changes who is behind an ELB (SPEC.md "Cutover
 * rules": the live ELB never loses its last InService node). Every
 * register and deregister of the tool goes through elb_members_apply(), so
 * `grep -n elb_members_apply` lists everyone who may touch the live ELB:
 * cutover/rollback (plans/cutover.c), `up a|b` (plans/slot.c: new ingress
 * nodes join, extras leave) and `teardown a|b` (plans/teardown.c). */
#ifndef PLANS_ELB_MEMBERS_H
#define PLANS_ELB_MEMBERS_H

#include <stddef.h>
#include "aws/elb.h"
#include "plans/paas.h"

enum elb_members_op {
    ELB_MEMBERS_ADD,       /* ids join; the other members stay */
    ELB_MEMBERS_REMOVE,    /* ids leave; the other members stay */
    ELB_MEMBERS_EXACTLY,   /* the members become exactly ids: the newcomers
                            * join first, then the others leave, so a
                            * healthy ELB is never emptied in between */
};

/* Applies op to lb as the caller last read it (lb->instances): sends only
 * the difference, at most one Register and one Deregister call (none when
 * nothing differs), and then updates lb's member list to match, so a
 * sequence of changes needs no re-read. */
int elb_members_apply(struct paas *p, struct elb_lb *lb, enum elb_members_op op,
                      const char *const *ids, size_t n, struct err *e);

#endif
