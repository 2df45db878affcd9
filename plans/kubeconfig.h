/* `kubeconfig a|b` (SPEC.md "Clusters"): an admin kubeconfig for the slot,
 * with a fresh client certificate for group kubeadm:cluster-admins signed by
 * the slot's own CA (read from its bucket), written 0600 to its own file or
 * merged into the operator's kubeconfig. */
#ifndef PLANS_KUBECONFIG_H
#define PLANS_KUBECONFIG_H

#include <time.h>
#include "plans/paas.h"

#define KUBECONFIG_DEFAULT_TTL (12 * 3600L)
#define KUBECONFIG_GROUP "kubeadm:cluster-admins"

struct kubeconfig_opts {
    const char *slot;
    long ttl;                 /* seconds the certificate is valid */
    const char *file;         /* NULL: ~/.kube/paasctl-NAME-SLOT.yaml */
    int merge;                /* into $KUBECONFIG's first file / ~/.kube/config */
};

struct kubeconfig_result {
    char path[4096];          /* the file written */
    char context[64];         /* NAME-SLOT */
    char server[512];         /* https://api.SLOT.k8s.DNS_ZONE:6443 */
    char user[128];           /* the certificate's CN */
    time_t expires;
};

int plan_kubeconfig(struct paas *p, const struct kubeconfig_opts *o,
                    struct kubeconfig_result *r, struct err *e);

#endif
