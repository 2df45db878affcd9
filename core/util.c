/* Clock and environment helpers (see util.h). */
#include "core/util.h"

#include <stdlib.h>
#include <time.h>

long long util_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long util_env_long(const char *name, long dflt, long lo, long hi)
{
    const char *v = getenv(name);
    char *end;
    long x;
    if (!v || !*v)
        return dflt;
    x = strtol(v, &end, 10);
    return (*end || x < lo || x > hi) ? dflt : x;
}
