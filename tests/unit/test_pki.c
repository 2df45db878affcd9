/* core/pki.c: the slot CA, client certificates, the join hash, the token
 * and durations, checked with OpenSSL's own verifier and parsers (an
 * independent path from the code that signs). */
#include "core/pki.h"
#include "tests/unit/t.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

static X509 *t_cert(const struct buf *b)
{
    BIO *bio = BIO_new_mem_buf(buf_str(b), -1);
    X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    BIO_free(bio);
    return x;
}

/* X509_verify_cert of leaf against the CA at time `at`: 1 ok, else the
 * verify error code (negative). */
static int t_verify(X509 *ca, X509 *leaf, time_t at, int purpose)
{
    X509_STORE *st = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    int rc;
    X509_STORE_add_cert(st, ca);
    X509_STORE_CTX_init(ctx, st, leaf, NULL);
    X509_STORE_CTX_set_time(ctx, 0, at);
    if (purpose)
        X509_STORE_CTX_set_purpose(ctx, purpose);
    rc = X509_verify_cert(ctx) == 1 ? 1 : -X509_STORE_CTX_get_error(ctx);
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(st);
    return rc;
}

static void t_subject(X509 *x, int nid, char *out, size_t size)
{
    out[0] = '\0';
    X509_NAME_get_text_by_NID(X509_get_subject_name(x), nid, out, (int)size);
}

static void test_ca_and_client(void)
{
    struct buf ca_key = BUF_INIT, ca_crt = BUF_INIT, ca_crt2 = BUF_INIT;
    struct buf cl_key = BUF_INIT, cl_crt = BUF_INIT, other = BUF_INIT;
    struct err e;
    time_t now = 1764460800;     /* 2025-11-30 */
    char hash[PKI_HASH_LEN + 1], hash2[PKI_HASH_LEN + 1], cn[64], o[64];
    X509 *ca, *ca2, *cl;
    err_init(&e);
    T_OK("ca key", pki_key_new(&ca_key, &e) == 0, "%s", e.msg);
    T_OK("ca key is PKCS#8 PEM",
         strstr(buf_str(&ca_key), "-----BEGIN PRIVATE KEY-----") != NULL, "no PEM header");
    T_OK("ca cert", pki_ca_cert(buf_str(&ca_key), "kubernetes", PKI_CA_DAYS, now,
                                &ca_crt, &e) == 0, "%s", e.msg);
    ca = t_cert(&ca_crt);
    T_OK("ca cert parses", ca != NULL, "PEM_read_bio_X509 failed");
    if (!ca)
        return;
    T_OK("ca is a CA", X509_check_ca(ca) == 1, "X509_check_ca=%d", X509_check_ca(ca));
    T_INTEQ("ca self-signed verifies now", t_verify(ca, ca, now, 0), 1);
    T_OK("ca still valid in 9 years", t_verify(ca, ca, now + 9L * 365 * 86400, 0) == 1, "no");
    T_OK("ca expired after 10 years", t_verify(ca, ca, now + 3651L * 86400, 0) ==
         -X509_V_ERR_CERT_HAS_EXPIRED, "not expired");
    t_subject(ca, NID_commonName, cn, sizeof(cn));
    T_STREQ("ca CN", cn, "kubernetes");

    T_OK("client cert", pki_client_cert(buf_str(&ca_crt), buf_str(&ca_key), "paasctl-admin",
                                        "kubeadm:cluster-admins", 12 * 3600, now, &cl_key,
                                        &cl_crt, &e) == 0, "%s", e.msg);
    cl = t_cert(&cl_crt);
    T_OK("client parses", cl != NULL, "no");
    if (cl) {
        t_subject(cl, NID_commonName, cn, sizeof(cn));
        t_subject(cl, NID_organizationName, o, sizeof(o));
        T_STREQ("client CN", cn, "paasctl-admin");
        T_STREQ("client O", o, "kubeadm:cluster-admins");
        T_INTEQ("client verifies for clientAuth", t_verify(ca, cl, now, X509_PURPOSE_SSL_CLIENT), 1);
        T_INTEQ("client is no CA", X509_check_ca(cl), 0);
        T_INTEQ("client expired after its ttl", t_verify(ca, cl, now + 12 * 3600 + 1, 0),
                -X509_V_ERR_CERT_HAS_EXPIRED);
        T_INTEQ("client not for serverAuth", t_verify(ca, cl, now, X509_PURPOSE_SSL_SERVER),
                -X509_V_ERR_INVALID_PURPOSE);
        T_OK("client pair matches", pki_check_pair(buf_str(&cl_crt), buf_str(&cl_key), "client",
                                                   &e) == 0, "%s", e.msg);
        X509_free(cl);
    }
    T_OK("mismatched pair refused", pki_check_pair(buf_str(&ca_crt), buf_str(&cl_key), "ca",
                                                   &e) < 0, "accepted");

    /* The join hash is of the public key: a CA cert re-made from the same
     * key (after a crash lost it) keeps it; it is what kubeadm computes. */
    T_OK("hash", pki_ca_hash(buf_str(&ca_crt), hash, &e) == 0, "%s", e.msg);
    T_OK("hash shape", strncmp(hash, "sha256:", 7) == 0 && strlen(hash) == 71 &&
         strspn(hash + 7, "0123456789abcdef") == 64, "[%s]", hash);
    pki_ca_cert(buf_str(&ca_key), "kubernetes", PKI_CA_DAYS, now + 99, &ca_crt2, &e);
    ca2 = t_cert(&ca_crt2);
    pki_ca_hash(buf_str(&ca_crt2), hash2, &e);
    T_STREQ("hash stable over a re-made CA cert", hash2, hash);
    if (ca2) {
        unsigned char *der = NULL, md[32];
        unsigned int n = 0;
        char want[72] = "sha256:";
        int len = i2d_PUBKEY(X509_get0_pubkey(ca2), &der);
        EVP_Digest(der, (size_t)len, md, &n, EVP_sha256(), NULL);
        for (unsigned i = 0; i < n; i++)
            snprintf(want + 7 + 2 * i, 3, "%02x", md[i]);
        T_STREQ("hash = sha256 of DER SubjectPublicKeyInfo", hash, want);
        OPENSSL_free(der);
        X509_free(ca2);
    }

    T_OK("pubkey pem", pki_public_pem(buf_str(&ca_key), &other, &e) == 0 &&
         strstr(buf_str(&other), "BEGIN PUBLIC KEY") && !strstr(buf_str(&other), "PRIVATE"),
         "%s", buf_str(&other));
    T_OK("garbage key refused", pki_ca_cert("nonsense", "x", 1, now, &ca_crt2, &e) < 0, "ok");
    T_OK("client with a foreign CA key refused",
         pki_client_cert(buf_str(&ca_crt), buf_str(&cl_key), "x", NULL, 60, now, &other,
                         &other, &e) < 0, "signed");
    X509_free(ca);
    buf_release_secret(&ca_key);
    buf_release_secret(&cl_key);
    buf_release(&ca_crt);
    buf_release(&ca_crt2);
    buf_release(&cl_crt);
    buf_release(&other);
}

static void test_token(void)
{
    char a[PKI_TOKEN_LEN + 1], b[PKI_TOKEN_LEN + 1];
    struct err e;
    int seen[36] = { 0 }, all = 1;
    err_init(&e);
    T_OK("token", pki_token_new(a, &e) == 0, "%s", e.msg);
    T_OK("token shape", pki_token_valid(a), "[%s]", a);
    pki_token_new(b, &e);
    T_OK("tokens differ", strcmp(a, b) != 0, "%s twice", a);
    for (int i = 0; i < 200; i++) {
        pki_token_new(a, &e);
        all &= pki_token_valid(a);
        for (int k = 0; k < PKI_TOKEN_LEN; k++)
            if (k != 6)
                seen[a[k] >= 'a' ? a[k] - 'a' : 26 + a[k] - '0']++;
    }
    T_OK("200 tokens valid", all, "one was not");
    for (int k = 0; k < 36; k++)
        all &= seen[k] > 0;
    T_OK("every character occurs", all, "one of [a-z0-9] never did");
    T_OK("invalid shapes", !pki_token_valid("abcdef0123456789abcdef0") &&
         !pki_token_valid("ABCDEF.0123456789abcdef") && !pki_token_valid("abcdef.0123") &&
         !pki_token_valid(NULL), "accepted");
}

static void test_duration(void)
{
    long s = 0;
    T_OK("12h", pki_parse_duration("12h", &s) == 0 && s == 43200, "%ld", s);
    T_OK("1h30m", pki_parse_duration("1h30m", &s) == 0 && s == 5400, "%ld", s);
    T_OK("7d", pki_parse_duration("7d", &s) == 0 && s == 604800, "%ld", s);
    T_OK("2s", pki_parse_duration("2s", &s) == 0 && s == 2, "%ld", s);
    T_OK("bad durations", pki_parse_duration("12", &s) < 0 && pki_parse_duration("", &s) < 0 &&
         pki_parse_duration("-1h", &s) < 0 && pki_parse_duration("0s", &s) < 0 &&
         pki_parse_duration("h", &s) < 0 && pki_parse_duration("4000d", &s) < 0 &&
         pki_parse_duration("1x", &s) < 0, "accepted one");
}

/* Keycloak's server certificate: verified as a TLS server for its name by
 * OpenSSL's verifier; pki_server_cert_ok refuses another name, another CA
 * and a certificate past its end. */
static void test_server_cert(void)
{
    struct buf ca_key = BUF_INIT, ca_crt = BUF_INIT, key = BUF_INIT, crt = BUF_INIT;
    struct buf other_key = BUF_INIT, other_crt = BUF_INIT;
    struct err e;
    time_t now = 1764460800;     /* 2025-11-30 */
    const char *host = "auth.a.k8s.paas.example.com";
    X509 *ca, *x;
    err_init(&e);
    T_OK("auth ca", pki_key_new(&ca_key, &e) == 0 &&
         pki_ca_cert(buf_str(&ca_key), "paasctl-auth-ca", PKI_CA_DAYS, now, &ca_crt, &e) == 0 &&
         pki_key_new(&other_key, &e) == 0 &&
         pki_ca_cert(buf_str(&other_key), "other", PKI_CA_DAYS, now, &other_crt, &e) == 0,
         "%s", e.msg);
    T_OK("server cert", pki_server_cert(buf_str(&ca_crt), buf_str(&ca_key), host, 825, now,
                                        &key, &crt, &e) == 0, "%s", e.msg);
    ca = t_cert(&ca_crt);
    x = t_cert(&crt);
    T_OK("verifies as a TLS server at now + 824 days",
         ca && x && t_verify(ca, x, now + 824 * 86400L, X509_PURPOSE_SSL_SERVER) == 1, "no");
    T_OK("not as a TLS client", ca && x && t_verify(ca, x, now, X509_PURPOSE_SSL_CLIENT) != 1, "yes");
    T_OK("names the host (SAN)", x && X509_check_host(x, host, 0, 0, NULL) == 1, "no");
    T_OK("key matches", pki_check_pair(buf_str(&crt), buf_str(&key), "tls", &e) == 0, "%s", e.msg);
    T_OK("ok for its host until its end",
         pki_server_cert_ok(buf_str(&crt), buf_str(&ca_crt), host, now + 824 * 86400L), "refused");
    T_OK("not past its end",
         !pki_server_cert_ok(buf_str(&crt), buf_str(&ca_crt), host, now + 826 * 86400L), "accepted");
    T_OK("not for another host", !pki_server_cert_ok(buf_str(&crt), buf_str(&ca_crt),
                                                     "auth.b.k8s.paas.example.com", now), "accepted");
    T_OK("not under another CA",
         !pki_server_cert_ok(buf_str(&crt), buf_str(&other_crt), host, now), "accepted");
    T_OK("not garbage", !pki_server_cert_ok("junk", buf_str(&ca_crt), host, now), "accepted");
    T_OK("another CA's key cannot sign", pki_server_cert(buf_str(&ca_crt), buf_str(&other_key), host,
                                                         825, now, &key, &crt, &e) < 0, "signed");
    X509_free(ca);
    X509_free(x);
    buf_release_secret(&ca_key);
    buf_release_secret(&key);
    buf_release_secret(&other_key);
    buf_release(&ca_crt);
    buf_release(&crt);
    buf_release(&other_crt);
}

static void test_password(void)
{
    char a[PKI_PASSWORD_LEN + 1], b[PKI_PASSWORD_LEN + 1];
    struct err e;
    int classes = 0;
    err_init(&e);
    T_OK("password", pki_password_new(a, &e) == 0 && pki_password_new(b, &e) == 0, "%s", e.msg);
    T_OK("32 letters and digits", strlen(a) == PKI_PASSWORD_LEN &&
         strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") ==
         PKI_PASSWORD_LEN, "[%zu]", strlen(a));
    T_OK("passwords differ", strcmp(a, b) != 0, "same twice");
    for (int i = 0; i < 50; i++) {
        pki_password_new(a, &e);
        for (int k = 0; k < PKI_PASSWORD_LEN; k++)
            classes |= a[k] >= 'a' ? 1 : a[k] >= 'A' ? 2 : 4;
    }
    T_OK("lower, upper and digits all occur", classes == 7, "%d", classes);
    explicit_bzero(a, sizeof(a));
    explicit_bzero(b, sizeof(b));
}

int main(void)
{
    test_ca_and_client();
    test_token();
    test_duration();
    test_server_cert();
    test_password();
    return t_failed_count ? 1 : 0;
}
