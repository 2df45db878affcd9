/* ELB membership changes (see elb_members.h). */
#include "plans/elb_members.h"

#include <stdlib.h>

#include "core/strmap.h"

/* The ids of `from` that `set` does (keep_in = 1) or does not hold. */
static size_t elb_members_pick(const char *const *from, size_t n,
                               const struct strmap *set, int keep_in,
                               const char **out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strmap_has(set, from[i]) == keep_in)
            out[k++] = from[i];
    return k;
}

/* The members after the change: the old ones minus `gone`, plus `joined`. */
static int elb_members_update(struct elb_lb *lb, const char *const *joined, size_t nj,
                              const char *const *gone, size_t ng, struct err *e)
{
    const char **now = calloc(lb->n_instances + nj + 1, sizeof(*now));
    struct strmap leaving;
    size_t k = 0;
    int rc;
    if (!now || strmap_index_strs(&leaving, gone, ng) < 0) {
        free(now);
        return err_set(e, ERR_FAILED, "out of memory");
    }
    for (size_t i = 0; i < lb->n_instances; i++)
        if (!strmap_has(&leaving, lb->instances[i]))
            now[k++] = lb->instances[i];
    for (size_t i = 0; i < nj; i++)
        now[k++] = joined[i];
    rc = elb_lb_set_members(lb, now, k, e);
    strmap_release(&leaving);
    free(now);
    return rc;
}

int elb_members_apply(struct paas *p, struct elb_lb *lb, enum elb_members_op op,
                      const char *const *ids, size_t n, struct err *e)
{
    const char **members = calloc(lb->n_instances + 1, sizeof(*members));
    const char **join = calloc(n + 1, sizeof(*join));
    const char **leave = calloc(lb->n_instances + n + 1, sizeof(*leave));
    struct strmap want = { NULL, 0 }, have = { NULL, 0 };
    size_t nj = 0, nl = 0;
    int rc = -1;
    if (!members || !join || !leave || strmap_index_strs(&want, ids, n) < 0) {
        err_set(e, ERR_FAILED, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < lb->n_instances; i++)
        members[i] = lb->instances[i];
    if (strmap_index_strs(&have, members, lb->n_instances) < 0) {
        err_set(e, ERR_FAILED, "out of memory");
        goto out;
    }
    if (op != ELB_MEMBERS_REMOVE)
        nj = elb_members_pick(ids, n, &have, 0, join);
    if (op == ELB_MEMBERS_REMOVE)
        nl = elb_members_pick(ids, n, &have, 1, leave);
    else if (op == ELB_MEMBERS_EXACTLY)
        nl = elb_members_pick(members, lb->n_instances, &want, 0, leave);
    /* Join before leave: see ELB_MEMBERS_EXACTLY. Each call is skipped
     * when it has nothing to do. */
    if ((nj && elb_register(&p->aws, lb->name, join, nj, e) < 0) ||
        (nl && elb_deregister(&p->aws, lb->name, leave, nl, e) < 0))
        goto out;
    rc = nj || nl ? elb_members_update(lb, join, nj, leave, nl, e) : 0;
out:
    strmap_release(&want);
    strmap_release(&have);
    free(members);
    free(join);
    free(leave);
    return rc;
}
