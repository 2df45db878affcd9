/* history: the journal, newest first (SPEC.md "Commands"). */
#include "cmd/cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run/journal.h"

static const char *history_str(json_t *rec, const char *k)
{
    const char *s = json_string_value(json_object_get(rec, k));
    return s ? s : "";
}

int cmd_history(struct paas *p, int argc, char **argv, struct err *e)
{
    json_t *list;
    size_t max = 0, i;
    json_t *rec;
    struct table t;
    for (int k = 1; k < argc; k++) {
        char *end;
        if (strcmp(argv[k], "-n") == 0 && k + 1 < argc) {
            max = strtoul(argv[++k], &end, 10);
            if (*end)
                return err_set(e, ERR_USAGE, "history: -n needs a number");
        } else {
            return err_set(e, ERR_USAGE, "history: unknown argument '%s'", argv[k]);
        }
    }
    if (journal_list(p, max, &list, e) < 0)
        return -1;
    if (p->output == OUT_JSON) {
        cmd_print_json(list);
        json_decref(list);
        return 0;
    }
    table_init(&t, 5);
    table_add(&t, "TIME", "COMMAND", "OUTCOME", "BY", "MESSAGE");
    json_array_foreach(list, i, rec) {
        const char *cl = history_str(rec, "command_line");
        char by[400];
        snprintf(by, sizeof(by), "%s@%s", history_str(rec, "user"), history_str(rec, "host"));
        table_add(&t, history_str(rec, "time"), cl[0] ? cl : history_str(rec, "command"),
                  history_str(rec, "outcome"), by, history_str(rec, "message"));
    }
    if (json_array_size(list) == 0)
        printf("the journal is empty\n");
    else
        table_print(&t);
    table_release(&t);
    json_decref(list);
    return 0;
}
