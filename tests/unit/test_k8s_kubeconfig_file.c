/* Unit tests for k8s/kubeconfig_file: a kubeconfig of its own and one merged
 * into an existing file (other entries kept, ours replaced), read back with
 * the kubeconfig parser; malformed files refused naming the file; the 0600
 * write. */
#include "t.h"

#include <sys/stat.h>
#include <unistd.h>

#include "k8s/kubeconfig.h"
#include "k8s/kubeconfig_file.h"

static const struct k8s_kc_entry entry = {
    "prod-a", "prod-a-admin", "https://api.a.k8s.example.com:6443",
    "CA-PEM\n", "CERT-PEM\n", "KEY-PEM\n",
};

static const char existing[] =
    "apiVersion: v1\n"
    "kind: Config\n"
    "preferences: {colors: true}\n"
    "clusters:\n"
    "- name: other\n"
    "  cluster: {server: 'https://other:6443'}\n"
    "- name: prod-a\n"
    "  cluster: {server: 'https://stale:1'}\n"
    "users:\n"
    "- name: other-user\n"
    "  user: {token: \"0123\"}\n"
    "contexts:\n"
    "- name: other\n"
    "  context: {cluster: other, user: other-user}\n"
    "current-context: other\n";

/* Parses yaml and loads context ctx ("" = current). */
static int t_load(const char *yaml, const char *ctx, struct k8s_kubeconfig *kc)
{
    struct k8s_kc_source src = { "/t/kubeconfig", yaml, strlen(yaml) };
    struct err e;
    err_init(&e);
    k8s_kubeconfig_init(kc);
    return k8s_kubeconfig_parse(kc, &src, 1, ctx, &e);
}

static void test_fresh(void)
{
    struct buf out = BUF_INIT;
    struct k8s_kubeconfig kc;
    struct err e;
    err_init(&e);
    T_INTEQ("fresh renders", k8s_kubeconfig_render(&entry, NULL, "x", &out, &e), 0);
    T_INTEQ("fresh parses", t_load(buf_str(&out), "", &kc), 0);
    T_STREQ("fresh current context", kc.context, "prod-a");
    T_STREQ("fresh server", kc.cluster.server, entry.server);
    T_OK("fresh ca data", kc.cluster.ca_data_len == 7 && memcmp(kc.cluster.ca_data, "CA-PEM\n", 7) == 0,
         "len %zu", kc.cluster.ca_data_len);
    T_OK("fresh key data", kc.user.key_data_len == 8 && memcmp(kc.user.key_data, "KEY-PEM\n", 8) == 0,
         "len %zu", kc.user.key_data_len);
    T_OK("fresh: the key only base64", !strstr(buf_str(&out), "KEY-PEM"), "%s", buf_str(&out));
    k8s_kubeconfig_release(&kc);
    buf_release_secret(&out);
}

static void test_merge(void)
{
    struct buf out = BUF_INIT;
    struct k8s_kubeconfig kc;
    struct err e;
    err_init(&e);
    T_INTEQ("merge renders", k8s_kubeconfig_render(&entry, existing, "x", &out, &e), 0);
    T_INTEQ("merged: ours is current", t_load(buf_str(&out), "", &kc), 0);
    T_STREQ("merged: our context", kc.context, "prod-a");
    T_STREQ("merged: stale cluster replaced", kc.cluster.server, entry.server);
    k8s_kubeconfig_release(&kc);
    T_INTEQ("merged: other context kept", t_load(buf_str(&out), "other", &kc), 0);
    T_STREQ("merged: other server", kc.cluster.server, "https://other:6443");
    T_STREQ("merged: other token", kc.user.token, "0123");
    k8s_kubeconfig_release(&kc);
    T_OK("merged: preferences kept", strstr(buf_str(&out), "colors: true") != NULL, "%s", buf_str(&out));
    T_OK("merged: one prod-a cluster", strstr(buf_str(&out), "stale") == NULL, "%s", buf_str(&out));
    T_OK("merged: quoted token stays a string", strstr(buf_str(&out), "\"0123\"") != NULL ||
         strstr(buf_str(&out), "'0123'") != NULL, "%s", buf_str(&out));
    buf_release_secret(&out);
}

static void test_bad(void)
{
    struct buf out = BUF_INIT;
    struct err e;
    err_init(&e);
    T_INTEQ("not YAML refused", k8s_kubeconfig_render(&entry, "a: [b\n", "/home/x/.kube/config",
                                                       &out, &e), -1);
    T_OK("not YAML names the file", e.kind == ERR_USAGE && strstr(e.msg, "/home/x/.kube/config"),
         "%s", e.msg);
    err_init(&e);
    T_INTEQ("a list refused", k8s_kubeconfig_render(&entry, "- a\n- b\n", "f", &out, &e), -1);
    err_init(&e);
    T_INTEQ("empty file is a fresh one", k8s_kubeconfig_render(&entry, "", "f", &out, &e), 0);
    buf_release_secret(&out);
    /* --merge reads the operator's file: the same depth limit as loading. */
    {
        char *deep = malloc(200001);
        memset(deep, '[', 200000);
        deep[200000] = '\0';
        err_init(&e);
        T_INTEQ("deep nesting refused", k8s_kubeconfig_render(&entry, deep, "f", &out, &e), -1);
        T_OK("deep nesting says so", strstr(e.msg, "f:1: nested deeper than 64 levels") != NULL,
             "%s", e.msg);
        free(deep);
        buf_release_secret(&out);
    }
}

static void test_write(void)
{
    struct stat st;
    struct err e;
    char path[600];
    err_init(&e);
    if (t_mktmp("kcfile") < 0)
        return;
    snprintf(path, sizeof(path), "%s/new/dir/kubeconfig", t_tmp);
    T_INTEQ("write into a missing directory fails", k8s_write_private_file(path, "x", 1, &e), -1);
    snprintf(path, sizeof(path), "%s/kubeconfig", t_tmp);
    err_init(&e);
    T_INTEQ("write", k8s_write_private_file(path, "abc", 3, &e), 0);
    T_OK("mode 0600", stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "%o", st.st_mode & 0777);
    chmod(path, 0644);
    T_INTEQ("rewrite", k8s_write_private_file(path, "abcd", 4, &e), 0);
    T_OK("rewrite is 0600 again", stat(path, &st) == 0 && (st.st_mode & 0777) == 0600 && st.st_size == 4,
         "%o", st.st_mode & 0777);
    unlink(path);
    rmdir(t_tmp);
}

int main(void)
{
    test_fresh();
    test_merge();
    test_bad();
    test_write();
    return t_failed_count ? 1 : 0;
}
