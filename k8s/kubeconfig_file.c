/* Writing kubeconfig files (see kubeconfig_file.h; SPEC.md "Clusters").
 * The output document is built node by node with libyaml: the existing
 * file's nodes are copied over (minus the entries replaced), ours added.
 * libyaml keeps short-lived copies of the scalars it is given and frees
 * them without wiping (it has no allocator hook); every buffer of ours
 * that held the key is wiped. */
#include "k8s/kubeconfig_file.h"

#include "core/env.h"
#include "k8s/kubeconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

/* ---- building the document ------------------------------------------------ */

static int kcf_scalar(yaml_document_t *d, const char *s)
{
    return yaml_document_add_scalar(d, NULL, (yaml_char_t *)s, (int)strlen(s),
                                    YAML_ANY_SCALAR_STYLE);
}

static int kcf_pair(yaml_document_t *d, int map, const char *key, int value)
{
    int k = kcf_scalar(d, key);
    return k && value && yaml_document_append_mapping_pair(d, map, k, value) ? 1 : 0;
}

static int kcf_map(yaml_document_t *d)
{
    return yaml_document_add_mapping(d, NULL, YAML_BLOCK_MAPPING_STYLE);
}

/* base64 of pem as a new scalar; the temporary text is wiped. */
static int kcf_b64(yaml_document_t *d, const char *pem)
{
    size_t n = strlen(pem), cap = 4 * ((n + 2) / 3) + 1;
    unsigned char *b = malloc(cap);
    int id = 0;
    if (!b)
        return 0;
    EVP_EncodeBlock(b, (const unsigned char *)pem, (int)n);
    id = kcf_scalar(d, (const char *)b);
    explicit_bzero(b, cap);
    free(b);
    return id;
}

/* {name: NAME, KIND: {k1: v1, ...}}: one entry of clusters/users/contexts. */
static int kcf_entry(yaml_document_t *d, const char *name, const char *kind,
                     const char *const *keys, const int *values, int n)
{
    int item = kcf_map(d), inner = kcf_map(d), ok = item && inner;
    for (int i = 0; ok && i < n; i++)
        ok = kcf_pair(d, inner, keys[i], values[i]);
    ok = ok && kcf_pair(d, item, "name", kcf_scalar(d, name)) && kcf_pair(d, item, kind, inner);
    return ok ? item : 0;
}

/* Our entry for the list named `list` ("clusters", "users", "contexts"). */
static int kcf_our_item(yaml_document_t *d, const struct k8s_kc_entry *x, const char *list)
{
    if (strcmp(list, "clusters") == 0) {
        static const char *const k[] = { "server", "certificate-authority-data" };
        int v[] = { kcf_scalar(d, x->server), kcf_b64(d, x->ca_pem) };
        return kcf_entry(d, x->name, "cluster", k, v, 2);
    }
    if (strcmp(list, "users") == 0) {
        static const char *const k[] = { "client-certificate-data", "client-key-data" };
        int v[] = { kcf_b64(d, x->cert_pem), kcf_b64(d, x->key_pem) };
        return kcf_entry(d, x->user, "user", k, v, 2);
    }
    {
        static const char *const k[] = { "cluster", "user" };
        int v[] = { kcf_scalar(d, x->name), kcf_scalar(d, x->user) };
        return kcf_entry(d, x->name, "context", k, v, 2);
    }
}

/* ---- copying the existing file ------------------------------------------------ */

/* Deeper than any kubeconfig nests: a bound on the recursion below. */
#define KCF_MAX_DEPTH 64

static int kcf_copy(yaml_document_t *dst, yaml_document_t *src, int id, int depth);

static int kcf_copy_children(yaml_document_t *dst, yaml_document_t *src,
                             yaml_node_t *n, int to, int depth)
{
    if (n->type == YAML_SEQUENCE_NODE) {
        for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++) {
            int c = kcf_copy(dst, src, *i, depth + 1);
            if (!c || !yaml_document_append_sequence_item(dst, to, c))
                return 0;
        }
        return to;
    }
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        int k = kcf_copy(dst, src, p->key, depth + 1), v = kcf_copy(dst, src, p->value, depth + 1);
        if (!k || !v || !yaml_document_append_mapping_pair(dst, to, k, v))
            return 0;
    }
    return to;
}

static int kcf_copy(yaml_document_t *dst, yaml_document_t *src, int id, int depth)
{
    yaml_node_t *n = yaml_document_get_node(src, id);
    if (!n || depth > KCF_MAX_DEPTH)
        return 0;
    if (n->type == YAML_SCALAR_NODE)
        return yaml_document_add_scalar(dst, n->tag, n->data.scalar.value,
                                        (int)n->data.scalar.length, n->data.scalar.style);
    if (n->type == YAML_SEQUENCE_NODE)
        return kcf_copy_children(dst, src, n, yaml_document_add_sequence(
                                     dst, n->tag, YAML_BLOCK_SEQUENCE_STYLE), depth);
    return kcf_copy_children(dst, src, n, yaml_document_add_mapping(
                                 dst, n->tag, YAML_BLOCK_MAPPING_STYLE), depth);
}

/* The scalar text of node id, or "" (never NULL). */
static const char *kcf_text(yaml_document_t *d, int id)
{
    yaml_node_t *n = yaml_document_get_node(d, id);
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : "";
}

/* The value of mapping node m's key, or 0. */
static int kcf_get(yaml_document_t *d, yaml_node_t *m, const char *key)
{
    if (!m || m->type != YAML_MAPPING_NODE)
        return 0;
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++)
        if (strcmp(kcf_text(d, p->key), key) == 0)
            return p->value;
    return 0;
}

/* A list (clusters/users/contexts): the old items not named `name`, then
 * ours. */
static int kcf_list(yaml_document_t *dst, yaml_document_t *src, int old,
                    const char *list, const char *name, const struct k8s_kc_entry *x)
{
    int seq = yaml_document_add_sequence(dst, NULL, YAML_BLOCK_SEQUENCE_STYLE), ours;
    yaml_node_t *n = src ? yaml_document_get_node(src, old) : NULL;
    if (!seq)
        return 0;
    if (n && n->type == YAML_SEQUENCE_NODE)
        for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++) {
            int c;
            if (strcmp(kcf_text(src, kcf_get(src, yaml_document_get_node(src, *i), "name")),
                       name) == 0)
                continue;
            c = kcf_copy(dst, src, *i, 2);
            if (!c || !yaml_document_append_sequence_item(dst, seq, c))
                return 0;
        }
    ours = kcf_our_item(dst, x, list);
    return ours && yaml_document_append_sequence_item(dst, seq, ours) ? seq : 0;
}

static const char *const kcf_lists[3] = { "clusters", "users", "contexts" };

static const char *kcf_list_name(const struct k8s_kc_entry *x, int l)
{
    return l == 1 ? x->user : x->name;
}

/* The merged (or new) root mapping into dst. */
static int kcf_build(yaml_document_t *dst, yaml_document_t *src, const struct k8s_kc_entry *x)
{
    yaml_node_t *root = src ? yaml_document_get_root_node(src) : NULL;
    int map = kcf_map(dst), ok = map != 0;
    int done[3] = { 0, 0, 0 }, have_api = 0, have_kind = 0;
    for (yaml_node_pair_t *p = root ? root->data.mapping.pairs.start : NULL;
         ok && root && p < root->data.mapping.pairs.top; p++) {
        const char *k = kcf_text(src, p->key);
        int l = -1;
        for (int i = 0; i < 3; i++)
            l = strcmp(k, kcf_lists[i]) == 0 ? i : l;
        have_api |= strcmp(k, "apiVersion") == 0;
        have_kind |= strcmp(k, "kind") == 0;
        if (l >= 0 && !done[l]) {
            done[l] = 1;
            ok = kcf_pair(dst, map, k, kcf_list(dst, src, p->value, kcf_lists[l],
                                                kcf_list_name(x, l), x));
        } else if (l < 0 && strcmp(k, "current-context") != 0) {
            int kk = kcf_copy(dst, src, p->key, 1), v = kcf_copy(dst, src, p->value, 1);
            ok = kk && v && yaml_document_append_mapping_pair(dst, map, kk, v);
        }
    }
    if (ok && !have_api)
        ok = kcf_pair(dst, map, "apiVersion", kcf_scalar(dst, "v1"));
    if (ok && !have_kind)
        ok = kcf_pair(dst, map, "kind", kcf_scalar(dst, "Config"));
    for (int l = 0; ok && l < 3; l++)
        if (!done[l])
            ok = kcf_pair(dst, map, kcf_lists[l],
                          kcf_list(dst, NULL, 0, kcf_lists[l], kcf_list_name(x, l), x));
    return ok && kcf_pair(dst, map, "current-context", kcf_scalar(dst, x->name));
}

/* ---- parse and emit ---------------------------------------------------------------- */

static int kcf_write_handler(void *data, unsigned char *buffer, size_t size)
{
    struct buf *out = data;
    buf_add(out, buffer, size);
    return !out->failed;
}

static int kcf_load(const char *text, const char *what, yaml_document_t *src, struct err *e)
{
    yaml_parser_t parser;
    yaml_node_t *root;
    int ok;
    if (k8s_yaml_check_depth(text, strlen(text), what, e) < 0)
        return -1;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, strlen(text));
    ok = yaml_parser_load(&parser, src);
    if (!ok) {
        err_set(e, ERR_USAGE, "%s: not YAML (line %zu: %s)", what,
                parser.problem_mark.line + 1, parser.problem ? parser.problem : "?");
        yaml_parser_delete(&parser);
        return -1;
    }
    yaml_parser_delete(&parser);
    root = yaml_document_get_root_node(src);
    if (root && root->type != YAML_MAPPING_NODE) {
        yaml_document_delete(src);
        return err_set(e, ERR_USAGE, "%s: not a kubeconfig (its top level is not a "
                       "mapping)", what);
    }
    return 0;
}

int k8s_kubeconfig_render(const struct k8s_kc_entry *x, const char *existing,
                          const char *what, struct buf *out, struct err *e)
{
    yaml_document_t src, dst;
    yaml_emitter_t em;
    int have_src = 0, ok;
    if (existing && *existing) {
        if (kcf_load(existing, what, &src, e) < 0)
            return -1;
        have_src = yaml_document_get_root_node(&src) != NULL;
        if (!have_src)
            yaml_document_delete(&src);
    }
    if (!yaml_document_initialize(&dst, NULL, NULL, NULL, 1, 1)) {
        if (have_src)
            yaml_document_delete(&src);
        return err_set(e, ERR_FAILED, "out of memory building a kubeconfig");
    }
    ok = kcf_build(&dst, have_src ? &src : NULL, x);
    if (have_src)
        yaml_document_delete(&src);
    yaml_emitter_initialize(&em);
    yaml_emitter_set_output(&em, kcf_write_handler, out);
    yaml_emitter_set_unicode(&em, 1);
    /* dump takes the document (and frees it) whether or not it succeeds */
    ok = ok && yaml_emitter_open(&em) && yaml_emitter_dump(&em, &dst) && yaml_emitter_close(&em);
    if (!ok)
        yaml_document_delete(&dst);
    yaml_emitter_delete(&em);
    if (!ok || out->failed)
        return err_set(e, existing ? ERR_USAGE : ERR_FAILED, "%s: cannot merge into it "
                       "(nested deeper than %d levels, or out of memory)", what, KCF_MAX_DEPTH);
    return 0;
}

/* ---- files ---------------------------------------------------------------------- */

static int kcf_mkdir_parent(const char *path, struct err *e)
{
    char dir[4096];
    char *slash;
    snprintf(dir, sizeof(dir), "%s", path);
    slash = strrchr(dir, '/');
    if (!slash || slash == dir)
        return 0;
    *slash = '\0';
    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
        return err_set(e, ERR_FAILED, "cannot create %s: %s", dir, strerror(errno));
    return 0;
}

int k8s_write_private_file(const char *path, const char *data, size_t len,
                           struct err *e)
{
    char tmp[4200];
    int fd, rc = 0;
    if (kcf_mkdir_parent(path, e) < 0)
        return -1;
    snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return err_set(e, ERR_FAILED, "cannot create %s: %s", tmp, strerror(errno));
    for (size_t off = 0; off < len && rc == 0;) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            rc = -1;
        else
            off += (size_t)w;
    }
    if (rc == 0 && (fchmod(fd, 0600) < 0 || fsync(fd) < 0))
        rc = -1;
    if (close(fd) < 0)
        rc = -1;
    if (rc == 0 && rename(tmp, path) < 0)
        rc = -1;
    if (rc < 0) {
        int saved = errno;
        unlink(tmp);
        return err_set(e, ERR_FAILED, "cannot write %s: %s", path, strerror(saved));
    }
    return 0;
}

int k8s_kubeconfig_merge_path(char *out, size_t size)
{
    const char *env = env_get("KUBECONFIG"), *home = env_get("HOME");
    int n;
    if (env && *env) {
        size_t len = strcspn(env, ":");
        if (len > 0 && len < size) {
            memcpy(out, env, len);
            out[len] = '\0';
            return 0;
        }
    }
    if (!home || !*home)
        return -1;
    n = snprintf(out, size, "%s/.kube/config", home);
    return n > 0 && (size_t)n < size ? 0 : -1;
}
