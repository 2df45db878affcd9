/* Route53 over REST-XML (API 2013-04-01): the shell's hosted zone and the
 * slots' api/auth records (SPEC.md "Tags": DNS is found by name). Names are
 * given with or without the final dot; answers always carry it. */
#ifndef AWS_ROUTE53_H
#define AWS_ROUTE53_H

#include <stddef.h>
#include "aws/transport.h"

struct r53_zone {
    char id[64];          /* "Z0123..." (without "/hostedzone/") */
    char name[256];       /* "paas.example.com." */
};

/* The public or private zone named dns_name; *found = 0 when none. One
 * ListHostedZonesByName call. */
int r53_find_zone(struct aws_client *c, const char *dns_name,
                  struct r53_zone *out, int *found, struct err *e);
/* The private zone named dns_name (SPEC.md "Clusters", DNS); public zones
 * of the same name are passed over. One ListHostedZonesByName call. */
int r53_find_private_zone(struct aws_client *c, const char *dns_name,
                          struct r53_zone *out, int *found, struct err *e);
/* CreateHostedZone of a private zone associated with the VPC vpc_id of
 * vpc_region at creation. */
int r53_create_private_zone(struct aws_client *c, const char *dns_name,
                            const char *caller_ref, const char *comment,
                            const char *vpc_id, const char *vpc_region,
                            struct r53_zone *out, struct err *e);
/* CreateHostedZone. caller_ref must be unique per creation (AWS refuses a
 * reference used before, even for a deleted zone). */
int r53_create_zone(struct aws_client *c, const char *dns_name,
                    const char *caller_ref, const char *comment,
                    struct r53_zone *out, struct err *e);
/* ChangeTagsForResource: adds (or overwrites) the n tags on the zone. */
int r53_tag_zone(struct aws_client *c, const char *zone_id,
                 const char *const *keys, const char *const *values, size_t n,
                 struct err *e);
/* ListTagsForResource of a hosted zone: the value of tag key into out
 * ("" when the zone has no such tag). One call. */
int r53_zone_tag(struct aws_client *c, const char *zone_id, const char *key,
                 char *out, size_t size, struct err *e);
/* DeleteHostedZone; a zone that is gone already is success. The zone must
 * hold only its SOA and NS records. */
int r53_delete_zone(struct aws_client *c, const char *zone_id, struct err *e);

#define R53_MAX_VALUES 8
struct r53_record {
    char name[256];       /* with the final dot */
    char type[8];         /* "A", "NS", "SOA", ... */
    long ttl;
    size_t n_values;
    char values[R53_MAX_VALUES][256];
    /* An alias record (AliasTarget) when alias_dns is set: no TTL and no
     * values; alias_zone_id is the target's own hosted zone id (an ELB's
     * CanonicalHostedZoneNameID), not the zone the record lives in. */
    char alias_dns[256];
    char alias_zone_id[64];
    int alias_health;     /* EvaluateTargetHealth */
};

/* Every record set of the zone, all pages. *out is malloc'd (caller frees). */
int r53_list_records(struct aws_client *c, const char *zone_id,
                     struct r53_record **out, size_t *n, struct err *e);

struct r53_change {
    const char *action;   /* "UPSERT", "DELETE" */
    const struct r53_record *rec;
};

/* All changes in one ChangeResourceRecordSets call (atomic on AWS). */
int r53_change(struct aws_client *c, const char *zone_id,
               const struct r53_change *ch, size_t n, struct err *e);

#endif
