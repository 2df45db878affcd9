/* Unit tests for k8s/kubeconfig: every field of a cluster and a user, exec
 * plugins, paths relative to each file, KUBECONFIG lists merged like
 * kubectl, ~/.kube/config, and bad files (each error names the file). */
#include "t.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "k8s/kubeconfig.h"



static void write_file(const char *name, const char *text)
{
    FILE *f = fopen(t_tmp_path(name), "w");
    if (!f) {
        perror(name);
        exit(2);
    }
    fputs(text, f);
    fclose(f);
}

/* "hello-ca" and "secret-key" in base64 */
#define B64_CA "aGVsbG8tY2E="
#define B64_CERT "Y2xpZW50LWNlcnQ="
#define B64_KEY "c2VjcmV0LWtleQ=="

static const char full_yaml[] =
    "apiVersion: v1\n"
    "kind: Config\n"
    "current-context: full\n"
    "clusters:\n"
    "- name: c-full\n"
    "  cluster:\n"
    "    server: https://10.0.0.1:6443\n"
    "    certificate-authority: pki/ca.crt\n"
    "    certificate-authority-data: " B64_CA "\n"
    "    insecure-skip-tls-verify: false\n"
    "    tls-server-name: kubernetes.default\n"
    "    proxy-url: http://proxy.local:3128\n"
    "- name: c-insecure\n"
    "  cluster:\n"
    "    server: https://10.0.0.2:6443\n"
    "    insecure-skip-tls-verify: true\n"
    "contexts:\n"
    "- name: full\n"
    "  context:\n"
    "    cluster: c-full\n"
    "    user: u-full\n"
    "    namespace: payments\n"
    "- name: insecure\n"
    "  context: {cluster: c-insecure, user: u-exec}\n"
    "- name: anon\n"
    "  context: {cluster: c-insecure}\n"
    "- name: basic\n"
    "  context: {cluster: c-insecure, user: u-basic}\n"
    "users:\n"
    "- name: u-full\n"
    "  user:\n"
    "    client-certificate: certs/client.crt\n"
    "    client-certificate-data: " B64_CERT "\n"
    "    client-key: /abs/client.key\n"
    "    client-key-data: " B64_KEY "\n"
    "    token: tok-123\n"
    "    tokenFile: token.txt\n"
    "- name: u-basic\n"
    "  user:\n"
    "    username: admin\n"
    "    password: \"p@ss word\"\n"
    "- name: u-exec\n"
    "  user:\n"
    "    exec:\n"
    "      apiVersion: client.authentication.k8s.io/v1\n"
    "      command: ./bin/plugin\n"
    "      args: [\"--region\", \"us-east-1\"]\n"
    "      env:\n"
    "      - name: AWS_PROFILE\n"
    "        value: ops\n"
    "      - name: EMPTY\n"
    "      interactiveMode: Never\n";

static void test_every_field(void)
{
    struct k8s_kubeconfig kc;
    struct err e;
    char want[600];
    err_init(&e);
    write_file("full.yaml", full_yaml);
    T_INTEQ("full/load", k8s_kubeconfig_load(&kc, t_tmp_path("full.yaml"), NULL, &e), 0);
    T_STREQ("full/current-context", kc.context, "full");
    T_STREQ("full/context-file", kc.context_file, t_tmp_path("full.yaml"));
    T_STREQ("full/namespace", kc.namespace, "payments");
    T_STREQ("full/cluster-name", kc.cluster.name, "c-full");
    T_STREQ("full/server", kc.cluster.server, "https://10.0.0.1:6443");
    snprintf(want, sizeof(want), "%s/pki/ca.crt", t_tmp);
    T_STREQ("full/ca-file-relative", kc.cluster.ca_file, want);
    T_OK("full/ca-data", kc.cluster.ca_data_len == 8 &&
         memcmp(kc.cluster.ca_data, "hello-ca", 8) == 0, "len %zu", kc.cluster.ca_data_len);
    T_INTEQ("full/insecure-false", kc.cluster.insecure, 0);
    T_STREQ("full/tls-server-name", kc.cluster.tls_server_name, "kubernetes.default");
    T_STREQ("full/proxy-url", kc.cluster.proxy_url, "http://proxy.local:3128");
    T_STREQ("full/user-name", kc.user.name, "u-full");
    snprintf(want, sizeof(want), "%s/certs/client.crt", t_tmp);
    T_STREQ("full/client-certificate", kc.user.cert_file, want);
    T_OK("full/client-certificate-data", kc.user.cert_data_len == 11 &&
         memcmp(kc.user.cert_data, "client-cert", 11) == 0, "len %zu", kc.user.cert_data_len);
    T_STREQ("full/client-key-absolute", kc.user.key_file, "/abs/client.key");
    T_OK("full/client-key-data", kc.user.key_data_len == 10 &&
         memcmp(kc.user.key_data, "secret-key", 10) == 0, "len %zu", kc.user.key_data_len);
    T_STREQ("full/token", kc.user.token, "tok-123");
    snprintf(want, sizeof(want), "%s/token.txt", t_tmp);
    T_STREQ("full/tokenFile", kc.user.token_file, want);
    T_INTEQ("full/no-exec", kc.user.has_exec, 0);
    k8s_kubeconfig_release(&kc);
    T_OK("full/release-clears", kc.context == NULL && kc.user.token == NULL, "not cleared");
}

static void test_other_users(void)
{
    struct k8s_kubeconfig kc;
    struct err e;
    char want[600];
    err_init(&e);
    T_INTEQ("basic/load", k8s_kubeconfig_load(&kc, t_tmp_path("full.yaml"), "basic", &e), 0);
    T_STREQ("basic/username", kc.user.username, "admin");
    T_STREQ("basic/password", kc.user.password, "p@ss word");
    T_INTEQ("basic/insecure-true", kc.cluster.insecure, 1);
    T_OK("basic/no-namespace", kc.namespace == NULL, "%s", kc.namespace);
    k8s_kubeconfig_release(&kc);

    T_INTEQ("exec/load", k8s_kubeconfig_load(&kc, t_tmp_path("full.yaml"), "insecure", &e), 0);
    T_INTEQ("exec/has-exec", kc.user.has_exec, 1);
    T_STREQ("exec/apiVersion", kc.user.exec.api_version, "client.authentication.k8s.io/v1");
    snprintf(want, sizeof(want), "%s/./bin/plugin", t_tmp);
    T_STREQ("exec/command-relative", kc.user.exec.command, want);
    T_INTEQ("exec/n-args", kc.user.exec.n_args, 2);
    T_STREQ("exec/arg0", kc.user.exec.args[0], "--region");
    T_STREQ("exec/arg1", kc.user.exec.args[1], "us-east-1");
    T_INTEQ("exec/n-env", kc.user.exec.n_env, 2);
    T_STREQ("exec/env-name", kc.user.exec.env[0].name, "AWS_PROFILE");
    T_STREQ("exec/env-value", kc.user.exec.env[0].value, "ops");
    T_STREQ("exec/env-empty-value", kc.user.exec.env[1].value, "");
    k8s_kubeconfig_release(&kc);

    T_INTEQ("anon/load", k8s_kubeconfig_load(&kc, t_tmp_path("full.yaml"), "anon", &e), 0);
    T_OK("anon/no-user", kc.user.name == NULL && !kc.user.token, "user %s", kc.user.name);
    k8s_kubeconfig_release(&kc);
}

/* kubectl's merge: the first file to define a named entry (or
 * current-context) wins; relative paths follow the defining file. */
static void test_merged_list(void)
{
    struct k8s_kubeconfig kc;
    struct err e;
    char env[2048], want[600];
    err_init(&e);
    mkdir(t_tmp_path("second"), 0700);
    write_file("first.yaml",
               "current-context: ctx-b\n"
               "clusters:\n"
               "- name: shared\n"
               "  cluster: {server: https://first:6443}\n"
               "users:\n"
               "- name: u1\n"
               "  user: {token: from-first}\n");
    write_file("second/second.yaml",
               "current-context: ctx-a\n"
               "clusters:\n"
               "- name: shared\n"
               "  cluster: {server: https://second:6443}\n"
               "- name: own\n"
               "  cluster: {server: https://own:6443, certificate-authority: ca.pem}\n"
               "contexts:\n"
               "- name: ctx-a\n"
               "  context: {cluster: own, user: u1}\n"
               "- name: ctx-b\n"
               "  context: {cluster: shared, user: u1}\n"
               "users:\n"
               "- name: u1\n"
               "  user: {token: from-second}\n");
    snprintf(env, sizeof(env), "%s:%s::%s", t_tmp_path("missing.yaml"), t_tmp_path("first.yaml"),
             t_tmp_path("second/second.yaml"));
    setenv("KUBECONFIG", env, 1);
    T_INTEQ("merge/load", k8s_kubeconfig_load(&kc, NULL, NULL, &e), 0);
    T_STREQ("merge/current-context-first-file", kc.context, "ctx-b");
    T_STREQ("merge/context-from-second", kc.context_file, t_tmp_path("second/second.yaml"));
    T_STREQ("merge/cluster-first-wins", kc.cluster.server, "https://first:6443");
    T_STREQ("merge/cluster-file", kc.cluster.file, t_tmp_path("first.yaml"));
    T_STREQ("merge/user-first-wins", kc.user.token, "from-first");
    k8s_kubeconfig_release(&kc);

    T_INTEQ("merge/explicit-context", k8s_kubeconfig_load(&kc, "", "ctx-a", &e), 0);
    T_STREQ("merge/own-cluster", kc.cluster.server, "https://own:6443");
    snprintf(want, sizeof(want), "%s/second/ca.pem", t_tmp);
    T_STREQ("merge/relative-to-defining-file", kc.cluster.ca_file, want);
    k8s_kubeconfig_release(&kc);

    /* An explicit path beats KUBECONFIG. */
    T_INTEQ("merge/explicit-path", k8s_kubeconfig_load(&kc, t_tmp_path("full.yaml"), NULL, &e), 0);
    T_STREQ("merge/explicit-path-context", kc.context, "full");
    k8s_kubeconfig_release(&kc);

    setenv("KUBECONFIG", t_tmp_path("nothing-here.yaml"), 1);
    T_INTEQ("merge/none-exist", k8s_kubeconfig_load(&kc, NULL, NULL, &e), -1);
    T_OK("merge/none-exist-msg", e.kind == ERR_USAGE && strstr(e.msg, "nothing-here.yaml"),
         "%s", e.msg);
    unsetenv("KUBECONFIG");
}

static void test_home_default(void)
{
    struct k8s_kubeconfig kc;
    struct err e;
    char *old = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
    err_init(&e);
    mkdir(t_tmp_path("home"), 0700);
    mkdir(t_tmp_path("home/.kube"), 0700);
    write_file("home/.kube/config",
               "current-context: h\n"
               "contexts: [{name: h, context: {cluster: hc}}]\n"
               "clusters: [{name: hc, cluster: {server: 'https://home:443'}}]\n");
    setenv("HOME", t_tmp_path("home"), 1);
    T_INTEQ("home/load", k8s_kubeconfig_load(&kc, NULL, NULL, &e), 0);
    T_STREQ("home/server", kc.cluster.server, "https://home:443");
    k8s_kubeconfig_release(&kc);
    T_INTEQ("home/tilde-path", k8s_kubeconfig_load(&kc, "~/.kube/config", "h", &e), 0);
    T_STREQ("home/tilde-server", kc.cluster.server, "https://home:443");
    k8s_kubeconfig_release(&kc);
    setenv("HOME", t_tmp_path("nowhere"), 1);
    T_INTEQ("home/missing", k8s_kubeconfig_load(&kc, NULL, NULL, &e), -1);
    T_INTEQ("home/missing-kind", e.kind, ERR_USAGE);
    if (old)
        setenv("HOME", old, 1);
    free(old);
}

/* Loads name (written with text) and checks the error names the file and
 * says what is wrong. */
static void expect_bad(const char *test, const char *name, const char *text,
                       const char *context, const char *needle)
{
    struct k8s_kubeconfig kc;
    struct err e;
    char tname[160];
    err_init(&e);
    write_file(name, text);
    snprintf(tname, sizeof(tname), "bad/%s", test);
    T_INTEQ(tname, k8s_kubeconfig_load(&kc, t_tmp_path(name), context, &e), -1);
    snprintf(tname, sizeof(tname), "bad/%s/usage", test);
    T_INTEQ(tname, e.kind, ERR_USAGE);
    snprintf(tname, sizeof(tname), "bad/%s/message", test);
    T_OK(tname, strstr(e.msg, t_tmp_path(name)) && strstr(e.msg, needle),
         "[%s] lacks file or [%s]", e.msg, needle);
}

static void test_bad_files(void)
{
    static const char ctx[] =
        "contexts: [{name: x, context: {cluster: c, user: u}}]\n";
    expect_bad("unknown-context", "b1.yaml", ctx, "nope", "context \"nope\" not found");
    expect_bad("missing-cluster", "b2.yaml", ctx, "x", "cluster \"c\"");
    expect_bad("missing-user", "b3.yaml",
               "contexts: [{name: x, context: {cluster: c, user: u}}]\n"
               "clusters: [{name: c, cluster: {server: 'https://s'}}]\n",
               "x", "user \"u\"");
    expect_bad("bad-base64", "b4.yaml",
               "contexts: [{name: x, context: {cluster: c}}]\n"
               "clusters:\n"
               "- name: c\n"
               "  cluster:\n"
               "    server: https://s\n"
               "    certificate-authority-data: '@@not base64!!'\n",
               "x", ":6: certificate-authority-data: bad base64");
    expect_bad("yaml-syntax-line", "b5.yaml",
               "current-context: x\n"
               "contexts:\n"
               "- name: x\n"
               "  context: {cluster: c\n"
               "users: []\n",
               NULL, "YAML syntax error");
    expect_bad("no-current-context", "b6.yaml", ctx, NULL, "no current-context");
    expect_bad("no-server", "b7.yaml",
               "contexts: [{name: x, context: {cluster: c}}]\n"
               "clusters: [{name: c, cluster: {insecure-skip-tls-verify: true}}]\n",
               "x", "has no server");
    expect_bad("not-a-mapping", "b8.yaml", "- just\n- a list\n", NULL, "not a kubeconfig");
    expect_bad("bad-bool", "b9.yaml",
               "contexts: [{name: x, context: {cluster: c}}]\n"
               "clusters: [{name: c, cluster: {server: 'https://s', insecure-skip-tls-verify: maybe}}]\n",
               "x", "insecure-skip-tls-verify: expected true or false");
    expect_bad("exec-no-command", "b10.yaml",
               "contexts: [{name: x, context: {cluster: c, user: u}}]\n"
               "clusters: [{name: c, cluster: {server: 'https://s'}}]\n"
               "users: [{name: u, user: {exec: {apiVersion: v1}}}]\n",
               "x", "command is required");
    expect_bad("clusters-not-list", "b11.yaml",
               "contexts: [{name: x, context: {cluster: c}}]\n"
               "clusters: {c: 1}\n", "x", "clusters: expected a list");
    expect_bad("server-not-string", "b12.yaml",
               "contexts: [{name: x, context: {cluster: c}}]\n"
               "clusters: [{name: c, cluster: {server: [1, 2]}}]\n", "x",
               "server: expected a string");

    /* YAML errors carry the line. */
    {
        struct k8s_kubeconfig kc;
        struct err e;
        write_file("b13.yaml", "a: 1\nb: 2\nc: [unclosed\nd: 4\n");
        k8s_kubeconfig_load(&kc, t_tmp_path("b13.yaml"), NULL, &e);
        T_OK("bad/yaml-line-number", strstr(e.msg, "b13.yaml:") &&
             (strstr(e.msg, ":4:") || strstr(e.msg, ":5:")), "%s", e.msg);
    }
    /* An explicit path that does not exist is an error (not skipped). */
    {
        struct k8s_kubeconfig kc;
        struct err e;
        T_INTEQ("bad/explicit-missing", k8s_kubeconfig_load(&kc, t_tmp_path("absent.yaml"), NULL, &e), -1);
        T_OK("bad/explicit-missing-msg", e.kind == ERR_USAGE && strstr(e.msg, "absent.yaml"),
             "%s", e.msg);
    }
}

static void test_pure_parse(void)
{
    static const char doc[] =
        "{\"current-context\": \"j\", \"contexts\": [{\"name\": \"j\", \"context\": "
        "{\"cluster\": \"jc\"}}], \"clusters\": [{\"name\": \"jc\", \"cluster\": "
        "{\"server\": \"https://json:1\", \"certificate-authority\": \"ca\"}}]}";
    struct k8s_kc_source src = { "/etc/k/config.json", doc, sizeof(doc) - 1 };
    struct k8s_kubeconfig kc;
    struct err e;
    err_init(&e);
    T_INTEQ("parse/json-document", k8s_kubeconfig_parse(&kc, &src, 1, NULL, &e), 0);
    T_STREQ("parse/json-server", kc.cluster.server, "https://json:1");
    T_STREQ("parse/json-ca-relative", kc.cluster.ca_file, "/etc/k/ca");
    k8s_kubeconfig_release(&kc);
    src.text = "";
    src.len = 0;
    T_INTEQ("parse/empty-file", k8s_kubeconfig_parse(&kc, &src, 1, NULL, &e), -1);
    T_OK("parse/empty-file-msg", strstr(e.msg, "no current-context") != NULL, "%s", e.msg);

    /* 200 KB of '[' took libyaml 30 s of CPU before it failed: the depth
     * check refuses it after the 65th level, whatever follows. */
    {
        size_t n = 200000;
        char *deep = malloc(n);
        memset(deep, '[', n);
        src.text = deep;
        src.len = n;
        T_INTEQ("parse/deep-nesting", k8s_kubeconfig_parse(&kc, &src, 1, NULL, &e), -1);
        T_OK("parse/deep-nesting-msg", strstr(e.msg, ":1: nested deeper than 64 levels") != NULL,
             "%s", e.msg);
        free(deep);
    }
}

static void test_base64(void)
{
    unsigned char *out;
    size_t n;
    T_INTEQ("base64/wrapped", k8s_base64_decode("aGVs\nbG8t\nY2E=\n", 15, &out, &n), 0);
    T_OK("base64/wrapped-value", n == 8 && memcmp(out, "hello-ca", 8) == 0, "n %zu", n);
    free(out);
    T_INTEQ("base64/invalid", k8s_base64_decode("a*b", 3, &out, &n), -1);
}

int main(void)
{
    if (t_mktmp("paasctl-kc") < 0)
        return 2;
    unsetenv("KUBECONFIG");
    test_every_field();
    test_other_users();
    test_merged_list();
    test_home_default();
    test_bad_files();
    test_pure_parse();
    test_base64();
    t_rmtree(t_tmp);
    return t_done();
}
