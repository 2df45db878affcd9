/* status [--check]: the shell, the ELBs, each slot's instances by role and
 * state, which slot is live (SPEC.md "Commands"). */
#include "cmd/cmd.h"

#include <stdio.h>
#include <string.h>

#include "plans/status.h"

static json_t *status_elb_json(const struct status_elb *s)
{
    json_t *members;
    if (!s->exists)
        return json_null();
    members = json_array();
    for (size_t i = 0; i < s->lb.n_instances; i++)
        json_array_append_new(members, json_string(s->lb.instances[i]));
    return json_pack("{s:s, s:s, s:o, s:I, s:I}", "name", s->lb.name,
                     "dns_name", s->lb.dns_name, "instances", members,
                     "in_service", (json_int_t)s->in_service,
                     "out_of_service", (json_int_t)s->out_of_service);
}

/* The public alias record k, or null when it does not exist. */
static json_t *status_dns_json(struct paas *p, const struct pdns *d, int k)
{
    char name[300];
    if (!d->have[k])
        return json_null();
    pdns_name(p, k, name, sizeof(name));
    return json_pack("{s:s, s:s, s:s, s:b}", "name", name, "alias_dns", d->rec[k].alias_dns,
                     "alias_zone_id", d->rec[k].alias_zone_id, "ok", d->ok[k]);
}

static json_t *status_str_or_null(const char *s)
{
    return s[0] ? json_string(s) : json_null();
}

static json_t *status_slot_json(const struct status_report *r, const char *slot)
{
    json_t *list = json_array();
    for (size_t i = 0; i < r->n_instances; i++) {
        const struct ec2_instance *in = &r->instances[i];
        if (strcmp(in->tags.slot, slot) != 0)
            continue;
        json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}",
                              "id", in->id, "role", in->tags.role,
                              "state", in->state, "zone", in->az,
                              "traffic", in->tags.traffic,
                              "k8s_version", in->tags.k8s_version));
    }
    if (json_array_size(list) == 0) {
        json_decref(list);
        return json_null();
    }
    return json_pack("{s:o, s:o}", "instances", list, "api_version",
                     status_str_or_null(r->api_version[slot[0] == 'b']));
}


static json_t *status_drift_json(const struct status_report *r)
{
    json_t *a = json_array();
    for (size_t i = 0; i < r->n_drift; i++)
        json_array_append_new(a, json_pack("{s:s, s:s}", "instance", r->drift[i].instance,
                                           "problem", r->drift[i].problem));
    return a;
}

static json_t *status_swap_json(const struct status_report *r)
{
    if (!r->swap_pending)
        return json_null();
    return json_pack("{s:s, s:s, s:s}", "command", r->swap_command,
                     "from", r->swap_from, "to", r->swap_to);
}

static void status_print_json(struct paas *p, const struct status_report *r)
{
    json_t *shell = r->have_shell
        ? json_pack("{s:s, s:s}", "vpc_id", r->vpc.id, "cidr", r->vpc.cidr)
        : json_null();
    json_t *d = json_pack("{s:s, s:s, s:o, s:{s:o, s:o, s:{s:o, s:o}}, s:{s:o, s:o}, s:o, s:o}",
                          "paas", p->cfg.name, "region", p->aws.region,
                          "shell", shell,
                          "elbs", "live", status_elb_json(&r->live),
                          "prelive", status_elb_json(&r->prelive),
                          "api", "a", status_elb_json(&r->api[0]),
                          "b", status_elb_json(&r->api[1]),
                          "slots", "a", status_slot_json(r, "a"),
                          "b", status_slot_json(r, "b"),
                          "live", status_str_or_null(r->live_slot),
                          "prelive", status_str_or_null(r->prelive_slot));
    json_object_set_new(d, "drift", status_drift_json(r));
    json_object_set_new(d, "unfinished_swap", status_swap_json(r));
    json_object_set_new(d, "duplicate", status_str_or_null(r->duplicate));
    json_object_set_new(d, "public_dns",
                        r->dns.have_zone
                            ? json_pack("{s:s, s:o, s:o}", "zone_id", r->dns.zone.id,
                                        "live", status_dns_json(p, &r->dns, PDNS_LIVE),
                                        "prelive", status_dns_json(p, &r->dns, PDNS_PRELIVE))
                            : json_null());
    json_object_set(d, "journal", r->journal ? r->journal : json_null());
    cmd_print_json(d);
    json_decref(d);
}

static void status_print_elb(const char *label, const struct status_elb *s,
                             struct table *t)
{
    char counts[64];
    if (!s->exists) {
        table_add(t, label, "-", "not found", "");
        return;
    }
    snprintf(counts, sizeof(counts), "%zu InService, %zu OutOfService",
             s->in_service, s->out_of_service);
    table_add(t, label, s->lb.name, s->lb.dns_name, counts);
}

/* The public names (SPEC.md "Clusters", DNS): what each aliases, and
 * whether that is its ELB. */
static void status_print_dns(struct paas *p, const struct status_report *r)
{
    static const char *const labels[PDNS_N] = { "live", "pre-live" };
    struct table t;
    if (!r->dns.have_zone) {
        printf("public DNS: no public hosted zone %s\n\n", p->cfg.dns_zone);
        return;
    }
    table_init(&t, 4);
    table_add(&t, "PUBLIC NAME", "FOR", "ALIAS OF", "STATE");
    for (int k = 0; k < PDNS_N; k++) {
        char name[300];
        pdns_name(p, k, name, sizeof(name));
        table_add(&t, name, labels[k], r->dns.have[k] ? r->dns.rec[k].alias_dns : "-",
                  !r->dns.have[k] ? "missing: run up shell"
                  : r->dns.ok[k] ? "ok" : "not this ELB: run up shell");
    }
    table_print(&t);
    table_release(&t);
    putchar('\n');
}

static void status_print_slot(const struct status_report *r, const char *slot,
                              struct table *t)
{
    int any = 0;
    for (size_t i = 0; i < r->n_instances; i++) {
        const struct ec2_instance *in = &r->instances[i];
        if (strcmp(in->tags.slot, slot) != 0 || strcmp(slot, "shell") == 0)
            continue;
        /* The version it was built with (SPEC.md "Tags"). */
        table_add(t, slot, in->tags.role, in->id, in->state,
                  in->tags.k8s_version[0] ? in->tags.k8s_version : "-");
        any = 1;
    }
    if (!any)
        table_add(t, slot, "-", "no instances", "", "");
}

static void status_print_problems(const struct status_report *r)
{
    if (r->swap_pending)
        printf("\nUNFINISHED %s: slot %s to live (from %s); run 'paasctl %s' to finish it\n",
               r->swap_command, r->swap_to, r->swap_from[0] ? r->swap_from : "none",
               r->swap_command);
    if (r->duplicate[0])
        printf("\nDUPLICATE: %s; 'paasctl up' refuses until one is deleted or untagged\n",
               r->duplicate);
    if (r->n_drift == 0) {
        printf("\nno drift: traffic tags and ELB membership agree\n");
        return;
    }
    printf("\nDRIFT: %zu problem%s between traffic tags and ELB membership:\n",
           r->n_drift, r->n_drift == 1 ? "" : "s");
    for (size_t i = 0; i < r->n_drift; i++)
        printf("  %s  %s\n", r->drift[i].instance, r->drift[i].problem);
}

static void status_print_journal(const struct status_report *r)
{
    size_t i;
    json_t *rec;
    if (!r->journal || json_array_size(r->journal) == 0)
        return;
    struct table t;
    printf("\nrecent journal:\n");
    table_init(&t, 4);             /* a table escapes what S3 holds */
    json_array_foreach(r->journal, i, rec) {
        table_add(&t, "", json_string_value(json_object_get(rec, "time")),
                  json_string_value(json_object_get(rec, "command")),
                  json_string_value(json_object_get(rec, "outcome")));
    }
    table_print(&t);
    table_release(&t);
}

static void status_print_table(struct paas *p, const struct status_report *r)
{
    struct table t;
    if (!r->have_shell) {
        printf("paas %s (%s): no shell yet - no VPC tagged paasctl:paas=%s.\n"
               "Run 'paasctl up shell' to create it.\n",
               p->cfg.name, p->aws.region, p->cfg.name);
        return;
    }
    printf("paas %s (%s): shell %s %s\n", p->cfg.name, p->aws.region,
           r->vpc.id, r->vpc.cidr);
    printf("live slot: %s   pre-live slot: %s\n\n",
           r->live_slot[0] ? r->live_slot : "none",
           r->prelive_slot[0] ? r->prelive_slot : "none");
    table_init(&t, 4);
    table_add(&t, "ELB", "NAME", "DNS", "HEALTH");
    status_print_elb("live", &r->live, &t);
    status_print_elb("pre-live", &r->prelive, &t);
    for (int k = 0; k < 2; k++)
        if (r->api_wanted[k])
            status_print_elb(k == 0 ? "api a" : "api b", &r->api[k], &t);
    table_print(&t);
    table_release(&t);
    putchar('\n');
    status_print_dns(p, r);
    table_init(&t, 5);
    table_add(&t, "SLOT", "ROLE", "INSTANCE", "STATE", "KUBERNETES");
    status_print_slot(r, "a", &t);
    status_print_slot(r, "b", &t);
    table_print(&t);
    table_release(&t);
    for (int k = 0; k < 2; k++)
        if (r->api_version[k][0])
            printf("slot %c API: Kubernetes %s\n", 'a' + k, r->api_version[k]);
    status_print_problems(r);
    status_print_journal(r);
}

int cmd_status(struct paas *p, int argc, char **argv, struct err *e)
{
    struct status_report r;
    int check = 0, rc = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--check") != 0)
            return err_set(e, ERR_USAGE, "status: unknown argument '%s'", argv[i]);
        check = 1;
    }
    if (plan_status(p, &r, e) < 0) {
        status_report_release(&r);
        return -1;
    }
    if (p->output == OUT_JSON)
        status_print_json(p, &r);
    else
        status_print_table(p, &r);
    /* --check is for monitoring: drift, a half-done swap or a duplicate
     * resource is a failure. */
    if (check && (r.n_drift || r.swap_pending || r.duplicate[0]))
        rc = err_set(e, ERR_FAILED, "status --check: %zu drift problem%s%s%s", r.n_drift,
                     r.n_drift == 1 ? "" : "s", r.swap_pending ? " and an unfinished swap" : "",
                     r.duplicate[0] ? " and a duplicate resource" : "");
    status_report_release(&r);
    return rc;
}
