/* The tag set every resource gets at creation (SPEC.md "Tags"): Name,
 * paasctl:paas, paasctl:slot, paasctl:role and, on ingress instances,
 * paasctl:traffic. One place builds it so no create call forgets a key. */
#ifndef PLANS_TAGS_H
#define PLANS_TAGS_H

#include <stddef.h>
#include "aws/ec2.h"
#include "aws/elb.h"

#define TAG_PAAS "paasctl:paas"
#define TAG_SLOT "paasctl:slot"
#define TAG_ROLE "paasctl:role"
#define TAG_TRAFFIC "paasctl:traffic"
#define TAG_K8S_VERSION "paasctl:k8s-version"

struct res_tags {
    char name[128];          /* NAME-SLOT-suffix */
    char paas[32], slot[16], role[32], traffic[16];
    struct ec2_tag t[5];     /* points into the strings above */
    size_t n;
};

/* name = "PAAS-SLOT-suffix"; traffic NULL for all but ingress nodes. The
 * struct must not be copied after this (t points into it). */
void res_tags_init(struct res_tags *rt, const char *paas, const char *slot,
                   const char *role, const char *traffic,
                   const char *suffix_fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* The same tags for an ELB create call (elb_tag has the same shape). */
void res_tags_elb(const struct res_tags *rt, struct elb_tag out[5]);

/* 1 when the resource's parsed tags hold every key of rt with its value. */
int res_tags_complete(const struct res_tags *rt, const struct ec2_tags *have);

/* A deterministic RunInstances ClientToken (<= 64 characters) for count
 * instances of role in zone index z: a hash of those, of the ids of every
 * instance of that role and zone seen so far in any state (terminated ones
 * included), and of nothing else (no clock). A re-run after a crash that sees the same
 * world sends the same token, so AWS answers with the first launch instead
 * of a second one; after a scale-down and up again the ids differ, so an old
 * reservation is never returned for a new launch. ids is reordered. */
void res_client_token(char out[65], const char *paas, const char *slot,
                      const char *role, int z, int count, const char **ids,
                      size_t n);

#endif
