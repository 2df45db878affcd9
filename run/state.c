/* The state bucket's JSON documents (see state.h). */
#include "run/state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/s3.h"

int state_put_json(struct paas *p, const char *key, json_t *doc,
                   int if_none_match, struct err *e)
{
    char *body = json_dumps(doc, JSON_SORT_KEYS);
    int rc;
    if (!body)
        return err_set(e, ERR_FAILED, "out of memory");
    rc = s3_put_object(&p->aws, p->cfg.state_bucket, key, body, strlen(body),
                       "application/json", if_none_match, e);
    free(body);
    return rc;
}

int state_get_json(struct paas *p, const char *key, json_t **out,
                   struct err *e)
{
    return state_get_json_etag(p, key, out, NULL, 0, e);
}

int state_get_json_etag(struct paas *p, const char *key, json_t **out, char *etag,
                        size_t size, struct err *e)
{
    struct buf body = BUF_INIT;
    *out = NULL;
    if (etag)
        etag[0] = '\0';
    if (s3_get_object_etag(&p->aws, p->cfg.state_bucket, key, &body, etag, size, e) < 0) {
        buf_release(&body);
        if (e->http_status != 404)
            return -1;
        err_init(e);   /* NoSuchKey or NoSuchBucket: nothing there */
        return 0;
    }
    *out = json_loadb(buf_str(&body), body.len, 0, NULL);
    buf_release(&body);
    if (!json_is_object(*out)) {
        json_decref(*out);
        *out = NULL;
        return err_set(e, ERR_FAILED, "s3://%s/%s is not a JSON object; check it and "
                       "remove it by hand if it is damaged", p->cfg.state_bucket, key);
    }
    return 0;
}

int state_delete(struct paas *p, const char *key, struct err *e)
{
    return s3_delete_object(&p->aws, p->cfg.state_bucket, key, e);
}

int state_delete_if(struct paas *p, const char *key, const char *etag, int *gone,
                    struct err *e)
{
    *gone = 0;
    if (s3_delete_object_if(&p->aws, p->cfg.state_bucket, key, etag, e) == 0) {
        *gone = 1;
        return 0;
    }
    if (e->http_status == 404) {
        /* Already gone: a resend of ours after a reset that hid the first
         * answer (the delete ran), or someone else's delete. */
        err_init(e);
        *gone = 1;
        return 0;
    }
    if (e->http_status != 412)
        return -1;
    err_init(e);   /* replaced since it was read: not ours to delete */
    return 0;
}

void state_copy_str(char *dst, size_t size, json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    snprintf(dst, size, "%s", s ? s : "");
}

void state_delete_or_log(struct paas *p, const char *key, const char *what)
{
    struct err e;
    err_init(&e);
    if (state_delete(p, key, &e) < 0)
        log_error(&p->log, "could not remove %s s3://%s/%s: %s", what,
                  p->cfg.state_bucket, key, e.msg);
}
