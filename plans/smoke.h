/* The smoke suite against one slot (SPEC.md "Smoke"): six checks, each
 * reported pass/fail with its reason naming the object at fault, failing
 * checks retried until [smoke] timeout. */
#ifndef PLANS_SMOKE_H
#define PLANS_SMOKE_H

#include "plans/paas.h"

enum smoke_id {
    SMOKE_API,          /* /version answers and accepts the credentials */
    SMOKE_NODES,        /* a Ready Node for every running ingress/minion */
    SMOKE_SYSTEM_PODS,  /* kube-system pods Running or Succeeded */
    SMOKE_WORKLOADS,    /* deployments, statefulsets, daemonsets available */
    SMOKE_ELB,          /* ingress nodes InService on their ELB */
    SMOKE_INGRESS,      /* every Ingress host answers below 500 via the ELB */
    SMOKE_N
};

struct smoke_check {
    const char *name;   /* static: "api", "nodes", ... */
    int pass;
    char reason[1024];  /* why it passed or failed; names objects */
};

struct smoke_report {
    char slot[8];
    struct smoke_check checks[SMOKE_N];
    int attempts;       /* rounds run */
    double elapsed_s;
    int passed;         /* every check passed */
};

/* Runs the suite. Returns 0 when it ran to a verdict (r->passed says
 * which); -1 when it could not run at all (no [cluster x] section, a bad
 * kubeconfig: ERR_USAGE; AWS unreachable: ERR_FAILED). */
int plan_smoke(struct paas *p, const char *slot, struct smoke_report *r,
               struct err *e);
/* The same with only the first upto checks (upto = 3: the API answers,
 * the nodes are Ready, kube-system runs; what `up` waits for), timeout_s
 * instead of [smoke] timeout. */
int plan_smoke_upto(struct paas *p, const char *slot, int upto, double timeout_s,
                    struct smoke_report *r, struct err *e);

#endif
