/* Keeping a slot's PKI (SPEC.md "Clusters", PKI): the cluster, etcd and
 * front-proxy CAs, the service-account key pair and the bootstrap token,
 * made once per slot and kept under secret/ in the slot bucket, laid out as
 * kubeadm's /etc/kubernetes/pki so a master copies them as they are:
 *   secret/pki/ca.{key,crt}  secret/pki/etcd/ca.{key,crt}
 *   secret/pki/front-proxy-ca.{key,crt}  secret/pki/sa.{key,pub}
 *   secret/bootstrap-token
 * Each object is PUT once with If-None-Match (two runs cannot make two
 * CAs) and server-side encryption. A key is uploaded before what derives
 * from it (its certificate, sa.pub), and what is derived is re-made from
 * the key when a crash lost it, so any interrupted run converges.
 * `up` reads ca.crt and the token (2 GETs, whatever the node count). */
#ifndef PLANS_PKI_STORE_H
#define PLANS_PKI_STORE_H

#include "aws/s3.h"
#include "core/pki.h"
#include "plans/bootstrap.h"
#include "plans/diff.h"
#include "plans/paas.h"

#define PKI_STORE_N 9

struct pki_object {
    const char *key;          /* "secret/pki/ca.key" */
    struct buf body;          /* PEM or token; wiped on release */
    int listed;               /* in the bucket already */
    int create;               /* made this run, to upload */
};

struct pki_store {
    struct pki_object o[PKI_STORE_N];
    char token[PKI_TOKEN_LEN + 1];      /* secret: env files of k8s nodes only */
    char ca_hash[PKI_HASH_LEN + 1];     /* public */
    int n_create;
};

/* Fills s from the bucket's listing (listed: what s3_list_with_etags
 * found; none when the bucket does not exist yet): reads what exists,
 * makes in memory what is missing. Nothing is written. */
int pki_store_read(struct paas *p, const char *bucket,
                   const struct s3_object *listed, size_t n_listed,
                   struct pki_store *s, struct err *e);

/* One diff line for the whole set: + create, ~ complete, or = exists. */
void pki_store_decide(const struct pki_store *s, struct diff *d);

/* Uploads what pki_store_read made (SSE, If-None-Match), keys first. */
int pki_store_apply(struct paas *p, const char *bucket, struct pki_store *s,
                    struct err *e);

/* GETs o's body (replacing what it held). */
int pki_object_get(struct paas *p, const char *bucket, struct pki_object *o,
                   struct err *e);
/* A private key in memory: read when listed, else made (and marked to
 * create). dep (what derives from the key) existing without it is an
 * error: it could never be matched again. */
int pki_object_key(struct paas *p, const char *bucket, struct pki_object *key,
                   const struct pki_object *dep, struct err *e);

/* PUTs o (SSE; If-None-Match unless o->listed, i.e. an object that must
 * be made only once). A 412 whose stored body is o's (a resent PUT that
 * had landed) is success; another is an error saying nothing was
 * overwritten. Marks o listed and not to create. */
int pki_object_put(struct paas *p, const char *bucket, struct pki_object *o,
                   struct err *e);

/* @TOKEN@ and @CA_HASH@ for a role's env file: the token only for the
 * roles that join the cluster (master, ingress, minion), "" for auth. The
 * values stay owned by s. */
void pki_store_vars(const struct pki_store *s, const char *role,
                    struct bootstrap_vars *v);

/* Wipes and frees everything. */
void pki_store_release(struct pki_store *s);

/* The cluster CA (certificate and key, PEM) of the slot bucket, checked to
 * match: what `kubeconfig` signs with. The key is the caller's, to release
 * with buf_release_secret. A slot never brought up is ERR_FAILED naming
 * `up SLOT`. */
int pki_store_load_ca(struct paas *p, const char *bucket, struct buf *crt,
                      struct buf *key, struct err *e);

#endif
