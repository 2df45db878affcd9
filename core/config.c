/* paasctl.ini (SPEC.md "Configuration: paasctl.ini"), read with inih. One
 * table says, for every key, where it goes, how it is checked and its default;
 * the rules between keys (subnets in the VPC, one per zone...) run last. */
#include "config.h"

#include "core/env.h"
#include "buf.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include <unistd.h>

#define LOWER "abcdefghijklmnopqrstuvwxyz"
#define UPPER "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
#define DIGIT "0123456789"
#define HEX DIGIT "abcdef"

/* Which keys a section takes; both [cluster x] sections take the same ones. */
enum config_group { GRP_PAAS, GRP_SHELL, GRP_ELB, GRP_CLUSTER, GRP_SMOKE, GRP_MIGRATE,
                    GRP_CONSUL };

static const struct config_section {
    const char *name;
    enum config_group group;
    int slot;       /* GRP_CLUSTER: index into config.cluster */
    int required;
} config_sections[] = {
    { "paas", GRP_PAAS, 0, 1 },
    { "shell", GRP_SHELL, 0, 1 },
    { "elb", GRP_ELB, 0, 0 },
    { "cluster a", GRP_CLUSTER, 0, 0 },
    { "cluster b", GRP_CLUSTER, 1, 0 },
    { "smoke", GRP_SMOKE, 0, 0 },
    { "migrate", GRP_MIGRATE, 0, 0 },
    { "consul", GRP_CONSUL, 0, 0 },
};
#define CONFIG_N_SECTIONS (sizeof(config_sections) / sizeof(config_sections[0]))
#define CONFIG_KEYS_MAX 64
/* No line of a valid file comes near this (inih's own buffer is 200 bytes);
 * it bounds what one read may take, so `-c /dev/zero` cannot grow. */
#define CONFIG_LINE_MAX 4096

struct config_parse {
    struct config *cfg;
    struct err *e;
    FILE *fp;
    char raw[CONFIG_LINE_MAX + 2]; /* one file line, bounded (see config_getline) */
    struct buf header;         /* a section header, parsed on its own */
    char section[64];          /* ...and its name (inih allows 50 characters) */
    int lineno;                /* the file line inih is working on */
    int failed;                /* e holds the first error: read no further */
    int err_line;
    int section_line[CONFIG_N_SECTIONS];                 /* 0 = absent */
    int key_line[CONFIG_N_SECTIONS][CONFIG_KEYS_MAX];    /* 0 = not set */
};

struct config_key;
typedef int (*config_parse_fn)(struct config_parse *p, const struct config_key *k,
                               void *base, const char *v);
/* One entry of a comma-separated list, the i-th. */
typedef int (*config_item_fn)(struct config_parse *p, const struct config_key *k,
                              void *base, int i, const char *item);

struct config_key {
    enum config_group group;
    int required;
    const char *name;
    config_parse_fn parse;
    size_t off;             /* in struct config, or struct cluster_config for GRP_CLUSTER */
    size_t size;            /* strings: buffer size; lists: size of one entry */
    size_t count_off;       /* lists: the int counting entries */
    int lo, hi;             /* ints: range; CIDRs: prefix range */
    int min_items, max_items;
    config_item_fn item;    /* lists */
    const char *(*check)(const char *v);   /* NULL if v is good, else why not */
    const char *def;        /* default, parsed like a value from the file */
};

/* ---- errors ---------------------------------------------------------- */

static int config_error(struct config_parse *p, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Records the first error; line 0 means the file as a whole. */
static int config_error(struct config_parse *p, int line, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    p->failed = 1;
    p->err_line = line;
    if (line > 0)
        return err_set(p->e, ERR_USAGE, "%s:%d: %s", p->cfg->path, line, msg);
    return err_set(p->e, ERR_USAGE, "%s: %s", p->cfg->path, msg);
}

static int config_bad(struct config_parse *p, const struct config_key *k,
                      const char *v, const char *why)
{
    return config_error(p, p->lineno, "%s: '%s' %s", k->name, v, why);
}

/* ---- character classes and numbers ----------------------------------- */

static int config_in(char c, const char *set)
{
    return c != '\0' && strchr(set, c) != NULL;
}

static int config_all_in(const char *s, size_t len, const char *set)
{
    size_t i;
    for (i = 0; i < len; i++)
        if (!config_in(s[i], set))
            return 0;
    return 1;
}

/* 1..max characters of set, not starting or ending with '-' or '.': the shape
 * of DNS labels, ELB names, Kubernetes names and bucket names alike. */
static int config_word(const char *s, size_t len, const char *set, size_t max)
{
    return len >= 1 && len <= max && config_all_in(s, len, set) &&
           !config_in(s[0], "-.") && !config_in(s[len - 1], "-.");
}

/* No control characters; spaces only if allowed. */
static int config_printable(const char *s, int spaces)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f || (*s == ' ' && !spaces))
            return 0;
    return 1;
}

/* Strict decimal: only digits, no sign or space. Values past 10^9 saturate
 * so that callers' range checks reject them without overflow. */
static int config_digits(const char *s, size_t len)
{
    return len > 0 && config_all_in(s, len, DIGIT);
}

static long config_decimal(const char *s, size_t len)
{
    long v = 0;
    size_t i;
    for (i = 0; i < len && v <= 1000000000L; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

static int config_port(const char *s, size_t len)
{
    long v = config_digits(s, len) ? config_decimal(s, len) : -1;
    return (v >= 1 && v <= 65535) ? (int)v : -1;
}

/* ---- CIDRs ----------------------------------------------------------- */

static uint32_t cidr_mask(int prefix)
{
    return prefix <= 0 ? 0 : 0xFFFFFFFFu << (32 - prefix);
}

/* A decimal in 0..max without leading zeros (no octal look-alikes). */
static long cidr_number(const char **s, long max)
{
    size_t n = strspn(*s, DIGIT);
    long v;
    if (n == 0 || (n > 1 && **s == '0'))
        return -1;
    v = config_decimal(*s, n);
    *s += n;
    return v <= max ? v : -1;
}

/* "a.b.c.d" at the start of s; returns the end, or NULL. */
static const char *cidr_parse_addr(const char *s, uint32_t *out)
{
    int i;
    long octet;
    *out = 0;
    for (i = 0; i < 4; i++) {
        if (i > 0 && *s++ != '.')
            return NULL;
        octet = cidr_number(&s, 255);
        if (octet < 0)
            return NULL;
        *out = (*out << 8) | (uint32_t)octet;
    }
    return s;
}

/* The syntax alone: host bits may be set (the caller says what's wrong). */
static int cidr_parse_any(const char *s, uint32_t *addr, int *prefix)
{
    long n;
    s = cidr_parse_addr(s, addr);
    if (!s || *s++ != '/')
        return -1;
    n = cidr_number(&s, 32);
    *prefix = (int)n;
    return (n < 0 || *s) ? -1 : 0;
}

static void cidr_set(struct cidr *c, uint32_t addr, int prefix)
{
    c->addr = addr & cidr_mask(prefix);
    c->prefix = prefix;
    snprintf(c->text, sizeof(c->text), "%u.%u.%u.%u/%d", (c->addr >> 24) & 0xFFu,
             (c->addr >> 16) & 0xFFu, (c->addr >> 8) & 0xFFu, c->addr & 0xFFu, prefix);
}

int cidr_parse(const char *s, struct cidr *out)
{
    uint32_t addr;
    int prefix;
    if (cidr_parse_any(s, &addr, &prefix) < 0 || (addr & ~cidr_mask(prefix)))
        return -1;
    cidr_set(out, addr, prefix);
    return 0;
}

int cidr_contains(const struct cidr *outer, const struct cidr *inner)
{
    uint32_t m = cidr_mask(outer->prefix);
    return inner->prefix >= outer->prefix && (inner->addr & m) == (outer->addr & m);
}

int cidr_overlaps(const struct cidr *x, const struct cidr *y)
{
    uint32_t m = cidr_mask(x->prefix < y->prefix ? x->prefix : y->prefix);
    return (x->addr & m) == (y->addr & m);
}

/* ---- value checks: NULL if good, else the reason ----------------------- */

static const char *config_check_name(const char *v)
{
    size_t len = strlen(v);
    if (config_in(v[0], LOWER) && len <= 20 && config_all_in(v, len, LOWER DIGIT "-"))
        return NULL;
    return "is not a valid name: a lowercase letter, then up to 19 lowercase letters, "
           "digits or '-'";
}

/* Length of the region at the start of s ([a-z]{2}(-[a-z]+)+-[0-9]+), 0 if
 * none; a zone is a region followed by letters. */
static size_t config_region_len(const char *s)
{
    size_t i = 2, n, words = 0;
    if (!config_in(s[0], LOWER) || !config_in(s[1], LOWER))
        return 0;
    while (s[i] == '-') {
        n = strspn(s + i + 1, LOWER);
        if (n == 0) {
            n = strspn(s + i + 1, DIGIT);
            return (n && words) ? i + 1 + n : 0;
        }
        i += 1 + n;
        words++;
    }
    return 0;
}

static const char *config_check_region(const char *v)
{
    size_t len = config_region_len(v);
    return (!*v || (len && !v[len])) ? NULL : "is not a region like us-east-1";
}

static const char *config_check_zone(const char *v)
{
    size_t len = config_region_len(v);
    if (len && v[len] && strspn(v + len, LOWER) == strlen(v + len))
        return NULL;
    return "is not an availability zone like us-east-1a";
}

static const char *config_check_token(const char *v)
{
    return config_printable(v, 0) ? NULL : "contains spaces or control characters";
}

static const char *config_check_text(const char *v)
{
    return config_printable(v, 1) ? NULL : "contains control characters";
}

static const char *config_check_endpoint(const char *v)
{
    const char *host = !strncmp(v, "http://", 7) ? v + 7 : !strncmp(v, "https://", 8) ? v + 8 : NULL;
    if (!*v || (host && *host && *host != '/' && config_printable(v, 0)))
        return NULL;
    return "is not an http:// or https:// URL";
}

static const char *config_check_bucket(const char *v)
{
    uint32_t ip;
    const char *end = cidr_parse_addr(v, &ip);
    size_t len = strlen(v);
    if (len >= 3 && config_word(v, len, LOWER DIGIT ".-", 63) && !strstr(v, "..") &&
        !(end && !*end) && !strchr(v, '.'))
        return NULL;
    /* Dots are valid S3 names, but BUCKET.s3.REGION.amazonaws.com then no
     * longer matches the certificate's one-label wildcard: refused here
     * rather than failing TLS later (AWS's own advice for new buckets). */
    if (len >= 3 && strchr(v, '.') && !(end && !*end))
        return "has a '.', which breaks TLS with S3's virtual-hosted addressing: use '-' instead";
    return "is not an S3 bucket name: 3-63 lowercase letters, digits or '-', "
           "starting and ending with a letter or digit";
}

static const char *config_check_dns(const char *v)
{
    const char *why = "is not a DNS name like paas.example.com";
    size_t len = strlen(v), n, labels = 0;
    const char *s = v;
    if (len && v[len - 1] == '.')
        len--;                      /* one trailing dot: fully qualified */
    if (len == 0 || len > 253 || v[len - 1] == '.')
        return why;
    while (s < v + len) {
        n = strcspn(s, ".");
        if (!config_word(s, n, LOWER UPPER DIGIT "-", 63))
            return why;
        labels++;
        s += n + 1;
    }
    return labels >= 2 ? NULL : why;
}

static const char *config_check_ami(const char *v)
{
    size_t n = strncmp(v, "ami-", 4) == 0 ? strlen(v + 4) : 0;
    if ((n == 8 || n == 17) && config_all_in(v + 4, n, HEX))
        return NULL;
    return "is not an AMI id: ami- and 8 or 17 lowercase hex digits";
}

/* MAJOR.MINOR.PATCH of a release the Kubernetes package repositories
 * (one per minor, from 1.24 on) serve. */
static const char *config_check_k8s_version(const char *v)
{
    unsigned major, minor, patch;
    int end = 0;
    /* The widths bound every number, %n and the digit check below catch
     * the rest: the errors cert-err34-c guards against cannot happen. */
    /* NOLINTNEXTLINE(cert-err34-c) */
    if (sscanf(v, "%3u.%3u.%3u%n", &major, &minor, &patch, &end) == 3 && v[end] == '\0' &&
        config_all_in(v, strlen(v), DIGIT ".") && major == 1 && minor >= 24)
        return NULL;
    return "is not a Kubernetes version like 1.32.4 (1.24 or newer)";
}

static const char *config_check_instance_type(const char *v)
{
    const char *dot = strchr(v, '.');
    if (dot && config_in(v[0], LOWER) && config_all_in(v, (size_t)(dot - v), LOWER DIGIT "-") &&
        dot[1] && config_all_in(dot + 1, strlen(dot + 1), LOWER DIGIT))
        return NULL;
    return "is not an instance type like t3.micro";
}

static const char *config_check_elb_name(const char *v)
{
    if (config_word(v, strlen(v), LOWER UPPER DIGIT "-", 32))
        return NULL;
    return "is not a load balancer name: 1-32 letters, digits or '-', "
           "not starting or ending with '-'";
}

/* A predefined policy of the ELB (DescribeLoadBalancerPolicies without a
 * name lists them): only the shape is checked here, AWS knows the names. */
static const char *config_check_ssl_policy(const char *v)
{
    size_t len = strlen(v);
    if (len > 18 && len < 64 && !strncmp(v, "ELBSecurityPolicy-", 18) &&
        config_word(v + 18, len - 18, LOWER UPPER DIGIT "-", 45))
        return NULL;
    return "is not a predefined policy name like ELBSecurityPolicy-TLS-1-2-2017-01";
}

static const char *config_check_path(const char *v)
{
    return (v[0] == '/' && config_printable(v, 0)) ? NULL : "is not a path starting with '/'";
}

static const char *config_check_health_target(const char *v)
{
    static const char *const protos[] = { "HTTP:", "HTTPS:", "TCP:", "SSL:" };
    size_t i, len;
    const char *port, *path;
    for (i = 0; i < sizeof(protos) / sizeof(protos[0]); i++) {
        len = strlen(protos[i]);
        if (strncmp(v, protos[i], len) != 0)
            continue;
        port = v + len;
        path = strchr(port, '/');
        len = path ? (size_t)(path - port) : strlen(port);
        /* HTTP(S) checks need a path; TCP and SSL ones cannot have one. */
        if (config_port(port, len) > 0 && (path ? i < 2 && !config_check_path(path) : i >= 2))
            return NULL;
    }
    return "is not HTTP:PORT/PATH, HTTPS:PORT/PATH, TCP:PORT or SSL:PORT";
}

/* curl's CONNECT_TO: HOST:PORT:CONNECT-TO-HOST:CONNECT-TO-PORT, any part
 * empty; colons inside [IPv6] brackets don't count. */
static const char *config_check_connect_to(const char *v)
{
    int colons = 0, depth = 0;
    const char *s;
    for (s = v; *s; s++) {
        depth += (*s == '[') - (*s == ']');
        colons += (*s == ':' && depth == 0);
    }
    if (!*v || (colons == 3 && depth == 0 && config_printable(v, 0)))
        return NULL;
    return "is not HOST:PORT:CONNECT_TO_HOST:CONNECT_TO_PORT";
}

static const char *config_check_k8s_name(const char *v)
{
    if (config_word(v, strlen(v), LOWER DIGIT "-", 63))
        return NULL;
    return "is not a Kubernetes name: up to 63 lowercase letters, digits or '-', "
           "starting and ending with a letter or digit";
}

/* [consul] service: NAMESPACE/SERVICE:PORT, the port a number or a port
 * name, as the API server's service proxy path takes them. */
static const char *config_check_consul_service(const char *v)
{
    const char *slash = strchr(v, '/'), *colon = slash ? strchr(slash, ':') : NULL;
    long port;
    char *end;
    if (!*v)
        return NULL;
    if (slash && colon && config_word(v, (size_t)(slash - v), LOWER DIGIT "-", 63) &&
        config_word(slash + 1, (size_t)(colon - slash - 1), LOWER DIGIT "-", 63) &&
        config_word(colon + 1, strlen(colon + 1), LOWER DIGIT "-", 15)) {
        port = strtol(colon + 1, &end, 10);
        if (*end || (port >= 1 && port <= 65535))
            return NULL;
    }
    return "is not NAMESPACE/SERVICE:PORT like consul/consul:8500";
}

/* [consul] prefix: a KV path; Consul keys never start with '/'. */
static const char *config_check_consul_prefix(const char *v)
{
    if (*v == '/')
        return "must not start with '/'";
    return config_printable(v, 0) ? NULL : "contains spaces or control characters";
}

static const char *config_check_resource(const char *v)
{
    if (config_word(v, strlen(v), LOWER DIGIT "-.", 63))
        return NULL;
    return "is not a resource name like events or deployments.apps";
}

/* ---- parsing values into fields --------------------------------------- */

static int config_store_str(struct config_parse *p, const struct config_key *k,
                            char *dst, const char *v)
{
    const char *why = k->check(v);
    size_t len = strlen(v);
    if (why)
        return config_bad(p, k, v, why);
    if (len >= k->size)
        return config_error(p, p->lineno, "%s: '%s' is longer than %zu characters",
                            k->name, v, k->size - 1);
    memcpy(dst, v, len + 1);
    return 0;
}

static int config_parse_str(struct config_parse *p, const struct config_key *k,
                            void *base, const char *v)
{
    return config_store_str(p, k, (char *)base + k->off, v);
}

static int config_parse_int(struct config_parse *p, const struct config_key *k,
                            void *base, const char *v)
{
    size_t len = strlen(v);
    long n;
    if (!config_digits(v, len))
        return config_bad(p, k, v, "is not a number");
    n = config_decimal(v, len);
    if (n < k->lo || n > k->hi)
        return config_error(p, p->lineno, "%s: %s is out of range %d..%d", k->name, v,
                            k->lo, k->hi);
    *(int *)(void *)((char *)base + k->off) = (int)n;
    return 0;
}

/* Seconds with up to three decimals ("600", "0.5"), lo..hi whole seconds
 * but at least 0.1 s, into a double. A fraction is for tests of failing
 * cases, which would otherwise wait a whole second per case. */
static int config_parse_seconds(struct config_parse *p, const struct config_key *k,
                                void *base, const char *v)
{
    const char *dot = strchr(v, '.');
    size_t whole = dot ? (size_t)(dot - v) : strlen(v);
    size_t frac = dot ? strlen(dot + 1) : 0;
    long ms;
    if (!config_digits(v, whole) || (dot && (frac == 0 || frac > 3 ||
                                             !config_digits(dot + 1, frac))))
        return config_bad(p, k, v, "is not a number of seconds like 600 or 0.5");
    ms = config_decimal(v, whole) * 1000;
    for (size_t i = 0; i < 3; i++)
        ms += i < frac ? (dot[1 + i] - '0') * (i == 0 ? 100 : i == 1 ? 10 : 1) : 0;
    if (ms < 100 || ms < (long)k->lo * 1000 || ms > (long)k->hi * 1000)
        return config_error(p, p->lineno, "%s: %s is out of range %s..%d seconds", k->name,
                            v, k->lo > 0 ? "1" : "0.1", k->hi);
    *(double *)(void *)((char *)base + k->off) = (double)ms / 1000.0;
    return 0;
}

static int config_store_cidr(struct config_parse *p, const struct config_key *k,
                             struct cidr *c, const char *v)
{
    uint32_t addr;
    int prefix;
    if (cidr_parse_any(v, &addr, &prefix) < 0)
        return config_bad(p, k, v, "is not a CIDR like 10.0.0.0/16");
    cidr_set(c, addr, prefix);
    if (c->addr != addr)
        return config_error(p, p->lineno, "%s: '%s' has host bits set; the network address is %s",
                            k->name, v, c->text);
    if (prefix < k->lo || prefix > k->hi)
        return config_error(p, p->lineno, "%s: '%s' must have a prefix from /%d to /%d",
                            k->name, v, k->lo, k->hi);
    return 0;
}

static int config_parse_cidr(struct config_parse *p, const struct config_key *k,
                             void *base, const char *v)
{
    return config_store_cidr(p, k, (struct cidr *)(void *)((char *)base + k->off), v);
}

/* ~ and relative paths (SPEC: relative to the config file), made absolute. */
static int config_resolve_path(struct config_parse *p, const struct config_key *k,
                               const char *v, struct buf *b)
{
    const char *home = env_get("HOME"), *path = p->cfg->path, *slash = strrchr(path, '/');
    char *cwd;
    if (v[0] == '~') {
        if (v[1] && v[1] != '/')
            return config_bad(p, k, v, "uses ~user, which is not supported: use ~/ or a full path");
        if (!home || !*home)
            return config_bad(p, k, v, "starts with ~ but HOME is not set");
        buf_puts(b, home);
        buf_puts(b, v + 1);
        return 0;
    }
    if (v[0] != '/' && path[0] != '/') {
        cwd = getcwd(NULL, 0);
        if (!cwd)
            return config_error(p, p->lineno, "%s: cannot find the current directory: %s",
                                k->name, strerror(errno));
        buf_puts(b, cwd);
        if (b->len && cwd[b->len - 1] != '/')
            buf_putc(b, '/');
        free(cwd);
    }
    if (v[0] != '/' && slash)
        buf_add(b, path, (size_t)(slash - path) + 1);
    buf_puts(b, v);
    return 0;
}

static int config_parse_path(struct config_parse *p, const struct config_key *k,
                             void *base, const char *v)
{
    struct buf b = BUF_INIT;
    int r = 0;
    if (*v)
        r = config_resolve_path(p, k, v, &b);
    if (r == 0 && (b.failed || b.len >= k->size))
        r = config_error(p, p->lineno, "%s: '%s' gives a path that is too long", k->name, v);
    if (r == 0)
        memcpy((char *)base + k->off, buf_str(&b), b.len + 1);
    buf_release(&b);
    return r;
}

/* ---- lists ------------------------------------------------------------ */

static int *config_count(const struct config_key *k, void *base)
{
    return (int *)(void *)((char *)base + k->count_off);
}

/* Copies the next comma-separated entry of *cur, trimmed, into out. Returns
 * 1 with an entry, 0 at the end, -1 if it does not fit. */
static int config_next_item(const char **cur, char *out, size_t n)
{
    const char *s = *cur, *end;
    size_t len;
    if (!s)
        return 0;
    end = strchr(s, ',');
    len = end ? (size_t)(end - s) : strlen(s);
    *cur = end ? end + 1 : NULL;
    while (len && isspace((unsigned char)s[0]))
        s++, len--;
    while (len && isspace((unsigned char)s[len - 1]))
        len--;
    if (len >= n)
        return -1;
    memcpy(out, s, len);
    out[len] = '\0';
    return 1;
}

static int config_parse_list(struct config_parse *p, const struct config_key *k,
                             void *base, const char *v)
{
    char item[256];
    const char *cur = *v ? v : NULL;    /* an empty value is an empty list */
    int n = 0, r;
    while ((r = config_next_item(&cur, item, sizeof(item))) != 0) {
        if (r < 0)
            return config_error(p, p->lineno, "%s: an entry is too long", k->name);
        if (!*item)
            return config_error(p, p->lineno, "%s: empty entry in '%s'", k->name, v);
        if (n == k->max_items)
            return config_error(p, p->lineno, "%s: more than %d entries", k->name, k->max_items);
        if (k->item(p, k, base, n, item) < 0)
            return -1;
        n++;
    }
    if (n < k->min_items)
        return config_error(p, p->lineno, "%s: needs at least %d entries", k->name, k->min_items);
    *config_count(k, base) = n;
    return 0;
}

static int config_item_str(struct config_parse *p, const struct config_key *k,
                           void *base, int i, const char *item)
{
    char *arr = (char *)base + k->off;
    int j;
    if (config_store_str(p, k, arr + (size_t)i * k->size, item) < 0)
        return -1;
    for (j = 0; j < i; j++)
        if (strcmp(arr + (size_t)j * k->size, item) == 0)
            return config_bad(p, k, item, "is listed twice");
    return 0;
}

static int config_item_cidr(struct config_parse *p, const struct config_key *k,
                            void *base, int i, const char *item)
{
    struct cidr *arr = (struct cidr *)(void *)((char *)base + k->off);
    return config_store_cidr(p, k, &arr[i], item);
}

/* The account field of an ARN: 12 digits. */
static int config_arn_account(const char *s, size_t len)
{
    return len == 12 && config_digits(s, len);
}

/* The certificate of an https/ssl listener (SPEC.md "Configuration"):
 * arn:PARTITION:acm:REGION:ACCOUNT:certificate/ID or
 * arn:PARTITION:iam::ACCOUNT:server-certificate/[PATH/]NAME, PARTITION
 * "aws" or "aws-..." (aws-cn, aws-us-gov). NULL if good, else why not. */
static const char *config_check_cert_arn(const char *v)
{
    static const char *const why = "has no valid certificate ARN: want "
        "arn:aws:acm:REGION:ACCOUNT:certificate/ID or "
        "arn:aws:iam::ACCOUNT:server-certificate/NAME";
    const char *f[6];
    size_t len[6];
    const char *s = v;
    int i;
    for (i = 0; i < 6; i++) {       /* the sixth field runs to the end */
        const char *colon = i < 5 ? strchr(s, ':') : NULL;
        f[i] = s;
        len[i] = colon ? (size_t)(colon - s) : strlen(s);
        if (i < 5 && !colon)
            return why;
        s += len[i] + 1;
    }
    if (len[0] != 3 || strncmp(f[0], "arn", 3) != 0 || len[1] < 3 ||
        strncmp(f[1], "aws", 3) != 0 || (len[1] > 3 && f[1][3] != '-') ||
        !config_all_in(f[1], len[1], LOWER "-") || !config_arn_account(f[4], len[4]))
        return why;
    if (len[2] == 3 && !strncmp(f[2], "acm", 3) && len[3] < 32 && len[3] &&
        config_region_len(f[3]) == len[3] && !strncmp(f[5], "certificate/", 12) &&
        f[5][12] && config_all_in(f[5] + 12, strlen(f[5] + 12), LOWER UPPER DIGIT "-"))
        return NULL;
    if (len[2] == 3 && !strncmp(f[2], "iam", 3) && len[3] == 0 &&
        !strncmp(f[5], "server-certificate/", 19) && f[5][19] &&
        config_all_in(f[5] + 19, strlen(f[5] + 19), LOWER UPPER DIGIT "+=,.@_/-"))
        return NULL;
    return why;
}

/* The protocol part of "LB:INST:https:ARN" into l; NULL or why not. */
static const char *config_listener_tls(const char *rest, struct listener *l)
{
    const char *colon = strchr(rest, ':'), *why;
    size_t n = colon ? (size_t)(colon - rest) : strlen(rest);
    if (n == 5 && !strncmp(rest, "https", 5))
        snprintf(l->protocol, sizeof(l->protocol), "HTTPS");
    else if (n == 3 && !strncmp(rest, "ssl", 3))
        snprintf(l->protocol, sizeof(l->protocol), "SSL");
    else
        return "is not LB_PORT:INSTANCE_PORT or LB_PORT:INSTANCE_PORT:https|ssl:CERT_ARN";
    why = config_check_cert_arn(colon ? colon + 1 : "");
    if (why)
        return why;
    snprintf(l->instance_protocol, sizeof(l->instance_protocol), "%s",
             l->protocol[0] == 'S' ? "TCP" : "HTTP");
    snprintf(l->cert_arn, sizeof(l->cert_arn), "%s", colon + 1);
    return NULL;
}

/* Parses one listener entry into l; NULL if good, else why not. */
static const char *config_listener_parse(const char *item, struct listener *l)
{
    const char *c1 = strchr(item, ':');
    const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    memset(l, 0, sizeof(*l));
    l->lb_port = c1 ? config_port(item, (size_t)(c1 - item)) : -1;
    l->instance_port = c1 ? config_port(c1 + 1, c2 ? (size_t)(c2 - c1 - 1) : strlen(c1 + 1)) : -1;
    if (l->lb_port < 0 || l->instance_port < 0)
        return "is not LB_PORT:INSTANCE_PORT with ports 1..65535";
    if (c2)
        return config_listener_tls(c2 + 1, l);
    /* SPEC.md "Configuration": 443 is where browsers expect TLS; plain
     * HTTP there is a mistake, not a choice. */
    if (l->lb_port == 443)
        return "would serve plain HTTP on port 443: use 443:PORT:https:CERT_ARN";
    snprintf(l->protocol, sizeof(l->protocol), "HTTP");
    snprintf(l->instance_protocol, sizeof(l->instance_protocol), "HTTP");
    return NULL;
}

static int config_item_listener(struct config_parse *p, const struct config_key *k,
                                void *base, int i, const char *item)
{
    struct listener *arr = (struct listener *)(void *)((char *)base + k->off);
    const char *why = config_listener_parse(item, &arr[i]);
    int j;
    if (why)
        return config_bad(p, k, item, why);
    for (j = 0; j < i; j++) {
        if (arr[j].lb_port == arr[i].lb_port)
            return config_bad(p, k, item, "repeats a load balancer port");
        /* The ELB API refuses HTTP and TCP to one instance port. */
        if (arr[j].instance_port == arr[i].instance_port &&
            strcmp(arr[j].instance_protocol, arr[i].instance_protocol) != 0)
            return config_bad(p, k, item, "sends TCP and HTTP to the same instance port");
    }
    return 0;
}

/* ---- the keys --------------------------------------------------------- */

/* The table's macros take a struct type (T) and field designators (f, n),
 * which C cannot parenthesize, and put every value argument in a
 * designated initializer (.x = arg) where no operator can bind across it:
 * bugprone-macro-parentheses has nothing to catch here. */
/* NOLINTBEGIN(bugprone-macro-parentheses) */
#define FSIZE(T, f) sizeof(((T *)0)->f)
#define FDIM(T, f) (int)(sizeof(((T *)0)->f) / sizeof(((T *)0)->f[0]))

#define STR_T(T, g, key, f, chk, req, dflt)                                  \
    { .group = g, .name = key, .parse = config_parse_str, .off = offsetof(T, f), \
      .size = FSIZE(T, f), .check = chk, .required = req, .def = dflt }
#define INT_T(T, g, key, f, min, max, req, dflt)                             \
    { .group = g, .name = key, .parse = config_parse_int, .off = offsetof(T, f), \
      .lo = min, .hi = max, .required = req, .def = dflt }
#define STR(g, key, f, chk, req, dflt) STR_T(struct config, g, key, f, chk, req, dflt)
#define INT(g, key, f, min, max, dflt) INT_T(struct config, g, key, f, min, max, 0, dflt)
#define CLUSTER_STR(key, f, chk) STR_T(struct cluster_config, GRP_CLUSTER, key, f, chk, 1, NULL)
#define CLUSTER_INT(key, f, min, max) INT_T(struct cluster_config, GRP_CLUSTER, key, f, min, max, 1, NULL)
#define CIDR(g, key, f, min, max)                                           \
    { .group = g, .name = key, .parse = config_parse_cidr,                  \
      .off = offsetof(struct config, f), .lo = min, .hi = max, .required = 1 }
#define CLUSTER_CIDR(key, f, dflt)                                          \
    { .group = GRP_CLUSTER, .name = key, .parse = config_parse_cidr,        \
      .off = offsetof(struct cluster_config, f), .lo = 8, .hi = 28, .def = dflt }
#define LIST_AT(f, n)                                                        \
    .parse = config_parse_list, .off = offsetof(struct config, f),          \
    .size = FSIZE(struct config, f[0]), .count_off = offsetof(struct config, n), \
    .max_items = FDIM(struct config, f)
#define LIST(g, key, f, n, chk, min, req, dflt)                              \
    { .group = g, .name = key, LIST_AT(f, n), .item = config_item_str, .check = chk, \
      .min_items = min, .required = req, .def = dflt }
#define SUBNETS(key, f, n)                                                   \
    { .group = GRP_SHELL, .name = key, LIST_AT(f, n), .item = config_item_cidr, \
      .min_items = 1, .required = 1, .lo = 16, .hi = 28 }
/* NOLINTEND(bugprone-macro-parentheses) */

static const struct config_key config_keys[] = {
    STR(GRP_PAAS, "name", name, config_check_name, 1, NULL),
    STR(GRP_PAAS, "region", region, config_check_region, 0, NULL),
    STR(GRP_PAAS, "profile", profile, config_check_token, 0, NULL),
    STR(GRP_PAAS, "endpoint", endpoint, config_check_endpoint, 0, NULL),
    STR(GRP_PAAS, "state_bucket", state_bucket, config_check_bucket, 1, NULL),

    CIDR(GRP_SHELL, "vpc_cidr", vpc_cidr, 16, 28),
    LIST(GRP_SHELL, "zones", zones, n_zones, config_check_zone, 1, 1, NULL),
    SUBNETS("public_subnets", public_subnets, n_public_subnets),
    SUBNETS("private_subnets", private_subnets, n_private_subnets),
    STR(GRP_SHELL, "dns_zone", dns_zone, config_check_dns, 1, NULL),
    CIDR(GRP_SHELL, "admin_cidr", admin_cidr, 0, 32),
    STR(GRP_SHELL, "bastion_ami", bastion_ami, config_check_ami, 1, NULL),
    STR(GRP_SHELL, "bastion_type", bastion_type, config_check_instance_type, 1, NULL),
    STR(GRP_SHELL, "key_name", key_name, config_check_text, 0, NULL),

    /* live_name and prelive_name default to NAME-live/-prelive: see config_check_elb */
    STR(GRP_ELB, "live_name", live_name, config_check_elb_name, 0, NULL),
    STR(GRP_ELB, "prelive_name", prelive_name, config_check_elb_name, 0, NULL),
    { .group = GRP_ELB, .name = "listener", LIST_AT(listeners, n_listeners),
      .item = config_item_listener, .min_items = 1, .def = "80:80" },
    STR(GRP_ELB, "health_target", health_target, config_check_health_target, 0,
        "HTTP:80/healthz"),
    INT(GRP_ELB, "health_interval", health_interval, 5, 300, "10"),
    INT(GRP_ELB, "healthy_threshold", healthy_threshold, 2, 10, "2"),
    INT(GRP_ELB, "unhealthy_threshold", unhealthy_threshold, 2, 10, "2"),
    INT(GRP_ELB, "draining_timeout", draining_timeout, 1, 3600, "300"),
    INT(GRP_ELB, "swap_timeout", swap_timeout, 0, 3600, "0"),
    STR(GRP_ELB, "ssl_policy", ssl_policy, config_check_ssl_policy, 0, NULL),

    CLUSTER_STR("ami", ami, config_check_ami),
    CLUSTER_STR("auth_type", auth_type, config_check_instance_type),
    CLUSTER_STR("master_type", master_type, config_check_instance_type),
    CLUSTER_STR("ingress_type", ingress_type, config_check_instance_type),
    CLUSTER_INT("ingress_count", ingress_count, 1, 1000),
    CLUSTER_STR("minion_type", minion_type, config_check_instance_type),
    CLUSTER_INT("minion_count", minion_count, 0, 1000),
    CLUSTER_STR("kubernetes_version", kubernetes_version, config_check_k8s_version),
    CLUSTER_CIDR("pod_cidr", pod_cidr, "10.244.0.0/16"),
    CLUSTER_CIDR("service_cidr", service_cidr, "10.96.0.0/12"),
    INT_T(struct cluster_config, GRP_CLUSTER, "master_count", master_count, 1, 3, 0, "1"),
    { .group = GRP_CLUSTER, .name = "kubeconfig", .parse = config_parse_path,
      .off = offsetof(struct cluster_config, kubeconfig),
      .size = FSIZE(struct cluster_config, kubeconfig) },
    STR_T(struct cluster_config, GRP_CLUSTER, "context", context, config_check_text, 0, NULL),

    { .group = GRP_SMOKE, .name = "timeout", .parse = config_parse_seconds,
      .off = offsetof(struct config, smoke_timeout), .lo = 0, .hi = 86400, .def = "600" },
    LIST(GRP_SMOKE, "namespaces", smoke_namespaces, n_smoke_namespaces, config_check_k8s_name,
         0, 0, NULL),
    STR(GRP_SMOKE, "path", smoke_path, config_check_path, 0, "/healthz"),
    STR(GRP_SMOKE, "connect_to", connect_to, config_check_connect_to, 0, NULL),

    LIST(GRP_MIGRATE, "exclude_namespaces", exclude_namespaces, n_exclude_namespaces,
         config_check_k8s_name, 0, 0, "kube-system, kube-public, kube-node-lease"),
    LIST(GRP_MIGRATE, "exclude_resources", exclude_resources, n_exclude_resources,
         config_check_resource, 0, 0, "events, nodes"),
    INT(GRP_MIGRATE, "concurrency", migrate_concurrency, 1, 256, "16"),
    INT(GRP_MIGRATE, "qps", migrate_qps, 0, 10000, "0"),

    STR(GRP_CONSUL, "service", consul_service, config_check_consul_service, 0, NULL),
    STR(GRP_CONSUL, "address_a", consul_address_a, config_check_endpoint, 0, NULL),
    STR(GRP_CONSUL, "address_b", consul_address_b, config_check_endpoint, 0, NULL),
    { .group = GRP_CONSUL, .name = "token_file", .parse = config_parse_path,
      .off = offsetof(struct config, consul_token_file),
      .size = FSIZE(struct config, consul_token_file) },
    { .group = GRP_CONSUL, .name = "ca_file", .parse = config_parse_path,
      .off = offsetof(struct config, consul_ca_file),
      .size = FSIZE(struct config, consul_ca_file) },
    STR(GRP_CONSUL, "prefix", consul_prefix, config_check_consul_prefix, 0, NULL),
};
#define CONFIG_N_KEYS (sizeof(config_keys) / sizeof(config_keys[0]))
_Static_assert(CONFIG_N_KEYS <= CONFIG_KEYS_MAX, "raise CONFIG_KEYS_MAX");

static int config_find_section(const char *name)
{
    size_t s;
    for (s = 0; s < CONFIG_N_SECTIONS; s++)
        if (strcmp(config_sections[s].name, name) == 0)
            return (int)s;
    return -1;
}

static int config_find_key(enum config_group g, const char *name)
{
    size_t k;
    for (k = 0; k < CONFIG_N_KEYS; k++)
        if (config_keys[k].group == g && strcmp(config_keys[k].name, name) == 0)
            return (int)k;
    return -1;
}

/* The line where [section] key was set, 0 if it was not. */
static int config_key_line(const struct config_parse *p, const char *section, const char *key)
{
    int s = config_find_section(section);
    int k = config_find_key(config_sections[s].group, key);
    return p->key_line[s][k];
}

/* The line of a key, or of its section's header when the key was left to
 * its default: a defaulted value that clashes still gets a line. */
static int config_key_or_section_line(const struct config_parse *p, const char *section,
                                      const char *key)
{
    int line = config_key_line(p, section, key);
    return line ? line : p->section_line[config_find_section(section)];
}

static void *config_base(struct config *cfg, size_t s)
{
    if (config_sections[s].group == GRP_CLUSTER)
        return &cfg->cluster[config_sections[s].slot];
    return cfg;
}

/* ---- reading the file with inih ---------------------------------------- */

/* inih calls this for the dummy key of the document config_section_start
 * feeds it: section is the header's name as inih parsed it. */
static int config_on_section(void *user, const char *section, const char *name,
                             const char *value)
{
    struct config_parse *p = user;
    (void)name;
    (void)value;
    snprintf(p->section, sizeof(p->section), "%s", section);
    return 1;
}

/* This inih is built without INI_CALL_HANDLER_ON_NEW_SECTION, so an empty
 * [cluster b] (present, keys missing) or a misspelt empty section would go
 * unseen. Parsing the header line alone plus a dummy key makes inih itself
 * name the section, without shifting the line numbers of the main parse. */
static int config_section_start(struct config_parse *p, const char *line)
{
    int s;
    buf_reset(&p->header);
    buf_puts(&p->header, line);
    buf_puts(&p->header, "\n_=\n");
    if (p->header.failed)
        return config_error(p, p->lineno, "out of memory");
    /* A malformed header is left to the main parse, which reports it. */
    if (ini_parse_string(buf_str(&p->header), config_on_section, p) != 0)
        return 0;
    s = config_find_section(p->section);
    if (s < 0)
        return config_error(p, p->lineno, "unknown section [%s]", p->section);
    if (!p->section_line[s])
        p->section_line[s] = p->lineno;
    if (config_sections[s].group == GRP_CLUSTER)
        p->cfg->cluster[config_sections[s].slot].present = 1;
    return 0;
}

/* Skips a NUL-free line's leading blanks (and a UTF-8 BOM on line 1). */
static const char *config_line_start(struct config_parse *p, size_t got)
{
    const char *s = p->raw;
    if (strlen(s) != got) {
        config_error(p, p->lineno, "contains a NUL byte");
        return NULL;
    }
    if (p->lineno == 1 && !strncmp(s, "\xEF\xBB\xBF", 3))
        s += 3;
    while (isspace((unsigned char)*s))
        s++;
    return s;
}

/* inih's reader (fgets-like). Debian's inih does not pass line numbers to the
 * handler (INI_HANDLER_LINENO is off), so we feed it one file line per call
 * and count them here: p->lineno is then the line the handler is looking at.
 * Leading blanks are dropped so an indented key is not taken for a
 * continuation of the previous value (inih's multi-line mode). */
/* Reads one line (its '\n' kept) into p->raw, at most CONFIG_LINE_MAX
 * bytes: a longer line is an error before more of it is read. Returns its
 * length, or -1 at the end of the file or on an error (p->failed set). */
static ssize_t config_getline(struct config_parse *p)
{
    size_t n = 0;
    int c;
    errno = 0;
    while ((c = getc(p->fp)) != EOF) {
        if (n == CONFIG_LINE_MAX) {
            config_error(p, p->lineno + 1, "line is longer than %d characters",
                         CONFIG_LINE_MAX);
            return -1;
        }
        p->raw[n++] = (char)c;
        if (c == '\n')
            break;
    }
    if (c == EOF && ferror(p->fp)) {
        config_error(p, 0, "cannot read: %s", strerror(errno));
        return -1;
    }
    p->raw[n] = '\0';
    return n ? (ssize_t)n : -1;
}

static char *config_read_line(char *str, int num, void *stream)
{
    struct config_parse *p = stream;
    const char *line;
    ssize_t got;
    size_t len;
    if (p->failed)
        return NULL;              /* the first error is the one reported */
    got = config_getline(p);
    if (got < 0)
        return NULL;
    p->lineno++;
    line = config_line_start(p, (size_t)got);
    if (!line)
        return NULL;
    len = strcspn(line, "\n");
    /* inih's line buffer is fixed; a longer line would be silently split. */
    if (num < 2 || len > (size_t)num - 2) {
        config_error(p, p->lineno, "line is longer than %d characters", num - 2);
        return NULL;
    }
    memcpy(str, line, len);
    memcpy(str + len, "\n", 2);
    if (line[0] == '[' && config_section_start(p, line) < 0)
        return NULL;
    return str;
}

static int config_apply(struct config_parse *p, const char *section, const char *name,
                        const char *value)
{
    int s = config_find_section(section), k;
    if (s < 0)
        return config_error(p, p->lineno, "key '%s' is not in a section", name);
    k = config_find_key(config_sections[s].group, name);
    if (k < 0)
        return config_error(p, p->lineno, "unknown key '%s' in [%s]", name, section);
    if (p->key_line[s][k])
        return config_error(p, p->lineno, "duplicate key '%s' in [%s] (first on line %d)",
                            name, section, p->key_line[s][k]);
    p->key_line[s][k] = p->lineno;
    return config_keys[k].parse(p, &config_keys[k], config_base(p->cfg, (size_t)s), value);
}

static int config_on_key(void *user, const char *section, const char *name, const char *value)
{
    struct config_parse *p = user;
    return !p->failed && config_apply(p, section, name, value) == 0;
}

static int config_read(struct config_parse *p)
{
    int ret = ini_parse_stream(config_read_line, p, config_on_key, p);
    /* ret is the first line inih disliked: its own syntax error, or ours. */
    if (ret > 0 && (!p->failed || ret < p->err_line))
        return config_error(p, ret, "expected 'key = value' or '[section]'");
    if (ret < 0 && !p->failed)
        return config_error(p, 0, "cannot parse (out of memory)");
    return p->failed ? -1 : 0;
}

/* ---- whole-file steps ---------------------------------------------------- */

static int config_apply_defaults(struct config_parse *p)
{
    size_t s, k;
    for (s = 0; s < CONFIG_N_SECTIONS; s++)
        for (k = 0; k < CONFIG_N_KEYS; k++)
            if (config_keys[k].group == config_sections[s].group && config_keys[k].def &&
                config_keys[k].parse(p, &config_keys[k], config_base(p->cfg, s),
                                     config_keys[k].def) < 0)
                return -1;
    return 0;
}

static int config_check_required(struct config_parse *p)
{
    size_t s, k;
    for (s = 0; s < CONFIG_N_SECTIONS; s++) {
        if (!p->section_line[s]) {
            if (config_sections[s].required)
                return config_error(p, 0, "missing section [%s]", config_sections[s].name);
            continue;
        }
        for (k = 0; k < CONFIG_N_KEYS; k++)
            if (config_keys[k].group == config_sections[s].group && config_keys[k].required &&
                !p->key_line[s][k])
                return config_error(p, 0, "missing [%s] %s", config_sections[s].name,
                                    config_keys[k].name);
    }
    return 0;
}

static int config_check_zones(struct config_parse *p)
{
    const struct config *c = p->cfg;
    size_t len = strlen(c->region);
    int i;
    for (i = 0; i < c->n_zones && len; i++)
        if (config_region_len(c->zones[i]) != len || strncmp(c->zones[i], c->region, len) != 0)
            return config_error(p, config_key_line(p, "shell", "zones"),
                                "zones: '%s' is not in region %s", c->zones[i], c->region);
    return 0;
}

/* One per zone, inside the VPC, no two overlapping (public or private). */
static int config_check_subnets(struct config_parse *p)
{
    const struct config *c = p->cfg;
    const char *keys[2] = { "public_subnets", "private_subnets" };
    const struct cidr *lists[2] = { c->public_subnets, c->private_subnets };
    const int counts[2] = { c->n_public_subnets, c->n_private_subnets };
    const struct cidr *net[2 * CONFIG_MAX_ZONES];
    const char *key[2 * CONFIG_MAX_ZONES];
    int l, i, j, n = 0, line;
    for (l = 0; l < 2; l++) {
        line = config_key_line(p, "shell", keys[l]);
        if (counts[l] != c->n_zones)
            return config_error(p, line, "%s has %d entries but zones has %d", keys[l],
                                counts[l], c->n_zones);
        for (i = 0; i < counts[l]; i++, n++) {
            net[n] = &lists[l][i];
            key[n] = keys[l];
            if (!cidr_contains(&c->vpc_cidr, net[n]))
                return config_error(p, line, "%s: %s is outside vpc_cidr %s", keys[l],
                                    net[n]->text, c->vpc_cidr.text);
        }
    }
    for (j = 1; j < n; j++)
        for (i = 0; i < j; i++)
            if (cidr_overlaps(net[i], net[j]))
                return config_error(p, config_key_line(p, "shell", key[j]),
                                    "%s: %s overlaps %s %s", key[j], net[j]->text, key[i],
                                    net[i]->text);
    return 0;
}

/* Each present slot: master_count 1 or 3 (stacked etcd needs a quorum),
 * and its pod and service networks clear of the VPC and of each other
 * (routes to either would otherwise shadow the subnets). */
static int config_check_clusters(struct config_parse *p)
{
    static const char *const sect[2] = { "cluster a", "cluster b" };
    const struct cluster_config *cl;
    int i;
    for (i = 0; i < 2; i++) {
        cl = &p->cfg->cluster[i];
        if (!cl->present)
            continue;
        if (cl->master_count == 2)
            return config_error(p, config_key_line(p, sect[i], "master_count"),
                                "master_count: 2 has no etcd quorum to spare; use 1 or 3");
        if (cidr_overlaps(&cl->pod_cidr, &p->cfg->vpc_cidr))
            return config_error(p, config_key_or_section_line(p, sect[i], "pod_cidr"),
                                "pod_cidr: %s overlaps vpc_cidr %s", cl->pod_cidr.text,
                                p->cfg->vpc_cidr.text);
        if (cidr_overlaps(&cl->service_cidr, &p->cfg->vpc_cidr))
            return config_error(p, config_key_or_section_line(p, sect[i], "service_cidr"),
                                "service_cidr: %s overlaps vpc_cidr %s", cl->service_cidr.text,
                                p->cfg->vpc_cidr.text);
        if (cidr_overlaps(&cl->service_cidr, &cl->pod_cidr))
            return config_error(p, config_key_or_section_line(p, sect[i], "service_cidr"),
                                "service_cidr: %s overlaps pod_cidr %s", cl->service_cidr.text,
                                cl->pod_cidr.text);
    }
    return 0;
}

/* ssl_policy negotiates TLS: without an https/ssl listener it would
 * silently do nothing. */
static int config_check_ssl_policy_use(struct config_parse *p)
{
    const struct config *c = p->cfg;
    for (int i = 0; i < c->n_listeners; i++)
        if (c->listeners[i].cert_arn[0])
            return 0;
    if (!c->ssl_policy[0])
        return 0;
    return config_error(p, config_key_line(p, "elb", "ssl_policy"),
                        "ssl_policy: '%s' needs an https or ssl listener", c->ssl_policy);
}

static int config_check_elb(struct config_parse *p)
{
    struct config *c = p->cfg;
    int live = config_key_line(p, "elb", "live_name");
    int prelive = config_key_line(p, "elb", "prelive_name");
    if (!live)
        snprintf(c->live_name, sizeof(c->live_name), "%s-live", c->name);
    if (!prelive)
        snprintf(c->prelive_name, sizeof(c->prelive_name), "%s-prelive", c->name);
    /* ELB names are unique regardless of case. */
    if (strcasecmp(c->live_name, c->prelive_name) == 0)
        return config_error(p, prelive ? prelive : live, "prelive_name: '%s' is the same as live_name",
                            c->prelive_name);
    return config_check_ssl_policy_use(p);
}

int config_default_kubeconfig(const struct config *cfg, const char *slot, char *out,
                              size_t size)
{
    const char *home = env_get("HOME");
    int n;
    if (!home || !*home)
        return -1;
    n = snprintf(out, size, "%s/.kube/paasctl-%s-%s.yaml", home, cfg->name, slot);
    return n > 0 && (size_t)n < size ? 0 : -1;
}

/* SPEC.md "Clusters": an unset [cluster x] kubeconfig is what `paasctl
 * kubeconfig x` writes, ~/.kube/paasctl-NAME-SLOT.yaml (left "" without
 * a HOME: then $KUBECONFIG / ~/.kube/config rules, as kubectl's). */
static int config_fill_kubeconfig(struct config_parse *p)
{
    static const char *const slots[2] = { "a", "b" };
    for (int i = 0; i < 2; i++) {
        struct cluster_config *cc = &p->cfg->cluster[i];
        if (cc->present && !cc->kubeconfig[0] &&
            config_default_kubeconfig(p->cfg, slots[i], cc->kubeconfig,
                                      sizeof(cc->kubeconfig)) < 0)
            cc->kubeconfig[0] = '\0';
    }
    return 0;
}

int config_load(const char *path, struct config *cfg, struct err *e)
{
    static int (*const steps[])(struct config_parse *) = {
        config_apply_defaults, config_read, config_check_required,
        config_check_zones, config_check_subnets, config_check_clusters, config_check_elb,
        config_fill_kubeconfig,
    };
    struct config_parse *p;
    size_t i;
    int r = 0;
    memset(cfg, 0, sizeof(*cfg));
    if (strlen(path) >= sizeof(cfg->path))
        return err_set(e, ERR_USAGE, "%s: path too long", path);
    memcpy(cfg->path, path, strlen(path) + 1);
    p = calloc(1, sizeof(*p));        /* key_line is a few KB: not the stack */
    if (!p)
        return err_set(e, ERR_USAGE, "%s: out of memory", path);
    p->cfg = cfg;
    p->e = e;
    p->fp = fopen(path, "r");
    if (!p->fp)
        r = err_set(e, ERR_USAGE, "%s: cannot read: %s", path, strerror(errno));
    for (i = 0; r == 0 && i < sizeof(steps) / sizeof(steps[0]); i++)
        r = steps[i](p);
    if (p->fp)
        fclose(p->fp);
    buf_release(&p->header);
    free(p);
    return r;
}

int config_swap_timeout(const struct config *cfg)
{
    if (cfg->swap_timeout > 0)
        return cfg->swap_timeout;
    return cfg->health_interval * cfg->healthy_threshold * 3 + 60;
}

int config_slot_index(const char *slot)
{
    if (strcmp(slot, "a") == 0)
        return 0;
    if (strcmp(slot, "b") == 0)
        return 1;
    return -1;
}
