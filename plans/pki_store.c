/* Keeping a slot's PKI in its bucket (see pki_store.h; SPEC.md "Clusters"). */
#include "plans/pki_store.h"

#include <string.h>
#include <time.h>

/* Indices into pki_store.o: each key is followed by what derives from it. */
enum { PK_CA_KEY, PK_CA_CRT, PK_ETCD_KEY, PK_ETCD_CRT, PK_FP_KEY, PK_FP_CRT,
       PK_SA_KEY, PK_SA_PUB, PK_TOKEN };

static const char *const pki_keys[PKI_STORE_N] = {
    "secret/pki/ca.key", "secret/pki/ca.crt",
    "secret/pki/etcd/ca.key", "secret/pki/etcd/ca.crt",
    "secret/pki/front-proxy-ca.key", "secret/pki/front-proxy-ca.crt",
    "secret/pki/sa.key", "secret/pki/sa.pub",
    "secret/bootstrap-token",
};

/* The CN kubeadm itself gives each CA (its certs phase), or NULL for sa. */
static const char *pki_ca_cn(int key_index)
{
    return key_index == PK_CA_KEY ? "kubernetes" : key_index == PK_ETCD_KEY ? "etcd-ca"
         : key_index == PK_FP_KEY ? "front-proxy-ca" : NULL;
}

int pki_object_get(struct paas *p, const char *bucket, struct pki_object *o,
                   struct err *e)
{
    buf_reset(&o->body);
    if (s3_get_secret(&p->aws, bucket, o->key, &o->body, e) < 0)
        return err_wrap(e, "reading s3://%s/%s", bucket, o->key);
    return 0;
}

int pki_object_key(struct paas *p, const char *bucket, struct pki_object *key,
                   const struct pki_object *dep, struct err *e)
{
    if (!key->listed && dep->listed)
        return err_set(e, ERR_FAILED, "s3://%s/%s exists without its key %s: it cannot "
                       "be used; delete it and run up again", bucket, dep->key, key->key);
    if (key->listed)
        return pki_object_get(p, bucket, key, e);
    key->create = 1;
    return pki_key_new(&key->body, e);
}

/* The derived object of a key (a CA certificate, sa.pub), made anew. */
static int pki_derive(int ki, struct pki_object *key, struct pki_object *dep,
                      time_t now, struct err *e)
{
    const char *cn = pki_ca_cn(ki);
    dep->create = 1;
    buf_reset(&dep->body);
    return cn ? pki_ca_cert(buf_str(&key->body), cn, PKI_CA_DAYS, now, &dep->body, e)
              : pki_public_pem(buf_str(&key->body), &dep->body, e);
}

/* One key and what derives from it: read or make each as needed. */
static int pki_read_pair(struct paas *p, const char *bucket, struct pki_store *s,
                         int ki, struct err *e)
{
    struct pki_object *key = &s->o[ki], *dep = &s->o[ki + 1];
    if (key->listed && dep->listed)
        return ki == PK_CA_KEY ? pki_object_get(p, bucket, dep, e) : 0;
    if (pki_object_key(p, bucket, key, dep, e) < 0)
        return -1;
    return pki_derive(ki, key, dep, paas_now(p), e);
}

static int pki_read_token(struct paas *p, const char *bucket, struct pki_store *s,
                          struct err *e)
{
    struct pki_object *o = &s->o[PK_TOKEN];
    if (!o->listed) {
        o->create = 1;
        if (pki_token_new(s->token, e) < 0)
            return -1;
        buf_puts(&o->body, s->token);
        return 0;
    }
    if (pki_object_get(p, bucket, o, e) < 0)
        return -1;
    if (o->body.len != PKI_TOKEN_LEN)
        return err_set(e, ERR_FAILED, "s3://%s/%s is not a bootstrap token", bucket, o->key);
    memcpy(s->token, buf_str(&o->body), PKI_TOKEN_LEN);
    s->token[PKI_TOKEN_LEN] = '\0';
    if (!pki_token_valid(s->token))
        return err_set(e, ERR_FAILED, "s3://%s/%s is not a bootstrap token", bucket, o->key);
    return 0;
}

int pki_store_read(struct paas *p, const char *bucket,
                   const struct s3_object *listed, size_t n_listed,
                   struct pki_store *s, struct err *e)
{
    memset(s, 0, sizeof(*s));
    for (int i = 0; i < PKI_STORE_N; i++) {
        s->o[i].key = pki_keys[i];
        buf_init(&s->o[i].body);
        for (size_t k = 0; k < n_listed; k++)
            s->o[i].listed |= strcmp(listed[k].key, pki_keys[i]) == 0;
    }
    for (int ki = PK_CA_KEY; ki <= PK_SA_KEY; ki += 2)
        if (pki_read_pair(p, bucket, s, ki, e) < 0)
            return -1;
    if (pki_read_token(p, bucket, s, e) < 0 ||
        pki_ca_hash(buf_str(&s->o[PK_CA_CRT].body), s->ca_hash, e) < 0)
        return -1;
    /* Both halves in memory (a re-made certificate): they must match. */
    if (s->o[PK_CA_KEY].body.len &&
        pki_check_pair(buf_str(&s->o[PK_CA_CRT].body), buf_str(&s->o[PK_CA_KEY].body),
                       pki_keys[PK_CA_CRT], e) < 0)
        return -1;
    for (int i = 0; i < PKI_STORE_N; i++)
        s->n_create += s->o[i].create;
    return 0;
}

void pki_store_decide(const struct pki_store *s, struct diff *d)
{
    enum diff_op op = s->n_create == PKI_STORE_N ? DIFF_CREATE
                    : s->n_create ? DIFF_UPDATE : DIFF_EXISTS;
    diff_add(d, op, "pki", "secret/", NULL,
             "cluster, etcd and front-proxy CAs, service-account keys, bootstrap token "
             "(SSE, never printed)%s; CA hash %s",
             op == DIFF_UPDATE ? "; make the missing ones" : "", s->ca_hash);
}

/* After a 412 on the conditional PUT: 1 when the stored object is byte for
 * byte ours (the PUT ran, a reset hid its answer and the resend found it),
 * else 0. */
static int pki_store_is_ours(struct paas *p, const char *bucket,
                             const struct pki_object *o)
{
    struct buf got = BUF_INIT;
    struct err ge;
    int same;
    err_init(&ge);
    if (s3_get_secret(&p->aws, bucket, o->key, &got, &ge) < 0) {
        buf_release_secret(&got);
        return 0;
    }
    same = got.len == o->body.len && memcmp(buf_str(&got), buf_str(&o->body), got.len) == 0;
    buf_release_secret(&got);
    return same;
}

int pki_object_put(struct paas *p, const char *bucket, struct pki_object *o,
                   struct err *e)
{
    if (s3_put_secret(&p->aws, bucket, o->key, buf_str(&o->body), o->body.len,
                      !o->listed, e) < 0) {
        if (e->http_status == 412 && pki_store_is_ours(p, bucket, o) == 1) {
            err_init(e);
            o->create = 0;
            o->listed = 1;
            return 0;
        }
        if (e->http_status == 412)
            return err_set(e, ERR_FAILED, "s3://%s/%s appeared while this run made "
                           "its own (another run without the lock?): nothing was "
                           "overwritten; run up again to use the stored one",
                           bucket, o->key);
        return err_wrap(e, "storing s3://%s/%s", bucket, o->key);
    }
    o->create = 0;
    o->listed = 1;
    return 0;
}

int pki_store_apply(struct paas *p, const char *bucket, struct pki_store *s,
                    struct err *e)
{
    /* The array's order is the upload order: every key before what derives
     * from it, so a crash in between leaves something pki_store_read mends. */
    for (int i = 0; i < PKI_STORE_N; i++)
        if (s->o[i].create && pki_object_put(p, bucket, &s->o[i], e) < 0)
            return -1;
    s->n_create = 0;
    return 0;
}

void pki_store_vars(const struct pki_store *s, const char *role,
                    struct bootstrap_vars *v)
{
    int joins = strcmp(role, "master") == 0 || strcmp(role, "ingress") == 0 ||
                strcmp(role, "minion") == 0;
    bootstrap_var(v, "TOKEN", joins ? s->token : "");
    bootstrap_var(v, "CA_HASH", joins ? s->ca_hash : "");
}

void pki_store_release(struct pki_store *s)
{
    for (int i = 0; i < PKI_STORE_N; i++)
        buf_release_secret(&s->o[i].body);
    explicit_bzero(s->token, sizeof(s->token));
}

int pki_store_load_ca(struct paas *p, const char *bucket, struct buf *crt,
                      struct buf *key, struct err *e)
{
    if (s3_get_secret(&p->aws, bucket, pki_keys[PK_CA_CRT], crt, e) < 0 ||
        s3_get_secret(&p->aws, bucket, pki_keys[PK_CA_KEY], key, e) < 0) {
        if (e->http_status == 404)
            return err_set(e, ERR_FAILED, "the slot has no CA yet (s3://%s/secret/pki/ is "
                           "empty): run 'paasctl up' for the slot first", bucket);
        return err_wrap(e, "reading the slot's CA from s3://%s", bucket);
    }
    return pki_check_pair(buf_str(crt), buf_str(key), pki_keys[PK_CA_CRT], e);
}
