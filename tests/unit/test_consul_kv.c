/* consul/kv.c's pure parts: listings, transaction bodies and answers
 * (SPEC.md "Consul sync"), with Consul's own shapes. */
#include <stdlib.h>
#include <string.h>

#include "consul/kv.h"
#include "tests/unit/t.h"

static void test_listing(void)
{
    const char *body =
        "[{\"LockIndex\":0,\"Key\":\"b/2\",\"Flags\":42,\"Value\":\"AP8=\",\"CreateIndex\":5,\"ModifyIndex\":9},"
        "{\"LockIndex\":0,\"Key\":\"a\",\"Flags\":0,\"Value\":null,\"CreateIndex\":3,\"ModifyIndex\":3},"
        "{\"Key\":\"b/1\",\"Value\":\"\",\"ModifyIndex\":4}]";
    struct consul_kvs l;
    struct err e;
    const struct consul_kv *kv;
    err_init(&e);
    T_OK("listing parses", consul_kvs_parse(body, strlen(body), &l, &e) == 0, "%s", e.msg);
    T_INTEQ("three entries", (long)l.n, 3);
    T_STREQ("sorted by key", l.v[0].key, "a");
    T_STREQ("sorted by key 2", l.v[1].key, "b/1");
    kv = consul_kvs_find(&l, "b/2");
    T_OK("find", kv && kv->flags == 42 && kv->modify_index == 9 && !strcmp(kv->value, "AP8="), "%p",
         (const void *)kv);
    T_OK("null and empty values are empty", !l.v[0].value && !l.v[1].value, "values");
    T_OK("missing key", consul_kvs_find(&l, "c") == NULL, "found");
    T_OK("same: null vs empty value", consul_kv_same(&l.v[0], &l.v[1]), "not same");
    T_OK("not same: flags", !consul_kv_same(&l.v[0], kv), "same");
    consul_kvs_release(&l);
    T_OK("not an array", consul_kvs_parse("{}", 2, &l, &e) < 0 && strstr(e.msg, "array"), "%s", e.msg);
    T_OK("entry without a key", consul_kvs_parse("[{\"Value\":\"AA==\"}]", 19, &l, &e) < 0, "%s", e.msg);
    T_OK("value not a string", consul_kvs_parse("[{\"Key\":\"k\",\"Value\":1}]", 24, &l, &e) < 0,
         "%s", e.msg);
}

static void test_txn_body(void)
{
    struct consul_op ops[2] = {
        { CONSUL_CAS, "k\"1", "AP8=", 7, 0 },
        { CONSUL_DELETE_CAS, "k2", NULL, 0, 12 },
    };
    char *s = consul_txn_body(ops, 2);
    T_STREQ("txn body", s ? s : "",
            "[{\"KV\":{\"Verb\":\"cas\",\"Key\":\"k\\\"1\",\"Index\":0,\"Value\":\"AP8=\",\"Flags\":7}},"
            "{\"KV\":{\"Verb\":\"delete-cas\",\"Key\":\"k2\",\"Index\":12}}]");
    free(s);
}

static void test_txn_answers(void)
{
    const char *ok = "{\"Results\":[{\"KV\":{\"Key\":\"z\",\"Flags\":1,\"Value\":null,\"ModifyIndex\":77}},"
                     "{\"KV\":{\"Key\":\"y\",\"Value\":null,\"ModifyIndex\":77}}],\"Errors\":null}";
    const char *rolled = "{\"Results\":null,\"Errors\":[{\"OpIndex\":1,\"What\":\"failed to set key "
                         "\\\"y\\\", index is stale\"}]}";
    struct consul_txn_result r;
    struct err e;
    err_init(&e);
    T_OK("200 parses", consul_txn_parse(200, ok, strlen(ok), 2, &r, &e) == 0, "%s", e.msg);
    T_OK("committed with the new indexes", r.committed && r.kvs.n == 2 &&
         consul_kvs_find(&r.kvs, "z")->modify_index == 77, "n %zu", r.kvs.n);
    consul_txn_result_release(&r);
    T_OK("409 parses", consul_txn_parse(409, rolled, strlen(rolled), 2, &r, &e) == 0, "%s", e.msg);
    T_OK("rolled back, op 1 named", !r.committed && r.n_failed == 1 && r.failed[0].op == 1 &&
         strstr(r.failed[0].what, "index is stale"), "n %zu", r.n_failed);
    consul_txn_result_release(&r);
    T_OK("409 naming an op out of range", consul_txn_parse(409, rolled, strlen(rolled), 1, &r, &e) < 0,
         "accepted");
    T_OK("409 without errors", consul_txn_parse(409, "{\"Errors\":[]}", 13, 1, &r, &e) < 0, "accepted");
    T_OK("not JSON", consul_txn_parse(200, "true", 4, 1, &r, &e) < 0, "accepted");
}

int main(void)
{
    test_listing();
    test_txn_body();
    test_txn_answers();
    return t_done();
}
