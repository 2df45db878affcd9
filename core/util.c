/* Clock and environment helpers (see util.h). */
#include "core/util.h"

#include <stdio.h>
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

char *util_printable(const char *s)
{
    size_t n = 0;
    char *out, *o;
    if (!s)
        return NULL;
    for (const unsigned char *c = (const unsigned char *)s; *c; c++)
        n += (*c < 0x20 || *c == 0x7f) ? 4 : 1;
    out = malloc(n + 1);
    if (!out)
        return NULL;
    o = out;
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c < 0x20 || *c == 0x7f) {
            snprintf(o, 5, "\\x%02x", *c);
            o += 4;
        } else {
            *o++ = (char)*c;
        }
    }
    *o = '\0';
    return out;
}
