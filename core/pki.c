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
#include <stdio.h>
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

/* A leaf certificate for k signed by the CA: eku "clientAuth" or
 * "serverAuth", san "DNS:NAME" or NULL. */
static int pki_sign_leaf(X509 *ca, EVP_PKEY *ca_key, EVP_PKEY *k, const char *cn,
                         const char *org, const char *eku, const char *san,
                         time_t from, time_t to, struct buf *crt_pem, struct err *e)
{
    X509 *x = pki_cert_new(k, cn, org, from, to);
    int rc = -1;
    if (x && X509_set_issuer_name(x, X509_get_subject_name(ca)) &&
        pki_ext(x, ca, NID_basic_constraints, "critical,CA:FALSE") &&
        pki_ext(x, ca, NID_key_usage, "critical,digitalSignature") &&
        pki_ext(x, ca, NID_ext_key_usage, eku) &&
        (!san || pki_ext(x, ca, NID_subject_alt_name, san)) &&
        pki_ext(x, ca, NID_authority_key_identifier, "keyid:always") &&
        X509_sign(x, ca_key, EVP_sha256()))
        rc = pki_write_cert(x, crt_pem, e);
    else
        err_set(e, ERR_FAILED, "pki: cannot sign the certificate '%s'", cn);
    X509_free(x);
    return rc;
}

/* Reads the CA pair and makes a fresh key: what every leaf starts from. */
static int pki_leaf_start(const char *ca_crt_pem, const char *ca_key_pem, X509 **ca,
                          EVP_PKEY **ca_key, EVP_PKEY **k, struct err *e)
{
    *ca = pki_read_cert(ca_crt_pem, e);
    *ca_key = *ca ? pki_read_key(ca_key_pem, e) : NULL;
    *k = NULL;
    if (!*ca_key)
        return -1;
    if (X509_check_private_key(*ca, *ca_key) != 1)
        return err_set(e, ERR_FAILED, "pki: the CA key does not belong to the CA certificate");
    *k = EVP_EC_gen("P-256");
    if (!*k)
        return err_set(e, ERR_FAILED, "pki: cannot generate an ECDSA P-256 key");
    return 0;
}

static void pki_leaf_end(X509 *ca, EVP_PKEY *ca_key, EVP_PKEY *k)
{
    EVP_PKEY_free(k);
    EVP_PKEY_free(ca_key);
    X509_free(ca);
}

int pki_client_cert(const char *ca_crt_pem, const char *ca_key_pem,
                    const char *cn, const char *org, long ttl_seconds,
                    time_t now, struct buf *key_pem, struct buf *crt_pem,
                    struct err *e)
{
    X509 *ca;
    EVP_PKEY *ca_key, *k;
    int rc = -1;
    if (pki_leaf_start(ca_crt_pem, ca_key_pem, &ca, &ca_key, &k, e) == 0 &&
        pki_sign_leaf(ca, ca_key, k, cn, org, "clientAuth", NULL, now - 300,
                      now + ttl_seconds, crt_pem, e) == 0)
        rc = pki_write_key(k, key_pem, e);
    pki_leaf_end(ca, ca_key, k);
    return rc;
}

int pki_server_cert(const char *ca_crt_pem, const char *ca_key_pem, const char *host,
                    long days, time_t now, struct buf *key_pem, struct buf *crt_pem,
                    struct err *e)
{
    X509 *ca;
    EVP_PKEY *ca_key, *k;
    char san[300];
    int rc = -1;
    snprintf(san, sizeof(san), "DNS:%s", host);
    if (pki_leaf_start(ca_crt_pem, ca_key_pem, &ca, &ca_key, &k, e) == 0 &&
        pki_sign_leaf(ca, ca_key, k, host, NULL, "serverAuth", san, now - 300,
                      now + days * 86400L, crt_pem, e) == 0)
        rc = pki_write_key(k, key_pem, e);
    pki_leaf_end(ca, ca_key, k);
    return rc;
}

int pki_server_cert_ok(const char *crt_pem, const char *ca_crt_pem, const char *host,
                       time_t until)
{
    struct err e;
    X509 *x, *ca;
    EVP_PKEY *ca_pub;
    int ok;
    err_init(&e);
    x = pki_read_cert(crt_pem, &e);
    ca = pki_read_cert(ca_crt_pem, &e);
    ca_pub = ca ? X509_get0_pubkey(ca) : NULL;
    ok = x && ca_pub && X509_verify(x, ca_pub) == 1 &&
             X509_check_host(x, host, 0, 0, NULL) == 1 &&
             X509_cmp_time(X509_get0_notAfter(x), &until) > 0;
    X509_free(ca);
    X509_free(x);
    ERR_clear_error();
    return ok;
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

/* n characters of alphabet (at most 64 of them) from the CSPRNG, each
 * equally likely: bytes at or above the largest multiple of the alphabet's
 * size are dropped (they would favour the first characters). */
static int pki_random_chars(char *out, size_t n, const char *alphabet, struct err *e)
{
    size_t size = strlen(alphabet), got = 0;
    unsigned limit = 256u - 256u % (unsigned)size;
    unsigned char r[64];
    while (got < n) {
        if (RAND_bytes(r, sizeof(r)) != 1) {
            OPENSSL_cleanse(r, sizeof(r));
            return err_set(e, ERR_FAILED, "pki: the random generator failed");
        }
        for (size_t i = 0; i < sizeof(r) && got < n; i++)
            if (r[i] < limit)
                out[got++] = alphabet[r[i] % size];
    }
    OPENSSL_cleanse(r, sizeof(r));
    return 0;
}

static const char pki_lower_digits[] = "abcdefghijklmnopqrstuvwxyz0123456789";

int pki_token_new(char out[PKI_TOKEN_LEN + 1], struct err *e)
{
    if (pki_random_chars(out, 6, pki_lower_digits, e) < 0 ||
        pki_random_chars(out + 7, 16, pki_lower_digits, e) < 0)
        return -1;
    out[6] = '.';
    out[PKI_TOKEN_LEN] = '\0';
    return 0;
}

int pki_password_new(char out[PKI_PASSWORD_LEN + 1], struct err *e)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    if (pki_random_chars(out, PKI_PASSWORD_LEN, alphabet, e) < 0)
        return -1;
    out[PKI_PASSWORD_LEN] = '\0';
    return 0;
}

int pki_token_valid(const char *s)
{
    return s && strlen(s) == PKI_TOKEN_LEN && strspn(s, pki_lower_digits) == 6 &&
           s[6] == '.' && strspn(s + 7, pki_lower_digits) == 16;
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
