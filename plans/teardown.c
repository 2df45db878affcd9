/* `teardown a|b|shell` (see teardown.h; SPEC.md "Commands"). Each part is
 * read by tags, checked against the interlocks, listed as `-` entries,
 * confirmed, then destroyed in dependency order. Every delete counts
 * "already gone" as done, and DependencyViolation is retried while AWS
 * releases what the previous step let go of (ENIs of deleted ELBs and NAT
 * gateways linger for minutes). */
#include "plans/teardown.h"
#include "plans/converge.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/batch.h"
#include "aws/ec2.h"
#include "aws/elb.h"
#include "aws/route53.h"
#include "aws/s3.h"
#include "core/strmap.h"
#include "core/util.h"
#include "plans/elb_members.h"
#include "plans/private_zone.h"
#include "plans/public_dns.h"
#include "plans/shell.h"
#include "plans/shell_endpoint.h"
#include "plans/slot.h"
#include "plans/slot_api.h"
#include "plans/slot_iam.h"
#include "plans/slot_net.h"
#include "plans/tags.h"
#include "run/wait.h"

/* How long DependencyViolation is retried: AWS documents up to ~20 minutes
 * for the ENIs of a deleted load balancer in the worst case.
 * PAASCTL_DEPENDENCY_WAIT_S (struct paas knobs) shortens it (tests). */
#define TD_DEPENDENCY_WAIT_S 1200

static int td_dependency_wait_s(const struct paas *p)
{
    return p->knobs.dependency_wait_s > 0 ? (int)p->knobs.dependency_wait_s
                                          : TD_DEPENDENCY_WAIT_S;
}

void teardown_cluster_tag(const struct paas *p, const char *slot, char *out,
                          size_t size)
{
    snprintf(out, size, "kubernetes.io/cluster/%s-%s", p->cfg.name, slot);
}

/* Runs a batch of deletes; what names the step in an error. */
static int td_run(struct paas *p, struct aws_batch *b, int dependency_wait,
                  const char *what, struct err *e)
{
    int rc;
    b->dependency_wait_s = dependency_wait ? td_dependency_wait_s(p) : 0;
    if (b->n)
        log_info(&p->log, "teardown: %s", what);
    rc = aws_batch_run(&p->aws, b, e);
    aws_batch_release(b);
    return rc < 0 ? err_wrap(e, "teardown, %s", what) : 0;
}

/* Waits until none of ids is alive (terminated or gone). */
static int td_wait_terminated(struct paas *p, const char *slot,
                              const char *const *ids, size_t n, struct err *e)
{
    struct wait w;
    struct strmap waited;
    char what[64];
    int rc = 0;
    if (n == 0)
        return 0;
    if (strmap_index_strs(&waited, ids, n) < 0)
        return err_set(e, ERR_FAILED, "out of memory");
    snprintf(what, sizeof(what), "instances of %s terminated", slot);
    wait_init(&w, what, WAIT_INSTANCES_S);
    for (;;) {
        struct ec2_instance *in;
        size_t m, alive = 0;
        char status[64];
        if ((rc = slot_read_instances(p, slot, &in, &m, e)) < 0)
            break;
        for (size_t i = 0; i < m; i++)
            alive += strmap_has(&waited, in[i].id) && strcmp(in[i].state, "terminated") != 0;
        free(in);
        snprintf(status, sizeof(status), "%zu/%zu terminated", n - alive, n);
        wait_progress(p, &w, status);
        if (alive == 0)
            break;
        if ((rc = wait_next(p, &w, e)) < 0)
            break;
    }
    if (rc == 0)
        wait_done(p, &w);
    strmap_release(&waited);
    return rc;
}

/* Terminates the alive instances of `slot` ("a", "b" or "shell" for the
 * bastion) and waits for them. */
static int td_terminate(struct paas *p, const char *slot,
                        const struct ec2_instance *in, size_t n, struct err *e)
{
    const char **ids = calloc(n + 1, sizeof(*ids));
    struct aws_batch b;
    size_t k = 0;
    int rc;
    if (!ids)
        return err_set(e, ERR_FAILED, "out of memory");
    for (size_t i = 0; i < n; i++)
        if (slot_instance_alive(&in[i]) || strcmp(in[i].state, "shutting-down") == 0)
            ids[k++] = in[i].id;
    aws_batch_init(&b);
    if (k)
        ec2_terminate_instances(&b, ids, k)->notfound = AWS_NF_OK;
    rc = td_run(p, &b, 0, "terminating instances", e);
    if (rc == 0)
        rc = td_wait_terminated(p, slot, ids, k, e);
    free(ids);
    return rc;
}

/* The records of the zone whose names are in names[]; *out malloc'd. */
static size_t td_pick_records(const struct r53_record *all, size_t n,
                              const char *const *names, size_t nn,
                              struct r53_record *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < nn; j++)
            if (strcmp(all[i].name, names[j]) == 0)
                out[k++] = all[i];
    return k;
}

static int td_delete_records(struct paas *p, const char *zone_id,
                             const struct r53_record *recs, size_t n,
                             struct err *e)
{
    struct r53_change *ch = calloc(n + 1, sizeof(*ch));
    int rc;
    if (!ch)
        return err_set(e, ERR_FAILED, "out of memory");
    for (size_t i = 0; i < n; i++)
        ch[i] = (struct r53_change){ "DELETE", &recs[i] };
    rc = r53_change(&p->aws, zone_id, ch, n, e);
    free(ch);
    return rc < 0 ? err_wrap(e, "teardown, deleting DNS records") : 0;
}

/* Security groups go after every rule elsewhere that names them is
 * revoked (else DependencyViolation for ever). */
static int td_delete_groups(struct paas *p, const char *vpc,
                            const struct ec2_security_group *g, size_t n,
                            struct err *e)
{
    struct ec2_filter f[] = { { "vpc-id", { vpc, NULL } } };
    struct ec2_security_group *all = NULL;
    struct strmap going;
    struct aws_batch b;
    size_t na = 0;
    if (n == 0)
        return 0;
    if (vpc[0] && ec2_describe_security_groups(&p->aws, f, 1, &all, &na, e) < 0)
        return -1;
    if (strmap_index(&going, g, n, sizeof(*g), offsetof(struct ec2_security_group, id)) < 0) {
        free(all);
        return err_set(e, ERR_FAILED, "out of memory");
    }
    aws_batch_init(&b);
    for (size_t i = 0; i < na; i++) {
        struct ec2_perm refs[EC2_MAX_PERMS];
        size_t nr = 0;
        for (size_t k = 0; k < all[i].n_perms; k++)
            if (strmap_has(&going, all[i].perms[k].group_id))
                refs[nr++] = all[i].perms[k];
        if (nr)
            ec2_revoke_ingress(&b, all[i].id, refs, nr);
    }
    strmap_release(&going);
    free(all);
    if (td_run(p, &b, 0, "revoking rules that name the groups", e) < 0)
        return -1;
    aws_batch_init(&b);
    for (size_t j = 0; j < n; j++)
        ec2_delete(&b, "DeleteSecurityGroup", "GroupId", g[j].id);
    return td_run(p, &b, 1, "deleting security groups", e);
}

/* ---- a slot ------------------------------------------------------------------- */

struct td_slot {
    const char *slot;
    struct ec2_instance *inst;
    size_t n_inst, n_alive;
    struct elb_lb lb[SHELL_N_LB];
    int have_lb[SHELL_N_LB];
    char (*k8s_lbs)[64];
    size_t n_k8s_lbs;
    struct ec2_security_group *k8s_sgs;
    size_t n_k8s_sgs;
    struct r53_zone zone;
    int have_zone;
    struct r53_record recs[2];
    size_t n_recs;
    char bucket[64];
    int have_bucket;
    struct slot_iam_gone iam;
    struct slot_net net;
    struct slot_api api;       /* NAME-SLOT-api, whatever master_count says */
};

static void td_slot_release(struct td_slot *t)
{
    free(t->inst);
    for (int l = 0; l < SHELL_N_LB; l++)
        elb_lb_release(&t->lb[l]);
    free(t->k8s_lbs);
    free(t->k8s_sgs);
    slot_api_release(&t->api);
}

static int td_slot_read_dns(struct paas *p, struct td_slot *t, struct err *e)
{
    struct r53_record *all;
    size_t n;
    char api[300], auth[300];
    const char *names[2] = { api, auth };
    if (pzone_find(p, &t->zone, &t->have_zone, e) < 0)
        return -1;
    if (!t->have_zone)
        return 0;
    if (r53_list_records(&p->aws, t->zone.id, &all, &n, e) < 0)
        return -1;
    slot_record_name(p, t->slot, "api", api, sizeof(api));
    slot_record_name(p, t->slot, "auth", auth, sizeof(auth));
    t->n_recs = td_pick_records(all, n, names, 2, t->recs);
    free(all);
    return 0;
}

static int td_slot_read(struct paas *p, struct td_slot *t, struct err *e)
{
    const char *names[SHELL_N_LB] = { p->cfg.live_name, p->cfg.prelive_name };
    char key[128];
    struct ec2_filter f[] = { { "tag-key", { key, NULL } } };
    teardown_cluster_tag(p, t->slot, key, sizeof(key));
    if (slot_read_instances(p, t->slot, &t->inst, &t->n_inst, e) < 0)
        return -1;
    for (size_t i = 0; i < t->n_inst; i++)
        t->n_alive += slot_instance_alive(&t->inst[i]);
    if (slot_is_live(t->inst, t->n_inst))
        return 0;   /* refused: read no further */
    if (elb_describe(&p->aws, names, SHELL_N_LB, t->lb, t->have_lb, e) < 0 ||
        elb_find_by_tag_key(&p->aws, key, &t->k8s_lbs, &t->n_k8s_lbs, e) < 0 ||
        ec2_describe_security_groups(&p->aws, f, 1, &t->k8s_sgs, &t->n_k8s_sgs, e) < 0 ||
        td_slot_read_dns(p, t, e) < 0 || slot_iam_teardown_read(p, t->slot, &t->iam, e) < 0 ||
        slot_net_teardown_read(p, t->slot, &t->net, e) < 0 ||
        slot_api_teardown_read(p, t->slot, &t->api, e) < 0)
        return -1;
    return slot_bucket_name(p, t->slot, t->bucket, sizeof(t->bucket), &t->have_bucket, e);
}

/* The slot's instances that are members of load balancer l. */
static size_t td_members(const struct td_slot *t, int l, const char **ids)
{
    size_t n = 0;
    for (size_t i = 0; t->have_lb[l] && i < t->n_inst; i++)
        if (elb_lb_has(&t->lb[l], t->inst[i].id))
            ids[n++] = t->inst[i].id;
    return n;
}

static void td_slot_decide(struct td_slot *t, struct diff *d)
{
    const char **ids = calloc(t->n_inst + 1, sizeof(*ids));
    for (int l = 0; ids && l < SHELL_N_LB; l++) {
        size_t n = td_members(t, l, ids);
        if (n)
            diff_add(d, DIFF_DESTROY, "elb-members", t->lb[l].name, NULL,
                     "deregister %zu ingress node(s) of slot %s", n, t->slot);
    }
    free(ids);
    for (size_t i = 0; i < t->n_k8s_lbs; i++)
        diff_add(d, DIFF_DESTROY, "elb", t->k8s_lbs[i], NULL,
                 "made by the cluster's Kubernetes (Service type LoadBalancer)");
    slot_api_teardown_decide(&t->api, d);
    for (size_t i = 0; i < t->n_k8s_sgs; i++)
        diff_add(d, DIFF_DESTROY, "security-group", t->k8s_sgs[i].name, t->k8s_sgs[i].id,
                 "made by the cluster's Kubernetes");
    for (size_t i = 0; i < t->n_inst; i++)
        if (slot_instance_alive(&t->inst[i]))
            diff_add(d, DIFF_DESTROY, "instance", t->inst[i].tags.name, t->inst[i].id,
                     "%s %s in %s", t->inst[i].tags.role, t->inst[i].type, t->inst[i].az);
    for (size_t i = 0; i < t->n_recs; i++)
        diff_add(d, DIFF_DESTROY, "dns-record", t->recs[i].name, NULL, "%s %s",
                 t->recs[i].alias_dns[0] ? "ALIAS" : t->recs[i].type,
                 t->recs[i].alias_dns[0] ? t->recs[i].alias_dns
                 : t->recs[i].n_values ? t->recs[i].values[0] : "");
    if (t->have_bucket)
        diff_add(d, DIFF_DESTROY, "bucket", t->bucket, NULL, "bootstrap files of slot %s",
                 t->slot);
    slot_net_teardown_decide(&t->net, d);
    slot_iam_teardown_decide(&t->iam, d);
}

/* Every instance of the slot leaves both ELBs (the live one only holds
 * them if the traffic tags drifted: a live slot is refused before this). */
static int td_slot_deregister(struct paas *p, struct td_slot *t, struct err *e)
{
    const char **ids = calloc(t->n_inst + 1, sizeof(*ids));
    int rc = 0;
    if (!ids)
        return err_set(e, ERR_FAILED, "out of memory");
    for (size_t i = 0; i < t->n_inst; i++)
        ids[i] = t->inst[i].id;
    for (int l = 0; l < SHELL_N_LB && rc == 0; l++)
        if (t->have_lb[l] &&
            elb_members_apply(p, &t->lb[l], ELB_MEMBERS_REMOVE, ids, t->n_inst, e) < 0)
            rc = err_wrap(e, "teardown, deregistering from %s", t->lb[l].name);
    free(ids);
    return rc;
}

static int td_slot_apply(struct paas *p, struct td_slot *t, struct err *e)
{
    if (td_slot_deregister(p, t, e) < 0)
        return -1;
    for (size_t i = 0; i < t->n_k8s_lbs; i++)
        if (elb_delete(&p->aws, t->k8s_lbs[i], e) < 0)
            return err_wrap(e, "teardown, deleting load balancer %s", t->k8s_lbs[i]);
    if (slot_api_teardown_apply(p, &t->api, e) < 0)
        return -1;
    if (td_terminate(p, t->slot, t->inst, t->n_inst, e) < 0)
        return -1;
    if (t->n_k8s_sgs &&
        td_delete_groups(p, t->k8s_sgs[0].vpc_id, t->k8s_sgs, t->n_k8s_sgs, e) < 0)
        return -1;
    if (t->n_recs && td_delete_records(p, t->zone.id, t->recs, t->n_recs, e) < 0)
        return -1;
    if (slot_net_teardown_records(p, &t->net, e) < 0 ||
        (t->net.n_gone &&
         td_delete_groups(p, t->net.gone[0].vpc_id, t->net.gone, t->net.n_gone, e) < 0) ||
        slot_iam_teardown_apply(p, &t->iam, e) < 0)
        return -1;
    if (t->have_bucket && s3_empty_and_delete(&p->aws, t->bucket, e) < 0)
        return err_wrap(e, "teardown, deleting bucket %s", t->bucket);
    return 0;
}

int plan_teardown_slot(struct paas *p, const char *slot, int apply,
                       teardown_confirm_fn confirm, void *ctx, struct diff *d,
                       struct err *e)
{
    struct td_slot t;
    int rc = -1;
    if (slot_check_name(slot, e) < 0)
        return -1;
    memset(&t, 0, sizeof(t));
    t.slot = slot;
    if (td_slot_read(p, &t, e) < 0)
        goto out;
    if (slot_is_live(t.inst, t.n_inst)) {
        err_set(e, ERR_REFUSED, "refusing to tear down slot %s: it is the live slot "
                "(its ingress nodes carry paasctl:traffic=live and serve %s). Make the "
                "other slot live first ('paasctl up', 'paasctl cutover'), then tear %s down",
                slot, p->cfg.live_name, slot);
        goto out;
    }
    td_slot_decide(&t, d);
    if (!apply || !diff_changes(d)) {
        rc = 0;
        goto out;
    }
    if (confirm && confirm(p, d, ctx, e) < 0)
        goto out;
    rc = td_slot_apply(p, &t, e);
out:
    td_slot_release(&t);
    return rc;
}

/* ---- the shell ------------------------------------------------------------------- */

/* Refuses while a slot has instances, naming how many each has. */
static int td_shell_interlock(struct paas *p, struct err *e)
{
    struct ec2_filter f[] = {
        { "tag:" TAG_PAAS, { p->cfg.name, NULL } },
        { "tag:" TAG_SLOT, { "a", "b", NULL } },
        { "instance-state-name", { "pending", "running", "stopping", "stopped", NULL } },
    };
    struct ec2_instance *in;
    size_t n, count[2] = { 0, 0 };
    if (ec2_describe_instances(&p->aws, f, 3, &in, &n, e) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        count[strcmp(in[i].tags.slot, "b") == 0]++;
    free(in);
    if (n == 0)
        return 0;
    return err_set(e, ERR_REFUSED, "refusing to tear down the shell while slots have "
                   "instances (slot a: %zu, slot b: %zu): the ELBs, subnets and groups "
                   "they use would go. Tear the slots down first (%s%s%s)",
                   count[0], count[1], count[1] ? "'paasctl teardown b'" : "",
                   count[0] && count[1] ? ", " : "",
                   count[0] ? "'paasctl teardown a'" : "");
}

static void td_shell_decide_network(struct shell_world *w, struct diff *d)
{
    for (int z = 0; z < w->nz; z++) {
        if (w->have_nat[z])
            diff_add(d, DIFF_DESTROY, "nat-gateway", w->nat[z].tags.name, w->nat[z].id, "%s",
                     w->nat[z].state);
        if (w->have_eip[z])
            diff_add(d, DIFF_DESTROY, "elastic-ip", w->eip[z].tags.name,
                     w->eip[z].allocation_id, "%s", w->eip[z].public_ip);
    }
    if (w->have_rtb_pub)
        diff_add(d, DIFF_DESTROY, "route-table", w->rtb_pub.tags.name, w->rtb_pub.id,
                 "with its routes and associations");
    for (int z = 0; z < w->nz; z++)
        if (w->have_rtb_priv[z])
            diff_add(d, DIFF_DESTROY, "route-table", w->rtb_priv[z].tags.name,
                     w->rtb_priv[z].id, "with its routes and associations");
    if (w->have_igw)
        diff_add(d, DIFF_DESTROY, "internet-gateway", w->igw.tags.name, w->igw.id,
                 "detached first");
    for (int z = 0; z < w->nz; z++) {
        if (w->have_pub[z])
            diff_add(d, DIFF_DESTROY, "subnet", w->pub[z].tags.name, w->pub[z].id, "%s",
                     w->pub[z].cidr);
        if (w->have_priv[z])
            diff_add(d, DIFF_DESTROY, "subnet", w->priv[z].tags.name, w->priv[z].id, "%s",
                     w->priv[z].cidr);
    }
    for (int g = 0; g < SHELL_N_SG; g++)
        if (w->have_sg[g])
            diff_add(d, DIFF_DESTROY, "security-group", w->sg[g].tags.name, w->sg[g].id,
                     "%s", shell_sg_role((enum shell_sg)g));
    if (w->have_vpc)
        diff_add(d, DIFF_DESTROY, "vpc", w->vpc.tags.name, w->vpc.id, "%s", w->vpc.cidr);
}

static void td_shell_decide(struct paas *p, struct shell_world *w, struct diff *d)
{
    for (int l = 0; l < SHELL_N_LB; l++)
        if (w->have_lb[l])
            diff_add(d, DIFF_DESTROY, "elb", w->lb[l].name, NULL, "%s",
                     l == LB_LIVE ? "live" : "pre-live");
    if (w->have_bastion)
        diff_add(d, DIFF_DESTROY, "instance", w->bastion.tags.name, w->bastion.id, "bastion");
    td_shell_decide_network(w, d);
    if (w->have_bucket)
        diff_add(d, DIFF_DESTROY, "bucket", p->cfg.state_bucket, NULL,
                 "state bucket: the lock and the journal go with it");
}

static int td_shell_nats(struct paas *p, struct shell_world *w, struct err *e)
{
    struct aws_batch b;
    aws_batch_init(&b);
    for (int z = 0; z < w->nz; z++)
        if (w->have_nat[z])
            ec2_delete(&b, "DeleteNatGateway", "NatGatewayId", w->nat[z].id);
    if (td_run(p, &b, 0, "deleting NAT gateways", e) < 0 || shell_wait_nats(p, w, 1, e) < 0)
        return -1;
    aws_batch_init(&b);
    for (int z = 0; z < w->nz; z++)
        if (w->have_eip[z])
            ec2_delete(&b, "ReleaseAddress", "AllocationId", w->eip[z].allocation_id);
    return td_run(p, &b, 1, "releasing elastic IPs", e);
}

static void td_add_rtb_deletes(struct aws_batch *assoc, struct aws_batch *del,
                               const struct ec2_route_table *t)
{
    for (size_t i = 0; i < t->n_assocs; i++)
        if (!t->assocs[i].main)
            ec2_delete(assoc, "DisassociateRouteTable", "AssociationId", t->assocs[i].id);
    ec2_delete(del, "DeleteRouteTable", "RouteTableId", t->id);
}

static int td_shell_routes_igw(struct paas *p, struct shell_world *w,
                               struct err *e)
{
    struct aws_batch assoc, del;
    aws_batch_init(&assoc);
    aws_batch_init(&del);
    if (w->have_rtb_pub)
        td_add_rtb_deletes(&assoc, &del, &w->rtb_pub);
    for (int z = 0; z < w->nz; z++)
        if (w->have_rtb_priv[z])
            td_add_rtb_deletes(&assoc, &del, &w->rtb_priv[z]);
    if (td_run(p, &assoc, 0, "disassociating route tables", e) < 0) {
        aws_batch_release(&del);
        return -1;
    }
    if (td_run(p, &del, 1, "deleting route tables", e) < 0)
        return -1;
    if (!w->have_igw)
        return 0;
    aws_batch_init(&del);
    if (w->igw.attached_vpc[0])
        ec2_detach_igw(&del, w->igw.id, w->igw.attached_vpc);
    if (td_run(p, &del, 1, "detaching the internet gateway", e) < 0)
        return -1;
    aws_batch_init(&del);
    ec2_delete(&del, "DeleteInternetGateway", "InternetGatewayId", w->igw.id);
    return td_run(p, &del, 1, "deleting the internet gateway", e);
}

static int td_shell_subnets_groups_vpc(struct paas *p, struct shell_world *w,
                                       struct err *e)
{
    struct ec2_security_group groups[SHELL_N_SG];
    struct aws_batch b;
    size_t ng = 0;
    aws_batch_init(&b);
    for (int z = 0; z < w->nz; z++) {
        if (w->have_pub[z])
            ec2_delete(&b, "DeleteSubnet", "SubnetId", w->pub[z].id);
        if (w->have_priv[z])
            ec2_delete(&b, "DeleteSubnet", "SubnetId", w->priv[z].id);
    }
    if (td_run(p, &b, 1, "deleting subnets", e) < 0)
        return -1;
    for (int g = 0; g < SHELL_N_SG; g++)
        if (w->have_sg[g])
            groups[ng++] = w->sg[g];
    if (td_delete_groups(p, w->vpc.id, groups, ng, e) < 0)
        return -1;
    if (!w->have_vpc)
        return 0;
    aws_batch_init(&b);
    ec2_delete(&b, "DeleteVpc", "VpcId", w->vpc.id);
    return td_run(p, &b, 1, "deleting the VPC", e);
}

/* The public zone DNS_ZONE goes only when paasctl made it (its
 * paasctl:paas tag names this paas) and, once the two public names are
 * gone, it holds nothing but its SOA and NS: an operator's own zone, and
 * any record someone else put in it, are kept. */
struct td_zone {
    int have, drop;
    char owner[32];          /* its paasctl:paas tag, "" = none */
    size_t n_foreign;        /* records neither SOA/NS nor the public names */
    char foreign[272];       /* the first of them: "NAME TYPE" */
};

static int td_zone_is_public_name(const struct pdns *pd, const struct r53_record *r)
{
    for (int k = 0; k < PDNS_N; k++)
        if (pd->have[k] && strcmp(pd->rec[k].name, r->name) == 0 &&
            strcmp(pd->rec[k].type, r->type) == 0)
            return 1;
    return 0;
}

static int td_zone_read(struct paas *p, const struct shell_world *w, const struct pdns *pd,
                        struct td_zone *z, struct err *e)
{
    struct r53_record *all;
    size_t n;
    memset(z, 0, sizeof(*z));
    z->have = w->have_zone;
    if (!z->have)
        return 0;
    if (r53_zone_tag(&p->aws, w->zone.id, TAG_PAAS, z->owner, sizeof(z->owner), e) < 0 ||
        r53_list_records(&p->aws, w->zone.id, &all, &n, e) < 0)
        return err_wrap(e, "teardown, reading hosted zone %s", p->cfg.dns_zone);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(all[i].type, "SOA") == 0 || strcmp(all[i].type, "NS") == 0 ||
            td_zone_is_public_name(pd, &all[i]))
            continue;
        if (z->n_foreign++ == 0)
            snprintf(z->foreign, sizeof(z->foreign), "%s %s", all[i].name, all[i].type);
    }
    free(all);
    z->drop = strcmp(z->owner, p->cfg.name) == 0 && z->n_foreign == 0;
    return 0;
}

static void td_zone_decide(const struct paas *p, const struct shell_world *w,
                           const struct td_zone *z, struct diff *d)
{
    if (!z->have)
        return;
    if (z->drop)
        diff_add(d, DIFF_DESTROY, "dns-zone", p->cfg.dns_zone, w->zone.id,
                 "made by paasctl; holds only its SOA and NS");
    else if (strcmp(z->owner, p->cfg.name) != 0)
        diff_add(d, DIFF_EXISTS, "dns-zone", p->cfg.dns_zone, w->zone.id,
                 "kept: not made by this paas (%s %s); only its two names go",
                 TAG_PAAS, z->owner[0] ? z->owner : "unset");
    else
        diff_add(d, DIFF_EXISTS, "dns-zone", p->cfg.dns_zone, w->zone.id,
                 "kept: holds %zu record(s) paasctl did not make, e.g. %s",
                 z->n_foreign, z->foreign);
}

static int td_zone_apply(struct paas *p, const struct shell_world *w, const struct td_zone *z,
                         struct err *e)
{
    if (z->drop && r53_delete_zone(&p->aws, w->zone.id, e) < 0)
        return err_wrap(e, "teardown, deleting hosted zone %s", p->cfg.dns_zone);
    return 0;
}

static int td_shell_apply(struct paas *p, struct shell_world *w, const struct td_zone *z,
                          struct err *e)
{
    for (int l = 0; l < SHELL_N_LB; l++)
        if (w->have_lb[l] && elb_delete(&p->aws, w->lb[l].name, e) < 0)
            return err_wrap(e, "teardown, deleting load balancer %s", w->lb[l].name);
    if (td_terminate(p, "shell", w->bastions_seen, w->n_bastions_seen, e) < 0 ||
        td_shell_nats(p, w, e) < 0 || td_shell_routes_igw(p, w, e) < 0 ||
        td_shell_subnets_groups_vpc(p, w, e) < 0 || td_zone_apply(p, w, z, e) < 0)
        return -1;
    /* Last: the bucket holds this run's lock, which goes with it. */
    if (w->have_bucket && s3_empty_and_delete(&p->aws, p->cfg.state_bucket, e) < 0)
        return err_wrap(e, "teardown, deleting the state bucket %s", p->cfg.state_bucket);
    return 0;
}

int plan_teardown_shell(struct paas *p, int apply, teardown_confirm_fn confirm,
                        void *ctx, struct diff *d, struct err *e)
{
    static const char *const slots[2] = { "a", "b" };
    struct td_slot t[2];
    struct shell_world *w;
    struct pzone pz;
    struct pdns pd;
    struct td_zone z;
    struct vpce ve;
    int rc = -1;
    if (td_shell_interlock(p, e) < 0)
        return -1;
    w = calloc(1, sizeof(*w));
    if (!w)
        return err_set(e, ERR_FAILED, "out of memory");
    memset(t, 0, sizeof(t));
    /* What a slot teardown cut short may have left (its bucket, records,
     * the groups its Kubernetes made) goes first: those groups would hold
     * the VPC. The interlock made sure no slot has instances. */
    for (int s = 0; s < 2; s++) {
        t[s].slot = slots[s];
        if (td_slot_read(p, &t[s], e) < 0)
            goto out;
        td_slot_decide(&t[s], d);
    }
    if (shell_read(p, SHELL_READ_ALL, w, e) < 0 ||
        pdns_read(p, &w->zone, w->have_zone, w->lb, w->have_lb, &pd, e) < 0 ||
        td_zone_read(p, w, &pd, &z, e) < 0)
        goto out;
    /* The public names first: they alias the ELBs deleted next. */
    pdns_teardown_decide(p, &pd, d);
    td_shell_decide(p, w, d);
    td_zone_decide(p, w, &z, d);
    if (pzone_teardown_decide(p, &pz, d, e) < 0 || vpce_teardown_decide(p, &ve, d, e) < 0)
        goto out;
    if (!apply || !diff_changes(d)) {
        rc = 0;
        goto out;
    }
    if (confirm && confirm(p, d, ctx, e) < 0)
        goto out;
    if (td_slot_apply(p, &t[0], e) < 0 || td_slot_apply(p, &t[1], e) < 0)
        goto out;
    /* The endpoint before the route tables and the VPC it holds. */
    rc = pdns_teardown_apply(p, &pd, e) < 0 || pzone_teardown_apply(p, &pz, e) < 0 ||
         vpce_teardown_apply(p, &ve, e) < 0
             ? -1 : td_shell_apply(p, w, &z, e);
out:
    td_slot_release(&t[0]);
    td_slot_release(&t[1]);
    shell_world_release(w);
    free(w);
    return rc;
}

struct td_pass {
    const char *target;
    int apply;
    teardown_confirm_fn confirm;
    void *ctx;
};

static int td_pass(struct paas *p, void *ctx, int pass, struct diff *d, struct err *e)
{
    const struct td_pass *t = ctx;
    /* Asked once: a later pass finishes what the operator agreed to. */
    teardown_confirm_fn confirm = pass == 1 ? t->confirm : NULL;
    return strcmp(t->target, "shell") == 0
        ? plan_teardown_shell(p, t->apply, confirm, t->ctx, d, e)
        : plan_teardown_slot(p, t->target, t->apply, confirm, t->ctx, d, e);
}

int plan_teardown(struct paas *p, const char *target, int apply,
                  teardown_confirm_fn confirm, void *ctx, struct diff *d, struct err *e)
{
    struct td_pass t = { target, apply, confirm, ctx };
    if (!apply)
        return td_pass(p, &t, 1, d, e);
    return plan_converge(p, p->command_line, td_pass, &t, d, e);
}
