/* AWS credentials chain, region and endpoints (SPEC.md "AWS conventions"):
 * environment, then the shared files (read with inih), then IMDSv2; the
 * region from config/env/profile; per-partition endpoints, overridable. */
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

#define CREDS_PATH_MAX 4096
#define CREDS_IMDS_DEFAULT "http://169.254.169.254"
#define CREDS_IMDS_TOKEN_PATH "/latest/api/token"
#define CREDS_IMDS_ROLES_PATH "/latest/meta-data/iam/security-credentials/"
#define CREDS_IMDS_MAX_BODY 65536
#define CREDS_NO_REGION \
    "no AWS region: set [paas] region, AWS_REGION or a profile region"
/* Stands in, for inih, for the value of an over-long line (creds_ini_read). */
#define CREDS_LONG_MARK "\x1f"

/* ---- small helpers ------------------------------------------------------ */

/* An environment variable, NULL when unset or empty (empty means unset for
 * every AWS SDK). */
static const char *creds_env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
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

/* ---- endpoint URLs (shared by IMDS and the service endpoints) ------------ */

static int creds_url_has(CURLU *u, CURLUPart part)
{
    char *v = NULL;
    int has = curl_url_get(u, part, &v, 0) == CURLUE_OK && v && *v;
    curl_free(v);
    return has;
}

/* Why url is not "http(s)://host[:port]", or NULL when it is. */
static const char *creds_url_problem(const char *url)
{
    const char *why = NULL;
    char *scheme = NULL, *path = NULL;
    CURLU *u;
    if (!strstr(url, "://"))
        return "no http:// or https://";
    u = curl_url();
    if (!u)
        return "out of memory";
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK)
        why = "unparsable";
    else if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
             (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0))
        why = "scheme is not http or https";
    else if (!creds_url_has(u, CURLUPART_HOST))
        why = "no host";
    else if (creds_url_has(u, CURLUPART_USER))
        why = "user info is not allowed";
    else if (creds_url_has(u, CURLUPART_QUERY) ||
             creds_url_has(u, CURLUPART_FRAGMENT))
        why = "a query or fragment is not allowed";
    else if (curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK ||
             strcmp(path, "/") != 0)
        why = "a path is not allowed";
    curl_free(scheme);
    curl_free(path);
    curl_url_cleanup(u);
    return why;
}

/* Copies url without trailing slashes into out, after checking it. The
 * message names where the URL came from but not the URL, which may carry
 * user:password. */
static int creds_url_set(char *out, size_t size, const char *url,
                         const char *what, struct err *e)
{
    size_t n = strlen(url);
    const char *why;
    while (n > 0 && url[n - 1] == '/')
        n--;
    if (n >= size) {
        why = "too long";
    } else {
        memcpy(out, url, n);
        out[n] = '\0';
        why = creds_url_problem(out);
    }
    if (!why)
        return 0;
    out[0] = '\0';
    return err_set(e, ERR_USAGE, "%s: bad endpoint URL (%s); want "
                   "http(s)://host[:port]", what, why);
}

/* ---- source 3: IMDSv2 --------------------------------------------------- */

struct creds_imds {
    CURL *curl;
    char base[512];
    char errbuf[CURL_ERROR_SIZE];
};

static size_t creds_imds_write(char *data, size_t size, size_t n, void *user)
{
    struct buf *b = user;
    size_t total = size * n;
    if (total > CREDS_IMDS_MAX_BODY - b->len)
        return 0;
    buf_add(b, data, total);
    return b->failed ? 0 : total;
}

static int creds_imds_open(struct creds_imds *m, struct err *e)
{
    const char *env = creds_env("AWS_EC2_METADATA_SERVICE_ENDPOINT");
    memset(m, 0, sizeof(*m));
    if (creds_url_set(m->base, sizeof(m->base), env ? env : CREDS_IMDS_DEFAULT,
                      "AWS_EC2_METADATA_SERVICE_ENDPOINT", e))
        return -1;
    m->curl = curl_easy_init();
    if (!m->curl)
        return err_set(e, ERR_FAILED, "cannot start libcurl");
    /* Fail fast off EC2; never through a proxy (the link-local service is
     * not reachable that way, and the proxy would see the credentials). */
    curl_easy_setopt(m->curl, CURLOPT_CONNECTTIMEOUT_MS, 1000L);
    curl_easy_setopt(m->curl, CURLOPT_TIMEOUT_MS, 2000L);
    curl_easy_setopt(m->curl, CURLOPT_PROXY, "");
    curl_easy_setopt(m->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(m->curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(m->curl, CURLOPT_ERRORBUFFER, m->errbuf);
    curl_easy_setopt(m->curl, CURLOPT_WRITEFUNCTION, creds_imds_write);
    return 0;
}

/* Frees a header list after wiping it: it may carry the IMDS token. */
static void creds_slist_free_wiped(struct curl_slist *list)
{
    for (struct curl_slist *h = list; h; h = h->next)
        explicit_bzero(h->data, strlen(h->data));
    curl_slist_free_all(list);
}

/* One exchange (PUT when put, else GET) with one header; 0 on HTTP 200 with
 * body filled, else -1 with why filled. */
static int creds_imds_call(struct creds_imds *m, int put, const char *path,
                           const char *header, struct buf *body,
                           char *why, size_t why_size)
{
    char url[1024];
    long status = 0;
    CURLcode rc;
    struct curl_slist *hdrs = curl_slist_append(NULL, header);
    if (hdrs && put)
        hdrs = curl_slist_append(hdrs, "Content-Length: 0");
    if (!hdrs) {
        snprintf(why, why_size, "out of memory");
        return -1;
    }
    snprintf(url, sizeof(url), "%s%s", m->base, path);
    buf_reset(body);
    m->errbuf[0] = '\0';
    curl_easy_setopt(m->curl, CURLOPT_URL, url);
    curl_easy_setopt(m->curl, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(m->curl, CURLOPT_CUSTOMREQUEST, put ? "PUT" : NULL);
    curl_easy_setopt(m->curl, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(m->curl, CURLOPT_WRITEDATA, body);
    rc = curl_easy_perform(m->curl);
    curl_easy_setopt(m->curl, CURLOPT_HTTPHEADER, NULL);
    creds_slist_free_wiped(hdrs);
    if (rc == CURLE_OK)
        curl_easy_getinfo(m->curl, CURLINFO_RESPONSE_CODE, &status);
    if (rc == CURLE_OK && status == 200)
        return 0;
    if (rc != CURLE_OK)
        snprintf(why, why_size, "%.300s: %.180s", url,
                 m->errbuf[0] ? m->errbuf : curl_easy_strerror(rc));
    else
        snprintf(why, why_size, "%.300s: HTTP %ld", url, status);
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
    if (creds_imds_open(&m, e))
        return -1;
    rc = creds_imds_fetch(&m, out, why, why_size, e);
    curl_easy_cleanup(m.curl);
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

/* ---- region ------------------------------------------------------------- */

/* Region names go into hostnames, so only [a-z0-9-] passes. */
static int creds_region_copy(const char *region, const char *what,
                             char *out, size_t size, struct err *e)
{
    size_t n = strlen(region);
    if (n == 0 || n > 31 ||
        !creds_all_in(region, n, "abcdefghijklmnopqrstuvwxyz0123456789-"))
        return err_set(e, ERR_USAGE, "%s: \"%.40s\" is not an AWS region name",
                       what, region);
    if (n >= size)
        return err_set(e, ERR_USAGE, "%s: region name too long", what);
    memcpy(out, region, n + 1);
    return 0;
}

int aws_region_resolve(const char *cfg_region, const char *profile,
                       char *out, size_t size, struct err *e)
{
    static const char *const env_vars[] = {
        "AWS_REGION", "AWS_DEFAULT_REGION",
    };
    struct creds_files files;
    char what[CREDS_PATH_MAX + 128];
    int is_explicit, rc;
    if (cfg_region && *cfg_region)
        return creds_region_copy(cfg_region, "[paas] region", out, size, e);
    for (size_t i = 0; i < sizeof(env_vars) / sizeof(*env_vars); i++)
        if (creds_env(env_vars[i]))
            return creds_region_copy(creds_env(env_vars[i]), env_vars[i],
                                     out, size, e);
    /* Read only now: a broken config file must not matter when env decides. */
    rc = creds_files_load(&files, creds_profile_name(profile, &is_explicit),
                          0, e);
    if (rc == 0 && !files.config.region)
        rc = err_set(e, ERR_USAGE, CREDS_NO_REGION);
    if (rc == 0) {
        snprintf(what, sizeof(what), "%s [%.100s]", files.config_path,
                 files.profile);
        rc = creds_region_copy(files.config.region, what, out, size, e);
    }
    creds_files_release(&files);
    return rc;
}

/* ---- endpoints ---------------------------------------------------------- */

static const struct creds_service {
    const char *env;            /* AWS_ENDPOINT_URL_<env> */
    const char *signing_name;   /* also the first label of its hostname */
} creds_services[AWS_N_SERVICES] = {
    [AWS_EC2] = { "EC2", "ec2" },
    [AWS_ELB] = { "ELASTIC_LOAD_BALANCING", "elasticloadbalancing" },
    [AWS_S3] = { "S3", "s3" },
    [AWS_ROUTE53] = { "ROUTE_53", "route53" },
    [AWS_STS] = { "STS", "sts" },
    [AWS_IAM] = { "IAM", "iam" },
};

/* Partitions by region prefix; the last one catches every other region.
 * Global services live in one region of each (botocore's endpoints.json). */
static const struct creds_partition {
    const char *prefix;
    const char *dns_suffix;
    const char *route53_url, *route53_region;
    const char *iam_url, *iam_region;
} creds_partitions[] = {
    { "cn-", "amazonaws.com.cn",
      "https://route53.amazonaws.com.cn", "cn-northwest-1",
      "https://iam.cn-north-1.amazonaws.com.cn", "cn-north-1" },
    { "us-gov-", "amazonaws.com",
      "https://route53.us-gov.amazonaws.com", "us-gov-west-1",
      "https://iam.us-gov.amazonaws.com", "us-gov-west-1" },
    { "", "amazonaws.com",
      "https://route53.amazonaws.com", "us-east-1",
      "https://iam.amazonaws.com", "us-east-1" },
};

static const struct creds_partition *creds_partition_of(const char *region)
{
    size_t i = 0;
    while (strncmp(region, creds_partitions[i].prefix,
                   strlen(creds_partitions[i].prefix)) != 0)
        i++;
    return &creds_partitions[i];
}

const char *aws_service_signing_name(enum aws_service svc)
{
    return (unsigned)svc < AWS_N_SERVICES ? creds_services[svc].signing_name
                                          : NULL;
}

/* Fills signing_region, and url unless overridden later. */
static int creds_endpoint_real(enum aws_service svc, const char *region,
                               struct aws_endpoint *out, struct err *e)
{
    const struct creds_partition *part =
        creds_partition_of(region ? region : "");
    const char *url = NULL, *sign = region;
    if (region && creds_region_copy(region, "region", out->signing_region,
                                    sizeof(out->signing_region), e))
        return -1;
    if (svc == AWS_ROUTE53) {
        url = part->route53_url;
        sign = part->route53_region;
    } else if (svc == AWS_IAM) {
        url = part->iam_url;
        sign = part->iam_region;
    }
    if (!sign)
        return err_set(e, ERR_USAGE, CREDS_NO_REGION);
    snprintf(out->signing_region, sizeof(out->signing_region), "%s", sign);
    if (url)
        snprintf(out->url, sizeof(out->url), "%s", url);
    else
        snprintf(out->url, sizeof(out->url), "https://%s.%s.%s",
                 out->signing_name, region, part->dns_suffix);
    return 0;
}

int aws_endpoint_resolve(enum aws_service svc, const char *region,
                         const char *cfg_endpoint, struct aws_endpoint *out,
                         struct err *e)
{
    char var[64];
    const char *url, *what;
    memset(out, 0, sizeof(*out));
    if ((unsigned)svc >= AWS_N_SERVICES)
        return err_set(e, ERR_FAILED, "unknown AWS service %d", (int)svc);
    out->signing_name = creds_services[svc].signing_name;
    if (creds_endpoint_real(svc, region && *region ? region : NULL, out, e))
        return -1;
    snprintf(var, sizeof(var), "AWS_ENDPOINT_URL_%s", creds_services[svc].env);
    what = var;
    url = creds_env(var);
    if (!url && (url = creds_env("AWS_ENDPOINT_URL")))
        what = "AWS_ENDPOINT_URL";
    if (!url && cfg_endpoint && *cfg_endpoint) {
        what = "[paas] endpoint";
        url = cfg_endpoint;
    }
    if (!url)
        return 0;
    out->overridden = 1;
    return creds_url_set(out->url, sizeof(out->url), url, what, e);
}
