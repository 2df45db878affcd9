/* Unit tests for k8s/exec: a shell script (tests/unit/k8s_exec_plugin.sh)
 * is the plugin. It counts its runs in a file, so the tests prove that a
 * token is cached until its expirationTimestamp and fetched again after;
 * plugins that fail, hang, or print garbage give bounded, clear errors that
 * never show the token. */
#include "t.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "k8s/exec.h"
#include "k8s/kubeconfig.h"

static char plugin[512];


static int read_counter(void)
{
    int n = 0;
    FILE *f = fopen(t_tmp_path("counter"), "r");
    if (f) {
        if (fscanf(f, "%d", &n) != 1)
            n = -1;
        fclose(f);
    }
    return n;
}

/* A kubeconfig whose user runs the plugin as `sh plugin.sh MODE`, with the
 * counter, expiry and info file passed through the exec env list. */
static int load_plugin(struct k8s_kubeconfig *kc, const char *command,
                       const char *mode, const char *expiry)
{
    struct err e;
    FILE *f = fopen(t_tmp_path("kubeconfig"), "w");
    if (!f)
        return -1;
    fprintf(f,
            "current-context: x\n"
            "contexts: [{name: x, context: {cluster: c, user: u}}]\n"
            "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\n"
            "users:\n"
            "- name: u\n"
            "  user:\n"
            "    exec:\n"
            "      apiVersion: client.authentication.k8s.io/v1\n"
            "      command: %s\n"
            "      args: ['%s', '%s']\n"
            "      interactiveMode: Never\n"
            "      env:\n"
            "      - {name: COUNTER, value: '%s'}\n"
            "      - {name: INFO_FILE, value: '%s'}\n"
            "      - {name: EXPIRY, value: '%s'}\n",
            command, plugin, mode, t_tmp_path("counter"), t_tmp_path("info.json"), expiry);
    fclose(f);
    unlink(t_tmp_path("counter"));
    err_init(&e);
    if (k8s_kubeconfig_load(kc, t_tmp_path("kubeconfig"), NULL, &e) < 0) {
        printf("# %s\n", e.msg);
        return -1;
    }
    return 0;
}

static void test_caching(void)
{
    struct k8s_kubeconfig kc;
    struct k8s_exec x;
    const struct k8s_exec_cred *c = NULL;
    struct err e;
    time_t exp;
    k8s_parse_rfc3339("2030-01-01T00:00:00Z", &exp);
    err_init(&e);
    if (load_plugin(&kc, "sh", "token", "2030-01-01T00:00:00Z") < 0) {
        T_OK("cache/kubeconfig", 0, "cannot load");
        return;
    }
    k8s_exec_init(&x, &kc.user.exec);
    T_INTEQ("cache/first-run", k8s_exec_get(&x, exp - 100, &c, &e), 0);
    T_STREQ("cache/first-token", c ? c->token : NULL, "tok-1");
    T_INTEQ("cache/expiry", c ? (long long)c->expiry : 0, (long long)exp);
    T_INTEQ("cache/ran-once", read_counter(), 1);
    T_INTEQ("cache/before-expiry", k8s_exec_get(&x, exp - 1, &c, &e), 0);
    T_INTEQ("cache/before-expiry-not-rerun", read_counter(), 1);
    T_STREQ("cache/before-expiry-token", c->token, "tok-1");
    T_INTEQ("cache/at-expiry", k8s_exec_get(&x, exp, &c, &e), 0);
    T_INTEQ("cache/at-expiry-rerun", read_counter(), 2);
    T_STREQ("cache/new-token", c->token, "tok-2");
    k8s_exec_invalidate(&x);   /* what the client does on a 401 */
    T_INTEQ("cache/after-401", k8s_exec_get(&x, exp - 100, &c, &e), 0);
    T_INTEQ("cache/after-401-rerun", read_counter(), 3);
    T_INTEQ("cache/runs", x.runs, 3);
    k8s_exec_release(&x);
    k8s_kubeconfig_release(&kc);
}

static void test_exec_info_and_env(void)
{
    struct k8s_kubeconfig kc;
    struct k8s_exec x;
    const struct k8s_exec_cred *c;
    struct err e;
    json_t *info;
    err_init(&e);
    if (load_plugin(&kc, "/bin/sh", "token", "") < 0)
        return;
    k8s_exec_init(&x, &kc.user.exec);
    T_INTEQ("info/run", k8s_exec_get(&x, time(NULL), &c, &e), 0);
    T_INTEQ("info/no-expiry", c->expiry, 0);
    T_INTEQ("info/no-expiry-cached", k8s_exec_get(&x, time(NULL) + 86400 * 365, &c, &e), 0);
    T_INTEQ("info/no-expiry-ran-once", read_counter(), 1);
    info = json_load_file(t_tmp_path("info.json"), 0, NULL);
    T_STREQ("info/kind", json_string_value(json_object_get(info, "kind")), "ExecCredential");
    T_STREQ("info/apiVersion", json_string_value(json_object_get(info, "apiVersion")),
            "client.authentication.k8s.io/v1");
    T_OK("info/interactive-false",
         json_is_false(json_object_get(json_object_get(info, "spec"), "interactive")),
         "spec.interactive is not false");
    json_decref(info);
    k8s_exec_release(&x);
    k8s_kubeconfig_release(&kc);
}

static void test_client_cert(void)
{
    struct k8s_kubeconfig kc;
    struct k8s_exec x;
    const struct k8s_exec_cred *c;
    struct err e;
    err_init(&e);
    if (load_plugin(&kc, "sh", "cert", "") < 0)
        return;
    k8s_exec_init(&x, &kc.user.exec);
    T_INTEQ("cert/run", k8s_exec_get(&x, time(NULL), &c, &e), 0);
    T_OK("cert/pem", c->cert_pem && strstr(c->cert_pem, "BEGIN CERTIFICATE"), "no cert");
    T_STREQ("cert/key", c->key_pem, "KEY-1");
    T_OK("cert/no-token", c->token == NULL, "token set");
    k8s_exec_release(&x);
    k8s_kubeconfig_release(&kc);
}

/* Runs a failing plugin and checks the error names the command, contains
 * needle, and never shows a token. */
static void expect_failure(const char *name, const char *command, const char *mode,
                           long timeout_ms, const char *needle)
{
    struct k8s_kubeconfig kc;
    struct k8s_exec x;
    const struct k8s_exec_cred *c;
    struct err e;
    char t[128];
    struct timespec t0, t1;
    double secs;
    err_init(&e);
    if (load_plugin(&kc, command, mode, "") < 0)
        return;
    k8s_exec_init(&x, &kc.user.exec);
    x.timeout_ms = timeout_ms;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    snprintf(t, sizeof(t), "fail/%s", name);
    T_INTEQ(t, k8s_exec_get(&x, time(NULL), &c, &e), -1);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    snprintf(t, sizeof(t), "fail/%s/kind", name);
    T_INTEQ(t, e.kind, ERR_FAILED);
    snprintf(t, sizeof(t), "fail/%s/message", name);
    T_OK(t, strstr(e.msg, command) && strstr(e.msg, needle), "[%s] lacks [%s]", e.msg, needle);
    snprintf(t, sizeof(t), "fail/%s/no-token-shown", name);
    T_OK(t, !strstr(e.msg, "tok-"), "%s", e.msg);
    snprintf(t, sizeof(t), "fail/%s/bounded-time", name);
    T_OK(t, secs < (double)timeout_ms / 1000.0 + 3.0, "took %.1f s", secs);
    T_INTEQ("fail/not-cached", x.have_cred, 0);
    k8s_exec_release(&x);
    k8s_kubeconfig_release(&kc);
}

static void test_failures(void)
{
    expect_failure("exit-status", "sh", "fail", 30000, "exited with status 3");
    expect_failure("hang", "sh", "hang", 700, "no answer within 0.7 s");
    expect_failure("garbage", "sh", "garbage", 30000, "not JSON");
    expect_failure("wrong-api-version", "sh", "wrongapi", 30000, "apiVersion");
    expect_failure("not-found", "paasctl-no-such-plugin", "token", 30000, "command not found");
    expect_failure("relative-not-found", "./bin/nope", "token", 30000, "command not found");
}

static void expect_parse(const char *name, const char *doc, int want_rc, const char *needle)
{
    struct k8s_exec_cred c;
    struct err e;
    char t[128];
    err_init(&e);
    snprintf(t, sizeof(t), "parse/%s", name);
    T_INTEQ(t, k8s_exec_parse(doc, strlen(doc), "client.authentication.k8s.io/v1", "plug",
                              &c, &e), want_rc);
    if (want_rc < 0) {
        snprintf(t, sizeof(t), "parse/%s/message", name);
        T_OK(t, strstr(e.msg, "plug") && strstr(e.msg, needle), "[%s] lacks [%s]", e.msg, needle);
    } else {
        k8s_exec_cred_release(&c);
    }
}

static void test_parse(void)
{
    time_t t;
    const char *v1 = "{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",";
    char doc[512];
    snprintf(doc, sizeof(doc), "%s\"status\":{\"token\":\"a\"}}", v1);
    expect_parse("token", doc, 0, "");
    snprintf(doc, sizeof(doc), "%s\"status\":{}}", v1);
    expect_parse("empty-status", doc, -1, "neither a token");
    snprintf(doc, sizeof(doc), "%s\"status\":{\"clientCertificateData\":\"c\"}}", v1);
    expect_parse("cert-without-key", doc, -1, "without its key");
    snprintf(doc, sizeof(doc), "%s\"status\":{\"token\":\"a\",\"expirationTimestamp\":\"soon\"}}", v1);
    expect_parse("bad-expiry", doc, -1, "expirationTimestamp");
    snprintf(doc, sizeof(doc), "%s\"status\":{\"token\":7}}", v1);
    expect_parse("token-not-string", doc, -1, "status.token");
    expect_parse("wrong-kind", "{\"kind\":\"Pod\"}", -1, "not an ExecCredential");
    expect_parse("no-status", "{\"apiVersion\":\"client.authentication.k8s.io/v1\","
                 "\"kind\":\"ExecCredential\"}", -1, "no status");

    T_INTEQ("rfc3339/z", k8s_parse_rfc3339("2024-02-03T04:05:06Z", &t), 0);
    T_INTEQ("rfc3339/z-value", t, 1706933106);
    T_INTEQ("rfc3339/fraction", k8s_parse_rfc3339("2024-02-03T04:05:06.123456Z", &t), 0);
    T_INTEQ("rfc3339/fraction-value", t, 1706933106);
    T_INTEQ("rfc3339/offset", k8s_parse_rfc3339("2024-02-03T06:05:06+02:00", &t), 0);
    T_INTEQ("rfc3339/offset-value", t, 1706933106);
    T_INTEQ("rfc3339/negative-offset", k8s_parse_rfc3339("2024-02-02T23:05:06-05:00", &t), 0);
    T_INTEQ("rfc3339/negative-offset-value", t, 1706933106);
    T_INTEQ("rfc3339/no-zone", k8s_parse_rfc3339("2024-02-03T04:05:06", &t), -1);
    T_INTEQ("rfc3339/garbage", k8s_parse_rfc3339("yesterday", &t), -1);
    T_INTEQ("rfc3339/trailing", k8s_parse_rfc3339("2024-02-03T04:05:06Zjunk", &t), -1);
    T_INTEQ("rfc3339/bad-month", k8s_parse_rfc3339("2024-13-03T04:05:06Z", &t), -1);
}

int main(void)
{
    const char *root = getenv("PAASCTL_ROOT");
    snprintf(plugin, sizeof(plugin), "%s/tests/unit/k8s_exec_plugin.sh", root ? root : ".");
    if (access(plugin, R_OK) != 0) {
        printf("FAIL: setup: %s not found (set PAASCTL_ROOT)\n", plugin);
        return 1;
    }
    if (t_mktmp("paasctl-exec") < 0)
        return 2;
    test_caching();
    test_exec_info_and_env();
    test_client_cert();
    test_failures();
    test_parse();
    t_rmtree(t_tmp);
    return t_done();
}
