/* `teardown a|b|shell` (SPEC.md "Commands"): destroy that part and
 * everything it owns, in dependency order, refusing the live slot and a
 * shell whose slots still have instances. Found by tags (and names) like
 * everything else, so a teardown cut short is finished by running it again. */
#ifndef PLANS_TEARDOWN_H
#define PLANS_TEARDOWN_H

#include "plans/diff.h"
#include "plans/paas.h"

/* Called once the diff is known and before anything is destroyed (cmd/
 * asks the operator there). Non-zero stops the teardown with e set. */
typedef int (*teardown_confirm_fn)(struct paas *p, const struct diff *d,
                                   void *ctx, struct err *e);

/* apply = 0: the diff only (--dry-run). Interlocks (ERR_REFUSED) apply
 * either way. confirm is called only when something is to be destroyed. */
int plan_teardown_slot(struct paas *p, const char *slot, int apply,
                       teardown_confirm_fn confirm, void *ctx, struct diff *d,
                       struct err *e);
int plan_teardown_shell(struct paas *p, int apply, teardown_confirm_fn confirm,
                        void *ctx, struct diff *d, struct err *e);

/* teardown a|b|shell: the one above for target, looking again by tags
 * after an uncertain failure (plans/converge.h); confirm is asked on the
 * first pass only. */
int plan_teardown(struct paas *p, const char *target, int apply,
                  teardown_confirm_fn confirm, void *ctx, struct diff *d, struct err *e);

/* The tag Kubernetes' AWS cloud provider puts on what it creates for a
 * cluster: "kubernetes.io/cluster/NAME-SLOT". */
void teardown_cluster_tag(const struct paas *p, const char *slot, char *out,
                          size_t size);

#endif
