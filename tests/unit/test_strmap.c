/* Unit tests for core/strmap: lookups by struct field and by string,
 * misses, duplicates and the empty map. */
#include "t.h"

#include <stddef.h>
#include <stdio.h>

#include "core/strmap.h"

struct item {
    int n;
    char id[16];
};

int main(void)
{
    struct item items[200];
    const char *strs[] = { "i-c", "i-a", "i-b" };
    struct strmap m, s, empty;
    const struct item *got;
    int all = 1;
    for (int i = 0; i < 200; i++) {
        items[i].n = i;
        snprintf(items[i].id, sizeof(items[i].id), "i-%03d", (i * 37) % 200);
    }
    T_INTEQ("index structs", strmap_index(&m, items, 200, sizeof(items[0]),
                                          offsetof(struct item, id)), 0);
    for (int i = 0; i < 200; i++) {
        got = strmap_get(&m, items[i].id);
        all = all && got == &items[i];
    }
    T_OK("every struct found by its id", all, "a lookup missed");
    T_OK("absent id", strmap_get(&m, "i-999") == NULL && !strmap_has(&m, "i-"), "found");
    strmap_release(&m);

    T_INTEQ("index strings", strmap_index_strs(&s, strs, 3), 0);
    T_OK("string found", strmap_has(&s, "i-b") && strmap_get(&s, "i-a") == strs[1], "missed");
    T_OK("string absent", !strmap_has(&s, "i-d"), "found");
    strmap_release(&s);

    T_INTEQ("empty map", strmap_index_strs(&empty, NULL, 0), 0);
    T_OK("empty map finds nothing", !strmap_has(&empty, "x"), "found");
    strmap_release(&empty);
    strmap_release(&empty);   /* twice is harmless */
    return t_done();
}
