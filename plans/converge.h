/* Looking again after an uncertain outcome (README "Uncertain outcomes"):
 * `up` and `teardown` read the world by tags, compute a diff and apply it,
 * so after a failure that may or may not have happened on the server (a
 * reset, a timeout or a 5xx once a mutating call was sent: err.uncertain)
 * the same plan run again from a fresh read finds what the call did. What
 * it made is adopted (`=`), what it did not make is made, what it deleted
 * is not deleted twice. Never a blind resend. Creates that cannot carry a
 * ClientToken (CreateVpc, CreateSubnet, CreateSecurityGroup,
 * AuthorizeSecurityGroupIngress, CreateRoute, AllocateAddress, ...) are
 * tagged at creation or visible in their parent, so the read finds them. */
#ifndef PLANS_CONVERGE_H
#define PLANS_CONVERGE_H

#include "plans/diff.h"
#include "plans/paas.h"

/* How often one command looks: the first pass and this many more. Each
 * pass re-reads and sends only what is still to do, so one call is sent at
 * most this often; at 20% injected faults a lifecycle step needed up to 8
 * (tests/e2e/test_faults.py). */
#define PLAN_CONVERGE_PASSES 12

/* One pass: read, decide into d, apply. pass is 1 for the first. */
typedef int (*plan_pass_fn)(struct paas *p, void *ctx, int pass, struct diff *d,
                            struct err *e);

/* Runs fn until it succeeds, fails for certain, or PLAN_CONVERGE_PASSES
 * have failed uncertainly. d keeps the first pass's entries, with the ids
 * later passes made or adopted, and any change only a later pass listed. */
int plan_converge(struct paas *p, const char *command, plan_pass_fn fn, void *ctx,
                  struct diff *d, struct err *e);

/* `up shell|a|b` through plan_converge (apply = 0: `plan`, one pass). */
int plan_up(struct paas *p, const char *target, int apply, struct diff *d, struct err *e);

#endif
