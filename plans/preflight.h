/* Pre-flight (README "Pre-flight"): before `up` (and `upgrade`'s up step)
 * makes anything, the checks of what AWS would refuse half-way through:
 * the On-Demand standard vCPU quota against what is running plus what this
 * run launches or starts, the Elastic IP quota against the addresses this
 * run allocates, and the image the new instances boot (there, and x86_64).
 * Read-only and cheap: what the run makes is worked out from the same
 * account-wide DescribeInstances (and, for the shell, DescribeAddresses)
 * the quota checks need anyway, not from a read of the whole plan. */
#ifndef PLANS_PREFLIGHT_H
#define PLANS_PREFLIGHT_H

#include "aws/ec2.h"
#include "plans/paas.h"

/* A slot has four types, the shell one; the rest is room for the types of
 * stopped instances a changed configuration left behind. */
#define PREFLIGHT_MAX_TYPES 16

/* The instances one run of `up TARGET` would launch or start, by type, and
 * the image of the launches: what the vCPU quota and the image check see. */
struct preflight_want {
    const char *ami;                 /* borrowed (config); NULL = no launch */
    size_t n_types;
    char types[PREFLIGHT_MAX_TYPES][32];
    int count[PREFLIGHT_MAX_TYPES];  /* launched by this run */
    int starts[PREFLIGHT_MAX_TYPES]; /* stopped ones of the slot it starts */
};

/* Fills w's instances from in, the account's instances (any of pending,
 * running, stopping, stopped): for target ("shell", "a", "b"), per role and
 * zone, what the configuration asks for (slot_cluster_role_count spread by
 * slot_spread; one bastion) less those of the role and zone tagged for this
 * paas and slot, never below 0, as plan_up_slot / plan_up_shell decide it.
 * A slot's stopped instances of a configured role and zone count as
 * started (up starts the kept ones; an extra one is counted too, the safe
 * side); the shell's stopped bastion is kept as it is.
 * A pure function, for the unit test. */
void preflight_want_instances(const struct paas *p, const char *target,
                              const struct ec2_instance *in, size_t n,
                              struct preflight_want *w);

/* The Elastic IPs `up shell` allocates: one per zone, less the zones whose
 * address (tagged for this paas, role eip, Name PAAS-shell-eip-Z) is among
 * a, the account's addresses. Pure. */
int preflight_want_eips(const struct paas *p, const struct ec2_address *a, size_t n);

/* 1 when the instance type counts against the On-Demand standard quota
 * (families A, C, D, H, I, M, R, T, Z). */
int preflight_standard_type(const char *type);

/* Runs the checks for `up target` (nothing with p->skip_preflight). 0 when
 * all pass; else ERR_FAILED with every failed check in the message (what
 * is wanted against the quota, or the image and what is wrong with it).
 * An AccessDenied from Service Quotas says to use --skip-preflight. */
int plan_preflight(struct paas *p, const char *target, struct err *e);

#endif
