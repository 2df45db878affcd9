/* The shell's private hosted zone (see private_zone.h). */
#include "plans/private_zone.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "plans/tags.h"

void pzone_name(const struct paas *p, char *out, size_t size)
{
    size_t n = strlen(p->cfg.dns_zone);
    snprintf(out, size, "k8s.%.*s", (int)(n && p->cfg.dns_zone[n - 1] == '.' ? n - 1 : n),
             p->cfg.dns_zone);
}

int pzone_find(struct paas *p, struct r53_zone *out, int *found, struct err *e)
{
    char name[300];
    pzone_name(p, name, sizeof(name));
    if (r53_find_private_zone(&p->aws, name, out, found, e) < 0)
        return err_wrap(e, "private hosted zone %s", name);
    return 0;
}

int pzone_read(struct paas *p, struct pzone *z, struct err *e)
{
    memset(z, 0, sizeof(*z));
    return pzone_find(p, &z->zone, &z->have, e);
}

void pzone_decide(const struct paas *p, struct pzone *z, struct diff *d)
{
    char name[300];
    pzone_name(p, name, sizeof(name));
    z->d = diff_add(d, z->have ? DIFF_EXISTS : DIFF_CREATE, "dns-zone", name,
                    z->zone.id, "private hosted zone of the VPC (the slots' api/auth)");
}

int pzone_apply(struct paas *p, struct pzone *z, const char *vpc_id,
                struct diff *d, struct err *e)
{
    char name[300], ref[96], tname[160];
    const char *keys[] = { "Name", TAG_PAAS, TAG_SLOT, TAG_ROLE };
    const char *vals[] = { tname, p->cfg.name, "shell", "zone-private" };
    if (z->have)
        return 0;
    pzone_name(p, name, sizeof(name));
    /* A fresh reference each time, as for the public zone: a crashed
     * creation is found by name on the next run. */
    snprintf(ref, sizeof(ref), "paasctl-%s-private-%ld-%ld", p->cfg.name,
             (long)paas_now(p), (long)getpid());
    snprintf(tname, sizeof(tname), "%s-shell-zone-private", p->cfg.name);
    if (r53_create_private_zone(&p->aws, name, ref, "paasctl: the slots' private names",
                                vpc_id, p->aws.region, &z->zone, e) < 0 ||
        r53_tag_zone(&p->aws, z->zone.id, keys, vals, 4, e) < 0)
        return err_wrap(e, "private hosted zone %s", name);
    z->have = 1;
    diff_set_id(d, z->d, z->zone.id);
    return 0;
}

int pzone_teardown_decide(struct paas *p, struct pzone *z, struct diff *d,
                          struct err *e)
{
    if (pzone_read(p, z, e) < 0)
        return -1;
    if (z->have)
        diff_add(d, DIFF_DESTROY, "dns-zone", z->zone.name, z->zone.id,
                 "private hosted zone and its records");
    return 0;
}

int pzone_teardown_apply(struct paas *p, const struct pzone *z, struct err *e)
{
    struct r53_record *all;
    struct r53_change *ch;
    size_t n, k = 0;
    int rc;
    if (!z->have)
        return 0;
    if (r53_list_records(&p->aws, z->zone.id, &all, &n, e) < 0)
        return err_wrap(e, "teardown, listing %s", z->zone.name);
    ch = calloc(n + 1, sizeof(*ch));
    if (!ch) {
        free(all);
        return err_set(e, ERR_FAILED, "out of memory");
    }
    /* A zone is deleted only when it holds nothing but its SOA and NS. */
    for (size_t i = 0; i < n; i++)
        if (strcmp(all[i].type, "SOA") != 0 && strcmp(all[i].type, "NS") != 0)
            ch[k++] = (struct r53_change){ "DELETE", &all[i] };
    rc = k ? r53_change(&p->aws, z->zone.id, ch, k, e) : 0;
    if (rc == 0)
        rc = r53_delete_zone(&p->aws, z->zone.id, e);
    free(ch);
    free(all);
    return rc < 0 ? err_wrap(e, "teardown, private hosted zone %s", z->zone.name) : 0;
}
