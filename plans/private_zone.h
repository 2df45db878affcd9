/* The shell's private hosted zone k8s.DNS_ZONE, associated with the VPC
 * (SPEC.md "Clusters", DNS): it holds each slot's api. and auth. records,
 * so private addresses resolve inside the VPC and are never published in
 * the public zone. Made by `up shell`, removed by `teardown shell`. */
#ifndef PLANS_PRIVATE_ZONE_H
#define PLANS_PRIVATE_ZONE_H

#include <stddef.h>
#include "aws/route53.h"
#include "plans/diff.h"
#include "plans/paas.h"

/* "k8s.DNS_ZONE" (no final dot). */
void pzone_name(const struct paas *p, char *out, size_t size);
/* The private zone by name; *found = 0 when none. */
int pzone_find(struct paas *p, struct r53_zone *out, int *found,
               struct err *e);

struct pzone {
    struct r53_zone zone;
    int have;
    size_t d;          /* its diff entry */
};

/* up shell: read, one diff line, and the creation once the VPC exists. */
int pzone_read(struct paas *p, struct pzone *z, struct err *e);
void pzone_decide(const struct paas *p, struct pzone *z, struct diff *d);
int pzone_apply(struct paas *p, struct pzone *z, const char *vpc_id,
                struct diff *d, struct err *e);

/* teardown shell: a `-` line when it exists; then every record but its
 * SOA and NS, and the zone. */
int pzone_teardown_decide(struct paas *p, struct pzone *z, struct diff *d,
                          struct err *e);
int pzone_teardown_apply(struct paas *p, const struct pzone *z, struct err *e);

#endif
