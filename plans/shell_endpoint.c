/* The shell's S3 gateway endpoint (see shell_endpoint.h). */
#include "plans/shell_endpoint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aws/batch.h"
#include "plans/tags.h"

/* States in which an endpoint is gone or never worked (it stays listed a
 * while after deletion). */
static int vpce_dead(const struct ec2_vpc_endpoint *ep)
{
    static const char *const dead[] = { "deleting", "deleted", "failed", "rejected",
                                        "expired", NULL };
    for (size_t i = 0; dead[i]; i++)
        if (strcasecmp(ep->state, dead[i]) == 0)
            return 1;
    return 0;
}

static void vpce_service(const struct paas *p, char *out, size_t size)
{
    snprintf(out, size, "com.amazonaws.%s.s3", p->aws.region);
}

/* Every endpoint tagged with the paas and the role; vpc NULL = any VPC. */
static int vpce_find(struct paas *p, const char *vpc, struct vpce *v, struct err *e)
{
    struct ec2_filter f[] = {
        { "tag:" TAG_PAAS, { p->cfg.name, NULL } },
        { "tag:" TAG_ROLE, { VPCE_ROLE, NULL } },
        { "vpc-id", { vpc, NULL } },
    };
    struct ec2_vpc_endpoint *ep;
    size_t n;
    memset(v, 0, sizeof(*v));
    if (ec2_describe_vpc_endpoints(&p->aws, f, vpc ? 3 : 2, &ep, &n, e) < 0)
        return err_wrap(e, "S3 gateway endpoint");
    for (size_t i = 0; i < n; i++) {
        if (vpce_dead(&ep[i])) {
            if (v->n_dead < VPCE_MAX_SEEN)
                snprintf(v->dead[v->n_dead++], sizeof(v->dead[0]), "%s", ep[i].id);
            continue;
        }
        if (v->n_live < VPCE_MAX_SEEN)
            snprintf(v->live[v->n_live++], sizeof(v->live[0]), "%s", ep[i].id);
        if (v->have)
            snprintf(v->dup, sizeof(v->dup), "two S3 endpoints tagged for this paas: %s "
                     "and %s", v->ep.id, ep[i].id);
        else
            v->ep = ep[i];
        v->have = 1;
    }
    free(ep);
    return 0;
}

int vpce_read(struct paas *p, const struct shell_world *w, struct vpce *v, struct err *e)
{
    memset(v, 0, sizeof(*v));
    return w->have_vpc ? vpce_find(p, w->vpc.id, v, e) : 0;
}

static int vpce_has_rtb(const struct ec2_vpc_endpoint *ep, const char *rtb)
{
    for (size_t i = 0; i < ep->n_rtbs; i++)
        if (strcmp(ep->rtbs[i], rtb) == 0)
            return 1;
    return 0;
}

/* The private route tables that exist (ids), how many. */
static size_t vpce_want(const struct shell_world *w, const char *out[SHELL_Z])
{
    size_t n = 0;
    for (int z = 0; z < w->nz; z++)
        if (w->rtb_priv[z].id[0])
            out[n++] = w->rtb_priv[z].id;
    return n;
}

/* What ModifyVpcEndpoint must add and remove; 1 when anything. */
static int vpce_rtb_diff(const struct shell_world *w, const struct ec2_vpc_endpoint *ep,
                         const char *add[SHELL_Z], size_t *n_add,
                         const char *del[EC2_MAX_ENDPOINT_RTBS], size_t *n_del)
{
    const char *want[SHELL_Z];
    size_t nw = vpce_want(w, want);
    *n_add = *n_del = 0;
    for (size_t i = 0; i < nw; i++)
        if (!vpce_has_rtb(ep, want[i]))
            add[(*n_add)++] = want[i];
    for (size_t i = 0; i < ep->n_rtbs; i++) {
        size_t k = 0;
        while (k < nw && strcmp(want[k], ep->rtbs[i]) != 0)
            k++;
        if (k == nw)
            del[(*n_del)++] = ep->rtbs[i];
    }
    return *n_add || *n_del;
}

int vpce_decide(const struct paas *p, const struct shell_world *w, struct vpce *v,
                int apply, struct diff *d, struct err *e)
{
    char name[128], service[96];
    const char *add[SHELL_Z], *del[EC2_MAX_ENDPOINT_RTBS];
    size_t n_add = 0, n_del = 0;
    int missing = 0;
    if (shell_refuse_duplicates(v->dup, apply, d, e) < 0)
        return -1;
    snprintf(name, sizeof(name), "%s-shell-%s", p->cfg.name, VPCE_ROLE);
    vpce_service(p, service, sizeof(service));
    for (int z = 0; z < w->nz; z++)
        missing += !w->have_rtb_priv[z];
    if (!v->have) {
        v->d = diff_add(d, DIFF_CREATE, "vpc-endpoint", name, NULL, "Gateway %s on the "
                        "%d private route tables", service, w->nz);
        return 0;
    }
    vpce_rtb_diff(w, &v->ep, add, &n_add, del, &n_del);
    v->d = diff_add(d, n_add || n_del || missing ? DIFF_UPDATE : DIFF_EXISTS, "vpc-endpoint",
                    name, v->ep.id, "Gateway %s on %zu route tables%s", v->ep.service,
                    v->ep.n_rtbs, n_add || n_del || missing
                    ? "; set to the private route tables" : "");
    return 0;
}

static int vpce_create(struct paas *p, const struct shell_world *w, struct vpce *v,
                       struct diff *d, struct err *e)
{
    const char *rtbs[SHELL_Z], *seen[VPCE_MAX_SEEN];
    char service[96], token[65];
    struct res_tags rt;
    struct aws_batch b;
    struct aws_batch_item *it;
    size_t n = vpce_want(w, rtbs);
    int rc;
    /* The same token for the same world: a resend after an unknown outcome
     * is answered with the first endpoint; one deleted since changes it. */
    for (size_t i = 0; i < v->n_dead; i++)
        seen[i] = v->dead[i];
    res_client_token(token, p->cfg.name, "shell", VPCE_ROLE, 0, 1, seen, v->n_dead);
    vpce_service(p, service, sizeof(service));
    res_tags_init(&rt, p->cfg.name, "shell", VPCE_ROLE, NULL, "%s", VPCE_ROLE);
    aws_batch_init(&b);
    it = ec2_create_gateway_endpoint(&b, w->vpc.id, service, rtbs, n, token, rt.t, rt.n);
    rc = aws_batch_run(&p->aws, &b, e);
    if (rc == 0) {
        diff_set_id(d, v->d, it->id);
        v->have = 1;
    }
    aws_batch_release(&b);
    return rc < 0 ? err_wrap(e, "up shell, the S3 gateway endpoint") : 0;
}

int vpce_apply(struct paas *p, const struct shell_world *w, struct vpce *v, struct diff *d,
               struct err *e)
{
    const char *add[SHELL_Z], *del[EC2_MAX_ENDPOINT_RTBS];
    size_t n_add, n_del;
    struct aws_batch b;
    int rc;
    if (!v->have)
        return vpce_create(p, w, v, d, e);
    if (!vpce_rtb_diff(w, &v->ep, add, &n_add, del, &n_del))
        return 0;
    aws_batch_init(&b);
    ec2_modify_endpoint_rtbs(&b, v->ep.id, add, n_add, del, n_del);
    rc = aws_batch_run(&p->aws, &b, e);
    aws_batch_release(&b);
    return rc < 0 ? err_wrap(e, "up shell, the S3 gateway endpoint's route tables") : 0;
}

int vpce_teardown_decide(struct paas *p, struct vpce *v, struct diff *d, struct err *e)
{
    char name[128];
    if (vpce_find(p, NULL, v, e) < 0)
        return -1;
    snprintf(name, sizeof(name), "%s-shell-%s", p->cfg.name, VPCE_ROLE);
    for (size_t i = 0; i < v->n_live; i++)
        diff_add(d, DIFF_DESTROY, "vpc-endpoint", name, v->live[i], "S3 gateway endpoint");
    return 0;
}

int vpce_teardown_apply(struct paas *p, const struct vpce *v, struct err *e)
{
    struct aws_batch b;
    int rc;
    if (!v->n_live)
        return 0;
    aws_batch_init(&b);
    for (size_t i = 0; i < v->n_live; i++)
        ec2_delete(&b, "DeleteVpcEndpoints", "VpcEndpointId.1", v->live[i]);
    rc = aws_batch_run(&p->aws, &b, e);
    aws_batch_release(&b);
    return rc < 0 ? err_wrap(e, "teardown, the S3 gateway endpoint") : 0;
}
