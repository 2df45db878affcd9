/* The Kubernetes transport, the Kubernetes driver of the request engine
 * (core/http.h): one client per cluster, made from a resolved
 * kubeconfig context. libcurl over HTTPS with verification always on (unless
 * the kubeconfig says insecure-skip-tls-verify), client certificates and keys
 * passed as memory blobs (never written to disk), bearer tokens from the
 * kubeconfig, a token file or an exec plugin, connections kept alive and
 * HTTP/2 when offered, a bounded number of requests in flight, an optional
 * QPS token bucket, and retries with backoff honouring Retry-After.
 * SPEC.md "Smoke" and "Migration" ([migrate] concurrency and qps). */
#ifndef K8S_CLIENT_H
#define K8S_CLIENT_H

#include <signal.h>
#include <stddef.h>
#include <time.h>
#include <curl/curl.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/http.h"
#include "core/log.h"
#include "k8s/exec.h"
#include "k8s/kubeconfig.h"

/* The retry policy: 6 attempts, backoff from 250 ms capped at 10 s (the
 * API server sheds load with 429 and Retry-After, which wins). */
#define K8S_MAX_ATTEMPTS 6
#define K8S_RETRY_BASE_MS 250L
#define K8S_RETRY_CAP_MS 10000L
#define K8S_MAX_RESPONSE ((size_t)256 * 1024 * 1024)

struct k8s_client_opts {
    int max_in_flight;     /* requests in flight at once; 0 = 16 */
    double qps;            /* requests started per second; 0 = unlimited */
    long timeout_ms;       /* per attempt; 0 = 60 s */
    int max_attempts;      /* 0 = K8S_MAX_ATTEMPTS (cmd/ passes
                            * PAASCTL_MAX_ATTEMPTS from struct paas) */
    long retry_base_ms;    /* 0 = K8S_RETRY_BASE_MS (PAASCTL_RETRY_BASE_MS) */
    int legacy_discovery;  /* skip aggregated discovery (tests, old servers) */
};

struct k8s_discovery;

struct k8s_client {
    struct k8s_kubeconfig kc;          /* owned: moved in by init */
    const struct logger *log;          /* borrowed */
    struct k8s_client_opts o;
    struct http_counters n;
    char *base_url;                    /* scheme://host[:port][/prefix] */
    char *host_header;                 /* "Host: ..." with tls-server-name */
    struct curl_slist *connect_to;     /* tls-server-name -> real address */
    struct buf ca;                     /* PEM, empty = system store */
    struct buf cert, key;              /* PEM; key is a secret */
    struct buf token;                  /* static bearer token (secret) */
    int have_exec;
    struct k8s_exec exec;
    int exec_gen;                      /* bumped each time the plugin ran */
    struct http_engine http;           /* in flight, QPS, retries; set
                                        * http.stop to stop new requests */
    time_t (*clock)(void);             /* wall clock for exec credential
                                        * expiry; env_wall_clock by init */
    /* Discovery results, cached for the client's lifetime (discovery.c
     * fills these; release calls the free function). */
    struct k8s_discovery *discovery;
    void (*discovery_free)(struct k8s_discovery *);
};

/* Builds a client for the context in *kc, whose insides it takes over (kc
 * is left empty either way). Reads the CA, client certificate, key and
 * token files now; an unreadable or unusable file, or a client certificate
 * that has expired, is an error naming the kubeconfig. */
int k8s_client_init(struct k8s_client *c, struct k8s_kubeconfig *kc,
                    const struct logger *log, const struct k8s_client_opts *o,
                    struct err *e);
void k8s_client_release(struct k8s_client *c);

/* One request. Strings are borrowed for the duration of the call. */
struct k8s_request {
    const char *verb;          /* GET, POST, PUT, PATCH, DELETE */
    const char *path;          /* URI-encoded path and query, from '/' */
    const char *accept;        /* NULL = application/json */
    const char *content_type;  /* NULL = application/json when body set */
    const char *body;
    size_t body_len;
    long timeout_ms;           /* 0 = the client's */
    /* Streaming (watch): a 2xx body goes here chunk by chunk instead of
     * into the response; return non-zero to stop the transfer (the request
     * then succeeds). Nothing is retried once data was delivered. */
    int (*on_data)(void *arg, const char *p, size_t n);
    void *arg;
    const char *const *extra_headers; /* NULL-terminated "Name: value" lines, borrowed; may hold secrets, never logged */
    /* A read that may wait long (a Consul blocking query): when this points
     * at non-zero (Ctrl-C), the transfer is abandoned at once, not retried,
     * and fails with code "Interrupted". NULL = runs to its end. */
    const volatile sig_atomic_t *cancel;
    /* The value of one response header to keep (e.g. "X-Consul-Index"),
     * in k8s_response.header; NULL = none. */
    const char *want_header;
};

struct k8s_response {
    long status;
    struct buf body;           /* owned; the Status document on errors */
    char content_type[128];
    char header[128];          /* k8s_request.want_header's value, "" = absent */
};

void k8s_response_init(struct k8s_response *r);
void k8s_response_release(struct k8s_response *r);

/* Sends one request, retried on 429/500/502/503/504 and connection errors
 * (at most max_attempts, Retry-After honoured), once more after a 401 when
 * an exec plugin can fetch a new credential. A non-2xx answer is an error
 * (see k8s_error_from_status); TLS failures are never retried. */
int k8s_send(struct k8s_client *c, const struct k8s_request *req,
             struct k8s_response *resp, struct err *e);

/* Sends n independent requests, at most max_in_flight at once, each retried
 * on its own. resps[i] and errs[i] belong to reqs[i]. Returns 0 when all
 * succeeded, else -1 (look at each errs[i].kind). */
int k8s_send_all(struct k8s_client *c, const struct k8s_request *reqs,
                 size_t n, struct k8s_response *resps, struct err *errs);

/* Fills e from a non-2xx answer: code = the Status reason, http_status, and
 * a message naming the verb and path. Returns -1. */
int k8s_error_from_status(const char *verb, const char *path, long status,
                          const char *body, size_t len, struct err *e);

/* 1 if a request that failed with e is worth sending again. */
int k8s_error_retryable(const struct err *e);

/* Backoff before retry k (1-based): full jitter under base * 2^(k-1),
 * capped at K8S_RETRY_CAP_MS; a Retry-After of ra_s seconds (> 0) wins,
 * capped at 60 s (http_backoff_ms with the client's policy). */
long k8s_backoff_ms(struct k8s_client *c, int k, long ra_s);

#endif
