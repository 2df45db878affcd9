/* unlock LOCK_ID: remove a stale lock, printing who held it (SPEC.md
 * "Commands"). The id must match, so a lock taken since is never removed by
 * mistake. */
#include "cmd/cmd.h"

#include <stdio.h>

#include "run/journal.h"
#include "run/lock.h"

int cmd_unlock(struct paas *p, int argc, char **argv, struct err *e)
{
    struct lock_info was;
    char who[1024];
    json_t *changes;
    if (argc != 2)
        return err_set(e, ERR_USAGE, "usage: paasctl unlock LOCK_ID");
    if (p->dry_run) {
        printf("would remove the lock %s\n", argv[1]);
        return 0;
    }
    if (lock_break(p, argv[1], &was, e) < 0)
        return -1;
    lock_describe(&was, who, sizeof(who));
    changes = json_pack("{s:s, s:s, s:s}", "removed_lock", was.id,
                        "held_by", was.user, "command", was.command);
    if (journal_append(p, "ok", who, changes, e) < 0)
        log_error(&p->log, "lock removed, but the journal record failed: %s", e->msg);
    json_decref(changes);
    err_init(e);
    if (p->output == OUT_JSON) {
        json_t *d = json_pack("{s:s, s:s, s:s, s:s, s:I, s:s}", "removed", was.id,
                              "command", was.command, "user", was.user,
                              "host", was.host, "pid", (json_int_t)was.pid,
                              "started", was.started);
        cmd_print_json(d);
        json_decref(d);
    } else {
        printf("removed lock held by %s\n", who);
    }
    return 0;
}
