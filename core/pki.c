/* A slot's PKI with OpenSSL (see pki.h; SPEC.md "Clusters"). Every
 * function is PEM in, PEM out; OpenSSL objects never leave this file. */
#include "core/pki.h"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Appends a memory BIO's bytes to out, then wipes and frees the BIO (it
 * may hold a private key). */
static int pki_bio_take(BIO *b, struct buf *out, struct err *e)
{
    char *data = NULL;
    long n = BIO_get_mem_data(b, &data);
    if (n > 0)
        buf_add(out, data, (size_t)n);
    if (n > 0)
        OPENSSL_cleanse(data, (size_t)n);
    BIO_free(b);
    if (n <= 0 || out->failed)
        return err_set(e, ERR_FAILED, "pki: out of memory writing PEM");
    return 0;
}

static EVP_PKEY *pki_read_key(const char *pem, struct err *e)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    if (!k)
        err_set(e, ERR_FAILED, "pki: not a PEM private key");
    return k;
}

static X509 *pki_read_cert(const char *pem, struct err *e)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    if (!x)
        err_set(e, ERR_FAILED, "pki: not a PEM certificate");
    return x;
}

static int pki_write_key(EVP_PKEY *k, struct buf *out, struct err *e)
{
    BIO *b = BIO_new(BIO_s_mem());
    if (!b || !PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL)) {
        BIO_free(b);
        return err_set(e, ERR_FAILED, "pki: cannot encode a private key");
    }
    return pki_bio_take(b, out, e);
}

static int pki_write_cert(X509 *x, struct buf *out, struct err *e)
{
    BIO *b = BIO_new(BIO_s_mem());
    if (!b || !PEM_write_bio_X509(b, x)) {
        BIO_free(b);
        return err_set(e, ERR_FAILED, "pki: cannot encode a certificate");
    }
    return pki_bio_take(b, out, e);
}

int pki_key_new(struct buf *key_pem, struct err *e)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    int rc;
    if (!k)
        return err_set(e, ERR_FAILED, "pki: cannot generate an ECDSA P-256 key");
    rc = pki_write_key(k, key_pem, e);
    EVP_PKEY_free(k);
    return rc;
}

int pki_public_pem(const char *key_pem, struct buf *pub_pem, struct err *e)
{
    EVP_PKEY *k = pki_read_key(key_pem, e);
    BIO *b;
    int rc;
    if (!k)
        return -1;
    b = BIO_new(BIO_s_mem());
    rc = b && PEM_write_bio_PUBKEY(b, k) ? pki_bio_take(b, pub_pem, e)
        : (BIO_free(b), err_set(e, ERR_FAILED, "pki: cannot encode a public key"));
    EVP_PKEY_free(k);
    return rc;
}

/* A random positive 127-bit serial (RFC 5280: at most 20 octets, unique). */
static int pki_serial(X509 *x)
{
    unsigned char r[16];
    BIGNUM *bn;
    int ok;
    if (RAND_bytes(r, sizeof(r)) != 1)
        return 0;
    r[0] &= 0x7f;
    bn = BN_bin2bn(r, sizeof(r), NULL);
    ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
    BN_free(bn);
    return ok;
}

static int pki_name(X509_NAME *n, const char *cn, const char *org)
{
    return (!org || X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8,
                                               (const unsigned char *)org, -1, -1, 0)) &&
           X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
                                      (const unsigned char *)cn, -1, -1, 0);
}

static int pki_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509_EXTENSION *ext;
    int ok;
    X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    ok = ext && X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    return ok;
}

/* The certificate's frame: version 3, serial, subject, validity, key. */
static X509 *pki_cert_new(EVP_PKEY *pub, const char *cn, const char *org,
                          time_t from, time_t to)
{
    X509 *x = X509_new();
    if (!x || !X509_set_version(x, 2) || !pki_serial(x) ||
        !pki_name(X509_get_subject_name(x), cn, org) ||
        !X509_time_adj_ex(X509_getm_notBefore(x), 0, 0, &from) ||
        !X509_time_adj_ex(X509_getm_notAfter(x), 0, 0, &to) ||
        !X509_set_pubkey(x, pub)) {
        X509_free(x);
        return NULL;
    }
    return x;
}

int pki_ca_cert(const char *key_pem, const char *cn, long days, time_t now,
                struct buf *crt_pem, struct err *e)
{
    EVP_PKEY *k = pki_read_key(key_pem, e);
    X509 *x;
    int rc = -1;
    if (!k)
        return -1;
    x = pki_cert_new(k, cn, NULL, now - 3600, now + days * 86400L);
    if (x && X509_set_issuer_name(x, X509_get_subject_name(x)) &&
        pki_ext(x, x, NID_basic_constraints, "critical,CA:TRUE") &&
        pki_ext(x, x, NID_key_usage, "critical,digitalSignature,keyCertSign,cRLSign") &&
        pki_ext(x, x, NID_subject_key_identifier, "hash") &&
        X509_sign(x, k, EVP_sha256()))
        rc = pki_write_cert(x, crt_pem, e);
    else
        err_set(e, ERR_FAILED, "pki: cannot make the CA certificate '%s'", cn);
    X509_free(x);
    EVP_PKEY_free(k);
    return rc;
}

static int pki_sign_client(X509 *ca, EVP_PKEY *ca_key, EVP_PKEY *k, const char *cn,
                           const char *org, long ttl, time_t now, struct buf *crt_pem,
                           struct err *e)
{
    X509 *x = pki_cert_new(k, cn, org, now - 300, now + ttl);
    int rc = -1;
    if (x && X509_set_issuer_name(x, X509_get_subject_name(ca)) &&
        pki_ext(x, ca, NID_basic_constraints, "critical,CA:FALSE") &&
        pki_ext(x, ca, NID_key_usage, "critical,digitalSignature") &&
        pki_ext(x, ca, NID_ext_key_usage, "clientAuth") &&
        pki_ext(x, ca, NID_authority_key_identifier, "keyid:always") &&
        X509_sign(x, ca_key, EVP_sha256()))
        rc = pki_write_cert(x, crt_pem, e);
    else
        err_set(e, ERR_FAILED, "pki: cannot sign the client certificate '%s'", cn);
    X509_free(x);
    return rc;
}

int pki_client_cert(const char *ca_crt_pem, const char *ca_key_pem,
                    const char *cn, const char *org, long ttl_seconds,
                    time_t now, struct buf *key_pem, struct buf *crt_pem,
                    struct err *e)
{
    X509 *ca = pki_read_cert(ca_crt_pem, e);
    EVP_PKEY *ca_key = ca ? pki_read_key(ca_key_pem, e) : NULL;
    EVP_PKEY *k = NULL;
    int rc = -1;
    if (!ca_key)
        goto out;
    if (X509_check_private_key(ca, ca_key) != 1) {
        err_set(e, ERR_FAILED, "pki: the CA key does not belong to the CA certificate");
        goto out;
    }
    k = EVP_EC_gen("P-256");
    if (!k) {
        err_set(e, ERR_FAILED, "pki: cannot generate an ECDSA P-256 key");
        goto out;
    }
    if (pki_sign_client(ca, ca_key, k, cn, org, ttl_seconds, now, crt_pem, e) == 0)
        rc = pki_write_key(k, key_pem, e);
out:
    EVP_PKEY_free(k);
    EVP_PKEY_free(ca_key);
    X509_free(ca);
    return rc;
}

int pki_check_pair(const char *crt_pem, const char *key_pem, const char *what,
                   struct err *e)
{
    X509 *x = pki_read_cert(crt_pem, e);
    EVP_PKEY *k = x ? pki_read_key(key_pem, e) : NULL;
    int ok = k && X509_check_private_key(x, k) == 1;
    EVP_PKEY_free(k);
    X509_free(x);
    ERR_clear_error();
    return ok ? 0 : err_set(e, ERR_FAILED, "pki: %s: the certificate and its key do "
                            "not match", what);
}

int pki_ca_hash(const char *crt_pem, char out[PKI_HASH_LEN + 1], struct err *e)
{
    X509 *x = pki_read_cert(crt_pem, e);
    unsigned char *der = NULL, md[32];
    unsigned int mdlen = 0;
    int n;
    if (!x)
        return -1;
    n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
    X509_free(x);
    if (n <= 0 || !EVP_Digest(der, (size_t)n, md, &mdlen, EVP_sha256(), NULL) ||
        mdlen != sizeof(md)) {
        OPENSSL_free(der);
        return err_set(e, ERR_FAILED, "pki: cannot hash the CA public key");
    }
    OPENSSL_free(der);
    memcpy(out, "sha256:", 7);
    for (unsigned i = 0; i < mdlen; i++) {
        static const char hex[] = "0123456789abcdef";
        out[7 + 2 * i] = hex[md[i] >> 4];
        out[8 + 2 * i] = hex[md[i] & 15];
    }
    out[PKI_HASH_LEN] = '\0';
    return 0;
}

int pki_token_new(char out[PKI_TOKEN_LEN + 1], struct err *e)
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    unsigned char r[64];
    int n = 0;
    while (n < 22) {
        if (RAND_bytes(r, sizeof(r)) != 1) {
            OPENSSL_cleanse(r, sizeof(r));
            return err_set(e, ERR_FAILED, "pki: the random generator failed");
        }
        /* 252 = 7 * 36: bytes above it would favour the first letters. */
        for (size_t i = 0; i < sizeof(r) && n < 22; i++)
            if (r[i] < 252) {
                out[n < 6 ? n : n + 1] = alphabet[r[i] % 36];
                n++;
            }
    }
    OPENSSL_cleanse(r, sizeof(r));
    out[6] = '.';
    out[PKI_TOKEN_LEN] = '\0';
    return 0;
}

int pki_token_valid(const char *s)
{
    static const char set[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    return s && strlen(s) == PKI_TOKEN_LEN && strspn(s, set) == 6 && s[6] == '.' &&
           strspn(s + 7, set) == 16;
}

int pki_parse_duration(const char *s, long *seconds)
{
    long total = 0;
    if (!s || !*s)
        return -1;
    while (*s) {
        char *end;
        long n, unit;
        if (*s < '0' || *s > '9')
            return -1;
        n = strtol(s, &end, 10);
        unit = *end == 'd' ? 86400 : *end == 'h' ? 3600 : *end == 'm' ? 60
             : *end == 's' ? 1 : 0;
        if (!unit || n > 3650L * 86400)
            return -1;
        total += n * unit;
        if (total > 3650L * 86400)
            return -1;
        s = end + 1;
    }
    if (total <= 0)
        return -1;
    *seconds = total;
    return 0;
}
