/* status: reads the shell, the ELBs and the slots' instances by their
 * paasctl:* tags (SPEC.md "Tags (the source of truth)"). */
#include "plans/status.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/strmap.h"
#include "run/journal.h"
#include "plans/shell.h"
#include "plans/slot_api.h"
#include "plans/slot_wait.h"
#include "plans/swap.h"
#include "plans/tags.h"

#define STATUS_JOURNAL_ENTRIES 5

void status_report_release(struct status_report *r)
{
    elb_lb_release(&r->live.lb);
    elb_lb_release(&r->prelive.lb);
    elb_lb_release(&r->api[0].lb);
    elb_lb_release(&r->api[1].lb);
    free(r->instances);
    free(r->drift);
    json_decref(r->journal);
    memset(r, 0, sizeof(*r));
}


static int status_find_instances(struct paas *p, struct status_report *r,
                                 struct err *e)
{
    struct ec2_filter f[] = {
        { "tag:" TAG_PAAS, { p->cfg.name, NULL } },
        { "instance-state-name", { "pending", "running", "stopping", "stopped",
                                   "shutting-down", NULL } },
    };
    return ec2_describe_instances(&p->aws, f, 2, &r->instances,
                                  &r->n_instances, e);
}

static int status_elb_health(struct paas *p, struct status_elb *s,
                             struct err *e)
{
    struct elb_health *h;
    size_t n;
    if (!s->exists || s->lb.n_instances == 0)
        return 0;
    if (elb_describe_health(&p->aws, s->lb.name, NULL, 0, &h, &n, e) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(h[i].state, "InService") == 0)
            s->in_service++;
        else
            s->out_of_service++;
    }
    free(h);
    return 0;
}

/* The two ELBs, and the API balancer of each slot whose configuration
 * asks for three masters (SPEC.md "Clusters"), in one describe. */
static int status_find_elbs(struct paas *p, struct status_report *r,
                            struct err *e)
{
    static const char *const slots[2] = { "a", "b" };
    char api[2][64];
    const char *names[4] = { p->cfg.live_name, p->cfg.prelive_name };
    struct status_elb *into[4] = { &r->live, &r->prelive };
    struct elb_lb lbs[4];
    int found[4];
    size_t n = 2;
    for (int k = 0; k < 2; k++) {
        r->api_wanted[k] = slot_api_wanted(p, slots[k]);
        if (!r->api_wanted[k])
            continue;
        slot_api_name(p, slots[k], api[k], sizeof(api[k]));
        names[n] = api[k];
        into[n++] = &r->api[k];
    }
    if (elb_describe(&p->aws, names, n, lbs, found, e) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        *into[i] = (struct status_elb){ found[i], lbs[i], 0, 0 };
    for (size_t i = 0; i < n; i++)
        if (status_elb_health(p, into[i], e) < 0)
            return -1;
    return 0;
}

/* The live slot is the one whose ingress nodes carry paasctl:traffic=live. */
static void status_traffic_slots(struct status_report *r)
{
    for (size_t i = 0; i < r->n_instances; i++) {
        const struct ec2_tags *t = &r->instances[i].tags;
        if (strcmp(t->role, "ingress") != 0)
            continue;
        if (strcmp(t->traffic, "live") == 0)
            snprintf(r->live_slot, sizeof(r->live_slot), "%s", t->slot);
        else if (strcmp(t->traffic, "prelive") == 0)
            snprintf(r->prelive_slot, sizeof(r->prelive_slot), "%s", t->slot);
    }
}

static void status_add_drift(struct status_report *r, const char *id,
                             const char *fmt, ...)
{
    struct status_drift *d;
    va_list ap;
    d = realloc(r->drift, (r->n_drift + 1) * sizeof(*d));
    if (!d)
        return;
    r->drift = d;
    d = &r->drift[r->n_drift++];
    snprintf(d->instance, sizeof(d->instance), "%s", id);
    va_start(ap, fmt);
    vsnprintf(d->problem, sizeof(d->problem), fmt, ap);
    va_end(ap);
}

/* A bisection: lb's members are sorted (aws/elb.h). */
static int status_is_member(const struct status_elb *s, const char *id)
{
    return s->exists && elb_lb_has(&s->lb, id);
}

/* An ingress node belongs on exactly the ELB its traffic tag names. */
static void status_drift_of_node(struct status_report *r, const struct ec2_instance *in)
{
    int on_live = status_is_member(&r->live, in->id);
    int on_pre = status_is_member(&r->prelive, in->id);
    const char *t = in->tags.traffic;
    if (strcmp(t, "live") == 0 && (!on_live || on_pre))
        status_add_drift(r, in->id, "slot %s ingress tagged live but %s", in->tags.slot,
                         !on_live ? "not registered with the live ELB" : "also on the pre-live ELB");
    else if (strcmp(t, "prelive") == 0 && (!on_pre || on_live))
        status_add_drift(r, in->id, "slot %s ingress tagged prelive but %s", in->tags.slot,
                         on_live ? "registered with the live ELB" : "not registered with the pre-live ELB");
    else if (strcmp(t, "live") != 0 && strcmp(t, "prelive") != 0)
        status_add_drift(r, in->id, "slot %s ingress has no valid paasctl:traffic tag ('%s')",
                         in->tags.slot, t);
}

static void status_drift_of_elb(struct status_report *r, const struct strmap *by_id,
                                const struct status_elb *s, const char *label)
{
    for (size_t i = 0; s->exists && i < s->lb.n_instances; i++) {
        const struct ec2_instance *in = strmap_get(by_id, s->lb.instances[i]);
        if (!in || strcmp(in->tags.role, "ingress") != 0 ||
            (strcmp(in->tags.slot, "a") != 0 && strcmp(in->tags.slot, "b") != 0))
            status_add_drift(r, s->lb.instances[i], "member of the %s ELB %s but no "
                             "slot's ingress node", label, s->lb.name);
    }
}

static int status_drift(struct status_report *r, struct err *e)
{
    struct strmap by_id;
    for (size_t i = 0; i < r->n_instances; i++) {
        const struct ec2_instance *in = &r->instances[i];
        if (strcmp(in->tags.role, "ingress") == 0 &&
            strcmp(in->state, "terminated") != 0 && strcmp(in->state, "shutting-down") != 0)
            status_drift_of_node(r, in);
    }
    if (strmap_index(&by_id, r->instances, r->n_instances, sizeof(*r->instances),
                     offsetof(struct ec2_instance, id)) < 0)
        return err_set(e, ERR_FAILED, "out of memory");
    status_drift_of_elb(r, &by_id, &r->live, "live");
    status_drift_of_elb(r, &by_id, &r->prelive, "pre-live");
    strmap_release(&by_id);
    return 0;
}

/* The marker and the journal live in the state bucket, which exists once
 * the shell does. */
static int status_state_bucket(struct paas *p, struct status_report *r, struct err *e)
{
    if (!r->have_shell)
        return 0;
    if (swap_marker_read(p, &r->swap_pending, r->swap_from, r->swap_to,
                         r->swap_command, e) < 0)
        return -1;
    return journal_list(p, STATUS_JOURNAL_ENTRIES, &r->journal, e);
}

/* Each slot's API version (SPEC.md "Clusters"), when a slot with a
 * [cluster x] section has instances and its API answers from here. */
static void status_api_versions(struct paas *p, struct status_report *r)
{
    static const char *const slots[2] = { "a", "b" };
    for (int k = 0; k < 2; k++) {
        int any = 0;
        for (size_t i = 0; i < r->n_instances; i++)
            any |= strcmp(r->instances[i].tags.slot, slots[k]) == 0;
        if (any && p->cfg.cluster[k].present)
            slot_api_version(p, slots[k], r->api_version[k], sizeof(r->api_version[k]));
    }
}

/* SPEC.md "Clusters": *.DNS_ZONE and *.prelive.DNS_ZONE, compared with
 * the ELBs just read. */
static int status_public_dns(struct paas *p, struct status_report *r, struct err *e)
{
    const struct elb_lb lbs[PDNS_N] = { r->live.lb, r->prelive.lb };
    const int have[PDNS_N] = { r->live.exists, r->prelive.exists };
    struct r53_zone zone;
    int found;
    if (r53_find_zone(&p->aws, p->cfg.dns_zone, &zone, &found, e) < 0)
        return err_wrap(e, "public hosted zone %s", p->cfg.dns_zone);
    return pdns_read(p, &zone, found, lbs, have, &r->dns, e);
}

int plan_status(struct paas *p, struct status_report *r, struct err *e)
{
    char other[32];
    memset(r, 0, sizeof(*r));
    if (shell_find_vpc(p, &r->vpc, &r->have_shell, other, e) < 0 ||
        (r->have_shell && shell_find_duplicates(p, &r->vpc, other, r->duplicate,
                                                sizeof(r->duplicate), e) < 0) ||
        status_find_elbs(p, r, e) < 0 || status_public_dns(p, r, e) < 0 ||
        status_find_instances(p, r, e) < 0 || status_state_bucket(p, r, e) < 0)
        return -1;
    status_traffic_slots(r);
    if (status_drift(r, e) < 0)
        return -1;
    status_api_versions(p, r);
    return 0;
}
