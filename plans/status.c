/* status: reads the shell, the ELBs and the slots' instances by their
 * paasctl:* tags (SPEC.md "Tags (the source of truth)"). */
#include "plans/status.h"

#include <stdlib.h>
#include <string.h>

void status_report_release(struct status_report *r)
{
    elb_lb_release(&r->live.lb);
    elb_lb_release(&r->prelive.lb);
    free(r->instances);
    memset(r, 0, sizeof(*r));
}

static int status_find_vpc(struct paas *p, struct status_report *r,
                           struct err *e)
{
    struct ec2_filter f[] = {
        { "tag:paasctl:paas", { p->cfg.name, NULL } },
        { "tag:paasctl:role", { "vpc", NULL } },
    };
    struct ec2_vpc *v;
    size_t n;
    if (ec2_describe_vpcs(&p->aws, f, 2, &v, &n, e) < 0)
        return -1;
    if (n > 0) {
        r->have_shell = 1;
        r->vpc = v[0];
    }
    free(v);
    return 0;
}

static int status_find_instances(struct paas *p, struct status_report *r,
                                 struct err *e)
{
    struct ec2_filter f[] = {
        { "tag:paasctl:paas", { p->cfg.name, NULL } },
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

static int status_find_elbs(struct paas *p, struct status_report *r,
                            struct err *e)
{
    const char *names[2] = { p->cfg.live_name, p->cfg.prelive_name };
    struct elb_lb lbs[2];
    int found[2];
    if (elb_describe(&p->aws, names, 2, lbs, found, e) < 0)
        return -1;
    r->live = (struct status_elb){ found[0], lbs[0], 0, 0 };
    r->prelive = (struct status_elb){ found[1], lbs[1], 0, 0 };
    if (status_elb_health(p, &r->live, e) < 0 ||
        status_elb_health(p, &r->prelive, e) < 0)
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

int plan_status(struct paas *p, struct status_report *r, struct err *e)
{
    memset(r, 0, sizeof(*r));
    if (status_find_vpc(p, r, e) < 0 || status_find_elbs(p, r, e) < 0 ||
        status_find_instances(p, r, e) < 0)
        return -1;
    status_traffic_slots(r);
    return 0;
}
