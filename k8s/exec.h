/* Exec credential plugins (users[].user.exec in a kubeconfig): runs the
 * command, reads its ExecCredential, caches it until it expires. Used by the
 * client for SPEC.md "Smoke" and "Migration" against clusters (EKS-style)
 * whose kubeconfig gets tokens from a plugin. */
#ifndef K8S_EXEC_H
#define K8S_EXEC_H

#include <stddef.h>
#include <time.h>

#include "core/err.h"
#include "k8s/kubeconfig.h"

/* What a plugin returned. Secrets wiped on release. */
struct k8s_exec_cred {
    char *token;          /* status.token, or NULL */
    char *cert_pem;       /* status.clientCertificateData (PEM), or NULL */
    char *key_pem;        /* status.clientKeyData (PEM), or NULL */
    time_t expiry;        /* status.expirationTimestamp; 0 = does not expire */
};

struct k8s_exec {
    const struct k8s_exec_config *cfg;   /* borrowed from the kubeconfig */
    long timeout_ms;       /* whole run, default 30 s */
    size_t max_output;     /* stdout bound, default 1 MiB */
    struct k8s_exec_cred cred;
    int have_cred;
    int runs;              /* how many times the plugin ran */
};

void k8s_exec_init(struct k8s_exec *x, const struct k8s_exec_config *cfg);
void k8s_exec_release(struct k8s_exec *x);

/* A valid credential: the cached one while now < its expiry, else the
 * plugin is run again. *out is borrowed until the next call. Failures are
 * ERR_FAILED naming the command, never showing what it printed. */
int k8s_exec_get(struct k8s_exec *x, time_t now,
                 const struct k8s_exec_cred **out, struct err *e);

/* Drops the cached credential (the server answered 401). */
void k8s_exec_invalidate(struct k8s_exec *x);

/* Parses a plugin's stdout (pure). want_api_version: the kubeconfig's
 * exec apiVersion, which the answer must match. cmd: for messages. */
int k8s_exec_parse(const char *json, size_t len, const char *want_api_version,
                   const char *cmd, struct k8s_exec_cred *out, struct err *e);

void k8s_exec_cred_release(struct k8s_exec_cred *c);


/* RFC 3339 ("2006-01-02T15:04:05Z", fractions, "+hh:mm") to time_t.
 * Returns -1 when malformed. */
int k8s_parse_rfc3339(const char *s, time_t *out);

#endif
