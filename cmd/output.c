/* Output helpers for the commands: JSON documents and aligned tables
 * (SPEC.md "Output": tables aligned, JSON on stdout). */
#include "cmd/cmd.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

void cmd_journal_changes(struct paas *p, json_t *changes)
{
    json_decref(p->changes);
    p->changes = changes;
}

/* stdout is one per process, so is this count of what was printed on it. */
static int json_documents;

int cmd_json_documents(void)
{
    return json_documents;
}

void cmd_print_json(json_t *doc)
{
    char *s = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
    json_documents++;
    if (s) {
        fputs(s, stdout);
        fputc('\n', stdout);
        free(s);
    }
}

void table_init(struct table *t, size_t ncols)
{
    memset(t, 0, sizeof(*t));
    t->ncols = ncols < TABLE_MAX_COLS ? ncols : TABLE_MAX_COLS;
}

void table_add(struct table *t, ...)
{
    va_list ap;
    if (util_grow(&t->rows, &t->cap, t->nrows, sizeof(*t->rows)) < 0)
        return;
    va_start(ap, t);
    for (size_t c = 0; c < TABLE_MAX_COLS; c++) {
        const char *cell = c < t->ncols ? va_arg(ap, const char *) : NULL;
        t->rows[t->nrows][c] = util_printable(cell);   /* cells come from S3 too */
    }
    va_end(ap);
    t->nrows++;
}

void table_print(const struct table *t)
{
    size_t width[TABLE_MAX_COLS] = { 0 };
    for (size_t r = 0; r < t->nrows; r++)
        for (size_t c = 0; c < t->ncols; c++) {
            size_t w = t->rows[r][c] ? strlen(t->rows[r][c]) : 0;
            if (w > width[c])
                width[c] = w;
        }
    for (size_t r = 0; r < t->nrows; r++) {
        for (size_t c = 0; c < t->ncols; c++) {
            const char *cell = t->rows[r][c] ? t->rows[r][c] : "";
            if (c + 1 == t->ncols)
                printf("%s", cell);
            else
                printf("%-*s  ", (int)width[c], cell);
        }
        putchar('\n');
    }
}

void table_release(struct table *t)
{
    for (size_t r = 0; r < t->nrows; r++)
        for (size_t c = 0; c < TABLE_MAX_COLS; c++)
            free(t->rows[r][c]);
    free(t->rows);
    memset(t, 0, sizeof(*t));
}
