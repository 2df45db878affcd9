/* Unit tests of the lifecycle's pure parts (SPEC.md "Commands"): bootstrap template
 * rendering, the embedded templates, the diff model and its JSON, the
 * creation tag set, and the deterministic RunInstances ClientToken. */
#include <jansson.h>
#include <string.h>

#include "plans/bootstrap.h"
#include "plans/diff.h"
#include "plans/tags.h"
#include "t.h"

static void test_render(void)
{
    struct bootstrap_vars v = { .n = 0 };
    struct buf out = BUF_INIT;
    struct err e;
    err_init(&e);
    bootstrap_var(&v, "SLOT", "b");
    bootstrap_var(&v, "NAME", "prod");
    T_INTEQ("render: known keys", bootstrap_render("x=@NAME@-@SLOT@ @SLOT@", &v, &out, &e), 0);
    T_STREQ("render: every @KEY@ replaced", buf_str(&out), "x=prod-b b");
    buf_reset(&out);
    T_INTEQ("render: lone @ and @lower@ are text",
            bootstrap_render("a@b user@host @x@ @", &v, &out, &e), 0);
    T_STREQ("render: text kept as is", buf_str(&out), "a@b user@host @x@ @");
    buf_reset(&out);
    T_INTEQ("render: an unknown key is an error",
            bootstrap_render("@NAME@ @NOPE@", &v, &out, &e), -1);
    T_OK("render: the error names the key", strstr(e.msg, "@NOPE@") != NULL, "%s", e.msg);
    buf_release(&out);
}

static void test_templates(void)
{
    struct bootstrap_vars v = { .n = 0 };
    struct buf out = BUF_INIT;
    struct err e;
    static const char *const keys[] = { "NAME", "SLOT", "ROLE", "REGION", "BUCKET",
                                        "API_HOST", "AUTH_HOST", "VPC_CIDR",
                                        "INGRESS_PORTS", "HEALTH_PATH", "K8S_VERSION",
                                        "POD_CIDR", "SERVICE_CIDR", "VERSIONS", "TOKEN",
                                        "CA_HASH", "MASTER_COUNT", "INIT_ZONE" };
    err_init(&e);
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        bootstrap_var(&v, keys[i], "v");
    T_OK("bootstrap.sh is embedded", strncmp(bootstrap_script(), "#!/bin/sh", 9) == 0,
         "%.20s", bootstrap_script());
    T_OK("bootstrap.sh reads /etc/paasctl/env",
         strstr(bootstrap_script(), "/etc/paasctl/env") != NULL, "missing");
    T_INTEQ("role.env.in renders with the keys paasctl sets",
            bootstrap_render(bootstrap_env_template(), &v, &out, &e), 0);
    T_OK("role.env.in: no placeholder left", strstr(buf_str(&out), "=@") == NULL, "%s",
         buf_str(&out));
    buf_reset(&out);
    T_INTEQ("user-data.sh.in renders",
            bootstrap_render(bootstrap_user_data_template(), &v, &out, &e), 0);
    T_OK("user data fetches env and script from the bucket, signed",
         strstr(buf_str(&out), "S3_BUCKET=v\n") && strstr(buf_str(&out), "s3get env/v.env ") &&
         strstr(buf_str(&out), "s3get bootstrap.sh ") && strstr(buf_str(&out), "--aws-sigv4"),
         "%s", buf_str(&out));
    buf_release(&out);
}

static void test_diff(void)
{
    struct diff d;
    size_t t[DIFF_N_OPS];
    json_t *j, *c;
    size_t i;
    diff_init(&d, "b");
    diff_add(&d, DIFF_EXISTS, "vpc", "p-shell-vpc", "vpc-1", "%s", "10.0.0.0/16");
    i = diff_add(&d, DIFF_CREATE, "instance", "p-b-minion-1", NULL, "minion in %s", "z1");
    diff_add(&d, DIFF_DESTROY, "instance", "p-b-minion-2", "i-9", "newest extra");
    diff_add(&d, DIFF_UPDATE, "elb", "p-prelive", NULL, "set health check");
    diff_set_id(&d, i, "i-new");
    diff_totals(&d, t);
    T_INTEQ("diff: create count", t[DIFF_CREATE], 1);
    T_INTEQ("diff: exists count", t[DIFF_EXISTS], 1);
    T_INTEQ("diff: update count", t[DIFF_UPDATE], 1);
    T_INTEQ("diff: destroy count", t[DIFF_DESTROY], 1);
    T_OK("diff: has changes", diff_changes(&d), "no");
    T_STREQ("diff: signs", diff_op_sign(DIFF_DESTROY), "-");
    T_STREQ("diff: words", diff_op_word(DIFF_UPDATE), "update");
    T_STREQ("diff: id set after the fact", d.items[i].id, "i-new");
    j = diff_json(&d);
    T_INTEQ("diff json: totals.create", json_integer_value(json_object_get(json_object_get(j, "totals"), "create")), 1);
    T_STREQ("diff json: op words", json_string_value(json_object_get(json_array_get(json_object_get(j, "items"), 2), "op")), "destroy");
    T_STREQ("diff json: target", json_string_value(json_object_get(j, "target")), "b");
    c = diff_changes_json(&d);
    T_INTEQ("diff changes json: only the changed entries", json_array_size(c), 3);
    json_decref(j);
    json_decref(c);
    diff_release(&d);
    diff_init(&d, "a");
    diff_add(&d, DIFF_EXISTS, "vpc", "x", NULL, "%s", "");
    T_OK("diff: all = means no changes", !diff_changes(&d), "changes");
    diff_release(&d);
}

static void test_tags(void)
{
    struct res_tags rt;
    struct ec2_tags have;
    res_tags_init(&rt, "prod", "a", "ingress", "prelive", "ingress-%d", 2);
    T_STREQ("tags: Name", rt.name, "prod-a-ingress-2");
    T_INTEQ("tags: five on an ingress node", rt.n, 5);
    T_STREQ("tags: traffic key", rt.t[4].key, "paasctl:traffic");
    memset(&have, 0, sizeof(have));
    snprintf(have.name, sizeof(have.name), "prod-a-ingress-2");
    snprintf(have.paas, sizeof(have.paas), "prod");
    snprintf(have.slot, sizeof(have.slot), "a");
    snprintf(have.role, sizeof(have.role), "ingress");
    T_OK("tags: missing traffic is incomplete", !res_tags_complete(&rt, &have), "complete");
    snprintf(have.traffic, sizeof(have.traffic), "live");
    T_OK("tags: any traffic value is complete", res_tags_complete(&rt, &have), "incomplete");
    res_tags_init(&rt, "prod", "shell", "vpc", NULL, "vpc");
    T_INTEQ("tags: four elsewhere", rt.n, 4);
}

static void test_token(void)
{
    char t1[65], t2[65], t3[65], t4[65];
    const char *ids1[] = { "i-2", "i-1" };
    const char *ids2[] = { "i-1", "i-2" };
    const char *ids3[] = { "i-1", "i-2", "i-3" };
    res_client_token(t1, "prod", "b", "minion", 0, 2, ids1, 2);
    res_client_token(t2, "prod", "b", "minion", 0, 2, ids2, 2);
    res_client_token(t3, "prod", "b", "minion", 0, 2, ids3, 3);
    res_client_token(t4, "prod", "b", "minion", 1, 2, ids2, 2);
    T_STREQ("token: same world, same token (order of ids does not matter)", t1, t2);
    T_OK("token: another instance seen, another token", strcmp(t1, t3) != 0, "%s", t3);
    T_OK("token: another zone, another token", strcmp(t1, t4) != 0, "%s", t4);
    T_OK("token: at most 64 characters", strlen(t1) <= 64 && strncmp(t1, "paasctl-", 8) == 0,
         "%s", t1);
}

int main(void)
{
    test_render();
    test_templates();
    test_diff();
    test_tags();
    test_token();
    return t_done();
}
