/* A Kubernetes client for a slot, made from its [cluster x] kubeconfig and
 * context (SPEC.md "Configuration"): shared by smoke and migrate. */
#ifndef PLANS_KUBE_H
#define PLANS_KUBE_H

#include "k8s/client.h"
#include "plans/paas.h"

/* Fills c (release with k8s_client_release) for slot "a" or "b". An
 * unknown slot, a slot without its section or an unusable kubeconfig is
 * ERR_USAGE naming the slot. */
int kube_open_slot(struct paas *p, const char *slot, const struct k8s_client_opts *o,
                   struct k8s_client *c, struct err *e);

#endif
