/* `up a|b` waits for the cluster (SPEC.md "Clusters"): when the slot's API
 * can be reached from where paasctl runs (its kubeconfig exists and the
 * server answers), until smoke checks 1-3 pass (the API answers, every
 * running ingress and minion instance has a Ready Node, kube-system runs);
 * when it cannot, the result says why and how to check from inside the
 * VPC, and `up` still succeeds with the instances up. */
#ifndef PLANS_SLOT_WAIT_H
#define PLANS_SLOT_WAIT_H

#include "plans/paas.h"
#include "plans/smoke.h"

struct slot_wait {
    int reachable;              /* 0: not from here; why and how say more */
    char kubeconfig[4096];      /* the file used (or looked for) */
    char why[6144];
    char how[2048];             /* how to check from inside the VPC */
    struct smoke_report report; /* checks 1-3 when reachable */
};

/* The slot's kubeconfig: [cluster x] kubeconfig, else
 * ~/.kube/paasctl-NAME-SLOT.yaml (what `paasctl kubeconfig` writes). */
void slot_wait_kubeconfig(const struct paas *p, const char *slot, char *out,
                          size_t size);

/* 0 when the cluster is ready or cannot be reached from here (w says
 * which); -1 when it was reached and did not become ready in time
 * (PAASCTL_CLUSTER_WAIT_S, default 1800 s: packages, kubeadm and the pod
 * network take minutes), or its kubeconfig is unusable. */
int plan_slot_wait(struct paas *p, const char *slot, struct slot_wait *w,
                   struct err *e);

/* For `status`: the API's gitVersion ("v1.32.4") when the slot's kubeconfig
 * exists and the API answers within 5 s; else 0 and "" (never an error). */
int slot_api_version(struct paas *p, const char *slot, char *out, size_t size);

#endif
