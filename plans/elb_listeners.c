/* The ELBs' listeners and TLS policy (see elb_listeners.h). */
#include "plans/elb_listeners.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"

size_t lsn_want(const struct config *cfg, struct elb_listener *out)
{
    for (int i = 0; i < cfg->n_listeners; i++) {
        const struct listener *c = &cfg->listeners[i];
        memset(&out[i], 0, sizeof(out[i]));
        out[i].lb_port = c->lb_port;
        out[i].instance_port = c->instance_port;
        snprintf(out[i].protocol, sizeof(out[i].protocol), "%s", c->protocol);
        snprintf(out[i].instance_protocol, sizeof(out[i].instance_protocol), "%s",
                 c->instance_protocol);
        snprintf(out[i].cert_arn, sizeof(out[i].cert_arn), "%s", c->cert_arn);
    }
    return (size_t)cfg->n_listeners;
}

/* An empty protocol is the API's default, HTTP; AWS answers in capitals. */
static int lsn_proto_eq(const char *a, const char *b)
{
    return strcasecmp(a[0] ? a : "HTTP", b[0] ? b : "HTTP") == 0;
}

static int lsn_eq(const struct elb_listener *a, const struct elb_listener *b)
{
    return a->lb_port == b->lb_port && a->instance_port == b->instance_port &&
           lsn_proto_eq(a->protocol, b->protocol) &&
           lsn_proto_eq(a->instance_protocol, b->instance_protocol) &&
           strcmp(a->cert_arn, b->cert_arn) == 0;
}

/* The listener of lb equal to w, or NULL. */
static const struct elb_listener *lsn_find(const struct elb_lb *lb, const struct elb_listener *w)
{
    for (size_t k = 0; lb && k < lb->n_listeners; k++)
        if (lsn_eq(&lb->listeners[k], w))
            return &lb->listeners[k];
    return NULL;
}

/* The same listener but for its certificate (both have one). */
static int lsn_same_but_cert(const struct elb_listener *a, const struct elb_listener *b)
{
    return a->lb_port == b->lb_port && a->instance_port == b->instance_port &&
           lsn_proto_eq(a->protocol, b->protocol) &&
           lsn_proto_eq(a->instance_protocol, b->instance_protocol) &&
           a->cert_arn[0] && b->cert_arn[0] && strcmp(a->cert_arn, b->cert_arn) != 0;
}

/* The listener of lb that only needs want's certificate, or NULL. */
static const struct elb_listener *lsn_find_cert_swap(const struct elb_lb *lb,
                                                     const struct elb_listener *w)
{
    for (size_t k = 0; lb && k < lb->n_listeners; k++)
        if (lsn_same_but_cert(&lb->listeners[k], w))
            return &lb->listeners[k];
    return NULL;
}

void lsn_diff(const struct config *cfg, const struct elb_lb *lb, struct lsn_diff *out)
{
    struct elb_listener want[CONFIG_MAX_LISTENERS];
    size_t n = lsn_want(cfg, want);
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < n; i++) {
        if (lsn_find(lb, &want[i]))
            continue;
        if (lsn_find_cert_swap(lb, &want[i]))
            out->cert[out->n_cert++] = want[i];
        else
            out->add[out->n_add++] = want[i];
    }
    for (size_t k = 0; lb && k < lb->n_listeners; k++) {
        int keep = 0;
        for (size_t i = 0; i < n && !keep; i++)
            keep = lsn_eq(&lb->listeners[k], &want[i]) ||
                   lsn_same_but_cert(&lb->listeners[k], &want[i]);
        if (!keep)
            out->del[out->n_del++] = lb->listeners[k].lb_port;
    }
}

int lsn_todo(const struct lsn_diff *ld)
{
    return ld->n_add || ld->n_del || ld->n_cert;
}

void lsn_add(struct aws_batch *b, const char *lb, const struct lsn_diff *ld)
{
    if (ld->n_add)
        elb_create_listeners(b, lb, ld->add, ld->n_add);
    for (size_t i = 0; i < ld->n_cert; i++)
        elb_set_listener_cert(b, lb, ld->cert[i].lb_port, ld->cert[i].cert_arn);
}

static int lsn_lb_has_policy(const struct elb_lb *lb, const char *name)
{
    for (size_t k = 0; lb && k < lb->n_policies; k++)
        if (strcmp(lb->policies[k], name) == 0)
            return 1;
    return 0;
}

void lsn_policy_decide(const struct config *cfg, const struct elb_lb *lb,
                       struct lsn_policy *out)
{
    struct elb_listener want[CONFIG_MAX_LISTENERS];
    size_t n = lsn_want(cfg, want);
    memset(out, 0, sizeof(*out));
    if (!cfg->ssl_policy[0])
        return;
    snprintf(out->name, sizeof(out->name), "paasctl-%s", cfg->ssl_policy);
    out->create = !lsn_lb_has_policy(lb, out->name);
    for (size_t i = 0; i < n; i++) {
        const struct elb_listener *have = lsn_find(lb, &want[i]);
        if (want[i].cert_arn[0] && (!have || strcmp(have->policy, out->name) != 0))
            out->ports[out->n_ports++] = want[i].lb_port;
    }
    /* Ours only (the prefix): a policy made by hand is the operator's.
     * An older one of ours is used by no listener once step 1 has set the
     * wanted one on every https/ssl listener (the others are deleted). */
    for (size_t k = 0; lb && k < lb->n_policies && out->n_stale < ELB_MAX_POLICIES; k++) {
        const char *pn = lb->policies[k];
        if (!strncmp(pn, "paasctl-", 8) && strcmp(pn, out->name) != 0)
            snprintf(out->stale[out->n_stale++], sizeof(out->stale[0]), "%s", pn);
    }
}

int lsn_policy_todo(const struct lsn_policy *pol)
{
    return pol->create || pol->n_ports || pol->n_stale;
}

/* "+443 HTTPS->80" for an added listener, "~443 ..." when it replaces
 * one on the same port, "-8080" for one only deleted. */
void lsn_describe(const struct lsn_diff *ld, const struct lsn_policy *pol, char *out,
                  size_t size)
{
    struct buf b = BUF_INIT;
    const char *sep = "; listeners ";
    for (size_t i = 0; i < ld->n_add; i++, sep = ", ") {
        int replaces = 0;
        for (size_t j = 0; j < ld->n_del && !replaces; j++)
            replaces = ld->del[j] == ld->add[i].lb_port;
        buf_printf(&b, "%s%c%d %s->%d", sep, replaces ? '~' : '+', ld->add[i].lb_port,
                   ld->add[i].protocol, ld->add[i].instance_port);
    }
    for (size_t i = 0; i < ld->n_cert; i++, sep = ", ")
        buf_printf(&b, "%s~%d certificate (in place)", sep, ld->cert[i].lb_port);
    for (size_t j = 0; j < ld->n_del; j++) {
        int replaced = 0;
        for (size_t i = 0; i < ld->n_add && !replaced; i++)
            replaced = ld->del[j] == ld->add[i].lb_port;
        if (!replaced) {
            buf_printf(&b, "%s-%d", sep, ld->del[j]);
            sep = ", ";
        }
    }
    if (pol->create || pol->n_ports)
        buf_printf(&b, "; TLS policy %s on %zu listener(s)", pol->name + 8, pol->n_ports);
    if (pol->n_stale)
        buf_printf(&b, "; delete %zu old TLS policy(ies)", pol->n_stale);
    snprintf(out, size, "%s", b.failed ? "" : buf_str(&b));
    buf_release(&b);
}

void lsn_policy_add(struct aws_batch *b, const char *lb, const struct lsn_policy *pol,
                    int step)
{
    if (step == 0 && pol->create)
        elb_create_ssl_policy(b, lb, pol->name, pol->name + 8);
    for (size_t i = 0; step == 1 && i < pol->n_ports; i++)
        elb_set_listener_policy(b, lb, pol->ports[i], pol->name);
    for (size_t i = 0; step == 2 && i < pol->n_stale; i++)
        elb_delete_policy(b, lb, pol->stale[i]);
}

int lsn_policy_apply(struct aws_client *c, const char *const *lbs,
                     const struct lsn_policy *pols, size_t n, struct err *e)
{
    static const char *const what[3] = { "creating", "setting", "deleting old" };
    for (int step = 0; step < 3; step++) {
        struct aws_batch b;
        int rc;
        aws_batch_init(&b);
        for (size_t i = 0; i < n; i++)
            lsn_policy_add(&b, lbs[i], &pols[i], step);
        rc = aws_batch_run(c, &b, e);
        aws_batch_release(&b);
        if (rc < 0)
            return err_wrap(e, "up shell, %s the ELBs' TLS policy", what[step]);
    }
    return 0;
}
