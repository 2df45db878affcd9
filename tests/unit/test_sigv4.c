/* Runs AWS's own SigV4 test suites (the shared tree's testdata/sigv4: the
 * current aws-c-auth v4 suite, header and presigned-query signing, and the
 * 2015 legacy suite) through aws/sigv4.c, comparing canonical request,
 * string to sign, signature and the signed result byte for byte. */
#include "aws/sigv4.h"
#include "tests/unit/t.h"

#include <dirent.h>
#include <jansson.h>
#include <sys/stat.h>

#define T_MAX_HEADERS 32
#define T_V4_CASES 38       /* README.txt of the test data */
#define T_LEGACY_CASES 34
#define T_LEGACY_DIR "legacy-aws4_testsuite"

/* A parsed request.txt / .req, cut in place inside text (owned). */
struct t_http {
    char *text;
    size_t len;
    char *method, *path, *query;
    struct sigv4_header h[T_MAX_HEADERS];
    size_t n;
    const char *body;
    size_t body_len;
};

/* One case's signing context (context.json, or the legacy constants). */
struct t_ctx {
    json_t *root;                     /* owns the strings below */
    const char *ak, *sk, *token, *region, *service;
    time_t when;
    json_int_t expires;
    int normalize, sign_body, omit_token;
};

static int t_v4_found, t_legacy_found;

/* ---- files ---- */

/* a + sep + b into out; -1 when it does not fit. */
static int t_join(char *out, size_t size, const char *a, const char *sep,
                  const char *b)
{
    int n = snprintf(out, size, "%s%s%s", a, sep, b);
    return n >= 0 && (size_t)n < size ? 0 : -1;
}

static char *t_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *data = NULL;
    size_t n = 0, cap = 0, got;
    if (!f)
        return NULL;
    do {
        char *p;
        if (n + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 8192;
            p = realloc(data, cap);
            if (!p)
                break;
            data = p;
        }
        got = fread(data + n, 1, cap - n - 1, f);
        n += got;
    } while (got > 0);
    fclose(f);
    if (data)
        data[n] = '\0';
    if (len)
        *len = n;
    return data;
}

static char *t_read(const char *dir, const char *file, size_t *len)
{
    char path[4096];
    if (t_join(path, sizeof(path), dir, "/", file) < 0)
        return NULL;
    return t_slurp(path, len);
}

static int t_exists(const char *dir, const char *file)
{
    char path[4096];
    struct stat sb;
    return t_join(path, sizeof(path), dir, "/", file) == 0 &&
           stat(path, &sb) == 0;
}

/* Compares got with the whole of dir/file. */
static void t_check_file(const char *name, const char *got, const char *dir,
                         const char *file)
{
    char *want = t_read(dir, file, NULL);
    if (!want)
        T_OK(name, 0, "cannot read %s/%s", dir, file);
    else
        T_STREQ(name, got, want);
    free(want);
}

/* ---- request parsing (HTTP/1.1 as the suites write it: bare LF) ---- */

/* "METHOD target HTTP/1.1": the target may hold spaces (get-space), so it
 * runs from the first space to the last. */
static int t_parse_request_line(char *line, struct t_http *r)
{
    char *sp1 = strchr(line, ' '), *sp2 = strrchr(line, ' ');
    if (!sp1 || sp2 == sp1)
        return -1;
    *sp1 = *sp2 = '\0';
    r->method = line;
    r->path = sp1 + 1;
    r->query = strchr(r->path, '?');
    if (r->query)
        *r->query++ = '\0';
    return 0;
}

/* End of the header starting at p: continuation lines (leading SP/HT,
 * obs-fold) stay in the value, newlines included, for the signer to fold. */
static char *t_header_end(char *p)
{
    char *nl = strchr(p, '\n');
    while (nl && (nl[1] == ' ' || nl[1] == '\t'))
        nl = strchr(nl + 1, '\n');
    return nl ? nl : p + strlen(p);
}

static int t_add_header(struct t_http *r, const char *name, const char *value)
{
    if (r->n == T_MAX_HEADERS)
        return -1;
    r->h[r->n].name = name;
    r->h[r->n].value = value;
    r->n++;
    return 0;
}

static int t_parse_headers(char *p, struct t_http *r)
{
    while (*p && *p != '\n') {
        char *end = t_header_end(p), *colon = strchr(p, ':');
        int last = *end == '\0';
        if (!colon || colon > end)
            return -1;
        *colon = *end = '\0';
        if (t_add_header(r, p, colon + 1) < 0)
            return -1;
        p = last ? end : end + 1;
    }
    if (*p == '\n') {      /* the blank line; the rest is the body */
        r->body = p + 1;
        r->body_len = r->len - (size_t)(r->body - r->text);
    }
    return 0;
}

/* Reads and parses dir/file into r (r->text owned; see t_http_free). */
static int t_http_load(const char *dir, const char *file, struct t_http *r)
{
    char *nl;
    memset(r, 0, sizeof(*r));
    r->text = t_read(dir, file, &r->len);
    if (!r->text || !(nl = strchr(r->text, '\n')))
        return -1;
    *nl = '\0';
    r->body = "";
    if (t_parse_request_line(r->text, r) < 0)
        return -1;
    return t_parse_headers(nl + 1, r);
}

static void t_http_free(struct t_http *r)
{
    free(r->text);
}

static const char *t_header(const struct t_http *r, const char *name)
{
    for (size_t i = 0; i < r->n; i++)
        if (!strcmp(r->h[i].name, name))
            return r->h[i].value;
    return NULL;
}

static struct sigv4_request t_request(const struct t_http *r)
{
    struct sigv4_request req = { r->method, r->path, r->query, r->h, r->n,
                                 r->body, r->body_len, NULL };
    return req;
}

/* ---- contexts ---- */

static int t_parse_time(const char *s, time_t *out)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ", &tm.tm_year, &tm.tm_mon,
               &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    *out = timegm(&tm);
    return 0;
}

static int t_ctx_load(const char *dir, struct t_ctx *c)
{
    char path[4096];
    const char *ts = NULL;
    json_error_t je;
    memset(c, 0, sizeof(*c));
    if (t_join(path, sizeof(path), dir, "/", "context.json") < 0)
        return -1;
    c->root = json_load_file(path, 0, &je);
    if (!c->root)
        return -1;
    if (json_unpack(c->root, "{s:{s:s,s:s,s?s},s:I,s:b,s:s,s:s,s:b,s:s,s?b}",
                    "credentials", "access_key_id", &c->ak,
                    "secret_access_key", &c->sk, "token", &c->token,
                    "expiration_in_seconds", &c->expires, "normalize",
                    &c->normalize, "region", &c->region, "service",
                    &c->service, "sign_body", &c->sign_body, "timestamp", &ts,
                    "omit_session_token", &c->omit_token) < 0)
        return -1;
    return t_parse_time(ts, &c->when);
}

static struct sigv4_params t_params(const struct t_ctx *c)
{
    struct sigv4_params p;
    memset(&p, 0, sizeof(p));
    p.access_key = c->ak;
    p.secret_key = c->sk;
    p.region = c->region;
    p.service = c->service;
    p.when = c->when;
    /* The suite's normalize=false cases are S3's path rules ("S3 style",
     * README.txt); none of their paths holds a '%', so the single vs double
     * encoding half of those rules does not change their answers. */
    p.s3_path_rules = !c->normalize;
    return p;
}

/* ---- the checks ---- */

static void t_name(char *out, size_t size, const char *a, const char *b)
{
    snprintf(out, size, "sigv4/%s/%s", a, b);
}

/* Compares the stages with the expected files; sig_f is NULL for the
 * legacy suite, whose signature is checked inside its .authz. */
static void t_check_stages(const char *tname, const char *dir,
                           const struct sigv4_state *st, const char *creq_f,
                           const char *sts_f, const char *sig_f)
{
    char name[1024];
    t_name(name, sizeof(name), tname, "canonical-request");
    t_check_file(name, buf_str(&st->canonical_request), dir, creq_f);
    t_name(name, sizeof(name), tname, "string-to-sign");
    t_check_file(name, buf_str(&st->string_to_sign), dir, sts_f);
    if (sig_f) {
        t_name(name, sizeof(name), tname, "signature");
        t_check_file(name, st->signature, dir, sig_f);
    }
}

/* Compares got with one part of <mode>-signed-request.txt: the
 * Authorization header (header signing) or the query (query signing). */
static void t_check_signed(const char *tname, const char *what,
                           const char *dir, const char *mode, const char *got)
{
    char name[1024], file[64];
    struct t_http want;
    int is_query = !strcmp(mode, "query");
    t_name(name, sizeof(name), tname, what);
    t_join(file, sizeof(file), mode, "", "-signed-request.txt");
    if (t_http_load(dir, file, &want) < 0)
        T_OK(name, 0, "cannot parse %s/%s", dir, file);
    else
        T_STREQ(name, got,
                is_query ? want.query : t_header(&want, "Authorization"));
    t_http_free(&want);
}

static int t_sign_ok(const char *tname, int rc, const struct err *e)
{
    char name[1024];
    t_name(name, sizeof(name), tname, "sign");
    T_OK(name, rc == 0, "%s", e->msg);
    return rc == 0;
}

/* Header signing: the caller adds X-Amz-Date (and, as the context says,
 * the session token and x-amz-content-sha256) to the headers it signs. */
static void t_v4_header(const char *cname, const char *dir,
                        const struct t_ctx *c, struct t_http *r)
{
    char tname[512], date[17], body_hash[65];
    struct sigv4_params p = t_params(c);
    struct sigv4_state st;
    struct sigv4_request req;
    struct err e;
    size_t n0 = r->n;
    snprintf(tname, sizeof(tname), "%s/header", cname);
    sigv4_amz_date(c->when, date);
    sigv4_sha256_hex(r->body, r->body_len, body_hash);
    t_add_header(r, "X-Amz-Date", date);
    if (c->token && !c->omit_token)
        t_add_header(r, "X-Amz-Security-Token", c->token);
    if (c->sign_body)
        t_add_header(r, "X-Amz-Content-Sha256", body_hash);
    req = t_request(r);
    sigv4_state_init(&st);
    err_init(&e);
    if (t_sign_ok(tname, sigv4_sign(&req, &p, &st, &e), &e)) {
        t_check_stages(tname, dir, &st, "header-canonical-request.txt",
                       "header-string-to-sign.txt", "header-signature.txt");
        t_check_signed(tname, "authorization", dir, "header",
                       buf_str(&st.authorization));
    }
    sigv4_state_release(&st);
    r->n = n0;
}

/* Query signing: the signed query must equal the one in the signed request
 * (same parameter order: the request's own, then the auth parameters). */
static void t_v4_query(const char *cname, const char *dir,
                       const struct t_ctx *c, const struct t_http *r)
{
    char tname[512];
    struct sigv4_params p = t_params(c);
    struct sigv4_request req = t_request(r);
    struct sigv4_state st;
    struct buf out = BUF_INIT;
    struct err e;
    int rc;
    snprintf(tname, sizeof(tname), "%s/query", cname);
    p.session_token = c->token;
    p.session_token_unsigned = c->omit_token;
    sigv4_state_init(&st);
    err_init(&e);
    rc = sigv4_presign_query(&req, &p, (long)c->expires, &st, &out, &e);
    if (t_sign_ok(tname, rc, &e)) {
        t_check_stages(tname, dir, &st, "query-canonical-request.txt",
                       "query-string-to-sign.txt", "query-signature.txt");
        t_check_signed(tname, "signed-query", dir, "query", buf_str(&out));
    }
    buf_release(&out);
    sigv4_state_release(&st);
}

static void t_v4_case(const char *cname, const char *dir)
{
    struct t_ctx c;
    struct t_http r;
    char name[1024];
    memset(&r, 0, sizeof(r));
    t_v4_found++;
    t_name(name, sizeof(name), cname, "load");
    if (t_ctx_load(dir, &c) < 0 || t_http_load(dir, "request.txt", &r) < 0) {
        T_OK(name, 0, "cannot read context.json or request.txt in %s", dir);
    } else {
        t_v4_header(cname, dir, &c, &r);
        t_v4_query(cname, dir, &c, &r);
    }
    t_http_free(&r);
    json_decref(c.root);
}

/* The 2015 suite has no context files. Its constants (README.txt, from
 * botocore's test_sigv4.py) are fixed; the session token of
 * get-vanilla-with-session-token, which its .req lacks but its .creq signs,
 * is the one its namesake in the current suite carries in context.json. */
static void t_legacy_ctx(const char *root, const char *base, struct t_ctx *c)
{
    char dir[4096];
    struct t_ctx v4;
    memset(&v4, 0, sizeof(v4));
    memset(c, 0, sizeof(*c));
    c->ak = "AKIDEXAMPLE";
    c->sk = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    c->region = "us-east-1";
    c->service = "service";
    c->normalize = 1;   /* normalize-path/ included: that suite normalizes */
    t_parse_time("2015-08-30T12:36:00Z", &c->when);
    if (t_join(dir, sizeof(dir), root, "/", base) == 0 &&
        t_ctx_load(dir, &v4) == 0 && v4.token && !v4.omit_token)
        c->root = v4.root, c->token = v4.token;
    else
        json_decref(v4.root);
}

static void t_legacy_case(const char *root, const char *cname,
                          const char *dir, const char *base)
{
    char f[4][512], name[1024];
    struct sigv4_params p;
    struct sigv4_state st;
    struct sigv4_request req;
    struct t_http r;
    struct t_ctx c;
    struct err e;
    const char *ext[4] = { "req", "creq", "sts", "authz" };
    t_legacy_found++;
    for (int i = 0; i < 4; i++)
        t_join(f[i], sizeof(f[i]), base, ".", ext[i]);
    t_legacy_ctx(root, base, &c);
    p = t_params(&c);
    sigv4_state_init(&st);
    err_init(&e);
    t_name(name, sizeof(name), cname, "load");
    if (t_http_load(dir, f[0], &r) < 0) {
        T_OK(name, 0, "cannot parse %s/%s", dir, f[0]);
    } else {
        if (c.token && !t_header(&r, "X-Amz-Security-Token"))
            t_add_header(&r, "X-Amz-Security-Token", c.token);
        req = t_request(&r);
        if (t_sign_ok(cname, sigv4_sign(&req, &p, &st, &e), &e)) {
            t_check_stages(cname, dir, &st, f[1], f[2], NULL);
            t_name(name, sizeof(name), cname, "authorization");
            t_check_file(name, buf_str(&st.authorization), dir, f[3]);
        }
    }
    t_http_free(&r);
    sigv4_state_release(&st);
    json_decref(c.root);
}

/* ---- walking the suites ---- */

static int t_is_dir(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* Visits every directory under root (sorted, so the output is stable):
 * one holding context.json is a current-suite case, one holding
 * <name>/<name>.req a legacy case. */
static void t_walk(const char *root, const char *rel)
{
    char dir[4096], path[4096], req[512];
    const char *base;
    struct dirent **ents;
    int n;
    if (t_join(dir, sizeof(dir), root, *rel ? "/" : "", rel) < 0) {
        T_OK("sigv4/walk", 0, "path too long under %s", root);
        return;
    }
    base = strrchr(dir, '/') + 1;
    t_join(req, sizeof(req), base, "", ".req");
    if (t_exists(dir, "context.json"))
        t_v4_case(rel, dir);
    else if (*rel && t_exists(dir, req))
        t_legacy_case(root, rel, dir, base);
    n = scandir(dir, &ents, NULL, alphasort);
    for (int i = 0; i < n; i++) {
        const char *d = ents[i]->d_name;
        if (d[0] != '.' && t_join(path, sizeof(path), dir, "/", d) == 0 &&
            t_is_dir(path) &&
            t_join(path, sizeof(path), rel, *rel ? "/" : "", d) == 0)
            t_walk(root, path);
        free(ents[i]);
    }
    if (n >= 0)
        free(ents);
}

/* env PAASCTL_SHARED, else $PAASCTL_ROOT/../shared, else ../shared. */
static void t_suite_dir(char *out, size_t size)
{
    const char *shared = getenv("PAASCTL_SHARED");
    const char *root = getenv("PAASCTL_ROOT");
    if (shared && *shared)
        snprintf(out, size, "%s/testdata/sigv4", shared);
    else if (root && *root)
        snprintf(out, size, "%s/../shared/testdata/sigv4", root);
    else
        snprintf(out, size, "../shared/testdata/sigv4");
}

/* ---- rules the suites do not reach ---- */

/* Builds the canonical request of a GET with only a host header and
 * compares its path and query lines, as "path\nquery", with want. */
static void t_canon(const char *name, const char *path, const char *query,
                    int s3, const char *want)
{
    struct sigv4_header h = { "Host", "example.amazonaws.com" };
    struct sigv4_request req = { "GET", path, query, &h, 1, NULL, 0, NULL };
    struct sigv4_params p = { .access_key = "AKIDEXAMPLE", .secret_key = "secret",
                              .region = "us-east-1", .service = "service",
                              .when = 1440938160, .s3_path_rules = s3 };
    struct sigv4_state st;
    struct err e;
    sigv4_state_init(&st);
    err_init(&e);
    if (sigv4_canonical_request(&req, &p, &st, &e) < 0) {
        T_OK(name, 0, "%s", e.msg);
    } else {
        const char *s = strchr(buf_str(&st.canonical_request), '\n') + 1;
        const char *end = strchr(strchr(s, '\n') + 1, '\n');
        char got[512];
        snprintf(got, sizeof(got), "%.*s", (int)(end - s), s);
        T_STREQ(name, got, want);
    }
    sigv4_state_release(&st);
}

static void t_rules(void)
{
    t_canon("sigv4/rules/double-encoding", "/a%20b/c d/$", NULL, 0,
            "/a%2520b/c%20d/%24\n");
    t_canon("sigv4/rules/s3-encodes-once", "/a%20b/c d/%2f%41", NULL, 1,
            "/a%20b/c%20d/%2FA\n");
    t_canon("sigv4/rules/s3-keeps-dots-and-slashes",
            "/b/my-object//example//photo.user/./..", NULL, 1,
            "/b/my-object//example//photo.user/./..\n");
    t_canon("sigv4/rules/normalize-trailing-dotdot", "/a/b/c/..", NULL, 0,
            "/a/b/\n");
    t_canon("sigv4/rules/query-raw-and-encoded-agree", "/", "k=a b&j=a%20b", 0,
            "/\nj=a%20b&k=a%20b");
    t_canon("sigv4/rules/query-plus-is-literal", "/", "k=a+b", 0, "/\nk=a%2Bb");
    t_canon("sigv4/rules/query-key-without-value", "/", "b=2&a&&c=", 0,
            "/\na=&b=2&c=");
    t_canon("sigv4/rules/query-key-sorts-before-value", "/", "a-b=1&a=2", 0,
            "/\na=2&a-b=1");
}

static void t_errors(void)
{
    struct sigv4_header h = { "Host", "example.amazonaws.com" };
    struct sigv4_request req = { "GET", "/", NULL, &h, 1, NULL, 0, NULL };
    struct sigv4_params p = { .access_key = "AKIDEXAMPLE",
                              .secret_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                              .session_token = "tok", .region = "us-east-1",
                              .service = "service", .when = 1440938160 };
    struct sigv4_state st;
    struct buf out = BUF_INIT;
    struct err e;
    sigv4_state_init(&st);
    err_init(&e);
    T_OK("sigv4/errors/presign-expiry-range",
         sigv4_presign_query(&req, &p, 604801, &st, &out, &e) < 0 &&
         e.kind == ERR_USAGE && out.len == 0, "kind %d", (int)e.kind);
    req.n_headers = 0;
    T_OK("sigv4/errors/no-headers", sigv4_sign(&req, &p, &st, &e) < 0 &&
         e.kind == ERR_USAGE, "kind %d", (int)e.kind);
    req.n_headers = 1;
    req.path = "no-slash";
    T_OK("sigv4/errors/relative-path", sigv4_sign(&req, &p, &st, &e) < 0,
         "signed a path without '/'");
    req.path = "/";
    T_OK("sigv4/sign-ok", sigv4_sign(&req, &p, &st, &e) == 0, "%s", e.msg);
    T_OK("sigv4/secret-not-in-state",
         !strstr(buf_str(&st.canonical_request), p.secret_key) &&
         !strstr(buf_str(&st.string_to_sign), p.secret_key) &&
         !strstr(buf_str(&st.authorization), p.secret_key),
         "the secret key leaked into the signing state");
    buf_release(&out);
    sigv4_state_release(&st);
}

int main(void)
{
    char dir[4096];
    t_suite_dir(dir, sizeof(dir));
    T_OK("sigv4/testdata-present", t_is_dir(dir), "no test data at %s", dir);
    if (t_is_dir(dir))
        t_walk(dir, "");
    T_INTEQ("sigv4/v4-cases-found", t_v4_found, T_V4_CASES);
    T_INTEQ("sigv4/legacy-cases-found", t_legacy_found, T_LEGACY_CASES);
    t_rules();
    t_errors();
    return t_done();
}
