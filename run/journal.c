/* The journal in S3 (see journal.h; SPEC.md "Lock and journal"). */
#include "run/journal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "aws/s3.h"
#include "run/identity.h"
#include "run/state.h"

int journal_append(struct paas *p, const char *outcome, const char *message,
                   json_t *changes, struct err *e)
{
    char id[33], when[32], key[256], user[64], host[256], stamp[32];
    struct timespec now;
    struct tm tm;
    json_t *rec;
    int rc;
    p->clock(&now);
    identity_random_id(id);
    identity_iso_time(now.tv_sec, when, sizeof(when));
    identity_user(user, sizeof(user));
    identity_host(host, sizeof(host));
    gmtime_r(&now.tv_sec, &tm);
    strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%S", &tm);
    /* Time to the microsecond first, so keys list in the order the commands
     * ran (a cutover and a rollback a second apart must not swap places);
     * the id keeps two records of one microsecond apart; the command name
     * last so journal_last() skips other commands without fetching them. */
    snprintf(key, sizeof(key), "%s/journal/%s.%06ldZ-%.8s-%s.json", p->cfg.name, stamp,
             now.tv_nsec / 1000, id, p->command ? p->command : "unknown");
    rec = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "time", when, "id", id,
                    "command", p->command ? p->command : "?",
                    "command_line", p->command_line, "user", user,
                    "host", host, "outcome", outcome, "message", message ? message : "");
    if (!rec)
        return err_set(e, ERR_FAILED, "out of memory");
    json_object_set(rec, "changes", changes ? changes : json_null());
    rc = state_put_json(p, key, rec, 0, e);
    json_decref(rec);
    return rc;
}

static int journal_fetch(struct paas *p, const char *key, json_t *into,
                         struct err *e)
{
    json_t *rec;
    if (state_get_json(p, key, &rec, e) < 0)
        return -1;
    if (rec)
        json_array_append_new(into, rec);
    return 0;
}

struct journal_keys {
    char **keys;
    size_t n, cap;
    const char *prefix;     /* "NAME/journal/" */
};

static int journal_collect(const char *key, void *ctx, struct err *e)
{
    struct journal_keys *k = ctx;
    if (strncmp(key, k->prefix, strlen(k->prefix)) != 0)
        return 0;
    if (util_grow(&k->keys, &k->cap, k->n, sizeof(*k->keys)) < 0)
        return err_set(e, ERR_FAILED, "out of memory");
    k->keys[k->n] = strdup(key);
    if (!k->keys[k->n])
        return err_set(e, ERR_FAILED, "out of memory");
    k->n++;
    return 0;
}

/* Every journal key, oldest first (they begin with the time). The listing
 * asks for the prefix NAME, not NAME/journal/: moto 5.2.1 verifies S3
 * signatures against the decoded query, so any value holding an encoded '/'
 * fails there even from the AWS SDKs, while a paas name never needs
 * encoding. The lock and swap keys that come along are filtered here. */
static int journal_keys(struct paas *p, struct journal_keys *k, char *prefix,
                        size_t size, struct err *e)
{
    memset(k, 0, sizeof(*k));
    snprintf(prefix, size, "%s/journal/", p->cfg.name);
    k->prefix = prefix;
    if (s3_list_objects(&p->aws, p->cfg.state_bucket, p->cfg.name, journal_collect, k, e) == 0)
        return 0;
    if (strcmp(e->code, "NoSuchBucket") == 0) {
        err_init(e);
        return 0;
    }
    return -1;
}

static void journal_keys_release(struct journal_keys *k)
{
    for (size_t i = 0; i < k->n; i++)
        free(k->keys[i]);
    free(k->keys);
}

int journal_list(struct paas *p, size_t max, json_t **out, struct err *e)
{
    struct journal_keys k;
    char prefix[128];
    int rc = journal_keys(p, &k, prefix, sizeof(prefix), e);
    *out = json_array();
    for (size_t i = k.n; rc == 0 && i > 0 && (max == 0 || json_array_size(*out) < max); i--)
        rc = journal_fetch(p, k.keys[i - 1], *out, e);
    journal_keys_release(&k);
    if (rc < 0) {
        json_decref(*out);
        *out = NULL;
    }
    return rc;
}

/* "...-cutover.json" for command "cutover". */
static int journal_key_is(const char *key, const char *command)
{
    size_t kl = strlen(key), cl = strlen(command);
    return kl > cl + 6 && key[kl - cl - 6] == '-' &&
           strncmp(key + kl - cl - 5, command, cl) == 0 &&
           strcmp(key + kl - 5, ".json") == 0;
}

static int journal_matches(json_t *rec, const char *command)
{
    const char *c = json_string_value(json_object_get(rec, "command"));
    const char *o = json_string_value(json_object_get(rec, "outcome"));
    return c && o && strcmp(c, command) == 0 && strcmp(o, "ok") == 0;
}

int journal_last(struct paas *p, const char *command, json_t **out,
                 struct err *e)
{
    struct journal_keys k;
    char prefix[128];
    json_t *one = json_array();
    int rc = journal_keys(p, &k, prefix, sizeof(prefix), e);
    *out = NULL;
    for (size_t i = k.n; rc == 0 && i > 0 && !*out; i--) {
        if (!journal_key_is(k.keys[i - 1], command))
            continue;
        json_array_clear(one);
        rc = journal_fetch(p, k.keys[i - 1], one, e);
        if (rc == 0 && journal_matches(json_array_get(one, 0), command))
            *out = json_incref(json_array_get(one, 0));
    }
    journal_keys_release(&k);
    json_decref(one);
    return rc;
}
