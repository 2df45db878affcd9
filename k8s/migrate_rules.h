/* The migration object rules of SPEC.md "Migration": which resource types
 * and objects a cluster makes by itself (skipped, each with its reason),
 * which fields are stripped before an object is created elsewhere, and the
 * order in which types are created. Pure functions of the type and the
 * object, so they are unit-tested without a server. */
#ifndef K8S_MIGRATE_RULES_H
#define K8S_MIGRATE_RULES_H

#include <jansson.h>

#include "k8s/discovery.h"

/* Why objects of type t are never read, or NULL when they migrate: kinds
 * the cluster makes (events, nodes, endpoints, leases...) and types that
 * cannot be listed and created (reviews, bindings, other virtual types). */
const char *k8s_mig_type_skip(const struct k8s_resource_type *t);

/* Why obj (of group/resource) is left alone, or NULL when it migrates:
 * controller-owned pods and replicasets, cronjob-owned jobs, what every
 * cluster makes (kube-root-ca.crt, default service accounts, token secrets,
 * the kubernetes service) and cluster-scoped system objects (system:
 * roles and bindings, the kubernetes.io/bootstrapping label, built-in
 * priority classes). The returned string is static. */
const char *k8s_mig_object_skip(const char *group, const char *resource, json_t *obj);

/* Maps an owner's uid in the source to its uid in the destination, or NULL
 * when the owner was not migrated. */
typedef const char *(*k8s_mig_owner_fn)(void *arg, const char *src_uid);

/* Removes what the destination must make itself: uid, resourceVersion,
 * selfLink, creationTimestamp, generation, managedFields,
 * deletionTimestamp, status, owner references whose owner was not migrated
 * (the others get the owner's new uid), a Service's allocated cluster IPs
 * and health-check node port, a PVC's binding annotations. owner may be
 * NULL (every owner reference goes). */
void k8s_mig_strip(const char *group, const char *resource, json_t *obj,
                   k8s_mig_owner_fn owner, void *arg);

/* Position of a type in SPEC.md's creation order (lower first): CRDs,
 * namespaces, storage classes ... PDBs, other built-in types, then custom
 * resources (custom = served by a CustomResourceDefinition). */
int k8s_mig_rank(const char *group, const char *resource, int custom);

/* The rank from which types are custom resources. */
#define K8S_MIG_RANK_CUSTOM 100

/* 1 if name selects type t: its plural ("deployments"), plural.group
 * ("deployments.apps") or kind, case-insensitively ("Deployment"). */
int k8s_mig_type_matches(const struct k8s_resource_type *t, const char *name);

#endif
