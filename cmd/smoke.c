/* smoke a|b: run the smoke suite against a slot; exit 0 only if every check
 * passes (SPEC.md "Smoke"). */
#include "cmd/cmd.h"

#include <stdio.h>

#include "plans/smoke.h"

static void smoke_print(struct paas *p, const struct smoke_report *r)
{
    struct table t;
    if (p->output == OUT_JSON) {
        json_t *checks = json_array();
        json_t *d;
        for (int i = 0; i < SMOKE_N; i++)
            json_array_append_new(checks, json_pack("{s:s, s:b, s:s}", "check", r->checks[i].name,
                                                    "pass", r->checks[i].pass,
                                                    "reason", r->checks[i].reason));
        d = json_pack("{s:s, s:b, s:i, s:f, s:o}", "slot", r->slot, "passed", r->passed,
                      "rounds", r->attempts, "elapsed_s", r->elapsed_s, "checks", checks);
        cmd_print_json(d);
        json_decref(d);
        return;
    }
    table_init(&t, 3);
    table_add(&t, "CHECK", "RESULT", "REASON");
    for (int i = 0; i < SMOKE_N; i++)
        table_add(&t, r->checks[i].name, r->checks[i].pass ? "pass" : "FAIL", r->checks[i].reason);
    table_print(&t);
    table_release(&t);
    printf("smoke %s: %s after %d round%s, %.0f s\n", r->slot, r->passed ? "passed" : "FAILED",
           r->attempts, r->attempts == 1 ? "" : "s", r->elapsed_s);
}

int cmd_smoke(struct paas *p, int argc, char **argv, struct err *e)
{
    struct smoke_report r;
    if (argc != 2)
        return err_set(e, ERR_USAGE, "usage: paasctl smoke a|b");
    if (config_slot_index(argv[1]) < 0)
        return err_set(e, ERR_USAGE, "unknown slot '%s' (a or b)", argv[1]);
    if (plan_smoke(p, argv[1], &r, e) < 0)
        return -1;
    smoke_print(p, &r);
    if (!r.passed) {
        for (int i = 0; i < SMOKE_N; i++)
            if (!r.checks[i].pass)
                return err_set(e, ERR_FAILED, "smoke %s failed: %s: %s", r.slot,
                               r.checks[i].name, r.checks[i].reason);
    }
    return 0;
}
