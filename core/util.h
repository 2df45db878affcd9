/* Small things every layer needs: a monotonic clock in milliseconds and
 * numeric settings from the environment (PAASCTL_RETRY_BASE_MS...). */
#ifndef CORE_UTIL_H
#define CORE_UTIL_H

/* Milliseconds of CLOCK_MONOTONIC: for durations, never for dates. */
long long util_now_ms(void);

/* The integer in environment variable name when it is set, a whole number
 * and within [lo, hi]; otherwise dflt. */
long util_env_long(const char *name, long dflt, long lo, long hi);

/* A copy of s safe to show on a terminal: control characters (C0, DEL,
 * and the ESC that starts a terminal sequence) become \xNN, so text read
 * from outside (journal records, the lock body, API messages) can neither
 * move the cursor nor forge lines ('\n' too: one message is one line).
 * Caller frees; NULL when out of memory or s is NULL. */
char *util_printable(const char *s);

#endif
