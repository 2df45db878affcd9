/* Pre-flight checks before `up` creates anything (see preflight.h; README
 * "Pre-flight"). Every check runs and every failure is reported at once, so
 * one run tells the operator all there is to fix. */
#include "plans/preflight.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/ec2.h"
#include "aws/servicequotas.h"
#include "core/buf.h"
#include "plans/shell.h"
#include "plans/slot.h"

#define PREFLIGHT_MAX_RUNNING_TYPES 256

/* ---- what this run wants ---------------------------------------------------- */

/* Adds launch new and start stopped instances of type to w. */
static void preflight_add(struct preflight_want *w, const char *type, int launch, int start)
{
    size_t i = 0;
    while (i < w->n_types && strcmp(w->types[i], type) != 0)
        i++;
    if (i == PREFLIGHT_MAX_TYPES)
        return;   /* see PREFLIGHT_MAX_TYPES: a config has at most five types */
    if (i == w->n_types)
        snprintf(w->types[w->n_types++], sizeof(w->types[0]), "%s", type);
    w->count[i] += launch;
    w->starts[i] += start;
}

static int preflight_stopped(const struct ec2_instance *i)
{
    return strcmp(i->state, "stopped") == 0 || strcmp(i->state, "stopping") == 0;
}

/* Slot k's launches, role by role and zone by zone as slot.c decides them,
 * and its stopped instances, which up starts. */
static void preflight_want_slot(const struct paas *p, int k, const char *slot,
                                const struct ec2_instance *in, size_t n,
                                struct preflight_want *w)
{
    const struct cluster_config *cc = &p->cfg.cluster[k];
    int have[SLOT_N_ROLES][CONFIG_MAX_ZONES] = { { 0 } };
    for (size_t i = 0; i < n; i++) {
        int r = slot_role_of(in[i].tags.role), z = shell_zone_index(&p->cfg, in[i].az);
        if (strcmp(in[i].tags.paas, p->cfg.name) != 0 || strcmp(in[i].tags.slot, slot) != 0 ||
            !slot_instance_alive(&in[i]) || r < 0 || z < 0)
            continue;
        have[r][z]++;
        if (preflight_stopped(&in[i]))
            preflight_add(w, in[i].type, 0, 1);
    }
    for (int r = 0; r < SLOT_N_ROLES; r++)
        for (int z = 0; z < p->cfg.n_zones; z++) {
            int count = slot_cluster_role_count(cc, (enum slot_role)r);
            int launch = slot_spread(count, p->cfg.n_zones, z) - have[r][z];
            if (launch <= 0)
                continue;
            preflight_add(w, slot_cluster_role_type(cc, (enum slot_role)r), launch, 0);
            w->ami = cc->ami;
        }
}

void preflight_want_instances(const struct paas *p, const char *target,
                              const struct ec2_instance *in, size_t n,
                              struct preflight_want *w)
{
    int k = config_slot_index(target);
    memset(w, 0, sizeof(*w));
    if (k >= 0) {
        preflight_want_slot(p, k, target, in, n, w);
        return;
    }
    /* The shell's one instance, found as shell.c finds it: by paas and
     * role, any alive state (a stopped bastion is kept, not started). */
    for (size_t i = 0; i < n; i++)
        if (strcmp(in[i].tags.paas, p->cfg.name) == 0 &&
            strcmp(in[i].tags.role, "bastion") == 0 && slot_instance_alive(&in[i]))
            return;
    preflight_add(w, p->cfg.bastion_type, 1, 0);
    w->ami = p->cfg.bastion_ami;
}

int preflight_want_eips(const struct paas *p, const struct ec2_address *a, size_t n)
{
    int have[CONFIG_MAX_ZONES] = { 0 }, want = 0;
    for (size_t i = 0; i < n; i++) {
        int z = shell_name_zone(p, &a[i].tags, "eip");
        if (z >= 0 && strcmp(a[i].tags.paas, p->cfg.name) == 0 &&
            strcmp(a[i].tags.role, "eip") == 0)
            have[z] = 1;
    }
    for (int z = 0; z < p->cfg.n_zones; z++)
        want += !have[z];
    return want;
}

int preflight_standard_type(const char *type)
{
    /* The family is the letters before the generation digit: "m" of
     * m5.large, "im" of im4gn; inf, trn, dl, hpc, mac, u, x, p, g, f, vt
     * have quotas of their own. */
    static const char *const standard[] = { "a", "c", "d", "h", "i", "m", "r", "t", "z",
                                            "im", "is", NULL };
    char family[16];
    size_t n = 0;
    while (type[n] && isalpha((unsigned char)type[n]) && n + 1 < sizeof(family)) {
        family[n] = (char)tolower((unsigned char)type[n]);
        n++;
    }
    family[n] = '\0';
    for (size_t i = 0; standard[i]; i++)
        if (strcmp(family, standard[i]) == 0)
            return 1;
    return 0;
}

/* ---- the checks ------------------------------------------------------------- */

/* One failed check, as a line of the final message. */
static void preflight_problem(struct buf *b, int *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void preflight_problem(struct buf *b, int *n, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    buf_printf(b, "\n  - %s", line);
    (*n)++;
}

/* A quota of EC2's; AccessDenied says how to go on without the check. */
static int preflight_quota(struct paas *p, const char *code, const char *what,
                           double *value, struct err *e)
{
    char why[sizeof(e->msg)];
    if (sq_get_quota(&p->aws, "ec2", code, value, e) == 0)
        return 0;
    if (strcmp(e->code, "AccessDeniedException") != 0 && e->http_status != 403)
        return err_wrap(e, "pre-flight: reading the quota '%s' (%s)", what, code);
    snprintf(why, sizeof(why), "%s", e->msg);
    return err_set(e, ERR_FAILED, "pre-flight: Service Quotas refused to tell the quota "
                   "'%s' (%s): %s. Allow servicequotas:GetServiceQuota and "
                   "servicequotas:GetAWSDefaultServiceQuota, or run with --skip-preflight "
                   "to go on without the quota checks", what, code, why);
}

static int preflight_check_image(struct paas *p, const char *ami, struct buf *b, int *n,
                                 struct err *e)
{
    struct ec2_image img;
    int found;
    if (ec2_describe_image(&p->aws, ami, &img, &found, e) < 0)
        return -1;
    if (!found)
        preflight_problem(b, n, "image %s: not found in %s (AMIs are per region; copy it "
                          "here or set this region's id)", ami, p->aws.region);
    else if (strcmp(img.architecture, "x86_64") != 0)
        preflight_problem(b, n, "image %s (%s): architecture %s, but the nodes need x86_64 "
                          "(amd64)", ami, img.name, img.architecture[0] ? img.architecture
                          : "unknown");
    else if (img.state[0] && strcmp(img.state, "available") != 0)
        preflight_problem(b, n, "image %s (%s): state %s, not available", ami, img.name,
                          img.state);
    return 0;
}

/* Every instance type the vCPU check needs, with how many of each run,
 * this run launches and this run starts: the run's types first, then the
 * ones running elsewhere in the region. */
struct preflight_tally {
    const char *types[PREFLIGHT_MAX_RUNNING_TYPES];
    int running[PREFLIGHT_MAX_RUNNING_TYPES], vcpus[PREFLIGHT_MAX_RUNNING_TYPES];
    size_t n;
};

/* The On-Demand standard instances pending or running in the region (Spot
 * instances count against quotas of their own), added to t after w's types
 * (the first w->n_types entries). */
static int preflight_tally(const struct preflight_want *w, const struct ec2_instance *in,
                           size_t n, struct preflight_tally *t, struct err *e)
{
    memset(t, 0, sizeof(*t));
    for (size_t k = 0; k < w->n_types; k++)
        t->types[t->n++] = w->types[k];
    for (size_t i = 0; i < n; i++) {
        size_t k = 0;
        if (preflight_stopped(&in[i]) || !preflight_standard_type(in[i].type) ||
            strcmp(in[i].lifecycle, "spot") == 0)
            continue;
        while (k < t->n && strcmp(t->types[k], in[i].type) != 0)
            k++;
        if (k == PREFLIGHT_MAX_RUNNING_TYPES)
            return err_set(e, ERR_FAILED, "pre-flight: more than %d instance types running",
                           PREFLIGHT_MAX_RUNNING_TYPES);
        if (k == t->n)
            t->types[t->n++] = in[i].type;
        t->running[k]++;
    }
    return 0;
}

/* What this run adds of the standard family ("3 x m5.large = 6, 1 stopped
 * x c5.large = 2, ...") into what, its vCPUs into *out. */
static long preflight_new_vcpus(struct paas *p, const struct preflight_want *w,
                                const struct preflight_tally *t, struct buf *what)
{
    long sum = 0;
    for (size_t k = 0; k < w->n_types; k++) {
        if (!preflight_standard_type(w->types[k])) {
            log_info(&p->log, "pre-flight: %s is not of the On-Demand standard family; "
                     "its quota is not checked", w->types[k]);
            continue;
        }
        if (w->count[k])
            buf_printf(what, "%s%d x %s = %d", what->len ? ", " : "", w->count[k],
                       w->types[k], w->count[k] * t->vcpus[k]);
        if (w->starts[k])
            buf_printf(what, "%s%d stopped x %s = %d", what->len ? ", " : "", w->starts[k],
                       w->types[k], w->starts[k] * t->vcpus[k]);
        sum += (long)(w->count[k] + w->starts[k]) * t->vcpus[k];
    }
    return sum;
}

/* The vCPU quota against what runs plus what this run launches or starts:
 * one DescribeInstanceTypes for all the types, and the quota only when the
 * run adds standard vCPUs. A type EC2 does not offer is a problem of its
 * own. */
static int preflight_check_vcpus(struct paas *p, const struct preflight_want *w,
                                 const struct ec2_instance *in, size_t n,
                                 struct buf *b, int *np, struct err *e)
{
    struct preflight_tally t;
    long want, running = 0;
    double quota = 0;
    struct buf what;
    if (preflight_tally(w, in, n, &t, e) < 0)
        return -1;
    if (ec2_instance_type_vcpus(&p->aws, t.types, t.n, t.vcpus, e) < 0) {
        if (strcmp(e->code, "InvalidInstanceType") != 0)
            return -1;
        preflight_problem(b, np, "instance types: %s", e->msg);
        err_init(e);
        return 0;
    }
    for (size_t k = 0; k < t.n; k++)
        running += (long)t.running[k] * t.vcpus[k];
    buf_init(&what);
    want = preflight_new_vcpus(p, w, &t, &what);
    if (want > 0 && preflight_quota(p, SQ_EC2_STANDARD_VCPUS, "Running On-Demand Standard "
                                    "(A, C, D, H, I, M, R, T, Z) instances", &quota, e) < 0) {
        buf_release(&what);
        return -1;
    }
    log_debug(&p->log, 1, "pre-flight: vCPUs %ld running + %ld new, quota %.0f", running,
              want, quota);
    if (want > 0 && (double)(running + want) > quota)
        preflight_problem(b, np, "vCPUs: %ld wanted (%ld running in %s + %ld this run "
                          "launches or starts: %s), quota %.0f (Running On-Demand Standard "
                          "instances, %s)", running + want, running, p->aws.region, want,
                          buf_str(&what), quota, SQ_EC2_STANDARD_VCPUS);
    buf_release(&what);
    return 0;
}

/* The Elastic IPs: the region's allocated ones, and the shell's among
 * them, from the one DescribeAddresses; the quota only when the run
 * allocates one. */
static int preflight_check_eips(struct paas *p, struct buf *b, int *np, struct err *e)
{
    struct ec2_address *a;
    size_t have;
    int want;
    double quota;
    if (ec2_describe_addresses(&p->aws, NULL, 0, &a, &have, e) < 0)
        return -1;
    want = preflight_want_eips(p, a, have);
    free(a);
    if (want == 0)
        return 0;
    if (preflight_quota(p, SQ_EC2_VPC_EIPS, "EC2-VPC Elastic IPs", &quota, e) < 0)
        return -1;
    if ((double)(have + (size_t)want) > quota)
        preflight_problem(b, np, "Elastic IPs: %zu wanted (%zu allocated in %s + %d for the "
                          "NAT gateways, one per zone), quota %.0f (EC2-VPC Elastic IPs, %s)",
                          have + (size_t)want, have, p->aws.region, want, quota,
                          SQ_EC2_VPC_EIPS);
    return 0;
}

/* The checks, in the order they are reported: the image, the vCPUs, the
 * Elastic IPs (the shell's only). */
static int preflight_checks(struct paas *p, const char *target, struct buf *b, int *np,
                            struct err *e)
{
    struct ec2_filter f[] = {
        { "instance-state-name", { "pending", "running", "stopping", "stopped", NULL } } };
    struct ec2_instance *in;
    struct preflight_want w;
    size_t n;
    int rc = 0;
    if (ec2_describe_instances(&p->aws, f, 1, &in, &n, e) < 0)
        return err_wrap(e, "pre-flight");
    preflight_want_instances(p, target, in, n, &w);
    if (w.ami)
        rc = preflight_check_image(p, w.ami, b, np, e);
    if (rc == 0 && w.n_types > 0)
        rc = preflight_check_vcpus(p, &w, in, n, b, np, e);
    free(in);
    if (rc == 0 && config_slot_index(target) < 0)
        rc = preflight_check_eips(p, b, np, e);
    return rc;
}

int plan_preflight(struct paas *p, const char *target, struct err *e)
{
    struct buf b;
    int n = 0, rc;
    if (p->skip_preflight) {
        log_info(&p->log, "pre-flight checks skipped (--skip-preflight)");
        return 0;
    }
    buf_init(&b);
    rc = preflight_checks(p, target, &b, &n, e);
    if (rc == 0 && n > 0)
        rc = err_set(e, ERR_FAILED, "pre-flight: %d check%s failed, nothing was created "
                     "(fix them, ask AWS for a quota increase, or run with --skip-preflight "
                     "to try anyway):%s", n, n == 1 ? "" : "s", b.data ? b.data : "");
    buf_release(&b);
    return rc;
}
