/* The journal in S3 (see journal.h; SPEC.md "Lock and journal"). */
#include "plans/journal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/s3.h"
#include "plans/identity.h"

int journal_append(struct paas *p, const char *outcome, const char *message,
                   json_t *changes, struct err *e)
{
    char id[33], when[32], key[256], user[64], host[256], stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    json_t *rec;
    char *body;
    int rc;
    identity_random_id(id);
    identity_iso_time(now, when, sizeof(when));
    identity_user(user, sizeof(user));
    identity_host(host, sizeof(host));
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
    /* Time first so that keys list in order; the id keeps two records of
     * one second apart. */
    snprintf(key, sizeof(key), "%s/journal/%s-%.8s.json", p->cfg.name, stamp, id);
    rec = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "time", when, "id", id,
                    "command", p->command ? p->command : "?", "user", user,
                    "host", host, "outcome", outcome, "message", message ? message : "");
    if (!rec)
        return err_set(e, ERR_FAILED, "out of memory");
    json_object_set(rec, "changes", changes ? changes : json_null());
    body = json_dumps(rec, JSON_SORT_KEYS);
    json_decref(rec);
    if (!body)
        return err_set(e, ERR_FAILED, "out of memory");
    rc = s3_put_object(&p->aws, p->cfg.state_bucket, key, body, strlen(body),
                       "application/json", 0, e);
    free(body);
    return rc;
}

struct journal_keys {
    char **keys;
    size_t n, cap;
};

static int journal_collect(const char *key, void *ctx, struct err *e)
{
    struct journal_keys *k = ctx;
    if (k->n == k->cap) {
        size_t cap = k->cap ? k->cap * 2 : 64;
        char **p = realloc(k->keys, cap * sizeof(*p));
        if (!p)
            return err_set(e, ERR_FAILED, "out of memory");
        k->keys = p;
        k->cap = cap;
    }
    k->keys[k->n] = strdup(key);
    if (!k->keys[k->n])
        return err_set(e, ERR_FAILED, "out of memory");
    k->n++;
    return 0;
}

static int journal_fetch(struct paas *p, const char *key, json_t *into,
                         struct err *e)
{
    struct buf body = BUF_INIT;
    json_t *rec;
    if (s3_get_object(&p->aws, p->cfg.state_bucket, key, &body, e) < 0) {
        buf_release(&body);
        return -1;
    }
    rec = json_loadb(buf_str(&body), body.len, 0, NULL);
    buf_release(&body);
    if (rec)
        json_array_append_new(into, rec);
    return 0;
}

int journal_list(struct paas *p, size_t max, json_t **out, struct err *e)
{
    struct journal_keys k = { NULL, 0, 0 };
    char prefix[128];
    int rc;
    *out = json_array();
    snprintf(prefix, sizeof(prefix), "%s/journal/", p->cfg.name);
    rc = s3_list_objects(&p->aws, p->cfg.state_bucket, prefix, journal_collect, &k, e);
    if (rc < 0 && strcmp(e->code, "NoSuchBucket") == 0) {
        err_init(e);
        rc = 0;
    }
    /* Keys list oldest first; walk backwards for newest first. */
    for (size_t i = k.n; rc == 0 && i > 0 && (max == 0 || json_array_size(*out) < max); i--)
        rc = journal_fetch(p, k.keys[i - 1], *out, e);
    for (size_t i = 0; i < k.n; i++)
        free(k.keys[i]);
    free(k.keys);
    if (rc < 0) {
        json_decref(*out);
        *out = NULL;
    }
    return rc;
}
