/* Small things every layer needs: a monotonic clock in milliseconds and
 * the one growth rule for arrays. */
#ifndef CORE_UTIL_H
#define CORE_UTIL_H

/* Milliseconds of CLOCK_MONOTONIC: for durations, never for dates. */
long long util_now_ms(void);

#include <stddef.h>

/* Makes room for element n of the malloc'd array *items_ptr (any element
 * type, size bytes each; cap elements allocated): the capacity doubles,
 * from 16. 0, or -1 when out of memory (the array is left as it was).
 * Not for arrays that hold secrets (it reallocs). */
int util_grow(void *items_ptr, size_t *cap, size_t n, size_t size);

/* A copy of s safe to show on a terminal: control characters (C0, DEL,
 * and the ESC that starts a terminal sequence) become \xNN, so text read
 * from outside (journal records, the lock body, API messages) can neither
 * move the cursor nor forge lines ('\n' too: one message is one line).
 * Caller frees; NULL when out of memory or s is NULL. */
char *util_printable(const char *s);

/* The candidate closest to word by edit distance (insert, delete,
 * substitute, swap of neighbours), if it is close enough to be a typo: at
 * most 2 edits, and fewer than half of word's length. NULL otherwise. */
const char *util_closest(const char *word, const char *const *cands, size_t n);

/* The decimal number at the start of s ("80/healthz" -> 80), or dflt when
 * s is NULL, starts with no digit, or the number is outside int: atoi()
 * without its undefined overflow. */
int util_leading_int(const char *s, int dflt);

#endif
