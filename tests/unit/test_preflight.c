/* Unit tests of pre-flight's pure parts (README "Pre-flight"): what a run
 * of `up` wants, from the account's instances and addresses (per role and
 * zone, configured less what is tagged for this paas and slot; stopped
 * slot instances as started; one Elastic IP per zone without one) and
 * which instance types count against the On-Demand standard vCPU quota;
 * and the transport's reading of a JSON protocol error document (Service
 * Quotas). */
#include <string.h>

#include "aws/transport.h"
#include "plans/preflight.h"
#include "plans/slot.h"
#include "t.h"

static void test_config(struct paas *p)
{
    struct cluster_config *a = &p->cfg.cluster[0];
    memset(p, 0, sizeof(*p));
    snprintf(p->cfg.name, sizeof(p->cfg.name), "prod");
    snprintf(p->cfg.bastion_type, sizeof(p->cfg.bastion_type), "t3.micro");
    snprintf(p->cfg.bastion_ami, sizeof(p->cfg.bastion_ami), "ami-bastion");
    p->cfg.n_zones = 2;
    snprintf(p->cfg.zones[0], sizeof(p->cfg.zones[0]), "us-east-1a");
    snprintf(p->cfg.zones[1], sizeof(p->cfg.zones[1]), "us-east-1b");
    a->present = 1;
    a->master_count = 1;
    a->ingress_count = 2;
    a->minion_count = 3;
    snprintf(a->ami, sizeof(a->ami), "ami-nodes");
    snprintf(a->auth_type, sizeof(a->auth_type), "t3.medium");
    snprintf(a->master_type, sizeof(a->master_type), "m5.large");
    snprintf(a->ingress_type, sizeof(a->ingress_type), "c5.large");
    snprintf(a->minion_type, sizeof(a->minion_type), "m5.xlarge");
}

/* One instance as DescribeInstances would list it, with its tags. */
static void inst(struct ec2_instance *i, const char *paas, const char *slot, const char *role,
                 const char *az, const char *state, const char *type)
{
    memset(i, 0, sizeof(*i));
    snprintf(i->tags.paas, sizeof(i->tags.paas), "%s", paas);
    snprintf(i->tags.slot, sizeof(i->tags.slot), "%s", slot);
    snprintf(i->tags.role, sizeof(i->tags.role), "%s", role);
    snprintf(i->az, sizeof(i->az), "%s", az);
    snprintf(i->state, sizeof(i->state), "%s", state);
    snprintf(i->type, sizeof(i->type), "%s", type);
}

static int want_of(const struct preflight_want *w, const char *type, int starts)
{
    for (size_t i = 0; i < w->n_types; i++)
        if (strcmp(w->types[i], type) == 0)
            return starts ? w->starts[i] : w->count[i];
    return 0;
}

static void test_spread(void)
{
    T_INTEQ("spread: 3 over 2, first zone", slot_spread(3, 2, 0), 2);
    T_INTEQ("spread: 3 over 2, second zone", slot_spread(3, 2, 1), 1);
    T_INTEQ("spread: 1 over 3, third zone", slot_spread(1, 3, 2), 0);
}

static void test_slot_fresh(void)
{
    static struct paas p;
    struct ec2_instance in[2];
    struct preflight_want w;
    test_config(&p);
    inst(&in[0], "other", "a", "minion", "us-east-1a", "running", "m5.xlarge");
    inst(&in[1], "prod", "shell", "bastion", "us-east-1a", "running", "t3.micro");
    preflight_want_instances(&p, "a", in, 2, &w);
    T_INTEQ("fresh slot: four types", w.n_types, 4);
    T_INTEQ("fresh slot: 3 minions", want_of(&w, "m5.xlarge", 0), 3);
    T_INTEQ("fresh slot: 2 ingress", want_of(&w, "c5.large", 0), 2);
    T_INTEQ("fresh slot: 1 master", want_of(&w, "m5.large", 0), 1);
    T_INTEQ("fresh slot: 1 auth", want_of(&w, "t3.medium", 0), 1);
    T_STREQ("fresh slot: the launches boot the slot's ami", w.ami, "ami-nodes");
}

static void test_slot_partial(void)
{
    static struct paas p;
    struct ec2_instance in[8];
    struct preflight_want w;
    test_config(&p);
    /* us-east-1a wants 2 minions, us-east-1b 1: one in a, two in b. */
    inst(&in[0], "prod", "a", "minion", "us-east-1a", "running", "m5.xlarge");
    inst(&in[1], "prod", "a", "minion", "us-east-1b", "running", "m5.xlarge");
    inst(&in[2], "prod", "a", "minion", "us-east-1b", "pending", "m5.xlarge");
    inst(&in[3], "prod", "a", "ingress", "us-east-1a", "stopped", "c5.large");
    inst(&in[4], "prod", "a", "master", "us-west-2a", "running", "m5.large");
    inst(&in[5], "prod", "b", "auth", "us-east-1a", "running", "t3.medium");
    inst(&in[6], "other", "a", "auth", "us-east-1a", "running", "t3.medium");
    inst(&in[7], "prod", "a", "auth", "us-east-1a", "terminated", "t3.medium");
    preflight_want_instances(&p, "a", in, 8, &w);
    T_INTEQ("partial: one minion for us-east-1a, the extra in b does not go below 0",
            want_of(&w, "m5.xlarge", 0), 1);
    T_INTEQ("partial: one ingress for us-east-1b", want_of(&w, "c5.large", 0), 1);
    T_INTEQ("partial: the stopped ingress is started", want_of(&w, "c5.large", 1), 1);
    T_INTEQ("partial: a master outside the zones is no master", want_of(&w, "m5.large", 0), 1);
    T_INTEQ("partial: other slot, other paas, terminated: auth still wanted",
            want_of(&w, "t3.medium", 0), 1);
    T_INTEQ("partial: nothing running is started", want_of(&w, "m5.xlarge", 1), 0);
}

static void test_slot_rerun(void)
{
    static struct paas p;
    static const char *const roles[] = { "auth", "master", "ingress", "ingress", "minion",
                                         "minion", "minion" };
    static const char *const zones[] = { "us-east-1a", "us-east-1a", "us-east-1a",
                                         "us-east-1b", "us-east-1a", "us-east-1a",
                                         "us-east-1b" };
    struct ec2_instance in[7];
    struct preflight_want w;
    test_config(&p);
    for (int i = 0; i < 7; i++)
        inst(&in[i], "prod", "a", roles[i], zones[i], "running", "m5.large");
    preflight_want_instances(&p, "a", in, 7, &w);
    T_OK("slot re-run: nothing wanted, no image to check", w.n_types == 0 && !w.ami,
         "%zu types, ami %s", w.n_types, w.ami ? w.ami : "-");
}

static void test_shell_wants(void)
{
    static struct paas p;
    struct ec2_instance in[2];
    struct ec2_address a[4];
    struct preflight_want w;
    test_config(&p);
    inst(&in[0], "other", "shell", "bastion", "us-east-1a", "running", "t3.micro");
    inst(&in[1], "prod", "a", "auth", "us-east-1a", "running", "t3.medium");
    preflight_want_instances(&p, "shell", in, 2, &w);
    T_INTEQ("shell: the bastion of bastion_type", want_of(&w, "t3.micro", 0), 1);
    T_INTEQ("shell: nothing else", w.n_types, 1);
    T_STREQ("shell: the bastion's image", w.ami, "ami-bastion");
    inst(&in[0], "prod", "shell", "bastion", "us-east-1a", "stopped", "t3.micro");
    preflight_want_instances(&p, "shell", in, 2, &w);
    T_OK("shell: a stopped bastion is kept, not started", w.n_types == 0 && !w.ami,
         "%zu types", w.n_types);

    memset(a, 0, sizeof(a));
    T_INTEQ("eips: one per zone when there are none", preflight_want_eips(&p, a, 0), 2);
    snprintf(a[0].tags.name, sizeof(a[0].tags.name), "prod-shell-eip-1");
    snprintf(a[0].tags.paas, sizeof(a[0].tags.paas), "prod");
    snprintf(a[0].tags.role, sizeof(a[0].tags.role), "eip");
    snprintf(a[1].tags.name, sizeof(a[1].tags.name), "prod-shell-eip-2");
    snprintf(a[1].tags.paas, sizeof(a[1].tags.paas), "prod");
    snprintf(a[1].tags.role, sizeof(a[1].tags.role), "nat");
    snprintf(a[2].tags.name, sizeof(a[2].tags.name), "other-shell-eip-2");
    snprintf(a[2].tags.paas, sizeof(a[2].tags.paas), "other");
    snprintf(a[2].tags.role, sizeof(a[2].tags.role), "eip");
    T_INTEQ("eips: zone 1's exists; a wrong role or paas does not count",
            preflight_want_eips(&p, a, 4), 1);
    snprintf(a[1].tags.role, sizeof(a[1].tags.role), "eip");
    T_INTEQ("eips: both zones have theirs", preflight_want_eips(&p, a, 4), 0);
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
    test_spread();
    test_slot_fresh();
    test_slot_partial();
    test_slot_rerun();
    test_shell_wants();
    test_standard();
    test_json_error();
    return t_done();
}
