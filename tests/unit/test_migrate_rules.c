/* Unit tests for k8s/migrate_rules: the skipped kinds and objects, the
 * stripped fields and the creation order of SPEC.md "Migration". */
#include "t.h"

#include <jansson.h>

#include "k8s/migrate_rules.h"

static json_t *obj(const char *text)
{
    json_error_t je;
    json_t *o = json_loads(text, 0, &je);
    if (!o)
        fprintf(stderr, "bad test JSON: %s\n", je.text);
    return o;
}

static void expect_skip(const char *name, const char *group, const char *resource,
                        const char *text, const char *want)
{
    json_t *o = obj(text);
    const char *got = k8s_mig_object_skip(group, resource, o);
    if (want)
        T_STREQ(name, got, want);
    else
        T_OK(name, got == NULL, "skipped: %s", got);
    json_decref(o);
}

static void test_type_skips(void)
{
    struct k8s_resource_type ev = { "", "v1", "events", "Event", 1, K8S_CAN_LIST | K8S_CAN_CREATE, 1 };
    struct k8s_resource_type tr = { "authorization.k8s.io", "v1", "selfsubjectaccessreviews",
                                    "SelfSubjectAccessReview", 0, K8S_CAN_CREATE, 1 };
    struct k8s_resource_type cm = { "", "v1", "configmaps", "ConfigMap", 1,
                                    K8S_CAN_LIST | K8S_CAN_CREATE, 1 };
    struct k8s_resource_type widget = { "example.com", "v1", "widgets", "Widget", 1,
                                        K8S_CAN_LIST | K8S_CAN_CREATE, 1 };
    T_STREQ("type/events-made-by-cluster", k8s_mig_type_skip(&ev), "made by the cluster");
    T_OK("type/create-only-review-skipped", k8s_mig_type_skip(&tr) != NULL, "not skipped");
    T_OK("type/configmaps-migrate", k8s_mig_type_skip(&cm) == NULL, "skipped");
    T_OK("type/unknown-custom-type-migrates", k8s_mig_type_skip(&widget) == NULL, "skipped");
    T_OK("match/plural", k8s_mig_type_matches(&widget, "widgets"), "no");
    T_OK("match/plural.group", k8s_mig_type_matches(&widget, "widgets.example.com"), "no");
    T_OK("match/kind-any-case", k8s_mig_type_matches(&widget, "widget"), "no");
    T_OK("match/other-group-not", !k8s_mig_type_matches(&widget, "widgets.other.io"), "matched");
}

static void test_object_skips(void)
{
    const char *owned = "{\"metadata\":{\"name\":\"web-1\",\"namespace\":\"shop\",\"ownerReferences\":"
                        "[{\"kind\":\"ReplicaSet\",\"name\":\"web\",\"uid\":\"u1\",\"controller\":true}]}}";
    expect_skip("object/owned-pod", "", "pods", owned, "owned by a controller");
    expect_skip("object/bare-pod-migrates", "", "pods",
                "{\"metadata\":{\"name\":\"p\",\"namespace\":\"shop\"}}", NULL);
    expect_skip("object/cronjob-job", "batch", "jobs",
                "{\"metadata\":{\"name\":\"j\",\"namespace\":\"s\",\"ownerReferences\":"
                "[{\"kind\":\"CronJob\",\"name\":\"c\",\"uid\":\"u\",\"controller\":true}]}}",
                "owned by a cronjob");
    expect_skip("object/kube-root-ca", "", "configmaps",
                "{\"metadata\":{\"name\":\"kube-root-ca.crt\",\"namespace\":\"shop\"}}",
                "made by the cluster (kube-root-ca.crt)");
    expect_skip("object/default-sa", "", "serviceaccounts",
                "{\"metadata\":{\"name\":\"default\",\"namespace\":\"shop\"}}",
                "made by the cluster (default service account)");
    expect_skip("object/token-secret", "", "secrets",
                "{\"metadata\":{\"name\":\"t\",\"namespace\":\"shop\"},"
                "\"type\":\"kubernetes.io/service-account-token\"}", "service-account token");
    expect_skip("object/kubernetes-service", "", "services",
                "{\"metadata\":{\"name\":\"kubernetes\",\"namespace\":\"default\"}}",
                "made by the cluster (kubernetes service)");
    expect_skip("object/kubernetes-service-elsewhere-migrates", "", "services",
                "{\"metadata\":{\"name\":\"kubernetes\",\"namespace\":\"shop\"}}", NULL);
    expect_skip("object/system-clusterrole", "rbac.authorization.k8s.io", "clusterroles",
                "{\"metadata\":{\"name\":\"system:node\"}}", "system object (system: prefix)");
    expect_skip("object/bootstrapping-label", "rbac.authorization.k8s.io", "clusterroles",
                "{\"metadata\":{\"name\":\"admin\",\"labels\":"
                "{\"kubernetes.io/bootstrapping\":\"rbac-defaults\"}}}",
                "system object (kubernetes.io/bootstrapping)");
    expect_skip("object/builtin-priorityclass", "scheduling.k8s.io", "priorityclasses",
                "{\"metadata\":{\"name\":\"system-node-critical\"}}", "built-in priority class");
    expect_skip("object/user-clusterrole-migrates", "rbac.authorization.k8s.io", "clusterroles",
                "{\"metadata\":{\"name\":\"shop-reader\"}}", NULL);
}

static const char *map_owner(void *arg, const char *uid)
{
    (void)arg;
    return strcmp(uid, "src-cm-owner") == 0 ? "dst-cm-owner" : NULL;
}

static void test_strip(void)
{
    json_t *svc = obj("{\"kind\":\"Service\",\"metadata\":{\"name\":\"s\",\"uid\":\"u\","
                      "\"resourceVersion\":\"9\",\"creationTimestamp\":\"t\",\"generation\":1,"
                      "\"managedFields\":[],\"selfLink\":\"/x\",\"annotations\":{\"a\":\"b\"},"
                      "\"ownerReferences\":[{\"uid\":\"gone\"},{\"uid\":\"src-cm-owner\"}]},"
                      "\"spec\":{\"clusterIP\":\"10.96.0.5\",\"clusterIPs\":[\"10.96.0.5\"],"
                      "\"healthCheckNodePort\":30000,\"ports\":[{\"port\":80}]},"
                      "\"status\":{\"loadBalancer\":{}}}");
    json_t *headless = obj("{\"metadata\":{\"name\":\"h\"},\"spec\":{\"clusterIP\":\"None\"}}");
    json_t *pvc = obj("{\"metadata\":{\"name\":\"p\",\"annotations\":{"
                      "\"pv.kubernetes.io/bind-completed\":\"yes\",\"keep\":\"me\"}}}");
    char *s;
    k8s_mig_strip("", "services", svc, map_owner, NULL);
    s = json_dumps(svc, JSON_COMPACT | JSON_SORT_KEYS);
    T_STREQ("strip/service", s,
            "{\"kind\":\"Service\",\"metadata\":{\"annotations\":{\"a\":\"b\"},\"name\":\"s\","
            "\"ownerReferences\":[{\"uid\":\"dst-cm-owner\"}]},\"spec\":{\"ports\":[{\"port\":80}]}}");
    free(s);
    k8s_mig_strip("", "services", headless, NULL, NULL);
    T_STREQ("strip/headless-keeps-None",
            json_string_value(json_object_get(json_object_get(headless, "spec"), "clusterIP")),
            "None");
    k8s_mig_strip("", "persistentvolumeclaims", pvc, NULL, NULL);
    s = json_dumps(pvc, JSON_COMPACT | JSON_SORT_KEYS);
    T_STREQ("strip/pvc-binding-annotations", s,
            "{\"metadata\":{\"annotations\":{\"keep\":\"me\"},\"name\":\"p\"}}");
    free(s);
    json_decref(svc);
    json_decref(headless);
    json_decref(pvc);
}

static void test_order(void)
{
    int crd = k8s_mig_rank("apiextensions.k8s.io", "customresourcedefinitions", 0);
    int ns = k8s_mig_rank("", "namespaces", 0), sec = k8s_mig_rank("", "secrets", 0);
    int cm = k8s_mig_rank("", "configmaps", 0), svc = k8s_mig_rank("", "services", 0);
    int dep = k8s_mig_rank("apps", "deployments", 0), ing = k8s_mig_rank("networking.k8s.io",
                                                                         "ingresses", 0);
    int pdb = k8s_mig_rank("policy", "poddisruptionbudgets", 0);
    int other = k8s_mig_rank("scheduling.k8s.io", "priorityclasses", 0);
    int cr = k8s_mig_rank("example.com", "widgets", 1);
    T_OK("order/spec", crd < ns && ns < sec && sec < cm && cm < svc && svc < dep && dep < ing &&
         ing < pdb && pdb < other && other < cr, "%d %d %d %d %d %d %d %d %d %d", crd, ns, sec, cm,
         svc, dep, ing, pdb, other, cr);
    T_INTEQ("order/workloads-one-step", k8s_mig_rank("apps", "statefulsets", 0), dep);
    T_INTEQ("order/custom-last", cr, K8S_MIG_RANK_CUSTOM);
}

int main(void)
{
    test_type_skips();
    test_object_skips();
    test_strip();
    test_order();
    return t_done();
}
