/* Migration object rules (see migrate_rules.h): SPEC.md "Migration" —
 * skipped kinds and objects, stripped fields, creation order. */
#include "k8s/migrate_rules.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

struct mig_gr {
    const char *group;
    const char *resource;
};

static int mig_is(const char *group, const char *resource, const char *g, const char *r)
{
    return strcmp(group ? group : "", g) == 0 && strcmp(resource, r) == 0;
}

static int mig_in(const char *group, const char *resource, const struct mig_gr *set, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (mig_is(group, resource, set[i].group, set[i].resource))
            return 1;
    return 0;
}

#define MIG_N(a) (sizeof(a) / sizeof((a)[0]))

/* Kinds the destination cluster makes by itself (SPEC.md "skipped kinds"). */
static const struct mig_gr mig_made_by_cluster[] = {
    { "", "events" }, { "events.k8s.io", "events" }, { "", "nodes" },
    { "", "endpoints" }, { "discovery.k8s.io", "endpointslices" },
    { "coordination.k8s.io", "leases" }, { "apps", "controllerrevisions" },
    { "", "componentstatuses" }, { "", "bindings" },
    { "authentication.k8s.io", "tokenreviews" },
};

const char *k8s_mig_type_skip(const struct k8s_resource_type *t)
{
    if (mig_in(t->group, t->resource, mig_made_by_cluster, MIG_N(mig_made_by_cluster)))
        return "made by the cluster";
    if (!(t->verbs & K8S_CAN_LIST) || !(t->verbs & K8S_CAN_CREATE))
        return "not listable and creatable (virtual)";
    return NULL;
}

static const char *mig_str(json_t *o, const char *k1, const char *k2)
{
    json_t *v = json_object_get(o, k1);
    if (k2)
        v = json_object_get(v, k2);
    return json_is_string(v) ? json_string_value(v) : "";
}

/* The kind of the controller among obj's owner references, or NULL. */
static const char *mig_controller_kind(json_t *obj)
{
    json_t *refs = json_object_get(json_object_get(obj, "metadata"), "ownerReferences"), *r;
    size_t i;
    json_array_foreach(refs, i, r) {
        if (json_is_true(json_object_get(r, "controller")))
            return mig_str(r, "kind", NULL);
    }
    return NULL;
}

static int mig_prefixed(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Objects every cluster makes in itself, by name or type. */
static const char *mig_made_object(const char *group, const char *resource, const char *ns,
                                   const char *name, json_t *obj)
{
    if (mig_is(group, resource, "", "configmaps") && strcmp(name, "kube-root-ca.crt") == 0)
        return "made by the cluster (kube-root-ca.crt)";
    if (mig_is(group, resource, "", "serviceaccounts") && strcmp(name, "default") == 0)
        return "made by the cluster (default service account)";
    if (mig_is(group, resource, "", "secrets") &&
        strcmp(mig_str(obj, "type", NULL), "kubernetes.io/service-account-token") == 0)
        return "service-account token";
    if (mig_is(group, resource, "", "services") && strcmp(ns, "default") == 0 &&
        strcmp(name, "kubernetes") == 0)
        return "made by the cluster (kubernetes service)";
    return NULL;
}

/* Cluster-scoped objects of the system itself. */
static const char *mig_system_object(const char *group, const char *resource,
                                     const char *ns, const char *name, json_t *obj)
{
    json_t *labels = json_object_get(json_object_get(obj, "metadata"), "labels");
    if ((mig_is(group, resource, "rbac.authorization.k8s.io", "clusterroles") ||
         mig_is(group, resource, "rbac.authorization.k8s.io", "clusterrolebindings")) &&
        mig_prefixed(name, "system:"))
        return "system object (system: prefix)";
    if (mig_is(group, resource, "scheduling.k8s.io", "priorityclasses") &&
        mig_prefixed(name, "system-"))
        return "built-in priority class";
    if (!*ns && json_object_get(labels, "kubernetes.io/bootstrapping"))
        return "system object (kubernetes.io/bootstrapping)";
    return NULL;
}

const char *k8s_mig_object_skip(const char *group, const char *resource, json_t *obj)
{
    const char *ns = mig_str(obj, "metadata", "namespace");
    const char *name = mig_str(obj, "metadata", "name");
    const char *owner = mig_controller_kind(obj);
    const char *why;
    if (owner && (mig_is(group, resource, "", "pods") ||
                  mig_is(group, resource, "apps", "replicasets")))
        return "owned by a controller";
    if (owner && strcmp(owner, "CronJob") == 0 && mig_is(group, resource, "batch", "jobs"))
        return "owned by a cronjob";
    if ((why = mig_made_object(group, resource, ns, name, obj)))
        return why;
    return mig_system_object(group, resource, ns, name, obj);
}

/* Owner references: kept (with the owner's new uid) only for owners that
 * were migrated; the destination's garbage collector would otherwise
 * delete the object for want of its owner. */
static void mig_strip_owners(json_t *meta, k8s_mig_owner_fn owner, void *arg)
{
    json_t *refs = json_object_get(meta, "ownerReferences"), *r;
    size_t i = 0;
    while (json_is_array(refs) && i < json_array_size(refs)) {
        const char *to = NULL;
        r = json_array_get(refs, i);
        if (owner)
            to = owner(arg, mig_str(r, "uid", NULL));
        if (to) {
            json_object_set_new(r, "uid", json_string(to));
            i++;
        } else {
            json_array_remove(refs, i);
        }
    }
    if (json_is_array(refs) && json_array_size(refs) == 0)
        json_object_del(meta, "ownerReferences");
}

static const char *const mig_pvc_binding[] = {
    "pv.kubernetes.io/bind-completed", "pv.kubernetes.io/bound-by-controller",
    "volume.beta.kubernetes.io/storage-provisioner", "volume.kubernetes.io/storage-provisioner",
    "volume.kubernetes.io/selected-node",
};

static void mig_strip_service(json_t *spec)
{
    if (strcmp(mig_str(spec, "clusterIP", NULL), "None") != 0) {
        json_object_del(spec, "clusterIP");
        json_object_del(spec, "clusterIPs");
    }
    json_object_del(spec, "healthCheckNodePort");
}

void k8s_mig_strip(const char *group, const char *resource, json_t *obj,
                   k8s_mig_owner_fn owner, void *arg)
{
    static const char *const meta_fields[] = {
        "uid", "resourceVersion", "selfLink", "creationTimestamp", "generation",
        "managedFields", "deletionTimestamp", "deletionGracePeriodSeconds",
    };
    json_t *meta = json_object_get(obj, "metadata");
    for (size_t i = 0; i < MIG_N(meta_fields); i++)
        json_object_del(meta, meta_fields[i]);
    mig_strip_owners(meta, owner, arg);
    json_object_del(obj, "status");
    if (mig_is(group, resource, "", "services"))
        mig_strip_service(json_object_get(obj, "spec"));
    if (mig_is(group, resource, "", "persistentvolumeclaims")) {
        json_t *ann = json_object_get(meta, "annotations");
        for (size_t i = 0; i < MIG_N(mig_pvc_binding); i++)
            json_object_del(ann, mig_pvc_binding[i]);
    }
}

/* SPEC.md's order, one step per line; the workloads share a step. */
static const struct mig_gr mig_order[] = {
    { "apiextensions.k8s.io", "customresourcedefinitions" },
    { "", "namespaces" },
    { "storage.k8s.io", "storageclasses" },
    { "", "persistentvolumes" },
    { "", "persistentvolumeclaims" },
    { "", "secrets" },
    { "", "configmaps" },
    { "", "serviceaccounts" },
    { "", "limitranges" },
    { "", "resourcequotas" },
    { "rbac.authorization.k8s.io", "roles" },
    { "rbac.authorization.k8s.io", "clusterroles" },
    { "rbac.authorization.k8s.io", "rolebindings" },
    { "rbac.authorization.k8s.io", "clusterrolebindings" },
    { "networking.k8s.io", "networkpolicies" },
    { "", "services" },
};

static const struct mig_gr mig_workloads[] = {
    { "apps", "deployments" }, { "apps", "statefulsets" }, { "apps", "daemonsets" },
    { "apps", "replicasets" }, { "batch", "jobs" }, { "batch", "cronjobs" },
    { "", "pods" }, { "", "replicationcontrollers" }, { "", "podtemplates" },
};

static const struct mig_gr mig_after_workloads[] = {
    { "networking.k8s.io", "ingresses" },
    { "autoscaling", "horizontalpodautoscalers" },
    { "policy", "poddisruptionbudgets" },
};

int k8s_mig_rank(const char *group, const char *resource, int custom)
{
    int workloads = (int)MIG_N(mig_order);
    if (custom)
        return K8S_MIG_RANK_CUSTOM;
    for (size_t i = 0; i < MIG_N(mig_order); i++)
        if (mig_is(group, resource, mig_order[i].group, mig_order[i].resource))
            return (int)i;
    if (mig_in(group, resource, mig_workloads, MIG_N(mig_workloads)))
        return workloads;
    for (size_t i = 0; i < MIG_N(mig_after_workloads); i++)
        if (mig_is(group, resource, mig_after_workloads[i].group, mig_after_workloads[i].resource))
            return workloads + 1 + (int)i;
    /* other built-in types (priority classes, ingress classes, webhooks...)
     * come after those SPEC.md names, before the custom resources */
    return workloads + 1 + (int)MIG_N(mig_after_workloads);
}

int k8s_mig_type_matches(const struct k8s_resource_type *t, const char *name)
{
    char full[320];
    snprintf(full, sizeof(full), "%s%s%s", t->resource, *t->group ? "." : "", t->group);
    return strcasecmp(name, t->resource) == 0 || strcasecmp(name, full) == 0 ||
           strcasecmp(name, t->kind) == 0;
}
