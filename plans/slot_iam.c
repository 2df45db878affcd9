/* The IAM side of a slot (see slot_iam.h; SPEC.md "Clusters", IAM). */
#include "plans/slot_iam.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <ctype.h>
#include <stdlib.h>

#include "aws/iam.h"
#include "core/util.h"
#include "plans/auth_store.h"
#include "plans/slot.h"
#include "plans/tags.h"
#include "run/wait.h"

#define SLOT_IAM_PATH "/paasctl/"

static const char *const slot_iam_suffix[SLOT_IAM_N] = { "master", "node", "auth" };

enum slot_iam_kind slot_iam_kind_of(int role)
{
    return role == ROLE_MASTER ? SLOT_IAM_MASTER : role == ROLE_AUTH ? SLOT_IAM_AUTH
         : SLOT_IAM_NODE;
}

void slot_iam_name(const struct paas *p, const char *slot,
                   enum slot_iam_kind k, char *out, size_t size)
{
    snprintf(out, size, "%s-%s-%s", p->cfg.name, slot, slot_iam_suffix[k]);
}

/* The ARN partition and EC2's service principal of the region. */
static const char *slot_iam_partition(const struct paas *p)
{
    return strncmp(p->aws.region, "cn-", 3) == 0 ? "aws-cn"
         : strncmp(p->aws.region, "us-gov-", 7) == 0 ? "aws-us-gov" : "aws";
}

static int slot_iam_dump(json_t *doc, struct buf *out, struct err *e)
{
    char *s = doc ? json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(doc);
    if (!s)
        return err_set(e, ERR_FAILED, "out of memory building an IAM policy");
    buf_puts(out, s);
    free(s);
    return 0;
}

static int slot_iam_trust(const struct paas *p, struct buf *out, struct err *e)
{
    const char *svc = strncmp(p->aws.region, "cn-", 3) == 0 ? "ec2.amazonaws.com.cn"
                                                            : "ec2.amazonaws.com";
    return slot_iam_dump(json_pack("{s:s, s:[{s:s, s:{s:s}, s:s}]}",
                                   "Version", "2012-10-17", "Statement",
                                   "Effect", "Allow", "Principal", "Service", svc,
                                   "Action", "sts:AssumeRole"), out, e);
}

static void slot_iam_add_key(json_t *res, const char *part, const char *bucket,
                             const char *key)
{
    char arn[1400];
    snprintf(arn, sizeof(arn), "arn:%s:s3:::%s/%s", part, bucket, key);
    json_array_append_new(res, json_string(arn));
}

/* Least privilege: s3:GetObject on the exact keys the role's nodes read
 * (their env files and bootstrap.sh), masters also secret/ (the PKI), the
 * auth server its TLS pair, credentials and realm (auth_store.h). No
 * listing, no writing, no other bucket. */
int slot_iam_policy(const struct paas *p, const char *bucket,
                    enum slot_iam_kind k, struct buf *out, struct err *e)
{
    const char *part = slot_iam_partition(p);
    json_t *res = json_array();
    char key[64];
    slot_iam_add_key(res, part, bucket, "bootstrap.sh");
    for (int r = 0; r < SLOT_N_ROLES; r++) {
        if (slot_iam_kind_of(r) != k)
            continue;
        snprintf(key, sizeof(key), "env/%s.env", slot_role_name((enum slot_role)r));
        slot_iam_add_key(res, part, bucket, key);
    }
    if (k == SLOT_IAM_MASTER)
        slot_iam_add_key(res, part, bucket, "secret/*");
    for (size_t i = 0; k == SLOT_IAM_AUTH && i < auth_store_n_node_keys; i++)
        slot_iam_add_key(res, part, bucket, auth_store_node_keys[i]);
    return slot_iam_dump(json_pack("{s:s, s:[{s:s, s:s, s:s, s:o}]}",
                                   "Version", "2012-10-17", "Statement",
                                   "Sid", "ReadSlotBootstrapFiles", "Effect", "Allow",
                                   "Action", "s3:GetObject", "Resource", res), out, e);
}

/* 1 when the two JSON documents mean the same (IAM may reformat them). */
static int slot_iam_same(const struct buf *a, const struct buf *b)
{
    json_t *x = json_loadb(buf_str(a), a->len, 0, NULL);
    json_t *y = json_loadb(buf_str(b), b->len, 0, NULL);
    int same = x && y && json_equal(x, y);
    json_decref(x);
    json_decref(y);
    return same;
}

int slot_iam_read(struct paas *p, const char *slot, const char *bucket,
                  struct slot_iam *s, struct err *e)
{
    memset(s, 0, sizeof(*s));
    for (int k = 0; k < SLOT_IAM_N; k++) {
        struct iam_profile prof;
        struct buf have = BUF_INIT;
        int rc;
        buf_init(&s->policy[k]);
        slot_iam_name(p, slot, (enum slot_iam_kind)k, s->name[k], sizeof(s->name[k]));
        if (slot_iam_policy(p, bucket, (enum slot_iam_kind)k, &s->policy[k], e) < 0 ||
            iam_get_role(&p->aws, s->name[k], &s->have_role[k], NULL, 0, e) < 0 ||
            iam_get_instance_profile(&p->aws, s->name[k], &s->have_profile[k], &prof, e) < 0)
            return err_wrap(e, "reading IAM role/profile %s", s->name[k]);
        for (size_t i = 0; i < prof.n_roles; i++)
            s->role_in_profile[k] |= strcmp(prof.roles[i], s->name[k]) == 0;
        if (!s->have_role[k])
            continue;
        rc = iam_get_role_policy(&p->aws, s->name[k], SLOT_IAM_POLICY,
                                 &s->have_policy[k], &have, e);
        s->policy_ok[k] = rc == 0 && s->have_policy[k] && slot_iam_same(&have, &s->policy[k]);
        buf_release(&have);
        if (rc < 0)
            return err_wrap(e, "reading the policy of IAM role %s", s->name[k]);
    }
    return 0;
}

static const char *const slot_iam_reads[SLOT_IAM_N] = {
    "master files and secret/", "node files", "auth files, its TLS pair and credentials" };
static const char *const slot_iam_for[SLOT_IAM_N] = { "master", "ingress and minion", "auth" };

void slot_iam_decide(struct slot_iam *s, struct diff *d)
{
    for (int k = 0; k < SLOT_IAM_N; k++) {
        diff_add(d, !s->have_role[k] ? DIFF_CREATE : !s->policy_ok[k] ? DIFF_UPDATE
                 : DIFF_EXISTS, "iam-role", s->name[k], NULL,
                 "%s%s, trusted by EC2; reads the slot bucket's %s%s", SLOT_IAM_PATH,
                 s->name[k], slot_iam_reads[k],
                 s->have_role[k] && !s->policy_ok[k] ? "; set its policy" : "");
        diff_add(d, !s->have_profile[k] ? DIFF_CREATE : !s->role_in_profile[k]
                 ? DIFF_UPDATE : DIFF_EXISTS, "instance-profile", s->name[k], NULL,
                 "for the %s instances%s", slot_iam_for[k],
                 s->have_profile[k] && !s->role_in_profile[k] ? "; add its role" : "");
    }
}

/* "already there" answers of a create that a crashed run made. */
static int slot_iam_exists_ok(struct err *e)
{
    if (strcmp(e->code, "EntityAlreadyExists") != 0)
        return -1;
    err_init(e);
    return 0;
}

/* The tags every IAM resource of the slot gets at creation (SPEC.md "Tags"):
 * rt keeps the strings t points into. */
static size_t slot_iam_tags(const struct paas *p, const char *slot, int k,
                            const char *role, struct res_tags *rt, struct iam_tag t[5])
{
    res_tags_init(rt, p->cfg.name, slot, role, NULL, "%s", slot_iam_suffix[k]);
    for (size_t i = 0; i < rt->n; i++)
        t[i] = (struct iam_tag){ rt->t[i].key, rt->t[i].value };
    return rt->n;
}

static int slot_iam_apply_one(struct paas *p, const char *slot, struct slot_iam *s,
                              int k, struct err *e)
{
    struct res_tags rt;
    struct iam_tag t[5];
    struct buf trust = BUF_INIT;
    size_t nt = slot_iam_tags(p, slot, k, "iam-role", &rt, t);
    int rc = 0;
    if (!s->have_role[k] && (rc = slot_iam_trust(p, &trust, e)) == 0 &&
        iam_create_role(&p->aws, s->name[k], SLOT_IAM_PATH, buf_str(&trust), t, nt, e) < 0)
        rc = slot_iam_exists_ok(e);
    buf_release(&trust);
    if (rc == 0 && !s->policy_ok[k])
        rc = iam_put_role_policy(&p->aws, s->name[k], SLOT_IAM_POLICY,
                                 buf_str(&s->policy[k]), e);
    nt = slot_iam_tags(p, slot, k, "instance-profile", &rt, t);
    if (rc == 0 && !s->have_profile[k] &&
        iam_create_instance_profile(&p->aws, s->name[k], SLOT_IAM_PATH, t, nt, e) < 0)
        rc = slot_iam_exists_ok(e);
    /* A profile holds one role: one read just before said ours is not
     * there, so a refusal (LimitExceeded) means another role is, an error. */
    if (rc == 0 && !s->role_in_profile[k])
        rc = iam_add_role_to_instance_profile(&p->aws, s->name[k], s->name[k], e);
    return rc < 0 ? err_wrap(e, "IAM role/profile %s", s->name[k]) : 0;
}

int slot_iam_apply(struct paas *p, const char *slot, struct slot_iam *s,
                   struct err *e)
{
    for (int k = 0; k < SLOT_IAM_N; k++)
        if (slot_iam_apply_one(p, slot, s, k, e) < 0)
            return -1;
    return 0;
}

void slot_iam_release(struct slot_iam *s)
{
    for (int k = 0; k < SLOT_IAM_N; k++)
        buf_release(&s->policy[k]);
}

/* EC2's answer while a new profile has not reached it yet:
 * "Value (NAME) for parameter iamInstanceProfile.name is invalid. Invalid
 * IAM Instance Profile name". */
static int slot_iam_not_yet(const struct err *e)
{
    char low[sizeof(e->msg)];
    size_t i;
    for (i = 0; e->msg[i] && i + 1 < sizeof(low); i++)
        low[i] = (char)tolower((unsigned char)e->msg[i]);
    low[i] = '\0';
    return strcmp(e->code, "InvalidParameterValue") == 0 &&
           (strstr(low, "instance profile") || strstr(low, "iaminstanceprofile"));
}

/* IAM is eventually consistent: EC2 may not see a new instance profile for
 * several seconds (AWS documents "a few seconds"; two minutes is ample). */
#define SLOT_IAM_WAIT_S 120

int slot_iam_run_launch(struct paas *p, struct aws_batch *b, struct err *e)
{
    struct wait w;
    int rc;
    wait_init(&w, "the new IAM instance profiles to reach EC2",
              (double)(p->knobs.iam_wait_s >= 0 ? p->knobs.iam_wait_s : SLOT_IAM_WAIT_S));
    for (;;) {
        size_t again = 0, other = 0;
        rc = aws_batch_run(&p->aws, b, e);
        if (rc == 0)
            break;
        for (size_t i = 0; i < b->n; i++) {
            if (b->items[i].state >= 0)
                continue;
            if (slot_iam_not_yet(&b->items[i].err)) {
                b->items[i].state = 0;
                again++;
            } else {
                other++;
            }
        }
        if (other || !again)
            break;
        wait_progress(p, &w, "EC2 does not know them yet");
        err_init(e);
        if (wait_next(p, &w, e) < 0)
            break;
    }
    wait_done(p, &w);
    return rc;
}

/* ---- teardown ------------------------------------------------------------- */

int slot_iam_teardown_read(struct paas *p, const char *slot,
                           struct slot_iam_gone *g, struct err *e)
{
    memset(g, 0, sizeof(*g));
    for (int k = 0; k < SLOT_IAM_N; k++) {
        struct iam_profile prof;
        slot_iam_name(p, slot, (enum slot_iam_kind)k, g->name[k], sizeof(g->name[k]));
        if (iam_get_role(&p->aws, g->name[k], &g->have_role[k], NULL, 0, e) < 0 ||
            iam_get_instance_profile(&p->aws, g->name[k], &g->have_profile[k], &prof, e) < 0)
            return err_wrap(e, "reading IAM role/profile %s", g->name[k]);
    }
    return 0;
}

void slot_iam_teardown_decide(const struct slot_iam_gone *g, struct diff *d)
{
    for (int k = 0; k < SLOT_IAM_N; k++) {
        if (g->have_profile[k])
            diff_add(d, DIFF_DESTROY, "instance-profile", g->name[k], NULL,
                     "IAM instance profile");
        if (g->have_role[k])
            diff_add(d, DIFF_DESTROY, "iam-role", g->name[k], NULL,
                     "IAM role and its inline policies");
    }
}

struct slot_iam_del {
    struct paas *p;
    const char *role;
};

static int slot_iam_del_policy(const char *name, void *ctx, struct err *e)
{
    struct slot_iam_del *x = ctx;
    return iam_delete_role_policy(&x->p->aws, x->role, name, e);
}

int slot_iam_teardown_apply(struct paas *p, const struct slot_iam_gone *g,
                            struct err *e)
{
    for (int k = 0; k < SLOT_IAM_N; k++) {
        struct slot_iam_del x = { p, g->name[k] };
        struct iam_profile prof;
        int found;
        if (iam_get_instance_profile(&p->aws, g->name[k], &found, &prof, e) < 0)
            return err_wrap(e, "teardown, IAM instance profile %s", g->name[k]);
        for (size_t i = 0; i < prof.n_roles; i++)
            if (iam_remove_role_from_instance_profile(&p->aws, g->name[k],
                                                      prof.roles[i], e) < 0)
                return err_wrap(e, "teardown, IAM instance profile %s", g->name[k]);
        if ((found && iam_delete_instance_profile(&p->aws, g->name[k], e) < 0) ||
            (g->have_role[k] &&
             (iam_list_role_policies(&p->aws, g->name[k], slot_iam_del_policy, &x, e) < 0 ||
              iam_delete_role(&p->aws, g->name[k], e) < 0)))
            return err_wrap(e, "teardown, IAM role/profile %s", g->name[k]);
    }
    return 0;
}
