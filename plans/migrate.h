/* migrate SRC DST (SPEC.md "Migration"): every object of SRC that a cluster
 * does not make by itself, recreated in DST type by type in SPEC.md's
 * order, concurrently within a type, page by page. */
#ifndef PLANS_MIGRATE_H
#define PLANS_MIGRATE_H

#include <stddef.h>
#include <jansson.h>

#include "plans/paas.h"

/* What to migrate. Lists are borrowed; n_x = 0 means none given. */
struct migrate_opts {
    const char *src, *dst;            /* "a" / "b" */
    const char **namespaces;          /* -n: these namespaces only */
    size_t n_namespaces;
    const char *selector;             /* -l: label selector, NULL = all */
    const char **stacks;              /* --stack: namespaces labelled paasctl.io/stack=NAME */
    size_t n_stacks;
    const char **resources;           /* --resources: only these types */
    size_t n_resources;
    const char **exclude;             /* --exclude-resources, on top of [migrate] */
    size_t n_exclude;
    int update;                       /* --update: replace what exists */
};

/* Counts for one resource type of SRC. */
struct migrate_type {
    char name[256];       /* "secrets", "deployments.apps" */
    char group[96], version[32], resource[96], kind[96];
    int namespaced;
    int rank;             /* k8s_mig_rank */
    int custom;           /* served by a CRD in SRC */
    int selected;         /* passes --resources / exclusions */
    int empty;            /* SRC has no object of it (selector applied) */
    long created, updated, exists, skipped, failed;
    json_t *skips;        /* reason -> count; owned */
};

struct migrate_failure {
    char type[256];
    char ns[64];          /* "" for cluster-scoped objects */
    char name[256];       /* "" when the whole type failed */
    char reason[640];     /* the API's reason; never an object's value */
};

struct migrate_report {
    char src[8], dst[8];
    int dry_run, update;
    struct migrate_type *types;       /* in creation order */
    size_t n_types;
    struct migrate_failure *failures;
    size_t n_failures, cap_failures;
    json_t *skipped_types;            /* [{"type","reason"}]; owned */
    long created, updated, exists, skipped, failed;
    double elapsed_s;
};

/* Runs the migration. Returns 0 when it ran to the end (r->failed says
 * whether objects failed), -1 when it could not (bad slot or kubeconfig:
 * ERR_USAGE; discovery or a list failed, Ctrl-C: ERR_FAILED). r is filled
 * as far as it got either way; release it with migrate_report_release. */
int plan_migrate(struct paas *p, const struct migrate_opts *o,
                 struct migrate_report *r, struct err *e);

void migrate_report_release(struct migrate_report *r);

#endif
