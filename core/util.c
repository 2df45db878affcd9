/* The monotonic clock (see util.h). */
#include "core/util.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

long long util_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int util_grow(void *items_ptr, size_t *cap, size_t n, size_t size)
{
    void *items, *p;
    size_t want;
    if (n < *cap)
        return 0;
    want = *cap ? *cap * 2 : 16;
    if (want < *cap || want > SIZE_MAX / size)
        return -1;
    memcpy(&items, items_ptr, sizeof(items));
    if (!(p = realloc(items, want * size)))
        return -1;
    memcpy(items_ptr, &p, sizeof(p));
    *cap = want;
    return 0;
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

int util_leading_int(const char *s, int dflt)
{
    char *end;
    long v;
    if (!s)
        return dflt;
    errno = 0;
    v = strtol(s, &end, 10);
    if (end == s || errno == ERANGE || v < INT_MIN || v > INT_MAX)
        return dflt;
    return (int)v;
}
