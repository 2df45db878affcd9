/* The ELBs' public alias records (see public_dns.h). */
#include "plans/public_dns.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void pdns_name(const struct paas *p, int which, char *out, size_t size)
{
    const char *z = p->cfg.dns_zone;
    size_t n = strlen(z);
    int dot = n && z[n - 1] == '.';
    snprintf(out, size, "*.%s%.*s.", which == PDNS_PRELIVE ? "prelive." : "",
             (int)(dot ? n - 1 : n), z);
}

void pdns_host_for(const char *dns_zone, int which, const char *host, char *out,
                   size_t size)
{
    size_t nz = strlen(dns_zone), nh = strlen(host);
    const char *pre = which == PDNS_PRELIVE ? "prelive." : "";
    nz -= nz && dns_zone[nz - 1] == '.';
    nh -= nh && host[nh - 1] == '.';
    /* X.ZONE: X is at least one label before ".ZONE". */
    if (nz && nh > nz + 1 && host[nh - nz - 1] == '.' &&
        strncasecmp(host + nh - nz, dns_zone, nz) == 0)
        snprintf(out, size, "%.*s.%s%.*s", (int)(nh - nz - 1), host, pre, (int)nz, dns_zone);
    else
        snprintf(out, size, "paasctl-smoke.%s%.*s", pre, (int)nz, dns_zone);
}

/* Route53 answers a '*' label as "\052" (RFC 1035 escape) and keeps the
 * case it was given; names compare case-blind. */
static int pdns_name_eq(const char *have, const char *want)
{
    if (!strncmp(have, "\\052", 4) && want[0] == '*') {
        have += 4;
        want += 1;
    }
    return strcasecmp(have, want) == 0;
}

/* DNS names compare case-blind and with or without the final dot. */
static int pdns_host_eq(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    na -= na && a[na - 1] == '.';
    nb -= nb && b[nb - 1] == '.';
    return na == nb && strncasecmp(a, b, na) == 0;
}

/* The record as it should be for lb. */
static void pdns_want(const struct paas *p, int which, const struct elb_lb *lb,
                      struct r53_record *r)
{
    memset(r, 0, sizeof(*r));
    pdns_name(p, which, r->name, sizeof(r->name));
    snprintf(r->type, sizeof(r->type), "A");
    snprintf(r->alias_dns, sizeof(r->alias_dns), "%s", lb->dns_name);
    snprintf(r->alias_zone_id, sizeof(r->alias_zone_id), "%s", lb->canonical_zone_id);
}

static int pdns_matches(const struct r53_record *have, const struct elb_lb *lb)
{
    return have->alias_dns[0] && pdns_host_eq(have->alias_dns, lb->dns_name) &&
           strcmp(have->alias_zone_id, lb->canonical_zone_id) == 0;
}

int pdns_read(struct paas *p, const struct r53_zone *zone, int have_zone,
              const struct elb_lb *lbs, const int *have_lb, struct pdns *s,
              struct err *e)
{
    struct r53_record *all;
    size_t n;
    memset(s, 0, sizeof(*s));
    s->have_zone = have_zone;
    if (!have_zone)
        return 0;
    s->zone = *zone;
    if (r53_list_records(&p->aws, zone->id, &all, &n, e) < 0)
        return err_wrap(e, "public hosted zone %s", zone->name);
    for (int k = 0; k < PDNS_N; k++) {
        char name[300];
        pdns_name(p, k, name, sizeof(name));
        for (size_t i = 0; i < n && !s->have[k]; i++) {
            if (strcmp(all[i].type, "A") != 0 || !pdns_name_eq(all[i].name, name))
                continue;
            s->have[k] = 1;
            s->rec[k] = all[i];
        }
        s->ok[k] = s->have[k] && have_lb[k] && pdns_matches(&s->rec[k], &lbs[k]);
    }
    free(all);
    return 0;
}

/* An alias needs the ELB's own hosted zone id. AWS always answers it; an
 * endpoint that does not (an emulator) gets no record and a note, rather
 * than a record that cannot be right. */
static void pdns_no_zone_id(struct diff *d, const char *lb)
{
    if (!d->note[0])
        snprintf(d->note, sizeof(d->note), "ELB %s answers no CanonicalHostedZoneNameID: "
                 "its public alias records are not made", lb);
}

void pdns_decide(const struct paas *p, struct pdns *s, const struct elb_lb *lbs,
                 const int *have_lb, struct diff *d)
{
    for (int k = 0; k < PDNS_N; k++) {
        const char *lb = k == PDNS_LIVE ? p->cfg.live_name : p->cfg.prelive_name;
        char name[300];
        pdns_name(p, k, name, sizeof(name));
        s->todo[k] = !s->ok[k];
        if (have_lb[k] && !lbs[k].canonical_zone_id[0]) {
            s->todo[k] = 0;
            pdns_no_zone_id(d, lb);
            continue;
        }
        if (s->have[k] && !s->ok[k] && have_lb[k])
            s->d[k] = diff_add(d, DIFF_UPDATE, "dns-record", name, NULL,
                               "alias A of ELB %s: %s -> %s", lb,
                               s->rec[k].alias_dns[0] ? s->rec[k].alias_dns : "not an alias",
                               lbs[k].dns_name);
        else
            s->d[k] = diff_add(d, s->todo[k] ? DIFF_CREATE : DIFF_EXISTS, "dns-record",
                               name, NULL, "alias A of ELB %s%s%s", lb,
                               have_lb[k] ? " " : "", have_lb[k] ? lbs[k].dns_name : "");
    }
}

int pdns_apply(struct paas *p, struct pdns *s, const struct r53_zone *zone,
               struct diff *d, struct err *e)
{
    const char *names[PDNS_N] = { p->cfg.live_name, p->cfg.prelive_name };
    struct elb_lb lbs[PDNS_N];
    struct r53_record want[PDNS_N];
    struct r53_change ch[PDNS_N];
    int found[PDNS_N];
    size_t n = 0;
    int rc = 0;
    if (!s->todo[PDNS_LIVE] && !s->todo[PDNS_PRELIVE])
        return 0;
    if (elb_describe(&p->aws, names, PDNS_N, lbs, found, e) < 0)
        return err_wrap(e, "up shell, public DNS");
    for (int k = 0; k < PDNS_N && rc == 0; k++) {
        if (!s->todo[k])
            continue;
        if (!found[k] || !lbs[k].dns_name[0])
            rc = err_set(e, ERR_FAILED, "up shell, public DNS: ELB %s has no DNS name "
                         "yet; run up shell again", names[k]);
        else if (!lbs[k].canonical_zone_id[0])
            pdns_no_zone_id(d, names[k]);
        else {
            pdns_want(p, k, &lbs[k], &want[k]);
            ch[n++] = (struct r53_change){ "UPSERT", &want[k] };
        }
    }
    if (rc == 0 && n && r53_change(&p->aws, zone->id, ch, n, e) < 0)
        rc = err_wrap(e, "up shell, public DNS records in %s", zone->name);
    for (int k = 0; k < PDNS_N; k++)
        elb_lb_release(&lbs[k]);
    return rc;
}

void pdns_teardown_decide(const struct paas *p, const struct pdns *s, struct diff *d)
{
    (void)p;
    for (int k = 0; k < PDNS_N; k++)
        if (s->have[k])
            diff_add(d, DIFF_DESTROY, "dns-record", s->rec[k].name, NULL, "alias A of %s",
                     s->rec[k].alias_dns[0] ? s->rec[k].alias_dns : "-");
}

int pdns_teardown_apply(struct paas *p, const struct pdns *s, struct err *e)
{
    struct r53_change ch[PDNS_N];
    size_t n = 0;
    /* DELETE must repeat the record exactly as it is: it is, as read. */
    for (int k = 0; k < PDNS_N; k++)
        if (s->have[k])
            ch[n++] = (struct r53_change){ "DELETE", &s->rec[k] };
    if (n && r53_change(&p->aws, s->zone.id, ch, n, e) < 0)
        return err_wrap(e, "teardown, public DNS records in %s", s->zone.name);
    return 0;
}
