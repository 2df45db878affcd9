/* The environment and the wall clock (see env.h). */
#include "core/env.h"

#include <stdlib.h>

const char *env_get(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

long env_long(const char *name, long dflt, long lo, long hi)
{
    const char *v = env_get(name);
    char *end;
    long x;
    if (!v)
        return dflt;
    x = strtol(v, &end, 10);
    return (*end || x < lo || x > hi) ? dflt : x;
}

void env_wall_clock_ts(struct timespec *now)
{
    clock_gettime(CLOCK_REALTIME, now);
}

time_t env_wall_clock(void)
{
    struct timespec now;
    env_wall_clock_ts(&now);
    return now.tv_sec;
}
