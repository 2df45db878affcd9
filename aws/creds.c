/* AWS credentials chain (SPEC.md "AWS conventions"): environment, then the
 * shared files (read with inih), then IMDSv2 through the request engine. */
#include "aws/creds.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include <curl/curl.h>
#include <ini.h>
#include <jansson.h>

#include "core/env.h"
#include "core/http.h"

#define CREDS_PATH_MAX 4096
#define CREDS_IMDS_DEFAULT "http://169.254.169.254"
#define CREDS_IMDS_TOKEN_PATH "/latest/api/token"
#define CREDS_IMDS_ROLES_PATH "/latest/meta-data/iam/security-credentials/"
#define CREDS_IMDS_MAX_BODY 65536
/* Stands in, for inih, for the value of an over-long line (creds_ini_read). */
#define CREDS_LONG_MARK "\x1f"

/* ---- small helpers ------------------------------------------------------ */

/* An environment variable, NULL when unset or empty (empty means unset for
 * every AWS SDK). */
static const char *creds_env(const char *name)
{
    return env_get(name);
}

static void creds_free_secret(char **p)
{
    if (*p) {
        explicit_bzero(*p, strlen(*p));
        free(*p);
        *p = NULL;
    }
}

static int creds_span_eq(const char *s, size_t n, const char *want)
{
    return strlen(want) == n && memcmp(s, want, n) == 0;
}

static size_t creds_rtrim_len(const char *s)
{
    size_t n = strlen(s);
    while (n > 0 && strchr(" \t\r\n", s[n - 1]))
        n--;
    return n;
}

/* ---- struct aws_creds --------------------------------------------------- */

void aws_creds_init(struct aws_creds *c)
{
    memset(c, 0, sizeof(*c));
}

void aws_creds_release(struct aws_creds *c)
{
    creds_free_secret(&c->access_key);
    creds_free_secret(&c->secret_key);
    creds_free_secret(&c->session_token);
    aws_creds_init(c);
}

static int creds_set(struct aws_creds *c, const char *key_id,
                     const char *secret, const char *token,
                     const char *source, struct err *e)
{
    int want_token = token && *token;
    aws_creds_release(c);
    c->access_key = strdup(key_id);
    c->secret_key = strdup(secret);
    c->session_token = want_token ? strdup(token) : NULL;
    if (!c->access_key || !c->secret_key || (want_token && !c->session_token)) {
        aws_creds_release(c);
        return err_set(e, ERR_FAILED, "out of memory storing AWS credentials");
    }
    snprintf(c->source, sizeof(c->source), "%s", source);
    return 0;
}

/* 1 when both halves of a key pair are present, 0 when neither. Half a pair
 * is reported rather than skipped: trying the next source would quietly act
 * as a different identity. */
static int creds_pair(const char *id, const char *secret, const char *where,
                      const char *id_name, const char *secret_name,
                      struct err *e)
{
    if (!id && !secret)
        return 0;
    if (id && secret)
        return 1;
    return err_set(e, ERR_USAGE, "%s: %s is set but %s is not", where,
                   id ? id_name : secret_name, id ? secret_name : id_name);
}

/* ---- source 1: the environment ------------------------------------------ */

static int creds_from_env(struct aws_creds *out, struct err *e)
{
    const char *id = creds_env("AWS_ACCESS_KEY_ID");
    const char *secret = creds_env("AWS_SECRET_ACCESS_KEY");
    int rc = creds_pair(id, secret, "environment", "AWS_ACCESS_KEY_ID",
                        "AWS_SECRET_ACCESS_KEY", e);
    if (rc <= 0)
        return rc;
    if (creds_set(out, id, secret, creds_env("AWS_SESSION_TOKEN"),
                  "environment", e))
        return -1;
    return 1;
}

/* ---- source 2: the shared files ----------------------------------------- */

enum creds_file_kind { CREDS_CREDENTIALS_FILE, CREDS_CONFIG_FILE };

/* What one shared file says about one profile. */
struct creds_profile {
    int found;              /* the profile's section holds at least one key */
    char *key_id, *secret, *token, *region;   /* owned, wiped on release */
    char unsupported[32];   /* first key naming a source paasctl lacks */
};

/* Both shared files, as read for one profile. */
struct creds_files {
    const char *profile;
    char cred_path[CREDS_PATH_MAX];     /* "" when unknown (no HOME) */
    char config_path[CREDS_PATH_MAX];
    struct creds_profile cred, config;
};

/* inih's state for one file: the reader and the handler both get it. */
struct creds_parse {
    FILE *f;
    enum creds_file_kind kind;
    const char *profile;
    struct creds_profile *out;
    char *line;             /* getline buffer, wiped at the end */
    size_t line_cap;
    char *long_value;       /* see creds_ini_read */
    int oom;
};

static void creds_profile_release(struct creds_profile *p)
{
    creds_free_secret(&p->key_id);
    creds_free_secret(&p->secret);
    creds_free_secret(&p->token);
    creds_free_secret(&p->region);
    memset(p, 0, sizeof(*p));
}

static void creds_files_release(struct creds_files *f)
{
    creds_profile_release(&f->cred);
    creds_profile_release(&f->config);
}

/* The file named by env_var, else ~/.aws/NAME; "" when neither is known. */
static void creds_file_path(const char *env_var, const char *name,
                            char *out, size_t size)
{
    const char *v = creds_env(env_var), *home = creds_env("HOME");
    if (v && v[0] == '~' && v[1] == '/' && home)
        snprintf(out, size, "%s%s", home, v + 1);
    else if (v)
        snprintf(out, size, "%s", v);
    else if (home)
        snprintf(out, size, "%s/.aws/%s", home, name);
    else
        out[0] = '\0';
}

/* The explicit profile (argument, else AWS_PROFILE) or "default". */
static const char *creds_profile_name(const char *profile, int *is_explicit)
{
    const char *env = creds_env("AWS_PROFILE");
    *is_explicit = 1;
    if (profile && *profile)
        return profile;
    if (env)
        return env;
    *is_explicit = 0;
    return "default";
}

/* In the credentials file a profile is [NAME]; in the config file it is
 * [profile NAME], or [default] for the default one. */
static int creds_section_matches(const struct creds_parse *p,
                                 const char *section)
{
    const char *s = section + strspn(section, " \t");
    size_t n = creds_rtrim_len(s), skip;
    if (p->kind == CREDS_CONFIG_FILE && !creds_span_eq(s, n, "default")) {
        if (n < 8 || strncmp(s, "profile", 7) != 0 || !strchr(" \t", s[7]))
            return 0;
        skip = 7 + strspn(s + 7, " \t");
        s += skip;
        n -= skip;
    }
    return creds_span_eq(s, n, p->profile);
}

/* Profiles that get credentials these ways have no keys of their own;
 * falling through to IMDS would quietly use the wrong identity. */
static void creds_note_unsupported(struct creds_profile *out, const char *name)
{
    static const char *const unsupported[] = {
        "role_arn", "credential_process", "sso_session", "sso_start_url",
        "web_identity_token_file",
    };
    for (size_t i = 0; i < sizeof(unsupported) / sizeof(*unsupported); i++)
        if (strcmp(name, unsupported[i]) == 0 && !out->unsupported[0])
            snprintf(out->unsupported, sizeof(out->unsupported), "%s", name);
}

static void creds_profile_put(struct creds_parse *p, const char *name,
                              const char *value)
{
    char **slot = NULL;
    if (strcmp(name, "aws_access_key_id") == 0)
        slot = &p->out->key_id;
    else if (strcmp(name, "aws_secret_access_key") == 0)
        slot = &p->out->secret;
    else if (strcmp(name, "aws_session_token") == 0)
        slot = &p->out->token;
    else if (strcmp(name, "region") == 0 && p->kind == CREDS_CONFIG_FILE)
        slot = &p->out->region;
    if (!slot) {
        creds_note_unsupported(p->out, name);
        return;
    }
    creds_free_secret(slot);   /* a repeated key: the last one wins */
    *slot = strdup(value);
    if (!*slot)
        p->oom = 1;
}

static int creds_ini_entry(void *user, const char *section, const char *name,
                           const char *value)
{
    struct creds_parse *p = user;
    if (!creds_section_matches(p, section))
        return 1;
    p->out->found = 1;
    if (strcmp(value, CREDS_LONG_MARK) == 0 && p->long_value)
        value = p->long_value;
    creds_profile_put(p, name, value);
    return 1;
}

/* The value part of a long line, trimmed and with a " ;" comment cut off,
 * as inih does for the short ones. */
static char *creds_long_value(const char *v)
{
    size_t n = 0;
    v += strspn(v, " \t");
    while (v[n] && !(v[n] == ';' && n > 0 && strchr(" \t", v[n - 1])))
        n++;
    while (n > 0 && strchr(" \t\r\n", v[n - 1]))
        n--;
    return strndup(v, n);
}

static char *creds_ini_shorten(struct creds_parse *p, char *str, size_t num)
{
    const char *start = p->line + strspn(p->line, " \t");
    size_t head = (size_t)(start - p->line) + strcspn(start, "=:");
    if (*start == ';' || *start == '#') {
        snprintf(str, num, ";\n");
    } else if (p->line[head] && head + 4 < num) {
        creds_free_secret(&p->long_value);
        p->long_value = creds_long_value(p->line + head + 1);
        p->oom |= !p->long_value;
        snprintf(str, num, "%.*s=%s\n", (int)head, p->line, CREDS_LONG_MARK);
    } else {
        /* No "name =" within reach: cut it and let inih report the line. */
        snprintf(str, num, "%s", p->line);
    }
    return str;
}

/* inih as packaged reads at most INI_MAX_LINE-1 (199) bytes a line and
 * treats the rest as further lines, which would cut a session token into
 * pieces and misnumber errors. So every line comes whole through getline;
 * a long "name = value" reaches inih as "name =<mark>" and the handler
 * takes the value from long_value. One call per file line keeps inih's
 * line numbers right. */
static char *creds_ini_read(char *str, int num, void *stream)
{
    struct creds_parse *p = stream;
    ssize_t n = getline(&p->line, &p->line_cap, p->f);
    if (n < 0)
        return NULL;
    if (n < num) {
        memcpy(str, p->line, (size_t)n + 1);
        return str;
    }
    return creds_ini_shorten(p, str, (size_t)num);
}

/* Reads what path says about profile into out; a missing file is no error,
 * as for the AWS CLI. */
static int creds_file_load(const char *path, enum creds_file_kind kind,
                           const char *profile, struct creds_profile *out,
                           struct err *e)
{
    struct creds_parse p = { .kind = kind, .profile = profile, .out = out };
    int line, read_error;
    if (!*path)
        return 0;
    p.f = fopen(path, "r");
    if (!p.f && errno == ENOENT)
        return 0;
    if (!p.f)
        return err_set(e, ERR_USAGE, "cannot read %s: %s", path,
                       strerror(errno));
    line = ini_parse_stream(creds_ini_read, &p, creds_ini_entry, &p);
    read_error = ferror(p.f);   /* e.g. a directory: getline fails at once */
    fclose(p.f);
    if (p.line)
        explicit_bzero(p.line, p.line_cap);
    free(p.line);
    creds_free_secret(&p.long_value);
    /* The message names the line, never its text: it may hold a secret. */
    if (line > 0)
        return err_set(e, ERR_USAGE, "%s:%d: malformed AWS %s file "
                       "(expected [section], key = value or a comment)",
                       path, line,
                       kind == CREDS_CONFIG_FILE ? "config" : "credentials");
    if (read_error)
        return err_set(e, ERR_USAGE, "cannot read %s", path);
    if (line < 0 || p.oom)
        return err_set(e, ERR_FAILED, "out of memory reading %s", path);
    return 0;
}

/* Reads the config file, and the credentials file too when with_credentials. */
static int creds_files_load(struct creds_files *f, const char *profile,
                            int with_credentials, struct err *e)
{
    memset(f, 0, sizeof(*f));
    f->profile = profile;
    creds_file_path("AWS_SHARED_CREDENTIALS_FILE", "credentials",
                    f->cred_path, sizeof(f->cred_path));
    creds_file_path("AWS_CONFIG_FILE", "config", f->config_path,
                    sizeof(f->config_path));
    if (with_credentials &&
        creds_file_load(f->cred_path, CREDS_CREDENTIALS_FILE, profile,
                        &f->cred, e))
        return -1;
    return creds_file_load(f->config_path, CREDS_CONFIG_FILE, profile,
                           &f->config, e);
}

static int creds_from_profile(const struct creds_profile *p, const char *path,
                              const char *kind, const char *profile,
                              struct aws_creds *out, struct err *e)
{
    char where[CREDS_PATH_MAX + 128], source[sizeof(out->source)];
    int rc;
    snprintf(where, sizeof(where), "%s [%.100s]", path, profile);
    rc = creds_pair(p->key_id, p->secret, where, "aws_access_key_id",
                    "aws_secret_access_key", e);
    if (rc <= 0)
        return rc;
    snprintf(source, sizeof(source), "%s:%.40s", kind, profile);
    return creds_set(out, p->key_id, p->secret, p->token, source, e) ? -1 : 1;
}

static const char *creds_path_or(const char *path)
{
    return *path ? path : "(none: HOME is unset)";
}

/* 1 with out filled, 0 when the files have nothing for the profile, -1. */
static int creds_from_files(struct creds_files *f, int is_explicit,
                            struct aws_creds *out, struct err *e)
{
    const char *unsupported;
    int rc;
    if (creds_files_load(f, f->profile, 1, e))
        return -1;
    rc = creds_from_profile(&f->cred, f->cred_path, "shared-credentials-file",
                            f->profile, out, e);
    if (rc == 0)
        rc = creds_from_profile(&f->config, f->config_path, "config-file",
                                f->profile, out, e);
    if (rc != 0)
        return rc;
    if (is_explicit && !f->cred.found && !f->config.found)
        return err_set(e, ERR_USAGE, "AWS profile \"%.100s\" not found in %s "
                       "or %s", f->profile, creds_path_or(f->cred_path),
                       creds_path_or(f->config_path));
    unsupported = f->cred.unsupported[0] ? f->cred.unsupported
                                         : f->config.unsupported;
    if (*unsupported)
        return err_set(e, ERR_USAGE, "AWS profile \"%.100s\" uses %s, which "
                       "paasctl does not support; export static credentials "
                       "(aws configure export-credentials --profile %.100s "
                       "--format env)", f->profile, unsupported, f->profile);
    return 0;
}

/* ---- source 3: IMDSv2 --------------------------------------------------- */

struct creds_imds {
    struct http_counters n;
    struct http_engine http;
    char base[512];
};

/* One IMDS exchange, as the engine's driver sees it. */
struct creds_imds_req {
    const char *url;
    const char *header;     /* may be the IMDS token: wiped with the list */
    int put;
    CURLcode rc;
};

static int creds_imds_prepare(struct http_xfer *x)
{
    const struct creds_imds_req *k = x->arg;
    HTTP_SET(x, CURLOPT_URL, k->url);
    /* Never through a proxy: the link-local service is not reachable that
     * way, and the proxy would see the credentials. */
    HTTP_SET(x, CURLOPT_PROXY, "");
    if (k->put)
        HTTP_SET(x, CURLOPT_CUSTOMREQUEST, "PUT");
    if (http_xfer_header(x, "%s", k->header) < 0 ||
        (k->put && http_xfer_header(x, "Content-Length: 0") < 0))
        return -1;
    return 0;
}

/* The caller judges: the status and curl's result decide the next source. */
static enum http_verdict creds_imds_judge(struct http_xfer *x, CURLcode rc)
{
    ((struct creds_imds_req *)x->arg)->rc = rc;
    return HTTP_DONE;
}

static const struct http_driver creds_imds_driver = {
    creds_imds_prepare, creds_imds_judge, NULL, NULL, NULL
};

static int creds_imds_open(struct creds_imds *m, struct err *e)
{
    /* Fail fast off EC2: 1 s to connect, 2 s in all, no retry. */
    static const struct http_engine_opts o = { 1, 0, 2000, 1000, { 1, 0, 0 } };
    const char *env = env_get("AWS_EC2_METADATA_SERVICE_ENDPOINT");
    memset(m, 0, sizeof(*m));
    if (aws_endpoint_url_set(m->base, sizeof(m->base), env ? env : CREDS_IMDS_DEFAULT,
                      "AWS_EC2_METADATA_SERVICE_ENDPOINT", e))
        return -1;
    return http_engine_init(&m->http, &o, &m->n, e);
}

/* One exchange (PUT when put, else GET) with one header; 0 on HTTP 200 with
 * body filled, else -1 with why filled. */
static int creds_imds_call(struct creds_imds *m, int put, const char *path,
                           const char *header, struct buf *body,
                           char *why, size_t why_size)
{
    char url[1024];
    struct creds_imds_req k = { url, header, put, CURLE_OK };
    struct http_xfer x;
    struct err e;
    snprintf(url, sizeof(url), "%s%s", m->base, path);
    body->max = CREDS_IMDS_MAX_BODY;
    http_xfer_init(&x, &creds_imds_driver, &k, body, &e);
    if (http_run(&m->http, &x, 1) < 0 && k.rc == CURLE_OK) {
        snprintf(why, why_size, "%.300s: %.180s", url, e.msg);
        return -1;
    }
    if (k.rc == CURLE_OK && x.status == 200)
        return 0;
    if (k.rc != CURLE_OK)
        snprintf(why, why_size, "%.300s: %.180s", url,
                 x.curl_err[0] ? x.curl_err : curl_easy_strerror(k.rc));
    else
        snprintf(why, why_size, "%.300s: HTTP %ld", url, x.status);
    return -1;
}

/* 1 when the first n bytes of s are all from the set chars. */
static int creds_all_in(const char *s, size_t n, const char *chars)
{
    for (size_t i = 0; i < n; i++)
        if (!s[i] || !strchr(chars, s[i]))
            return 0;
    return 1;
}

#define CREDS_ALNUM \
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

/* Gets a session token and turns it into the header later calls send. The
 * token is checked because it goes into a header line verbatim. */
static int creds_imds_token(struct creds_imds *m, struct buf *auth,
                            char *why, size_t why_size)
{
    struct buf token = BUF_INIT;
    int rc = creds_imds_call(m, 1, CREDS_IMDS_TOKEN_PATH,
                             "X-aws-ec2-metadata-token-ttl-seconds: 21600",
                             &token, why, why_size);
    if (rc == 0 && (token.len == 0 || token.failed ||
                    !creds_all_in(token.data, token.len,
                                  CREDS_ALNUM "+/=_-."))) {
        snprintf(why, why_size, "%.300s%s: not a token", m->base,
                 CREDS_IMDS_TOKEN_PATH);
        rc = -1;
    }
    if (rc == 0)
        buf_printf(auth, "X-aws-ec2-metadata-token: %s", token.data);
    buf_release_secret(&token);
    return rc;
}

/* The instance's role, as a path: the first line of the role list, which
 * must look like an IAM role name since it goes into the next URL. */
static int creds_imds_role(struct creds_imds *m, const struct buf *auth,
                           struct buf *path, char *why, size_t why_size)
{
    struct buf roles = BUF_INIT;
    size_t n;
    int rc = creds_imds_call(m, 0, CREDS_IMDS_ROLES_PATH, buf_str(auth),
                             &roles, why, why_size);
    n = strcspn(buf_str(&roles), "\r\n");
    if (rc == 0 && (n == 0 || n > 64 ||
                    !creds_all_in(roles.data, n, CREDS_ALNUM "+=,.@_-"))) {
        snprintf(why, why_size, "%.300s%s: no IAM role attached to this "
                 "instance", m->base, CREDS_IMDS_ROLES_PATH);
        rc = -1;
    }
    if (rc == 0) {
        buf_puts(path, CREDS_IMDS_ROLES_PATH);
        buf_add(path, roles.data, n);
    }
    buf_release(&roles);
    return rc;
}

/* jansson frees strings without wiping them; do it first. */
static void creds_json_wipe(json_t *root, const char *key)
{
    json_t *v = json_object_get(root, key);
    if (json_is_string(v))
        explicit_bzero((char *)json_string_value(v), json_string_length(v));
}

/* 1 with out filled from the role-credentials document, 0 with why filled. */
static int creds_imds_parse(const struct buf *body, struct aws_creds *out,
                            char *why, size_t why_size, struct err *e)
{
    json_error_t jerr;   /* unused: its text may quote the document */
    json_t *root = json_loadb(buf_str(body), body->len, 0, &jerr);
    const char *code, *id, *secret;
    int rc = 0;
    code = json_string_value(json_object_get(root, "Code"));
    id = json_string_value(json_object_get(root, "AccessKeyId"));
    secret = json_string_value(json_object_get(root, "SecretAccessKey"));
    if (code && strcmp(code, "Success") != 0)
        snprintf(why, why_size, "role credentials: Code %.40s", code);
    else if (!id || !*id || !secret || !*secret)
        snprintf(why, why_size, "role credentials: no AccessKeyId or "
                 "SecretAccessKey");
    else
        rc = creds_set(out, id, secret,
                       json_string_value(json_object_get(root, "Token")),
                       "imds", e) ? -1 : 1;
    creds_json_wipe(root, "SecretAccessKey");
    creds_json_wipe(root, "Token");
    json_decref(root);
    return rc;
}

static int creds_imds_fetch(struct creds_imds *m, struct aws_creds *out,
                            char *why, size_t why_size, struct err *e)
{
    struct buf auth = BUF_INIT, path = BUF_INIT, body = BUF_INIT;
    int rc = 0;
    if (creds_imds_token(m, &auth, why, why_size) == 0 &&
        creds_imds_role(m, &auth, &path, why, why_size) == 0 &&
        creds_imds_call(m, 0, buf_str(&path), buf_str(&auth), &body,
                        why, why_size) == 0)
        rc = creds_imds_parse(&body, out, why, why_size, e);
    buf_release_secret(&auth);
    buf_release(&path);
    buf_release_secret(&body);
    return rc;
}

/* 1 with out filled, 0 with why filled, -1 on a bad endpoint variable. */
static int creds_from_imds(struct aws_creds *out, char *why, size_t why_size,
                           struct err *e)
{
    const char *off = creds_env("AWS_EC2_METADATA_DISABLED");
    struct creds_imds m;
    int rc;
    if (off && strcasecmp(off, "true") == 0) {
        snprintf(why, why_size, "disabled by AWS_EC2_METADATA_DISABLED");
        return 0;
    }
    if (creds_imds_open(&m, e) < 0)
        rc = -1;
    else
        rc = creds_imds_fetch(&m, out, why, why_size, e);
    http_engine_release(&m.http);
    return rc;
}

/* ---- the chain ---------------------------------------------------------- */

int aws_creds_resolve(const char *profile, struct aws_creds *out,
                      struct err *e)
{
    struct creds_files files;
    char imds_why[512] = "";
    int is_explicit, rc;
    rc = creds_from_env(out, e);
    if (rc != 0)
        return rc < 0 ? -1 : 0;
    files.profile = creds_profile_name(profile, &is_explicit);
    rc = creds_from_files(&files, is_explicit, out, e);
    if (rc == 0)
        rc = creds_from_imds(out, imds_why, sizeof(imds_why), e);
    if (rc == 0)
        rc = err_set(e, ERR_FAILED, "no AWS credentials found; tried the "
                     "environment (AWS_ACCESS_KEY_ID), profile \"%.100s\" in "
                     "%s and %s, and the EC2 instance metadata service (%s)",
                     files.profile, creds_path_or(files.cred_path),
                     creds_path_or(files.config_path), imds_why);
    creds_files_release(&files);
    return rc < 0 ? -1 : 0;
}

/* ---- the profile's region ------------------------------------------------ */

int aws_profile_region(const char *profile, char *out, size_t size, char *what,
                       size_t what_size, struct err *e)
{
    struct creds_files files;
    int is_explicit, rc;
    rc = creds_files_load(&files, creds_profile_name(profile, &is_explicit), 0, e);
    if (rc == 0 && !files.config.region)
        rc = 1;
    if (rc == 0) {
        snprintf(what, what_size, "%s [%.100s]", files.config_path, files.profile);
        snprintf(out, size, "%s", files.config.region);
    }
    creds_files_release(&files);
    return rc;
}
