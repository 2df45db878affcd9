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
#include "plans/converge.h"
#include "plans/slot.h"

#define PREFLIGHT_MAX_RUNNING_TYPES 256

/* ---- what this run wants ---------------------------------------------------- */

/* The type of the instance a `+ create` entry named name launches: the
 * bastion's for the shell, else its role's ("NAME-SLOT-ROLE-Z"). */
static const char *preflight_type_of(const struct paas *p, const char *target,
                                     const char *name)
{
    char prefix[96], role[32];
    const char *rest, *dash;
    int r, k = config_slot_index(target);
    if (k < 0)
        return p->cfg.bastion_type;
    snprintf(prefix, sizeof(prefix), "%s-%s-", p->cfg.name, target);
    if (strncmp(name, prefix, strlen(prefix)) != 0)
        return NULL;
    rest = name + strlen(prefix);
    dash = strrchr(rest, '-');
    snprintf(role, sizeof(role), "%.*s", dash ? (int)(dash - rest) : (int)strlen(rest), rest);
    r = slot_role_of(role);
    return r < 0 ? NULL : slot_cluster_role_type(&p->cfg.cluster[k], (enum slot_role)r);
}

static void preflight_add_type(struct preflight_want *w, const char *type)
{
    size_t i = 0;
    while (i < w->n_types && strcmp(w->types[i], type) != 0)
        i++;
    if (i == PREFLIGHT_MAX_TYPES)
        return;   /* a config has at most five types; never reached */
    if (i == w->n_types)
        snprintf(w->types[w->n_types++], sizeof(w->types[0]), "%s", type);
    w->count[i]++;
}

void preflight_want_from_diff(const struct paas *p, const char *target,
                              const struct diff *d, struct preflight_want *w)
{
    int k = config_slot_index(target);
    memset(w, 0, sizeof(*w));
    for (size_t i = 0; i < d->n; i++) {
        const struct diff_item *it = &d->items[i];
        const char *type;
        if (it->op != DIFF_CREATE)
            continue;
        if (strcmp(it->kind, "elastic-ip") == 0)
            w->eips++;
        if (strcmp(it->kind, "instance") != 0 || !(type = preflight_type_of(p, target, it->name)))
            continue;
        preflight_add_type(w, type);
        w->ami = k < 0 ? p->cfg.bastion_ami : p->cfg.cluster[k].ami;
    }
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

/* The vCPUs of the On-Demand standard instances running or pending in the
 * region (Spot instances count against quotas of their own). */
static int preflight_running_vcpus(struct paas *p, long *out, struct err *e)
{
    struct ec2_filter f[] = { { "instance-state-name", { "pending", "running", NULL } } };
    struct ec2_instance *in;
    const char *types[PREFLIGHT_MAX_RUNNING_TYPES];
    int count[PREFLIGHT_MAX_RUNNING_TYPES] = { 0 }, vcpus[PREFLIGHT_MAX_RUNNING_TYPES];
    size_t n, nt = 0;
    int rc = 0;
    *out = 0;
    if (ec2_describe_instances(&p->aws, f, 1, &in, &n, e) < 0)
        return -1;
    for (size_t i = 0; i < n && rc == 0; i++) {
        size_t k = 0;
        if (!preflight_standard_type(in[i].type) || strcmp(in[i].lifecycle, "spot") == 0)
            continue;
        while (k < nt && strcmp(types[k], in[i].type) != 0)
            k++;
        if (k == PREFLIGHT_MAX_RUNNING_TYPES)
            rc = err_set(e, ERR_FAILED, "pre-flight: more than %d instance types running",
                         PREFLIGHT_MAX_RUNNING_TYPES);
        else if (k == nt)
            types[nt++] = in[i].type;
        if (rc == 0)
            count[k]++;
    }
    if (rc == 0 && nt > 0)
        rc = ec2_instance_type_vcpus(&p->aws, types, nt, vcpus, e);
    for (size_t k = 0; rc == 0 && k < nt; k++)
        *out += (long)count[k] * vcpus[k];
    free(in);
    return rc;
}

/* The vCPUs this run launches of the standard family, and how they add up
 * ("3 x m5.large = 6, ...") into what. A type EC2 does not offer is a
 * problem of its own (1). */
static int preflight_new_vcpus(struct paas *p, const struct preflight_want *w, long *out,
                               struct buf *what, struct buf *b, int *n, struct err *e)
{
    const char *types[PREFLIGHT_MAX_TYPES];
    int vcpus[PREFLIGHT_MAX_TYPES];
    *out = 0;
    for (size_t i = 0; i < w->n_types; i++)
        types[i] = w->types[i];
    if (ec2_instance_type_vcpus(&p->aws, types, w->n_types, vcpus, e) < 0) {
        if (strcmp(e->code, "InvalidInstanceType") != 0)
            return -1;
        preflight_problem(b, n, "instance types: %s", e->msg);
        err_init(e);
        return 1;
    }
    for (size_t i = 0; i < w->n_types; i++) {
        if (!preflight_standard_type(types[i])) {
            log_info(&p->log, "pre-flight: %s is not of the On-Demand standard family; "
                     "its quota is not checked", types[i]);
            continue;
        }
        buf_printf(what, "%s%d x %s = %d", *out ? ", " : "", w->count[i], types[i],
                   w->count[i] * vcpus[i]);
        *out += (long)w->count[i] * vcpus[i];
    }
    return 0;
}

static int preflight_check_vcpus(struct paas *p, const struct preflight_want *w,
                                 struct buf *b, int *n, struct err *e)
{
    long want = 0, running = 0;
    double quota = 0;
    struct buf what;
    int rc;
    buf_init(&what);
    rc = preflight_new_vcpus(p, w, &want, &what, b, n, e);
    if (rc == 0 && want > 0 &&
        (preflight_running_vcpus(p, &running, e) < 0 ||
         preflight_quota(p, SQ_EC2_STANDARD_VCPUS, "Running On-Demand Standard (A, C, D, H, "
                         "I, M, R, T, Z) instances", &quota, e) < 0))
        rc = -1;
    if (rc != 0 || want == 0) {
        buf_release(&what);
        return rc < 0 ? -1 : 0;
    }
    log_debug(&p->log, 1, "pre-flight: vCPUs %ld running + %ld new, quota %.0f", running,
              want, quota);
    if ((double)(running + want) > quota)
        preflight_problem(b, n, "vCPUs: %ld wanted (%ld running in %s + %ld this run "
                          "launches: %s), quota %.0f (Running On-Demand Standard "
                          "instances, %s)", running + want, running, p->aws.region, want,
                          what.data, quota, SQ_EC2_STANDARD_VCPUS);
    buf_release(&what);
    return 0;
}

static int preflight_check_eips(struct paas *p, const struct preflight_want *w,
                                struct buf *b, int *n, struct err *e)
{
    struct ec2_address *a;
    size_t have;
    double quota;
    if (ec2_describe_addresses(&p->aws, NULL, 0, &a, &have, e) < 0)
        return -1;
    free(a);
    if (preflight_quota(p, SQ_EC2_VPC_EIPS, "EC2-VPC Elastic IPs", &quota, e) < 0)
        return -1;
    if ((double)(have + (size_t)w->eips) > quota)
        preflight_problem(b, n, "Elastic IPs: %zu wanted (%zu allocated in %s + %d for the "
                          "NAT gateways, one per zone), quota %.0f (EC2-VPC Elastic IPs, %s)",
                          have + (size_t)w->eips, have, p->aws.region, w->eips, quota,
                          SQ_EC2_VPC_EIPS);
    return 0;
}

int plan_preflight(struct paas *p, const char *target, struct err *e)
{
    struct diff d;
    struct preflight_want w;
    struct buf b;
    int n = 0, rc;
    if (p->skip_preflight) {
        log_info(&p->log, "pre-flight checks skipped (--skip-preflight)");
        return 0;
    }
    diff_init(&d, target);
    rc = plan_up(p, target, 0, &d, e);
    preflight_want_from_diff(p, target, &d, &w);
    diff_release(&d);
    if (rc < 0)
        return err_wrap(e, "pre-flight");
    buf_init(&b);
    if (w.ami)
        rc = preflight_check_image(p, w.ami, &b, &n, e);
    if (rc == 0 && w.n_types > 0)
        rc = preflight_check_vcpus(p, &w, &b, &n, e);
    if (rc == 0 && w.eips > 0)
        rc = preflight_check_eips(p, &w, &b, &n, e);
    if (rc == 0 && n > 0)
        rc = err_set(e, ERR_FAILED, "pre-flight: %d check%s failed, nothing was created "
                     "(fix them, ask AWS for a quota increase, or run with --skip-preflight "
                     "to try anyway):%s", n, n == 1 ? "" : "s", b.data ? b.data : "");
    buf_release(&b);
    return rc;
}
