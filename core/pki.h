/* A slot's PKI with OpenSSL (SPEC.md "Clusters", PKI and `kubeconfig`):
 * the self-signed CAs kubeadm is given (cluster, etcd, front-proxy), the
 * service-account key pair, client certificates signed by the cluster CA,
 * the bootstrap token and the CA public-key hash `kubeadm join` pins.
 *
 * Keys are ECDSA P-256: kubeadm (encryptionAlgorithm ECDSA-P256), the
 * kube-apiserver (ES256 service-account tokens), kubectl and curl all accept
 * them, they take microseconds to make where RSA-2048 takes tens of
 * milliseconds, and certificates stay small enough for the env files.
 *
 * Everything is PEM text in struct buf. Buffers holding private keys are
 * the caller's, to be released with buf_release_secret(); OpenSSL's own
 * copies are freed with the *_clear_free/OPENSSL_cleanse calls here. No
 * function logs or prints anything. The clock is passed in (tests). */
#ifndef CORE_PKI_H
#define CORE_PKI_H

#include <stddef.h>
#include <time.h>
#include "core/buf.h"
#include "core/err.h"

#define PKI_CA_DAYS 3650          /* ten years, as kubeadm's own CAs */
#define PKI_TOKEN_LEN 23          /* "abcdef.0123456789abcdef" */
#define PKI_HASH_LEN 71           /* "sha256:" + 64 hex */
#define PKI_PASSWORD_LEN 32       /* [A-Za-z0-9]{32}: about 190 bits */

/* A new ECDSA P-256 private key (PKCS#8 PEM) appended to key_pem. */
int pki_key_new(struct buf *key_pem, struct err *e);

/* The public key (SubjectPublicKeyInfo PEM, "PUBLIC KEY") of key_pem: the
 * service account's sa.pub. */
int pki_public_pem(const char *key_pem, struct buf *pub_pem, struct err *e);

/* A self-signed CA certificate for key_pem: CN cn, valid from now - 1 h
 * for `days` days, basicConstraints CA:TRUE, keyUsage keyCertSign, cRLSign,
 * digitalSignature, a subject key id. A CA whose certificate is lost can be
 * re-made from its key: same public key, same join hash. */
int pki_ca_cert(const char *key_pem, const char *cn, long days, time_t now,
                struct buf *crt_pem, struct err *e);

/* A client certificate (clientAuth) for CN cn, O org (may be NULL), signed
 * by the CA (ca_crt_pem, ca_key_pem), valid from now - 5 min (clock skew)
 * to now + ttl_seconds; a fresh key is appended to key_pem. */
int pki_client_cert(const char *ca_crt_pem, const char *ca_key_pem,
                    const char *cn, const char *org, long ttl_seconds,
                    time_t now, struct buf *key_pem, struct buf *crt_pem,
                    struct err *e);

/* A TLS server certificate (serverAuth, subjectAltName DNS:host, CN host)
 * signed by the CA, valid from now - 5 min for `days` days; a fresh key
 * is appended to key_pem. */
int pki_server_cert(const char *ca_crt_pem, const char *ca_key_pem, const char *host,
                    long days, time_t now, struct buf *key_pem, struct buf *crt_pem,
                    struct err *e);

/* 1 when crt_pem is signed by ca_crt_pem, names host and is still valid
 * at `until`; 0 otherwise (unreadable included). */
int pki_server_cert_ok(const char *crt_pem, const char *ca_crt_pem, const char *host,
                       time_t until);

/* 0 when crt_pem's public key is key_pem's, else -1 with e naming what. */
int pki_check_pair(const char *crt_pem, const char *key_pem, const char *what,
                   struct err *e);

/* "sha256:" + hex of the SHA-256 of the certificate's DER
 * SubjectPublicKeyInfo: kubeadm's --discovery-token-ca-cert-hash. */
int pki_ca_hash(const char *crt_pem, char out[PKI_HASH_LEN + 1], struct err *e);

/* A bootstrap token [a-z0-9]{6}.[a-z0-9]{16} from the CSPRNG (RAND_bytes,
 * rejection-sampled so every character is equally likely). */
int pki_token_new(char out[PKI_TOKEN_LEN + 1], struct err *e);

/* A password of PKI_PASSWORD_LEN letters and digits from the CSPRNG, each
 * equally likely: the Keycloak admin's. */
int pki_password_new(char out[PKI_PASSWORD_LEN + 1], struct err *e);

/* 1 when s has the bootstrap token's shape, else 0. */
int pki_token_valid(const char *s);

/* Parses a Go-style duration ("12h", "90m", "1h30m", "30s", "7d" too) into
 * seconds; 0 on success, -1 when malformed, zero or over ten years. */
int pki_parse_duration(const char *s, long *seconds);

#endif
