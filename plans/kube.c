/* A slot's Kubernetes client from its configuration (see kube.h). */
#include "plans/kube.h"

#include <string.h>

#include "k8s/kubeconfig.h"

int kube_open_slot(struct paas *p, const char *slot, const struct k8s_client_opts *o,
                   struct k8s_client *c, struct err *e)
{
    struct k8s_kubeconfig kc;
    struct k8s_client_opts with_knobs = *o;
    int idx = config_slot_index(slot);
    const struct cluster_config *cc;
    memset(c, 0, sizeof(*c));
    if (idx < 0)
        return err_set(e, ERR_USAGE, "unknown slot '%s' (a or b)", slot);
    cc = &p->cfg.cluster[idx];
    if (!cc->present)
        return err_set(e, ERR_USAGE, "%s: no [cluster %s] section", p->cfg.path, slot);
    if (k8s_kubeconfig_load(&kc, cc->kubeconfig, cc->context, e) < 0)
        return err_wrap(e, "slot %s", slot);
    /* The run's retry knobs (read once by cmd/) unless the caller set its own. */
    if (!with_knobs.max_attempts)
        with_knobs.max_attempts = p->knobs.max_attempts;
    if (!with_knobs.retry_base_ms)
        with_knobs.retry_base_ms = p->knobs.retry_base_ms;
    return k8s_client_init(c, &kc, &p->log, &with_knobs, e);
}
