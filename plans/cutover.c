/* cutover and rollback: the health-gated ELB swap of SPEC.md "Cutover rules",
 * read top to bottom in swap_run(). The live ELB never loses its last
 * InService node: the incoming nodes are registered and healthy on live
 * before the outgoing ones leave it. */
#include "plans/swap.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/ec2.h"
#include "aws/elb.h"
#include "core/strmap.h"
#include "plans/elb_members.h"
#include "run/journal.h"
#include "plans/swap_world.h"
#include "plans/tags.h"
#include "run/wait.h"

void swap_result_release(struct swap_result *r)
{
    swap_side_release(&r->incoming);
    swap_side_release(&r->outgoing);
    json_decref(r->changes);
    memset(r, 0, sizeof(*r));
}

/* ---- health ------------------------------------------------------------ */

/* Counts the side's nodes InService on lb; lists the others with their
 * reasons in bad ("i-1 (OutOfService: Instance has failed ...)"). */
static int swap_health(struct paas *p, const char *lb, const struct swap_side *s,
                       size_t *in_service, struct buf *bad, struct err *e)
{
    struct elb_health *h = NULL;
    struct strmap by_id;
    size_t nh = 0;
    const char **ids = swap_side_id_ptrs(s);
    int rc;
    *in_service = 0;
    buf_reset(bad);
    if (!ids)
        return err_set(e, ERR_FAILED, "out of memory");
    rc = elb_describe_health(&p->aws, lb, ids, s->n, &h, &nh, e);
    if (rc < 0 && strcmp(e->code, "InvalidInstance") == 0) {
        /* Some are not registered at all: ask for every member instead
         * and treat the missing ones as not InService. */
        rc = elb_describe_health(&p->aws, lb, NULL, 0, &h, &nh, e);
    }
    free(ids);
    if (rc < 0)
        return -1;
    if (strmap_index(&by_id, h, nh, sizeof(*h), offsetof(struct elb_health, instance_id)) < 0) {
        free(h);
        return err_set(e, ERR_FAILED, "out of memory");
    }
    for (size_t i = 0; i < s->n; i++) {
        const struct elb_health *found = strmap_get(&by_id, s->ids[i]);
        if (found && strcmp(found->state, "InService") == 0) {
            (*in_service)++;
            continue;
        }
        buf_printf(bad, "%s%s (%s%s%s)", bad->len ? ", " : "", s->ids[i],
                   found ? found->state : "not registered on ",
                   found ? ": " : lb,
                   found ? (found->description[0] ? found->description : found->reason) : "");
    }
    strmap_release(&by_id);
    free(h);
    return 0;
}

#define SWAP_POLL_MAX_MS 5000L

/* Waits until every node of s is InService on lb: 0 when they are, 1 on
 * timeout (bad lists the laggards), -1 on error or interruption. One
 * DescribeInstanceHealth call per poll, whatever the number of nodes. */
static int swap_wait_in_service(struct paas *p, const char *lb,
                                const struct swap_side *s, int timeout_s,
                                struct buf *bad, struct err *e)
{
    char what[160], status[64];
    struct wait w;
    snprintf(what, sizeof(what), "slot %s InService on %s", s->slot, lb);
    wait_init(&w, what, timeout_s);
    /* The ELB changes a node's state only once per health_interval: polling
     * at half of it (at most every SWAP_POLL_MAX_MS) notices InService
     * within half an interval, where the doubling backoff was 15 s late. */
    wait_cap(&w, p->cfg.health_interval * 1000L / 2 < SWAP_POLL_MAX_MS
                     ? p->cfg.health_interval * 1000L / 2 : SWAP_POLL_MAX_MS);
    for (;;) {
        size_t ok;
        if (swap_health(p, lb, s, &ok, bad, e) < 0) {
            wait_done(p, &w);
            return -1;
        }
        snprintf(status, sizeof(status), "%zu/%zu InService", ok, s->n);
        wait_progress(p, &w, status);
        if (ok == s->n || wait_expired(&w)) {
            wait_done(p, &w);
            return ok == s->n ? 0 : 1;
        }
        if (wait_next(p, &w, e) < 0)
            return err_wrap(e, "run '%s' again to finish or undo the swap", p->command);
    }
}

/* ---- membership ---------------------------------------------------------- */

/* One ELB change through the single membership helper (elb_members.h),
 * with the side's ids. w's ELBs are updated to match, so the later rules
 * diff against what the earlier ones did, not against the first read. */
static int swap_members(struct paas *p, struct elb_lb *lb, enum elb_members_op op,
                        const struct swap_side *s, struct err *e)
{
    const char **ids = swap_side_id_ptrs(s);
    int rc;
    if (!ids)
        return err_set(e, ERR_FAILED, "out of memory");
    rc = elb_members_apply(p, lb, op, ids, s->n, e);
    free(ids);
    return rc;
}

static int swap_retag(struct paas *p, const struct swap_side *s,
                      const char *traffic, struct err *e)
{
    const char *keys[] = { TAG_TRAFFIC };
    const char *values[] = { traffic };
    const char **ids = swap_side_id_ptrs(s);
    int rc = 0;
    if (!ids)
        return err_set(e, ERR_FAILED, "out of memory");
    if (s->n)
        rc = ec2_create_tags(&p->aws, ids, s->n, keys, values, 1, e);
    free(ids);
    return rc;
}

/* ---- the rules, in order -------------------------------------------------- */

static void swap_record(struct swap_result *r)
{
    json_decref(r->changes);
    r->changes = json_pack("{s:o, s:s, s:o, s:o, s:b}",
                           "from", r->outgoing.slot[0] ? json_string(r->outgoing.slot) : json_null(),
                           "to", r->incoming.slot,
                           "incoming", swap_side_json(&r->incoming),
                           "outgoing", swap_side_json(&r->outgoing),
                           "resumed", r->resumed);
}

/* Rule 6. The record goes out before the marker is removed, so that at
 * every moment either the marker or an "ok" record says what happened: a
 * run killed between the two leaves the marker, and the next run resumes
 * the same swap (a no-op on the world) instead of reading the new tags as
 * a fresh cutover and moving the traffic back. The swap is done on the
 * world at this point: a SIGINT/SIGTERM that came during the last ELB
 * change does not hold back these two writes (the in-flight change
 * completed), so the run ends finished (exit 0), never "ok" with the
 * marker left behind. */
static int swap_finish(struct paas *p, struct swap_result *r, struct err *e)
{
    volatile sig_atomic_t *stop = p->aws.http.stop;
    int rc;
    swap_record(r);
    p->aws.http.stop = NULL;
    rc = journal_append(p, "ok", "", r->changes, e);
    if (rc == 0) {
        p->journaled = 1;
        swap_marker_delete(p);
    }
    p->aws.http.stop = stop;
    if (rc < 0)
        return err_wrap(e, "slot %s is live but the %s is not recorded yet; run '%s' "
                        "again to record it", r->incoming.slot, r->command, r->command);
    return 0;
}

static int swap_run(struct paas *p, struct swap_world *w, struct swap_result *r,
                    struct err *e)
{
    const char *live = p->cfg.live_name, *prelive = p->cfg.prelive_name;
    struct buf bad = BUF_INIT;
    size_t ok;
    int rc;

    if (p->dry_run)
        return 0;
    /* Rule 1: every incoming node InService on pre-live. A resumed swap
     * whose nodes already joined live may have left pre-live: skip it. */
    if (!(r->resumed && swap_all_members(&w->live, &r->incoming))) {
        if (swap_health(p, prelive, &r->incoming, &ok, &bad, e) < 0)
            goto fail;
        if (ok != r->incoming.n) {
            err_set(e, ERR_REFUSED, "refusing %s: not every ingress node of slot %s is "
                    "InService on %s: %s; nothing was changed", r->command,
                    r->incoming.slot, prelive, buf_str(&bad));
            if (r->resumed)
                swap_marker_delete(p);   /* it never got past the marker */
            goto fail;
        }
        if (!r->resumed && swap_marker_write(p, r->command, r->outgoing.slot, r->incoming.slot, e) < 0)
            goto fail;
    }
    /* Rule 2: the incoming nodes join live, in one call, and must all be
     * InService there within swap_timeout. */
    if (swap_members(p, &w->live, ELB_MEMBERS_ADD, &r->incoming, e) < 0)
        goto fail;
    rc = swap_wait_in_service(p, live, &r->incoming, config_swap_timeout(&p->cfg), &bad, e);
    if (rc < 0)
        goto fail;
    if (rc == 1) {
        /* Rule 3: not healthy in time: leave everything as it was. */
        char why[sizeof(e->msg)];
        snprintf(why, sizeof(why), "%s", buf_str(&bad));
        if (swap_members(p, &w->live, ELB_MEMBERS_REMOVE, &r->incoming, e) < 0)
            goto fail;
        swap_marker_delete(p);
        err_set(e, ERR_FAILED, "%s undone: slot %s's ingress nodes did not all become InService "
                "on %s within %d s: %s; they were deregistered from %s again and slot %s "
                "still has the traffic", r->command, r->incoming.slot, live,
                config_swap_timeout(&p->cfg), why, live,
                r->outgoing.slot[0] ? r->outgoing.slot : "(none)");
        goto fail;
    }
    /* Rule 4: retag, one call per side. */
    if (swap_retag(p, &r->incoming, "live", e) < 0 ||
        swap_retag(p, &r->outgoing, "prelive", e) < 0)
        goto fail;
    /* Rule 5: live keeps exactly the incoming nodes (they are all there
     * since rule 2, so this only deregisters; draining does the rest), then
     * pre-live gets exactly the outgoing ones. */
    if (swap_members(p, &w->live, ELB_MEMBERS_EXACTLY, &r->incoming, e) < 0 ||
        swap_members(p, &w->prelive, ELB_MEMBERS_EXACTLY, &r->outgoing, e) < 0)
        goto fail;
    /* Rule 6, then the marker: see swap_finish(). */
    if (swap_finish(p, r, e) < 0)
        goto fail;
    buf_release(&bad);
    return 0;
fail:
    buf_release(&bad);
    return -1;
}

/* Fills r's sides for a swap that makes `to` live, from `from`. */
static int swap_prepare(struct paas *p, struct swap_world *w, const char *cmd,
                        const char *from, const char *to, int resumed,
                        struct swap_result *r, struct err *e)
{
    snprintf(r->command, sizeof(r->command), "%s", cmd);
    r->resumed = resumed;
    r->dry_run = p->dry_run;
    if (swap_side_collect(w, to, &r->incoming, e) < 0 ||
        swap_side_collect(w, from, &r->outgoing, e) < 0)
        return -1;
    if (r->incoming.n == 0)
        return err_set(e, ERR_REFUSED, "refusing %s: slot %s has no ingress nodes", cmd, to);
    return 0;
}

/* A swap interrupted earlier is finished first, by the same command. */
static int swap_resume_or(struct paas *p, struct swap_world *w, const char *cmd,
                          int *resumed, char *from, char *to, struct err *e)
{
    char mcmd[16] = "";
    int found;
    *resumed = 0;
    if (swap_marker_read(p, &found, from, to, mcmd, e) < 0)
        return -1;
    (void)w;
    if (!found)
        return 0;
    if (strcmp(mcmd, cmd) != 0)
        return err_set(e, ERR_REFUSED, "an interrupted %s (slot %s to live) is pending; "
                       "run 'paasctl %s' to finish it first", mcmd, to, mcmd);
    log_info(&p->log, "resuming the interrupted %s: slot %s to live", cmd, to);
    *resumed = 1;
    return 0;
}

int plan_cutover(struct paas *p, struct swap_result *r, struct err *e)
{
    struct swap_world w;
    char from[8] = "", to[8] = "";
    int resumed, rc = -1;
    memset(r, 0, sizeof(*r));
    if (swap_world_read(p, &w, e) < 0)
        return -1;
    if (swap_resume_or(p, &w, "cutover", &resumed, from, to, e) < 0)
        goto out;
    if (!resumed && swap_world_traffic(&w, from, to, e) < 0)
        goto out;
    if (!resumed && !to[0]) {
        err_set(e, ERR_REFUSED, "refusing cutover: no slot is pre-live; bring one up "
                "with 'paasctl up a' or 'paasctl up b'");
        goto out;
    }
    rc = swap_prepare(p, &w, "cutover", from, to, resumed, r, e);
    if (rc == 0)
        rc = swap_run(p, &w, r, e);
out:
    swap_world_release(&w);
    return rc;
}

/* The slot the last successful cutover moved away from. */
static int rollback_target(struct paas *p, char *slot, size_t size, struct err *e)
{
    json_t *rec;
    const char *from;
    if (journal_last(p, "cutover", &rec, e) < 0)
        return -1;
    if (!rec)
        return err_set(e, ERR_REFUSED, "refusing rollback: the journal has no cutover to undo");
    from = json_string_value(json_object_get(json_object_get(rec, "changes"), "from"));
    snprintf(slot, size, "%s", from ? from : "");
    json_decref(rec);
    if (!slot[0])
        return err_set(e, ERR_REFUSED, "refusing rollback: the last cutover was the first one, "
                       "so no slot was live before it");
    return 0;
}

int plan_rollback(struct paas *p, struct swap_result *r, struct err *e)
{
    struct swap_world w;
    char from[8] = "", to[8] = "", back[8];
    int resumed, rc = -1;
    memset(r, 0, sizeof(*r));
    if (swap_world_read(p, &w, e) < 0)
        return -1;
    if (swap_resume_or(p, &w, "rollback", &resumed, from, to, e) < 0)
        goto out;
    if (!resumed) {
        if (rollback_target(p, back, sizeof(back), e) < 0 ||
            swap_world_traffic(&w, from, to, e) < 0)
            goto out;
        if (strcmp(from, back) == 0) {
            err_set(e, ERR_REFUSED, "refusing rollback: slot %s is already live; "
                    "nothing to roll back", back);
            goto out;
        }
        if (!swap_world_has_slot(&w, back)) {
            err_set(e, ERR_REFUSED, "refusing rollback: slot %s, live before the last "
                    "cutover, has been torn down", back);
            goto out;
        }
        snprintf(to, sizeof(to), "%s", back);
    }
    rc = swap_prepare(p, &w, "rollback", from, to, resumed, r, e);
    if (rc == 0)
        rc = swap_run(p, &w, r, e);
out:
    swap_world_release(&w);
    return rc;
}
