/* Keeping a slot's auth server secrets and realm (SPEC.md "Clusters", the
 * auth role): the Keycloak admin credentials, a CA of its own and the TLS
 * certificate it signs for auth.SLOT.k8s.DNS_ZONE, in the slot bucket:
 *   secret/auth/ca.{key,crt}    the auth CA (the API server's --oidc-ca-file)
 *   secret/auth/tls.{key,crt}   Keycloak's server certificate and key
 *   secret/auth/keycloak.env    the admin's (KC_BOOTSTRAP_ADMIN_USERNAME /
 *                               _PASSWORD) and PostgreSQL's credentials
 *   auth/realm-paas.json        the realm imported at start (not secret)
 * The CA key and the credentials are made once (If-None-Match, SSE)
 * and never re-made; the TLS pair is re-issued when it no longer names the
 * host, is not the CA's, or expires within AUTH_TLS_RENEW_DAYS. Nothing
 * here is printed or logged: the diff line names keys, never values.
 * Only the auth role's instance profile reads tls.* and keycloak.env (and
 * masters, which read all of secret/, take ca.crt). */
#ifndef PLANS_AUTH_STORE_H
#define PLANS_AUTH_STORE_H

#include "plans/pki_store.h"

#define AUTH_STORE_N 5
#define AUTH_TLS_DAYS 825          /* the server certificate's life */
#define AUTH_TLS_RENEW_DAYS 30     /* re-issued by `up` when fewer remain */
#define AUTH_ADMIN_USER "admin"
#define AUTH_REALM "paas"

/* The keys the auth role's nodes read (for slot_iam.c). */
extern const char *const auth_store_node_keys[];
extern const size_t auth_store_n_node_keys;

struct auth_store {
    struct pki_object o[AUTH_STORE_N];   /* keys first, then what they sign */
    struct buf realm;                    /* rendered realm JSON */
    char realm_md5[33];
    int realm_listed, realm_upload;
    int n_create;                        /* secrets made or re-issued this run */
};

/* Fills s from the bucket listing (what s3_list_with_etags found; none for
 * a new bucket) for Keycloak at host (no trailing dot): reads what must be
 * checked, makes in memory what is missing or due. Renders the realm for
 * the paas NAME and slot. Nothing is written. */
int auth_store_read(struct paas *p, const char *bucket, const char *host,
                    const char *slot, const struct s3_object *listed,
                    size_t n_listed, struct auth_store *s, struct err *e);

/* Two diff lines: the secrets (+ create, ~ update, = exists) and the realm
 * object. */
void auth_store_decide(const struct auth_store *s, const char *bucket,
                       struct diff *d);

/* Uploads what auth_store_read made, keys before what they sign. */
int auth_store_apply(struct paas *p, const char *bucket, struct auth_store *s,
                     struct err *e);

/* Wipes and frees everything. */
void auth_store_release(struct auth_store *s);

#endif
