/* Unit tests of pre-flight's pure parts (README "Pre-flight"): what a plan
 * wants (only `+ create` entries: instances by type, Elastic IPs, and the
 * image of the launches) and which instance types count against the
 * On-Demand standard vCPU quota; and the transport's reading of a JSON
 * protocol error document (Service Quotas). */
#include <string.h>

#include "aws/transport.h"
#include "plans/preflight.h"
#include "t.h"

static void test_config(struct paas *p)
{
    struct cluster_config *a = &p->cfg.cluster[0];
    memset(p, 0, sizeof(*p));
    snprintf(p->cfg.name, sizeof(p->cfg.name), "prod");
    snprintf(p->cfg.bastion_type, sizeof(p->cfg.bastion_type), "t3.micro");
    snprintf(p->cfg.bastion_ami, sizeof(p->cfg.bastion_ami), "ami-bastion");
    a->present = 1;
    snprintf(a->ami, sizeof(a->ami), "ami-nodes");
    snprintf(a->auth_type, sizeof(a->auth_type), "t3.medium");
    snprintf(a->master_type, sizeof(a->master_type), "m5.large");
    snprintf(a->ingress_type, sizeof(a->ingress_type), "c5.large");
    snprintf(a->minion_type, sizeof(a->minion_type), "m5.xlarge");
}

static int want_count(const struct preflight_want *w, const char *type)
{
    for (size_t i = 0; i < w->n_types; i++)
        if (strcmp(w->types[i], type) == 0)
            return w->count[i];
    return 0;
}

static void test_slot_wants(void)
{
    static struct paas p;
    struct diff d;
    struct preflight_want w;
    test_config(&p);
    diff_init(&d, "a");
    diff_add(&d, DIFF_CREATE, "instance", "prod-a-minion-1", NULL, "minion");
    diff_add(&d, DIFF_CREATE, "instance", "prod-a-minion-2", NULL, "minion");
    diff_add(&d, DIFF_CREATE, "instance", "prod-a-master-1", NULL, "master");
    diff_add(&d, DIFF_EXISTS, "instance", "prod-a-ingress-1", "i-1", "kept");
    diff_add(&d, DIFF_UPDATE, "instance", "prod-a-ingress-2", "i-2", "stopped");
    diff_add(&d, DIFF_DESTROY, "instance", "prod-a-minion-3", "i-3", "extra");
    diff_add(&d, DIFF_CREATE, "dns-record", "api.a.x.", NULL, "A");
    preflight_want_from_diff(&p, "a", &d, &w);
    T_INTEQ("slot: two types wanted", w.n_types, 2);
    T_INTEQ("slot: 2 minions of minion_type", want_count(&w, "m5.xlarge"), 2);
    T_INTEQ("slot: 1 master of master_type", want_count(&w, "m5.large"), 1);
    T_INTEQ("slot: kept, updated and destroyed instances want nothing",
            want_count(&w, "c5.large"), 0);
    T_STREQ("slot: the launches boot the slot's ami", w.ami, "ami-nodes");
    T_INTEQ("slot: no Elastic IPs", w.eips, 0);
    diff_release(&d);

    diff_init(&d, "a");
    diff_add(&d, DIFF_EXISTS, "instance", "prod-a-minion-1", "i-1", "kept");
    preflight_want_from_diff(&p, "a", &d, &w);
    T_OK("slot re-run: nothing wanted, no image to check", w.n_types == 0 && !w.ami,
         "%zu types, ami %s", w.n_types, w.ami ? w.ami : "-");
    diff_release(&d);
}

static void test_shell_wants(void)
{
    static struct paas p;
    struct diff d;
    struct preflight_want w;
    test_config(&p);
    diff_init(&d, "shell");
    diff_add(&d, DIFF_CREATE, "elastic-ip", "prod-shell-eip-1", NULL, "for a NAT gateway");
    diff_add(&d, DIFF_CREATE, "elastic-ip", "prod-shell-eip-2", NULL, "for a NAT gateway");
    diff_add(&d, DIFF_EXISTS, "elastic-ip", "prod-shell-eip-3", "eipalloc-1", "1.2.3.4");
    diff_add(&d, DIFF_CREATE, "instance", "prod-shell-bastion", NULL, "bastion");
    preflight_want_from_diff(&p, "shell", &d, &w);
    T_INTEQ("shell: the Elastic IPs to allocate", w.eips, 2);
    T_INTEQ("shell: the bastion of bastion_type", want_count(&w, "t3.micro"), 1);
    T_STREQ("shell: the bastion's image", w.ami, "ami-bastion");
    diff_release(&d);
}

static void test_standard(void)
{
    static const char *const yes[] = { "t3.micro", "m5.large", "c7i-flex.large", "r6g.xlarge",
                                       "i4i.large", "im4gn.large", "is4gen.large", "z1d.large",
                                       "d3en.xlarge", "h1.2xlarge", "a1.medium", "M5.large",
                                       NULL };
    static const char *const no[] = { "p3.2xlarge", "g5.xlarge", "inf1.xlarge", "trn1.2xlarge",
                                      "dl1.24xlarge", "hpc6a.48xlarge", "x2idn.large",
                                      "mac1.metal", "u-6tb1.metal", "f1.2xlarge", "vt1.3xlarge",
                                      "", NULL };
    for (size_t i = 0; yes[i]; i++)
        T_OK("standard family", preflight_standard_type(yes[i]), "%s", yes[i]);
    for (size_t i = 0; no[i]; i++)
        T_OK("not the standard family", !preflight_standard_type(no[i]), "%s", no[i]);
}

static void test_json_error(void)
{
    static const char body[] =
        "{\"__type\":\"com.amazonaws.servicequotas#AccessDeniedException\","
        "\"message\":\"not authorized\"}";
    static const char plain[] = "{\"__type\":\"NoSuchResourceException\",\"Message\":\"no\"}";
    struct aws_request req = { .svc = AWS_SERVICE_QUOTAS, .method = "POST",
                               .action = "GetServiceQuota" };
    struct err e;
    err_init(&e);
    aws_error_from_response(&req, 400, body, strlen(body), "rid-1", &e);
    T_STREQ("json error: the code after '#'", e.code, "AccessDeniedException");
    T_OK("json error: message and action in the sentence",
         strstr(e.msg, "not authorized") && strstr(e.msg, "servicequotas GetServiceQuota"),
         "%s", e.msg);
    aws_error_from_response(&req, 400, plain, strlen(plain), NULL, &e);
    T_STREQ("json error: a bare code", e.code, "NoSuchResourceException");
    T_OK("json error: Message too", strstr(e.msg, ": no") != NULL, "%s", e.msg);
}

int main(void)
{
    test_slot_wants();
    test_shell_wants();
    test_standard();
    test_json_error();
    return t_done();
}
