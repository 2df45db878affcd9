/* The public names of the two ELBs (SPEC.md "Clusters", DNS): in the
 * public hosted zone DNS_ZONE, `*.DNS_ZONE` is an alias A record of the
 * live ELB and `*.prelive.DNS_ZONE` of the pre-live ELB. `up shell` makes
 * them (UPSERT only when they differ), `status` shows them, `teardown
 * shell` deletes them before the ELBs. They follow the ELBs, not the
 * slots: cutover and rollback move instances between the ELBs and never
 * touch DNS, so no resolver cache can send users to the old slot. */
#ifndef PLANS_PUBLIC_DNS_H
#define PLANS_PUBLIC_DNS_H

#include <stddef.h>
#include "aws/elb.h"
#include "aws/route53.h"
#include "plans/diff.h"
#include "plans/paas.h"

enum { PDNS_LIVE, PDNS_PRELIVE, PDNS_N };

struct pdns {
    int have_zone;
    struct r53_zone zone;            /* the public zone DNS_ZONE */
    int have[PDNS_N];                /* the record exists */
    struct r53_record rec[PDNS_N];   /* ...as it is */
    int ok[PDNS_N];                  /* ...and aliases its ELB as wanted */
    int todo[PDNS_N];                /* up: UPSERT it */
    size_t d[PDNS_N];                /* its diff entry */
};

/* "*.DNS_ZONE." (which = PDNS_LIVE) or "*.prelive.DNS_ZONE.". */
void pdns_name(const struct paas *p, int which, char *out, size_t size);

/* The public name through which host (an Ingress host) is reached on the
 * live (which = PDNS_LIVE) or pre-live ELB, for smoke check 6 (SPEC.md
 * "Smoke"): host itself on live when it lies in dns_zone, X.prelive.ZONE
 * on pre-live for host X.ZONE; a host outside the zone is reached as
 * paasctl-smoke.[prelive.]ZONE (the wildcard answers any label). The
 * Host header stays host. Pure: no request. */
void pdns_host_for(const char *dns_zone, int which, const char *host, char *out,
                   size_t size);

/* Reads the two records from the zone (have_zone 0: nothing to read) and
 * compares each with its ELB (lbs[i] when have_lb[i]). One
 * ListResourceRecordSets walk. */
int pdns_read(struct paas *p, const struct r53_zone *zone, int have_zone,
              const struct elb_lb *lbs, const int *have_lb, struct pdns *s,
              struct err *e);

/* up/plan shell: a `+`, `~` or `=` line per record; none, and the diff's
 * note, for an ELB that answers no CanonicalHostedZoneNameID. */
void pdns_decide(const struct paas *p, struct pdns *s, const struct elb_lb *lbs,
                 const int *have_lb, struct diff *d);
/* up shell, after the zone and the ELBs exist: one ChangeResourceRecordSets
 * with an UPSERT per record to change, nothing when none. ELBs made by this
 * run are described again for their DNS name and zone id. */
int pdns_apply(struct paas *p, struct pdns *s, const struct r53_zone *zone,
               struct diff *d, struct err *e);

/* teardown shell: a `-` line per existing record, and their DELETE. */
void pdns_teardown_decide(const struct paas *p, const struct pdns *s, struct diff *d);
int pdns_teardown_apply(struct paas *p, const struct pdns *s, struct err *e);

#endif
