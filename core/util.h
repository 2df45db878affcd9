/* Small things every layer needs: a monotonic clock in milliseconds. */
#ifndef CORE_UTIL_H
#define CORE_UTIL_H

/* Milliseconds of CLOCK_MONOTONIC: for durations, never for dates. */
long long util_now_ms(void);

#endif
