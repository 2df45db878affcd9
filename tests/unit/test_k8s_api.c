/* Unit tests for the pure parts of k8s/api, k8s/client and k8s/discovery:
 * object paths and queries, Status documents turned into errors, which
 * errors are retried, backoff bounds, client set-up from a kubeconfig
 * (tls-server-name, bad files, expired client certificates), and discovery
 * documents (aggregated and legacy; the real upstream ones when
 * shared/testdata/k8s is beside the repository). */
#include "t.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "k8s/api.h"
#include "k8s/client.h"
#include "k8s/discovery.h"

static void expect_path(const char *name, struct k8s_ref r, const char *want)
{
    struct buf b = BUF_INIT;
    struct err e;
    err_init(&e);
    if (k8s_path(&b, &r, &e) < 0)
        T_OK(name, 0, "error: %s", e.msg);
    else
        T_STREQ(name, buf_str(&b), want);
    buf_release(&b);
}

static void test_paths(void)
{
    struct buf b = BUF_INIT;
    struct err e;
    expect_path("path/core-collection", (struct k8s_ref){ NULL, "v1", "nodes", NULL, NULL, NULL },
                "/api/v1/nodes");
    expect_path("path/core-namespaced", (struct k8s_ref){ "", "v1", "configmaps", "kube-system",
                                                          "cm-1", NULL },
                "/api/v1/namespaces/kube-system/configmaps/cm-1");
    expect_path("path/group", (struct k8s_ref){ "apps", "v1", "deployments", "web", "api", "scale" },
                "/apis/apps/v1/namespaces/web/deployments/api/scale");
    expect_path("path/cluster-scoped-group",
                (struct k8s_ref){ "rbac.authorization.k8s.io", "v1", "clusterroles", NULL,
                                  "system:controller:x", NULL },
                "/apis/rbac.authorization.k8s.io/v1/clusterroles/system%3Acontroller%3Ax");
    expect_path("path/namespace-object", (struct k8s_ref){ NULL, "v1", "namespaces", NULL, "prod", NULL },
                "/api/v1/namespaces/prod");
    expect_path("path/encoded-name", (struct k8s_ref){ NULL, "v1", "secrets", "a", "x y%z", NULL },
                "/api/v1/namespaces/a/secrets/x%20y%25z");

    err_init(&e);
    T_INTEQ("path/no-version", k8s_path(&b, &(struct k8s_ref){ NULL, NULL, "pods", NULL, NULL, NULL },
                                        &e), -1);
    T_INTEQ("path/no-version-usage", e.kind, ERR_USAGE);
    T_INTEQ("path/slash-in-name", k8s_path(&b, &(struct k8s_ref){ NULL, "v1", "pods", "a", "x/y", NULL },
                                           &e), -1);
    T_INTEQ("path/dotdot-namespace", k8s_path(&b, &(struct k8s_ref){ NULL, "v1", "pods", "..", NULL, NULL },
                                              &e), -1);
    T_INTEQ("path/subresource-without-name",
            k8s_path(&b, &(struct k8s_ref){ NULL, "v1", "pods", "a", NULL, "status" }, &e), -1);
    buf_release(&b);

    buf_puts(&b, "/api/v1/pods");
    k8s_query_add(&b, "labelSelector", "app in (a,b),tier!=db");
    k8s_query_add(&b, "limit", "500");
    k8s_query_add(&b, "continue", "eyJ2IjoiMSJ9==");
    T_STREQ("query/encoded", buf_str(&b),
            "/api/v1/pods?labelSelector=app%20in%20%28a%2Cb%29%2Ctier%21%3Ddb&limit=500"
            "&continue=eyJ2IjoiMSJ9%3D%3D");
    buf_release(&b);
}

static void test_status_errors(void)
{
    struct err e;
    const char *nf = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":"
        "\"Failure\",\"message\":\"configmaps \\\"x\\\" not found\",\"reason\":\"NotFound\","
        "\"details\":{\"name\":\"x\",\"kind\":\"configmaps\"},\"code\":404}";
    err_init(&e);
    k8s_error_from_status("GET", "/api/v1/namespaces/a/configmaps/x", 404, nf, strlen(nf), &e);
    T_STREQ("status/reason-is-code", e.code, "NotFound");
    T_INTEQ("status/http-status", e.http_status, 404);
    T_INTEQ("status/kind", e.kind, ERR_FAILED);
    T_STREQ("status/message", e.msg,
            "GET /api/v1/namespaces/a/configmaps/x: 404 NotFound: configmaps \"x\" not found");

    k8s_error_from_status("POST", "/api/v1/namespaces/a/secrets", 500,
                          "<html>password=hunter2</html>", 29, &e);
    T_STREQ("status/non-json-reason", e.code, "InternalError");
    T_OK("status/non-json-body-hidden", !strstr(e.msg, "hunter2"), "%s", e.msg);

    k8s_error_from_status("GET", "/version", 401, "", 0, &e);
    T_OK("status/401-message", strstr(e.msg, "401 Unauthorized: credentials rejected") != NULL,
         "%s", e.msg);
    T_STREQ("status/401-code", e.code, "Unauthorized");

    k8s_error_from_status("GET", "/api/v1/pods?continue=x", 410,
                          "{\"kind\":\"Status\",\"reason\":\"Expired\",\"code\":410,"
                          "\"message\":\"too old resource version\"}", 80, &e);
    T_STREQ("status/expired", e.code, "Expired");
}

static void test_retryable(void)
{
    struct err e;
    long statuses[] = { 429, 500, 502, 503, 504, 400, 401, 403, 404, 409, 410, 422 };
    int want[] = { 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0 };
    char name[64];
    for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
        err_init(&e);
        e.kind = ERR_FAILED;
        e.http_status = statuses[i];
        snprintf(name, sizeof(name), "retry/status-%ld", statuses[i]);
        T_INTEQ(name, k8s_error_retryable(&e), want[i]);
    }
    err_set(&e, ERR_FAILED, "x");
    snprintf(e.code, sizeof(e.code), "Unreachable");
    T_INTEQ("retry/unreachable", k8s_error_retryable(&e), 1);
    snprintf(e.code, sizeof(e.code), "TLS");
    T_INTEQ("retry/tls-never", k8s_error_retryable(&e), 0);
}

static void test_backoff(void)
{
    struct k8s_client c;
    long lo = 1L << 30, hi = 0;
    memset(&c, 0, sizeof(c));
    c.http.retry = (struct http_policy){ K8S_MAX_ATTEMPTS, 100, K8S_RETRY_CAP_MS };
    c.http.rng = 88172645463325252ULL;
    for (int i = 0; i < 200; i++) {
        long w = k8s_backoff_ms(&c, 3, 0);
        lo = w < lo ? w : lo;
        hi = w > hi ? w : hi;
    }
    T_OK("backoff/bounded", lo >= 0 && hi <= 400, "range %ld..%ld", lo, hi);
    T_OK("backoff/jitter", hi > lo, "no spread");
    T_OK("backoff/cap", k8s_backoff_ms(&c, 30, 0) <= 10000, "over cap");
    T_INTEQ("backoff/retry-after", k8s_backoff_ms(&c, 1, 2), 2000);
    T_INTEQ("backoff/retry-after-cap", k8s_backoff_ms(&c, 1, 3600), 60000);
}

/* ---- client set-up ------------------------------------------------------- */



static int client_from(const char *yaml, struct k8s_client *c, struct err *e)
{
    struct k8s_kubeconfig kc;
    FILE *f = fopen(t_tmp_path("kc.yaml"), "w");
    if (!f)
        return -1;
    fputs(yaml, f);
    fclose(f);
    if (k8s_kubeconfig_load(&kc, t_tmp_path("kc.yaml"), NULL, e) < 0)
        return -1;
    return k8s_client_init(c, &kc, NULL, NULL, e);
}

static int sh(const char *cmd)
{
    char full[2048];
    snprintf(full, sizeof(full), "cd '%s' && (%s) >/dev/null 2>&1", t_tmp, cmd);
    return system(full);
}

/* A self-signed certificate whose validity ended yesterday. */
static int make_expired_cert(const char *crt, const char *key)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    X509_NAME *name;
    FILE *fc = fopen(crt, "w"), *fk = fopen(key, "w");
    int rc = -1;
    if (k && x && fc && fk) {
        X509_set_version(x, 2);
        ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
        X509_gmtime_adj(X509_getm_notBefore(x), -10L * 86400);
        X509_gmtime_adj(X509_getm_notAfter(x), -86400L);
        X509_set_pubkey(x, k);
        name = X509_get_subject_name(x);
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"old", -1, -1, 0);
        X509_set_issuer_name(x, name);
        if (X509_sign(x, k, EVP_sha256()) && PEM_write_X509(fc, x) &&
            PEM_write_PrivateKey(fk, k, NULL, NULL, 0, NULL, NULL))
            rc = 0;
    }
    if (fc)
        fclose(fc);
    if (fk)
        fclose(fk);
    X509_free(x);
    EVP_PKEY_free(k);
    return rc;
}

static void test_client_setup(void)
{
    struct k8s_client c;
    struct err e;
    char yaml[2048];
    err_init(&e);
    T_INTEQ("client/sni-init", client_from(
        "current-context: x\n"
        "contexts: [{name: x, context: {cluster: c, user: u}}]\n"
        "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:6443/', "
        "tls-server-name: kubernetes.default}}]\n"
        "users: [{name: u, user: {token: abc}}]\n", &c, &e), 0);
    T_STREQ("client/sni-url", c.base_url, "https://kubernetes.default:6443");
    T_STREQ("client/sni-connect-to", c.connect_to ? c.connect_to->data : NULL,
            "kubernetes.default:6443:127.0.0.1:6443");
    T_STREQ("client/sni-host", c.host_header, "Host: 127.0.0.1:6443");
    T_STREQ("client/token", buf_str(&c.token), "abc");
    k8s_client_release(&c);

    T_INTEQ("client/prefix-init", client_from(
        "current-context: x\n"
        "contexts: [{name: x, context: {cluster: c}}]\n"
        "clusters: [{name: c, cluster: {server: 'https://rancher.example/k8s/clusters/c-1/'}}]\n",
        &c, &e), 0);
    T_STREQ("client/prefix-kept", c.base_url, "https://rancher.example/k8s/clusters/c-1");
    k8s_client_release(&c);

    T_INTEQ("client/bad-url", client_from(
        "current-context: x\n"
        "contexts: [{name: x, context: {cluster: c}}]\n"
        "clusters: [{name: c, cluster: {server: 'ftp://x'}}]\n", &c, &e), -1);
    T_OK("client/bad-url-msg", e.kind == ERR_USAGE && strstr(e.msg, "kc.yaml") &&
         strstr(e.msg, "bad server URL"), "%s", e.msg);

    T_INTEQ("client/missing-ca-file", client_from(
        "current-context: x\n"
        "contexts: [{name: x, context: {cluster: c}}]\n"
        "clusters: [{name: c, cluster: {server: 'https://x', certificate-authority: nope.crt}}]\n",
        &c, &e), -1);
    T_OK("client/missing-ca-file-msg", e.kind == ERR_USAGE && strstr(e.msg, "kc.yaml") &&
         strstr(e.msg, "certificate-authority") && strstr(e.msg, "nope.crt"), "%s", e.msg);

    T_INTEQ("client/token-file-missing", client_from(
        "current-context: x\n"
        "contexts: [{name: x, context: {cluster: c, user: u}}]\n"
        "clusters: [{name: c, cluster: {server: 'https://x'}}]\n"
        "users: [{name: u, user: {tokenFile: tok}}]\n", &c, &e), -1);
    T_OK("client/token-file-missing-msg", e.kind == ERR_USAGE && strstr(e.msg, "tokenFile") &&
         strstr(e.msg, "kc.yaml"), "%s", e.msg);
    sh("printf 'from-file\\n\\n' > tok");
    T_INTEQ("client/token-file-read", client_from(
        "current-context: x\n"
        "contexts: [{name: x, context: {cluster: c, user: u}}]\n"
        "clusters: [{name: c, cluster: {server: 'https://x'}}]\n"
        "users: [{name: u, user: {tokenFile: tok}}]\n", &c, &e), 0);
    T_STREQ("client/token-file-trimmed", buf_str(&c.token), "from-file");
    k8s_client_release(&c);

    /* An expired client certificate is reported before any request. */
    if (make_expired_cert(t_tmp_path("old.crt"), t_tmp_path("old.key")) < 0) {
        T_OK("client/make-expired-cert", 0, "libcrypto could not make one");
        return;
    }
    snprintf(yaml, sizeof(yaml),
             "current-context: x\n"
             "contexts: [{name: x, context: {cluster: c, user: u}}]\n"
             "clusters: [{name: c, cluster: {server: 'https://x'}}]\n"
             "users: [{name: u, user: {client-certificate: old.crt, client-key: old.key}}]\n");
    T_INTEQ("client/expired-cert", client_from(yaml, &c, &e), -1);
    T_OK("client/expired-cert-msg", e.kind == ERR_FAILED && strstr(e.msg, "TLS") &&
         strstr(e.msg, "expired") && strstr(e.msg, "kc.yaml"), "%s", e.msg);
    T_INTEQ("client/cert-without-key", client_from(
        "current-context: x\n"
        "contexts: [{name: x, context: {cluster: c, user: u}}]\n"
        "clusters: [{name: c, cluster: {server: 'https://x'}}]\n"
        "users: [{name: u, user: {client-certificate: old.crt}}]\n", &c, &e), -1);
    T_OK("client/cert-without-key-msg", strstr(e.msg, "without a key") != NULL, "%s", e.msg);
}

/* ---- discovery ----------------------------------------------------------- */

static void test_discovery_inline(void)
{
    const char *agg = "{\"kind\":\"APIGroupDiscoveryList\",\"items\":[{\"metadata\":{\"name\":"
        "\"apps\"},\"versions\":[{\"version\":\"v1\",\"resources\":[{\"resource\":\"deployments\","
        "\"responseKind\":{\"group\":\"\",\"version\":\"\",\"kind\":\"Deployment\"},\"scope\":"
        "\"Namespaced\",\"verbs\":[\"get\",\"list\",\"create\"],\"subresources\":[{\"subresource\":"
        "\"scale\"}]}]},{\"version\":\"v1beta1\",\"resources\":[{\"resource\":\"deployments\","
        "\"responseKind\":{\"kind\":\"Deployment\"},\"scope\":\"Namespaced\",\"verbs\":[\"get\"]},"
        "{\"resource\":\"oldthings\",\"responseKind\":{\"kind\":\"OldThing\"},\"scope\":\"Cluster\","
        "\"verbs\":[\"get\",\"list\"]}]}]}]}";
    const char *legacy = "{\"kind\":\"APIResourceList\",\"groupVersion\":\"v1\",\"resources\":["
        "{\"name\":\"pods\",\"kind\":\"Pod\",\"namespaced\":true,\"verbs\":[\"get\",\"list\",\"watch\"]},"
        "{\"name\":\"pods/log\",\"kind\":\"Pod\",\"namespaced\":true,\"verbs\":[\"get\"]},"
        "{\"name\":\"bindings\",\"kind\":\"Binding\",\"namespaced\":true,\"verbs\":[\"create\"]},"
        "{\"name\":\"nodes\",\"kind\":\"Node\",\"namespaced\":false,\"verbs\":[\"list\",\"delete\"]}]}";
    struct k8s_discovery d;
    const struct k8s_resource_type *t;
    struct err e;
    json_t *doc;
    k8s_discovery_init(&d);
    err_init(&e);
    doc = json_loads(agg, 0, NULL);
    T_INTEQ("disc/aggregated", k8s_discovery_add_aggregated(&d, doc, &e), 0);
    json_decref(doc);
    doc = json_loads(legacy, 0, NULL);
    T_INTEQ("disc/legacy", k8s_discovery_add_resource_list(&d, "", "v1", 1, doc, &e), 0);
    json_decref(doc);
    T_INTEQ("disc/count", d.n, 5);
    t = k8s_discovery_find(&d, "apps", "deployments");
    T_OK("disc/preferred-version", t && strcmp(t->version, "v1") == 0 && t->preferred &&
         strcmp(t->kind, "Deployment") == 0 && t->namespaced, "wrong deployments");
    T_OK("disc/verbs", t && (t->verbs & K8S_CAN_LIST) && (t->verbs & K8S_CAN_CREATE) &&
         !(t->verbs & K8S_CAN_DELETE), "verbs %u", t ? t->verbs : 0);
    t = k8s_discovery_find(&d, "apps", "oldthings");
    T_OK("disc/only-in-other-version", t && strcmp(t->version, "v1beta1") == 0 && !t->preferred &&
         !t->namespaced, "wrong oldthings");
    T_OK("disc/no-subresources", !k8s_discovery_find(&d, "", "pods/log"), "pods/log listed");
    t = k8s_discovery_find(&d, "", "bindings");
    T_OK("disc/not-listable", t && !k8s_resource_listable(t), "bindings listable");
    t = k8s_discovery_find(&d, NULL, "nodes");
    T_OK("disc/cluster-scoped", t && !t->namespaced && k8s_resource_listable(t), "nodes wrong");
    k8s_discovery_release(&d);
}

static json_t *load_testdata(const char *name)
{
    char path[1024];
    const char *shared = getenv("PAASCTL_SHARED"), *root = getenv("PAASCTL_ROOT");
    if (shared)
        snprintf(path, sizeof(path), "%s/testdata/k8s/%s", shared, name);
    else
        snprintf(path, sizeof(path), "%s/../shared/testdata/k8s/%s", root ? root : ".", name);
    return json_load_file(path, 0, NULL);
}

/* The upstream documents: every type is found once, with its kind. */
static void test_discovery_upstream(void)
{
    json_t *agg = load_testdata("aggregated_v2.json"), *core = load_testdata("api__v1.json");
    struct k8s_discovery d;
    const struct k8s_resource_type *t;
    struct err e;
    if (!agg || !core) {
        printf("# shared/testdata/k8s not found; upstream discovery checks skipped\n");
        json_decref(agg);
        json_decref(core);
        return;
    }
    k8s_discovery_init(&d);
    err_init(&e);
    T_INTEQ("disc-upstream/core", k8s_discovery_add_resource_list(&d, "", "v1", 1, core, &e), 0);
    T_INTEQ("disc-upstream/aggregated", k8s_discovery_add_aggregated(&d, agg, &e), 0);
    t = k8s_discovery_find(&d, "", "configmaps");
    T_OK("disc-upstream/configmaps", t && strcmp(t->kind, "ConfigMap") == 0 && t->namespaced,
         "missing");
    t = k8s_discovery_find(&d, "apps", "deployments");
    T_OK("disc-upstream/deployments", t && strcmp(t->version, "v1") == 0, "missing");
    t = k8s_discovery_find(&d, "autoscaling", "horizontalpodautoscalers");
    T_OK("disc-upstream/hpa-preferred-v2", t && strcmp(t->version, "v2") == 0, "got %s",
         t ? t->version : "none");
    t = k8s_discovery_find(&d, "rbac.authorization.k8s.io", "clusterroles");
    T_OK("disc-upstream/clusterroles", t && !t->namespaced, "missing");
    for (size_t i = 0; i < d.n; i++)
        if (strchr(d.types[i].resource, '/') || !*d.types[i].kind) {
            T_OK("disc-upstream/clean", 0, "bad type %s", d.types[i].resource);
            break;
        }
    T_OK("disc-upstream/many", d.n > 50, "only %zu types", d.n);
    k8s_discovery_release(&d);
    json_decref(agg);
    json_decref(core);
}

int main(void)
{
    if (t_mktmp("paasctl-k8sapi") < 0)
        return 2;
    test_paths();
    test_status_errors();
    test_retryable();
    test_backoff();
    test_client_setup();
    test_discovery_inline();
    test_discovery_upstream();
    t_rmtree(t_tmp);
    return t_done();
}
