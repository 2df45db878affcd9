/* Parallel batches of Query calls with the eventual-consistency retries (see
 * batch.h; SPEC.md "AWS conventions"). */
#include "aws/batch.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws/xml.h"
#include "core/util.h"

/* How long a NotFound right after a create is retried: AWS documents
 * propagation "usually within seconds"; give it about half a minute. */
#define BATCH_NOTFOUND_ATTEMPTS 10

void aws_batch_init(struct aws_batch *b)
{
    memset(b, 0, sizeof(*b));
    aws_query_init(&b->scratch.q, AWS_EC2, "none");
}

void aws_batch_release(struct aws_batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        aws_query_release(&b->items[i].q);
        if (b->items[i].doc)
            xmlFreeDoc(b->items[i].doc);
    }
    free(b->items);
    aws_query_release(&b->scratch.q);
    memset(b, 0, sizeof(*b));
}

struct aws_batch_item *aws_batch_add(struct aws_batch *b, enum aws_service svc,
                                     const char *action, int idempotent)
{
    struct aws_batch_item *it;
    if (util_grow(&b->items, &b->cap, b->n, sizeof(*b->items)) < 0) {
        b->failed = 1;
        buf_reset(&b->scratch.q.body);
        return &b->scratch;
    }
    it = &b->items[b->n++];
    memset(it, 0, sizeof(*it));
    aws_query_init(&it->q, svc, action);
    it->idempotent = idempotent;
    it->notfound = AWS_NF_RETRY;
    err_init(&it->err);
    return it;
}

int aws_code_is_notfound(const char *code)
{
    size_t n = strlen(code);
    return n >= 8 && strcmp(code + n - 8, "NotFound") == 0;
}

static void batch_sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) < 0)
        ;
}

static long batch_now_s(void)
{
    return (long)(util_now_ms() / 1000);
}

/* Judges one answered item: done, failed, or to be sent again. */
static void batch_judge(struct aws_batch *b, struct aws_batch_item *it,
                        struct aws_response *resp, int ok, long started)
{
    if (ok) {
        struct err perr;
        err_init(&perr);
        if (aws_xml_parse(buf_str(&resp->body), resp->body.len, &it->doc,
                          &perr) < 0) {
            it->err = perr;
            it->state = -1;
            return;
        }
        if (it->id_path)
            aws_xml_text(xmlDocGetRootElement(it->doc), it->id_path, it->id,
                         sizeof(it->id));
        it->state = 1;
        return;
    }
    if (aws_code_is_notfound(it->err.code)) {
        if (it->notfound == AWS_NF_OK) {
            err_init(&it->err);
            it->state = 1;
            return;
        }
        if (it->notfound == AWS_NF_RETRY && it->attempts < BATCH_NOTFOUND_ATTEMPTS)
            return;   /* stays 0: sent again after a pause */
    }
    if (strcmp(it->err.code, "DependencyViolation") == 0 &&
        batch_now_s() - started < b->dependency_wait_s)
        return;
    it->state = -1;
}

/* One round: every item still to send goes out in parallel. Returns how
 * many remain to be sent again. */
static size_t batch_round(struct aws_client *c, struct aws_batch *b,
                          long started)
{
    struct aws_request *reqs = calloc(b->n, sizeof(*reqs));
    struct aws_response *resps = calloc(b->n, sizeof(*resps));
    struct err *errs = calloc(b->n, sizeof(*errs));
    size_t *idx = calloc(b->n, sizeof(*idx));
    size_t k = 0, again = 0;
    if (!reqs || !resps || !errs || !idx) {
        b->failed = 1;
        goto out;
    }
    for (size_t i = 0; i < b->n; i++) {
        struct aws_batch_item *it = &b->items[i];
        if (it->state != 0)
            continue;
        reqs[k] = (struct aws_request){
            .svc = it->q.svc, .method = "POST", .path = "/",
            .content_type = "application/x-www-form-urlencoded; charset=utf-8",
            .body = buf_str(&it->q.body), .body_len = it->q.body.len,
            .action = it->q.action, .idempotent = it->idempotent,
        };
        aws_response_init(&resps[k]);
        err_init(&errs[k]);
        idx[k++] = i;
    }
    aws_send_all(c, reqs, k, resps, errs);
    for (size_t j = 0; j < k; j++) {
        struct aws_batch_item *it = &b->items[idx[j]];
        it->attempts++;
        it->err = errs[j];
        batch_judge(b, it, &resps[j], errs[j].kind == ERR_NONE, started);
        if (it->state == 0)
            again++;
        aws_response_release(&resps[j]);
    }
out:
    free(reqs);
    free(resps);
    free(errs);
    free(idx);
    return again;
}

/* e = the first failed item's error; uncertain only when every failed
 * item's outcome is: one certain failure (a validation error) would come
 * back however often the caller looked and tried again. */
static int batch_first_failure(const struct aws_batch *b, struct err *e)
{
    int failed = 0, uncertain = 1;
    for (size_t i = 0; i < b->n; i++) {
        if (b->items[i].state >= 0)
            continue;
        if (!failed++)
            *e = b->items[i].err;
        uncertain &= b->items[i].err.uncertain;
    }
    if (!failed)
        return 0;
    if (e->kind == ERR_NONE)
        e->kind = ERR_FAILED;
    e->uncertain = uncertain;
    return -1;
}

int aws_batch_run(struct aws_client *c, struct aws_batch *b, struct err *e)
{
    long started = batch_now_s();
    long pause_ms = 250;
    if (b->n == 0 && !b->failed)
        return 0;
    if (b->failed)
        return err_set(e, ERR_FAILED, "out of memory building a batch of AWS calls");
    for (size_t i = 0; i < b->n; i++)
        if (b->items[i].q.body.failed)
            return err_set(e, ERR_FAILED, "out of memory building %s",
                           b->items[i].q.action);
    while (batch_round(c, b, started) > 0 && !b->failed) {
        batch_sleep_ms(pause_ms);
        pause_ms = pause_ms * 2 > 5000 ? 5000 : pause_ms * 2;
    }
    if (b->failed)
        return err_set(e, ERR_FAILED, "out of memory sending a batch of AWS calls");
    return batch_first_failure(b, e);
}

int aws_batch_call1(struct aws_client *c, const struct aws_query *q,
                    int idempotent, enum aws_notfound nf, xmlDoc **doc,
                    struct err *e)
{
    struct aws_batch b;
    struct aws_batch_item *it;
    int rc;
    aws_batch_init(&b);
    it = aws_batch_add(&b, q->svc, q->action, idempotent);
    buf_reset(&it->q.body);
    buf_add(&it->q.body, buf_str(&q->body), q->body.len);
    it->notfound = nf;
    rc = aws_batch_run(c, &b, e);
    if (doc) {
        *doc = rc == 0 && b.n ? b.items[0].doc : NULL;
        if (b.n)
            b.items[0].doc = NULL;
    }
    aws_batch_release(&b);
    return rc;
}
