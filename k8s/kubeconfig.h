/* Kubeconfig: finds and parses kubeconfig files (libyaml) the way kubectl
 * does and resolves one context into everything the client needs
 * (SPEC.md "Configuration", [cluster x] kubeconfig / context). */
#ifndef K8S_KUBECONFIG_H
#define K8S_KUBECONFIG_H

#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"

struct k8s_exec_env {
    char *name;
    char *value;
};

/* users[].user.exec: a credential plugin (client.authentication.k8s.io). */
struct k8s_exec_config {
    char *api_version;
    char *command;       /* relative paths containing '/' are resolved
                          * against the kubeconfig's directory */
    char **args;
    size_t n_args;
    struct k8s_exec_env *env;
    size_t n_env;
};

struct k8s_kc_cluster {
    char *name;
    char *file;               /* kubeconfig file that defined it */
    char *server;
    char *ca_file;            /* certificate-authority, absolute */
    unsigned char *ca_data;   /* certificate-authority-data, decoded PEM */
    size_t ca_data_len;
    int insecure;             /* insecure-skip-tls-verify */
    char *tls_server_name;
    char *proxy_url;
};

/* Secret fields are wiped when released. */
struct k8s_kc_user {
    char *name;
    char *file;
    char *cert_file;          /* client-certificate, absolute */
    unsigned char *cert_data; /* client-certificate-data, decoded */
    size_t cert_data_len;
    char *key_file;           /* client-key, absolute */
    unsigned char *key_data;  /* client-key-data, decoded (secret) */
    size_t key_data_len;
    char *token;              /* secret */
    char *token_file;         /* tokenFile, absolute */
    char *username;
    char *password;           /* secret */
    int has_exec;
    struct k8s_exec_config exec;
};

/* One resolved context. Every string is owned (NULL when absent). */
struct k8s_kubeconfig {
    char *sources;            /* the file(s) read, ':'-joined, for messages */
    char *context;
    char *context_file;       /* kubeconfig file that defined the context */
    char *namespace;          /* context's namespace, NULL = unset */
    struct k8s_kc_cluster cluster;
    struct k8s_kc_user user;
};

/* One kubeconfig document, in precedence order (first wins). */
struct k8s_kc_source {
    const char *path;         /* for messages and relative paths */
    const char *text;
    size_t len;
};

/* Loads a context. path: an explicit kubeconfig file (must exist), or
 * NULL/"" for $KUBECONFIG (a ':'-separated list merged like kubectl; missing
 * entries are skipped) else ~/.kube/config. context: NULL/"" means the
 * current-context. Bad files are ERR_USAGE naming the file. On failure kc
 * is left released. */
int k8s_kubeconfig_load(struct k8s_kubeconfig *kc, const char *path,
                        const char *context, struct err *e);

/* The pure part of load: parses the documents (first one to define a named
 * cluster/user/context, or current-context, wins) and resolves context. */
int k8s_kubeconfig_parse(struct k8s_kubeconfig *kc,
                         const struct k8s_kc_source *src, size_t n,
                         const char *context, struct err *e);

void k8s_kubeconfig_init(struct k8s_kubeconfig *kc);
void k8s_kubeconfig_release(struct k8s_kubeconfig *kc);
void k8s_exec_config_release(struct k8s_exec_config *x);

/* Reads a whole file (at most max bytes) into out. ERR_USAGE naming the
 * file and what of the kubeconfig (what) pointed at it. */
int k8s_read_file(const char *path, size_t max, const char *what,
                  struct buf *out, struct err *e);

/* Decodes standard base64 (whitespace ignored). Returns 0, or -1 when the
 * text is not valid base64. *out is malloc'd (caller frees). */
int k8s_base64_decode(const char *in, size_t len, unsigned char **out,
                      size_t *out_len);

/* A kubeconfig is a few levels deep. libyaml has no nesting limit and its
 * scanner slows down with each open flow level (100,000 '[' took 30 s), so
 * every YAML paasctl reads is walked first and refused past this depth
 * ("WHAT:LINE: nested deeper than 64 levels", ERR_USAGE). */
#define K8S_YAML_MAX_DEPTH 64
int k8s_yaml_check_depth(const char *text, size_t len, const char *what, struct err *e);

#endif
