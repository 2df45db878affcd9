/* `up a|b` / `plan a|b` (see slot.h; SPEC.md "Clusters"). Read the shell and
 * the slot by tags, decide one diff entry per resource, then (up only):
 *   1. the config bucket and its bootstrap files;
 *   2. extras: ingress ones leave their ELBs, then all are terminated;
 *   3. launches: one RunInstances per role and zone, all in parallel;
 *   4. wait until every instance of the slot runs;
 *   5. api/auth DNS records; 6. ingress nodes into their ELB.
 * With master_count = 3 the API balancer (plans/slot_api.c) is made before
 * step 3, and the running masters join it before step 5. */
#include "plans/slot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/batch.h"
#include "aws/elb.h"
#include "aws/s3.h"
#include "aws/sts.h"
#include "core/strmap.h"
#include "plans/bootstrap.h"
#include "plans/elb_members.h"
#include "plans/auth_store.h"
#include "plans/pki_store.h"
#include "plans/private_zone.h"
#include "plans/shell.h"
#include "plans/slot_api.h"
#include "plans/slot_iam.h"
#include "plans/slot_net.h"
#include "plans/tags.h"
#include "run/wait.h"

#define SLOT_N_FILES 5
/* Root volume of every node (GiB): images, etcd and logs need more than a
 * stock image's 8 GiB. */
#define SLOT_ROOT_GB 30

const char *slot_role_name(enum slot_role r)
{
    static const char *const names[SLOT_N_ROLES] = { "auth", "master", "ingress", "minion" };
    return names[r];
}

int slot_role_of(const char *name)
{
    for (int r = 0; r < SLOT_N_ROLES; r++)
        if (strcmp(name, slot_role_name((enum slot_role)r)) == 0)
            return r;
    return -1;
}

int slot_check_name(const char *slot, struct err *e)
{
    if (!slot || config_slot_index(slot) < 0)
        return err_set(e, ERR_USAGE, "unknown slot '%s' (a or b)", slot ? slot : "");
    return 0;
}

int slot_instance_alive(const struct ec2_instance *i)
{
    return strcmp(i->state, "pending") == 0 || strcmp(i->state, "running") == 0 ||
           strcmp(i->state, "stopping") == 0 || strcmp(i->state, "stopped") == 0;
}

int slot_is_live(const struct ec2_instance *in, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (slot_instance_alive(&in[i]) && strcmp(in[i].tags.role, "ingress") == 0 &&
            strcmp(in[i].tags.traffic, "live") == 0)
            return 1;
    return 0;
}

int slot_read_instances(struct paas *p, const char *slot,
                        struct ec2_instance **out, size_t *n, struct err *e)
{
    struct ec2_filter f[] = {
        { "tag:" TAG_PAAS, { p->cfg.name, NULL } },
        { "tag:" TAG_SLOT, { slot, NULL } },
    };
    return ec2_describe_instances(&p->aws, f, 2, out, n, e);
}

int slot_bucket_name(struct paas *p, const char *slot, char *out, size_t size,
                     int *exists, struct err *e)
{
    /* Owned by another account is an error (s3.c names it), never a reason
     * to pick another name: the name is the contract the nodes rely on. */
    snprintf(out, size, "%s-%s-config", p->cfg.name, slot);
    if (s3_head_bucket(&p->aws, out, exists, e) < 0)
        return err_wrap(e, "slot bucket %s", out);
    return 0;
}

void slot_record_name(const struct paas *p, const char *slot, const char *host,
                      char *out, size_t size)
{
    size_t n = strlen(p->cfg.dns_zone);
    snprintf(out, size, "%s.%s.k8s.%.240s%s", host, slot, p->cfg.dns_zone,
             n && p->cfg.dns_zone[n - 1] == '.' ? "" : ".");
}

/* ---- the plan's state --------------------------------------------------- */

/* One alive instance with its role and zone index (-1 when unknown). */
struct slot_inst {
    struct ec2_instance *i;
    int role, zone;
    int retag;                 /* kept, with incomplete tags: repair them */
};

/* One role in one zone. */
struct slot_group {
    int want;
    size_t first, n_have;      /* range in the sorted alive array */
    int keep, launch;          /* keep the oldest `keep`; launch `launch` */
    size_t d_first;            /* diff index of the first "+" entry */
};

struct slot_file {
    char key[32];
    struct buf body;
    char md5[33];
    int upload;
};

struct slot_plan {
    const char *slot;
    const struct cluster_config *cc;
    struct shell_world *shell;
    int have_shell;
    struct ec2_instance *seen;
    size_t n_seen;
    struct slot_inst *alive;
    size_t n_alive;
    struct slot_group g[SLOT_N_ROLES][SHELL_Z];
    const char **extras, **start;
    size_t n_extras, n_start, n_retag;
    char traffic[16];
    char bucket[64];
    int have_bucket, bucket_tags;
    struct s3_object *objects;
    size_t n_objects;
    struct slot_file files[SLOT_N_FILES];
    struct pki_store pki;
    struct auth_store auth;       /* Keycloak's secrets and realm */
    struct r53_record *records;
    size_t n_records;
    size_t d_dns[2];
    int dns_todo;
    int elb_todo[SHELL_N_LB];
    struct ec2_instance *now;     /* after the wait: every alive instance */
    size_t n_now;
    struct slot_iam iam;          /* roles and instance profiles */
    struct slot_net net;          /* the slot's security groups */
    struct pzone pz;              /* the shell's private zone: api/auth */
    struct slot_api api;          /* master_count = 3: the API balancer */
};

static void slot_plan_release(struct slot_plan *s)
{
    if (s->shell) {
        shell_world_release(s->shell);
        free(s->shell);
    }
    free(s->seen);
    free(s->alive);
    free(s->extras);
    free(s->start);
    free(s->objects);
    for (int f = 0; f < SLOT_N_FILES; f++)
        buf_release_secret(&s->files[f].body);
    pki_store_release(&s->pki);
    auth_store_release(&s->auth);
    free(s->records);
    free(s->now);
    slot_iam_release(&s->iam);
    slot_api_release(&s->api);
}

int slot_cluster_role_count(const struct cluster_config *cc, enum slot_role r)
{
    return r == ROLE_INGRESS ? cc->ingress_count
         : r == ROLE_MINION ? cc->minion_count
         : r == ROLE_MASTER ? cc->master_count : 1;
}

static int slot_role_count(const struct slot_plan *s, int r)
{
    return slot_cluster_role_count(s->cc, (enum slot_role)r);
}

const char *slot_cluster_role_type(const struct cluster_config *cc, enum slot_role r)
{
    return r == ROLE_AUTH ? cc->auth_type : r == ROLE_MASTER ? cc->master_type
         : r == ROLE_INGRESS ? cc->ingress_type : cc->minion_type;
}

static const char *slot_role_type(const struct slot_plan *s, int r)
{
    return slot_cluster_role_type(s->cc, (enum slot_role)r);
}

int slot_spread(int count, int nz, int z)
{
    return count / nz + (z < count % nz ? 1 : 0);
}

/* ---- reading --------------------------------------------------------------- */

static int slot_shell_ready(const struct paas *p, const struct shell_world *w)
{
    int ok = w->have_vpc && w->have_sg[SG_NODE] && w->have_lb[LB_PRELIVE] &&
             w->have_lb[LB_LIVE] && w->have_zone;
    for (int z = 0; z < p->cfg.n_zones; z++)
        ok = ok && w->have_priv[z];
    return ok;
}

static int slot_cmp_inst(const void *a, const void *b)
{
    const struct slot_inst *x = a, *y = b;
    int c;
    if (x->role != y->role)
        return x->role < y->role ? -1 : 1;
    if (x->zone != y->zone)
        return x->zone < y->zone ? -1 : 1;
    c = strcmp(x->i->launch_time, y->i->launch_time);
    return c ? c : strcmp(x->i->id, y->i->id);
}

/* The alive instances, sorted by role, zone and age (oldest first). */
static int slot_sort_alive(struct paas *p, struct slot_plan *s, struct err *e)
{
    s->alive = calloc(s->n_seen + 1, sizeof(*s->alive));
    if (!s->alive)
        return err_set(e, ERR_FAILED, "out of memory");
    for (size_t i = 0; i < s->n_seen; i++) {
        struct slot_inst *x;
        int z = -1;
        if (!slot_instance_alive(&s->seen[i]))
            continue;
        for (int k = 0; k < p->cfg.n_zones; k++)
            if (strcmp(s->seen[i].az, p->cfg.zones[k]) == 0)
                z = k;
        x = &s->alive[s->n_alive++];
        x->i = &s->seen[i];
        x->role = slot_role_of(s->seen[i].tags.role);
        x->zone = z;
    }
    qsort(s->alive, s->n_alive, sizeof(*s->alive), slot_cmp_inst);
    return 0;
}

/* The slot's PKI and the auth server's secrets, from the bucket listing. */
static int slot_read_secrets(struct paas *p, struct slot_plan *s, struct err *e)
{
    char auth[300];
    slot_record_name(p, s->slot, "auth", auth, sizeof(auth));
    auth[strlen(auth) - 1] = '\0';
    if (pki_store_read(p, s->bucket, s->objects, s->n_objects, &s->pki, e) < 0)
        return -1;
    return auth_store_read(p, s->bucket, auth, s->slot, s->objects, s->n_objects,
                           &s->auth, e);
}

static int slot_read_files(struct paas *p, struct slot_plan *s, struct err *e)
{
    char tag[32] = "";
    if (slot_bucket_name(p, s->slot, s->bucket, sizeof(s->bucket), &s->have_bucket, e) < 0)
        return -1;
    if (!s->have_bucket)
        return slot_read_secrets(p, s, e);
    if (s3_get_bucket_tag(&p->aws, s->bucket, TAG_PAAS, tag, sizeof(tag), e) < 0)
        return -1;
    s->bucket_tags = strcmp(tag, p->cfg.name) != 0;
    if (s3_list_with_etags(&p->aws, s->bucket, "", &s->objects, &s->n_objects, e) < 0)
        return -1;
    return slot_read_secrets(p, s, e);
}

static int slot_read(struct paas *p, struct slot_plan *s, struct err *e)
{
    s->shell = calloc(1, sizeof(*s->shell));
    if (!s->shell)
        return err_set(e, ERR_FAILED, "out of memory");
    if (shell_read(p, SHELL_READ_FOR_SLOT, s->shell, e) < 0)
        return -1;
    if (pzone_read(p, &s->pz, e) < 0)
        return -1;
    s->have_shell = slot_shell_ready(p, s->shell) && s->pz.have;
    if (slot_read_instances(p, s->slot, &s->seen, &s->n_seen, e) < 0 ||
        slot_sort_alive(p, s, e) < 0 || slot_read_files(p, s, e) < 0 ||
        slot_iam_read(p, s->slot, s->bucket, &s->iam, e) < 0 ||
        slot_net_read(p, s->slot, s->shell, &s->net, e) < 0)
        return -1;
    if (s->pz.have &&
        r53_list_records(&p->aws, s->pz.zone.id, &s->records, &s->n_records, e) < 0)
        return -1;
    return slot_api_read(p, s->slot, &s->api, e);
}

/* ---- deciding ----------------------------------------------------------------- */

static int slot_render_files(struct paas *p, struct slot_plan *s, struct err *e)
{
    static const char *const keys[SLOT_N_FILES] = {
        "bootstrap.sh", "env/auth.env", "env/master.env", "env/ingress.env",
        "env/minion.env" };
    char api[300], auth[300], ports[8 * CONFIG_MAX_LISTENERS] = "";
    const char *path = strchr(p->cfg.health_target, '/');
    for (int i = 0; i < p->cfg.n_listeners; i++)
        snprintf(ports + strlen(ports), sizeof(ports) - strlen(ports), "%s%d",
                 i ? " " : "", p->cfg.listeners[i].instance_port);
    slot_record_name(p, s->slot, "api", api, sizeof(api));
    slot_record_name(p, s->slot, "auth", auth, sizeof(auth));
    api[strlen(api) - 1] = auth[strlen(auth) - 1] = '\0';
    for (int f = 0; f < SLOT_N_FILES; f++) {
        struct bootstrap_vars v = { .n = 0 };
        struct slot_file *file = &s->files[f];
        snprintf(file->key, sizeof(file->key), "%s", keys[f]);
        buf_init(&file->body);
        bootstrap_var(&v, "NAME", p->cfg.name);
        bootstrap_var(&v, "SLOT", s->slot);
        bootstrap_var(&v, "ROLE", f ? slot_role_name((enum slot_role)(f - 1)) : "");
        bootstrap_var(&v, "REGION", p->aws.region);
        bootstrap_var(&v, "BUCKET", s->bucket);
        bootstrap_var(&v, "API_HOST", api);
        bootstrap_var(&v, "AUTH_HOST", auth);
        bootstrap_var(&v, "VPC_CIDR", p->cfg.vpc_cidr.text);
        bootstrap_var(&v, "INGRESS_PORTS", ports);
        bootstrap_var(&v, "HEALTH_PATH", path ? path : "/");
        bootstrap_cluster_vars(&v, s->cc);
        slot_api_vars(p, s->cc, &v);
        pki_store_vars(&s->pki, f ? slot_role_name((enum slot_role)(f - 1)) : "", &v);
        if (bootstrap_render(f ? bootstrap_env_template() : bootstrap_script(), &v,
                             &file->body, e) < 0)
            return -1;
        s3_md5_hex(buf_str(&file->body), file->body.len, file->md5);
    }
    return 0;
}

static void slot_decide_files(struct slot_plan *s, struct diff *d)
{
    diff_add(d, !s->have_bucket ? DIFF_CREATE : s->bucket_tags ? DIFF_UPDATE : DIFF_EXISTS,
             "bucket", s->bucket, NULL, "bootstrap files of slot %s%s", s->slot,
             s->have_bucket && s->bucket_tags ? "; add its paasctl tags" : "");
    pki_store_decide(&s->pki, d);
    auth_store_decide(&s->auth, s->bucket, d);
    for (int f = 0; f < SLOT_N_FILES; f++) {
        struct slot_file *file = &s->files[f];
        const struct s3_object *o = NULL;
        for (size_t k = 0; k < s->n_objects && !o; k++)
            if (strcmp(s->objects[k].key, file->key) == 0)
                o = &s->objects[k];
        file->upload = !o || strcmp(o->etag, file->md5) != 0;
        diff_add(d, !o ? DIFF_CREATE : file->upload ? DIFF_UPDATE : DIFF_EXISTS,
                 "object", file->key, NULL, "s3://%s/%s, %zu bytes%s", s->bucket,
                 file->key, file->body.len, o && file->upload ? ", content changed" : "");
    }
}

/* New ingress nodes join the slot's current traffic: live if the slot is. */
static void slot_decide_traffic(struct slot_plan *s)
{
    snprintf(s->traffic, sizeof(s->traffic), "%s",
             slot_is_live(s->seen, s->n_seen) ? "live" : "prelive");
}

static int slot_push(const char ***list, size_t *n, size_t cap, const char *id)
{
    if (!*list && !(*list = calloc(cap + 1, sizeof(**list))))
        return -1;
    (*list)[(*n)++] = id;
    return 0;
}

/* The diff entry of one kept instance: =, or ~ when stopped or its tags
 * are incomplete. */
static int slot_decide_kept(struct paas *p, struct slot_plan *s, int r, int z,
                            struct slot_inst *x, struct diff *d)
{
    struct ec2_instance *i = x->i;
    struct res_tags rt;
    int stopped = strcmp(i->state, "stopped") == 0 || strcmp(i->state, "stopping") == 0;
    int retag;
    res_tags_init(&rt, p->cfg.name, s->slot, slot_role_name((enum slot_role)r),
                  r == ROLE_INGRESS ? s->traffic : NULL, "%s-%d",
                  slot_role_name((enum slot_role)r), z + 1);
    retag = x->retag = !res_tags_complete(&rt, &i->tags);
    s->n_retag += (size_t)retag;
    if (stopped && slot_push(&s->start, &s->n_start, s->n_seen, i->id) < 0)
        return -1;
    diff_add(d, stopped || retag ? DIFF_UPDATE : DIFF_EXISTS, "instance", i->tags.name,
             i->id, "%s %s in %s%s%s%s%s", slot_role_name((enum slot_role)r), i->type,
             i->az, i->tags.traffic[0] ? ", " : "", i->tags.traffic,
             stopped ? "; start it" : "", retag ? "; complete its tags" : "");
    return 0;
}

static int slot_decide_group(struct paas *p, struct slot_plan *s, int r, int z,
                             struct diff *d)
{
    struct slot_group *g = &s->g[r][z];
    const char *role = slot_role_name((enum slot_role)r);
    char name[128];
    g->want = slot_spread(slot_role_count(s, r), p->cfg.n_zones, z);
    g->keep = (int)g->n_have < g->want ? (int)g->n_have : g->want;
    g->launch = g->want - g->keep;
    for (int k = 0; k < g->keep; k++)
        if (slot_decide_kept(p, s, r, z, &s->alive[g->first + k], d) < 0)
            return -1;
    snprintf(name, sizeof(name), "%s-%s-%s-%d", p->cfg.name, s->slot, role, z + 1);
    g->d_first = d->n;
    for (int k = 0; k < g->launch; k++)
        diff_add(d, DIFF_CREATE, "instance", name, NULL, "%s %s in %s%s%s", role,
                 slot_role_type(s, r), p->cfg.zones[z], r == ROLE_INGRESS ? ", " : "",
                 r == ROLE_INGRESS ? s->traffic : "");
    /* The newest are the extras: they sit at the end of the range. */
    for (size_t k = (size_t)g->keep; k < g->n_have; k++) {
        struct ec2_instance *i = s->alive[g->first + k].i;
        if (slot_push(&s->extras, &s->n_extras, s->n_seen, i->id) < 0)
            return -1;
        diff_add(d, DIFF_DESTROY, "instance", i->tags.name, i->id,
                 "%s %s in %s, launched %s (newest extra%s)", role, i->type, i->az,
                 i->launch_time, r == ROLE_INGRESS ? "; leaves its ELBs first" : "");
    }
    return 0;
}

/* Each group's range in the sorted alive array; instances of an unknown
 * role or zone are extras. */
static int slot_decide_instances(struct paas *p, struct slot_plan *s,
                                 struct diff *d)
{
    for (size_t i = 0; i < s->n_alive; i++) {
        const struct slot_inst *x = &s->alive[i];
        struct slot_group *g;
        if (x->role < 0 || x->zone < 0) {
            if (slot_push(&s->extras, &s->n_extras, s->n_seen, x->i->id) < 0)
                return -1;
            diff_add(d, DIFF_DESTROY, "instance", x->i->tags.name, x->i->id,
                     "role '%s' in %s is not part of the configuration",
                     x->i->tags.role, x->i->az);
            continue;
        }
        g = &s->g[x->role][x->zone];
        if (g->n_have++ == 0)
            g->first = i;
    }
    for (int r = 0; r < SLOT_N_ROLES; r++)
        for (int z = 0; z < p->cfg.n_zones; z++)
            if (slot_decide_group(p, s, r, z, d) < 0)
                return -1;
    return 0;
}

static const struct r53_record *slot_find_record(const struct slot_plan *s,
                                                 const char *name)
{
    for (size_t i = 0; i < s->n_records; i++)
        if (strcmp(s->records[i].name, name) == 0 && strcmp(s->records[i].type, "A") == 0)
            return &s->records[i];
    return NULL;
}

/* The private IP of the slot's kept instance of role r, or NULL. */
static const char *slot_kept_ip(const struct slot_plan *s, int r)
{
    for (int z = 0; z < SHELL_Z; z++)
        if (s->g[r][z].keep > 0)
            return s->alive[s->g[r][z].first].i->private_ip;
    return NULL;
}

/* The slot's two records: api -> the master, auth -> the auth server. */
static const char *const slot_dns_hosts[2] = { "api", "auth" };
static const int slot_dns_roles[2] = { ROLE_MASTER, ROLE_AUTH };

/* master_count = 3: api is an alias of the API balancer (slot_api.h). */
static void slot_decide_api_record(struct slot_plan *s, const char *name,
                                   const struct r53_record *rec, struct diff *d)
{
    char detail[300];
    enum diff_op op = !rec ? DIFF_CREATE : slot_api_record_ok(&s->api, rec) ? DIFF_EXISTS
                    : DIFF_UPDATE;
    slot_api_record_detail(&s->api, detail, sizeof(detail));
    s->dns_todo |= op != DIFF_EXISTS;
    s->d_dns[0] = diff_add(d, op, "dns-record", name, NULL, "%s", detail);
}

/* The kept masters' ids, and the API balancer's members line. */
static int slot_decide_api_members(struct paas *p, struct slot_plan *s, struct diff *d)
{
    const char **ids = calloc(s->n_alive + 1, sizeof(*ids));
    size_t n = 0;
    int launch = 0;
    if (!ids)
        return -1;
    for (int z = 0; z < p->cfg.n_zones; z++) {
        const struct slot_group *g = &s->g[ROLE_MASTER][z];
        for (int k = 0; k < g->keep; k++)
            ids[n++] = s->alive[g->first + k].i->id;
        launch += g->launch;
    }
    slot_api_decide_members(&s->api, ids, n, launch, d);
    free(ids);
    return 0;
}

static void slot_decide_dns(struct paas *p, struct slot_plan *s, struct diff *d)
{
    const char *const *hosts = slot_dns_hosts;
    const int *roles = slot_dns_roles;
    for (int h = 0; h < 2; h++) {
        char name[300];
        const struct r53_record *rec;
        const char *ip = slot_kept_ip(s, roles[h]);
        enum diff_op op;
        slot_record_name(p, s->slot, hosts[h], name, sizeof(name));
        rec = slot_find_record(s, name);
        if (h == 0 && s->api.want) {
            slot_decide_api_record(s, name, rec, d);
            continue;
        }
        op = !rec ? DIFF_CREATE
           : !ip || rec->n_values != 1 || strcmp(rec->values[0], ip) != 0 ? DIFF_UPDATE
           : DIFF_EXISTS;
        s->dns_todo |= op != DIFF_EXISTS;
        s->d_dns[h] = diff_add(d, op, "dns-record", name, NULL, "A %s (the %s's private IP)",
                               ip ? ip : "-", slot_role_name((enum slot_role)roles[h]));
    }
}

/* Ingress nodes (kept and new) must be members of the ELB of their
 * traffic tag; new ones and missing members are registered. */
static void slot_decide_elb(struct paas *p, struct slot_plan *s, struct diff *d)
{
    for (int l = 0; l < SHELL_N_LB; l++) {
        const char *traffic = l == LB_LIVE ? "live" : "prelive";
        const struct elb_lb *lb = &s->shell->lb[l];
        size_t want = 0, missing = 0;
        for (int z = 0; z < p->cfg.n_zones; z++) {
            const struct slot_group *g = &s->g[ROLE_INGRESS][z];
            for (int k = 0; k < g->keep; k++) {
                const struct ec2_instance *i = s->alive[g->first + k].i;
                const char *t = i->tags.traffic[0] ? i->tags.traffic : s->traffic;
                if (strcmp(t, traffic) != 0)
                    continue;
                want++;
                missing += !s->shell->have_lb[l] || !elb_lb_has(lb, i->id);
            }
            if (strcmp(s->traffic, traffic) == 0) {
                want += (size_t)g->launch;
                missing += (size_t)g->launch;
            }
        }
        s->elb_todo[l] = missing > 0;
        if (want == 0)
            continue;
        diff_add(d, missing ? DIFF_UPDATE : DIFF_EXISTS, "elb-members",
                 l == LB_LIVE ? p->cfg.live_name : p->cfg.prelive_name, NULL,
                 "%zu ingress node(s) of slot %s%s", want, s->slot,
                 missing ? "; register the missing ones" : "");
    }
}

/* The Kubernetes version (SPEC.md "Clusters"): what new instances install,
 * and what the running ones were built with. A slot is not upgraded in
 * place (that is what the other slot is for), so a difference is shown,
 * not acted on. */
static void slot_decide_version(struct paas *p, struct slot_plan *s, struct diff *d)
{
    const char *other = NULL;
    char name[64];
    for (size_t i = 0; i < s->n_alive; i++) {
        const char *v = s->alive[i].i->tags.k8s_version;
        if (v[0] && strcmp(v, s->cc->kubernetes_version) != 0)
            other = v;
    }
    snprintf(name, sizeof(name), "%s-%s", p->cfg.name, s->slot);
    diff_add(d, DIFF_EXISTS, "kubernetes", name, NULL, "version %s%s%s%s",
             s->cc->kubernetes_version, other ? "; running instances were built with " : "",
             other ? other : "", other ? " (bring up the other slot to upgrade)" :
             s->n_alive ? "" : " for the instances to launch");
}

static int slot_decide(struct paas *p, struct slot_plan *s, struct diff *d,
                       struct err *e)
{
    if (slot_render_files(p, s, e) < 0)
        return -1;
    slot_decide_traffic(s);
    slot_decide_version(p, s, d);
    slot_decide_files(s, d);
    slot_iam_decide(&s->iam, d);
    slot_net_decide(p, s->slot, s->shell, &s->net, d);
    slot_api_decide(s->shell, &s->api, d);
    if (slot_decide_instances(p, s, d) < 0 || slot_decide_api_members(p, s, d) < 0)
        return err_set(e, ERR_FAILED, "out of memory");
    slot_decide_dns(p, s, d);
    slot_decide_elb(p, s, d);
    if (d->failed)
        return err_set(e, ERR_FAILED, "out of memory");
    return 0;
}

/* ---- applying -------------------------------------------------------------------- */

static int slot_apply_files(struct paas *p, struct slot_plan *s, struct err *e)
{
    struct s3_bucket_tag t[] = {
        { "Name", s->bucket }, { TAG_PAAS, p->cfg.name }, { TAG_SLOT, s->slot },
        { TAG_ROLE, "bucket" },
    };
    int created;
    /* CreateBucket takes no tags: tag right after; every `up` checks them. */
    if (!s->have_bucket && s3_create_bucket(&p->aws, s->bucket, &created, e) < 0)
        return err_wrap(e, "creating bucket %s", s->bucket);
    if ((!s->have_bucket || s->bucket_tags) &&
        s3_put_bucket_tags(&p->aws, s->bucket, t, 4, e) < 0)
        return err_wrap(e, "tagging bucket %s", s->bucket);
    if (pki_store_apply(p, s->bucket, &s->pki, e) < 0 ||
        auth_store_apply(p, s->bucket, &s->auth, e) < 0)
        return -1;
    for (int f = 0; f < SLOT_N_FILES; f++) {
        struct slot_file *file = &s->files[f];
        if (file->upload &&
            s3_put_secret(&p->aws, s->bucket, file->key, buf_str(&file->body),
                          file->body.len, 0, e) < 0)
            return err_wrap(e, "uploading s3://%s/%s", s->bucket, file->key);
    }
    return 0;
}

/* Extras leave every ELB they are in, then go, in one call each. */
static int slot_apply_extras(struct paas *p, struct slot_plan *s, struct err *e)
{
    struct aws_batch b;
    int rc;
    if (s->n_extras == 0)
        return 0;
    for (int l = 0; l < SHELL_N_LB; l++)
        if (s->shell->have_lb[l] &&
            elb_members_apply(p, &s->shell->lb[l], ELB_MEMBERS_REMOVE, s->extras,
                              s->n_extras, e) < 0)
            return err_wrap(e, "taking extra ingress nodes out of %s", s->shell->lb[l].name);
    aws_batch_init(&b);
    ec2_terminate_instances(&b, s->extras, s->n_extras);
    rc = aws_batch_run(&p->aws, &b, e);
    aws_batch_release(&b);
    return rc < 0 ? err_wrap(e, "terminating %zu extra instance(s)", s->n_extras) : 0;
}

static int slot_apply_start(struct paas *p, struct slot_plan *s,
                                  struct err *e)
{
    struct aws_batch b;
    int rc;
    if (s->n_start == 0)
        return 0;
    aws_batch_init(&b);
    ec2_start_instances(&b, s->start, s->n_start);
    rc = aws_batch_run(&p->aws, &b, e);
    aws_batch_release(&b);
    return rc < 0 ? err_wrap(e, "starting stopped instances") : 0;
}

/* The traffic value a repaired ingress node gets: its own when it has one
 * (a repair never moves traffic), else the slot's. NULL for other roles. */
static const char *slot_retag_traffic(const struct slot_plan *s, const struct slot_inst *x)
{
    if (x->role != ROLE_INGRESS)
        return NULL;
    return x->i->tags.traffic[0] ? x->i->tags.traffic : s->traffic;
}

/* One CreateTags call for the marked instances of alive[first, end) that
 * get the same traffic value as alive[lead]; they are unmarked. */
static int slot_retag_run(struct paas *p, struct slot_plan *s, size_t lead, size_t end,
                          const char **ids, struct err *e)
{
    const struct slot_inst *x = &s->alive[lead];
    const char *traffic = slot_retag_traffic(s, x);
    const char *keys[5], *vals[5];
    struct res_tags rt;
    size_t n = 0;
    res_tags_init(&rt, p->cfg.name, s->slot, slot_role_name((enum slot_role)x->role),
                  traffic, "%s-%d", slot_role_name((enum slot_role)x->role), x->zone + 1);
    for (size_t t = 0; t < rt.n; t++) {
        keys[t] = rt.t[t].key;
        vals[t] = rt.t[t].value;
    }
    for (size_t a = lead; a < end; a++) {
        struct slot_inst *y = &s->alive[a];
        const char *ty = slot_retag_traffic(s, y);
        if (y->retag && (!traffic || strcmp(ty, traffic) == 0)) {
            ids[n++] = y->i->id;
            y->retag = 0;
        }
    }
    if (ec2_create_tags(&p->aws, ids, n, keys, vals, rt.n, e) < 0)
        return err_wrap(e, "tagging %zu %s instance(s) in %s", n,
                        slot_role_name((enum slot_role)x->role), x->i->az);
    return 0;
}

/* Repairs incomplete tags (rare: tags are set at creation; this mends hand
 * edits). The tag set is the same for every instance of one role in one
 * zone (and, for ingress nodes, one traffic value), so each such group is
 * one CreateTags call however many instances it holds. alive is sorted by
 * role and zone, so a group is a range. */
static int slot_apply_retag(struct paas *p, struct slot_plan *s, struct err *e)
{
    const char **ids;
    int rc = 0;
    if (s->n_retag == 0)
        return 0;
    ids = calloc(s->n_alive + 1, sizeof(*ids));
    if (!ids)
        return err_set(e, ERR_FAILED, "out of memory");
    for (size_t a = 0; a < s->n_alive && rc == 0;) {
        size_t end = a;
        while (end < s->n_alive && s->alive[end].role == s->alive[a].role &&
               s->alive[end].zone == s->alive[a].zone)
            end++;
        for (size_t k = a; k < end && rc == 0; k++)
            if (s->alive[k].retag)
                rc = slot_retag_run(p, s, k, end, ids, e);
        a = end;
    }
    free(ids);
    return rc;
}

/* The ClientToken of group (r, z): every instance of it ever seen. */
static void slot_token(struct paas *p, struct slot_plan *s, int r, int z,
                       char token[65])
{
    const char **ids = calloc(s->n_seen + 1, sizeof(*ids));
    size_t n = 0;
    for (size_t i = 0; ids && i < s->n_seen; i++)
        if (strcmp(s->seen[i].tags.role, slot_role_name((enum slot_role)r)) == 0 &&
            strcmp(s->seen[i].az, p->cfg.zones[z]) == 0)
            ids[n++] = s->seen[i].id;
    res_client_token(token, p->cfg.name, s->slot, slot_role_name((enum slot_role)r), z,
                     s->g[r][z].launch, ids, n);
    free(ids);
}

static int slot_user_data(struct paas *p, struct slot_plan *s, int r,
                          struct buf *out, struct err *e)
{
    struct bootstrap_vars v = { .n = 0 };
    bootstrap_var(&v, "SLOT", s->slot);
    bootstrap_var(&v, "ROLE", slot_role_name((enum slot_role)r));
    bootstrap_var(&v, "REGION", p->aws.region);
    bootstrap_var(&v, "BUCKET", s->bucket);
    return bootstrap_render(bootstrap_user_data_template(), &v, out, e);
}

static int slot_add_launch(struct paas *p, struct slot_plan *s, int r, int z,
                           const char *root_dev, struct aws_batch *b, struct err *e)
{
    struct buf ud = BUF_INIT;
    struct res_tags rt;
    struct ec2_run_spec spec;
    struct ec2_tag tags[6];
    char token[65];
    if (slot_user_data(p, s, r, &ud, e) < 0) {
        buf_release(&ud);
        return -1;
    }
    slot_token(p, s, r, z, token);
    res_tags_init(&rt, p->cfg.name, s->slot, slot_role_name((enum slot_role)r),
                  r == ROLE_INGRESS ? s->traffic : NULL, "%s-%d",
                  slot_role_name((enum slot_role)r), z + 1);
    memcpy(tags, rt.t, rt.n * sizeof(tags[0]));
    tags[rt.n] = (struct ec2_tag){ TAG_K8S_VERSION, s->cc->kubernetes_version };
    spec = (struct ec2_run_spec){
        .ami = s->cc->ami, .type = slot_role_type(s, r),
        .subnet = s->shell->priv[z].id, .security_group = s->net.sg[SLOT_SG_NODE].id,
        .key_name = p->cfg.key_name, .user_data = buf_str(&ud),
        .client_token = token, .count = s->g[r][z].launch,
        .tags = tags, .n_tags = rt.n + 1,
        .extra_group = r == ROLE_MASTER ? s->net.sg[SLOT_SG_MASTER].id : NULL,
        .iam_profile = s->iam.name[slot_iam_kind_of(r)],
        .imds_v2_only = 1, .root_device = root_dev, .root_gb = SLOT_ROOT_GB,
        .tag_volumes = 1,
    };
    ec2_run_instances(b, &spec)->ref = r * SHELL_Z + z;
    buf_release(&ud);
    return 0;
}

/* The AMI's root device, so the mapping encrypts the root volume rather
 * than adding a second one (Ubuntu /dev/sda1, Debian /dev/xvda). One call,
 * only when something launches. */
static int slot_root_device(struct paas *p, struct slot_plan *s, char *out,
                            size_t size, struct err *e)
{
    int found = 0, any = 0;
    for (int r = 0; r < SLOT_N_ROLES; r++)
        for (int z = 0; z < p->cfg.n_zones; z++)
            any |= s->g[r][z].launch > 0;
    snprintf(out, size, "/dev/sda1");
    if (!any || ec2_image_root_device(&p->aws, s->cc->ami, out, size, &found, e) < 0)
        return any ? -1 : 0;
    if (!found) {
        log_info(&p->log, "image %s not found by DescribeImages; assuming root device "
                 "/dev/sda1", s->cc->ami);
        snprintf(out, size, "/dev/sda1");
    }
    return 0;
}

/* One RunInstances per role and zone with something to launch, all in
 * parallel; the new ids go into the diff entries. */
static int slot_apply_launch(struct paas *p, struct slot_plan *s, struct diff *d,
                             struct err *e)
{
    struct aws_batch b;
    char root_dev[64];
    int rc = slot_root_device(p, s, root_dev, sizeof(root_dev), e);
    aws_batch_init(&b);
    for (int r = 0; r < SLOT_N_ROLES && rc == 0; r++)
        for (int z = 0; z < p->cfg.n_zones && rc == 0; z++)
            if (s->g[r][z].launch > 0)
                rc = slot_add_launch(p, s, r, z, root_dev, &b, e);
    if (rc == 0)
        rc = slot_iam_run_launch(p, &b, e);
    for (size_t i = 0; i < b.n; i++) {
        const struct slot_group *g = &s->g[b.items[i].ref / SHELL_Z][b.items[i].ref % SHELL_Z];
        struct ec2_instance *ins;
        size_t n;
        struct err ignored;
        err_init(&ignored);
        if (b.items[i].state != 1 || ec2_run_result(&b.items[i], &ins, &n, &ignored) < 0)
            continue;
        for (size_t k = 0; k < n && k < (size_t)g->launch; k++)
            diff_set_id(d, g->d_first + k, ins[k].id);
        free(ins);
    }
    aws_batch_release(&b);
    return rc < 0 ? err_wrap(e, "launching instances") : 0;
}

/* Waits until every alive instance of the slot runs and there are as many
 * as configured; keeps the final list (IPs for DNS, ids for the ELB). */
static int slot_wait_running(struct paas *p, struct slot_plan *s, struct err *e)
{
    struct wait w;
    struct strmap extras;
    char what[64];
    size_t want = 0;
    int rc = 0;
    for (int r = 0; r < SLOT_N_ROLES; r++)
        want += (size_t)slot_role_count(s, r);
    if (strmap_index_strs(&extras, s->extras, s->n_extras) < 0)
        return err_set(e, ERR_FAILED, "out of memory");
    snprintf(what, sizeof(what), "instances of slot %s running", s->slot);
    wait_init(&w, what, WAIT_INSTANCES_S);
    for (;;) {
        size_t running = 0, alive = 0;
        char status[64];
        free(s->now);
        s->now = NULL;
        if ((rc = slot_read_instances(p, s->slot, &s->now, &s->n_now, e)) < 0)
            break;
        for (size_t i = 0; i < s->n_now; i++) {
            const struct ec2_instance *x = &s->now[i];
            if (strmap_has(&extras, x->id) || !slot_instance_alive(x))
                continue;
            alive++;
            running += strcmp(x->state, "running") == 0;
        }
        snprintf(status, sizeof(status), "%zu/%zu running", running, want);
        wait_progress(p, &w, status);
        /* A just-launched instance may not be listed yet: wait for all. */
        if (running == alive && alive >= want)
            break;
        if ((rc = wait_next(p, &w, e)) < 0)
            break;
    }
    if (rc == 0)
        wait_done(p, &w);
    strmap_release(&extras);
    return rc;
}

/* The running instance of role r (after the wait), or NULL. */
static const struct ec2_instance *slot_now_role(const struct slot_plan *s, int r)
{
    for (size_t i = 0; i < s->n_now; i++)
        if (strcmp(s->now[i].state, "running") == 0 &&
            strcmp(s->now[i].tags.role, slot_role_name((enum slot_role)r)) == 0)
            return &s->now[i];
    return NULL;
}

/* The record api/auth should be now (0), or 1 when it is so already. */
static int slot_dns_want(struct paas *p, struct slot_plan *s, int h, struct r53_record *rec,
                         char *detail, size_t size)
{
    const struct ec2_instance *i = slot_now_role(s, slot_dns_roles[h]);
    const struct r53_record *have;
    slot_record_name(p, s->slot, slot_dns_hosts[h], rec->name, sizeof(rec->name));
    have = slot_find_record(s, rec->name);
    if (h == 0 && s->api.want) {
        slot_api_record(&s->api, rec->name, rec);
        slot_api_record_detail(&s->api, detail, size);
        return slot_api_record_ok(&s->api, have);
    }
    if (!i || !i->private_ip[0])
        return 1;
    snprintf(rec->type, sizeof(rec->type), "A");
    rec->ttl = 60;
    rec->n_values = 1;
    snprintf(rec->values[0], sizeof(rec->values[0]), "%s", i->private_ip);
    snprintf(detail, size, "A %s (the %s's private IP)", i->private_ip,
             slot_role_name((enum slot_role)slot_dns_roles[h]));
    return have && !have->alias_dns[0] && have->n_values == 1 &&
           strcmp(have->values[0], i->private_ip) == 0;
}

static int slot_apply_dns(struct paas *p, struct slot_plan *s, struct diff *d,
                          struct err *e)
{
    struct r53_record rec[2];
    struct r53_change ch[4];
    size_t n = 0;
    for (int h = 0; h < 2; h++) {
        const struct r53_record *have;
        char detail[sizeof(d->items[0].detail)];
        memset(&rec[h], 0, sizeof(rec[h]));
        if (slot_dns_want(p, s, h, &rec[h], detail, sizeof(detail)))
            continue;
        have = slot_find_record(s, rec[h].name);
        /* An alias and a plain record of one name are not UPSERTed into
         * each other: the old one goes in the same atomic change. */
        if (have && !have->alias_dns[0] != !rec[h].alias_dns[0])
            ch[n++] = (struct r53_change){ "DELETE", have };
        snprintf(d->items[s->d_dns[h]].detail, sizeof(d->items[0].detail), "%s", detail);
        ch[n++] = (struct r53_change){ "UPSERT", &rec[h] };
    }
    if (r53_change(&p->aws, s->pz.zone.id, ch, n, e) < 0)
        return err_wrap(e, "setting the api/auth records of slot %s", s->slot);
    return 0;
}

/* The running masters join the API balancer (master_count = 3). */
static int slot_apply_api_members(struct paas *p, struct slot_plan *s, struct err *e)
{
    const char **ids = calloc(s->n_now + 1, sizeof(*ids));
    size_t n = 0;
    int rc;
    if (!ids)
        return err_set(e, ERR_FAILED, "out of memory");
    for (size_t i = 0; i < s->n_now; i++)
        if (strcmp(s->now[i].state, "running") == 0 &&
            strcmp(s->now[i].tags.role, "master") == 0)
            ids[n++] = s->now[i].id;
    rc = slot_api_apply_members(p, &s->api, ids, n, e);
    free(ids);
    return rc;
}

static int slot_apply_elb(struct paas *p, struct slot_plan *s, struct err *e)
{
    for (int l = 0; l < SHELL_N_LB; l++) {
        const char *traffic = l == LB_LIVE ? "live" : "prelive";
        const char **ids;
        size_t n = 0;
        int rc;
        if (!s->elb_todo[l])
            continue;
        ids = calloc(s->n_now + 1, sizeof(*ids));
        if (!ids)
            return err_set(e, ERR_FAILED, "out of memory");
        for (size_t i = 0; i < s->n_now; i++)
            if (strcmp(s->now[i].state, "running") == 0 &&
                strcmp(s->now[i].tags.role, "ingress") == 0 &&
                strcmp(s->now[i].tags.traffic, traffic) == 0)
                ids[n++] = s->now[i].id;
        rc = elb_members_apply(p, &s->shell->lb[l], ELB_MEMBERS_ADD, ids, n, e);
        free(ids);
        if (rc < 0)
            return err_wrap(e, "registering the ingress nodes of slot %s", s->slot);
    }
    return 0;
}

static int slot_apply(struct paas *p, struct slot_plan *s, struct diff *d,
                      struct err *e)
{
    if (slot_apply_files(p, s, e) < 0 ||
        wait_check_interrupt(p, "removing extra instances", e) < 0 ||
        slot_apply_extras(p, s, e) < 0 || slot_apply_start(p, s, e) < 0 ||
        slot_apply_retag(p, s, e) < 0 ||
        slot_iam_apply(p, s->slot, &s->iam, e) < 0 ||
        slot_net_apply(p, s->slot, s->shell, &s->net, d, e) < 0 ||
        slot_api_apply_lb(p, s->slot, s->shell, s->net.sg[SLOT_SG_API].id, &s->api, d,
                          e) < 0 ||
        wait_check_interrupt(p, "launching instances", e) < 0 ||
        slot_apply_launch(p, s, d, e) < 0 || slot_wait_running(p, s, e) < 0 ||
        slot_apply_api_members(p, s, e) < 0 ||
        slot_apply_dns(p, s, d, e) < 0 || slot_apply_elb(p, s, e) < 0)
        return -1;
    return 0;
}

/* SPEC.md "Clusters": master_count is not changed on a running slot. */
static int slot_refuse_api_change(struct paas *p, struct slot_plan *s, int apply,
                                  struct diff *d, struct err *e)
{
    char api[300];
    size_t masters = 0;
    for (size_t i = 0; i < s->n_alive; i++)
        masters += s->alive[i].role == ROLE_MASTER;
    slot_record_name(p, s->slot, "api", api, sizeof(api));
    return slot_api_refuse_change(s->slot, &s->api, slot_find_record(s, api), masters,
                                  apply, d, e);
}

int slot_check_config(const struct paas *p, const char *slot, struct err *e)
{
    if (slot_check_name(slot, e) < 0)
        return -1;
    if (!p->cfg.cluster[config_slot_index(slot)].present)
        return err_set(e, ERR_USAGE, "%s has no [cluster %s] section: slot %s cannot be "
                       "brought up until one is added", p->cfg.path, slot, slot);
    return 0;
}

int plan_up_slot(struct paas *p, const char *slot, int apply, struct diff *d,
                 struct err *e)
{
    struct slot_plan s;
    int rc = -1;
    if (slot_check_config(p, slot, e) < 0)
        return -1;
    memset(&s, 0, sizeof(s));
    s.slot = slot;
    s.cc = &p->cfg.cluster[config_slot_index(slot)];
    if (slot_read(p, &s, e) < 0 || shell_refuse_duplicates(s.shell->dup, apply, d, e) < 0 ||
        shell_refuse_duplicates(s.net.dup, apply, d, e) < 0 ||
        slot_refuse_api_change(p, &s, apply, d, e) < 0)
        goto out;
    if (!s.have_shell && apply) {
        err_set(e, ERR_REFUSED, "slot %s needs the shell (VPC, private subnets, node "
                "security group, both ELBs, the hosted zone and the private zone), and "
                "it is not all there: run 'paasctl up shell' first", slot);
        goto out;
    }
    if (!s.have_shell)
        snprintf(d->note, sizeof(d->note), "the shell is missing or incomplete: "
                 "'paasctl up %s' will refuse until 'paasctl up shell' has run", slot);
    if (slot_decide(p, &s, d, e) < 0)
        goto out;
    rc = apply && diff_changes(d) ? slot_apply(p, &s, d, e) : 0;
out:
    slot_plan_release(&s);
    return rc;
}
