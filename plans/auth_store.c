/* A slot's Keycloak secrets and realm in its bucket (see auth_store.h;
 * SPEC.md "Clusters"). */
#include "plans/auth_store.h"

#include <jansson.h>
#include <string.h>

#include "core/pki.h"

/* Indices into auth_store.o, in upload order. */
enum { AU_CA_KEY, AU_CA_CRT, AU_TLS_KEY, AU_TLS_CRT, AU_ENV };

static const char *const auth_keys[AUTH_STORE_N] = {
    "secret/auth/ca.key", "secret/auth/ca.crt",
    "secret/auth/tls.key", "secret/auth/tls.crt",
    "secret/auth/keycloak.env",
};

#define AUTH_REALM_KEY "auth/realm-paas.json"

const char *const auth_store_node_keys[] = {
    "secret/auth/tls.key", "secret/auth/tls.crt", "secret/auth/keycloak.env", AUTH_REALM_KEY,
};
const size_t auth_store_n_node_keys =
    sizeof(auth_store_node_keys) / sizeof(auth_store_node_keys[0]);

/* The CA pair in memory: read, made, or its certificate re-made from the
 * key when a crash lost it (as pki_store does for the cluster CAs). */
static int auth_ca(struct paas *p, const char *bucket, struct auth_store *s,
                   struct err *e)
{
    struct pki_object *key = &s->o[AU_CA_KEY], *crt = &s->o[AU_CA_CRT];
    if (pki_object_key(p, bucket, key, crt, e) < 0)
        return -1;
    if (crt->listed)
        return pki_object_get(p, bucket, crt, e) < 0 ? -1
             : pki_check_pair(buf_str(&crt->body), buf_str(&key->body), crt->key, e);
    crt->create = 1;
    buf_reset(&crt->body);
    return pki_ca_cert(buf_str(&key->body), "paasctl-auth-ca", PKI_CA_DAYS, paas_now(p),
                       &crt->body, e);
}

/* 1 when the stored TLS pair can stay: both there, matching, signed by the
 * stored CA, naming host, valid for AUTH_TLS_RENEW_DAYS more. */
static int auth_tls_ok(struct paas *p, const char *bucket, const char *host,
                       struct auth_store *s, struct err *e)
{
    struct pki_object *ca = &s->o[AU_CA_CRT], *key = &s->o[AU_TLS_KEY],
                      *crt = &s->o[AU_TLS_CRT];
    struct err pe;
    if (!s->o[AU_CA_KEY].listed || !ca->listed || !key->listed || !crt->listed)
        return 0;
    if (pki_object_get(p, bucket, ca, e) < 0 || pki_object_get(p, bucket, key, e) < 0 ||
        pki_object_get(p, bucket, crt, e) < 0)
        return -1;
    err_init(&pe);
    return pki_check_pair(buf_str(&crt->body), buf_str(&key->body), crt->key, &pe) == 0 &&
           pki_server_cert_ok(buf_str(&crt->body), buf_str(&ca->body), host,
                              paas_now(p) + AUTH_TLS_RENEW_DAYS * 86400L);
}

static int auth_read_tls(struct paas *p, const char *bucket, const char *host,
                         struct auth_store *s, struct err *e)
{
    struct pki_object *key = &s->o[AU_TLS_KEY], *crt = &s->o[AU_TLS_CRT];
    int ok = auth_tls_ok(p, bucket, host, s, e);
    if (ok != 0)
        return ok < 0 ? -1 : 0;
    if (auth_ca(p, bucket, s, e) < 0)
        return -1;
    key->create = crt->create = 1;
    buf_reset(&key->body);
    buf_reset(&crt->body);
    return pki_server_cert(buf_str(&s->o[AU_CA_CRT].body), buf_str(&s->o[AU_CA_KEY].body),
                           host, AUTH_TLS_DAYS, paas_now(p), &key->body, &crt->body, e);
}

/* The admin's and the database's credentials as one env file for both
 * containers (docker run --env-file: no password on a command line). Made
 * only when missing, never re-made: Keycloak keeps its admin and
 * PostgreSQL its password from the first start. */
static int auth_read_env(struct auth_store *s, struct err *e)
{
    struct pki_object *o = &s->o[AU_ENV];
    char admin[PKI_PASSWORD_LEN + 1], db[PKI_PASSWORD_LEN + 1];
    int rc = 0;
    if (o->listed)
        return 0;
    if (pki_password_new(admin, e) < 0 || pki_password_new(db, e) < 0) {
        rc = -1;
        goto out;
    }
    o->create = 1;
    buf_printf(&o->body, "KC_BOOTSTRAP_ADMIN_USERNAME=%s\nKC_BOOTSTRAP_ADMIN_PASSWORD=%s\n"
               "KC_DB_PASSWORD=%s\nPOSTGRES_USER=keycloak\nPOSTGRES_DB=keycloak\n"
               "POSTGRES_PASSWORD=%s\n", AUTH_ADMIN_USER, admin, db, db);
    if (o->body.failed)
        rc = err_set(e, ERR_FAILED, "out of memory");
out:
    explicit_bzero(admin, sizeof(admin));
    explicit_bzero(db, sizeof(db));
    return rc;
}

/* The realm from its template, checked to be JSON here rather than by a
 * Keycloak that refuses to start on the node. */
static int auth_render_realm(struct paas *p, const char *slot, struct auth_store *s,
                             struct err *e)
{
    struct bootstrap_vars v = { .n = 0 };
    json_error_t je;
    json_t *doc;
    bootstrap_var(&v, "NAME", p->cfg.name);
    bootstrap_var(&v, "SLOT", slot);
    bootstrap_var(&v, "REALM", AUTH_REALM);
    if (bootstrap_render(bootstrap_realm_template(), &v, &s->realm, e) < 0)
        return -1;
    doc = json_loadb(buf_str(&s->realm), s->realm.len, 0, &je);
    if (!doc)
        return err_set(e, ERR_FAILED, "scripts/bootstrap/keycloak-realm.json.in: line %d: %s",
                       je.line, je.text);
    json_decref(doc);
    s3_md5_hex(buf_str(&s->realm), s->realm.len, s->realm_md5);
    return 0;
}

int auth_store_read(struct paas *p, const char *bucket, const char *host,
                    const char *slot, const struct s3_object *listed,
                    size_t n_listed, struct auth_store *s, struct err *e)
{
    memset(s, 0, sizeof(*s));
    buf_init(&s->realm);
    s->realm_upload = 1;
    for (int i = 0; i < AUTH_STORE_N; i++) {
        s->o[i].key = auth_keys[i];
        buf_init(&s->o[i].body);
        for (size_t k = 0; k < n_listed; k++)
            s->o[i].listed |= strcmp(listed[k].key, auth_keys[i]) == 0;
    }
    if (auth_read_tls(p, bucket, host, s, e) < 0 || auth_read_env(s, e) < 0 ||
        auth_render_realm(p, slot, s, e) < 0)
        return -1;
    for (size_t k = 0; k < n_listed; k++)
        if (strcmp(listed[k].key, AUTH_REALM_KEY) == 0) {
            s->realm_listed = 1;
            s->realm_upload = strcmp(listed[k].etag, s->realm_md5) != 0;
        }
    for (int i = 0; i < AUTH_STORE_N; i++)
        s->n_create += s->o[i].create;
    return 0;
}

void auth_store_decide(const struct auth_store *s, const char *bucket, struct diff *d)
{
    int made = 0;
    for (int i = 0; i < AUTH_STORE_N; i++)
        made += s->o[i].create && !s->o[i].listed;
    diff_add(d, made == AUTH_STORE_N ? DIFF_CREATE : s->n_create ? DIFF_UPDATE : DIFF_EXISTS,
             "auth", "secret/auth/", NULL,
             "Keycloak admin credentials, auth CA, TLS certificate (SSE, never printed)%s",
             s->n_create && made < AUTH_STORE_N ? "; make or renew what is missing or due" : "");
    diff_add(d, !s->realm_listed ? DIFF_CREATE : s->realm_upload ? DIFF_UPDATE : DIFF_EXISTS,
             "object", AUTH_REALM_KEY, NULL, "s3://%s/%s, %zu bytes, realm %s%s", bucket,
             AUTH_REALM_KEY, s->realm.len, AUTH_REALM,
             s->realm_listed && s->realm_upload ? ", content changed" : "");
}

int auth_store_apply(struct paas *p, const char *bucket, struct auth_store *s,
                     struct err *e)
{
    for (int i = 0; i < AUTH_STORE_N; i++)
        if (s->o[i].create && pki_object_put(p, bucket, &s->o[i], e) < 0)
            return -1;
    s->n_create = 0;
    if (s->realm_upload &&
        s3_put_secret(&p->aws, bucket, AUTH_REALM_KEY, buf_str(&s->realm), s->realm.len, 0,
                      e) < 0)
        return err_wrap(e, "uploading s3://%s/%s", bucket, AUTH_REALM_KEY);
    s->realm_upload = 0;
    s->realm_listed = 1;
    return 0;
}

void auth_store_release(struct auth_store *s)
{
    for (int i = 0; i < AUTH_STORE_N; i++)
        buf_release_secret(&s->o[i].body);
    buf_release(&s->realm);
}
