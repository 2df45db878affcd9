/* SRC read ahead in a thread (see migrate_read.h). */
#include "plans/migrate_read.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define READ_LIMIT 500
/* Pages read ahead: enough to hide the list of a type whose objects are all
 * skipped (pods, replica sets) behind the creates of the types before it;
 * each is at most READ_LIMIT objects in memory. */
#define READ_AHEAD 4

struct migrate_reader {
    struct k8s_client *c;
    const char *selector;
    struct migrate_read_job *jobs;
    size_t n;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    struct migrate_page queue[READ_AHEAD];
    size_t head, count;         /* the oldest page, how many are queued */
    int done;                   /* the thread has put its last page */
    int cancel;
    size_t job;                 /* the job being listed (thread side) */
};

/* Waits until the queue has room, then adds pg. -1 when cancelled. */
static int read_put(struct migrate_reader *r, const struct migrate_page *pg)
{
    int rc = 0;
    pthread_mutex_lock(&r->mu);
    while (r->count == READ_AHEAD && !r->cancel)
        pthread_cond_wait(&r->cond, &r->mu);
    if (r->cancel) {
        rc = -1;
    } else {
        r->queue[(r->head + r->count++) % READ_AHEAD] = *pg;
        pthread_cond_broadcast(&r->cond);
    }
    pthread_mutex_unlock(&r->mu);
    return rc;
}

static int read_page(void *arg, json_t *items, int restarted, struct err *e)
{
    struct migrate_reader *r = arg;
    struct migrate_page pg = { .type = r->jobs[r->job].type, .items = json_incref(items),
                               .restarted = restarted };
    err_init(&pg.err);
    if (read_put(r, &pg) < 0) {
        json_decref(pg.items);
        return err_set(e, ERR_FAILED, "stopped");
    }
    return 0;
}

static void *read_main(void *arg)
{
    struct migrate_reader *r = arg;
    struct k8s_list_opts lo = { r->selector, NULL, READ_LIMIT };
    for (r->job = 0; r->job < r->n; r->job++) {
        const struct migrate_read_job *j = &r->jobs[r->job];
        struct migrate_page end = { .type = j->type, .end = 1 };
        int rc;
        err_init(&end.err);
        rc = k8s_list_pages(r->c, &j->ref, &lo, read_page, r, NULL, 0, &end.err);
        if (rc == 0 && !j->last)
            continue;
        if (read_put(r, &end) < 0 || rc < 0)
            break;   /* a failed list ends the run: the receiver stops there */
    }
    pthread_mutex_lock(&r->mu);
    r->done = 1;
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

int migrate_reader_start(struct migrate_reader **out, struct k8s_client *c,
                         const char *selector, const struct migrate_read_job *jobs,
                         size_t n, struct err *e)
{
    struct migrate_reader *r = calloc(1, sizeof(*r));
    *out = NULL;
    if (!r || !(r->jobs = calloc(n + 1, sizeof(*jobs)))) {
        free(r);
        return err_set(e, ERR_FAILED, "out of memory");
    }
    memcpy(r->jobs, jobs, n * sizeof(*jobs));
    r->n = n;
    r->c = c;
    r->selector = selector;
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cond, NULL);
    if (pthread_create(&r->thread, NULL, read_main, r) != 0) {
        pthread_mutex_destroy(&r->mu);
        pthread_cond_destroy(&r->cond);
        free(r->jobs);
        free(r);
        return err_set(e, ERR_FAILED, "cannot start the reading thread");
    }
    *out = r;
    return 0;
}

int migrate_reader_next(struct migrate_reader *r, struct migrate_page *pg)
{
    int rc = 1;
    pthread_mutex_lock(&r->mu);
    while (!r->count && !r->done)
        pthread_cond_wait(&r->cond, &r->mu);
    if (r->count) {
        *pg = r->queue[r->head];
        r->head = (r->head + 1) % READ_AHEAD;
        r->count--;
        rc = 0;
        pthread_cond_broadcast(&r->cond);
    }
    pthread_mutex_unlock(&r->mu);
    return rc;
}

void migrate_reader_stop(struct migrate_reader *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->mu);
    r->cancel = 1;
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->thread, NULL);
    for (; r->count; r->count--, r->head = (r->head + 1) % READ_AHEAD)
        json_decref(r->queue[r->head].items);
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cond);
    free(r->jobs);
    free(r);
}
