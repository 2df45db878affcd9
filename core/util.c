/* The monotonic clock (see util.h). */
#include "core/util.h"

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
