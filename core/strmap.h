/* A read-only map from strings to pointers, built once and searched by
 * bisection, for the id lookups that sit inside loops over ids (instances
 * by id, ELB health by instance id): O(log n) per lookup instead of a scan.
 * Keys and values are borrowed: the map holds pointers into the caller's
 * arrays, which must outlive it. */
#ifndef CORE_STRMAP_H
#define CORE_STRMAP_H

#include <stddef.h>

struct strmap_item {
    const char *key;
    const void *val;
};

struct strmap {
    struct strmap_item *items;   /* malloc'd, sorted by key; strmap_release */
    size_t n;
};

/* Indexes n structs of `stride` bytes at base by the char array at
 * key_off inside each; a lookup answers the struct. 0, or -1 when out of
 * memory (m is then empty, and safe to search and release). A key found
 * twice answers one of its structs. */
int strmap_index(struct strmap *m, const void *base, size_t n, size_t stride,
                 size_t key_off);
/* Indexes n strings; a lookup answers the string itself. */
int strmap_index_strs(struct strmap *m, const char *const *strs, size_t n);

/* The value stored under key, or NULL. */
const void *strmap_get(const struct strmap *m, const char *key);
/* 1 if key is in the map. */
int strmap_has(const struct strmap *m, const char *key);

void strmap_release(struct strmap *m);

#endif
