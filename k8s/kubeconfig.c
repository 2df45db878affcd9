/* Kubeconfig loading (see kubeconfig.h): libyaml's document API, kubectl's
 * merge rules for KUBECONFIG lists, paths relative to each file.
 * SPEC.md "Configuration" ([cluster x] kubeconfig, context). */
#include "k8s/kubeconfig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <yaml.h>

#include "core/env.h"

#define KC_MAX_FILE ((size_t)16 * 1024 * 1024)
#define KC_MAX_FILES 32

/* One parsed document and where it came from. */
struct kc_doc {
    const struct k8s_kc_source *src;
    yaml_document_t doc;
    int loaded;
    char dir[4096];    /* for relative paths */
};

struct kc_set {
    struct kc_doc *docs;
    size_t n;
};

/* ---- small owned-string helpers ---------------------------------------- */

static void kc_free_secret(char *s)
{
    if (s) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

static void kc_free_secret_bytes(unsigned char *p, size_t n)
{
    if (p) {
        explicit_bzero(p, n);
        free(p);
    }
}

static char *kc_strdup(const char *s, struct err *e)
{
    char *p = strdup(s);
    if (!p)
        err_set(e, ERR_FAILED, "out of memory");
    return p;
}

void k8s_kubeconfig_init(struct k8s_kubeconfig *kc)
{
    memset(kc, 0, sizeof(*kc));
}

void k8s_exec_config_release(struct k8s_exec_config *x)
{
    free(x->api_version);
    free(x->command);
    for (size_t i = 0; i < x->n_args; i++)
        free(x->args[i]);
    free(x->args);
    for (size_t i = 0; i < x->n_env; i++) {
        free(x->env[i].name);
        kc_free_secret(x->env[i].value);   /* plugins take secrets this way */
    }
    free(x->env);
    memset(x, 0, sizeof(*x));
}

static void kc_cluster_release(struct k8s_kc_cluster *c)
{
    free(c->name);
    free(c->file);
    free(c->server);
    free(c->ca_file);
    free(c->ca_data);
    free(c->tls_server_name);
    kc_free_secret(c->proxy_url);          /* may carry user:password */
    memset(c, 0, sizeof(*c));
}

static void kc_user_release(struct k8s_kc_user *u)
{
    free(u->name);
    free(u->file);
    free(u->cert_file);
    free(u->cert_data);
    free(u->key_file);
    kc_free_secret_bytes(u->key_data, u->key_data_len);
    kc_free_secret(u->token);
    free(u->token_file);
    free(u->username);
    kc_free_secret(u->password);
    k8s_exec_config_release(&u->exec);
    memset(u, 0, sizeof(*u));
}

void k8s_kubeconfig_release(struct k8s_kubeconfig *kc)
{
    free(kc->sources);
    free(kc->context);
    free(kc->context_file);
    free(kc->namespace);
    kc_cluster_release(&kc->cluster);
    kc_user_release(&kc->user);
    k8s_kubeconfig_init(kc);
}

int k8s_base64_decode(const char *in, size_t len, unsigned char **out,
                      size_t *out_len)
{
    EVP_ENCODE_CTX *ctx;
    unsigned char *p;
    int n1 = 0, n2 = 0, rc;
    *out = NULL;
    *out_len = 0;
    if (len > (size_t)1 << 30)
        return -1;
    p = malloc(len / 4 * 3 + 4);
    ctx = EVP_ENCODE_CTX_new();
    if (!p || !ctx) {
        free(p);
        EVP_ENCODE_CTX_free(ctx);
        return -1;
    }
    EVP_DecodeInit(ctx);
    rc = EVP_DecodeUpdate(ctx, p, &n1, (const unsigned char *)in, (int)len);
    if (rc >= 0)
        rc = EVP_DecodeFinal(ctx, p + n1, &n2);
    EVP_ENCODE_CTX_free(ctx);
    if (rc < 0) {
        explicit_bzero(p, len / 4 * 3 + 4);
        free(p);
        return -1;
    }
    *out = p;
    *out_len = (size_t)n1 + (size_t)n2;
    return 0;
}

int k8s_read_file(const char *path, size_t max, const char *what,
                  struct buf *out, struct err *e)
{
    char chunk[8192];
    size_t n;
    FILE *f = fopen(path, "rb");
    if (!f)
        return err_set(e, ERR_USAGE, "%s %s: cannot read: %s", what, path,
                       strerror(errno));
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 && out->len <= max)
        buf_add(out, chunk, n);
    explicit_bzero(chunk, sizeof(chunk));
    if (ferror(f) || out->len > max || out->failed) {
        fclose(f);
        return err_set(e, ERR_USAGE, "%s %s: cannot read (error or larger than %zu bytes)",
                       what, path, max);
    }
    fclose(f);
    return 0;
}

/* ---- YAML document access ---------------------------------------------- */

int k8s_yaml_check_depth(const char *text, size_t len, const char *what, struct err *e)
{
    yaml_parser_t p;
    yaml_event_t ev;
    int depth = 0, done = 0, r = 0;
    if (!yaml_parser_initialize(&p))
        return err_set(e, ERR_FAILED, "out of memory");
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    while (!done && r == 0) {
        if (!yaml_parser_parse(&p, &ev))
            break;                 /* the full load reports it */
        if (ev.type == YAML_SEQUENCE_START_EVENT || ev.type == YAML_MAPPING_START_EVENT)
            depth++;
        else if (ev.type == YAML_SEQUENCE_END_EVENT || ev.type == YAML_MAPPING_END_EVENT)
            depth--;
        done = ev.type == YAML_STREAM_END_EVENT;
        if (depth > K8S_YAML_MAX_DEPTH)
            r = err_set(e, ERR_USAGE, "%s:%lu: nested deeper than %d levels", what,
                        (unsigned long)ev.start_mark.line + 1, K8S_YAML_MAX_DEPTH);
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&p);
    return r;
}

static int kc_doc_load(struct kc_doc *d, const struct k8s_kc_source *src,
                       struct err *e)
{
    yaml_parser_t p;
    const char *slash = strrchr(src->path, '/');
    yaml_node_t *root;
    char what[4200];
    d->src = src;
    /* "" for a file in /, so "%s/%s" below still makes "/x" */
    if (slash)
        snprintf(d->dir, sizeof(d->dir), "%.*s", (int)(slash - src->path), src->path);
    else
        snprintf(d->dir, sizeof(d->dir), ".");
    snprintf(what, sizeof(what), "kubeconfig %s", src->path);
    if (k8s_yaml_check_depth(src->text, src->len, what, e) < 0)
        return -1;
    if (!yaml_parser_initialize(&p))
        return err_set(e, ERR_FAILED, "out of memory");
    yaml_parser_set_input_string(&p, (const unsigned char *)src->text, src->len);
    if (!yaml_parser_load(&p, &d->doc)) {
        err_set(e, ERR_USAGE, "kubeconfig %s:%lu: YAML syntax error: %s%s%s",
                src->path, (unsigned long)p.problem_mark.line + 1,
                p.problem ? p.problem : "invalid YAML",
                p.context ? " " : "", p.context ? p.context : "");
        yaml_parser_delete(&p);
        return -1;
    }
    yaml_parser_delete(&p);
    d->loaded = 1;
    root = yaml_document_get_root_node(&d->doc);
    if (root && root->type != YAML_MAPPING_NODE)
        return err_set(e, ERR_USAGE, "kubeconfig %s: not a kubeconfig (top level is not a mapping)",
                       src->path);
    return 0;
}

/* Wipes every scalar before freeing: tokens and keys live in them. */
static void kc_doc_release(struct kc_doc *d)
{
    if (!d->loaded)
        return;
    for (yaml_node_t *n = d->doc.nodes.start; n < d->doc.nodes.top; n++)
        if (n->type == YAML_SCALAR_NODE && n->data.scalar.value)
            explicit_bzero(n->data.scalar.value, n->data.scalar.length);
    yaml_document_delete(&d->doc);
    d->loaded = 0;
}

static yaml_node_t *kc_map_get(yaml_document_t *doc, yaml_node_t *map,
                               const char *key)
{
    if (!map || map->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
         p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(doc, p->key);
        if (k && k->type == YAML_SCALAR_NODE &&
            strcmp((const char *)k->data.scalar.value, key) == 0)
            return yaml_document_get_node(doc, p->value);
    }
    return NULL;
}

static unsigned long kc_line(const yaml_node_t *n)
{
    return (unsigned long)n->start_mark.line + 1;
}

/* A null node (`key:` or `key: null`) counts as absent, as in kubectl. */
static int kc_is_null(const yaml_node_t *n)
{
    const char *v;
    if (!n || n->type != YAML_SCALAR_NODE ||
        n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return n == NULL;
    v = (const char *)n->data.scalar.value;
    return !*v || strcmp(v, "null") == 0 || strcmp(v, "~") == 0;
}

/* The scalar at map[key]: NULL when absent, error when not a string. */
static int kc_scalar(const struct kc_doc *d, yaml_node_t *map, const char *key,
                     const char **out, struct err *e)
{
    yaml_node_t *n = kc_map_get((yaml_document_t *)&d->doc, map, key);
    *out = NULL;
    if (kc_is_null(n))
        return 0;
    if (n->type != YAML_SCALAR_NODE)
        return err_set(e, ERR_USAGE, "kubeconfig %s:%lu: %s: expected a string",
                       d->src->path, kc_line(n), key);
    *out = (const char *)n->data.scalar.value;
    return 0;
}

static int kc_copy(const struct kc_doc *d, yaml_node_t *map, const char *key,
                   char **dst, struct err *e)
{
    const char *v;
    if (kc_scalar(d, map, key, &v, e) < 0)
        return -1;
    if (!v || !*v)
        return 0;
    *dst = kc_strdup(v, e);
    return *dst ? 0 : -1;
}

/* A file path: relative ones are relative to the kubeconfig's directory. */
static int kc_path_of(const struct kc_doc *d, const char *v, char **dst,
                      struct err *e)
{
    struct buf b = BUF_INIT;
    if (v[0] != '/')
        buf_printf(&b, "%s/", d->dir);
    buf_puts(&b, v);
    *dst = buf_detach(&b);
    return *dst ? 0 : err_set(e, ERR_FAILED, "out of memory");
}

static int kc_path(const struct kc_doc *d, yaml_node_t *map, const char *key,
                   char **dst, struct err *e)
{
    const char *v;
    if (kc_scalar(d, map, key, &v, e) < 0)
        return -1;
    if (!v || !*v)
        return 0;
    return kc_path_of(d, v, dst, e);
}

static int kc_b64(const struct kc_doc *d, yaml_node_t *map, const char *key,
                  unsigned char **dst, size_t *len, struct err *e)
{
    const char *v;
    if (kc_scalar(d, map, key, &v, e) < 0)
        return -1;
    if (!v || !*v)
        return 0;
    if (k8s_base64_decode(v, strlen(v), dst, len) < 0 || *len == 0)
        return err_set(e, ERR_USAGE, "kubeconfig %s:%lu: %s: bad base64",
                       d->src->path, kc_line(kc_map_get((yaml_document_t *)&d->doc, map, key)),
                       key);
    return 0;
}

static int kc_bool(const struct kc_doc *d, yaml_node_t *map, const char *key,
                   int *dst, struct err *e)
{
    static const char *const yes[] = { "true", "True", "TRUE", NULL };
    static const char *const no[] = { "false", "False", "FALSE", NULL };
    const char *v;
    if (kc_scalar(d, map, key, &v, e) < 0)
        return -1;
    *dst = 0;
    if (!v)
        return 0;
    for (int i = 0; yes[i]; i++)
        if (strcmp(v, yes[i]) == 0) {
            *dst = 1;
            return 0;
        }
    for (int i = 0; no[i]; i++)
        if (strcmp(v, no[i]) == 0)
            return 0;
    return err_set(e, ERR_USAGE, "kubeconfig %s:%lu: %s: expected true or false, got '%s'",
                   d->src->path, kc_line(kc_map_get((yaml_document_t *)&d->doc, map, key)),
                   key, v);
}

/* ---- named entries across the merged files ------------------------------ */

/* Finds `list` entry `name` (clusters/users/contexts) in the first file that
 * has it and returns its inner mapping (the "cluster:" etc. value). */
static int kc_find_named(struct kc_set *s, const char *list, const char *inner,
                         const char *name, struct kc_doc **where,
                         yaml_node_t **out, struct err *e)
{
    *out = NULL;
    for (size_t i = 0; i < s->n; i++) {
        struct kc_doc *d = &s->docs[i];
        yaml_node_t *seq = kc_map_get(&d->doc, yaml_document_get_root_node(&d->doc), list);
        if (kc_is_null(seq))
            continue;
        if (seq->type != YAML_SEQUENCE_NODE)
            return err_set(e, ERR_USAGE, "kubeconfig %s:%lu: %s: expected a list",
                           d->src->path, kc_line(seq), list);
        for (yaml_node_item_t *it = seq->data.sequence.items.start;
             it < seq->data.sequence.items.top; it++) {
            yaml_node_t *item = yaml_document_get_node(&d->doc, *it);
            const char *n;
            if (kc_scalar(d, item, "name", &n, e) < 0)
                return -1;
            if (!n || strcmp(n, name) != 0)
                continue;
            *where = d;
            *out = kc_map_get(&d->doc, item, inner);
            if (!*out || (*out)->type != YAML_MAPPING_NODE)
                return err_set(e, ERR_USAGE, "kubeconfig %s:%lu: %s \"%s\" has no %s mapping",
                               d->src->path, kc_line(item), inner, name, inner);
            return 0;
        }
    }
    return 0;
}

static int kc_parse_cluster(struct k8s_kc_cluster *c, const struct kc_doc *d,
                            yaml_node_t *m, struct err *e)
{
    if (kc_copy(d, m, "server", &c->server, e) < 0 ||
        kc_path(d, m, "certificate-authority", &c->ca_file, e) < 0 ||
        kc_b64(d, m, "certificate-authority-data", &c->ca_data, &c->ca_data_len, e) < 0 ||
        kc_bool(d, m, "insecure-skip-tls-verify", &c->insecure, e) < 0 ||
        kc_copy(d, m, "tls-server-name", &c->tls_server_name, e) < 0 ||
        kc_copy(d, m, "proxy-url", &c->proxy_url, e) < 0)
        return -1;
    if (!c->server)
        return err_set(e, ERR_USAGE, "kubeconfig %s:%lu: cluster \"%s\" has no server",
                       d->src->path, kc_line(m), c->name);
    return 0;
}

static int kc_parse_exec_args(struct k8s_exec_config *x, const struct kc_doc *d,
                              yaml_node_t *seq, struct err *e)
{
    size_t n = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
    x->args = calloc(n + 1, sizeof(char *));
    if (!x->args)
        return err_set(e, ERR_FAILED, "out of memory");
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *a = yaml_document_get_node((yaml_document_t *)&d->doc,
                                                seq->data.sequence.items.start[i]);
        if (!a || a->type != YAML_SCALAR_NODE)
            return err_set(e, ERR_USAGE, "kubeconfig %s:%lu: exec args: expected strings",
                           d->src->path, kc_line(seq));
        if (!(x->args[i] = kc_strdup((const char *)a->data.scalar.value, e)))
            return -1;
        x->n_args++;
    }
    return 0;
}

static int kc_parse_exec_env(struct k8s_exec_config *x, const struct kc_doc *d,
                             yaml_node_t *seq, struct err *e)
{
    size_t n = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
    x->env = calloc(n + 1, sizeof(*x->env));
    if (!x->env)
        return err_set(e, ERR_FAILED, "out of memory");
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *it = yaml_document_get_node((yaml_document_t *)&d->doc,
                                                 seq->data.sequence.items.start[i]);
        struct k8s_exec_env *v = &x->env[x->n_env];
        x->n_env++;
        if (kc_copy(d, it, "name", &v->name, e) < 0 || kc_copy(d, it, "value", &v->value, e) < 0)
            return -1;
        if (!v->name)
            return err_set(e, ERR_USAGE, "kubeconfig %s:%lu: exec env entry without a name",
                           d->src->path, kc_line(it));
        if (!v->value && !(v->value = kc_strdup("", e)))
            return -1;
    }
    return 0;
}

static int kc_parse_exec(struct k8s_exec_config *x, const struct kc_doc *d,
                         yaml_node_t *m, struct err *e)
{
    yaml_node_t *args = kc_map_get((yaml_document_t *)&d->doc, m, "args");
    yaml_node_t *env = kc_map_get((yaml_document_t *)&d->doc, m, "env");
    const char *cmd;
    if (m->type != YAML_MAPPING_NODE)
        return err_set(e, ERR_USAGE, "kubeconfig %s:%lu: exec: expected a mapping",
                       d->src->path, kc_line(m));
    if (kc_copy(d, m, "apiVersion", &x->api_version, e) < 0 ||
        kc_scalar(d, m, "command", &cmd, e) < 0)
        return -1;
    if (!cmd || !*cmd)
        return err_set(e, ERR_USAGE, "kubeconfig %s:%lu: exec: command is required",
                       d->src->path, kc_line(m));
    if (!x->api_version)
        return err_set(e, ERR_USAGE, "kubeconfig %s:%lu: exec: apiVersion is required",
                       d->src->path, kc_line(m));
    /* kubectl: a relative command with a separator is a path from here;
     * a bare name is looked up in PATH. */
    if (strchr(cmd, '/') ? kc_path_of(d, cmd, &x->command, e) < 0
                         : !(x->command = kc_strdup(cmd, e)))
        return -1;
    if (!kc_is_null(args) && (args->type != YAML_SEQUENCE_NODE ||
                              kc_parse_exec_args(x, d, args, e) < 0))
        return e->kind ? -1 : err_set(e, ERR_USAGE, "kubeconfig %s:%lu: exec args: expected a list",
                                      d->src->path, kc_line(args));
    if (!kc_is_null(env) && (env->type != YAML_SEQUENCE_NODE ||
                             kc_parse_exec_env(x, d, env, e) < 0))
        return e->kind ? -1 : err_set(e, ERR_USAGE, "kubeconfig %s:%lu: exec env: expected a list",
                                      d->src->path, kc_line(env));
    return 0;
}

static int kc_parse_user(struct k8s_kc_user *u, const struct kc_doc *d,
                         yaml_node_t *m, struct err *e)
{
    yaml_node_t *exec = kc_map_get((yaml_document_t *)&d->doc, m, "exec");
    if (kc_path(d, m, "client-certificate", &u->cert_file, e) < 0 ||
        kc_b64(d, m, "client-certificate-data", &u->cert_data, &u->cert_data_len, e) < 0 ||
        kc_path(d, m, "client-key", &u->key_file, e) < 0 ||
        kc_b64(d, m, "client-key-data", &u->key_data, &u->key_data_len, e) < 0 ||
        kc_copy(d, m, "token", &u->token, e) < 0 ||
        kc_path(d, m, "tokenFile", &u->token_file, e) < 0 ||
        kc_copy(d, m, "username", &u->username, e) < 0 ||
        kc_copy(d, m, "password", &u->password, e) < 0)
        return -1;
    if (!kc_is_null(exec)) {
        u->has_exec = 1;
        if (kc_parse_exec(&u->exec, d, exec, e) < 0)
            return -1;
    }
    return 0;
}

/* ---- resolving one context ---------------------------------------------- */

static int kc_current_context(struct kc_set *s, const char **out, struct err *e)
{
    *out = NULL;
    for (size_t i = 0; i < s->n && !*out; i++) {
        struct kc_doc *d = &s->docs[i];
        if (kc_scalar(d, yaml_document_get_root_node(&d->doc), "current-context", out, e) < 0)
            return -1;
        if (*out && !**out)
            *out = NULL;
    }
    return 0;
}

static int kc_set_file(char **dst, const struct kc_doc *d, const char *name,
                       char **name_dst, struct err *e)
{
    if (!(*dst = kc_strdup(d->src->path, e)) || !(*name_dst = kc_strdup(name, e)))
        return -1;
    return 0;
}

static int kc_resolve_cluster(struct k8s_kubeconfig *kc, struct kc_set *s,
                              const struct kc_doc *cd, const char *name,
                              struct err *e)
{
    struct kc_doc *d = NULL;
    yaml_node_t *m;
    if (!name)
        return err_set(e, ERR_USAGE, "kubeconfig %s: context \"%s\" names no cluster",
                       cd->src->path, kc->context);
    if (kc_find_named(s, "clusters", "cluster", name, &d, &m, e) < 0)
        return -1;
    if (!m)
        return err_set(e, ERR_USAGE, "kubeconfig %s: cluster \"%s\" of context \"%s\" not found",
                       kc->sources, name, kc->context);
    if (kc_set_file(&kc->cluster.file, d, name, &kc->cluster.name, e) < 0)
        return -1;
    return kc_parse_cluster(&kc->cluster, d, m, e);
}

static int kc_resolve_user(struct k8s_kubeconfig *kc, struct kc_set *s,
                           const char *name, struct err *e)
{
    struct kc_doc *d = NULL;
    yaml_node_t *m;
    if (!name)
        return 0;    /* no user: anonymous, as kubectl allows */
    if (kc_find_named(s, "users", "user", name, &d, &m, e) < 0)
        return -1;
    if (!m)
        return err_set(e, ERR_USAGE, "kubeconfig %s: user \"%s\" of context \"%s\" not found",
                       kc->sources, name, kc->context);
    if (kc_set_file(&kc->user.file, d, name, &kc->user.name, e) < 0)
        return -1;
    return kc_parse_user(&kc->user, d, m, e);
}

static int kc_resolve(struct k8s_kubeconfig *kc, struct kc_set *s,
                      const char *context, struct err *e)
{
    struct kc_doc *d = NULL;
    yaml_node_t *m;
    const char *cluster, *user, *ns;
    if ((!context || !*context) && kc_current_context(s, &context, e) < 0)
        return -1;
    if (!context)
        return err_set(e, ERR_USAGE, "kubeconfig %s: no context given and no current-context set",
                       kc->sources);
    if (kc_find_named(s, "contexts", "context", context, &d, &m, e) < 0)
        return -1;
    if (!m)
        return err_set(e, ERR_USAGE, "kubeconfig %s: context \"%s\" not found",
                       kc->sources, context);
    if (kc_set_file(&kc->context_file, d, context, &kc->context, e) < 0 ||
        kc_scalar(d, m, "cluster", &cluster, e) < 0 ||
        kc_scalar(d, m, "user", &user, e) < 0 ||
        kc_scalar(d, m, "namespace", &ns, e) < 0)
        return -1;
    if (ns && *ns && !(kc->namespace = kc_strdup(ns, e)))
        return -1;
    if (kc_resolve_cluster(kc, s, d, cluster, e) < 0)
        return -1;
    return kc_resolve_user(kc, s, user, e);
}

static char *kc_join_sources(const struct k8s_kc_source *src, size_t n)
{
    struct buf b = BUF_INIT;
    for (size_t i = 0; i < n; i++)
        buf_printf(&b, "%s%s", i ? ":" : "", src[i].path);
    return buf_detach(&b);
}

int k8s_kubeconfig_parse(struct k8s_kubeconfig *kc,
                         const struct k8s_kc_source *src, size_t n,
                         const char *context, struct err *e)
{
    struct kc_set s = { calloc(n ? n : 1, sizeof(struct kc_doc)), n };
    int rc = -1;
    k8s_kubeconfig_init(kc);
    if (!s.docs || !(kc->sources = kc_join_sources(src, n))) {
        err_set(e, ERR_FAILED, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        if (kc_doc_load(&s.docs[i], &src[i], e) < 0)
            goto out;
    rc = kc_resolve(kc, &s, context, e);
out:
    for (size_t i = 0; s.docs && i < n; i++)
        kc_doc_release(&s.docs[i]);
    free(s.docs);
    if (rc < 0)
        k8s_kubeconfig_release(kc);
    return rc;
}

/* ---- finding the files ------------------------------------------------- */

struct kc_files {
    struct k8s_kc_source src[KC_MAX_FILES];
    char *paths[KC_MAX_FILES];
    struct buf text[KC_MAX_FILES];
    size_t n;
};

static void kc_files_release(struct kc_files *f)
{
    for (size_t i = 0; i < f->n; i++) {
        free(f->paths[i]);
        buf_release_secret(&f->text[i]);
    }
    f->n = 0;
}

static char *kc_expand_home(const char *p, size_t len)
{
    struct buf b = BUF_INIT;
    const char *home = env_get("HOME");
    if (len >= 2 && p[0] == '~' && p[1] == '/' && home) {
        buf_puts(&b, home);
        p++, len--;
    }
    buf_add(&b, p, len);
    return buf_detach(&b);
}

/* Adds one file. must_exist: an explicit path; list entries that do not
 * exist are skipped like kubectl does. */
static int kc_files_add(struct kc_files *f, const char *p, size_t len,
                        int must_exist, struct err *e)
{
    char *path;
    struct buf *t;
    if (!len)
        return 0;
    if (!(path = kc_expand_home(p, len)))
        return err_set(e, ERR_FAILED, "out of memory");
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->paths[i], path) == 0) {
            free(path);
            return 0;
        }
    if (!must_exist && access(path, F_OK) != 0) {
        free(path);
        return 0;
    }
    if (f->n == KC_MAX_FILES) {
        free(path);
        return err_set(e, ERR_USAGE, "KUBECONFIG: more than %d files", KC_MAX_FILES);
    }
    t = &f->text[f->n];
    buf_init(t);
    f->paths[f->n] = path;
    f->src[f->n].path = path;
    f->n++;
    if (k8s_read_file(path, KC_MAX_FILE, "kubeconfig", t, e) < 0)
        return -1;
    f->src[f->n - 1].text = buf_str(t);
    f->src[f->n - 1].len = t->len;
    return 0;
}

static int kc_files_find(struct kc_files *f, const char *path, struct err *e)
{
    const char *env = env_get("KUBECONFIG");
    if (path && *path)
        return kc_files_add(f, path, strlen(path), 1, e);
    if (env && *env) {
        for (const char *p = env; *p;) {
            const char *colon = strchr(p, ':');
            size_t len = colon ? (size_t)(colon - p) : strlen(p);
            if (kc_files_add(f, p, len, 0, e) < 0)
                return -1;
            p += len + (colon ? 1 : 0);
        }
        if (!f->n)
            return err_set(e, ERR_USAGE, "KUBECONFIG=%s: none of these files exists", env);
        return 0;
    }
    if (kc_files_add(f, "~/.kube/config", 14, 0, e) < 0)
        return -1;
    if (!f->n)
        return err_set(e, ERR_USAGE, "no kubeconfig: set [cluster x] kubeconfig, "
                       "KUBECONFIG, or create ~/.kube/config");
    return 0;
}

int k8s_kubeconfig_load(struct k8s_kubeconfig *kc, const char *path,
                        const char *context, struct err *e)
{
    struct kc_files f;
    int rc;
    f.n = 0;
    k8s_kubeconfig_init(kc);
    rc = kc_files_find(&f, path, e);
    if (rc == 0)
        rc = k8s_kubeconfig_parse(kc, f.src, f.n, context, e);
    kc_files_release(&f);
    return rc;
}
