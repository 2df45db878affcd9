/* `up a|b` waits for the cluster (see slot_wait.h; SPEC.md "Clusters"). */
#include "plans/slot_wait.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "core/util.h"
#include "k8s/client.h"
#include "k8s/kubeconfig.h"
#include "plans/slot.h"

#define SLOT_WAIT_CHECKS 3     /* smoke checks 1-3 */
#define SLOT_WAIT_PROBE_MS 5000
/* How long `up` waits for a reachable cluster's nodes to be Ready: a
 * kubeadm node takes minutes to install and join. */
#define SLOT_WAIT_DEFAULT_S 1800

void slot_wait_kubeconfig(const struct paas *p, const char *slot, char *out,
                          size_t size)
{
    /* config_load resolved an unset one to ~/.kube/paasctl-NAME-SLOT.yaml */
    snprintf(out, size, "%s", p->cfg.cluster[config_slot_index(slot)].kubeconfig);
}

/* One GET /version, no retries, a short timeout: does anything answer?
 * Returns 1 (it answers), 0 (it cannot be reached; why says so) or -1 (the
 * kubeconfig is unusable, or TLS refused: an error to fix, not a network
 * that is out of reach). */
static int slot_wait_probe(struct paas *p, const char *slot, struct slot_wait *w,
                           char *version, size_t vsize, struct err *e)
{
    const struct cluster_config *cc = &p->cfg.cluster[config_slot_index(slot)];
    struct k8s_client_opts o = { .max_in_flight = 1, .timeout_ms = SLOT_WAIT_PROBE_MS,
                                 .max_attempts = 1 };
    struct k8s_request req = { .verb = "GET", .path = "/version" };
    struct k8s_kubeconfig kc;
    struct k8s_client c;
    struct k8s_response resp;
    int rc;
    if (access(w->kubeconfig, F_OK) != 0) {
        snprintf(w->why, sizeof(w->why), "slot %s has no kubeconfig at %s (write one with "
                 "'paasctl kubeconfig %s')", slot, w->kubeconfig, slot);
        return 0;
    }
    if (k8s_kubeconfig_load(&kc, w->kubeconfig, cc->context, e) < 0 ||
        k8s_client_init(&c, &kc, &p->log, &o, e) < 0)
        return err_wrap(e, "slot %s", slot);
    k8s_response_init(&resp);
    rc = k8s_send(&c, &req, &resp, e) == 0 || e->http_status != 0 ? 1 : 0;
    if (version && resp.status / 100 == 2) {
        json_t *v = json_loadb(buf_str(&resp.body), resp.body.len, 0, NULL);
        const char *gv = json_string_value(json_object_get(v, "gitVersion"));
        snprintf(version, vsize, "%s", gv ? gv : "");
        json_decref(v);
    }
    if (rc == 0 && strncmp(e->msg, "TLS", 3) == 0)
        rc = err_wrap(e, "slot %s's API (%s)", slot, w->kubeconfig);
    else if (rc == 0)
        snprintf(w->why, sizeof(w->why), "slot %s's API %.1024s cannot be reached from here: %s",
                 slot, c.base_url, e->msg);
    if (rc >= 0)
        err_init(e);
    k8s_response_release(&resp);
    k8s_client_release(&c);
    return rc;
}

int plan_slot_wait(struct paas *p, const char *slot, struct slot_wait *w,
                   struct err *e)
{
    char api[300];
    const struct smoke_check *bad = NULL;
    int rc;
    memset(w, 0, sizeof(*w));
    slot_wait_kubeconfig(p, slot, w->kubeconfig, sizeof(w->kubeconfig));
    slot_record_name(p, slot, "api", api, sizeof(api));
    api[strlen(api) - 1] = '\0';
    snprintf(w->how, sizeof(w->how), "the API is private to the VPC: reach "
             "https://%s:6443 through the bastion (ssh -L 6443:%s:6443 to the bastion, "
             "with a kubeconfig whose server is https://%s:6443 and tls-server-name %s) "
             "or a VPN, then run 'paasctl smoke %s'; on the master, 'kubectl --kubeconfig "
             "/etc/kubernetes/admin.conf get nodes'", api, api, "127.0.0.1", api, slot);
    rc = slot_wait_probe(p, slot, w, NULL, 0, e);
    if (rc <= 0)
        return rc;
    w->reachable = 1;
    if (plan_smoke_upto(p, slot, SLOT_WAIT_CHECKS,
                        p->knobs.cluster_wait_s ? (double)p->knobs.cluster_wait_s
                                                : SLOT_WAIT_DEFAULT_S,
                        &w->report, e) < 0)
        return -1;
    if (w->report.passed)
        return 0;
    if (paas_interrupted(p))
        return err_set(e, ERR_FAILED, "interrupted while waiting for slot %s's cluster", slot);
    for (int i = 0; i < SLOT_WAIT_CHECKS && !bad; i++)
        if (!w->report.checks[i].pass)
            bad = &w->report.checks[i];
    return err_set(e, ERR_FAILED, "slot %s's instances run, but its cluster is not ready "
                   "after %.0f s: check %s: %s", slot, w->report.elapsed_s,
                   bad ? bad->name : "?", bad ? bad->reason : "");
}

int slot_api_version(struct paas *p, const char *slot, char *out, size_t size)
{
    struct slot_wait *w = calloc(1, sizeof(*w));
    struct err e;
    int rc;
    out[0] = '\0';
    if (!w)
        return 0;
    err_init(&e);
    slot_wait_kubeconfig(p, slot, w->kubeconfig, sizeof(w->kubeconfig));
    rc = slot_wait_probe(p, slot, w, out, size, &e);
    free(w);
    return rc == 1 && out[0];
}
