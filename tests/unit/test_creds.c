/* Unit tests for aws/creds.c (SPEC.md "AWS conventions"): the credentials
 * chain over the environment, temporary shared files and an IMDSv2 stub
 * (tests/lib/imds_stub.py on loopback), region precedence and endpoints. */
#include "aws/creds.h"
#include "tests/unit/t.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

static char t_dir[64];          /* mkdtemp root, removed at exit */
static pid_t t_stub_pid = -1;   /* the IMDS stub, stopped at exit */

static const char *const t_aws_vars[] = {
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "AWS_PROFILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE",
    "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_EC2", "AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING",
    "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_ROUTE_53", "AWS_ENDPOINT_URL_STS",
    "AWS_ENDPOINT_URL_IAM", "AWS_EC2_METADATA_SERVICE_ENDPOINT",
    "AWS_EC2_METADATA_DISABLED",
};

/* ---- fixtures ----------------------------------------------------------- */

static const char t_credentials[] =
    "# credentials for the tests\n"
    "; a semicolon comment\n"
    "[default]\n"
    "aws_access_key_id = AKIADEFAULTFILE\n"
    "aws_secret_access_key = defaultFileSecret\n"
    "\n"
    "[prod]\n"
    "aws_access_key_id=AKIAPRODFILE\n"
    "aws_secret_access_key=prodFileSecret ; inline comment\n"
    "aws_session_token = prodFileToken\n"
    "\n"
    "[both]\n"
    "aws_access_key_id = AKIABOTHCRED\n"
    "aws_secret_access_key = bothCredSecret\n"
    "\n"
    "[half]\n"
    "aws_access_key_id = AKIAHALF\n";

static const char t_config[] =
    "[default]\n"
    "region = eu-west-1\n"
    "\n"
    "[profile cfgonly]\n"
    "aws_access_key_id = AKIACFGONLY\n"
    "aws_secret_access_key = cfgOnlySecret\n"
    "region = ap-southeast-2\n"
    "s3 =\n"
    "  addressing_style = path\n"
    "\n"
    "[profile  both ]\n"
    "aws_access_key_id = AKIABOTHCONFIG\n"
    "aws_secret_access_key = bothConfigSecret\n"
    "\n"
    "[profile assumer]\n"
    "role_arn = arn:aws:iam::123456789012:role/deploy\n"
    "source_profile = default\n"
    "\n"
    "# a bare section in the config file is not a profile\n"
    "[prod]\n"
    "aws_access_key_id = AKIAWRONG\n"
    "aws_secret_access_key = wrongSecret\n";

/* ---- harness ------------------------------------------------------------ */

static void t_fatal(const char *what)
{
    printf("FAIL: setup: %s\n", what);
    exit(1);    /* atexit still stops the stub and removes t_dir */
}

static void t_path(char *out, size_t size, const char *name)
{
    snprintf(out, size, "%s/%s", t_dir, name);
}

static void t_write(const char *name, const char *text)
{
    char path[256];
    FILE *f;
    t_path(path, sizeof(path), name);
    f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0)
        t_fatal(path);
}

static void t_rm_rf(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *de;
    char sub[1024];
    if (!d) {
        unlink(path);
        return;
    }
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        snprintf(sub, sizeof(sub), "%s/%.255s", path, de->d_name);
        t_rm_rf(sub);
    }
    closedir(d);
    rmdir(path);
}

static void t_stub_stop(void)
{
    if (t_stub_pid > 0) {
        kill(t_stub_pid, SIGTERM);
        waitpid(t_stub_pid, NULL, 0);
        t_stub_pid = -1;
    }
}

static void t_cleanup(void)
{
    t_stub_stop();
    if (t_dir[0])
        t_rm_rf(t_dir);
}

/* Every case starts from no AWS variables, HOME in the temp dir with an
 * empty ~/.aws, and IMDS off, so no test can reach a real instance metadata
 * service. */
static void t_env_reset(void)
{
    char home[256], path[256];
    t_path(path, sizeof(path), "home/.aws/credentials");
    unlink(path);
    t_path(path, sizeof(path), "home/.aws/config");
    unlink(path);
    for (size_t i = 0; i < sizeof(t_aws_vars) / sizeof(*t_aws_vars); i++)
        unsetenv(t_aws_vars[i]);
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    t_path(home, sizeof(home), "home");
    setenv("HOME", home, 1);
}

static int t_resolve(const char *profile, struct aws_creds *c, struct err *e)
{
    aws_creds_release(c);
    err_init(e);
    return aws_creds_resolve(profile, c, e);
}

/* Resolves and checks key id and source in one go. */
static void t_expect(const char *name, const char *profile,
                     const char *key_id, const char *source)
{
    struct aws_creds c;
    struct err e;
    char n[160];
    aws_creds_init(&c);
    snprintf(n, sizeof(n), "%s: resolves", name);
    T_INTEQ(n, t_resolve(profile, &c, &e), 0);
    snprintf(n, sizeof(n), "%s: key id", name);
    T_STREQ(n, c.access_key, key_id);
    snprintf(n, sizeof(n), "%s: source", name);
    T_STREQ(n, c.source, source);
    aws_creds_release(&c);
}

/* Resolves, expects failure of kind with want in the message and no secret. */
static void t_expect_err(const char *name, const char *profile,
                         enum err_kind kind, const char *want,
                         const char *secret)
{
    struct aws_creds c;
    struct err e;
    char n[160];
    aws_creds_init(&c);
    snprintf(n, sizeof(n), "%s: fails", name);
    T_INTEQ(n, t_resolve(profile, &c, &e), -1);
    snprintf(n, sizeof(n), "%s: kind", name);
    T_INTEQ(n, e.kind, kind);
    snprintf(n, sizeof(n), "%s: message", name);
    T_OK(n, strstr(e.msg, want) != NULL, "[%s] lacks [%s]", e.msg, want);
    snprintf(n, sizeof(n), "%s: no secret in message", name);
    T_OK(n, !secret || !strstr(e.msg, secret), "[%s] shows a secret", e.msg);
    snprintf(n, sizeof(n), "%s: out left empty", name);
    T_OK(n, !c.access_key && !c.secret_key, "credentials set on failure");
    aws_creds_release(&c);
}

static double t_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- credentials: environment ------------------------------------------- */

static void test_env(void)
{
    struct aws_creds c;
    struct err e;
    aws_creds_init(&c);
    t_env_reset();
    setenv("AWS_ACCESS_KEY_ID", "AKIAENVEXAMPLE", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "envSecret/Key+1", 1);
    T_INTEQ("env: resolves", t_resolve(NULL, &c, &e), 0);
    T_STREQ("env: key id", c.access_key, "AKIAENVEXAMPLE");
    T_STREQ("env: secret", c.secret_key, "envSecret/Key+1");
    T_OK("env: no session token", c.session_token == NULL, "got [%s]",
         c.session_token);
    T_STREQ("env: source", c.source, "environment");

    setenv("AWS_SESSION_TOKEN", "envSessionToken", 1);
    T_INTEQ("env+token: resolves", t_resolve(NULL, &c, &e), 0);
    T_STREQ("env+token: token", c.session_token, "envSessionToken");
    aws_creds_release(&c);
    T_OK("release empties the struct",
         !c.access_key && !c.secret_key && !c.session_token && !c.source[0],
         "fields left after release");

    /* The environment beats a profile file that has the default profile. */
    t_write("home/.aws/credentials", t_credentials);
    t_expect("env beats shared file", NULL, "AKIAENVEXAMPLE", "environment");

    unsetenv("AWS_SECRET_ACCESS_KEY");
    t_expect_err("env partial (key id only)", NULL, ERR_USAGE,
                 "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not",
                 NULL);
    unsetenv("AWS_ACCESS_KEY_ID");
    setenv("AWS_SECRET_ACCESS_KEY", "loneEnvSecret", 1);
    t_expect_err("env partial (secret only)", NULL, ERR_USAGE,
                 "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not",
                 "loneEnvSecret");
    setenv("AWS_ACCESS_KEY_ID", "", 1);
    unsetenv("AWS_SECRET_ACCESS_KEY");
    t_expect("empty env var counts as unset", NULL, "AKIADEFAULTFILE",
             "shared-credentials-file:default");
}

/* ---- credentials: shared files ------------------------------------------ */

static void test_files(void)
{
    struct aws_creds c;
    struct err e;
    aws_creds_init(&c);
    t_env_reset();
    t_write("home/.aws/credentials", t_credentials);
    t_write("home/.aws/config", t_config);

    t_expect("credentials file, default profile", NULL, "AKIADEFAULTFILE",
             "shared-credentials-file:default");
    T_INTEQ("named profile by argument: resolves",
            t_resolve("prod", &c, &e), 0);
    T_STREQ("named profile: key id", c.access_key, "AKIAPRODFILE");
    T_STREQ("named profile: inline comment cut", c.secret_key,
            "prodFileSecret");
    T_STREQ("named profile: session token", c.session_token, "prodFileToken");
    aws_creds_release(&c);

    setenv("AWS_PROFILE", "prod", 1);
    t_expect("profile from AWS_PROFILE", NULL, "AKIAPRODFILE",
             "shared-credentials-file:prod");
    t_expect("argument beats AWS_PROFILE", "default", "AKIADEFAULTFILE",
             "shared-credentials-file:default");
    unsetenv("AWS_PROFILE");

    t_expect("[profile x] in config file", "cfgonly", "AKIACFGONLY",
             "config-file:cfgonly");
    t_expect("credentials file beats config file", "both", "AKIABOTHCRED",
             "shared-credentials-file:both");

    t_expect_err("missing profile by argument", "nosuch", ERR_USAGE,
                 "profile \"nosuch\" not found", NULL);
    setenv("AWS_PROFILE", "nosuch2", 1);
    t_expect_err("missing profile by AWS_PROFILE", NULL, ERR_USAGE,
                 "profile \"nosuch2\" not found", NULL);
    unsetenv("AWS_PROFILE");
    t_expect_err("partial keys in a file", "half", ERR_USAGE,
                 "credentials [half]: aws_access_key_id is set but "
                 "aws_secret_access_key is not", NULL);
    t_expect_err("role_arn profile is refused, not skipped", "assumer",
                 ERR_USAGE, "uses role_arn", NULL);

    /* Only the config file, which has a bare [prod]: that is no profile. */
    setenv("AWS_SHARED_CREDENTIALS_FILE", "~/no-such-file", 1);
    t_expect_err("bare [name] in config file is not a profile", "prod",
                 ERR_USAGE, "profile \"prod\" not found", "wrongSecret");
}

static void test_file_paths(void)
{
    char path[256], want[300];
    t_env_reset();
    t_write("home/alt-credentials", "[alt]\naws_access_key_id = AKIAALT\n"
            "aws_secret_access_key = altSecret\n");
    t_path(path, sizeof(path), "alt-config");
    t_write("alt-config", "[profile altcfg]\naws_access_key_id = AKIAALTCFG\n"
            "aws_secret_access_key = altCfgSecret\n");
    setenv("AWS_SHARED_CREDENTIALS_FILE", "~/alt-credentials", 1);
    setenv("AWS_CONFIG_FILE", path, 1);
    t_expect("AWS_SHARED_CREDENTIALS_FILE with ~/", "alt", "AKIAALT",
             "shared-credentials-file:alt");
    t_expect("AWS_CONFIG_FILE", "altcfg", "AKIAALTCFG", "config-file:altcfg");

    /* Nothing anywhere: the sentence lists every source tried. */
    setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials", 1);
    setenv("AWS_CONFIG_FILE", "/nonexistent/config", 1);
    t_expect_err("no source: lists the environment", NULL, ERR_FAILED,
                 "environment (AWS_ACCESS_KEY_ID)", NULL);
    snprintf(want, sizeof(want), "profile \"default\" in "
             "/nonexistent/credentials and /nonexistent/config");
    t_expect_err("no source: lists the files", NULL, ERR_FAILED, want, NULL);
    t_expect_err("no source: lists IMDS", NULL, ERR_FAILED,
                 "instance metadata service (disabled by "
                 "AWS_EC2_METADATA_DISABLED)", NULL);
}

static void test_malformed(void)
{
    char path[256], want[300];
    t_env_reset();
    t_path(path, sizeof(path), "bad-credentials");
    t_write("bad-credentials", "[default]\naws_access_key_id = AKIABAD\n"
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETKEY\n"
            "aws_secret_access_key = afterTheError\n");
    setenv("AWS_SHARED_CREDENTIALS_FILE", path, 1);
    snprintf(want, sizeof(want), "%s:3: malformed AWS credentials file", path);
    t_expect_err("malformed credentials file", NULL, ERR_USAGE, want,
                 "SECRETKEY");

    t_path(path, sizeof(path), "bad-config");
    t_write("bad-config", "[default]\nregion = us-east-1\n\n[profile x\n");
    setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials", 1);
    setenv("AWS_CONFIG_FILE", path, 1);
    snprintf(want, sizeof(want), "%s:4: malformed AWS config file", path);
    t_expect_err("malformed config file", NULL, ERR_USAGE, want, NULL);

    setenv("AWS_CONFIG_FILE", t_dir, 1);
    snprintf(want, sizeof(want), "cannot read %s", t_dir);
    t_expect_err("unreadable config file (a directory)", NULL, ERR_USAGE,
                 want, NULL);
}

/* inih as packaged splits lines over 199 bytes; session tokens are longer. */
static void test_long_lines(void)
{
    struct aws_creds c;
    struct err e;
    struct buf text = BUF_INIT, token = BUF_INIT;
    char path[256], want[300];
    aws_creds_init(&c);
    t_env_reset();
    for (int i = 0; i < 150; i++)
        buf_puts(&token, "Tok0");
    buf_puts(&text, "# ");
    for (int i = 0; i < 60; i++)
        buf_puts(&text, "long comment ");
    buf_printf(&text, "\n[long]\naws_access_key_id = AKIALONG\n"
               "aws_secret_access_key = longSecret\n"
               "aws_session_token = %s\n\n[broken\n", buf_str(&token));
    t_write("long-credentials", buf_str(&text));
    t_path(path, sizeof(path), "long-credentials");
    setenv("AWS_SHARED_CREDENTIALS_FILE", path, 1);
    T_INTEQ("long lines: resolves", t_resolve("long", &c, &e), -1);
    snprintf(want, sizeof(want), "%s:7:", path);
    T_OK("long lines: error line still counts file lines",
         strstr(e.msg, want) != NULL, "[%s] lacks [%s]", e.msg, want);

    buf_reset(&text);
    buf_printf(&text, "[long]\naws_access_key_id = AKIALONG\n"
               "aws_secret_access_key = longSecret\n"
               "aws_session_token = %s ; comment\n", buf_str(&token));
    t_write("long-credentials", buf_str(&text));
    T_INTEQ("long token: resolves", t_resolve("long", &c, &e), 0);
    T_STREQ("long token: whole", c.session_token, buf_str(&token));
    T_STREQ("long token: next key intact", c.secret_key, "longSecret");
    aws_creds_release(&c);
    buf_release(&text);
    buf_release(&token);
}

/* ---- region ------------------------------------------------------------- */

static void t_region(const char *name, const char *cfg, const char *profile,
                     const char *want)
{
    char out[32] = "", n[160];
    struct err e;
    err_init(&e);
    snprintf(n, sizeof(n), "%s: resolves", name);
    T_INTEQ(n, aws_region_resolve(cfg, profile, out, sizeof(out), &e), 0);
    snprintf(n, sizeof(n), "%s: value", name);
    T_STREQ(n, out, want);
}

static void t_region_err(const char *name, const char *cfg, const char *want)
{
    char out[32], n[160];
    struct err e;
    err_init(&e);
    snprintf(n, sizeof(n), "%s: fails", name);
    T_INTEQ(n, aws_region_resolve(cfg, NULL, out, sizeof(out), &e), -1);
    snprintf(n, sizeof(n), "%s: usage error", name);
    T_INTEQ(n, e.kind, ERR_USAGE);
    snprintf(n, sizeof(n), "%s: message", name);
    T_OK(n, strstr(e.msg, want) != NULL, "[%s] lacks [%s]", e.msg, want);
}

static void test_region(void)
{
    char small[4], path[256];
    struct err e;
    t_env_reset();
    t_write("home/.aws/config", t_config);
    setenv("AWS_REGION", "us-east-2", 1);
    setenv("AWS_DEFAULT_REGION", "us-west-2", 1);
    t_region("region: config value first", "ca-central-1", NULL,
             "ca-central-1");
    t_region("region: then AWS_REGION", NULL, NULL, "us-east-2");
    unsetenv("AWS_REGION");
    t_region("region: then AWS_DEFAULT_REGION", "", NULL, "us-west-2");
    unsetenv("AWS_DEFAULT_REGION");
    t_region("region: then [default] region", NULL, NULL, "eu-west-1");
    t_region("region: profile argument", NULL, "cfgonly", "ap-southeast-2");
    setenv("AWS_PROFILE", "cfgonly", 1);
    t_region("region: AWS_PROFILE", NULL, NULL, "ap-southeast-2");
    setenv("AWS_PROFILE", "both", 1);
    t_region_err("region: none", NULL, "no AWS region: set [paas] region, "
                 "AWS_REGION or a profile region");
    t_region_err("region: not a region name", "us-east-1/../x",
                 "[paas] region: \"us-east-1/../x\" is not an AWS region name");
    setenv("AWS_REGION", "eu-central-1", 1);
    setenv("AWS_CONFIG_FILE", "/nonexistent/config", 1);
    err_init(&e);
    T_INTEQ("region: too small a buffer fails",
            aws_region_resolve(NULL, NULL, small, sizeof(small), &e), -1);
    /* The environment decides before a broken config file is read. */
    t_write("bad-config", "[default\n");
    t_path(path, sizeof(path), "bad-config");
    setenv("AWS_CONFIG_FILE", path, 1);
    t_region("region: env wins over a broken config", NULL, NULL,
             "eu-central-1");
    unsetenv("AWS_REGION");
    t_region_err("region: broken config file reported", NULL,
                 "bad-config:1: malformed AWS config file");
}

/* ---- endpoints ---------------------------------------------------------- */

static void t_endpoint(const char *name, enum aws_service svc,
                       const char *region, const char *cfg, const char *url,
                       const char *signing_region, int overridden)
{
    struct aws_endpoint ep;
    struct err e;
    char n[160];
    err_init(&e);
    snprintf(n, sizeof(n), "%s: resolves", name);
    T_INTEQ(n, aws_endpoint_resolve(svc, region, cfg, &ep, &e), 0);
    snprintf(n, sizeof(n), "%s: url", name);
    T_STREQ(n, ep.url, url);
    snprintf(n, sizeof(n), "%s: signing region", name);
    T_STREQ(n, ep.signing_region, signing_region);
    snprintf(n, sizeof(n), "%s: overridden", name);
    T_INTEQ(n, ep.overridden, overridden);
}

static void t_endpoint_err(const char *name, enum aws_service svc,
                           const char *region, const char *cfg,
                           const char *want)
{
    struct aws_endpoint ep;
    struct err e;
    char n[160];
    err_init(&e);
    snprintf(n, sizeof(n), "%s: fails", name);
    T_INTEQ(n, aws_endpoint_resolve(svc, region, cfg, &ep, &e), -1);
    snprintf(n, sizeof(n), "%s: usage error", name);
    T_INTEQ(n, e.kind, ERR_USAGE);
    snprintf(n, sizeof(n), "%s: message", name);
    T_OK(n, strstr(e.msg, want) != NULL, "[%s] lacks [%s]", e.msg, want);
}

static void test_endpoints_real(void)
{
    t_env_reset();
    t_endpoint("ec2 real", AWS_EC2, "us-west-2", NULL,
               "https://ec2.us-west-2.amazonaws.com", "us-west-2", 0);
    t_endpoint("elb real", AWS_ELB, "eu-west-1", "",
               "https://elasticloadbalancing.eu-west-1.amazonaws.com",
               "eu-west-1", 0);
    t_endpoint("s3 real", AWS_S3, "us-east-1", NULL,
               "https://s3.us-east-1.amazonaws.com", "us-east-1", 0);
    t_endpoint("sts real", AWS_STS, "ap-south-1", NULL,
               "https://sts.ap-south-1.amazonaws.com", "ap-south-1", 0);
    t_endpoint("route53 real signs us-east-1", AWS_ROUTE53, "eu-west-1", NULL,
               "https://route53.amazonaws.com", "us-east-1", 0);
    t_endpoint("iam real signs us-east-1", AWS_IAM, "ap-south-1", NULL,
               "https://iam.amazonaws.com", "us-east-1", 0);
    t_endpoint("iam without a region", AWS_IAM, NULL, NULL,
               "https://iam.amazonaws.com", "us-east-1", 0);
    t_endpoint("ec2 China suffix", AWS_EC2, "cn-north-1", NULL,
               "https://ec2.cn-north-1.amazonaws.com.cn", "cn-north-1", 0);
    t_endpoint("elb China suffix", AWS_ELB, "cn-northwest-1", NULL,
               "https://elasticloadbalancing.cn-northwest-1.amazonaws.com.cn",
               "cn-northwest-1", 0);
    t_endpoint("route53 China", AWS_ROUTE53, "cn-north-1", NULL,
               "https://route53.amazonaws.com.cn", "cn-northwest-1", 0);
    t_endpoint("iam China", AWS_IAM, "cn-northwest-1", NULL,
               "https://iam.cn-north-1.amazonaws.com.cn", "cn-north-1", 0);
    t_endpoint("iam GovCloud", AWS_IAM, "us-gov-east-1", NULL,
               "https://iam.us-gov.amazonaws.com", "us-gov-west-1", 0);
    t_endpoint_err("ec2 without a region", AWS_EC2, NULL, NULL,
                   "no AWS region");
    t_endpoint_err("bad region name", AWS_S3, "evil.com/x", NULL,
                   "is not an AWS region name");
    T_STREQ("signing name elb", aws_service_signing_name(AWS_ELB),
            "elasticloadbalancing");
    T_STREQ("signing name route53", aws_service_signing_name(AWS_ROUTE53),
            "route53");
    T_OK("signing name out of range", !aws_service_signing_name(AWS_N_SERVICES),
         "got a name");
}

static void test_endpoints_override(void)
{
    t_env_reset();
    t_endpoint("config endpoint, slash stripped", AWS_EC2, "us-east-1",
               "http://127.0.0.1:5000/", "http://127.0.0.1:5000", "us-east-1",
               1);
    setenv("AWS_ENDPOINT_URL", "http://localhost:4566", 1);
    t_endpoint("AWS_ENDPOINT_URL beats config", AWS_S3, "us-east-1",
               "http://127.0.0.1:5000", "http://localhost:4566", "us-east-1",
               1);
    setenv("AWS_ENDPOINT_URL_EC2", "https://ec2.example.test//", 1);
    t_endpoint("service variable beats global", AWS_EC2, "us-east-1",
               "http://127.0.0.1:5000", "https://ec2.example.test",
               "us-east-1", 1);
    t_endpoint("service variable only for its service", AWS_STS, "us-east-1",
               NULL, "http://localhost:4566", "us-east-1", 1);
    setenv("AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING", "http://[::1]:8080", 1);
    t_endpoint("ELASTIC_LOAD_BALANCING variable", AWS_ELB, "us-east-1", NULL,
               "http://[::1]:8080", "us-east-1", 1);
    setenv("AWS_ENDPOINT_URL_ROUTE_53", "http://127.0.0.1:5001", 1);
    t_endpoint("ROUTE_53 variable keeps us-east-1 signing", AWS_ROUTE53,
               "eu-west-1", NULL, "http://127.0.0.1:5001", "us-east-1", 1);
    setenv("AWS_ENDPOINT_URL_IAM", "http://127.0.0.1:5002", 1);
    t_endpoint("IAM variable", AWS_IAM, "eu-west-1", NULL,
               "http://127.0.0.1:5002", "us-east-1", 1);

    setenv("AWS_ENDPOINT_URL_S3", "ftp://127.0.0.1", 1);
    t_endpoint_err("bad scheme names the variable", AWS_S3, "us-east-1", NULL,
                   "AWS_ENDPOINT_URL_S3: bad endpoint URL (scheme");
    setenv("AWS_ENDPOINT_URL_S3", "http://", 1);
    t_endpoint_err("no host", AWS_S3, "us-east-1", NULL, "AWS_ENDPOINT_URL_S3");
    setenv("AWS_ENDPOINT_URL_S3", "http://user:hunter2@127.0.0.1", 1);
    t_endpoint_err("user info refused", AWS_S3, "us-east-1", NULL,
                   "user info is not allowed");
    setenv("AWS_ENDPOINT_URL_S3", "localhost:4566", 1);
    t_endpoint_err("no scheme", AWS_S3, "us-east-1", NULL,
                   "no http:// or https://");
    unsetenv("AWS_ENDPOINT_URL");
    t_endpoint_err("path in [paas] endpoint", AWS_STS, "us-east-1",
                   "http://127.0.0.1:5000/api", "[paas] endpoint: bad endpoint "
                   "URL (a path is not allowed)");
}

/* ---- credentials: IMDSv2 ------------------------------------------------ */

static size_t t_discard(char *p, size_t size, size_t n, void *user)
{
    (void)p;
    (void)user;
    return size * n;
}

/* The status a plain request gets: shows what the stub refuses. */
static long t_http_status(const char *method, const char *url,
                          const char *header)
{
    CURL *c = curl_easy_init();
    struct curl_slist *h = header ? curl_slist_append(NULL, header) : NULL;
    long status = 0;
    if (!c)
        return -1;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_PROXY, "");
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 5L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, t_discard);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return status;
}

static void t_stub_exec(const char *port_file)
{
    char script[1024];
    const char *root = getenv("PAASCTL_ROOT");
    snprintf(script, sizeof(script), "%.900s/tests/lib/imds_stub.py",
             root && *root ? root : ".");
    /* Dies with the test even if the test crashes before t_stub_stop. */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    execlp("python3", "python3", script, "--port-file", port_file,
           (char *)NULL);
    _exit(127);
}

/* Starts the stub and waits (~10 s at most) for its port; 0 with base set. */
static int t_stub_start(char *base, size_t size)
{
    char port_file[256];
    struct timespec tick = { 0, 50 * 1000 * 1000 };
    t_path(port_file, sizeof(port_file), "imds.port");
    fflush(stdout);
    t_stub_pid = fork();
    if (t_stub_pid == 0)
        t_stub_exec(port_file);
    if (t_stub_pid < 0)
        return -1;
    for (int i = 0; i < 200; i++) {
        FILE *f = fopen(port_file, "r");
        int port = 0;
        if (f) {
            if (fscanf(f, "%d", &port) != 1)
                port = 0;
            fclose(f);
        }
        if (port > 0) {
            snprintf(base, size, "http://127.0.0.1:%d", port);
            return 0;
        }
        if (waitpid(t_stub_pid, NULL, WNOHANG) == t_stub_pid) {
            t_stub_pid = -1;
            return -1;
        }
        nanosleep(&tick, NULL);
    }
    return -1;
}

/* A loopback port nobody listens on: bound by the kernel, then closed. */
static int t_closed_port(void)
{
    struct sockaddr_in sa = { .sin_family = AF_INET };
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
        getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
        port = ntohs(sa.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

static void test_imds_stub_refuses(const char *base)
{
    char url[300];
    snprintf(url, sizeof(url), "%s/latest/meta-data/iam/security-credentials/",
             base);
    T_INTEQ("stub: GET without token is 401", t_http_status("GET", url, NULL),
            401);
    T_INTEQ("stub: GET with a wrong token is 401",
            t_http_status("GET", url, "X-aws-ec2-metadata-token: forged"), 401);
    snprintf(url, sizeof(url), "%s/latest/api/token", base);
    T_INTEQ("stub: token PUT without TTL is 400",
            t_http_status("PUT", url, NULL), 400);
}

static void test_imds(void)
{
    struct aws_creds c;
    struct err e;
    char base[128], url[160];
    double t0;
    aws_creds_init(&c);
    t_env_reset();
    if (t_stub_start(base, sizeof(base)) != 0) {
        T_OK("imds stub starts", 0, "python3 tests/lib/imds_stub.py did not "
             "write its port (PAASCTL_ROOT=%s)", getenv("PAASCTL_ROOT"));
        return;
    }
    test_imds_stub_refuses(base);

    /* The stub refuses token-less GETs, so success shows the PUT+header. */
    snprintf(url, sizeof(url), "%s/", base);
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", url, 1);
    unsetenv("AWS_EC2_METADATA_DISABLED");
    T_INTEQ("imds: resolves", t_resolve(NULL, &c, &e), 0);
    T_STREQ("imds: key id", c.access_key, "ASIASTUBIMDSACCESSKEY");
    T_STREQ("imds: secret", c.secret_key, "stub/imds/secret+key");
    T_STREQ("imds: session token", c.session_token, "stub-imds-session-token");
    T_STREQ("imds: source", c.source, "imds");
    aws_creds_release(&c);

    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    t_expect_err("imds disabled", NULL, ERR_FAILED,
                 "disabled by AWS_EC2_METADATA_DISABLED", NULL);

    snprintf(url, sizeof(url), "http://127.0.0.1:%d", t_closed_port());
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", url, 1);
    unsetenv("AWS_EC2_METADATA_DISABLED");
    t0 = t_now();
    t_expect_err("imds unreachable", NULL, ERR_FAILED, url, NULL);
    T_OK("imds unreachable fails fast", t_now() - t0 < 3.0, "took %.1f s",
         t_now() - t0);

    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "file:///etc/passwd", 1);
    t_expect_err("imds bad endpoint", NULL, ERR_USAGE,
                 "AWS_EC2_METADATA_SERVICE_ENDPOINT: bad endpoint URL", NULL);
    t_stub_stop();
}

int main(void)
{
    char home_aws[256];
    snprintf(t_dir, sizeof(t_dir), "/tmp/paasctl-test-creds.XXXXXX");
    if (!mkdtemp(t_dir)) {
        t_dir[0] = '\0';
        t_fatal("mkdtemp");
    }
    atexit(t_cleanup);
    t_path(home_aws, sizeof(home_aws), "home");
    mkdir(home_aws, 0700);
    t_path(home_aws, sizeof(home_aws), "home/.aws");
    mkdir(home_aws, 0700);
    curl_global_init(CURL_GLOBAL_DEFAULT);

    test_env();
    test_files();
    test_file_paths();
    test_malformed();
    test_long_lines();
    test_region();
    test_endpoints_real();
    test_endpoints_override();
    test_imds();

    curl_global_cleanup();
    return t_done();
}
