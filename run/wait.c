/* Polling with backoff and progress (see wait.h). */
#include "run/wait.h"

#include <string.h>
#include <time.h>

#include "core/util.h"

static double wait_now(void)
{
    return (double)util_now_ms() / 1000.0;
}

void wait_init(struct wait *w, const char *what, double timeout_s)
{
    memset(w, 0, sizeof(*w));
    w->what = what;
    w->interval_ms = 0;   /* wait_next: the run's first interval */
    w->cap_ms = 15000;
    w->timeout_s = timeout_s;
    w->started = wait_now();
}

void wait_cap(struct wait *w, long cap_ms)
{
    w->cap_ms = cap_ms;
    if (w->interval_ms > cap_ms)
        w->interval_ms = cap_ms;
}

void wait_progress(struct paas *p, struct wait *w, const char *status)
{
    log_progress(&p->log, &w->prog, wait_now() - w->started, "%s: %s",
                 w->what, status);
}

double wait_elapsed(const struct wait *w)
{
    return wait_now() - w->started;
}

int wait_expired(const struct wait *w)
{
    return wait_elapsed(w) > w->timeout_s;
}

int wait_next(struct paas *p, struct wait *w, struct err *e)
{
    long left_ms;
    if (!w->interval_ms)
        w->interval_ms = p->knobs.poll_ms > 0 ? p->knobs.poll_ms : WAIT_FIRST_INTERVAL_MS;
    left_ms = w->interval_ms;
    if (wait_expired(w)) {
        wait_done(p, w);
        return err_set(e, ERR_FAILED, "timed out after %.0f s waiting for %s (last: %s)",
                       w->timeout_s, w->what, w->prog.last);
    }
    /* Sleep in short steps so that Ctrl-C is noticed promptly. */
    while (left_ms > 0) {
        long step = left_ms < 200 ? left_ms : 200;
        struct timespec ts = { step / 1000, (step % 1000) * 1000000L };
        if (paas_interrupted(p)) {
            wait_done(p, w);
            return err_set(e, ERR_FAILED, "interrupted while waiting for %s (last: %s); "
                           "run the command again to continue", w->what, w->prog.last);
        }
        nanosleep(&ts, NULL);
        left_ms -= step;
    }
    w->interval_ms = w->interval_ms * 2 > w->cap_ms ? w->cap_ms : w->interval_ms * 2;
    return 0;
}

void wait_done(struct paas *p, struct wait *w)
{
    log_progress_end(&p->log, &w->prog);
}

int wait_check_interrupt(struct paas *p, const char *step, struct err *e)
{
    if (!paas_interrupted(p))
        return 0;
    return err_set(e, ERR_FAILED, "interrupted before %s; what was made so far is "
                   "tagged: run the command again to continue", step);
}
