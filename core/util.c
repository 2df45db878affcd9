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

/* Optimal string alignment distance (Damerau-Levenshtein without repeated
 * edits of one substring), on words short enough for a stack table. */
static size_t util_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    size_t d[33][33];
    if (la > 32 || lb > 32)
        return (size_t)-1;
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = a[i - 1] != b[j - 1], best = d[i - 1][j - 1] + cost;
            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    return d[la][lb];
}

const char *util_closest(const char *word, const char *const *cands, size_t n)
{
    const char *best = NULL;
    size_t best_d = (size_t)-1, len = strlen(word);
    for (size_t i = 0; i < n; i++) {
        size_t dist = util_distance(word, cands[i]);
        if (dist < best_d) {
            best_d = dist;
            best = cands[i];
        }
    }
    return best && best_d <= 2 && best_d * 2 < len ? best : NULL;
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
