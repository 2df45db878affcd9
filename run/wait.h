/* Waiting for AWS to catch up (SPEC.md "Commands": waits show progress and
 * end on Ctrl-C): the poll interval starts short and doubles to a cap, Ctrl-C
 * ends the wait, and a timeout is an error naming what was awaited.
 * PAASCTL_POLL_MS (struct paas knobs) sets the first interval (tests make
 * it short). */
#ifndef RUN_WAIT_H
#define RUN_WAIT_H

#include "core/log.h"
#include "plans/paas.h"

#define WAIT_FIRST_INTERVAL_MS 2000L   /* PAASCTL_POLL_MS overrides */
/* How long AWS may take, at most: instances to run or terminate, and NAT
 * gateways to become available or go. */
#define WAIT_INSTANCES_S 1200
#define WAIT_NAT_S 900

struct wait {
    const char *what;          /* "instances of slot b running" */
    long interval_ms;
    long cap_ms;
    double timeout_s;
    double started;            /* monotonic seconds */
    struct progress prog;
};

void wait_init(struct wait *w, const char *what, double timeout_s);
/* Polls at least every cap_ms from now on (a wait on something with a
 * known pace, e.g. an ELB health check, need not back off past it). */
void wait_cap(struct wait *w, long cap_ms);
/* Shows "what: status" with the elapsed time. */
void wait_progress(struct paas *p, struct wait *w, const char *status);
/* 1 once timeout_s has passed (for callers whose timeout is not an error,
 * e.g. cutover, which undoes its registration then). */
int wait_expired(const struct wait *w);
/* Seconds since wait_init. */
double wait_elapsed(const struct wait *w);
/* Sleeps before the next poll. -1 (ERR_FAILED) on timeout or Ctrl-C, with
 * a message saying what was awaited and the last status shown. */
int wait_next(struct paas *p, struct wait *w, struct err *e);
/* Ends the progress line. */
void wait_done(struct paas *p, struct wait *w);

/* Between the steps of a plan: -1 (ERR_FAILED) once Ctrl-C was pressed, so
 * the run stops at a step boundary, releases the lock and can be re-run. */
int wait_check_interrupt(struct paas *p, const char *step, struct err *e);

#endif
