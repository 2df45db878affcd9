/* The run lock in S3 (see lock.h; SPEC.md "Lock and journal"). */
#include "run/lock.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "run/identity.h"
#include "run/state.h"

static void lock_key(const struct paas *p, char *out, size_t size)
{
    snprintf(out, size, "%s/lock", p->cfg.name);
}

static void lock_from_json(json_t *o, struct lock_info *l)
{
    memset(l, 0, sizeof(*l));
    state_copy_str(l->id, sizeof(l->id), o, "id");
    state_copy_str(l->command, sizeof(l->command), o, "command");
    state_copy_str(l->user, sizeof(l->user), o, "user");
    state_copy_str(l->host, sizeof(l->host), o, "host");
    state_copy_str(l->started, sizeof(l->started), o, "started");
    l->pid = (long)json_integer_value(json_object_get(o, "pid"));
}

void lock_describe(const struct lock_info *l, char *out, size_t size)
{
    snprintf(out, size, "%s@%s pid %ld, running '%s' since %s (unlock id %s)",
             l->user, l->host, l->pid, l->command, l->started, l->id);
}

int lock_read(struct paas *p, struct lock_info *out, int *held, struct err *e)
{
    char key[128], etag[sizeof(out->etag)];
    json_t *o;
    lock_key(p, key, sizeof(key));
    if (state_get_json_etag(p, key, &o, etag, sizeof(etag), e) < 0)
        return -1;
    *held = o != NULL;
    if (o) {
        lock_from_json(o, out);
        memcpy(out->etag, etag, sizeof(etag));
    }
    json_decref(o);
    return 0;
}

/* Deletes the lock that was read as now, and only that one. */
static int lock_delete(struct paas *p, const struct lock_info *now, struct err *e)
{
    char key[128];
    int gone;
    lock_key(p, key, sizeof(key));
    return state_delete_if(p, key, now->etag, &gone, e);
}

/* Fills mine for this run and returns its JSON (caller json_decref). */
static json_t *lock_new(struct paas *p, struct lock_info *mine)
{
    memset(mine, 0, sizeof(*mine));
    identity_random_id(mine->id);
    snprintf(mine->command, sizeof(mine->command), "%s", p->command_line);
    identity_user(mine->user, sizeof(mine->user));
    identity_host(mine->host, sizeof(mine->host));
    mine->pid = (long)getpid();
    identity_iso_time(paas_now(p), mine->started, sizeof(mine->started));
    return json_pack("{s:s, s:s, s:s, s:s, s:I, s:s}", "id", mine->id,
                     "command", mine->command, "user", mine->user,
                     "host", mine->host, "pid", (json_int_t)mine->pid,
                     "started", mine->started);
}

int lock_acquire(struct paas *p, struct lock_info *mine, struct err *e)
{
    char key[128], who[1024];
    struct lock_info holder;
    json_t *doc = lock_new(p, mine);
    int held, rc;
    if (!doc)
        return err_set(e, ERR_FAILED, "out of memory");
    lock_key(p, key, sizeof(key));
    rc = state_put_json(p, key, doc, 1, e);
    json_decref(doc);
    if (rc == 0)
        return 0;
    /* 412: held. 409 ConditionalRequestConflict: another conditional PUT
     * of the same key is in progress, i.e. another run is taking it now. */
    if (e->http_status != 412 && strcmp(e->code, "PreconditionFailed") != 0 &&
        e->http_status != 409 && strcmp(e->code, "ConditionalRequestConflict") != 0)
        return err_wrap(e, "cannot take the lock s3://%s/%s", p->cfg.state_bucket, key);
    /* A resent PUT of ours could also answer 412: then the id is ours. */
    if (lock_read(p, &holder, &held, e) < 0)
        return -1;
    if (held && strcmp(holder.id, mine->id) == 0)
        return 0;
    if (!held)
        return err_set(e, ERR_LOCKED, "another run was taking or releasing the lock at the same "
                       "moment; run the command again");
    lock_describe(&holder, who, sizeof(who));
    return err_set(e, ERR_LOCKED, "another run holds the lock: %s; if that run is gone, "
                   "run 'paasctl unlock %s'", who, holder.id);
}

int lock_release(struct paas *p, const struct lock_info *mine, struct err *e)
{
    struct lock_info now;
    int held;
    if (lock_read(p, &now, &held, e) < 0)
        return -1;
    if (!held || strcmp(now.id, mine->id) != 0)
        return 0;
    return lock_delete(p, &now, e);
}

int lock_break(struct paas *p, const char *id, struct lock_info *was,
               struct err *e)
{
    int held;
    if (lock_read(p, was, &held, e) < 0)
        return -1;
    if (!held)
        return err_set(e, ERR_FAILED, "no lock is held on s3://%s/%s/lock",
                       p->cfg.state_bucket, p->cfg.name);
    if (strcmp(was->id, id) != 0)
        return err_set(e, ERR_USAGE, "the lock's id is %s, not %s; nothing removed",
                       was->id, id);
    return lock_delete(p, was, e);
}
