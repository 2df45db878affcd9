/* API discovery: which resource types a cluster serves (core and every
 * group, custom resources included), with their kind, scope and verbs.
 * Aggregated discovery (apidiscovery.k8s.io/v2) when the server offers it,
 * else the legacy /api, /apis and per-group-version documents. Migration
 * (SPEC.md "Migration") lists every listable type found here. */
#ifndef K8S_DISCOVERY_H
#define K8S_DISCOVERY_H

#include <stddef.h>

#include <jansson.h>

#include "core/err.h"
#include "k8s/client.h"

enum k8s_verb_bit {
    K8S_CAN_GET = 1 << 0,
    K8S_CAN_LIST = 1 << 1,
    K8S_CAN_WATCH = 1 << 2,
    K8S_CAN_CREATE = 1 << 3,
    K8S_CAN_UPDATE = 1 << 4,
    K8S_CAN_PATCH = 1 << 5,
    K8S_CAN_DELETE = 1 << 6,
    K8S_CAN_DELETECOLLECTION = 1 << 7,
};

/* One resource type (never a subresource). Strings owned by the list. */
struct k8s_resource_type {
    char *group;          /* "" for the core group */
    char *version;
    char *resource;       /* plural, e.g. "deployments" */
    char *kind;
    int namespaced;
    unsigned verbs;       /* enum k8s_verb_bit */
    int preferred;        /* served at the group's preferred version */
};

struct k8s_discovery {
    struct k8s_resource_type *types;
    size_t n, cap;
    /* Group-versions that could not be read ("metrics.k8s.io/v1beta1:
     * 503 ServiceUnavailable"); their types are missing above. */
    char **failed;
    size_t n_failed;
    int aggregated;       /* answered by aggregated discovery */
};

/* Discovers once per client; later calls return the cached list, borrowed
 * until the client is released. One type per (group, resource): the
 * preferred version's, or for a resource the preferred version lacks, the
 * first other version serving it (as kubectl api-resources does). */
int k8s_discover(struct k8s_client *c, const struct k8s_discovery **out,
                 struct err *e);

/* The type serving resource (plural) in group, or NULL. */
const struct k8s_resource_type *k8s_discovery_find(const struct k8s_discovery *d,
                                                   const char *group,
                                                   const char *resource);

/* 1 if t can be listed (has the list verb). */
int k8s_resource_listable(const struct k8s_resource_type *t);

/* The pure parsers, each adding to d. doc is borrowed.
 * An APIGroupDiscoveryList (aggregated; from /api or /apis). */
int k8s_discovery_add_aggregated(struct k8s_discovery *d, json_t *doc,
                                 struct err *e);
/* An APIResourceList for group/version; preferred marks its types. */
int k8s_discovery_add_resource_list(struct k8s_discovery *d, const char *group,
                                    const char *version, int preferred,
                                    json_t *doc, struct err *e);

void k8s_discovery_init(struct k8s_discovery *d);
void k8s_discovery_release(struct k8s_discovery *d);
void k8s_discovery_free(struct k8s_discovery *d);

#endif
