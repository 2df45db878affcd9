/* Writing kubeconfig files (SPEC.md "Clusters", `kubeconfig a|b`): one
 * cluster, user and context, either as a file of their own or merged into
 * an existing kubeconfig whose other entries are kept. libyaml's document
 * API both ways (never hand-written YAML); files are written 0600 through a
 * temporary file and rename, so a reader never sees half a file. */
#ifndef K8S_KUBECONFIG_FILE_H
#define K8S_KUBECONFIG_FILE_H

#include <stddef.h>
#include "core/buf.h"
#include "core/err.h"

struct k8s_kc_entry {
    const char *name;         /* cluster and context name: "prod-a" */
    const char *user;         /* user entry name: "prod-a-admin" */
    const char *server;       /* "https://api.a.k8s.example.com:6443" */
    const char *ca_pem;       /* certificate-authority-data, PEM */
    const char *cert_pem;     /* client-certificate-data, PEM */
    const char *key_pem;      /* client-key-data, PEM (secret) */
};

/* The kubeconfig YAML for x, into out (appended; a secret: release it with
 * buf_release_secret). existing: a kubeconfig's text to merge into (its
 * entries named like x's are replaced, everything else kept, current-context
 * set to x's), or NULL for a file of its own. A malformed existing file is
 * ERR_USAGE naming `what`. */
int k8s_kubeconfig_render(const struct k8s_kc_entry *x, const char *existing,
                          const char *what, struct buf *out, struct err *e);

/* Writes data to path with mode 0600 (temporary file in the same
 * directory, fsync, rename); makes the directory (0700) when missing. */
int k8s_write_private_file(const char *path, const char *data, size_t len,
                           struct err *e);

/* The file `--merge` writes: the first entry of $KUBECONFIG, else
 * ~/.kube/config (kubectl's choice for new entries). -1 without either. */
int k8s_kubeconfig_merge_path(char *out, size_t size);

#endif
