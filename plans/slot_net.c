/* A slot's security groups and its stale public records (see slot_net.h). */
#include "plans/slot_net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/batch.h"
#include "core/util.h"
#include "plans/tags.h"

static const char *const slot_sg_role[SLOT_N_SG] = { "sg-node", "sg-master", "sg-api" };

/* The API balancer's group only for master_count = 3 (SPEC.md "Clusters"). */
static int slot_net_wanted(const struct paas *p, const char *slot, int g)
{
    int i = config_slot_index(slot);
    return g != SLOT_SG_API || (i >= 0 && p->cfg.cluster[i].master_count == 3);
}

/* kubeadm's ports (kubernetes.io "Ports and Protocols") and flannel's VXLAN. */
#define PORT_API 6443
#define PORT_KUBELET 10250
#define PORT_ETCD_FROM 2379
#define PORT_ETCD_TO 2380
#define PORT_VXLAN 8472
#define PORT_SSH 22
#define PORT_AUTH 443     /* Keycloak on the auth server (bootstrap.sh setup_auth) */

static size_t slot_net_add(struct ec2_perm *out, size_t n, const char *proto,
                           int from, int to, const char *group)
{
    for (size_t i = 0; i < n; i++)
        if (out[i].from == from && out[i].to == to && strcmp(out[i].proto, proto) == 0 &&
            strcmp(out[i].group_id, group) == 0)
            return n;
    if (n >= SLOT_NET_MAX_RULES || !group[0])
        return n;
    memset(&out[n], 0, sizeof(out[n]));
    snprintf(out[n].proto, sizeof(out[n].proto), "%s", proto);
    out[n].from = from;
    out[n].to = to;
    snprintf(out[n].group_id, sizeof(out[n].group_id), "%s", group);
    return n + 1;
}

/* The port in "HTTP:80/healthz", or 0. */
static int slot_net_health_port(const char *target)
{
    const char *colon = strchr(target, ':');
    return colon ? util_leading_int(colon + 1, 0) : 0;
}

size_t slot_net_rules(const struct paas *p, const struct shell_world *w,
                      const struct slot_net *n, enum slot_sg g,
                      struct ec2_perm *out)
{
    const char *self = n->sg[g].id, *bastion = w->sg[SG_BASTION].id,
               *elb = w->sg[SG_ELB].id;
    size_t k = 0;
    int hp = slot_net_health_port(p->cfg.health_target);
    if (g == SLOT_SG_MASTER) {  /* etcd peers and clients: masters only */
        k = slot_net_add(out, 0, "tcp", PORT_ETCD_FROM, PORT_ETCD_TO, self);
        /* the API balancer's health checks and traffic (unset unless wanted) */
        return slot_net_add(out, k, "tcp", PORT_API, PORT_API, n->sg[SLOT_SG_API].id);
    }
    if (g == SLOT_SG_API) {     /* the slot's nodes and the bastion, no one else */
        k = slot_net_add(out, 0, "tcp", PORT_API, PORT_API, n->sg[SLOT_SG_NODE].id);
        return slot_net_add(out, k, "tcp", PORT_API, PORT_API, bastion);
    }
    k = slot_net_add(out, k, "tcp", PORT_SSH, PORT_SSH, bastion);
    k = slot_net_add(out, k, "tcp", PORT_API, PORT_API, bastion);
    k = slot_net_add(out, k, "tcp", PORT_API, PORT_API, self);
    k = slot_net_add(out, k, "tcp", PORT_KUBELET, PORT_KUBELET, self);
    k = slot_net_add(out, k, "udp", PORT_VXLAN, PORT_VXLAN, self);
    /* The API servers fetch Keycloak's keys; users reach it through the bastion. */
    k = slot_net_add(out, k, "tcp", PORT_AUTH, PORT_AUTH, self);
    k = slot_net_add(out, k, "tcp", PORT_AUTH, PORT_AUTH, bastion);
    for (int i = 0; i < p->cfg.n_listeners; i++)
        k = slot_net_add(out, k, "tcp", p->cfg.listeners[i].instance_port,
                         p->cfg.listeners[i].instance_port, elb);
    if (hp > 0)
        k = slot_net_add(out, k, "tcp", hp, hp, elb);
    return k;
}

static int slot_net_perm_eq(const struct ec2_perm *a, const struct ec2_perm *b)
{
    return strcmp(a->proto, b->proto) == 0 && a->from == b->from && a->to == b->to &&
           strcmp(a->cidr, b->cidr) == 0 && strcmp(a->group_id, b->group_id) == 0;
}

/* The wanted rules of g that the group does not have yet. */
static size_t slot_net_missing(const struct paas *p, const struct shell_world *w,
                               const struct slot_net *n, enum slot_sg g,
                               struct ec2_perm *out)
{
    struct ec2_perm want[SLOT_NET_MAX_RULES];
    size_t k = slot_net_rules(p, w, n, g, want), m = 0;
    for (size_t i = 0; i < k; i++) {
        int found = 0;
        for (size_t j = 0; n->have_sg[g] && j < n->sg[g].n_perms && !found; j++)
            found = slot_net_perm_eq(&want[i], &n->sg[g].perms[j]);
        if (!found)
            out[m++] = want[i];
    }
    return m;
}

static int slot_net_read_groups(struct paas *p, const char *slot, const char *vpc,
                                struct slot_net *n, struct err *e)
{
    struct ec2_filter f[] = {
        { "tag:" TAG_PAAS, { p->cfg.name, NULL } },
        { "tag:" TAG_SLOT, { slot, NULL } },
        { "vpc-id", { vpc, NULL } },
    };
    struct ec2_security_group *g;
    size_t ng;
    if (ec2_describe_security_groups(&p->aws, f, vpc ? 3 : 2, &g, &ng, e) < 0)
        return err_wrap(e, "security groups of slot %s", slot);
    for (size_t i = 0; i < ng; i++)
        for (int k = 0; k < SLOT_N_SG; k++) {
            if (strcmp(g[i].tags.role, slot_sg_role[k]) != 0)
                continue;
            if (n->have_sg[k] && !n->dup[0])
                snprintf(n->dup, sizeof(n->dup), "two security groups of slot %s for "
                         "one role tagged for this paas: %s and %s", slot, n->sg[k].id,
                         g[i].id);
            if (n->have_sg[k])
                continue;
            n->have_sg[k] = 1;
            n->sg[k] = g[i];
        }
    free(g);
    return 0;
}

/* api.SLOT.DNS_ZONE. and auth.SLOT.DNS_ZONE. in the public zone: where an
 * older paasctl put them. */
static int slot_net_read_stale(struct paas *p, const char *slot, const char *zone_id,
                               struct slot_net *n, struct err *e)
{
    static const char *const hosts[2] = { "api", "auth" };
    struct r53_record *all;
    size_t nr, len = strlen(p->cfg.dns_zone);
    snprintf(n->public_zone_id, sizeof(n->public_zone_id), "%s", zone_id);
    if (r53_list_records(&p->aws, zone_id, &all, &nr, e) < 0)
        return err_wrap(e, "records of %s", p->cfg.dns_zone);
    for (size_t i = 0; i < nr; i++)
        for (int h = 0; h < 2 && n->n_stale < 2; h++) {
            char name[300];
            snprintf(name, sizeof(name), "%s.%s.%.*s.", hosts[h], slot,
                     (int)(len && p->cfg.dns_zone[len - 1] == '.' ? len - 1 : len),
                     p->cfg.dns_zone);
            if (strcmp(all[i].name, name) == 0 && strcmp(all[i].type, "A") == 0)
                n->stale[n->n_stale++] = all[i];
        }
    free(all);
    return 0;
}

int slot_net_read(struct paas *p, const char *slot, const struct shell_world *w,
                  struct slot_net *n, struct err *e)
{
    memset(n, 0, sizeof(*n));
    if (w->have_vpc && slot_net_read_groups(p, slot, w->vpc.id, n, e) < 0)
        return -1;
    return w->have_zone ? slot_net_read_stale(p, slot, w->zone.id, n, e) : 0;
}

static void slot_net_decide_stale(const struct slot_net *n, struct diff *d)
{
    for (size_t i = 0; i < n->n_stale; i++)
        diff_add(d, DIFF_DESTROY, "dns-record", n->stale[i].name, NULL,
                 "A %s in the public zone: private addresses are not published",
                 n->stale[i].n_values ? n->stale[i].values[0] : "");
}

void slot_net_decide(struct paas *p, const char *slot, const struct shell_world *w,
                     struct slot_net *n, struct diff *d)
{
    for (int g = 0; g < SLOT_N_SG; g++) {
        struct ec2_perm want[SLOT_NET_MAX_RULES];
        char name[128];
        if (!slot_net_wanted(p, slot, g))
            continue;
        snprintf(name, sizeof(name), "%s-%s-%s", p->cfg.name, slot, slot_sg_role[g]);
        n->todo_sg[g] = !n->have_sg[g];
        /* the masters' rule from a balancer group still to create counts */
        n->todo_rules[g] = n->todo_sg[g] ||
                           slot_net_missing(p, w, n, (enum slot_sg)g, want) > 0 ||
                           (g == SLOT_SG_MASTER && slot_net_wanted(p, slot, SLOT_SG_API) &&
                            !n->have_sg[SLOT_SG_API]);
        n->d_sg[g] = diff_add(d, n->todo_sg[g] ? DIFF_CREATE : n->todo_rules[g] ? DIFF_UPDATE
                              : DIFF_EXISTS, "security-group", name, n->sg[g].id,
                              "%s of slot %s%s", g == SLOT_SG_MASTER ? "masters" :
                              g == SLOT_SG_API ? "the API load balancer" : "every instance",
                              slot, !n->todo_sg[g] && n->todo_rules[g] ?
                              "; add the missing rules" : "");
    }
    slot_net_decide_stale(n, d);
}

static int slot_net_drop_stale(struct paas *p, struct slot_net *n, struct err *e)
{
    struct r53_change ch[2];
    for (size_t i = 0; i < n->n_stale; i++)
        ch[i] = (struct r53_change){ "DELETE", &n->stale[i] };
    if (n->n_stale && r53_change(&p->aws, n->public_zone_id, ch, n->n_stale, e) < 0)
        return err_wrap(e, "removing the slot's records from the public zone");
    n->n_stale = 0;
    return 0;
}

int slot_net_apply(struct paas *p, const char *slot, const struct shell_world *w,
                   struct slot_net *n, struct diff *d, struct err *e)
{
    struct aws_batch b;
    aws_batch_init(&b);
    for (int g = 0; g < SLOT_N_SG; g++) {
        struct res_tags rt;
        if (!n->todo_sg[g])
            continue;
        res_tags_init(&rt, p->cfg.name, slot, slot_sg_role[g], NULL, "%s", slot_sg_role[g]);
        ec2_create_security_group(&b, w->vpc.id, rt.name, rt.name, rt.t, rt.n)->ref = g;
    }
    if (aws_batch_run(&p->aws, &b, e) < 0) {
        aws_batch_release(&b);
        return err_wrap(e, "creating the security groups of slot %s", slot);
    }
    for (size_t i = 0; i < b.n; i++) {
        int g = b.items[i].ref;
        n->have_sg[g] = 1;
        snprintf(n->sg[g].id, sizeof(n->sg[g].id), "%.31s", b.items[i].id);
        diff_set_id(d, n->d_sg[g], b.items[i].id);
    }
    aws_batch_release(&b);
    aws_batch_init(&b);
    for (int g = 0; g < SLOT_N_SG; g++) {
        struct ec2_perm add[SLOT_NET_MAX_RULES];
        size_t k = n->todo_rules[g] && slot_net_wanted(p, slot, g)
                   ? slot_net_missing(p, w, n, (enum slot_sg)g, add) : 0;
        if (k)
            ec2_authorize_ingress(&b, n->sg[g].id, add, k);
    }
    if (aws_batch_run(&p->aws, &b, e) < 0) {
        aws_batch_release(&b);
        return err_wrap(e, "setting the rules of slot %s's security groups", slot);
    }
    aws_batch_release(&b);
    return slot_net_drop_stale(p, n, e);
}

int slot_net_teardown_read(struct paas *p, const char *slot, struct slot_net *n,
                           struct err *e)
{
    struct r53_zone z;
    int found;
    memset(n, 0, sizeof(*n));
    if (slot_net_read_groups(p, slot, NULL, n, e) < 0)
        return -1;
    for (int g = 0; g < SLOT_N_SG; g++)
        if (n->have_sg[g])
            n->gone[n->n_gone++] = n->sg[g];
    if (r53_find_zone(&p->aws, p->cfg.dns_zone, &z, &found, e) < 0)
        return -1;
    return found ? slot_net_read_stale(p, slot, z.id, n, e) : 0;
}

void slot_net_teardown_decide(const struct slot_net *n, struct diff *d)
{
    for (size_t i = 0; i < n->n_gone; i++)
        diff_add(d, DIFF_DESTROY, "security-group", n->gone[i].name, n->gone[i].id,
                 "the slot's %s", n->gone[i].tags.role);
    slot_net_decide_stale(n, d);
}

int slot_net_teardown_records(struct paas *p, struct slot_net *n, struct err *e)
{
    return slot_net_drop_stale(p, n, e);
}
