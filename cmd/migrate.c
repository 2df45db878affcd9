/* migrate SRC DST: its flags, the report (a table by resource type, then
 * every failure; or one JSON document) and the exit code: 1 when any object
 * failed (SPEC.md "Migration", "Output"). */
#include "cmd/cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plans/migrate.h"

#define MIGRATE_MAX_LIST 256

/* Storage behind struct migrate_opts' lists. */
struct migrate_args {
    const char *ns[MIGRATE_MAX_LIST], *stacks[MIGRATE_MAX_LIST];
    const char *res[MIGRATE_MAX_LIST], *excl[MIGRATE_MAX_LIST];
    const char *pos[2];
    size_t n_pos;
    char *copies[2 * MIGRATE_MAX_LIST];   /* comma lists, cut in place */
    size_t n_copies;
};

static int migrate_push(const char **list, size_t *n, const char *v, const char *flag,
                        struct err *e)
{
    if (*n >= MIGRATE_MAX_LIST)
        return err_set(e, ERR_USAGE, "%s: at most %d values", flag, MIGRATE_MAX_LIST);
    if (!*v)
        return err_set(e, ERR_USAGE, "%s: empty value", flag);
    list[(*n)++] = v;
    return 0;
}

/* "secrets, deployments.apps" -> two entries. */
static int migrate_split(struct migrate_args *a, const char **list, size_t *n,
                         const char *value, const char *flag, struct err *e)
{
    char *copy, *save = NULL, *tok;
    if (a->n_copies >= sizeof(a->copies) / sizeof(a->copies[0]) || !(copy = strdup(value)))
        return err_set(e, ERR_USAGE, "%s: too many lists", flag);
    a->copies[a->n_copies++] = copy;
    for (tok = strtok_r(copy, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save))
        if (migrate_push(list, n, tok, flag, e) < 0)
            return -1;
    return *n ? 0 : err_set(e, ERR_USAGE, "%s: empty list", flag);
}

static int migrate_flag(struct migrate_args *a, struct migrate_opts *o, const char *flag,
                        const char *v, struct err *e)
{
    if (strcmp(flag, "-n") == 0 || strcmp(flag, "--namespace") == 0)
        return migrate_push(a->ns, &o->n_namespaces, v, flag, e);
    if (strcmp(flag, "--stack") == 0)
        return migrate_push(a->stacks, &o->n_stacks, v, flag, e);
    if (strcmp(flag, "-l") == 0 || strcmp(flag, "--selector") == 0) {
        o->selector = v;
        return 0;
    }
    if (strcmp(flag, "--resources") == 0)
        return migrate_split(a, a->res, &o->n_resources, v, flag, e);
    return migrate_split(a, a->excl, &o->n_exclude, v, flag, e);
}

static int migrate_parse(int argc, char **argv, struct migrate_args *a,
                         struct migrate_opts *o, struct err *e)
{
    static const char *const with_value[] = { "-n", "--namespace", "--stack", "-l", "--selector",
                                              "--resources", "--exclude-resources" };
    for (int i = 1; i < argc; i++) {
        int takes = 0;
        for (size_t k = 0; k < sizeof(with_value) / sizeof(with_value[0]); k++)
            takes |= strcmp(argv[i], with_value[k]) == 0;
        if (takes) {
            if (i + 1 >= argc)
                return err_set(e, ERR_USAGE, "migrate: %s needs a value", argv[i]);
            if (migrate_flag(a, o, argv[i], argv[i + 1], e) < 0)
                return -1;
            i++;
        } else if (strcmp(argv[i], "--update") == 0) {
            o->update = 1;
        } else if (argv[i][0] == '-') {
            return err_set(e, ERR_USAGE, "migrate: unknown option '%s'", argv[i]);
        } else if (a->n_pos < 2) {
            a->pos[a->n_pos++] = argv[i];
        } else {
            return err_set(e, ERR_USAGE, "migrate: unexpected argument '%s'", argv[i]);
        }
    }
    if (a->n_pos != 2)
        return err_set(e, ERR_USAGE, "usage: paasctl migrate SRC DST [options] (see --help)");
    o->src = a->pos[0];
    o->dst = a->pos[1];
    o->namespaces = a->ns;
    o->stacks = a->stacks;
    o->resources = a->res;
    o->exclude = a->excl;
    return 0;
}

static int migrate_row_shown(const struct migrate_type *t)
{
    return t->created || t->updated || t->exists || t->skipped || t->failed;
}

static json_t *migrate_counts(long created, long updated, long exists, long skipped,
                              long failed)
{
    return json_pack("{s:I, s:I, s:I, s:I, s:I}", "created", (json_int_t)created,
                     "updated", (json_int_t)updated, "exists", (json_int_t)exists,
                     "skipped", (json_int_t)skipped, "failed", (json_int_t)failed);
}

static json_t *migrate_json(const struct migrate_report *r)
{
    json_t *types = json_array(), *fails = json_array();
    for (size_t i = 0; i < r->n_types; i++) {
        const struct migrate_type *t = &r->types[i];
        json_t *row, *names;
        if (!migrate_row_shown(t))
            continue;
        row = migrate_counts(t->created, t->updated, t->exists, t->skipped, t->failed);
        names = json_pack("{s:s, s:s, s:s, s:s, s:O}", "type", t->name, "group", t->group,
                          "version", t->version, "kind", t->kind, "skip_reasons", t->skips);
        json_object_update(row, names);
        json_decref(names);
        json_array_append_new(types, row);
    }
    for (size_t i = 0; i < r->n_failures; i++)
        json_array_append_new(fails, json_pack("{s:s, s:s, s:s, s:s}", "type",
                                               r->failures[i].type, "namespace",
                                               r->failures[i].ns, "name", r->failures[i].name,
                                               "reason", r->failures[i].reason));
    return json_pack("{s:s, s:s, s:b, s:b, s:o, s:o, s:O, s:o, s:f}", "src", r->src, "dst", r->dst,
                     "dry_run", r->dry_run, "update", r->update, "types", types,
                     "failures", fails, "skipped_types", r->skipped_types, "totals",
                     migrate_counts(r->created, r->updated, r->exists, r->skipped, r->failed),
                     "elapsed_s", r->elapsed_s);
}

/* "owned by a controller: 4; made by the cluster (kube-root-ca.crt): 2" */
static void migrate_reasons(json_t *skips, char *out, size_t size)
{
    const char *reason;
    json_t *n;
    size_t used = 0;
    out[0] = '\0';
    json_object_foreach(skips, reason, n) {
        int w = snprintf(out + used, size - used, "%s%s: %lld", used ? "; " : "", reason,
                         (long long)json_integer_value(n));
        if (w < 0 || (size_t)w >= size - used)
            break;
        used += (size_t)w;
    }
}

static void migrate_table(const struct migrate_report *r)
{
    struct table t;
    char c[5][24], why[512];
    table_init(&t, 7);
    table_add(&t, "TYPE", "CREATED", "UPDATED", "EXISTS", "SKIPPED", "FAILED", "SKIPPED BECAUSE");
    for (size_t i = 0; i < r->n_types; i++) {
        const struct migrate_type *ty = &r->types[i];
        if (!migrate_row_shown(ty))
            continue;
        snprintf(c[0], sizeof(c[0]), "%ld", ty->created);
        snprintf(c[1], sizeof(c[1]), "%ld", ty->updated);
        snprintf(c[2], sizeof(c[2]), "%ld", ty->exists);
        snprintf(c[3], sizeof(c[3]), "%ld", ty->skipped);
        snprintf(c[4], sizeof(c[4]), "%ld", ty->failed);
        migrate_reasons(ty->skips, why, sizeof(why));
        table_add(&t, ty->name, c[0], c[1], c[2], c[3], c[4], why);
    }
    table_print(&t);
    table_release(&t);
    printf("migrate %s %s%s: %ld created, %ld updated, %ld exist, %ld skipped, %ld failed "
           "in %.1f s\n", r->src, r->dst, r->dry_run ? " (dry run)" : "", r->created,
           r->updated, r->exists, r->skipped, r->failed, r->elapsed_s);
    for (size_t i = 0; i < r->n_failures; i++) {
        const struct migrate_failure *f = &r->failures[i];
        printf("FAILED %s %s%s%s: %s\n", f->type, f->ns, *f->ns ? "/" : "",
               *f->name ? f->name : "(every object)", f->reason);
    }
}

int cmd_migrate(struct paas *p, int argc, char **argv, struct err *e)
{
    struct migrate_args a;
    struct migrate_opts o;
    struct migrate_report r;
    int rc;
    memset(&a, 0, sizeof(a));
    memset(&o, 0, sizeof(o));
    memset(&r, 0, sizeof(r));
    rc = migrate_parse(argc, argv, &a, &o, e);
    if (rc == 0)
        rc = plan_migrate(p, &o, &r, e);
    if (rc == 0) {
        json_t *doc = migrate_json(&r);
        if (p->output == OUT_JSON)
            cmd_print_json(doc);
        else
            migrate_table(&r);
        /* the journal records the counts, never an object */
        cmd_journal_changes(p, json_incref(json_object_get(doc, "totals")));
        json_decref(doc);
        if (r.failed)
            rc = err_set(e, ERR_FAILED, "migrate %s %s: %ld object%s failed", r.src, r.dst,
                         r.failed, r.failed == 1 ? "" : "s");
    }
    migrate_report_release(&r);
    for (size_t i = 0; i < a.n_copies; i++)
        free(a.copies[i]);
    return rc;
}
