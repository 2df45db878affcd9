/* `up shell` / `plan shell` (see shell.h; SPEC.md "What it does"). Three
 * steps: read what exists by tags, decide one diff entry per resource, and
 * (up only) apply in four rounds of parallel calls, each round holding what
 * only needs the rounds before it:
 *   A  VPC, internet gateway, elastic IPs (+ hosted zone, state bucket)
 *   B  subnets, security groups, route tables, IGW attachment, DNS hostnames
 *   C  NAT gateways, rules, route-table associations, public route, ELBs,
 *      bastion
 *   D  (NAT gateways available) private routes, ELB health check and
 *      attributes. */
#include "plans/shell.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aws/batch.h"
#include "aws/s3.h"
#include "core/util.h"
#include "plans/elb_listeners.h"
#include "plans/slot.h"
#include "plans/private_zone.h"
#include "plans/public_dns.h"
#include "plans/shell_endpoint.h"
#include "plans/tags.h"
#include "run/wait.h"

#define SHELL_MAX_RULES (2 * CONFIG_MAX_LISTENERS + 2)

const char *shell_sg_role(enum shell_sg g)
{
    static const char *const roles[SHELL_N_SG] = { "sg-bastion", "sg-elb", "sg-node" };
    return roles[g];
}

static const char *shell_lb_name(const struct paas *p, enum shell_lb l)
{
    return l == LB_LIVE ? p->cfg.live_name : p->cfg.prelive_name;
}

void shell_world_release(struct shell_world *w)
{
    for (int l = 0; l < SHELL_N_LB; l++)
        elb_lb_release(&w->lb[l]);
    free(w->bastions_seen);
    memset(w, 0, sizeof(*w));
}

/* ---- reading ------------------------------------------------------------- */

int shell_zone_index(const struct config *cfg, const char *az)
{
    for (int z = 0; z < cfg->n_zones; z++)
        if (strcmp(cfg->zones[z], az) == 0)
            return z;
    return -1;
}

int shell_name_zone(const struct paas *p, const struct ec2_tags *t, const char *what)
{
    for (int z = 0; z < p->cfg.n_zones; z++) {
        char want[128];
        snprintf(want, sizeof(want), "%s-shell-%s-%d", p->cfg.name, what, z + 1);
        if (strcmp(t->name, want) == 0)
            return z;
    }
    return -1;
}

/* Keeps the first duplicate seen: what is kept and what else is there. */
static void shell_dup(struct shell_world *w, const char *what, const char *kept,
                      const char *other)
{
    if (!w->dup[0])
        snprintf(w->dup, sizeof(w->dup), "two %s tagged for this paas: %s and %s",
                 what, kept, other);
}

int shell_find_vpc(struct paas *p, struct ec2_vpc *out, int *found,
                   char dup[32], struct err *e)
{
    struct ec2_filter f[] = {
        { "tag:" TAG_PAAS, { p->cfg.name, NULL } },
        { "tag:" TAG_ROLE, { "vpc", NULL } },
    };
    struct ec2_vpc *v;
    size_t n;
    if (ec2_describe_vpcs(&p->aws, f, 2, &v, &n, e) < 0)
        return -1;
    *found = n > 0;
    if (n > 0)
        *out = v[0];
    if (dup)
        snprintf(dup, 32, "%s", n > 1 ? v[1].id : "");
    free(v);
    return 0;
}

static int shell_read_vpc(struct paas *p, struct shell_world *w,
                          enum shell_read_what what, struct err *e)
{
    char other[32];
    if (shell_find_vpc(p, &w->vpc, &w->have_vpc, other, e) < 0)
        return -1;
    if (other[0])
        shell_dup(w, "VPCs", w->vpc.id, other);
    if (w->have_vpc && what == SHELL_READ_ALL)
        return ec2_vpc_dns_hostnames(&p->aws, w->vpc.id, &w->dns_hostnames, e);
    return 0;
}

static int shell_read_subnets(struct paas *p, struct shell_world *w,
                              struct err *e)
{
    struct ec2_filter f[] = {
        { "tag:" TAG_PAAS, { p->cfg.name, NULL } },
        { "vpc-id", { w->vpc.id, NULL } },
    };
    struct ec2_subnet *s;
    size_t n;
    if (ec2_describe_subnets(&p->aws, f, 2, &s, &n, e) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int z = shell_zone_index(&p->cfg, s[i].az);
        int pub = strcmp(s[i].tags.role, "subnet-public") == 0;
        int priv = strcmp(s[i].tags.role, "subnet-private") == 0;
        if (z < 0 || (!pub && !priv))
            continue;
        if (pub && w->have_pub[z]) {
            shell_dup(w, "public subnets in one zone", w->pub[z].id, s[i].id);
        } else if (pub) {
            w->have_pub[z] = 1;
            w->pub[z] = s[i];
        } else if (w->have_priv[z]) {
            shell_dup(w, "private subnets in one zone", w->priv[z].id, s[i].id);
        } else {
            w->have_priv[z] = 1;
            w->priv[z] = s[i];
        }
    }
    free(s);
    return 0;
}

static int shell_read_igw(struct paas *p, struct shell_world *w, struct err *e)
{
    struct ec2_filter f[] = {
        { "tag:" TAG_PAAS, { p->cfg.name, NULL } },
        { "tag:" TAG_ROLE, { "igw", NULL } },
    };
    struct ec2_igw *g;
    size_t n;
    if (ec2_describe_igws(&p->aws, f, 2, &g, &n, e) < 0)
        return -1;
    if (n > 0) {
        w->have_igw = 1;
        w->igw = g[0];
    }
    if (n > 1)
        shell_dup(w, "internet gateways", g[0].id, g[1].id);
    free(g);
    return 0;
}

static int shell_read_eips(struct paas *p, struct shell_world *w, struct err *e)
{
    struct ec2_filter f[] = {
        { "tag:" TAG_PAAS, { p->cfg.name, NULL } },
        { "tag:" TAG_ROLE, { "eip", NULL } },
    };
    struct ec2_address *a;
    size_t n;
    if (ec2_describe_addresses(&p->aws, f, 2, &a, &n, e) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int z = shell_name_zone(p, &a[i].tags, "eip");
        if (z >= 0 && w->have_eip[z])
            shell_dup(w, "addresses for one NAT gateway", w->eip[z].allocation_id,
                      a[i].allocation_id);
        else if (z >= 0) {
            w->have_eip[z] = 1;
            w->eip[z] = a[i];
        }
    }
    free(a);
    return 0;
}

static int shell_read_nats(struct paas *p, struct shell_world *w, struct err *e)
{
    /* Deleted gateways stay visible for an hour; failed ones are replaced. */
    struct ec2_filter f[] = {
        { "tag:" TAG_PAAS, { p->cfg.name, NULL } },
        { "state", { "pending", "available", NULL } },
    };
    struct ec2_nat *g;
    size_t n;
    if (ec2_describe_nat_gateways(&p->aws, f, 2, &g, &n, e) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int z = shell_name_zone(p, &g[i].tags, "nat");
        if (z >= 0 && !w->have_nat[z]) {
            w->have_nat[z] = 1;
            w->nat[z] = g[i];
        }
    }
    free(g);
    return 0;
}

static int shell_read_rtbs(struct paas *p, struct shell_world *w, struct err *e)
{
    struct ec2_filter f[] = {
        { "tag:" TAG_PAAS, { p->cfg.name, NULL } },
        { "vpc-id", { w->vpc.id, NULL } },
    };
    struct ec2_route_table *t;
    size_t n;
    char pub[128];
    if (ec2_describe_route_tables(&p->aws, f, 2, &t, &n, e) < 0)
        return -1;
    snprintf(pub, sizeof(pub), "%s-shell-rtb-public", p->cfg.name);
    for (size_t i = 0; i < n; i++) {
        int z = shell_name_zone(p, &t[i].tags, "rtb-private");
        if (strcmp(t[i].tags.name, pub) == 0 && w->have_rtb_pub) {
            shell_dup(w, "public route tables", w->rtb_pub.id, t[i].id);
        } else if (strcmp(t[i].tags.name, pub) == 0) {
            w->have_rtb_pub = 1;
            w->rtb_pub = t[i];
        } else if (z >= 0 && w->have_rtb_priv[z]) {
            shell_dup(w, "private route tables for one zone", w->rtb_priv[z].id, t[i].id);
        } else if (z >= 0) {
            w->have_rtb_priv[z] = 1;
            w->rtb_priv[z] = t[i];
        }
    }
    free(t);
    return 0;
}

static int shell_read_sgs(struct paas *p, struct shell_world *w, struct err *e)
{
    struct ec2_filter f[] = {
        { "tag:" TAG_PAAS, { p->cfg.name, NULL } },
        { "tag:" TAG_SLOT, { "shell", NULL } },
        { "vpc-id", { w->vpc.id, NULL } },
    };
    struct ec2_security_group *g;
    size_t n;
    if (ec2_describe_security_groups(&p->aws, f, 3, &g, &n, e) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < SHELL_N_SG; k++) {
            if (strcmp(g[i].tags.role, shell_sg_role((enum shell_sg)k)) != 0)
                continue;
            if (w->have_sg[k]) {
                shell_dup(w, "security groups for one role", w->sg[k].id, g[i].id);
                continue;
            }
            w->have_sg[k] = 1;
            w->sg[k] = g[i];
        }
    free(g);
    return 0;
}

static int shell_instance_alive(const struct ec2_instance *i)
{
    return strcmp(i->state, "terminated") != 0 &&
           strcmp(i->state, "shutting-down") != 0;
}

static int shell_read_bastion(struct paas *p, struct shell_world *w,
                              struct err *e)
{
    /* No state filter: terminated bastions feed the ClientToken. */
    struct ec2_filter f[] = {
        { "tag:" TAG_PAAS, { p->cfg.name, NULL } },
        { "tag:" TAG_ROLE, { "bastion", NULL } },
    };
    if (ec2_describe_instances(&p->aws, f, 2, &w->bastions_seen,
                               &w->n_bastions_seen, e) < 0)
        return -1;
    for (size_t i = 0; i < w->n_bastions_seen; i++)
        if (shell_instance_alive(&w->bastions_seen[i]) && !w->have_bastion) {
            w->have_bastion = 1;
            w->bastion = w->bastions_seen[i];
        }
    return 0;
}

static int shell_read_lbs(struct paas *p, struct shell_world *w,
                          enum shell_read_what what, struct err *e)
{
    const char *names[SHELL_N_LB] = { p->cfg.live_name, p->cfg.prelive_name };
    if (elb_describe(&p->aws, names, SHELL_N_LB, w->lb, w->have_lb, e) < 0)
        return -1;
    for (int l = 0; what == SHELL_READ_ALL && l < SHELL_N_LB; l++)
        if (w->have_lb[l] && elb_describe_attrs(&p->aws, names[l], &w->attrs[l], e) < 0)
            return -1;
    return 0;
}

static int shell_read_bucket(struct paas *p, struct shell_world *w,
                             struct err *e)
{
    if (s3_head_bucket(&p->aws, p->cfg.state_bucket, &w->have_bucket, e) < 0)
        return err_wrap(e, "state bucket %s", p->cfg.state_bucket);
    if (!w->have_bucket)
        return 0;
    return s3_get_bucket_tag(&p->aws, p->cfg.state_bucket, TAG_PAAS,
                             w->bucket_tag, sizeof(w->bucket_tag), e);
}

int shell_read(struct paas *p, enum shell_read_what what,
               struct shell_world *w, struct err *e)
{
    memset(w, 0, sizeof(*w));
    w->nz = p->cfg.n_zones;
    if (shell_read_vpc(p, w, what, e) < 0)
        return -1;
    if (w->have_vpc && (shell_read_subnets(p, w, e) < 0 || shell_read_sgs(p, w, e) < 0))
        return -1;
    if (shell_read_lbs(p, w, what, e) < 0 ||
        r53_find_zone(&p->aws, p->cfg.dns_zone, &w->zone, &w->have_zone, e) < 0)
        return -1;
    if (what == SHELL_READ_FOR_SLOT)
        return 0;
    /* The gateways and addresses are read even without a VPC: a teardown
     * cut short may have left them behind. */
    if (shell_read_igw(p, w, e) < 0 || shell_read_eips(p, w, e) < 0 ||
        shell_read_nats(p, w, e) < 0 || shell_read_bastion(p, w, e) < 0 ||
        shell_read_bucket(p, w, e) < 0)
        return -1;
    if (w->have_vpc && shell_read_rtbs(p, w, e) < 0)
        return -1;
    return 0;
}

int shell_refuse_duplicates(const char *dup, int apply, struct diff *d, struct err *e)
{
    if (!dup[0])
        return 0;
    if (apply)
        return err_set(e, ERR_REFUSED, "%s; delete the one that is not in use (or "
                       "untag it), then run this again", dup);
    snprintf(d->note, sizeof(d->note), "%s: 'paasctl up' will refuse until one is "
             "deleted or untagged", dup);
    return 0;
}

int shell_find_duplicates(struct paas *p, const struct ec2_vpc *vpc, const char *other_vpc,
                          char *out, size_t size, struct err *e)
{
    struct shell_world *w = calloc(1, sizeof(*w));
    int rc;
    if (!w)
        return err_set(e, ERR_FAILED, "out of memory");
    w->nz = p->cfg.n_zones;
    w->vpc = *vpc;
    w->have_vpc = 1;
    if (other_vpc[0])
        shell_dup(w, "VPCs", vpc->id, other_vpc);
    rc = shell_read_subnets(p, w, e) < 0 || shell_read_sgs(p, w, e) < 0 ? -1 : 0;
    snprintf(out, size, "%s", rc == 0 ? w->dup : "");
    shell_world_release(w);
    free(w);
    return rc;
}

/* ---- the state bucket ------------------------------------------------------- */

static int shell_tag_bucket(struct paas *p, const char *bucket,
                            const char *slot, struct err *e)
{
    struct s3_bucket_tag t[] = {
        { "Name", bucket }, { TAG_PAAS, p->cfg.name }, { TAG_SLOT, slot },
        { TAG_ROLE, "bucket" },
    };
    return s3_put_bucket_tags(&p->aws, bucket, t, 4, e);
}

int plan_state_bucket(struct paas *p, struct err *e)
{
    int exists, created;
    if (s3_head_bucket(&p->aws, p->cfg.state_bucket, &exists, e) < 0)
        return err_wrap(e, "state bucket %s", p->cfg.state_bucket);
    if (exists)
        return 0;
    /* CreateBucket takes no tags: the bucket is tagged right after, and
     * every `up shell` checks the tags (a crash in between is repaired). */
    if (s3_create_bucket(&p->aws, p->cfg.state_bucket, &created, e) < 0 ||
        shell_tag_bucket(p, p->cfg.state_bucket, "shell", e) < 0)
        return err_wrap(e, "creating the state bucket %s", p->cfg.state_bucket);
    log_info(&p->log, "created the state bucket %s", p->cfg.state_bucket);
    return 0;
}

int plan_up_prepare(struct paas *p, const char *target, struct err *e)
{
    int exists;
    if (p->dry_run)
        return 0;
    if (strcmp(target, "shell") == 0)
        return plan_state_bucket(p, e);
    if (slot_check_config(p, target, e) < 0 ||
        s3_head_bucket(&p->aws, p->cfg.state_bucket, &exists, e) < 0)
        return -1;
    if (!exists)
        return err_set(e, ERR_REFUSED, "slot %s needs the shell, and its state bucket %s "
                       "does not exist: run 'paasctl up shell' first", target,
                       p->cfg.state_bucket);
    return 0;
}

/* ---- deciding ------------------------------------------------------------------ */

/* What up must do, and the diff entry of each resource. */
struct shell_todo {
    int bucket, bucket_tags;
    int vpc, dns;
    int pub[SHELL_Z], priv[SHELL_Z];
    int igw, attach;
    int eip[SHELL_Z], nat[SHELL_Z];
    int rtb_pub, rtb_priv[SHELL_Z];
    int route_pub, route_priv[SHELL_Z];     /* 0 ok, 1 create, 2 replace */
    int assoc_pub[SHELL_Z], assoc_priv[SHELL_Z];
    int sg[SHELL_N_SG], rules[SHELL_N_SG];
    int bastion;
    int zone;
    int lb[SHELL_N_LB], lb_health[SHELL_N_LB], lb_attrs[SHELL_N_LB];
    int lb_listeners[SHELL_N_LB];
    struct lsn_policy lb_policy[SHELL_N_LB];    /* plans/elb_listeners.h */
    size_t d_vpc, d_pub[SHELL_Z], d_priv[SHELL_Z], d_igw, d_eip[SHELL_Z],
        d_nat[SHELL_Z], d_rtb_pub, d_rtb_priv[SHELL_Z], d_sg[SHELL_N_SG],
        d_bastion, d_zone, d_lb[SHELL_N_LB];
};

static enum diff_op shell_op(int create, int update)
{
    return create ? DIFF_CREATE : update ? DIFF_UPDATE : DIFF_EXISTS;
}

static void shell_decide_bucket(struct paas *p, struct shell_world *w,
                                struct shell_todo *t, struct diff *d)
{
    t->bucket = !w->have_bucket;
    t->bucket_tags = t->bucket || strcmp(w->bucket_tag, p->cfg.name) != 0;
    diff_add(d, shell_op(t->bucket, t->bucket_tags), "bucket", p->cfg.state_bucket,
             NULL, "state bucket (lock and journal)%s",
             !t->bucket && t->bucket_tags ? "; add its paasctl tags" : "");
}

static void shell_decide_vpc(struct paas *p, struct shell_world *w,
                             struct shell_todo *t, struct diff *d)
{
    char name[128];
    snprintf(name, sizeof(name), "%s-shell-vpc", p->cfg.name);
    t->vpc = !w->have_vpc;
    t->dns = t->vpc || !w->dns_hostnames;
    t->d_vpc = diff_add(d, shell_op(t->vpc, t->dns), "vpc", name, w->vpc.id,
                        "%s%s", p->cfg.vpc_cidr.text,
                        t->vpc ? ", DNS hostnames on" :
                        t->dns ? "; turn DNS hostnames on" : "");
}

static void shell_decide_subnets(struct paas *p, struct shell_world *w,
                                 struct shell_todo *t, struct diff *d)
{
    for (int z = 0; z < w->nz; z++) {
        char name[128];
        snprintf(name, sizeof(name), "%s-shell-public-%d", p->cfg.name, z + 1);
        t->pub[z] = !w->have_pub[z];
        t->d_pub[z] = diff_add(d, shell_op(t->pub[z], 0), "subnet", name,
                               w->pub[z].id, "public %s in %s",
                               p->cfg.public_subnets[z].text, p->cfg.zones[z]);
    }
    for (int z = 0; z < w->nz; z++) {
        char name[128];
        snprintf(name, sizeof(name), "%s-shell-private-%d", p->cfg.name, z + 1);
        t->priv[z] = !w->have_priv[z];
        t->d_priv[z] = diff_add(d, shell_op(t->priv[z], 0), "subnet", name,
                                w->priv[z].id, "private %s in %s",
                                p->cfg.private_subnets[z].text, p->cfg.zones[z]);
    }
}

static void shell_decide_gateways(struct paas *p, struct shell_world *w,
                                  struct shell_todo *t, struct diff *d)
{
    char name[128];
    snprintf(name, sizeof(name), "%s-shell-igw", p->cfg.name);
    t->igw = !w->have_igw;
    t->attach = t->igw || !w->have_vpc || strcmp(w->igw.attached_vpc, w->vpc.id) != 0;
    t->d_igw = diff_add(d, shell_op(t->igw, t->attach), "internet-gateway", name,
                        w->igw.id, "%s", t->igw || !t->attach ? "attached to the VPC"
                        : "attach to the VPC");
    for (int z = 0; z < w->nz; z++) {
        snprintf(name, sizeof(name), "%s-shell-eip-%d", p->cfg.name, z + 1);
        t->eip[z] = !w->have_eip[z];
        t->d_eip[z] = diff_add(d, shell_op(t->eip[z], 0), "elastic-ip", name,
                               w->eip[z].allocation_id, "%s",
                               w->have_eip[z] ? w->eip[z].public_ip : "for a NAT gateway");
    }
    for (int z = 0; z < w->nz; z++) {
        snprintf(name, sizeof(name), "%s-shell-nat-%d", p->cfg.name, z + 1);
        t->nat[z] = !w->have_nat[z];
        t->d_nat[z] = diff_add(d, shell_op(t->nat[z], 0), "nat-gateway", name,
                               w->nat[z].id, "in %s-shell-public-%d",
                               p->cfg.name, z + 1);
    }
}

/* The default route of a table: 0 as wanted, 1 missing, 2 other target. */
static int shell_route_state(const struct ec2_route_table *rt, const char *gw,
                             const char *nat)
{
    for (size_t i = 0; i < rt->n_routes; i++) {
        const struct ec2_route *r = &rt->routes[i];
        if (strcmp(r->dest, "0.0.0.0/0") != 0)
            continue;
        if ((gw && strcmp(r->gateway_id, gw) != 0) ||
            (nat && strcmp(r->nat_id, nat) != 0) ||
            strcmp(r->state, "blackhole") == 0)
            return 2;
        return 0;
    }
    return 1;
}

static int shell_rtb_has_assoc(const struct ec2_route_table *rt,
                               const char *subnet)
{
    for (size_t i = 0; i < rt->n_assocs; i++)
        if (subnet[0] && strcmp(rt->assocs[i].subnet_id, subnet) == 0)
            return 1;
    return 0;
}

static void shell_decide_rtb_pub(struct paas *p, struct shell_world *w,
                                 struct shell_todo *t, struct diff *d)
{
    char name[128];
    int assoc = 0;
    snprintf(name, sizeof(name), "%s-shell-rtb-public", p->cfg.name);
    t->rtb_pub = !w->have_rtb_pub;
    t->route_pub = t->rtb_pub || !w->have_igw ? 1
                   : shell_route_state(&w->rtb_pub, w->igw.id, NULL);
    for (int z = 0; z < w->nz; z++) {
        t->assoc_pub[z] = t->rtb_pub || !shell_rtb_has_assoc(&w->rtb_pub, w->pub[z].id);
        assoc += t->assoc_pub[z];
    }
    t->d_rtb_pub = diff_add(d, shell_op(t->rtb_pub, t->route_pub || assoc),
                            "route-table", name, w->rtb_pub.id,
                            "0.0.0.0/0 via the internet gateway%s; %d public subnet(s)%s",
                            t->route_pub && !t->rtb_pub ? " (set route)" : "", w->nz,
                            assoc && !t->rtb_pub ? " (associate)" : "");
}

static void shell_decide_rtb_priv(struct paas *p, struct shell_world *w,
                                  struct shell_todo *t, struct diff *d)
{
    for (int z = 0; z < w->nz; z++) {
        char name[128];
        snprintf(name, sizeof(name), "%s-shell-rtb-private-%d", p->cfg.name, z + 1);
        t->rtb_priv[z] = !w->have_rtb_priv[z];
        t->route_priv[z] = t->rtb_priv[z] || !w->have_nat[z] ? 1
                           : shell_route_state(&w->rtb_priv[z], NULL, w->nat[z].id);
        t->assoc_priv[z] = t->rtb_priv[z] ||
                           !shell_rtb_has_assoc(&w->rtb_priv[z], w->priv[z].id);
        t->d_rtb_priv[z] = diff_add(d, shell_op(t->rtb_priv[z],
                                                t->route_priv[z] || t->assoc_priv[z]),
                                    "route-table", name, w->rtb_priv[z].id,
                                    "0.0.0.0/0 via %s-shell-nat-%d%s; %s-shell-private-%d%s",
                                    p->cfg.name, z + 1,
                                    t->route_priv[z] && !t->rtb_priv[z] ? " (set route)" : "",
                                    p->cfg.name, z + 1,
                                    t->assoc_priv[z] && !t->rtb_priv[z] ? " (associate)" : "");
    }
}

/* The port in "HTTP:80/healthz", or 0. */
static int shell_health_port(const char *target)
{
    const char *colon = strchr(target, ':');
    return colon ? util_leading_int(colon + 1, 0) : 0;
}

static size_t shell_add_port_rule(struct ec2_perm *out, size_t n, int port,
                                  const char *cidr, const char *group)
{
    for (size_t i = 0; i < n; i++)
        if (out[i].from == port && strcmp(out[i].cidr, cidr) == 0 &&
            strcmp(out[i].group_id, group) == 0)
            return n;
    memset(&out[n], 0, sizeof(out[n]));
    snprintf(out[n].proto, sizeof(out[n].proto), "tcp");
    out[n].from = out[n].to = port;
    snprintf(out[n].cidr, sizeof(out[n].cidr), "%s", cidr);
    snprintf(out[n].group_id, sizeof(out[n].group_id), "%s", group);
    return n + 1;
}

/* The ingress rules of each group (SPEC.md "Clusters"): bastion 22 from admin_cidr;
 * ELB the listener ports from anywhere; nodes everything from the VPC and
 * the instance ports (and the health check's) from the ELB group. */
static size_t shell_rules(const struct paas *p, const struct shell_world *w,
                          enum shell_sg g, struct ec2_perm *out)
{
    const struct config *cfg = &p->cfg;
    size_t n = 0;
    int hp;
    switch (g) {
    case SG_BASTION:
        return shell_add_port_rule(out, 0, 22, cfg->admin_cidr.text, "");
    case SG_ELB:
        for (int i = 0; i < cfg->n_listeners; i++)
            n = shell_add_port_rule(out, n, cfg->listeners[i].lb_port, "0.0.0.0/0", "");
        return n;
    default:
        memset(&out[0], 0, sizeof(out[0]));
        snprintf(out[0].proto, sizeof(out[0].proto), "-1");
        out[0].from = out[0].to = -1;
        snprintf(out[0].cidr, sizeof(out[0].cidr), "%s", cfg->vpc_cidr.text);
        n = 1;
        for (int i = 0; i < cfg->n_listeners; i++)
            n = shell_add_port_rule(out, n, cfg->listeners[i].instance_port, "",
                                    w->sg[SG_ELB].id);
        hp = shell_health_port(cfg->health_target);
        if (hp > 0)
            n = shell_add_port_rule(out, n, hp, "", w->sg[SG_ELB].id);
        return n;
    }
}

static int shell_perm_eq(const struct ec2_perm *a, const struct ec2_perm *b)
{
    if (strcmp(a->proto, b->proto) != 0 || strcmp(a->cidr, b->cidr) != 0 ||
        strcmp(a->group_id, b->group_id) != 0)
        return 0;
    return strcmp(a->proto, "-1") == 0 || (a->from == b->from && a->to == b->to);
}

/* The rules of group g that are not there yet. */
static size_t shell_missing_rules(const struct paas *p,
                                  const struct shell_world *w, enum shell_sg g,
                                  struct ec2_perm *out)
{
    struct ec2_perm want[SHELL_MAX_RULES];
    size_t n = shell_rules(p, w, g, want), m = 0;
    for (size_t i = 0; i < n; i++) {
        int found = 0;
        for (size_t k = 0; w->have_sg[g] && k < w->sg[g].n_perms && !found; k++)
            found = shell_perm_eq(&want[i], &w->sg[g].perms[k]);
        if (!found)
            out[m++] = want[i];
    }
    return m;
}

/* The ELB group's rules from anywhere that no listener wants any more (a
 * listener removed from [elb]): its ports would stay open for nothing. */
static size_t shell_stale_elb_rules(const struct paas *p, const struct shell_world *w,
                                    struct ec2_perm *out)
{
    struct ec2_perm want[SHELL_MAX_RULES];
    size_t n = shell_rules(p, w, SG_ELB, want), m = 0;
    for (size_t k = 0; w->have_sg[SG_ELB] && k < w->sg[SG_ELB].n_perms && m < SHELL_MAX_RULES;
         k++) {
        const struct ec2_perm *have = &w->sg[SG_ELB].perms[k];
        int wanted = 0;
        for (size_t i = 0; i < n && !wanted; i++)
            wanted = shell_perm_eq(&want[i], have);
        if (!wanted && strcmp(have->cidr, "0.0.0.0/0") == 0 && strcmp(have->proto, "tcp") == 0)
            out[m++] = *have;
    }
    return m;
}

static void shell_decide_sgs(struct paas *p, struct shell_world *w,
                             struct shell_todo *t, struct diff *d)
{
    for (int g = 0; g < SHELL_N_SG; g++) {
        struct ec2_perm want[SHELL_MAX_RULES];
        char name[128];
        size_t n = shell_rules(p, w, (enum shell_sg)g, want);
        size_t missing = shell_missing_rules(p, w, (enum shell_sg)g, want);
        size_t stale = g == SG_ELB ? shell_stale_elb_rules(p, w, want) : 0;
        snprintf(name, sizeof(name), "%s-shell-%s", p->cfg.name,
                 shell_sg_role((enum shell_sg)g));
        t->sg[g] = !w->have_sg[g];
        t->rules[g] = missing > 0 || stale > 0;
        t->d_sg[g] = diff_add(d, shell_op(t->sg[g], t->rules[g]), "security-group",
                              name, w->sg[g].id, "%zu ingress rule(s)%s%s", n,
                              missing && !t->sg[g] ? "; add the missing ones" : "",
                              stale ? "; revoke the ports no listener uses" : "");
    }
}

static void shell_decide_bastion(struct paas *p, struct shell_world *w,
                                 struct shell_todo *t, struct diff *d)
{
    char name[128];
    snprintf(name, sizeof(name), "%s-shell-bastion", p->cfg.name);
    t->bastion = !w->have_bastion;
    t->d_bastion = diff_add(d, shell_op(t->bastion, 0), "instance", name,
                            w->bastion.id, "bastion %s %s in %s-shell-public-1",
                            p->cfg.bastion_type, p->cfg.bastion_ami, p->cfg.name);
}

static void shell_decide_zone(struct paas *p, struct shell_world *w,
                              struct shell_todo *t, struct diff *d)
{
    t->zone = !w->have_zone;
    t->d_zone = diff_add(d, shell_op(t->zone, 0), "dns-zone", p->cfg.dns_zone,
                         w->zone.id, "public hosted zone");
}

/* The health check `[elb]` asks for. The timeout must be below the
 * interval; 5 s is the AWS default. */
static void shell_health_want(const struct config *cfg, struct elb_health_check *h)
{
    memset(h, 0, sizeof(*h));
    snprintf(h->target, sizeof(h->target), "%s", cfg->health_target);
    h->interval = cfg->health_interval;
    h->timeout = cfg->health_interval > 5 ? 5 : cfg->health_interval - 1;
    h->healthy = cfg->healthy_threshold;
    h->unhealthy = cfg->unhealthy_threshold;
}

static int shell_health_eq(const struct elb_health_check *a,
                           const struct elb_health_check *b)
{
    return strcmp(a->target, b->target) == 0 && a->interval == b->interval &&
           a->timeout == b->timeout && a->healthy == b->healthy &&
           a->unhealthy == b->unhealthy;
}

static void shell_decide_lbs(struct paas *p, struct shell_world *w,
                             struct shell_todo *t, struct diff *d)
{
    struct elb_health_check want;
    shell_health_want(&p->cfg, &want);
    for (int l = 0; l < SHELL_N_LB; l++) {
        struct lsn_diff ld;
        const struct elb_attrs *a = &w->attrs[l];
        char what[256] = "", lis[200];
        t->lb[l] = !w->have_lb[l];
        lsn_diff(&p->cfg, t->lb[l] ? NULL : &w->lb[l], &ld);
        lsn_policy_decide(&p->cfg, t->lb[l] ? NULL : &w->lb[l], &t->lb_policy[l]);
        t->lb_listeners[l] = !t->lb[l] && lsn_todo(&ld);
        t->lb_health[l] = t->lb[l] || !shell_health_eq(&want, &w->lb[l].health);
        t->lb_attrs[l] = t->lb[l] || !a->cross_zone || !a->draining ||
                         a->draining_timeout != p->cfg.draining_timeout;
        lsn_describe(&ld, &t->lb_policy[l], lis, sizeof(lis));
        if (!t->lb[l])
            snprintf(what, sizeof(what), "%s%s%s",
                     t->lb_health[l] ? "; set health check" : "",
                     t->lb_attrs[l] ? "; set cross-zone and draining" : "", lis);
        t->d_lb[l] = diff_add(d, shell_op(t->lb[l], t->lb_listeners[l] ||
                                          t->lb_health[l] || t->lb_attrs[l] ||
                                          lsn_policy_todo(&t->lb_policy[l])),
                              "elb", shell_lb_name(p, (enum shell_lb)l), NULL,
                              "%s, %d listener(s), health %s, draining %d s%s",
                              l == LB_LIVE ? "live" : "pre-live", p->cfg.n_listeners,
                              p->cfg.health_target, p->cfg.draining_timeout, what);
    }
}

static void shell_decide(struct paas *p, struct shell_world *w,
                         struct shell_todo *t, struct diff *d)
{
    memset(t, 0, sizeof(*t));
    shell_decide_bucket(p, w, t, d);
    shell_decide_vpc(p, w, t, d);
    shell_decide_subnets(p, w, t, d);
    shell_decide_gateways(p, w, t, d);
    shell_decide_rtb_pub(p, w, t, d);
    shell_decide_rtb_priv(p, w, t, d);
    shell_decide_sgs(p, w, t, d);
    shell_decide_bastion(p, w, t, d);
    shell_decide_zone(p, w, t, d);
    shell_decide_lbs(p, w, t, d);
}

/* ---- applying ------------------------------------------------------------------ */

/* What a batch item made: kind * SHELL_Z + zone (or group, or LB). */
enum shell_ref { R_NONE, R_VPC, R_IGW, R_EIP, R_PUB, R_PRIV, R_SG, R_RTB_PUB,
                 R_RTB_PRIV, R_NAT, R_BASTION };

static int shell_ref(enum shell_ref kind, int z)
{
    return (int)kind * SHELL_Z + z;
}

/* Where a created resource's id goes: its "have" flag, its id field and
 * its diff entry. Returns 0 for kinds that are not stored. */
struct shell_slot {
    int *have;
    char *id;
    size_t size;
    size_t di;
};

#define SHELL_SLOT(h, field, d) \
    (struct shell_slot){ &(h), (field), sizeof(field), (d) }

static int shell_slot_of(struct shell_world *w, struct shell_todo *t,
                         enum shell_ref kind, int z, struct shell_slot *out)
{
    switch (kind) {
    case R_VPC: *out = SHELL_SLOT(w->have_vpc, w->vpc.id, t->d_vpc); return 1;
    case R_IGW: *out = SHELL_SLOT(w->have_igw, w->igw.id, t->d_igw); return 1;
    case R_EIP:
        *out = SHELL_SLOT(w->have_eip[z], w->eip[z].allocation_id, t->d_eip[z]);
        return 1;
    case R_PUB: *out = SHELL_SLOT(w->have_pub[z], w->pub[z].id, t->d_pub[z]); return 1;
    case R_PRIV: *out = SHELL_SLOT(w->have_priv[z], w->priv[z].id, t->d_priv[z]); return 1;
    case R_SG: *out = SHELL_SLOT(w->have_sg[z], w->sg[z].id, t->d_sg[z]); return 1;
    case R_RTB_PUB:
        *out = SHELL_SLOT(w->have_rtb_pub, w->rtb_pub.id, t->d_rtb_pub);
        return 1;
    case R_RTB_PRIV:
        *out = SHELL_SLOT(w->have_rtb_priv[z], w->rtb_priv[z].id, t->d_rtb_priv[z]);
        return 1;
    case R_NAT: *out = SHELL_SLOT(w->have_nat[z], w->nat[z].id, t->d_nat[z]); return 1;
    default: return 0;
    }
}

static void shell_copy_id(char *dst, size_t size, const char *src)
{
    size_t n = strlen(src);
    if (n >= size)
        n = size - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* Copies the new ids into the world (so later rounds can use them) and
 * into the diff entries. */
static int shell_collect(struct shell_world *w, struct shell_todo *t,
                         struct aws_batch *b, struct diff *d, struct err *e)
{
    for (size_t i = 0; i < b->n; i++) {
        const struct aws_batch_item *it = &b->items[i];
        enum shell_ref kind = (enum shell_ref)(it->ref / SHELL_Z);
        struct shell_slot sl;
        if (it->state != 1)
            continue;
        if (shell_slot_of(w, t, kind, it->ref % SHELL_Z, &sl)) {
            *sl.have = 1;
            shell_copy_id(sl.id, sl.size, it->id);
            diff_set_id(d, sl.di, it->id);
        } else if (kind == R_BASTION) {
            struct ec2_instance *ins;
            size_t n;
            if (ec2_run_result(it, &ins, &n, e) < 0)
                return -1;
            if (n > 0)
                diff_set_id(d, t->d_bastion, ins[0].id);
            free(ins);
        }
        /* A new NAT gateway is pending until round D waits for it. */
        if (kind == R_NAT)
            shell_copy_id(w->nat[it->ref % SHELL_Z].state, sizeof(w->nat[0].state), "pending");
    }
    return 0;
}

/* Runs a round: send, collect, release. */
static int shell_round(struct paas *p, struct shell_world *w,
                       struct shell_todo *t, struct aws_batch *b,
                       struct diff *d, const char *what, struct err *e)
{
    struct err ce;
    int rc = aws_batch_run(&p->aws, b, e);
    /* Collect even after a failure: what was made is in the diff. */
    err_init(&ce);
    if (shell_collect(w, t, b, d, &ce) < 0 && rc == 0) {
        *e = ce;
        rc = -1;
    }
    aws_batch_release(b);
    if (rc < 0)
        return err_wrap(e, "up shell, %s", what);
    return 0;
}

static int shell_apply_bucket_zone(struct paas *p, struct shell_world *w,
                                   struct shell_todo *t, struct diff *d,
                                   struct err *e)
{
    if ((t->bucket && plan_state_bucket(p, e) < 0) ||
        (t->bucket_tags && shell_tag_bucket(p, p->cfg.state_bucket, "shell", e) < 0))
        return -1;
    if (t->zone) {
        char ref[96], name[160];
        const char *keys[] = { "Name", TAG_PAAS, TAG_SLOT, TAG_ROLE };
        const char *vals[] = { name, p->cfg.name, "shell", "zone" };
        /* A fresh reference each time: AWS refuses one used before, and a
         * crashed creation is found by name on the next run. */
        snprintf(ref, sizeof(ref), "paasctl-%s-%ld-%ld", p->cfg.name,
                 (long)paas_now(p), (long)getpid());
        snprintf(name, sizeof(name), "%s-shell-zone", p->cfg.name);
        if (r53_create_zone(&p->aws, p->cfg.dns_zone, ref, "paasctl shell zone",
                            &w->zone, e) < 0 ||
            r53_tag_zone(&p->aws, w->zone.id, keys, vals, 4, e) < 0)
            return err_wrap(e, "hosted zone %s", p->cfg.dns_zone);
        w->have_zone = 1;
        diff_set_id(d, t->d_zone, w->zone.id);
    }
    return 0;
}

/* Round A: what needs nothing else. */
static int shell_round_a(struct paas *p, struct shell_world *w,
                         struct shell_todo *t, struct diff *d, struct err *e)
{
    struct aws_batch b;
    struct res_tags rt;
    aws_batch_init(&b);
    if (t->vpc) {
        res_tags_init(&rt, p->cfg.name, "shell", "vpc", NULL, "vpc");
        ec2_create_vpc(&b, p->cfg.vpc_cidr.text, rt.t, rt.n)->ref = shell_ref(R_VPC, 0);
    }
    if (t->igw) {
        res_tags_init(&rt, p->cfg.name, "shell", "igw", NULL, "igw");
        ec2_create_igw(&b, rt.t, rt.n)->ref = shell_ref(R_IGW, 0);
    }
    for (int z = 0; z < w->nz; z++) {
        if (!t->eip[z])
            continue;
        res_tags_init(&rt, p->cfg.name, "shell", "eip", NULL, "eip-%d", z + 1);
        ec2_allocate_address(&b, rt.t, rt.n)->ref = shell_ref(R_EIP, z);
    }
    if (shell_apply_bucket_zone(p, w, t, d, e) < 0) {
        aws_batch_release(&b);
        return -1;
    }
    return shell_round(p, w, t, &b, d, "creating the VPC, gateway and addresses", e);
}

static void shell_add_subnets(struct paas *p, struct shell_world *w,
                              struct shell_todo *t, struct aws_batch *b)
{
    struct res_tags rt;
    for (int z = 0; z < w->nz; z++) {
        if (t->pub[z]) {
            res_tags_init(&rt, p->cfg.name, "shell", "subnet-public", NULL, "public-%d", z + 1);
            ec2_create_subnet(b, w->vpc.id, p->cfg.public_subnets[z].text,
                              p->cfg.zones[z], rt.t, rt.n)->ref = shell_ref(R_PUB, z);
        }
        if (t->priv[z]) {
            res_tags_init(&rt, p->cfg.name, "shell", "subnet-private", NULL, "private-%d", z + 1);
            ec2_create_subnet(b, w->vpc.id, p->cfg.private_subnets[z].text,
                              p->cfg.zones[z], rt.t, rt.n)->ref = shell_ref(R_PRIV, z);
        }
    }
}

/* Round B: what needs the VPC. */
static int shell_round_b(struct paas *p, struct shell_world *w,
                         struct shell_todo *t, struct diff *d, struct err *e)
{
    struct aws_batch b;
    struct res_tags rt;
    aws_batch_init(&b);
    if (t->dns)
        ec2_enable_dns_hostnames(&b, w->vpc.id);
    if (t->attach)
        ec2_attach_igw(&b, w->igw.id, w->vpc.id);
    shell_add_subnets(p, w, t, &b);
    for (int g = 0; g < SHELL_N_SG; g++) {
        const char *role = shell_sg_role((enum shell_sg)g);
        if (!t->sg[g])
            continue;
        res_tags_init(&rt, p->cfg.name, "shell", role, NULL, "%s", role);
        ec2_create_security_group(&b, w->vpc.id, rt.name, rt.name, rt.t, rt.n)->ref =
            shell_ref(R_SG, g);
    }
    if (t->rtb_pub) {
        res_tags_init(&rt, p->cfg.name, "shell", "rtb-public", NULL, "rtb-public");
        ec2_create_route_table(&b, w->vpc.id, rt.t, rt.n)->ref = shell_ref(R_RTB_PUB, 0);
    }
    for (int z = 0; z < w->nz; z++) {
        if (!t->rtb_priv[z])
            continue;
        res_tags_init(&rt, p->cfg.name, "shell", "rtb-private", NULL, "rtb-private-%d", z + 1);
        ec2_create_route_table(&b, w->vpc.id, rt.t, rt.n)->ref = shell_ref(R_RTB_PRIV, z);
    }
    return shell_round(p, w, t, &b, d, "creating subnets, groups and route tables", e);
}

static void shell_add_rules_and_assocs(struct paas *p, struct shell_world *w,
                                       struct shell_todo *t, struct aws_batch *b)
{
    for (int g = 0; g < SHELL_N_SG; g++) {
        struct ec2_perm add[SHELL_MAX_RULES];
        size_t n = shell_missing_rules(p, w, (enum shell_sg)g, add);
        if (n > 0)
            ec2_authorize_ingress(b, w->sg[g].id, add, n);
        n = g == SG_ELB ? shell_stale_elb_rules(p, w, add) : 0;
        if (n > 0)
            ec2_revoke_ingress(b, w->sg[g].id, add, n);
    }
    for (int z = 0; z < w->nz; z++) {
        if (t->assoc_pub[z])
            ec2_associate_route_table(b, w->rtb_pub.id, w->pub[z].id);
        if (t->assoc_priv[z])
            ec2_associate_route_table(b, w->rtb_priv[z].id, w->priv[z].id);
    }
    if (t->route_pub)
        ec2_create_route(b, w->rtb_pub.id, "0.0.0.0/0", w->igw.id, NULL,
                         t->route_pub == 2);
}

static void shell_add_nats(struct paas *p, struct shell_world *w,
                           struct shell_todo *t, struct aws_batch *b)
{
    for (int z = 0; z < w->nz; z++) {
        struct res_tags rt;
        char token[64];
        if (!t->nat[z])
            continue;
        /* One gateway per address: the allocation id makes the token. */
        snprintf(token, sizeof(token), "paasctl-%s", w->eip[z].allocation_id);
        res_tags_init(&rt, p->cfg.name, "shell", "nat", NULL, "nat-%d", z + 1);
        ec2_create_nat_gateway(b, w->pub[z].id, w->eip[z].allocation_id, token,
                               rt.t, rt.n)->ref = shell_ref(R_NAT, z);
    }
}

static void shell_add_lbs(struct paas *p, struct shell_world *w,
                          struct shell_todo *t, struct aws_batch *b)
{
    const char *subnets[SHELL_Z];
    struct elb_listener lis[CONFIG_MAX_LISTENERS];
    size_t n_lis = lsn_want(&p->cfg, lis);
    for (int z = 0; z < w->nz; z++)
        subnets[z] = w->pub[z].id;
    for (int l = 0; l < SHELL_N_LB; l++) {
        struct lsn_diff ld;
        struct res_tags rt;
        struct elb_tag tags[5];
        struct elb_spec s;
        if (!t->lb[l]) {
            /* In place: the differing listeners go now, round D makes the
             * wanted ones (plans/elb_listeners.h). */
            lsn_diff(&p->cfg, &w->lb[l], &ld);
            if (ld.n_del)
                elb_delete_listeners(b, w->lb[l].name, ld.del, ld.n_del);
            continue;
        }
        res_tags_init(&rt, p->cfg.name, "shell", "elb", NULL,
                      l == LB_LIVE ? "elb-live" : "elb-prelive");
        snprintf(rt.name, sizeof(rt.name), "%s", shell_lb_name(p, (enum shell_lb)l));
        res_tags_elb(&rt, tags);
        s = (struct elb_spec){ .name = shell_lb_name(p, (enum shell_lb)l),
                               .listeners = lis, .n_listeners = n_lis,
                               .subnets = subnets, .n_subnets = (size_t)w->nz,
                               .security_group = w->sg[SG_ELB].id, .tags = tags,
                               .n_tags = rt.n };
        elb_create(b, &s);
    }
}

static void shell_add_bastion(struct paas *p, struct shell_world *w,
                              struct aws_batch *b)
{
    const char **ids = calloc(w->n_bastions_seen + 1, sizeof(*ids));
    struct res_tags rt;
    struct ec2_run_spec s;
    char token[65];
    if (!ids) {
        b->failed = 1;
        return;
    }
    for (size_t i = 0; i < w->n_bastions_seen; i++)
        ids[i] = w->bastions_seen[i].id;
    res_client_token(token, p->cfg.name, "shell", "bastion", 0, 1, ids,
                     w->n_bastions_seen);
    free(ids);
    res_tags_init(&rt, p->cfg.name, "shell", "bastion", NULL, "bastion");
    s = (struct ec2_run_spec){
        .ami = p->cfg.bastion_ami, .type = p->cfg.bastion_type,
        .subnet = w->pub[0].id, .security_group = w->sg[SG_BASTION].id,
        .key_name = p->cfg.key_name, .client_token = token, .count = 1,
        .public_ip = 1, .tags = rt.t, .n_tags = rt.n,
    };
    ec2_run_instances(b, &s)->ref = shell_ref(R_BASTION, 0);
}

/* Round C: what needs subnets, groups, gateways and tables. */
static int shell_round_c(struct paas *p, struct shell_world *w,
                         struct shell_todo *t, struct diff *d, struct err *e)
{
    struct aws_batch b;
    aws_batch_init(&b);
    shell_add_nats(p, w, t, &b);
    shell_add_rules_and_assocs(p, w, t, &b);
    shell_add_lbs(p, w, t, &b);
    if (t->bastion)
        shell_add_bastion(p, w, &b);
    return shell_round(p, w, t, &b, d, "creating NAT gateways, rules, ELBs and the bastion", e);
}

/* How far one NAT gateway of the shell is: 1 done (available, or gone),
 * 0 not yet, -1 failed while it was awaited as available. */
static int shell_nat_done(const struct ec2_nat *g, size_t n, const char *id, int gone)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(g[i].id, id) != 0)
            continue;
        if (strcmp(g[i].state, "failed") == 0)
            return gone ? 1 : -1;
        return !gone && strcmp(g[i].state, "available") == 0;
    }
    return gone;
}

int shell_wait_nats(struct paas *p, const struct shell_world *w, int gone, struct err *e)
{
    struct wait wt;
    size_t want = 0;
    for (int z = 0; z < w->nz; z++)
        want += w->nat[z].id[0] != '\0';
    wait_init(&wt, gone ? "NAT gateways deleted" : "NAT gateways available", WAIT_NAT_S);
    for (;;) {
        struct ec2_filter f[] = {
            { "tag:" TAG_PAAS, { p->cfg.name, NULL } },
            { "state", { "pending", "available", "deleting", "failed", NULL } },
        };
        struct ec2_nat *g;
        size_t n, done = 0;
        char status[64];
        if (ec2_describe_nat_gateways(&p->aws, f, 2, &g, &n, e) < 0)
            return -1;
        for (int z = 0; z < w->nz; z++) {
            int d = w->nat[z].id[0] ? shell_nat_done(g, n, w->nat[z].id, gone) : 0;
            if (d < 0) {
                free(g);
                wait_done(p, &wt);
                return err_set(e, ERR_FAILED, "NAT gateway %s failed; "
                               "run 'paasctl up shell' again to replace it", w->nat[z].id);
            }
            done += (size_t)d;
        }
        free(g);
        snprintf(status, sizeof(status), "%zu/%zu %s", done, want,
                 gone ? "deleted" : "available");
        wait_progress(p, &wt, status);
        if (done == want)
            break;
        if (wait_next(p, &wt, e) < 0)
            return -1;
    }
    wait_done(p, &wt);
    return 0;
}

/* Round D: private routes, ELB health checks, attributes and listeners. */
static int shell_round_d(struct paas *p, struct shell_world *w,
                         struct shell_todo *t, struct diff *d, struct err *e)
{
    struct aws_batch b;
    struct elb_health_check hc;
    struct elb_attrs a = { 1, 1, p->cfg.draining_timeout };
    int need_nat = 0;
    for (int z = 0; z < w->nz; z++)
        need_nat |= t->route_priv[z] && strcmp(w->nat[z].state, "available") != 0;
    if (need_nat && shell_wait_nats(p, w, 0, e) < 0)
        return -1;
    aws_batch_init(&b);
    for (int z = 0; z < w->nz; z++)
        if (t->route_priv[z])
            ec2_create_route(&b, w->rtb_priv[z].id, "0.0.0.0/0", NULL, w->nat[z].id,
                             t->route_priv[z] == 2);
    shell_health_want(&p->cfg, &hc);
    for (int l = 0; l < SHELL_N_LB; l++) {
        const char *name = shell_lb_name(p, (enum shell_lb)l);
        struct lsn_diff ld;
        if (t->lb_health[l])
            elb_configure_health_check(&b, name, &hc);
        if (t->lb_attrs[l])
            elb_modify_attrs(&b, name, &a);
        if (t->lb_listeners[l]) {
            lsn_diff(&p->cfg, &w->lb[l], &ld);
            lsn_add(&b, name, &ld);
        }
    }
    return shell_round(p, w, t, &b, d, "setting routes and ELB health checks", e);
}

/* After round D, when every wanted listener exists (plans/elb_listeners.h). */
static int shell_apply_policies(struct paas *p, const struct shell_todo *t, struct err *e)
{
    const char *names[SHELL_N_LB] = { shell_lb_name(p, LB_LIVE), shell_lb_name(p, LB_PRELIVE) };
    return lsn_policy_apply(&p->aws, names, t->lb_policy, SHELL_N_LB, e);
}

int plan_up_shell(struct paas *p, int apply, struct diff *d, struct err *e)
{
    struct shell_world *w = calloc(1, sizeof(*w));
    struct shell_todo *t = calloc(1, sizeof(*t));
    struct pzone pz;
    struct pdns pd;
    struct vpce ve;
    int rc = -1;
    if (!w || !t) {
        free(w);
        free(t);
        return err_set(e, ERR_FAILED, "out of memory");
    }
    if (shell_read(p, SHELL_READ_ALL, w, e) < 0 || pzone_read(p, &pz, e) < 0 ||
        pdns_read(p, &w->zone, w->have_zone, w->lb, w->have_lb, &pd, e) < 0 ||
        vpce_read(p, w, &ve, e) < 0 || shell_refuse_duplicates(w->dup, apply, d, e) < 0)
        goto out;
    shell_decide(p, w, t, d);
    pzone_decide(p, &pz, d);
    pdns_decide(p, &pd, w->lb, w->have_lb, d);
    if (vpce_decide(p, w, &ve, apply, d, e) < 0)
        goto out;
    if (d->failed) {
        err_set(e, ERR_FAILED, "out of memory");
        goto out;
    }
    if (!apply || !diff_changes(d)) {
        rc = 0;
        goto out;
    }
    if (shell_round_a(p, w, t, d, e) < 0 ||
        wait_check_interrupt(p, "creating subnets and groups", e) < 0 ||
        shell_round_b(p, w, t, d, e) < 0 ||
        wait_check_interrupt(p, "creating gateways, ELBs and the bastion", e) < 0 ||
        shell_round_c(p, w, t, d, e) < 0 ||
        wait_check_interrupt(p, "setting routes and health checks", e) < 0 ||
        shell_round_d(p, w, t, d, e) < 0 || shell_apply_policies(p, t, e) < 0 ||
        pzone_apply(p, &pz, w->vpc.id, d, e) < 0 || pdns_apply(p, &pd, &w->zone, d, e) < 0 ||
        vpce_apply(p, w, &ve, d, e) < 0)
        goto out;
    rc = 0;
out:
    shell_world_release(w);
    free(w);
    free(t);
    return rc;
}
