/* Fuzz target: Consul's answers (consul/kv.c), the pure parsers behind
 * consul_kv_list and consul_txn: a KV listing, and a transaction's 200 and
 * 409 bodies, the first byte choosing which. */
#include <stdint.h>

#include "consul/kv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct consul_kvs l;
    struct consul_txn_result r;
    struct err e;
    err_init(&e);
    if (size < 1)
        return 0;
    if (data[0] & 1) {
        if (consul_kvs_parse((const char *)data + 1, size - 1, &l, &e) == 0) {
            for (size_t i = 0; i < l.n; i++)
                consul_kvs_find(&l, l.v[i].key);
            consul_kvs_release(&l);
        }
    } else if (consul_txn_parse(data[0] & 2 ? 409 : 200, (const char *)data + 1, size - 1,
                                CONSUL_TXN_MAX_OPS, &r, &e) == 0) {
        consul_txn_result_release(&r);
    }
    return 0;
}
