/* kubeconfig a|b [--ttl DURATION] [--file FILE | --merge]: write an admin
 * kubeconfig for the slot, signed by its own CA (SPEC.md "Clusters").
 * Prints the path (and with -o json what was written), never the key. */
#include "cmd/cmd.h"

#include <stdio.h>
#include <string.h>

#include "core/pki.h"
#include "plans/kubeconfig.h"

static int kubeconfig_args(int argc, char **argv, struct kubeconfig_opts *o, struct err *e)
{
    o->ttl = KUBECONFIG_DEFAULT_TTL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if ((strcmp(a, "--ttl") == 0 || strcmp(a, "--file") == 0) && i + 1 >= argc)
            return err_set(e, ERR_USAGE, "kubeconfig: %s needs a value", a);
        if (strcmp(a, "--ttl") == 0) {
            if (pki_parse_duration(argv[++i], &o->ttl) < 0)
                return err_set(e, ERR_USAGE, "kubeconfig: --ttl '%s': a duration such as "
                               "12h, 90m, 1h30m or 7d (at most 3650d)", argv[i]);
        } else if (strcmp(a, "--file") == 0) {
            o->file = argv[++i];
        } else if (strcmp(a, "--merge") == 0) {
            o->merge = 1;
        } else if (a[0] == '-') {
            return err_set(e, ERR_USAGE, "kubeconfig: unknown option '%s'", a);
        } else if (o->slot) {
            return err_set(e, ERR_USAGE, "usage: paasctl kubeconfig a|b [--ttl DURATION] "
                           "[--file FILE | --merge]");
        } else {
            o->slot = a;
        }
    }
    if (!o->slot)
        return err_set(e, ERR_USAGE, "usage: paasctl kubeconfig a|b [--ttl DURATION] "
                       "[--file FILE | --merge]");
    if (o->file && o->merge)
        return err_set(e, ERR_USAGE, "kubeconfig: --file and --merge exclude each other");
    if (config_slot_index(o->slot) < 0)
        return err_set(e, ERR_USAGE, "unknown slot '%s' (a or b)", o->slot);
    return 0;
}

int cmd_kubeconfig(struct paas *p, int argc, char **argv, struct err *e)
{
    struct kubeconfig_opts o = { NULL, 0, NULL, 0 };
    struct kubeconfig_result r;
    char expires[32];
    if (kubeconfig_args(argc, argv, &o, e) < 0 || plan_kubeconfig(p, &o, &r, e) < 0)
        return -1;
    strftime(expires, sizeof(expires), "%Y-%m-%dT%H:%M:%SZ", gmtime(&r.expires));
    if (p->output == OUT_JSON) {
        json_t *d = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:b}", "slot", o.slot,
                              "path", r.path, "context", r.context, "server", r.server,
                              "user", r.user, "expires", expires, "merged", o.merge);
        cmd_print_json(d);
        json_decref(d);
        return 0;
    }
    printf("%s\n", r.path);
    if (!o.merge && !o.file && p->cfg.cluster[config_slot_index(o.slot)].kubeconfig[0] &&
        strcmp(p->cfg.cluster[config_slot_index(o.slot)].kubeconfig, r.path) != 0)
        log_info(&p->log, "note: [cluster %s] kubeconfig is %s: smoke, migrate and up read "
                 "that one, not this file", o.slot,
                 p->cfg.cluster[config_slot_index(o.slot)].kubeconfig);
    log_info(&p->log, "context %s (%s), certificate for %s in group %s until %s", r.context,
             r.server, r.user, KUBECONFIG_GROUP, expires);
    return 0;
}
