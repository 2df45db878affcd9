/* Pre-flight (README "Pre-flight"): before `up` (and `upgrade`'s up step)
 * makes anything, the checks of what AWS would refuse half-way through:
 * the On-Demand standard vCPU quota against what is running plus what this
 * run launches, the Elastic IP quota against the addresses this run
 * allocates, and the image the new instances boot (there, and x86_64).
 * Read-only: it reads the plan (`plan TARGET`'s diff), EC2 and Service
 * Quotas, and sends no mutating request. */
#ifndef PLANS_PREFLIGHT_H
#define PLANS_PREFLIGHT_H

#include "plans/diff.h"
#include "plans/paas.h"

#define PREFLIGHT_MAX_TYPES 16

/* What one run of `up TARGET` would make that a quota or the image can
 * refuse, from its plan: instances by type, and Elastic IPs. */
struct preflight_want {
    const char *ami;                 /* borrowed (config); NULL = no launch */
    size_t n_types;
    char types[PREFLIGHT_MAX_TYPES][32];
    int count[PREFLIGHT_MAX_TYPES];
    int eips;
};

/* Fills w from d, the plan of target ("shell", "a", "b"): only its
 * `+ create` entries count, so a re-run that makes nothing wants nothing.
 * A pure function, for the unit test. */
void preflight_want_from_diff(const struct paas *p, const char *target,
                              const struct diff *d, struct preflight_want *w);

/* 1 when the instance type counts against the On-Demand standard quota
 * (families A, C, D, H, I, M, R, T, Z). */
int preflight_standard_type(const char *type);

/* Runs the checks for `up target` (nothing with p->skip_preflight). 0 when
 * all pass; else ERR_FAILED with every failed check in the message (what
 * is wanted against the quota, or the image and what is wrong with it).
 * An AccessDenied from Service Quotas says to use --skip-preflight. */
int plan_preflight(struct paas *p, const char *target, struct err *e);

#endif
