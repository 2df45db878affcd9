/* The process environment and the wall clock: the two inputs a run takes
 * from outside its arguments and configuration. Every environment variable
 * paasctl reads goes through env_get and every wall-clock reading through
 * env_wall_clock_ts, so a grep finds them all. Tunable knobs (PAASCTL_*) are
 * read once by cmd/ into struct paas and passed down; what lower layers
 * still read here are the outside conventions they implement (the AWS
 * credential chain, KUBECONFIG, HOME, USER). */
#ifndef CORE_ENV_H
#define CORE_ENV_H

#include <time.h>

/* The value of an environment variable; NULL when unset or empty (empty
 * means unset for the AWS SDKs and kubectl alike). Borrowed. */
const char *env_get(const char *name);

/* The whole number in name when it is set and within [lo, hi]; else dflt. */
long env_long(const char *name, long dflt, long lo, long hi);

/* The wall clock, to the nanosecond: for dates and journal keys, never for
 * durations (util_now_ms). The one place that reads it. */
void env_wall_clock_ts(struct timespec *now);
/* Its seconds since the epoch (what the SigV4 signer's `when` takes). */
time_t env_wall_clock(void);

#endif
