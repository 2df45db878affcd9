/* Consul's HTTP KV API (SPEC.md "Consul sync"): a connection to one Consul,
 * through a slot's API server service proxy or at a direct address, over
 * the Kubernetes transport (k8s/client.h); recursive listings with blocking
 * queries; checked transactions. Values stay base64 as Consul sends them
 * (Go's canonical encoding, so equal text means equal bytes) and are never
 * logged; neither is the token. */
#ifndef CONSUL_KV_H
#define CONSUL_KV_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/log.h"
#include "k8s/client.h"
#include "k8s/kubeconfig.h"

#define CONSUL_TXN_MAX_OPS 64                 /* Consul's limit per transaction */
#define CONSUL_TXN_MAX_BYTES ((size_t)384 * 1024)  /* under txn_max_req_len (512 KiB) */
#define CONSUL_WAIT_S 300                     /* blocking queries: wait=5m */

struct consul {
    struct k8s_client http;   /* owned: the slot's API server, or Consul itself */
    char *base;               /* owned: path before /v1 ("" or the proxy path) */
    char *token_header;       /* owned secret: "X-Consul-Token: ...", or NULL */
    const char *headers[2];   /* k8s_request.extra_headers: token_header, NULL */
    char where[700];          /* for messages: "slot a (proxy consul/consul:8500)" */
    long reads, writes;       /* KV reads and transactions sent */
};

/* Through the slot's API server: kc (taken over, left empty) reaches it;
 * service is NAMESPACE/SERVICE:PORT. token may be NULL. */
int consul_open_proxy(struct consul *c, struct k8s_kubeconfig *kc, const char *service,
                      const char *token, const char *where, const struct logger *log,
                      struct err *e);
/* Directly at address (http(s)://host:port); ca_file "" = the system
 * store; origin names where the address came from, for messages. */
int consul_open_direct(struct consul *c, const char *address, const char *ca_file,
                       const char *token, const char *origin, const char *where,
                       const struct logger *log, struct err *e);
void consul_close(struct consul *c);

/* One KV entry; every string owned. */
struct consul_kv {
    char *key;
    char *value;              /* base64; NULL = empty value */
    uint64_t flags;
    uint64_t modify_index;
};

struct consul_kvs {
    struct consul_kv *v;      /* sorted by key, bytewise */
    size_t n;
    uint64_t index;           /* X-Consul-Index of the listing */
};

/* Pure: a GET /v1/kv/...?recurse body (a JSON array of entries) into out,
 * sorted. ERR_FAILED naming what is wrong (never a value). */
int consul_kvs_parse(const char *body, size_t len, struct consul_kvs *out, struct err *e);
void consul_kvs_release(struct consul_kvs *l);
/* The entry for key, or NULL. */
const struct consul_kv *consul_kvs_find(const struct consul_kvs *l, const char *key);
/* 1 if a and b hold the same value and flags. */
int consul_kv_same(const struct consul_kv *a, const struct consul_kv *b);

/* Every key under prefix ("" = all). index > 0 makes it a blocking query
 * (index=N&wait=5m) that returns when the prefix changes past N or after
 * the wait; when *cancel becomes non-zero it ends at once with code
 * "Interrupted". A prefix with no keys is an empty list. */
int consul_kv_list(struct consul *c, const char *prefix, uint64_t index,
                   const volatile sig_atomic_t *cancel, struct consul_kvs *out,
                   struct err *e);

/* One key as it is now: *found = 0 when absent (out then empty). */
int consul_kv_get(struct consul *c, const char *key, struct consul_kv *out, int *found,
                  struct err *e);
void consul_kv_release(struct consul_kv *kv);

enum consul_verb { CONSUL_CAS, CONSUL_DELETE_CAS };

/* One KV operation of a transaction; strings borrowed. */
struct consul_op {
    enum consul_verb verb;
    const char *key;
    const char *value;        /* cas: base64 or NULL (empty) */
    uint64_t flags;           /* cas */
    uint64_t index;           /* the ModifyIndex the key must have; for cas
                               * 0 = the key must not exist */
};

struct consul_txn_failure {
    size_t op;                /* index into the ops sent */
    char what[256];           /* Consul's reason */
};

struct consul_txn_result {
    int committed;            /* 1: applied; 0: rolled back (see failed) */
    struct consul_kvs kvs;    /* committed: the written entries with their
                               * new ModifyIndex (values not returned) */
    size_t n_failed;
    struct consul_txn_failure failed[CONSUL_TXN_MAX_OPS];
};

/* Pure: the body of a PUT /v1/txn of n ops for KV cas / delete-cas. Caller
 * frees with free(). */
char *consul_txn_body(const struct consul_op *ops, size_t n);
/* Pure: Consul's answer (200 with Results, or 409 with Errors) into r. */
int consul_txn_parse(long status, const char *body, size_t len, size_t n,
                     struct consul_txn_result *r, struct err *e);
void consul_txn_result_release(struct consul_txn_result *r);

/* Sends n (<= CONSUL_TXN_MAX_OPS) ops in one transaction. Returns 0 when
 * Consul answered: committed, or rolled back with the failed ops listed
 * (their cas did not hold). -1 for anything else. */
int consul_txn(struct consul *c, const struct consul_op *ops, size_t n,
               struct consul_txn_result *r, struct err *e);

#endif
