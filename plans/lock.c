/* The run lock in S3 (see lock.h; SPEC.md "Lock and journal"). */
#include "plans/lock.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "aws/s3.h"
#include "plans/identity.h"

static void lock_key(const struct paas *p, char *out, size_t size)
{
    snprintf(out, size, "%s/lock", p->cfg.name);
}

static void lock_copy(char *dst, size_t size, json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    snprintf(dst, size, "%s", s ? s : "?");
}

static int lock_parse(const char *body, size_t len, struct lock_info *l)
{
    json_t *o = json_loadb(body, len, 0, NULL);
    memset(l, 0, sizeof(*l));
    if (!json_is_object(o)) {
        json_decref(o);
        snprintf(l->id, sizeof(l->id), "?");
        return -1;
    }
    lock_copy(l->id, sizeof(l->id), o, "id");
    lock_copy(l->command, sizeof(l->command), o, "command");
    lock_copy(l->user, sizeof(l->user), o, "user");
    lock_copy(l->host, sizeof(l->host), o, "host");
    lock_copy(l->started, sizeof(l->started), o, "started");
    l->pid = (long)json_integer_value(json_object_get(o, "pid"));
    json_decref(o);
    return 0;
}

void lock_describe(const struct lock_info *l, char *out, size_t size)
{
    snprintf(out, size, "%s@%s pid %ld, running '%s' since %s (unlock id %s)",
             l->user, l->host, l->pid, l->command, l->started, l->id);
}

int lock_read(struct paas *p, struct lock_info *out, int *held, struct err *e)
{
    struct buf body = BUF_INIT;
    char key[128];
    *held = 0;
    lock_key(p, key, sizeof(key));
    if (s3_get_object(&p->aws, p->cfg.state_bucket, key, &body, e) < 0) {
        buf_release(&body);
        if (e->http_status == 404) {
            err_init(e);
            return 0;
        }
        return -1;
    }
    *held = 1;
    lock_parse(buf_str(&body), body.len, out);
    buf_release(&body);
    return 0;
}

static char *lock_body(struct paas *p, struct lock_info *mine)
{
    json_t *o;
    char *s;
    memset(mine, 0, sizeof(*mine));
    identity_random_id(mine->id);
    snprintf(mine->command, sizeof(mine->command), "%s", p->command);
    identity_user(mine->user, sizeof(mine->user));
    identity_host(mine->host, sizeof(mine->host));
    mine->pid = (long)getpid();
    identity_iso_time(time(NULL), mine->started, sizeof(mine->started));
    o = json_pack("{s:s, s:s, s:s, s:s, s:I, s:s}", "id", mine->id,
                  "command", mine->command, "user", mine->user,
                  "host", mine->host, "pid", (json_int_t)mine->pid,
                  "started", mine->started);
    s = o ? json_dumps(o, JSON_SORT_KEYS) : NULL;
    json_decref(o);
    return s;
}

int lock_acquire(struct paas *p, struct lock_info *mine, struct err *e)
{
    char key[128], who[600];
    struct lock_info holder;
    char *body = lock_body(p, mine);
    int held;
    if (!body)
        return err_set(e, ERR_FAILED, "out of memory");
    lock_key(p, key, sizeof(key));
    if (s3_put_object(&p->aws, p->cfg.state_bucket, key, body, strlen(body),
                      "application/json", 1, e) == 0) {
        free(body);
        return 0;
    }
    free(body);
    if (e->http_status != 412 && strcmp(e->code, "PreconditionFailed") != 0)
        return err_wrap(e, "cannot take the lock s3://%s/%s", p->cfg.state_bucket, key);
    /* Held. A resent PUT of ours could also answer 412: then the id is ours. */
    if (lock_read(p, &holder, &held, e) < 0)
        return -1;
    if (held && strcmp(holder.id, mine->id) == 0)
        return 0;
    if (!held)
        return err_set(e, ERR_LOCKED, "the lock was held and released meanwhile; run the command again");
    lock_describe(&holder, who, sizeof(who));
    return err_set(e, ERR_LOCKED, "another run holds the lock: %s; if that run is gone, "
                   "run 'paasctl unlock %s'", who, holder.id);
}

int lock_release(struct paas *p, const struct lock_info *mine, struct err *e)
{
    struct lock_info now;
    char key[128];
    int held;
    if (lock_read(p, &now, &held, e) < 0)
        return -1;
    if (!held || strcmp(now.id, mine->id) != 0)
        return 0;
    lock_key(p, key, sizeof(key));
    return s3_delete_object(&p->aws, p->cfg.state_bucket, key, e);
}

int lock_break(struct paas *p, const char *id, struct lock_info *was,
               struct err *e)
{
    char key[128];
    int held;
    if (lock_read(p, was, &held, e) < 0)
        return -1;
    if (!held)
        return err_set(e, ERR_FAILED, "no lock is held on s3://%s/%s/lock",
                       p->cfg.state_bucket, p->cfg.name);
    if (strcmp(was->id, id) != 0)
        return err_set(e, ERR_USAGE, "the lock's id is %s, not %s; nothing removed",
                       was->id, id);
    lock_key(p, key, sizeof(key));
    return s3_delete_object(&p->aws, p->cfg.state_bucket, key, e);
}
