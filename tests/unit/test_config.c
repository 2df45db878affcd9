/* Unit tests for core/config.c (SPEC.md "Configuration: paasctl.ini"): the
 * example file loads, defaults apply, and every kind of bad file is refused
 * as a usage error that starts with its file:line and names the key. */
#include "t.h"

#include "core/config.h"

#include <errno.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>

/* A minimal valid file; the tests edit one line and know its number. */
static const char BASE[] =
    "[paas]\n"                                          /* 1 */
    "name = demo ; the paas\n"                          /* 2 */
    "region = us-east-1\n"                              /* 3 */
    "state_bucket = demo-paasctl-state\n"               /* 4 */
    "\n"                                                /* 5 */
    "[shell]\n"                                         /* 6 */
    "vpc_cidr = 10.0.0.0/16\n"                          /* 7 */
    "zones = us-east-1a, us-east-1b\n"                  /* 8 */
    "public_subnets = 10.0.0.0/24, 10.0.1.0/24\n"       /* 9 */
    "private_subnets = 10.0.16.0/20, 10.0.32.0/20\n"    /* 10 */
    "dns_zone = paas.example.com\n"                     /* 11 */
    "  admin_cidr = 203.0.113.0/24   ; indented\n"      /* 12 */
    "bastion_ami = ami-0123456789abcdef0\n"             /* 13 */
    "bastion_type = t3.micro\n"                         /* 14 */
    "\n"                                                /* 15 */
    "[cluster a]\n"                                     /* 16 */
    "ami = ami-0abcdef1234567890\n"                     /* 17 */
    "auth_type = t3.medium\n"                           /* 18 */
    "master_type = m5.large\n"                          /* 19 */
    "ingress_type = c5.large\n"                         /* 20 */
    "ingress_count = 2\n"                               /* 21 */
    "minion_type = m5.xlarge\n"                         /* 22 */
    "minion_count = 3\n"                                /* 23 */
    "kubernetes_version = 1.31.4\n";                    /* 24 */

static char tmpdir[] = "/tmp/test_config.XXXXXX";
static char file_path[4200];
static char text[16384];
static struct config cfg;    /* large: not on the stack */

/* Writes s to tmpdir/name; returns the path (a static buffer). */
static const char *put_file(const char *name, const char *s)
{
    FILE *f;
    snprintf(file_path, sizeof(file_path), "%s/%s", tmpdir, name);
    f = fopen(file_path, "w");
    if (!f || fputs(s, f) < 0 || fclose(f) != 0) {
        printf("FAIL: write %s: %s\n", file_path, strerror(errno));
        exit(1);
    }
    return file_path;
}

/* BASE with its one occurrence of `from` replaced by `to`, in `text`. */
static const char *edit(const char *from, const char *to)
{
    const char *at = strstr(BASE, from);
    if (!at || strstr(at + 1, from)) {
        printf("FAIL: test bug: '%s' is not in BASE exactly once\n", from);
        exit(1);
    }
    snprintf(text, sizeof(text), "%.*s%s%s", (int)(at - BASE), BASE, to, at + strlen(from));
    return text;
}

/* BASE followed by more lines (line 24 is the first of them). */
static const char *append(const char *more)
{
    snprintf(text, sizeof(text), "%s%s", BASE, more);
    return text;
}

static int load(const char *s, struct err *e)
{
    err_init(e);
    return config_load(put_file("t.ini", s), &cfg, e);
}

/* Loads s and expects ERR_USAGE with "FILE:LINE: " (or "FILE: " for line 0)
 * at the start of the message and `needle` in it. */
static void expect_bad(const char *name, const char *s, int line, const char *needle)
{
    struct err e;
    char prefix[4300];
    int rc = load(s, &e);
    if (line)
        snprintf(prefix, sizeof(prefix), "%s:%d: ", file_path, line);
    else
        snprintf(prefix, sizeof(prefix), "%s: ", file_path);
    T_OK(name, rc == -1 && e.kind == ERR_USAGE && !strncmp(e.msg, prefix, strlen(prefix)) &&
                   strstr(e.msg, needle),
         "rc %d kind %d msg [%s]; want [%s...%s]", rc, (int)e.kind, e.msg, prefix, needle);
}

static void expect_good(const char *name, const char *s)
{
    struct err e;
    int rc = load(s, &e);
    T_OK(name, rc == 0, "rc %d: %s", rc, e.msg);
}

static void test_example(void)
{
    const char *root = getenv("PAASCTL_ROOT"), *home = getenv("HOME");
    char path[4200], kube[4200];
    struct err e;
    int rc;
    snprintf(path, sizeof(path), "%s/paasctl.ini.example", root ? root : ".");
    snprintf(kube, sizeof(kube), "%s/.kube/config", home ? home : "");
    err_init(&e);
    rc = config_load(path, &cfg, &e);
    T_OK("example loads", rc == 0, "%s", e.msg);
    T_STREQ("example name", cfg.name, "demo");
    T_STREQ("example region", cfg.region, "us-east-1");
    T_STREQ("example endpoint unset", cfg.endpoint, "");
    T_STREQ("example bucket", cfg.state_bucket, "demo-paasctl-state");
    T_INTEQ("example zones", cfg.n_zones, 2);
    T_STREQ("example zone b", cfg.zones[1], "us-east-1b");
    T_STREQ("example private subnet", cfg.private_subnets[1].text, "10.0.32.0/20");
    T_STREQ("example live name", cfg.live_name, "demo-live");
    T_OK("example both slots", cfg.cluster[0].present && cfg.cluster[1].present, "present %d %d",
         cfg.cluster[0].present, cfg.cluster[1].present);
    T_STREQ("example context b", cfg.cluster[1].context, "paas-b");
    T_STREQ("example kubeconfig ~", cfg.cluster[0].kubeconfig, home ? kube : "");
    T_INTEQ("example smoke namespaces", cfg.n_smoke_namespaces, 1);
    T_INTEQ("example swap timeout", config_swap_timeout(&cfg), 120);
}

static void test_base_and_defaults(void)
{
    expect_good("base loads", BASE);
    T_STREQ("inline comment stripped", cfg.name, "demo");
    T_STREQ("indented key", cfg.admin_cidr.text, "203.0.113.0/24");
    T_INTEQ("vpc", cfg.vpc_cidr.addr, 0x0A000000);
    T_INTEQ("vpc prefix", cfg.vpc_cidr.prefix, 16);
    T_INTEQ("subnet counts", cfg.n_public_subnets * 10 + cfg.n_private_subnets, 22);
    T_INTEQ("ingress count", cfg.cluster[0].ingress_count, 2);
    T_STREQ("minion type", cfg.cluster[0].minion_type, "m5.xlarge");
    T_INTEQ("slot b absent", cfg.cluster[1].present, 0);
    {
        /* SPEC.md "Clusters": what `paasctl kubeconfig a` writes. */
        char want[4200];
        snprintf(want, sizeof(want), "%s/.kube/paasctl-%s-a.yaml", getenv("HOME"), cfg.name);
        T_STREQ("kubeconfig default", cfg.cluster[0].kubeconfig,
                getenv("HOME") ? want : "");
    }
    T_STREQ("key_name default", cfg.key_name, "");
    T_STREQ("default live_name", cfg.live_name, "demo-live");
    T_STREQ("default prelive_name", cfg.prelive_name, "demo-prelive");
    T_OK("default listener", cfg.n_listeners == 1 && cfg.listeners[0].lb_port == 80 &&
                                 cfg.listeners[0].instance_port == 80, "n %d", cfg.n_listeners);
    T_STREQ("default health_target", cfg.health_target, "HTTP:80/healthz");
    T_INTEQ("default health_interval", cfg.health_interval, 10);
    T_INTEQ("default thresholds", cfg.healthy_threshold * 10 + cfg.unhealthy_threshold, 22);
    T_INTEQ("default draining", cfg.draining_timeout, 300);
    T_INTEQ("default swap_timeout", cfg.swap_timeout, 0);
    T_INTEQ("default smoke timeout", cfg.smoke_timeout, 600);
    T_STREQ("default smoke path", cfg.smoke_path, "/healthz");
    T_INTEQ("default smoke namespaces", cfg.n_smoke_namespaces, 0);
    T_INTEQ("default exclude_namespaces", cfg.n_exclude_namespaces, 3);
    T_STREQ("default exclude_namespaces[2]", cfg.exclude_namespaces[2], "kube-node-lease");
    T_INTEQ("default exclude_resources", cfg.n_exclude_resources, 2);
    T_STREQ("default exclude_resources[1]", cfg.exclude_resources[1], "nodes");
    T_INTEQ("default concurrency", cfg.migrate_concurrency, 16);
    T_INTEQ("default qps", cfg.migrate_qps, 0);
    T_INTEQ("derived swap timeout", config_swap_timeout(&cfg), 10 * 2 * 3 + 60);
}

static void test_explicit_values(void)
{
    char crlf[sizeof(BASE) * 2];
    size_t i, n = 0;
    expect_good("elb, smoke, migrate set", append(
        "[elb]\n"
        "live_name = Blue-1\nprelive_name = green-1\nlistener = 80:8080 , 8443:8443\n"
        "health_target = TCP:8080\nhealth_interval = 30\nhealthy_threshold = 5\n"
        "swap_timeout = 0\n"
        "[smoke]\nnamespaces =\nconnect_to = a.example:80:127.0.0.1:18080\n"
        "[migrate]\nexclude_namespaces =\nexclude_resources = events, deployments.apps\n"
        "concurrency = 256\nqps = 10000\n"
        "[paas]\nendpoint = http://127.0.0.1:5000\n"));
    T_STREQ("live_name kept", cfg.live_name, "Blue-1");
    T_OK("two listeners", cfg.n_listeners == 2 && cfg.listeners[1].lb_port == 8443 &&
                              cfg.listeners[1].instance_port == 8443, "n %d", cfg.n_listeners);
    T_STREQ("tcp health target", cfg.health_target, "TCP:8080");
    T_INTEQ("swap timeout derived from settings", config_swap_timeout(&cfg), 30 * 5 * 3 + 60);
    T_INTEQ("empty namespaces list", cfg.n_smoke_namespaces, 0);
    T_INTEQ("exclude_namespaces emptied", cfg.n_exclude_namespaces, 0);
    T_STREQ("resource with group", cfg.exclude_resources[1], "deployments.apps");
    T_INTEQ("qps max", cfg.migrate_qps, 10000);
    T_STREQ("endpoint (second [paas])", cfg.endpoint, "http://127.0.0.1:5000");
    expect_good("swap_timeout set", append("[elb]\nswap_timeout = 45\n"));
    T_INTEQ("swap timeout explicit", config_swap_timeout(&cfg), 45);
    for (i = 0; BASE[i]; i++) {
        if (BASE[i] == '\n')
            crlf[n++] = '\r';
        crlf[n++] = BASE[i];
    }
    crlf[n] = '\0';
    expect_good("CRLF file loads", crlf);
    T_STREQ("CRLF value clean", cfg.cluster[0].minion_type, "m5.xlarge");
    expect_good("utf-8 BOM", edit("[paas]", "\xEF\xBB\xBF[paas]"));
    expect_good("slot b", append("[cluster b]\nkubernetes_version = 1.32.4\nami = ami-01234567\nauth_type = t3.small\n"
                                 "master_type = m5.large\ningress_type = c5.large\n"
                                 "ingress_count = 1000\nminion_type = m5.large\nminion_count = 0\n"));
    T_OK("slot b present", cfg.cluster[1].present && cfg.cluster[1].minion_count == 0 &&
                               cfg.cluster[1].ingress_count == 1000, "present %d",
         cfg.cluster[1].present);
}

static void test_structure_errors(void)
{
    struct err e;
    int rc;
    expect_bad("missing section", edit("[paas]\nname = demo ; the paas\nregion = us-east-1\n"
                                       "state_bucket = demo-paasctl-state\n", ""),
               0, "missing section [paas]");
    expect_bad("missing key", edit("dns_zone = paas.example.com\n", "\n"), 0,
               "missing [shell] dns_zone");
    expect_bad("missing cluster key", edit("minion_count = 3\n", ""), 0,
               "missing [cluster a] minion_count");
    expect_bad("empty cluster section", append("[cluster b]\n"), 0, "missing [cluster b] ami");
    expect_bad("unknown key", edit("t3.micro\n\n", "t3.micro\nbastoin_type = t3.micro\n"), 15,
               "unknown key 'bastoin_type' in [shell]");
    expect_bad("unknown section", edit("[cluster a]", "[cluster c]"), 16,
               "unknown section [cluster c]");
    expect_bad("unknown empty section", append("[smoek]\n; nothing\n"), 25,
               "unknown section [smoek]");
    expect_bad("empty section name", append("[]\n"), 25, "unknown section []");
    expect_bad("key before any section", edit("[paas]\n", "\n"), 2, "'name' is not in a section");
    expect_bad("duplicate key", edit("region = us-east-1", "name = other"), 3,
               "duplicate key 'name' in [paas] (first on line 2)");
    expect_bad("duplicate key, second section", append("[paas]\nname = x\n"), 26,
               "duplicate key 'name' in [paas]");
    expect_bad("syntax: no '='", edit("state\n\n", "state\nno equals sign\n"), 5,
               "expected 'key = value'");
    expect_bad("syntax: bad header", edit("[shell]", "[shell"), 6, "expected 'key = value'");
    expect_bad("line too long", edit("paas.example.com", "paas.example.com ; "
               "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
               "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
               "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"),
               11, "line is longer than");
    expect_bad("first error wins", edit("dns_zone = paas.example.com", "dns_zone = x\nbad = 1"),
               11, "dns_zone");

    err_init(&e);
    snprintf(file_path, sizeof(file_path), "%s/no-such.ini", tmpdir);
    rc = config_load(file_path, &cfg, &e);
    T_OK("missing file", rc == -1 && e.kind == ERR_USAGE && strstr(e.msg, file_path) == e.msg &&
                             strstr(e.msg, ": cannot read: No such file or directory"),
         "rc %d msg [%s]", rc, e.msg);
    /* An endless line must be refused after a bounded read: with getline the
     * whole of /dev/zero was read first (gigabytes). */
    err_init(&e);
    rc = config_load("/dev/zero", &cfg, &e);
    T_OK("endless line refused", rc == -1 && e.kind == ERR_USAGE &&
                                     strstr(e.msg, "/dev/zero:1: ") == e.msg,
         "rc %d msg [%s]", rc, e.msg);
    err_init(&e);
    rc = config_load(tmpdir, &cfg, &e);
    T_OK("directory as file", rc == -1 && e.kind == ERR_USAGE && strstr(e.msg, "cannot read: "),
         "rc %d msg [%s]", rc, e.msg);
}

static void test_paas_errors(void)
{
    expect_bad("bad name: capital", edit("name = demo", "name = Demo"), 2, "name: 'Demo' is not");
    expect_bad("bad name: digit first", edit("name = demo", "name = 1demo"), 2, "name: '1demo'");
    expect_bad("bad name: too long", edit("name = demo", "name = abcdefghijklmnopqrstu"), 2,
               "name: 'abcdefghijklmnopqrstu'");
    expect_good("name of 20", edit("name = demo", "name = abcdefghijklmnopqrst"));
    expect_bad("bad name: semicolon", edit("name = demo ; the paas", "name = demo;x"), 2,
               "name: 'demo;x'");
    expect_bad("bad region", edit("region = us-east-1", "region = us-east"), 3, "region: 'us-east'");
    expect_bad("bad endpoint", edit("region = us-east-1\n", "region = us-east-1\nendpoint = ftp://x\n"),
               4, "endpoint: 'ftp://x' is not an http");
    expect_bad("bad bucket: case", edit("demo-paasctl-state", "Demo_Bucket"), 4,
               "state_bucket: 'Demo_Bucket' is not an S3 bucket name");
    expect_bad("bad bucket: ip", edit("demo-paasctl-state", "192.168.1.1"), 4, "state_bucket");
    expect_bad("bad bucket: short", edit("demo-paasctl-state", "ab"), 4, "state_bucket");
    expect_bad("bad bucket: dash end", edit("demo-paasctl-state", "demo-"), 4, "state_bucket");
    expect_bad("bad bucket: dots", edit("demo-paasctl-state", "demo..state"), 4, "state_bucket");
    /* Valid for S3, but virtual-hosted HTTPS to it fails the certificate
     * check: refused up front, with the reason. */
    expect_bad("bucket with dots refused", edit("demo-paasctl-state", "demo.paasctl.state"), 4,
               "state_bucket: 'demo.paasctl.state' has a '.', which breaks TLS");
}

static void test_shell_errors(void)
{
    expect_bad("bad cidr: syntax", edit("vpc_cidr = 10.0.0.0/16", "vpc_cidr = 10.0.0/16"), 7,
               "vpc_cidr: '10.0.0/16' is not a CIDR");
    expect_bad("bad cidr: octet", edit("vpc_cidr = 10.0.0.0/16", "vpc_cidr = 10.0.256.0/16"), 7,
               "vpc_cidr");
    expect_bad("bad cidr: host bits", edit("vpc_cidr = 10.0.0.0/16", "vpc_cidr = 10.0.0.1/16"), 7,
               "vpc_cidr: '10.0.0.1/16' has host bits set; the network address is 10.0.0.0/16");
    expect_bad("bad cidr: vpc prefix", edit("vpc_cidr = 10.0.0.0/16", "vpc_cidr = 10.0.0.0/8"), 7,
               "vpc_cidr: '10.0.0.0/8' must have a prefix from /16 to /28");
    expect_bad("bad cidr: admin", edit("203.0.113.0/24", "203.0.113.7/24"), 12,
               "admin_cidr: '203.0.113.7/24' has host bits set; the network address is 203.0.113.0/24");
    expect_good("admin anywhere", edit("203.0.113.0/24", "0.0.0.0/0"));
    expect_bad("bad cidr: subnet host bits", edit("10.0.1.0/24", "10.0.1.1/24"), 9,
               "public_subnets: '10.0.1.1/24' has host bits set; the network address is 10.0.1.0/24");
    expect_bad("subnet out of vpc", edit("10.0.1.0/24", "10.1.1.0/24"), 9,
               "public_subnets: 10.1.1.0/24 is outside vpc_cidr 10.0.0.0/16");
    expect_bad("subnets overlap", edit("10.0.16.0/20,", "10.0.0.0/20,"), 10,
               "private_subnets: 10.0.0.0/20 overlaps public_subnets 10.0.0.0/24");
    expect_bad("subnets overlap, same list", edit("10.0.1.0/24", "10.0.0.128/25"), 9,
               "public_subnets: 10.0.0.128/25 overlaps public_subnets 10.0.0.0/24");
    expect_bad("subnet count", edit("10.0.0.0/24, 10.0.1.0/24", "10.0.0.0/24"), 9,
               "public_subnets has 1 entries but zones has 2");
    expect_bad("subnet count, private", edit("10.0.32.0/20\n", "10.0.32.0/20, 10.0.48.0/20\n"), 10,
               "private_subnets has 3 entries but zones has 2");
    expect_bad("subnet list trailing comma", edit("10.0.32.0/20\n", "10.0.32.0/20,\n"), 10,
               "private_subnets: empty entry");
    expect_bad("bad zone: region", edit("us-east-1b", "us-west-2b"), 8,
               "zones: 'us-west-2b' is not in region us-east-1");
    expect_bad("bad zone: syntax", edit("us-east-1b", "useast1b"), 8,
               "zones: 'useast1b' is not an availability zone");
    expect_bad("bad zone: twice", edit("us-east-1b", "us-east-1a"), 8,
               "zones: 'us-east-1a' is listed twice");
    expect_bad("bad zone: too many", edit("us-east-1a, us-east-1b",
               "us-east-1a, us-east-1b, us-east-1c, us-east-1d, us-east-1e, us-east-1f, us-east-1g"),
               8, "zones: more than 6 entries");
    expect_bad("bad zone: none", edit("zones = us-east-1a, us-east-1b", "zones ="), 8,
               "zones: needs at least 1 entries");
    expect_good("zones without region", edit("region = us-east-1\n", "\n"));
    expect_bad("bad dns zone", edit("dns_zone = paas.example.com", "dns_zone = paas"), 11,
               "dns_zone: 'paas' is not a DNS name");
    expect_bad("bad dns label", edit("dns_zone = paas.example.com", "dns_zone = -paas.example.com"),
               11, "dns_zone");
    expect_good("dns zone with dot", edit("paas.example.com", "paas.example.com."));
    expect_bad("bad ami", edit("ami-0123456789abcdef0", "ami-0123"), 13, "bastion_ami: 'ami-0123'");
    expect_bad("bad instance type", edit("bastion_type = t3.micro", "bastion_type = t3"), 14,
               "bastion_type: 't3' is not an instance type");
}

/* [smoke] timeout takes seconds with up to three decimals. */
static void test_seconds(void)
{
    expect_good("smoke timeout fraction", append("[smoke]\ntimeout = 0.25\n"));
    T_OK("smoke timeout 0.25", cfg.smoke_timeout > 0.249 && cfg.smoke_timeout < 0.251,
         "got %f", cfg.smoke_timeout);
    expect_good("smoke timeout whole", append("[smoke]\ntimeout = 86400\n"));
    T_INTEQ("smoke timeout max", cfg.smoke_timeout, 86400);
    expect_bad("smoke timeout too small", append("[smoke]\ntimeout = 0.05\n"), 26,
               "timeout: 0.05 is out of range 0.1..86400 seconds");
    expect_bad("smoke timeout too big", append("[smoke]\ntimeout = 86400.5\n"), 26,
               "out of range");
    expect_bad("smoke timeout four decimals", append("[smoke]\ntimeout = 1.2345\n"), 26,
               "is not a number of seconds");
    expect_bad("smoke timeout bare dot", append("[smoke]\ntimeout = 1.\n"), 26,
               "is not a number of seconds");
    expect_bad("smoke timeout minus", append("[smoke]\ntimeout = -1\n"), 26,
               "is not a number of seconds");
}

static void test_number_errors(void)
{
    expect_bad("count not a number", edit("ingress_count = 2", "ingress_count = 3x"), 21,
               "ingress_count: '3x' is not a number");
    expect_bad("count empty", edit("ingress_count = 2", "ingress_count ="), 21,
               "ingress_count: '' is not a number");
    expect_bad("count negative", edit("ingress_count = 2", "ingress_count = -1"), 21,
               "ingress_count: '-1' is not a number");
    expect_bad("count plus", edit("ingress_count = 2", "ingress_count = +1"), 21, "not a number");
    expect_bad("count too small", edit("ingress_count = 2", "ingress_count = 0"), 21,
               "ingress_count: 0 is out of range 1..1000");
    expect_bad("count too big", edit("minion_count = 3", "minion_count = 1001"), 23,
               "minion_count: 1001 is out of range 0..1000");
    expect_bad("count huge", edit("minion_count = 3", "minion_count = 99999999999999999999"), 23,
               "minion_count: 99999999999999999999 is out of range");
    expect_bad("interval too small", append("[elb]\nhealth_interval = 4\n"), 26, "health_interval");
    expect_bad("concurrency zero", append("[migrate]\nconcurrency = 0\n"), 26, "concurrency");
    expect_bad("smoke timeout zero", append("[smoke]\ntimeout = 0\n"), 26, "timeout");
}

#define ACM "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789"
#define IAM "arn:aws:iam::123456789012:server-certificate/prod/www-2026"

/* SPEC.md "Configuration": LB:INST:https|ssl:CERT_ARN terminates TLS on
 * the ELB; the instance side is HTTP for https and TCP for ssl. */
static void test_tls_listeners(void)
{
    const struct listener *l = cfg.listeners;
    expect_good("https + http listeners", append("[elb]\nlistener = 80:80, 443:80:https:" ACM "\n"
                                                 "ssl_policy = ELBSecurityPolicy-TLS-1-2-2017-01\n"));
    T_INTEQ("two listeners", cfg.n_listeners, 2);
    T_STREQ("plain one is HTTP", l[0].protocol, "HTTP");
    T_STREQ("plain one has no certificate", l[0].cert_arn, "");
    T_OK("https ports", l[1].lb_port == 443 && l[1].instance_port == 80, "%d:%d", l[1].lb_port,
         l[1].instance_port);
    T_STREQ("https protocol", l[1].protocol, "HTTPS");
    T_STREQ("https instance protocol", l[1].instance_protocol, "HTTP");
    T_STREQ("https certificate", l[1].cert_arn, ACM);
    T_STREQ("ssl_policy kept", cfg.ssl_policy, "ELBSecurityPolicy-TLS-1-2-2017-01");
    expect_good("ssl listener with an IAM certificate", append("[elb]\nlistener = 8883:1883:ssl:" IAM "\n"));
    T_STREQ("ssl protocol", l[0].protocol, "SSL");
    T_STREQ("ssl instance protocol", l[0].instance_protocol, "TCP");
    T_STREQ("iam certificate", l[0].cert_arn, IAM);
    T_STREQ("ssl_policy default", cfg.ssl_policy, "");
    expect_good("other partition", append("[elb]\nlistener = 443:80:https:"
                                          "arn:aws-us-gov:acm:us-gov-west-1:123456789012:certificate/ab-12\n"));
    expect_good("443 to 443 over TLS", append("[elb]\nlistener = 443:443:ssl:" ACM "\n"));
}

static void test_tls_listener_errors(void)
{
    expect_bad("plain http on 443", append("[elb]\nlistener = 80:80, 443:80\n"), 26,
               "listener: '443:80' would serve plain HTTP on port 443");
    expect_bad("unknown protocol", append("[elb]\nlistener = 443:80:tls:" ACM "\n"), 26,
               "listener: '443:80:tls:" ACM "' is not LB_PORT");
    expect_bad("https without certificate", append("[elb]\nlistener = 443:80:https\n"), 26,
               "listener: '443:80:https' has no valid certificate ARN");
    expect_bad("https with empty certificate", append("[elb]\nlistener = 443:80:https:\n"), 26,
               "has no valid certificate ARN");
    expect_bad("acm arn without region", append("[elb]\nlistener = 443:80:https:"
               "arn:aws:acm::123456789012:certificate/abc\n"), 26, "has no valid certificate ARN");
    expect_bad("acm arn short account", append("[elb]\nlistener = 443:80:https:"
               "arn:aws:acm:us-east-1:12345:certificate/abc\n"), 26, "has no valid certificate ARN");
    expect_bad("acm arn wrong resource", append("[elb]\nlistener = 443:80:https:"
               "arn:aws:acm:us-east-1:123456789012:key/abc\n"), 26, "has no valid certificate ARN");
    expect_bad("iam arn with a region", append("[elb]\nlistener = 443:80:https:"
               "arn:aws:iam:us-east-1:123456789012:server-certificate/x\n"), 26,
               "has no valid certificate ARN");
    expect_bad("not an aws partition", append("[elb]\nlistener = 443:80:https:"
               "arn:gcp:acm:us-east-1:123456789012:certificate/abc\n"), 26,
               "has no valid certificate ARN");
    expect_bad("s3 arn", append("[elb]\nlistener = 443:80:https:arn:aws:s3:::bucket\n"), 26,
               "has no valid certificate ARN");
    expect_bad("tcp and http on one instance port",
               append("[elb]\nlistener = 80:80, 8883:80:ssl:" ACM "\n"), 26,
               "sends TCP and HTTP to the same instance port");
    expect_bad("ssl_policy without tls", append("[elb]\nlistener = 80:80\n"
               "ssl_policy = ELBSecurityPolicy-2016-08\n"), 27,
               "ssl_policy: 'ELBSecurityPolicy-2016-08' needs an https or ssl listener");
    expect_bad("ssl_policy default listener", append("[elb]\nssl_policy = ELBSecurityPolicy-2016-08\n"),
               26, "needs an https or ssl listener");
    expect_bad("ssl_policy not predefined", append("[elb]\nlistener = 443:80:https:" ACM "\n"
               "ssl_policy = MyPolicy\n"), 27, "ssl_policy: 'MyPolicy' is not a predefined policy");
}

static void test_elb_errors(void)
{
    expect_bad("bad listener: port 0", append("[elb]\nlistener = 80:0\n"), 26,
               "listener: '80:0' is not LB_PORT:INSTANCE_PORT");
    expect_bad("bad listener: one port", append("[elb]\nlistener = 80\n"), 26, "listener: '80'");
    expect_bad("bad listener: big port", append("[elb]\nlistener = 65536:80\n"), 26, "listener");
    expect_bad("bad listener: repeated", append("[elb]\nlistener = 80:80, 80:8080\n"), 26,
               "listener: '80:8080' repeats");
    expect_bad("bad listener: empty", append("[elb]\nlistener =\n"), 26, "listener: needs at least 1");
    expect_bad("bad health target", append("[elb]\nhealth_target = HTTP:80\n"), 26,
               "health_target: 'HTTP:80' is not");
    expect_bad("bad health target: tcp path", append("[elb]\nhealth_target = TCP:80/x\n"), 26,
               "health_target");
    expect_bad("bad elb name", append("[elb]\nlive_name = -live\n"), 26, "live_name: '-live'");
    expect_bad("elb names equal", append("[elb]\nlive_name = x\nprelive_name = X\n"), 27,
               "prelive_name: 'X' is the same as live_name");
    expect_bad("prelive equals default live", append("[elb]\nprelive_name = demo-live\n"), 26,
               "prelive_name: 'demo-live' is the same");
    expect_bad("bad smoke namespace", append("[smoke]\nnamespaces = default, Payments\n"), 26,
               "namespaces: 'Payments' is not a Kubernetes name");
    expect_bad("bad connect_to", append("[smoke]\nconnect_to = a:80:b\n"), 26, "connect_to");
}

static void test_cluster_keys(void)
{
    expect_good("cluster defaults", BASE);
    T_STREQ("kubernetes_version", cfg.cluster[0].kubernetes_version, "1.31.4");
    T_STREQ("pod_cidr default", cfg.cluster[0].pod_cidr.text, "10.244.0.0/16");
    T_STREQ("service_cidr default", cfg.cluster[0].service_cidr.text, "10.96.0.0/12");
    T_INTEQ("master_count default", cfg.cluster[0].master_count, 1);
    expect_good("master_count 3", append("master_count = 3\n"));
    T_INTEQ("master_count 3 read", cfg.cluster[0].master_count, 3);
    expect_bad("missing kubernetes_version", edit("kubernetes_version = 1.31.4\n", ""), 0,
               "missing [cluster a] kubernetes_version");
    expect_bad("bad kubernetes_version", edit("1.31.4", "v1.31"), 24,
               "kubernetes_version: 'v1.31' is not a Kubernetes version like 1.32.4");
    expect_bad("too old kubernetes_version", edit("1.31.4", "1.23.0"), 24, "1.24 or newer");
    expect_bad("master_count 2", append("master_count = 2\n"), 25, "use 1 or 3");
    expect_bad("master_count 4", append("master_count = 4\n"), 25, "master_count");
    expect_bad("pod_cidr in the vpc", append("pod_cidr = 10.0.0.0/16\n"), 25,
               "pod_cidr: 10.0.0.0/16 overlaps vpc_cidr 10.0.0.0/16");
    expect_bad("service_cidr over pods", append("service_cidr = 10.244.0.0/20\n"), 25,
               "service_cidr: 10.244.0.0/20 overlaps pod_cidr 10.244.0.0/16");
    /* A default that clashes still names a line: the section's header. */
    expect_bad("default service_cidr over pods", append("pod_cidr = 10.96.0.0/16\n"), 16,
               "service_cidr: 10.96.0.0/12 overlaps pod_cidr 10.96.0.0/16");
}

static void test_paths(void)
{
    char want[4400], cwd[4096], old_cwd[4096], *home = getenv("HOME");
    char saved_home[4096];
    struct err e;
    int rc;
    snprintf(saved_home, sizeof(saved_home), "%s", home ? home : "");

    expect_good("relative kubeconfig", append("kubeconfig = kube/a.yaml\ncontext = x\n"));
    snprintf(want, sizeof(want), "%s/kube/a.yaml", tmpdir);
    T_STREQ("relative to the file", cfg.cluster[0].kubeconfig, want);
    T_STREQ("context", cfg.cluster[0].context, "x");
    expect_good("absolute kubeconfig", append("kubeconfig = /etc/k.yaml\n"));
    T_STREQ("absolute kept", cfg.cluster[0].kubeconfig, "/etc/k.yaml");

    setenv("HOME", "/home/tester", 1);
    expect_good("~ kubeconfig", append("kubeconfig = ~/.kube/config\n"));
    T_STREQ("~ expands", cfg.cluster[0].kubeconfig, "/home/tester/.kube/config");
    expect_good("~ alone", append("kubeconfig = ~\n"));
    T_STREQ("~ alone expands", cfg.cluster[0].kubeconfig, "/home/tester");
    expect_bad("~user refused", append("kubeconfig = ~bob/k\n"), 25, "kubeconfig: '~bob/k'");
    unsetenv("HOME");
    expect_bad("~ without HOME", append("kubeconfig = ~/k\n"), 25, "HOME is not set");
    if (saved_home[0])
        setenv("HOME", saved_home, 1);

    /* A config named by a relative path still yields an absolute kubeconfig. */
    snprintf(want, sizeof(want), "%s/sub", tmpdir);
    mkdir(want, 0700);
    put_file("sub/c.ini", append("kubeconfig = kube/a.yaml\n"));
    if (!getcwd(old_cwd, sizeof(old_cwd)) || chdir(tmpdir) != 0 || !getcwd(cwd, sizeof(cwd))) {
        printf("FAIL: chdir %s: %s\n", tmpdir, strerror(errno));
        return;
    }
    err_init(&e);
    rc = config_load("sub/c.ini", &cfg, &e);
    snprintf(want, sizeof(want), "%s/sub/kube/a.yaml", cwd);
    T_OK("relative config path loads", rc == 0, "%s", e.msg);
    T_STREQ("relative config path, absolute kubeconfig", cfg.cluster[0].kubeconfig, want);
    T_OK("back to cwd", chdir(old_cwd) == 0, "%s", strerror(errno));
}

static void test_cidr(void)
{
    static const char *const bad[] = {
        "10.0.0.1/31", "256.0.0.0/8", "10.0.0.0/33", "10.0.0.0", "10.0.0.0/", "010.0.0.0/8",
        "10.0.0.0/08", " 10.0.0.0/8", "10.0.0.0/8 ", "10.0.0/8", "1.2.3.4.5/32", "10.0.0.0/-1",
        "", "a.b.c.d/8", "10.0.0.0/1x", "99999999999.0.0.0/8", "10..0.0/8", "10.0.0.0//8",
    };
    struct cidr a, b, c, d, any, host, host2;
    size_t i;
    int rejected = 0;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = cidr_parse(bad[i], &a);
        rejected += rc == -1;
        if (rc != -1)
            printf("  accepted '%s'\n", bad[i]);
    }
    T_INTEQ("cidr_parse rejects malformed", rejected, (int)(sizeof(bad) / sizeof(bad[0])));
    T_OK("cidr 0/0", cidr_parse("0.0.0.0/0", &any) == 0 && any.addr == 0 && any.prefix == 0 &&
                         !strcmp(any.text, "0.0.0.0/0"), "text %s", any.text);
    T_OK("cidr /32 max", cidr_parse("255.255.255.255/32", &host) == 0 &&
                             host.addr == 0xFFFFFFFFu && !strcmp(host.text, "255.255.255.255/32"),
         "text %s", host.text);
    T_OK("cidr value", cidr_parse("192.168.0.0/16", &a) == 0 && a.addr == 0xC0A80000u &&
                           a.prefix == 16, "addr %x", a.addr);
    T_OK("cidr parse set", cidr_parse("10.0.0.0/8", &a) == 0 && cidr_parse("10.1.0.0/16", &b) == 0 &&
                               cidr_parse("10.0.0.0/24", &c) == 0 &&
                               cidr_parse("10.0.1.0/24", &d) == 0 &&
                               cidr_parse("10.0.0.1/32", &host) == 0 &&
                               cidr_parse("10.0.0.0/32", &host2) == 0, "parse failed");
    T_OK("contains: 0/0 holds all", cidr_contains(&any, &a) && cidr_contains(&any, &host), "no");
    T_OK("contains: /8 holds /16", cidr_contains(&a, &b), "no");
    T_OK("contains: /16 not /8", !cidr_contains(&b, &a), "yes");
    T_OK("contains: itself", cidr_contains(&c, &c), "no");
    T_OK("contains: sibling", !cidr_contains(&c, &d) && !cidr_contains(&d, &c), "yes");
    T_OK("contains: /32 in /24", cidr_contains(&c, &host) && !cidr_contains(&d, &host), "no");
    T_OK("overlaps: siblings no", !cidr_overlaps(&c, &d), "yes");
    T_OK("overlaps: nested both ways", cidr_overlaps(&a, &c) && cidr_overlaps(&c, &a), "no");
    T_OK("overlaps: 0/0 with all", cidr_overlaps(&any, &b) && cidr_overlaps(&host, &any), "no");
    T_OK("overlaps: adjacent hosts no", !cidr_overlaps(&host, &host2), "yes");
    T_OK("overlaps: disjoint /16", !cidr_overlaps(&b, &c), "yes");
}

static void test_helpers(void)
{
    struct config c;
    memset(&c, 0, sizeof(c));
    c.health_interval = 10;
    c.healthy_threshold = 2;
    T_INTEQ("swap timeout derived", config_swap_timeout(&c), 120);
    c.health_interval = 300;
    c.healthy_threshold = 10;
    T_INTEQ("swap timeout derived, max", config_swap_timeout(&c), 300 * 10 * 3 + 60);
    c.swap_timeout = 1;
    T_INTEQ("swap timeout explicit wins", config_swap_timeout(&c), 1);
    T_INTEQ("slot a", config_slot_index("a"), 0);
    T_INTEQ("slot b", config_slot_index("b"), 1);
    T_OK("slot other", config_slot_index("c") == -1 && config_slot_index("") == -1 &&
                           config_slot_index("A") == -1 && config_slot_index("ab") == -1, "accepted");
}

static void cleanup(void)
{
    char p[4300];
    snprintf(p, sizeof(p), "%s/sub/c.ini", tmpdir);
    unlink(p);
    snprintf(p, sizeof(p), "%s/sub", tmpdir);
    rmdir(p);
    snprintf(p, sizeof(p), "%s/t.ini", tmpdir);
    unlink(p);
    T_OK("temp dir removed", rmdir(tmpdir) == 0, "%s: %s", tmpdir, strerror(errno));
}

/* [consul] (SPEC.md "Configuration"): service, addresses, files, prefix. */
static void test_consul(void)
{
    int line;
    expect_good("consul proxy", append("[consul]\nservice = consul/consul:8500\nprefix = app/\n"));
    T_STREQ("consul service", cfg.consul_service, "consul/consul:8500");
    T_STREQ("consul prefix", cfg.consul_prefix, "app/");
    expect_good("consul named port", append("[consul]\nservice = ops/consul-server:http\n"));
    expect_good("consul direct", append("[consul]\naddress_a = https://c.a.example.com:8501\n"
                                        "address_b = http://127.0.0.1:8500\n"
                                        "token_file = tok\nca_file = /etc/ca.pem\n"));
    T_STREQ("consul address b", cfg.consul_address_b, "http://127.0.0.1:8500");
    T_STREQ("consul ca", cfg.consul_ca_file, "/etc/ca.pem");
    T_OK("consul token file relative to the config",
         cfg.consul_token_file[0] == '/' && strstr(cfg.consul_token_file, "/tok"), "%s",
         cfg.consul_token_file);
    line = 0;
    for (const char *q = BASE; *q; q++)
        line += *q == '\n';
    expect_bad("consul service without port", append("[consul]\nservice = consul/consul\n"),
               line + 2, "NAMESPACE/SERVICE:PORT");
    expect_bad("consul service port range", append("[consul]\nservice = a/b:70000\n"),
               line + 2, "NAMESPACE/SERVICE:PORT");
    expect_bad("consul address scheme", append("[consul]\naddress_a = consul:8500\n"),
               line + 2, "http://");
    expect_bad("consul prefix slash", append("[consul]\nprefix = /app\n"), line + 2, "'/'");
    expect_bad("consul unknown key", append("[consul]\naddress = http://x:1\n"), line + 2,
               "unknown key 'address' in [consul]");
}

int main(void)
{
    if (!mkdtemp(tmpdir)) {
        printf("FAIL: mkdtemp: %s\n", strerror(errno));
        return 1;
    }
    test_example();
    test_base_and_defaults();
    test_explicit_values();
    test_structure_errors();
    test_paas_errors();
    test_shell_errors();
    test_number_errors();
    test_seconds();
    test_elb_errors();
    test_tls_listeners();
    test_tls_listener_errors();
    test_cluster_keys();
    test_paths();
    test_cidr();
    test_helpers();
    test_consul();
    cleanup();
    return t_done();
}
