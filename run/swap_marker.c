/* The swap marker in the state bucket (see swap_marker.h). */
#include "run/swap_marker.h"

#include <jansson.h>
#include <stdio.h>

#include "run/identity.h"
#include "run/state.h"

static void swap_marker_key(const struct paas *p, char *out, size_t size)
{
    snprintf(out, size, "%s/swap", p->cfg.name);
}

int swap_marker_write(struct paas *p, const char *command, const char *from,
                      const char *to, struct err *e)
{
    char key[128], when[32];
    json_t *o;
    int rc;
    swap_marker_key(p, key, sizeof(key));
    identity_iso_time(paas_now(p), when, sizeof(when));
    o = json_pack("{s:s, s:s, s:s, s:s}", "command", command, "from", from, "to", to,
                  "started", when);
    if (!o)
        return err_set(e, ERR_FAILED, "out of memory");
    rc = state_put_json(p, key, o, 0, e);
    json_decref(o);
    return rc;
}

void swap_marker_delete(struct paas *p)
{
    char key[128];
    swap_marker_key(p, key, sizeof(key));
    state_delete_or_log(p, key, "the swap marker");
}

int swap_marker_read(struct paas *p, int *found, char *from, char *to,
                     char *command, struct err *e)
{
    char key[128];
    json_t *o;
    swap_marker_key(p, key, sizeof(key));
    if (state_get_json(p, key, &o, e) < 0)
        return -1;
    *found = o != NULL;
    if (o) {
        state_copy_str(from, 8, o, "from");
        state_copy_str(to, 8, o, "to");
        state_copy_str(command, 16, o, "command");
    }
    json_decref(o);
    return 0;
}
