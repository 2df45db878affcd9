/* The journal in S3 (see journal.h; SPEC.md "Lock and journal"). */
#include "run/journal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/util.h"
#include "aws/s3.h"
#include "run/identity.h"
#include "run/state.h"

/* 10^17 - 1: microseconds since the epoch stay below it until the year
 * 5138, so the inverted stamp keeps 17 digits. */
#define JOURNAL_INVERT 99999999999999999LL

/* The newest-first key of a record written at `now` (see journal.h): a
 * leading '0' (every such key sorts before the time-ordered keys of older
 * versions, which begin with the year), then the microseconds since the
 * epoch subtracted from 10^17 - 1 (17 digits: a later record sorts first),
 * then the UTC time for people reading the bucket, the id (two records of
 * one microsecond stay apart) and the command name last, so journal_last()
 * skips other commands without fetching them. */
static int journal_key(const struct paas *p, const struct timespec *now, const char *id,
                       char *key, size_t size, struct err *e)
{
    long long us = (long long)now->tv_sec * 1000000LL + now->tv_nsec / 1000;
    char stamp[32];
    struct tm tm;
    int n;
    gmtime_r(&now->tv_sec, &tm);
    strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%S", &tm);
    n = snprintf(key, size, "%s/journal/0%017lld-%s.%06ldZ-%.8s-%s.json", p->cfg.name,
                 JOURNAL_INVERT - us, stamp, now->tv_nsec / 1000, id,
                 p->command ? p->command : "unknown");
    if (n < 0 || (size_t)n >= size)
        return err_set(e, ERR_FAILED, "journal key for '%s' is too long", p->command);
    return 0;
}

int journal_append(struct paas *p, const char *outcome, const char *message,
                   json_t *changes, struct err *e)
{
    char id[33], when[32], key[256], user[64], host[256];
    struct timespec now;
    json_t *rec;
    int rc;
    p->clock(&now);
    identity_random_id(id);
    identity_iso_time(now.tv_sec, when, sizeof(when));
    identity_user(user, sizeof(user));
    identity_host(host, sizeof(host));
    if (journal_key(p, &now, id, key, sizeof(key), e) < 0)
        return -1;
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

/* ---- reading, newest first --------------------------------------------- */

/* The journal's keys as a listing meets them: newest-first keys (in that
 * order), then the time-ordered keys of older versions (oldest first). */
struct journal_scan {
    char prefix[64];          /* "NAME/journal/" */
    size_t want;              /* stop once this many newest-first keys; 0 = all */
    int page;                 /* keys per listing request (0 = 1000) */
    const char *command;      /* only keys of this command (NULL = all) */
    char *token;              /* the next page's, while there is one */
    int started;
    char **fresh, **old;      /* malloc'd keys */
    size_t n_fresh, n_old, cap_fresh, cap_old;
    int ended;                /* the listing went past the journal */
};

static int journal_push(char ***list, size_t *n, size_t *cap, const char *key,
                        struct err *e)
{
    if (util_grow(list, cap, *n, sizeof(**list)) < 0)
        return err_set(e, ERR_FAILED, "out of memory");
    if (!((*list)[*n] = strdup(key)))
        return err_set(e, ERR_FAILED, "out of memory");
    (*n)++;
    return 0;
}

/* "...-cutover.json" for command "cutover". */
static int journal_key_is(const char *key, const char *command)
{
    size_t kl = strlen(key), cl = strlen(command);
    return kl > cl + 6 && key[kl - cl - 6] == '-' &&
           strncmp(key + kl - cl - 5, command, cl) == 0 &&
           strcmp(key + kl - 5, ".json") == 0;
}

static int journal_collect(const char *key, void *ctx, struct err *e)
{
    struct journal_scan *k = ctx;
    size_t pl = strlen(k->prefix);
    if (k->ended)
        return 0;
    if (strncmp(key, k->prefix, pl) != 0) {
        /* Keys are listed in order: past NAME/journal/ there is no more. */
        k->ended = strcmp(key, k->prefix) > 0;
        return 0;
    }
    if (k->command && !journal_key_is(key, k->command))
        return 0;
    if (key[pl] != '0')
        return journal_push(&k->old, &k->n_old, &k->cap_old, key, e);
    /* Every key of the page is kept: the next page starts after it. */
    return journal_push(&k->fresh, &k->n_fresh, &k->cap_fresh, key, e);
}

/* Lists the journal on from where the last call stopped, until `want`
 * newest-first keys are seen (0: to the end). The listing asks for the
 * prefix NAME, starting after "NAME." ('.' sorts just before '/'), not for
 * NAME/journal/: moto 5.2.1 verifies S3 signatures against the decoded
 * query, so any value holding an encoded '/' fails there even from the AWS
 * SDKs, while a paas name never needs encoding. The start skips the keys of
 * other paas names that begin with this one ("prod-eu/" sorts before
 * "prod/"), so with newest-first keys the first page holds the newest
 * records: one short request. */
static int journal_scan(struct paas *p, struct journal_scan *k, struct err *e)
{
    char after[64];
    struct s3_list_opts o = { p->cfg.name, after, k->page };
    int rc = 0;
    snprintf(k->prefix, sizeof(k->prefix), "%s/journal/", p->cfg.name);
    snprintf(after, sizeof(after), "%s.", p->cfg.name);
    while (rc == 0 && !k->ended && (!k->started || k->token) &&
           !(k->want && k->n_fresh >= k->want)) {
        k->started = 1;
        rc = s3_list_page(&p->aws, p->cfg.state_bucket, &o, &k->token, journal_collect, k, e);
    }
    if (rc < 0 && strcmp(e->code, "NoSuchBucket") == 0) {
        err_init(e);
        k->ended = 1;
        return 0;
    }
    return rc;
}

static void journal_scan_release(struct journal_scan *k)
{
    free(k->token);
    for (size_t i = 0; i < k->n_fresh; i++)
        free(k->fresh[i]);
    for (size_t i = 0; i < k->n_old; i++)
        free(k->old[i]);
    free(k->fresh);
    free(k->old);
}

/* The i-th newest key the scan saw, or NULL past the last. */
static const char *journal_nth(const struct journal_scan *k, size_t i)
{
    if (i < k->n_fresh)
        return k->fresh[i];
    i -= k->n_fresh;
    return i < k->n_old ? k->old[k->n_old - 1 - i] : NULL;
}

int journal_list(struct paas *p, size_t max, json_t **out, struct err *e)
{
    /* The lock and swap keys follow the journal: one more key shows the end. */
    struct journal_scan k = { .want = max, .page = max && max < 999 ? (int)max + 1 : 0 };
    const char *key;
    int rc = journal_scan(p, &k, e);
    *out = json_array();
    for (size_t i = 0; rc == 0 && (max == 0 || i < max) && (key = journal_nth(&k, i)); i++)
        rc = journal_fetch(p, key, *out, e);
    journal_scan_release(&k);
    if (rc < 0) {
        json_decref(*out);
        *out = NULL;
    }
    return rc;
}

static int journal_matches(json_t *rec, const char *command, int ok_only)
{
    const char *c = json_string_value(json_object_get(rec, "command"));
    const char *o = json_string_value(json_object_get(rec, "outcome"));
    return c && o && strcmp(c, command) == 0 && (!ok_only || strcmp(o, "ok") == 0);
}

static int journal_find(struct paas *p, const char *command, int ok_only, json_t **out,
                        struct err *e)
{
    /* Pages of 100 keys: the last cutover is usually among the newest few
     * records, and a page is read only while no record of it was ok. */
    struct journal_scan k = { .want = 1, .page = 100, .command = command };
    const char *key;
    json_t *one = json_array();
    int rc = journal_scan(p, &k, e);
    *out = NULL;
    for (size_t i = 0; rc == 0 && !*out && (key = journal_nth(&k, i)); i++) {
        k.want = i + 2;   /* the next key, if this one is no match */
        json_array_clear(one);
        rc = journal_fetch(p, key, one, e);
        if (rc == 0 && journal_matches(json_array_get(one, 0), command, ok_only))
            *out = json_incref(json_array_get(one, 0));
        else if (rc == 0)
            rc = journal_scan(p, &k, e);
    }
    journal_scan_release(&k);
    json_decref(one);
    return rc;
}

int journal_last(struct paas *p, const char *command, json_t **out,
                 struct err *e)
{
    return journal_find(p, command, 1, out, e);
}

int journal_newest(struct paas *p, const char *command, json_t **out,
                   struct err *e)
{
    return journal_find(p, command, 0, out, e);
}
