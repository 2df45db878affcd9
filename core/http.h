/* The one HTTP request engine (DESIGN.md "Layers", core/): libcurl transfers
 * driven by one multi handle, at most max_in_flight at once (and an optional
 * QPS bucket), a timeout per attempt, retries with full-jitter backoff under a
 * cap (a Retry-After wins), a low-speed limit per attempt and a deadline per
 * request (all attempts together), interruption (once *stop is set no new attempt
 * starts; those in flight finish: SPEC.md "Exit codes" 130/143), counters and
 * a size cap on every answer. It knows no protocol: a driver (aws/transport.c
 * with its SigV4 signer and AWS error rules, k8s/client.c with kubeconfig
 * auth and Status rules, the IMDS client in aws/creds.c, the smoke probe)
 * prepares each attempt and judges each answer through struct http_driver. */
#ifndef CORE_HTTP_H
#define CORE_HTTP_H

#include <curl/curl.h>
#include <signal.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"

struct http_counters {
    long requests;       /* attempts sent, retries included */
    long retries;
    long throttled;      /* retries the driver judged as throttling */
    long connects;       /* new connections: low when kept alive */
    long bytes_out;
    long bytes_in;
};

struct http_policy {
    int max_attempts;    /* attempts per request, the first included */
    long base_ms;        /* backoff ceiling before the first retry */
    long cap_ms;         /* the ceiling doubles up to this */
};

/* A Retry-After longer than this is not waited for in full. */
#define HTTP_RETRY_AFTER_CAP_MS 60000L

struct http_engine_opts {
    int max_in_flight;        /* 0 = 16 */
    double qps;               /* attempts started per second; 0 = unlimited */
    long timeout_ms;          /* per attempt; 0 = 60 s */
    long connect_timeout_ms;  /* 0 = 10 s */
    struct http_policy retry; /* 0 fields = 1 attempt, 250 ms, 10 s */
};

/* A server that trickles its answer (or answers nothing on an open
 * connection) must not hold a run for attempts x timeout: an attempt
 * slower than low_speed_bps for low_speed_s is cut (and may be retried),
 * and one request, all its attempts and backoffs together, ends at
 * deadline_ms. Every engine starts with the defaults below
 * (http_engine_limits changes them). A request with its own timeout (a
 * watch, a blocking query: quiet for long on purpose) gets no low-speed
 * limit and a deadline of at least that timeout. */
struct http_limits {
    long low_speed_bps;
    long low_speed_s;         /* < 0: no low-speed limit */
    long deadline_ms;
};

#define HTTP_LOW_SPEED_BPS 100L
#define HTTP_LOW_SPEED_S 20L
/* Above the longest the retry policies of aws/ and k8s/ back off in total
 * (13 attempts under a 20 s cap: about 150 s), so only a stuck request
 * meets it. */
#define HTTP_DEADLINE_MS 300000L

struct http_engine {
    CURLSH *share;            /* connections, DNS and TLS sessions */
    CURLM *multi;
    struct http_engine_opts o;
    struct http_policy retry;
    struct http_limits limits;
    struct http_counters *n;  /* borrowed: the driver's counters */
    double qps_tokens;
    long long qps_last_ms;
    unsigned long long rng;   /* jitter only; not for secrets */
    volatile sig_atomic_t *stop;   /* non-zero: start nothing new. NULL = never */
};

/* What a driver says about a finished attempt. */
enum http_verdict {
    HTTP_DONE,         /* ok (e empty) or failed for good (e filled) */
    HTTP_RETRY,        /* worth another attempt after a backoff */
    HTTP_RETRY_NOW,    /* another attempt at once (fresh credentials) */
};

struct http_xfer;

struct http_driver {
    /* Before every attempt, on a handle the engine has set up (share,
     * callbacks, timeouts, protocols, TLS verification on): URL, method,
     * body, headers (http_xfer_header) and options set through HTTP_SET.
     * -1 with x->e filled: the request fails unsent. */
    int (*prepare)(struct http_xfer *x);
    /* After every attempt that reached curl: fill x->e (err_init on
     * success) and say what next. rc is curl's result; x->status, the
     * body and x->retry_after_s are filled. Set x->throttled to count a
     * throttling retry. The engine stops retrying after max_attempts. */
    enum http_verdict (*judge)(struct http_xfer *x, CURLcode rc);
    /* Optional: each response header line (CRLF included). */
    void (*header)(struct http_xfer *x, const char *line, size_t len);
    /* Optional: body bytes before they are stored; return 1 when taken,
     * 0 to store them in x->body, -1 to end the transfer (not an error). */
    int (*data)(struct http_xfer *x, const char *p, size_t len);
    /* Optional: once per request, when it is finished (log line). */
    void (*done)(struct http_xfer *x);
};

/* One request. The driver sets the first block (http_xfer_init); the
 * engine owns the rest. */
struct http_xfer {
    const struct http_driver *drv;
    void *arg;                 /* the driver's per-request state */
    struct buf *body;          /* the answer goes here, within body->max */
    struct err *e;
    long timeout_ms;           /* this request's per-attempt timeout; 0 = engine's */
    const char *what;          /* "ec2 RunInstances": names the request in
                                * the engine's own messages; NULL = none */

    struct http_engine *en;
    CURL *easy;
    struct curl_slist *hdrs;   /* wiped when freed: may hold credentials */
    long status;
    long retry_after_s;
    int attempt;               /* 1-based number of the current attempt */
    int throttled;
    int gave_up;               /* the judge wanted a retry; attempts ran out */
    int stopped;               /* the data callback ended the transfer */
    int cut;                   /* this attempt's timeout is the deadline's rest */
    int slow;                  /* attempts the low-speed limit cut */
    long long first_ms, not_before;
    int active, done;
    const char *bad_opt;       /* first option libcurl refused (HTTP_SET) */
    CURLcode bad_opt_rc;
    char curl_err[CURL_ERROR_SIZE];
};

int http_engine_init(struct http_engine *en, const struct http_engine_opts *o,
                     struct http_counters *n, struct err *e);
void http_engine_release(struct http_engine *en);
/* Sets the slow-answer limits of an engine already set up (from the knobs
 * cmd/ reads once); each 0 keeps the current value. */
void http_engine_limits(struct http_engine *en, long low_speed_bps, long low_speed_s,
                        long deadline_ms);

void http_xfer_init(struct http_xfer *x, const struct http_driver *drv, void *arg,
                    struct buf *body, struct err *e);

/* Runs every request of xs to its end: at most max_in_flight at once, each
 * retried on its own. Returns 0 when all succeeded, else -1 (look at each
 * xs[i].e). xs[i] may be reused after it (http_xfer_init again). */
int http_run(struct http_engine *en, struct http_xfer *xs, size_t n);

/* Sets a curl option on the attempt's handle. A refusal is remembered (the
 * first one) and fails the attempt before it is sent: an option that
 * matters (protocols, TLS) is never silently dropped. */
#define HTTP_SET(x, opt, val) \
    http_set_result((x), #opt, curl_easy_setopt((x)->easy, (opt), (val)))
void http_set_result(struct http_xfer *x, const char *name, CURLcode rc);
/* Sets a memory blob option (CA, client certificate, key) checked the same. */
void http_set_blob(struct http_xfer *x, const char *name, CURLoption opt,
                   const void *p, size_t len, unsigned int flags);

/* Adds a request header line ("Name: value"); the formatted copy is wiped.
 * -1 (x->e filled) when out of memory. */
int http_xfer_header(struct http_xfer *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Full-jitter backoff before retry k (1-based): uniform in [0, ceiling],
 * ceiling = base * 2^(k-1) capped at cap; a Retry-After of ra_s seconds
 * (> 0) wins, capped at HTTP_RETRY_AFTER_CAP_MS. */
long http_backoff_ms(struct http_engine *en, int k, long ra_s);

/* If the header line is "name: value" (name case-insensitive), copies the
 * trimmed value into out (at most size-1 bytes) and returns 1; else 0. */
int http_header_value(const char *line, size_t len, const char *name, char *out,
                      size_t size);

#endif
