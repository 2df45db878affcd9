/* AWS regions and endpoints (SPEC.md "AWS conventions"): the region from
 * [paas] region, the environment or the profile; per-partition service
 * endpoints, each overridable by AWS_ENDPOINT_URL[_SERVICE] or [paas]
 * endpoint; and the URL checks shared with the IMDS client. */
#include "aws/endpoint.h"

#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "aws/creds.h"
#include "core/env.h"

#define ENDPOINT_NO_REGION \
    "no AWS region: set [paas] region, AWS_REGION or a profile region"

/* 1 when the first n bytes of s are all from the set chars. */
static int endpoint_all_in(const char *s, size_t n, const char *chars)
{
    for (size_t i = 0; i < n; i++)
        if (!s[i] || !strchr(chars, s[i]))
            return 0;
    return 1;
}

/* ---- endpoint URLs (shared by IMDS and the service endpoints) ---------- */

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
int aws_endpoint_url_set(char *out, size_t size, const char *url,
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

/* ---- region ------------------------------------------------------------- */

/* Region names go into hostnames, so only [a-z0-9-] passes. */
static int endpoint_region_copy(const char *region, const char *what,
                             char *out, size_t size, struct err *e)
{
    size_t n = strlen(region);
    if (n == 0 || n > 31 ||
        !endpoint_all_in(region, n, "abcdefghijklmnopqrstuvwxyz0123456789-"))
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
    char region[64], what[4096 + 128];
    int rc;
    if (cfg_region && *cfg_region)
        return endpoint_region_copy(cfg_region, "[paas] region", out, size, e);
    for (size_t i = 0; i < sizeof(env_vars) / sizeof(*env_vars); i++)
        if (env_get(env_vars[i]))
            return endpoint_region_copy(env_get(env_vars[i]), env_vars[i], out, size, e);
    /* Read only now: a broken config file must not matter when env decides. */
    rc = aws_profile_region(profile, region, sizeof(region), what, sizeof(what), e);
    if (rc > 0)
        return err_set(e, ERR_USAGE, ENDPOINT_NO_REGION);
    return rc < 0 ? -1 : endpoint_region_copy(region, what, out, size, e);
}

/* ---- endpoints ---------------------------------------------------------- */

static const struct endpoint_service {
    const char *env;            /* AWS_ENDPOINT_URL_<env> */
    const char *signing_name;   /* also the first label of its hostname */
} endpoint_services[AWS_N_SERVICES] = {
    [AWS_EC2] = { "EC2", "ec2" },
    [AWS_ELB] = { "ELASTIC_LOAD_BALANCING", "elasticloadbalancing" },
    [AWS_S3] = { "S3", "s3" },
    [AWS_ROUTE53] = { "ROUTE_53", "route53" },
    [AWS_STS] = { "STS", "sts" },
    [AWS_IAM] = { "IAM", "iam" },
    [AWS_SERVICE_QUOTAS] = { "SERVICE_QUOTAS", "servicequotas" },
};

/* Partitions by region prefix; the last one catches every other region.
 * Global services live in one region of each (botocore's endpoints.json). */
static const struct endpoint_partition {
    const char *prefix;
    const char *dns_suffix;
    const char *route53_url, *route53_region;
    const char *iam_url, *iam_region;
} endpoint_partitions[] = {
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

static const struct endpoint_partition *endpoint_partition_of(const char *region)
{
    size_t i = 0;
    while (strncmp(region, endpoint_partitions[i].prefix,
                   strlen(endpoint_partitions[i].prefix)) != 0)
        i++;
    return &endpoint_partitions[i];
}

const char *aws_service_signing_name(enum aws_service svc)
{
    return (unsigned)svc < AWS_N_SERVICES ? endpoint_services[svc].signing_name
                                          : NULL;
}

/* Fills signing_region, and url unless overridden later. */
static int endpoint_real(enum aws_service svc, const char *region,
                               struct aws_endpoint *out, struct err *e)
{
    const struct endpoint_partition *part =
        endpoint_partition_of(region ? region : "");
    const char *url = NULL, *sign = region;
    if (region && endpoint_region_copy(region, "region", out->signing_region,
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
        return err_set(e, ERR_USAGE, ENDPOINT_NO_REGION);
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
    out->signing_name = endpoint_services[svc].signing_name;
    if (endpoint_real(svc, region && *region ? region : NULL, out, e))
        return -1;
    snprintf(var, sizeof(var), "AWS_ENDPOINT_URL_%s", endpoint_services[svc].env);
    what = var;
    url = env_get(var);
    if (!url && (url = env_get("AWS_ENDPOINT_URL")))
        what = "AWS_ENDPOINT_URL";
    if (!url && cfg_endpoint && *cfg_endpoint) {
        what = "[paas] endpoint";
        url = cfg_endpoint;
    }
    if (!url)
        return 0;
    out->overridden = 1;
    return aws_endpoint_url_set(out->url, sizeof(out->url), url, what, e);
}
