/* Exec credential plugins (see exec.h): posix_spawnp with a pipe on stdout,
 * a deadline and an output bound, then the ExecCredential parsed with
 * jansson. SPEC.md "Smoke"/"Migration" reach clusters through this. */
#include "k8s/exec.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "core/buf.h"

extern char **environ;

void k8s_exec_cred_release(struct k8s_exec_cred *c)
{
    char *secrets[3] = { c->token, c->cert_pem, c->key_pem };
    for (int i = 0; i < 3; i++)
        if (secrets[i]) {
            explicit_bzero(secrets[i], strlen(secrets[i]));
            free(secrets[i]);
        }
    memset(c, 0, sizeof(*c));
}

void k8s_exec_init(struct k8s_exec *x, const struct k8s_exec_config *cfg)
{
    memset(x, 0, sizeof(*x));
    x->cfg = cfg;
    x->timeout_ms = 30000;
    x->max_output = (size_t)1024 * 1024;
}

void k8s_exec_release(struct k8s_exec *x)
{
    k8s_exec_cred_release(&x->cred);
    memset(x, 0, sizeof(*x));
}

void k8s_exec_invalidate(struct k8s_exec *x)
{
    k8s_exec_cred_release(&x->cred);
    x->have_cred = 0;
}

/* ---- time --------------------------------------------------------------- */

static int exec_parse_offset(const char *p, long *off)
{
    int hh, mm, n = 0;
    if (*p == 'Z' || *p == 'z') {
        *off = 0;
        return p[1] ? -1 : 0;
    }
    /* Two digits each cannot overflow, and %n finds trailing junk: the
     * errors cert-err34-c guards against cannot happen here. */
    if ((*p != '+' && *p != '-') ||
        sscanf(p + 1, "%2d:%2d%n", &hh, &mm, &n) != 2 || p[1 + n])  /* NOLINT(cert-err34-c) */
        return -1;
    *off = (hh * 3600L + mm * 60L) * (*p == '-' ? -1 : 1);
    return 0;
}

int k8s_parse_rfc3339(const char *s, time_t *out)
{
    struct tm tm;
    int n = 0;
    long off;
    const char *p;
    memset(&tm, 0, sizeof(tm));
    /* Width-bounded fields (no overflow), all six counted: as above. */
    /* NOLINTNEXTLINE(cert-err34-c) */
    if (sscanf(s, "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon,
               &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6 || !n)
        return -1;
    p = s + n;
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++)
            ;
    if (exec_parse_offset(p, &off) < 0 || tm.tm_mon < 1 || tm.tm_mon > 12 ||
        tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
        tm.tm_sec > 60)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    *out = timegm(&tm) - off;
    return 0;
}

/* ---- parsing the answer --------------------------------------------------- */

/* jansson keeps its own copy of each string; wipe the secret ones before
 * the document is freed. */
static void exec_wipe_json_string(json_t *v)
{
    if (json_is_string(v))
        explicit_bzero((char *)json_string_value(v), json_string_length(v));
}

static int exec_copy_field(json_t *status, const char *key, char **dst,
                           const char *cmd, struct err *e)
{
    json_t *v = json_object_get(status, key);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return err_set(e, ERR_FAILED, "exec plugin %s: status.%s is not a string", cmd, key);
    if (json_string_length(v) && !(*dst = strdup(json_string_value(v))))
        return err_set(e, ERR_FAILED, "out of memory");
    return 0;
}

static int exec_parse_status(json_t *status, const char *cmd,
                             struct k8s_exec_cred *out, struct err *e)
{
    json_t *exp = json_object_get(status, "expirationTimestamp");
    if (exec_copy_field(status, "token", &out->token, cmd, e) < 0 ||
        exec_copy_field(status, "clientCertificateData", &out->cert_pem, cmd, e) < 0 ||
        exec_copy_field(status, "clientKeyData", &out->key_pem, cmd, e) < 0)
        return -1;
    if ((out->cert_pem != NULL) != (out->key_pem != NULL))
        return err_set(e, ERR_FAILED, "exec plugin %s: returned a client certificate "
                       "without its key (or a key without its certificate)", cmd);
    if (!out->token && !(out->cert_pem && out->key_pem))
        return err_set(e, ERR_FAILED, "exec plugin %s: returned neither a token nor a "
                       "client certificate and key", cmd);
    if (exp && !json_is_null(exp) &&
        (!json_is_string(exp) || k8s_parse_rfc3339(json_string_value(exp), &out->expiry) < 0))
        return err_set(e, ERR_FAILED, "exec plugin %s: bad status.expirationTimestamp "
                       "(want RFC 3339)", cmd);
    return 0;
}

int k8s_exec_parse(const char *json, size_t len, const char *want_api_version,
                   const char *cmd, struct k8s_exec_cred *out, struct err *e)
{
    json_error_t je;
    json_t *doc = json_loadb(json, len, 0, &je), *status;
    const char *kind, *api;
    int rc = -1;
    memset(out, 0, sizeof(*out));
    if (!doc)
        return err_set(e, ERR_FAILED, "exec plugin %s: output is not JSON (line %d: %s)",
                       cmd, je.line, je.text);
    kind = json_string_value(json_object_get(doc, "kind"));
    api = json_string_value(json_object_get(doc, "apiVersion"));
    status = json_object_get(doc, "status");
    if (!kind || strcmp(kind, "ExecCredential") != 0)
        err_set(e, ERR_FAILED, "exec plugin %s: output is not an ExecCredential", cmd);
    else if (want_api_version && (!api || strcmp(api, want_api_version) != 0))
        err_set(e, ERR_FAILED, "exec plugin %s: answered apiVersion %s, kubeconfig asks for %s",
                cmd, api ? api : "(none)", want_api_version);
    else if (!json_is_object(status))
        err_set(e, ERR_FAILED, "exec plugin %s: ExecCredential has no status", cmd);
    else
        rc = exec_parse_status(status, cmd, out, e);
    if (json_is_object(status)) {
        exec_wipe_json_string(json_object_get(status, "token"));
        exec_wipe_json_string(json_object_get(status, "clientKeyData"));
    }
    json_decref(doc);
    if (rc < 0)
        k8s_exec_cred_release(out);
    return rc;
}

/* ---- running the plugin --------------------------------------------------- */

static void exec_free_strv(char **v)
{
    for (size_t i = 0; v && v[i]; i++) {
        explicit_bzero(v[i], strlen(v[i]));
        free(v[i]);
    }
    free(v);
}

static char *exec_env_entry(const char *name, const char *value)
{
    struct buf b = BUF_INIT;
    buf_printf(&b, "%s=%s", name, value);
    return buf_detach(&b);
}

/* True when an inherited "NAME=..." is overridden by the kubeconfig. */
static int exec_env_overridden(const struct k8s_exec_config *cfg, const char *entry)
{
    size_t n = strcspn(entry, "=");
    if (n == 20 && strncmp(entry, "KUBERNETES_EXEC_INFO", n) == 0)
        return 1;
    for (size_t i = 0; i < cfg->n_env; i++)
        if (strlen(cfg->env[i].name) == n && strncmp(entry, cfg->env[i].name, n) == 0)
            return 1;
    return 0;
}

static char *exec_info_json(const struct k8s_exec_config *cfg)
{
    json_t *info = json_pack("{s:s, s:s, s:{s:b}}", "apiVersion", cfg->api_version,
                             "kind", "ExecCredential", "spec", "interactive", 0);
    char *s = info ? json_dumps(info, JSON_COMPACT) : NULL;
    json_decref(info);
    return s;
}

/* Our environment, plus the kubeconfig's env list, plus
 * KUBERNETES_EXEC_INFO (interactive=false: we never give the plugin a
 * terminal). Built before spawning so the child does no allocation. */
static char **exec_envp(const struct k8s_exec_config *cfg)
{
    size_t n = 0, k = 0;
    char **v, *info;
    while (environ && environ[n])
        n++;
    if (!(v = calloc(n + cfg->n_env + 2, sizeof(char *))))
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (!exec_env_overridden(cfg, environ[i]) && !(v[k++] = strdup(environ[i])))
            goto fail;
    for (size_t i = 0; i < cfg->n_env; i++)
        if (!(v[k++] = exec_env_entry(cfg->env[i].name, cfg->env[i].value)))
            goto fail;
    if (!(info = exec_info_json(cfg)))
        goto fail;
    v[k] = exec_env_entry("KUBERNETES_EXEC_INFO", info);
    free(info);
    if (v[k])
        return v;
fail:
    exec_free_strv(v);
    return NULL;
}

static char **exec_argv(const struct k8s_exec_config *cfg)
{
    char **v = calloc(cfg->n_args + 2, sizeof(char *));
    if (!v)
        return NULL;
    v[0] = cfg->command;
    for (size_t i = 0; i < cfg->n_args; i++)
        v[i + 1] = cfg->args[i];
    return v;     /* borrowed strings: free only the array */
}

static int exec_spawn(const struct k8s_exec_config *cfg, pid_t *pid, int *fd,
                      struct err *e)
{
    posix_spawn_file_actions_t fa;
    char **argv = exec_argv(cfg), **envp = exec_envp(cfg);
    int p[2] = { -1, -1 }, rc = ENOMEM;
    if (argv && envp && pipe(p) == 0) {
        fcntl(p[0], F_SETFD, FD_CLOEXEC);
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_adddup2(&fa, p[1], 1);
        posix_spawn_file_actions_addclose(&fa, p[1]);
        rc = posix_spawnp(pid, cfg->command, &fa, NULL, argv, envp);
        posix_spawn_file_actions_destroy(&fa);
        close(p[1]);
    }
    free(argv);
    exec_free_strv(envp);
    if (rc == 0) {
        *fd = p[0];
        return 0;
    }
    if (p[0] >= 0)
        close(p[0]);
    if (rc == ENOENT)
        return err_set(e, ERR_FAILED, "exec plugin %s: command not found (is it installed "
                       "and on PATH?)", cfg->command);
    return err_set(e, ERR_FAILED, "exec plugin %s: cannot run: %s", cfg->command, strerror(rc));
}

/* Reads stdout until EOF, the deadline, or the size bound. */
static int exec_read(const struct k8s_exec *x, int fd, long long deadline,
                     struct buf *out, struct err *e)
{
    char chunk[4096];
    for (;;) {
        struct pollfd pfd = { fd, POLLIN, 0 };
        long long left = deadline - util_now_ms();
        ssize_t n;
        if (left <= 0)
            return err_set(e, ERR_FAILED, "exec plugin %s: no answer within %.3g s (killed)",
                           x->cfg->command, (double)x->timeout_ms / 1000.0);
        if (poll(&pfd, 1, (int)(left > 1000 ? 1000 : left)) < 0 && errno != EINTR)
            return err_set(e, ERR_FAILED, "exec plugin %s: poll: %s", x->cfg->command,
                           strerror(errno));
        if (!pfd.revents)
            continue;
        n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        buf_add(out, chunk, (size_t)n);
        if (out->len > x->max_output)
            return err_set(e, ERR_FAILED, "exec plugin %s: printed more than %zu bytes",
                           x->cfg->command, x->max_output);
    }
    explicit_bzero(chunk, sizeof(chunk));
    return 0;
}

/* Reaps the child; past the deadline it is killed. Returns the wait status
 * or -1 when it had to be killed. */
static int exec_reap(pid_t pid, long long deadline)
{
    int status;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return status;
        if (r < 0 && errno != EINTR)
            return -1;
        if (util_now_ms() >= deadline) {
            kill(pid, SIGKILL);
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
            return -1;
        }
        usleep(5000);
    }
}

static int exec_check_status(const struct k8s_exec *x, int status, struct err *e)
{
    if (status == -1)
        return err_set(e, ERR_FAILED, "exec plugin %s: did not exit within %.3g s (killed)",
                       x->cfg->command, (double)x->timeout_ms / 1000.0);
    if (WIFSIGNALED(status))
        return err_set(e, ERR_FAILED, "exec plugin %s: killed by signal %d",
                       x->cfg->command, WTERMSIG(status));
    if (WEXITSTATUS(status) != 0)
        return err_set(e, ERR_FAILED, "exec plugin %s: exited with status %d",
                       x->cfg->command, WEXITSTATUS(status));
    return 0;
}

static int exec_run(struct k8s_exec *x, struct k8s_exec_cred *cred, struct err *e)
{
    struct buf out = BUF_INIT;
    long long deadline = util_now_ms() + x->timeout_ms;
    pid_t pid = -1;
    int fd = -1, rc, status;
    if (exec_spawn(x->cfg, &pid, &fd, e) < 0)
        return -1;
    x->runs++;
    rc = exec_read(x, fd, deadline, &out, e);
    close(fd);
    /* After a read failure the child is not waited for: kill it now. */
    status = exec_reap(pid, rc < 0 ? 0 : deadline);
    if (rc == 0)
        rc = exec_check_status(x, status, e);
    if (rc == 0 && out.failed)
        rc = err_set(e, ERR_FAILED, "out of memory");
    if (rc == 0)
        rc = k8s_exec_parse(buf_str(&out), out.len, x->cfg->api_version, x->cfg->command,
                            cred, e);
    buf_release_secret(&out);
    return rc;
}

int k8s_exec_get(struct k8s_exec *x, time_t now,
                 const struct k8s_exec_cred **out, struct err *e)
{
    struct k8s_exec_cred fresh;
    if (x->have_cred && (!x->cred.expiry || now < x->cred.expiry)) {
        *out = &x->cred;
        return 0;
    }
    if (exec_run(x, &fresh, e) < 0)
        return -1;
    k8s_exec_cred_release(&x->cred);
    x->cred = fresh;
    x->have_cred = 1;
    *out = &x->cred;
    return 0;
}
