/* Unit tests for the pure parts of plans/public_dns.c (SPEC.md "Clusters",
 * DNS, and "Smoke" check 6): the two record names, and the public name
 * smoke probes an Ingress host through when [smoke] connect_to is unset. */
#include "t.h"

#include "plans/public_dns.h"

static void expect_host(const char *name, const char *zone, int which, const char *host,
                        const char *want)
{
    char out[300];
    pdns_host_for(zone, which, host, out, sizeof(out));
    T_STREQ(name, out, want);
}

static void test_record_names(void)
{
    struct paas p;
    char out[300];
    memset(&p, 0, sizeof(p));
    snprintf(p.cfg.dns_zone, sizeof(p.cfg.dns_zone), "paas.example.com");
    pdns_name(&p, PDNS_LIVE, out, sizeof(out));
    T_STREQ("live record name", out, "*.paas.example.com.");
    pdns_name(&p, PDNS_PRELIVE, out, sizeof(out));
    T_STREQ("pre-live record name", out, "*.prelive.paas.example.com.");
    snprintf(p.cfg.dns_zone, sizeof(p.cfg.dns_zone), "paas.example.com.");
    pdns_name(&p, PDNS_LIVE, out, sizeof(out));
    T_STREQ("zone with its final dot", out, "*.paas.example.com.");
}

static void test_smoke_hosts(void)
{
    expect_host("in zone, pre-live", "paas.example.com", PDNS_PRELIVE, "shop.paas.example.com",
                "shop.prelive.paas.example.com");
    expect_host("in zone, live", "paas.example.com", PDNS_LIVE, "shop.paas.example.com",
                "shop.paas.example.com");
    expect_host("two labels", "paas.example.com", PDNS_PRELIVE, "a.shop.paas.example.com",
                "a.shop.prelive.paas.example.com");
    expect_host("case-blind, final dots", "Paas.Example.com.", PDNS_PRELIVE,
                "shop.paas.example.com.", "shop.prelive.Paas.Example.com");
    expect_host("outside the zone, pre-live", "paas.example.com", PDNS_PRELIVE, "shop.example.org",
                "paasctl-smoke.prelive.paas.example.com");
    expect_host("outside the zone, live", "paas.example.com", PDNS_LIVE, "shop.example.org",
                "paasctl-smoke.paas.example.com");
    expect_host("a suffix that is not a label boundary", "example.com", PDNS_PRELIVE,
                "shopexample.com", "paasctl-smoke.prelive.example.com");
    expect_host("the zone apex itself", "paas.example.com", PDNS_PRELIVE, "paas.example.com",
                "paasctl-smoke.prelive.paas.example.com");
}

int main(void)
{
    test_record_names();
    test_smoke_hosts();
    return t_done();
}
