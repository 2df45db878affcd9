/* Reading the world for a traffic swap (see swap_world.h; SPEC.md "Cutover
 * rules"). Its in-progress marker is run/swap_marker.c. */
#include "plans/swap_world.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plans/tags.h"

int swap_world_read(struct paas *p, struct swap_world *w, struct err *e)
{
    struct ec2_filter f[] = {
        { "tag:" TAG_PAAS, { p->cfg.name, NULL } },
        { "tag:" TAG_ROLE, { "ingress", NULL } },
        { "instance-state-name", { "pending", "running", "stopping", "stopped", NULL } },
    };
    const char *names[2] = { p->cfg.live_name, p->cfg.prelive_name };
    struct elb_lb lbs[2];
    int found[2];
    memset(w, 0, sizeof(*w));
    if (elb_describe(&p->aws, names, 2, lbs, found, e) < 0)
        return -1;
    w->live = lbs[0];
    w->prelive = lbs[1];
    if (!found[0] || !found[1])
        err_set(e, ERR_FAILED, "the %s ELB %s does not exist; run 'paasctl up shell'",
                found[0] ? "pre-live" : "live", found[0] ? names[1] : names[0]);
    else if (ec2_describe_instances(&p->aws, f, 3, &w->ingress, &w->n_ingress, e) == 0)
        return 0;
    swap_world_release(w);        /* the callers release only what was read */
    return -1;
}

void swap_world_release(struct swap_world *w)
{
    free(w->ingress);
    elb_lb_release(&w->live);
    elb_lb_release(&w->prelive);
    memset(w, 0, sizeof(*w));
}

int swap_world_has_slot(const struct swap_world *w, const char *slot)
{
    for (size_t i = 0; i < w->n_ingress; i++)
        if (strcmp(w->ingress[i].tags.slot, slot) == 0)
            return 1;
    return 0;
}

/* The one traffic value all of a slot's nodes carry, or NULL when they
 * disagree (drift). "" when the slot has no node. */
static const char *swap_slot_traffic(const struct swap_world *w, const char *slot)
{
    const char *t = "";
    for (size_t i = 0; i < w->n_ingress; i++) {
        const struct ec2_tags *g = &w->ingress[i].tags;
        if (strcmp(g->slot, slot) != 0)
            continue;
        if (t[0] && strcmp(t, g->traffic) != 0)
            return NULL;
        t = g->traffic;
    }
    return t;
}

int swap_world_traffic(const struct swap_world *w, char live[8], char prelive[8],
                       struct err *e)
{
    static const char *const slots[] = { "a", "b" };
    live[0] = prelive[0] = '\0';
    for (int i = 0; i < 2; i++) {
        const char *t = swap_slot_traffic(w, slots[i]);
        char *into;
        if (!t)
            return err_set(e, ERR_REFUSED, "refusing: slot %s's ingress nodes disagree on "
                           "paasctl:traffic; see 'paasctl status' for the drift", slots[i]);
        if (!t[0])
            continue;
        into = strcmp(t, "live") == 0 ? live : prelive;
        if (into[0])
            return err_set(e, ERR_REFUSED, "refusing: slots %s and %s are both %s; "
                           "tear one down or fix its paasctl:traffic tags first",
                           into, slots[i], t);
        snprintf(into, 8, "%s", slots[i]);
    }
    return 0;
}

int swap_side_collect(const struct swap_world *w, const char *slot,
                      struct swap_side *s, struct err *e)
{
    memset(s, 0, sizeof(*s));
    snprintf(s->slot, sizeof(s->slot), "%s", slot);
    if (!slot[0])
        return 0;
    s->ids = calloc(w->n_ingress + 1, sizeof(*s->ids));
    if (!s->ids)
        return err_set(e, ERR_FAILED, "out of memory");
    for (size_t i = 0; i < w->n_ingress; i++)
        if (strcmp(w->ingress[i].tags.slot, slot) == 0)
            snprintf(s->ids[s->n++], sizeof(s->ids[0]), "%s", w->ingress[i].id);
    return 0;
}

void swap_side_release(struct swap_side *s)
{
    free(s->ids);
    memset(s, 0, sizeof(*s));
}

const char **swap_side_id_ptrs(const struct swap_side *s)
{
    const char **ids = calloc(s->n + 1, sizeof(*ids));
    for (size_t i = 0; ids && i < s->n; i++)
        ids[i] = s->ids[i];
    return ids;
}

int swap_all_members(const struct elb_lb *lb, const struct swap_side *s)
{
    for (size_t i = 0; i < s->n; i++)
        if (!elb_lb_has(lb, s->ids[i]))
            return 0;
    return 1;
}

json_t *swap_side_json(const struct swap_side *s)
{
    json_t *a = json_array();
    for (size_t i = 0; i < s->n; i++)
        json_array_append_new(a, json_string(s->ids[i]));
    return a;
}
