/* The slot's API endpoint: the internal API load balancer of an HA control
 * plane and the api record that names it (see slot_api.h; SPEC.md
 * "Clusters"). */
#include "plans/slot_api.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "aws/batch.h"
#include "plans/elb_members.h"
#include "plans/tags.h"

/* TCP, not SSL: the balancer passes TLS through to the API servers, whose
 * certificates name api.SLOT.k8s.DNS_ZONE; a TCP check fails as soon as an
 * API server stops listening (kubeadm's HA guide asks no more). */
#define SLOT_API_HEALTH "TCP:6443"
#define SLOT_API_INTERVAL 10
#define SLOT_API_TIMEOUT 5
#define SLOT_API_HEALTHY 2
#define SLOT_API_UNHEALTHY 2

void slot_api_release(struct slot_api *a)
{
    elb_lb_release(&a->lb);
}

int slot_api_wanted(const struct paas *p, const char *slot)
{
    int i = config_slot_index(slot);
    return i >= 0 && p->cfg.cluster[i].master_count == 3;
}

void slot_api_name(const struct paas *p, const char *slot, char *out, size_t size)
{
    snprintf(out, size, "%s-%s-api", p->cfg.name, slot);
}

static int slot_api_describe(struct paas *p, const char *slot, struct slot_api *a,
                             struct err *e)
{
    const char *names[1] = { a->name };
    slot_api_name(p, slot, a->name, sizeof(a->name));
    if (elb_describe(&p->aws, names, 1, &a->lb, &a->have, e) < 0)
        return err_wrap(e, "API load balancer %s", a->name);
    return 0;
}

int slot_api_read(struct paas *p, const char *slot, struct slot_api *a,
                  struct err *e)
{
    memset(a, 0, sizeof(*a));
    slot_api_name(p, slot, a->name, sizeof(a->name));
    a->want = slot_api_wanted(p, slot);
    return a->want ? slot_api_describe(p, slot, a, e) : 0;
}

int slot_api_refuse_change(const char *slot,
                           const struct slot_api *a, const struct r53_record *api_rec,
                           size_t masters_alive, int apply, struct diff *d,
                           struct err *e)
{
    /* The balancer is made before any master launches: alive masters
     * without it were launched for master_count = 1. */
    int built = api_rec ? (api_rec->alias_dns[0] ? 3 : 1) : a->want && !a->have ? 1 : 0;
    int want = a->want ? 3 : 1;
    char why[1024];
    if (masters_alive == 0 || built == 0 || built == want)
        return 0;
    snprintf(why, sizeof(why), "slot %s runs a control plane of %d master%s (%s is %s) and "
             "[cluster %s] master_count = %d: a running control plane is not converted in "
             "place (etcd membership and the API endpoint would change under the cluster). "
             "Bring the new layout up in the other slot and cut over (the A/B way), or tear "
             "slot %s down first", slot, built, built == 1 ? "" : "s",
             api_rec ? api_rec->name : "its api record",
             built == 3 ? "an alias of its API load balancer" : !api_rec ? "not an alias of "
             "an API load balancer" : "an A record of its master",
             slot, want, slot);
    if (apply)
        return err_set(e, ERR_REFUSED, "%s", why);
    snprintf(d->note, sizeof(d->note), "%.400s: 'paasctl up %s' will refuse", why, slot);
    return 0;
}

void slot_api_vars(const struct paas *p, const struct cluster_config *cc,
                   struct bootstrap_vars *v)
{
    bootstrap_var(v, "MASTER_COUNT", cc->master_count == 3 ? "3" : "1");
    bootstrap_var(v, "INIT_ZONE", p->cfg.zones[0]);
}

static int slot_api_listener_ok(const struct elb_lb *lb)
{
    for (size_t i = 0; i < lb->n_listeners; i++)
        if (lb->listeners[i].lb_port == SLOT_API_PORT &&
            lb->listeners[i].instance_port == SLOT_API_PORT)
            return 1;
    return 0;
}

void slot_api_decide(const struct shell_world *w, struct slot_api *a, struct diff *d)
{
    int listener_ok;
    if (!a->want)
        return;
    a->todo_create = !a->have;
    listener_ok = a->have && slot_api_listener_ok(&a->lb);
    a->todo_health = !a->have || strcmp(a->lb.health.target, SLOT_API_HEALTH) != 0;
    if (a->have && !listener_ok)   /* a hand-edited balancer: say so, not guess */
        snprintf(d->note, sizeof(d->note), "%s has no 6443 -> 6443 listener: delete "
                 "it and run 'paasctl up' again to make it anew", a->name);
    a->d_lb = diff_add(d, a->todo_create ? DIFF_CREATE : a->todo_health ? DIFF_UPDATE
                       : DIFF_EXISTS, "elb", a->name, NULL,
                       "internal, TCP %d -> %d, health %s, in %d private subnet(s)%s",
                       SLOT_API_PORT, SLOT_API_PORT, SLOT_API_HEALTH, w->nz,
                       !a->todo_create && a->todo_health ? "; set the health check" : "");
}

void slot_api_decide_members(struct slot_api *a,
                             const char *const *kept, size_t n_kept, int n_launch,
                             struct diff *d)
{
    size_t missing = (size_t)n_launch;
    if (!a->want)
        return;
    for (size_t i = 0; i < n_kept; i++)
        missing += !a->have || !elb_lb_has(&a->lb, kept[i]);
    /* members that are no masters any more (terminated, extras) leave too */
    a->todo_members = missing > 0 || (a->have && a->lb.n_instances > n_kept);
    diff_add(d, a->todo_members ? DIFF_UPDATE : DIFF_EXISTS, "elb-members", a->name, NULL,
             "%zu master(s)%s", n_kept + (size_t)n_launch,
             a->todo_members ? "; register the missing ones" : "");
}

void slot_api_record(const struct slot_api *a, const char *name, struct r53_record *out)
{
    char copy[sizeof(out->name)];
    snprintf(copy, sizeof(copy), "%s", name);   /* name may be out->name */
    memset(out, 0, sizeof(*out));
    snprintf(out->name, sizeof(out->name), "%s", copy);
    snprintf(out->type, sizeof(out->type), "A");
    snprintf(out->alias_dns, sizeof(out->alias_dns), "%s", a->lb.dns_name);
    snprintf(out->alias_zone_id, sizeof(out->alias_zone_id), "%s", a->lb.canonical_zone_id);
}

/* Route53 answers alias DNS names with a final dot and may change their
 * case ("dualstack." prefixes are only for public ELBs we do not alias). */
static int slot_api_same_dns(const char *x, const char *y)
{
    size_t nx = strlen(x), ny = strlen(y);
    nx -= nx && x[nx - 1] == '.';
    ny -= ny && y[ny - 1] == '.';
    return nx == ny && strncasecmp(x, y, nx) == 0;
}

int slot_api_record_ok(const struct slot_api *a, const struct r53_record *have)
{
    return have && a->have && have->alias_dns[0] &&
           slot_api_same_dns(have->alias_dns, a->lb.dns_name) &&
           strcmp(have->alias_zone_id, a->lb.canonical_zone_id) == 0;
}

void slot_api_record_detail(const struct slot_api *a, char *out, size_t size)
{
    snprintf(out, size, "ALIAS %s (the internal API load balancer %s)",
             a->have && a->lb.dns_name[0] ? a->lb.dns_name : "-", a->name);
}

static int slot_api_create(struct paas *p, const char *slot, const struct shell_world *w,
                           const char *sg, struct slot_api *a, struct err *e)
{
    /* TCP both sides: TLS passes through to the API servers. */
    struct elb_listener lis = { .lb_port = SLOT_API_PORT, .instance_port = SLOT_API_PORT,
                                .protocol = "TCP", .instance_protocol = "TCP" };
    const char *subnets[SHELL_Z];
    struct res_tags rt;
    struct elb_tag tags[5];
    struct elb_spec s;
    struct aws_batch b;
    int rc;
    for (int z = 0; z < w->nz; z++)
        subnets[z] = w->priv[z].id;
    res_tags_init(&rt, p->cfg.name, slot, "elb-api", NULL, "api");
    res_tags_elb(&rt, tags);
    s = (struct elb_spec){ .name = a->name, .listeners = &lis, .n_listeners = 1,
                           .subnets = subnets, .n_subnets = (size_t)w->nz,
                           .security_group = sg, .tags = tags, .n_tags = rt.n,
                           .scheme = "internal" };
    aws_batch_init(&b);
    elb_create(&b, &s);
    rc = aws_batch_run(&p->aws, &b, e);
    aws_batch_release(&b);
    return rc < 0 ? err_wrap(e, "creating the API load balancer %s", a->name) : 0;
}

static int slot_api_health(struct paas *p, struct slot_api *a, struct err *e)
{
    struct elb_health_check h = { SLOT_API_HEALTH, SLOT_API_INTERVAL, SLOT_API_TIMEOUT,
                                  SLOT_API_HEALTHY, SLOT_API_UNHEALTHY };
    /* Cross-zone: with 2 zones the masters are spread 2+1. */
    struct elb_attrs at = { .cross_zone = 1 };
    struct aws_batch b;
    int rc;
    aws_batch_init(&b);
    elb_configure_health_check(&b, a->name, &h);
    elb_modify_attrs(&b, a->name, &at);
    rc = aws_batch_run(&p->aws, &b, e);
    aws_batch_release(&b);
    return rc < 0 ? err_wrap(e, "the health check of %s", a->name) : 0;
}

int slot_api_apply_lb(struct paas *p, const char *slot, const struct shell_world *w,
                      const char *sg, struct slot_api *a, struct diff *d,
                      struct err *e)
{
    if (!a->want || (!a->todo_create && !a->todo_health))
        return 0;
    if (a->todo_create && slot_api_create(p, slot, w, sg, a, e) < 0)
        return -1;
    if (slot_api_health(p, a, e) < 0)
        return -1;
    elb_lb_release(&a->lb);
    if (slot_api_describe(p, slot, a, e) < 0)
        return -1;
    if (!a->have)
        return err_set(e, ERR_FAILED, "the API load balancer %s was created but is not "
                       "listed yet; run 'paasctl up %s' again", a->name, slot);
    /* AWS always answers it; without it no alias record can be made. */
    if (!a->lb.canonical_zone_id[0])
        return err_set(e, ERR_FAILED, "DescribeLoadBalancers gave no "
                       "CanonicalHostedZoneNameID for %s: api.%s cannot be made an alias "
                       "of it", a->name, slot);
    diff_set_id(d, a->d_lb, a->lb.dns_name);
    return 0;
}

int slot_api_apply_members(struct paas *p, struct slot_api *a,
                           const char *const *masters, size_t n, struct err *e)
{
    if (!a->want || !a->have)
        return 0;
    if (elb_members_apply(p, &a->lb, ELB_MEMBERS_EXACTLY, masters, n, e) < 0)
        return err_wrap(e, "registering the masters with %s", a->name);
    return 0;
}

int slot_api_teardown_read(struct paas *p, const char *slot, struct slot_api *a,
                           struct err *e)
{
    memset(a, 0, sizeof(*a));
    return slot_api_describe(p, slot, a, e);
}

void slot_api_teardown_decide(const struct slot_api *a, struct diff *d)
{
    if (a->have)
        diff_add(d, DIFF_DESTROY, "elb", a->name, NULL, "the slot's internal API load "
                 "balancer (%zu member(s))", a->lb.n_instances);
}

int slot_api_teardown_apply(struct paas *p, const struct slot_api *a, struct err *e)
{
    if (a->have && elb_delete(&p->aws, a->name, e) < 0)
        return err_wrap(e, "teardown, deleting load balancer %s", a->name);
    return 0;
}
