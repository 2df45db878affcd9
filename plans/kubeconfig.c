/* `kubeconfig a|b` (see kubeconfig.h; SPEC.md "Clusters"): the slot's CA
 * from its bucket (2 GETs), a client certificate signed here, the file. */
#include "plans/kubeconfig.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/env.h"
#include "core/pki.h"
#include "k8s/kubeconfig.h"
#include "k8s/kubeconfig_file.h"
#include "plans/pki_store.h"
#include "plans/slot.h"

/* The certificate's CN names who asked (the API server's audit log shows
 * it): paasctl:USER, with USER reduced to [A-Za-z0-9._-]. */
static void kubeconfig_user(char *out, size_t size)
{
    const char *u = env_get("USER");
    size_t n;
    if (!u || !*u)
        u = "operator";
    snprintf(out, size, "paasctl:%.60s", u);
    for (n = 8; out[n]; n++)
        if (!isalnum((unsigned char)out[n]) && !strchr("._-", out[n]))
            out[n] = '_';
}

static void kubeconfig_names(struct paas *p, const char *slot, struct kubeconfig_result *r)
{
    size_t n = strlen(p->cfg.dns_zone);
    snprintf(r->context, sizeof(r->context), "%s-%s", p->cfg.name, slot);
    snprintf(r->server, sizeof(r->server), "https://api.%s.k8s.%.*s:6443", slot,
             (int)(n && p->cfg.dns_zone[n - 1] == '.' ? n - 1 : n), p->cfg.dns_zone);
    kubeconfig_user(r->user, sizeof(r->user));
}

static int kubeconfig_path(struct paas *p, const struct kubeconfig_opts *o,
                           struct kubeconfig_result *r, struct err *e)
{
    int rc;
    if (o->file)
        rc = snprintf(r->path, sizeof(r->path), "%s", o->file) < (int)sizeof(r->path) ? 0 : -1;
    else if (o->merge)
        rc = k8s_kubeconfig_merge_path(r->path, sizeof(r->path));
    else
        rc = config_default_kubeconfig(&p->cfg, o->slot, r->path, sizeof(r->path));
    if (rc < 0)
        return err_set(e, ERR_USAGE, "no kubeconfig path: HOME is not set (use --file FILE)");
    return 0;
}

/* The YAML: merged into the file's current text (when --merge and it
 * exists), or a file of its own. */
static int kubeconfig_render(const struct kubeconfig_opts *o, const struct kubeconfig_result *r,
                             const struct k8s_kc_entry *x, struct buf *yaml, struct err *e)
{
    struct buf old = BUF_INIT;
    int rc;
    if (o->merge && access(r->path, F_OK) == 0 &&
        k8s_read_file(r->path, 16u << 20, "--merge", &old, e) < 0)
        return -1;
    rc = k8s_kubeconfig_render(x, o->merge ? buf_str(&old) : NULL, r->path, yaml, e);
    buf_release_secret(&old);
    return rc;
}

static int kubeconfig_sign_and_write(struct paas *p, const struct kubeconfig_opts *o,
                                     struct kubeconfig_result *r, const struct buf *ca_crt,
                                     const struct buf *ca_key, struct err *e)
{
    struct buf key = BUF_INIT, crt = BUF_INIT, yaml = BUF_INIT;
    char user_entry[96];
    time_t now = paas_now(p);
    int rc = -1;
    snprintf(user_entry, sizeof(user_entry), "%s-admin", r->context);
    if (pki_client_cert(buf_str(ca_crt), buf_str(ca_key), r->user, KUBECONFIG_GROUP, o->ttl,
                        now, &key, &crt, e) == 0) {
        struct k8s_kc_entry x = { r->context, user_entry, r->server, buf_str(ca_crt),
                                  buf_str(&crt), buf_str(&key) };
        r->expires = now + o->ttl;
        if (kubeconfig_render(o, r, &x, &yaml, e) == 0)
            rc = k8s_write_private_file(r->path, buf_str(&yaml), yaml.len, e);
    }
    buf_release_secret(&yaml);
    buf_release_secret(&key);
    buf_release(&crt);
    return rc;
}

int plan_kubeconfig(struct paas *p, const struct kubeconfig_opts *o,
                    struct kubeconfig_result *r, struct err *e)
{
    struct buf ca_crt = BUF_INIT, ca_key = BUF_INIT;
    char bucket[64];
    int exists = 0, rc = -1;
    memset(r, 0, sizeof(*r));
    if (slot_check_config(p, o->slot, e) < 0 || kubeconfig_path(p, o, r, e) < 0)
        return -1;
    kubeconfig_names(p, o->slot, r);
    if (slot_bucket_name(p, o->slot, bucket, sizeof(bucket), &exists, e) < 0)
        return -1;
    if (!exists)
        return err_set(e, ERR_FAILED, "slot %s has no bucket (%s), so no CA: run 'paasctl "
                       "up %s' first", o->slot, bucket, o->slot);
    if (pki_store_load_ca(p, bucket, &ca_crt, &ca_key, e) == 0)
        rc = kubeconfig_sign_and_write(p, o, r, &ca_crt, &ca_key, e);
    buf_release_secret(&ca_key);
    buf_release(&ca_crt);
    return rc;
}
