/* Sorted string map (see strmap.h). */
#include "core/strmap.h"

#include <stdlib.h>
#include <string.h>

static int strmap_cmp(const void *a, const void *b)
{
    return strcmp(((const struct strmap_item *)a)->key, ((const struct strmap_item *)b)->key);
}

static int strmap_alloc(struct strmap *m, size_t n)
{
    m->n = 0;
    m->items = calloc(n + 1, sizeof(*m->items));
    return m->items ? 0 : -1;
}

int strmap_index(struct strmap *m, const void *base, size_t n, size_t stride,
                 size_t key_off)
{
    const char *p = base;
    if (strmap_alloc(m, n) < 0)
        return -1;
    for (size_t i = 0; i < n; i++, p += stride)
        m->items[m->n++] = (struct strmap_item){ p + key_off, p };
    qsort(m->items, m->n, sizeof(*m->items), strmap_cmp);
    return 0;
}

int strmap_index_strs(struct strmap *m, const char *const *strs, size_t n)
{
    if (strmap_alloc(m, n) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        m->items[m->n++] = (struct strmap_item){ strs[i], strs[i] };
    qsort(m->items, m->n, sizeof(*m->items), strmap_cmp);
    return 0;
}

const void *strmap_get(const struct strmap *m, const char *key)
{
    struct strmap_item k = { key, NULL };
    const struct strmap_item *found;
    if (!m->n)
        return NULL;
    found = bsearch(&k, m->items, m->n, sizeof(*m->items), strmap_cmp);
    return found ? found->val : NULL;
}

int strmap_has(const struct strmap *m, const char *key)
{
    return strmap_get(m, key) != NULL;
}

void strmap_release(struct strmap *m)
{
    free(m->items);
    m->items = NULL;
    m->n = 0;
}
