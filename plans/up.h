/* `up shell|a|b` as one plan (SPEC.md "Commands": idempotent, safe to
 * re-run): the shell or slot plan, run again from a fresh read of the world
 * after a failure whose outcome is uncertain (README "Uncertain outcomes").
 * Creates that cannot carry a ClientToken (CreateVpc, CreateSubnet,
 * CreateSecurityGroup, AuthorizeSecurityGroupIngress, CreateRoute,
 * AllocateAddress, ...) are tagged at creation or visible in their parent,
 * so the read finds what such a call did: it is adopted (`=`), and what it
 * did not do is created. Never a blind resend. */
#ifndef PLANS_UP_H
#define PLANS_UP_H

#include "plans/diff.h"
#include "plans/paas.h"

/* How often one `up` looks again after uncertain failures: the first run
 * and this many more. Each look re-reads by tags and creates only what is
 * still missing, so a call that keeps failing is sent at most this often. */
#define PLAN_UP_LOOKS 6

/* target "shell", "a" or "b". With apply = 0 this is `plan` (one pass).
 * d gets the first pass's entries, with the ids of what later passes made
 * or adopted, and any entry a later pass added. */
int plan_up(struct paas *p, const char *target, int apply, struct diff *d, struct err *e);

#endif
