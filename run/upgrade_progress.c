/* The upgrade's progress object in the state bucket (see upgrade_progress.h). */
#include "run/upgrade_progress.h"

#include <stdio.h>

#include "run/state.h"

static void upgrade_progress_key(const struct paas *p, char *out, size_t size)
{
    snprintf(out, size, "%s/upgrade", p->cfg.name);
}

int upgrade_progress_write(struct paas *p, json_t *doc, struct err *e)
{
    char key[128];
    upgrade_progress_key(p, key, sizeof(key));
    return state_put_json(p, key, doc, 0, e);
}

int upgrade_progress_read(struct paas *p, json_t **out, struct err *e)
{
    char key[128];
    upgrade_progress_key(p, key, sizeof(key));
    return state_get_json(p, key, out, e);
}

void upgrade_progress_delete(struct paas *p)
{
    char key[128];
    upgrade_progress_key(p, key, sizeof(key));
    state_delete_or_log(p, key, "the upgrade's progress");
}
