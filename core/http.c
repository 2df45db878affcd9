/* The HTTP request engine (see http.h): the one curl multi loop of paasctl,
 * its limits, retries with backoff, interruption and counters. */
#include "core/http.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/util.h"

static int http_fail(struct http_xfer *x, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Between two looks at the stop flag and the backoff timers, at most. */
#define HTTP_TICK_MS 200

int http_engine_init(struct http_engine *en, const struct http_engine_opts *o,
                     struct http_counters *n, struct err *e)
{
    memset(en, 0, sizeof(*en));
    if (o)
        en->o = *o;
    if (en->o.max_in_flight <= 0)
        en->o.max_in_flight = 16;
    if (en->o.timeout_ms <= 0)
        en->o.timeout_ms = 60000;
    if (en->o.connect_timeout_ms <= 0)
        en->o.connect_timeout_ms = 10000;
    if (en->o.qps < 0)
        en->o.qps = 0;
    en->limits = (struct http_limits){ HTTP_LOW_SPEED_BPS, HTTP_LOW_SPEED_S, HTTP_DEADLINE_MS };
    en->retry = en->o.retry;
    if (en->retry.max_attempts <= 0)
        en->retry.max_attempts = 1;
    if (en->retry.base_ms <= 0)
        en->retry.base_ms = 250;
    if (en->retry.cap_ms <= 0)
        en->retry.cap_ms = 10000;
    en->n = n;
    en->qps_tokens = en->o.qps < 1 ? 1 : en->o.qps;   /* burst: one second's worth */
    en->qps_last_ms = util_now_ms();
    en->rng = ((unsigned long long)util_now_ms() << 20) ^ ((unsigned long long)getpid() << 40) ^
              (unsigned long long)(size_t)en;
    if (!en->rng)
        en->rng = 88172645463325252ULL;
    en->share = curl_share_init();
    en->multi = curl_multi_init();
    if (!en->share || !en->multi ||
        curl_share_setopt(en->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT) != CURLSHE_OK ||
        curl_share_setopt(en->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) != CURLSHE_OK ||
        curl_share_setopt(en->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK)
        return err_set(e, ERR_FAILED, "cannot initialise libcurl");
    return 0;
}

void http_engine_release(struct http_engine *en)
{
    if (en->multi)
        curl_multi_cleanup(en->multi);
    if (en->share)
        curl_share_cleanup(en->share);
    memset(en, 0, sizeof(*en));
}

void http_engine_limits(struct http_engine *en, long low_speed_bps, long low_speed_s,
                        long deadline_ms)
{
    if (low_speed_bps)
        en->limits.low_speed_bps = low_speed_bps;
    if (low_speed_s)
        en->limits.low_speed_s = low_speed_s;
    if (deadline_ms)
        en->limits.deadline_ms = deadline_ms;
}

void http_xfer_init(struct http_xfer *x, const struct http_driver *drv, void *arg,
                    struct buf *body, struct err *e)
{
    memset(x, 0, sizeof(*x));
    x->drv = drv;
    x->arg = arg;
    x->body = body;
    x->e = e;
    err_init(e);
}

/* ---- options and headers ------------------------------------------------ */

void http_set_result(struct http_xfer *x, const char *name, CURLcode rc)
{
    if (rc != CURLE_OK && !x->bad_opt) {
        x->bad_opt = name;
        x->bad_opt_rc = rc;
    }
}

void http_set_blob(struct http_xfer *x, const char *name, CURLoption opt,
                   const void *p, size_t len, unsigned int flags)
{
    struct curl_blob b;
    b.data = (void *)p;
    b.len = len;
    b.flags = flags;
    http_set_result(x, name, curl_easy_setopt(x->easy, opt, &b));
}

static void http_free_headers(struct http_xfer *x)
{
    for (struct curl_slist *p = x->hdrs; p; p = p->next)
        explicit_bzero(p->data, strlen(p->data));
    curl_slist_free_all(x->hdrs);
    x->hdrs = NULL;
}

int http_xfer_header(struct http_xfer *x, const char *fmt, ...)
{
    struct curl_slist *l = NULL;
    va_list ap;
    char *s;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n >= 0 && (s = malloc((size_t)n + 1))) {
        va_start(ap, fmt);
        vsnprintf(s, (size_t)n + 1, fmt, ap);
        va_end(ap);
        l = curl_slist_append(x->hdrs, s);
        explicit_bzero(s, (size_t)n);
        free(s);
    }
    if (!l)
        return err_set(x->e, ERR_FAILED, "out of memory building a request header");
    x->hdrs = l;
    return 0;
}

int http_header_value(const char *line, size_t len, const char *name, char *out,
                      size_t size)
{
    size_t k = strlen(name);
    if (len <= k || strncasecmp(line, name, k) != 0 || line[k] != ':')
        return 0;
    line += k + 1;
    len -= k + 1;
    while (len && (*line == ' ' || *line == '\t'))
        line++, len--;
    while (len && (line[len - 1] == '\r' || line[len - 1] == '\n' || line[len - 1] == ' '))
        len--;
    if (len >= size)
        len = size - 1;
    memcpy(out, line, len);
    out[len] = '\0';
    return 1;
}

/* ---- backoff and rate -------------------------------------------------- */

long http_backoff_ms(struct http_engine *en, int k, long ra_s)
{
    long ceiling = en->retry.base_ms;
    if (ra_s > 0)
        return ra_s > HTTP_RETRY_AFTER_CAP_MS / 1000 ? HTTP_RETRY_AFTER_CAP_MS : ra_s * 1000;
    for (int i = 1; i < k && ceiling < en->retry.cap_ms; i++)
        ceiling *= 2;
    if (ceiling > en->retry.cap_ms)
        ceiling = en->retry.cap_ms;
    /* xorshift64: jitter only needs to spread clients apart. */
    en->rng ^= en->rng << 13;
    en->rng ^= en->rng >> 7;
    en->rng ^= en->rng << 17;
    return (long)(en->rng % (unsigned long long)(ceiling + 1));
}

/* Takes one token from the QPS bucket; returns 0, or ms to wait. */
static long http_qps_take(struct http_engine *en, long long now)
{
    double qps = en->o.qps, burst = qps < 1 ? 1 : qps;
    if (qps <= 0)
        return 0;
    en->qps_tokens += (double)(now - en->qps_last_ms) * qps / 1000.0;
    if (en->qps_tokens > burst)
        en->qps_tokens = burst;
    en->qps_last_ms = now;
    if (en->qps_tokens >= 1.0) {
        en->qps_tokens -= 1.0;
        return 0;
    }
    return (long)((1.0 - en->qps_tokens) * 1000.0 / qps) + 1;
}

/* ---- one attempt ------------------------------------------------------- */

static size_t http_write_cb(char *p, size_t size, size_t n, void *ud)
{
    struct http_xfer *x = ud;
    size_t len = size * n;
    x->en->n->bytes_in += (long)len;
    if (x->drv->data) {
        int r = x->drv->data(x, p, len);
        if (r > 0)
            return len;
        if (r < 0) {
            x->stopped = 1;
            return 0;   /* curl ends with CURLE_WRITE_ERROR */
        }
    }
    if (!x->body)
        return len;
    buf_add(x->body, p, len);
    return x->body->failed ? 0 : len;
}

static size_t http_header_cb(char *p, size_t size, size_t n, void *ud)
{
    struct http_xfer *x = ud;
    if (x->drv->header)
        x->drv->header(x, p, size * n);
    return size * n;
}

/* The request's deadline: all attempts together (see http.h). */
static long http_deadline_ms(const struct http_engine *en, const struct http_xfer *x)
{
    long own = x->timeout_ms > 0 ? x->timeout_ms + en->o.connect_timeout_ms : 0;
    return own > en->limits.deadline_ms ? own : en->limits.deadline_ms;
}

/* The attempt's timeout, never past the request's deadline; low speed is
 * limited unless the request may be quiet on purpose (its own timeout). */
static void http_limit_options(struct http_engine *en, struct http_xfer *x)
{
    long timeout = x->timeout_ms > 0 ? x->timeout_ms : en->o.timeout_ms;
    long long left = x->first_ms + http_deadline_ms(en, x) - util_now_ms();
    x->cut = left < timeout;
    if (x->cut)
        timeout = left > 1 ? (long)left : 1;
    HTTP_SET(x, CURLOPT_TIMEOUT_MS, timeout);
    if (x->timeout_ms <= 0 && en->limits.low_speed_s > 0) {
        HTTP_SET(x, CURLOPT_LOW_SPEED_LIMIT, en->limits.low_speed_bps);
        HTTP_SET(x, CURLOPT_LOW_SPEED_TIME, en->limits.low_speed_s);
    }
}

/* A timed-out attempt's message names the limit that cut it (curl's own
 * words do not say which of ours it was). */
static void http_name_timeout(struct http_engine *en, struct http_xfer *x)
{
    if (strstr(x->curl_err, "too slow")) {
        x->slow++;
        snprintf(x->curl_err, sizeof(x->curl_err), "the answer came slower than %ld bytes/s "
                 "for %ld s (the low-speed limit of one attempt)", en->limits.low_speed_bps,
                 en->limits.low_speed_s);
    } else if (x->cut) {
        snprintf(x->curl_err, sizeof(x->curl_err), "no complete answer within the "
                 "request's deadline of %ld s (all attempts together)",
                 http_deadline_ms(en, x) / 1000);
    } else {
        snprintf(x->curl_err, sizeof(x->curl_err), "no complete answer within %ld s (the "
                 "timeout of one attempt)",
                 (x->timeout_ms > 0 ? x->timeout_ms : en->o.timeout_ms) / 1000);
    }
}

/* What every attempt gets, before the driver's own options. */
static void http_common_options(struct http_engine *en, struct http_xfer *x)
{
    HTTP_SET(x, CURLOPT_SHARE, en->share);
    HTTP_SET(x, CURLOPT_WRITEFUNCTION, http_write_cb);
    HTTP_SET(x, CURLOPT_WRITEDATA, x);
    HTTP_SET(x, CURLOPT_HEADERFUNCTION, http_header_cb);
    HTTP_SET(x, CURLOPT_HEADERDATA, x);
    HTTP_SET(x, CURLOPT_ERRORBUFFER, x->curl_err);
    HTTP_SET(x, CURLOPT_PRIVATE, x);
    HTTP_SET(x, CURLOPT_NOSIGNAL, 1L);
    HTTP_SET(x, CURLOPT_PROTOCOLS_STR, "http,https");
    HTTP_SET(x, CURLOPT_SSL_VERIFYPEER, 1L);
    HTTP_SET(x, CURLOPT_SSL_VERIFYHOST, 2L);
    HTTP_SET(x, CURLOPT_CONNECTTIMEOUT_MS, en->o.connect_timeout_ms);
    http_limit_options(en, x);
}

static void http_attempt_reset(struct http_xfer *x)
{
    http_free_headers(x);
    x->bad_opt = NULL;
    x->status = 0;
    x->retry_after_s = 0;
    x->throttled = 0;
    x->stopped = 0;
    x->curl_err[0] = '\0';
    if (x->body) {
        buf_reset(x->body);
        x->body->failed = 0;   /* each attempt's answer starts afresh */
    }
}

static int http_attempt_start(struct http_engine *en, struct http_xfer *x)
{
    x->attempt++;
    if (!x->easy)
        x->easy = curl_easy_init();
    else
        curl_easy_reset(x->easy);
    if (!x->easy)
        return http_fail(x, "", "cannot initialise libcurl");
    http_attempt_reset(x);
    http_common_options(en, x);
    if (x->drv->prepare(x) < 0)
        return -1;
    /* Expect: 100-continue would cost a round trip (or a second) per body. */
    if (http_xfer_header(x, "Expect:") < 0)
        return -1;
    HTTP_SET(x, CURLOPT_HTTPHEADER, x->hdrs);
    if (x->bad_opt)
        return http_fail(x, "", "libcurl refused %s (%s); request not sent",
                         x->bad_opt, curl_easy_strerror(x->bad_opt_rc));
    if (curl_multi_add_handle(en->multi, x->easy) != CURLM_OK)
        return http_fail(x, "", "libcurl could not start a transfer; request not sent");
    x->active = 1;
    en->n->requests++;
    return 0;
}

/* An error of the engine's own (not an answer), named by the request. */
static int http_fail(struct http_xfer *x, const char *code, const char *fmt, ...)
{
    char msg[sizeof(x->e->msg)];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (x->what)
        err_set(x->e, ERR_FAILED, "%s: %s", x->what, msg);
    else
        err_set(x->e, ERR_FAILED, "%s", msg);
    snprintf(x->e->code, sizeof(x->e->code), "%s", code);
    return -1;
}

static void http_xfer_finish(struct http_xfer *x)
{
    x->done = 1;
    if (x->drv->done)
        x->drv->done(x);
}

/* Reads what curl knows of the finished attempt, then asks the driver. */
static enum http_verdict http_attempt_judge(struct http_engine *en, struct http_xfer *x,
                                            CURLcode rc)
{
    curl_off_t ra = 0, up = 0;
    long connects = 0;
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &x->status);
    curl_easy_getinfo(x->easy, CURLINFO_RETRY_AFTER, &ra);
    curl_easy_getinfo(x->easy, CURLINFO_NUM_CONNECTS, &connects);
    curl_easy_getinfo(x->easy, CURLINFO_SIZE_UPLOAD_T, &up);
    curl_multi_remove_handle(en->multi, x->easy);
    x->active = 0;
    x->retry_after_s = (long)ra;
    en->n->connects += connects;
    en->n->bytes_out += (long)up;
    if (rc == CURLE_WRITE_ERROR && x->stopped)
        rc = CURLE_OK;   /* the driver ended a stream */
    if (rc == CURLE_OPERATION_TIMEDOUT)
        http_name_timeout(en, x);
    if (rc == CURLE_WRITE_ERROR && x->body && x->body->failed == BUF_TOO_BIG) {
        http_fail(x, "TooLarge", "the answer is larger than %zu bytes", x->body->max);
        return HTTP_DONE;
    }
    return x->drv->judge(x, rc);
}

/* No time for another attempt: the last attempt's error says why it
 * failed, this says why there is no other. */
static void http_deadline_passed(struct http_engine *en, struct http_xfer *x)
{
    size_t len = strlen(x->e->msg);
    char slow[96] = "";
    if (x->slow)
        snprintf(slow, sizeof(slow), " (%d cut by the low-speed limit, %ld bytes/s for %ld s)",
                 x->slow, en->limits.low_speed_bps, en->limits.low_speed_s);
    snprintf(x->e->msg + len, sizeof(x->e->msg) - len, "; gave up after %d attempt%s%s in "
             "%lld s: the request's deadline is %ld s, all attempts together",
             x->attempt, x->attempt == 1 ? "" : "s", slow, (util_now_ms() - x->first_ms) / 1000,
             http_deadline_ms(en, x) / 1000);
}

static void http_attempt_done(struct http_engine *en, struct http_xfer *x, CURLcode rc)
{
    enum http_verdict v = http_attempt_judge(en, x, rc);
    if (v == HTTP_RETRY_NOW) {
        en->n->retries++;
        x->not_before = 0;
        return;
    }
    if (v == HTTP_RETRY && x->attempt < en->retry.max_attempts) {
        long long next = util_now_ms() + http_backoff_ms(en, x->attempt, x->retry_after_s);
        if (next < x->first_ms + http_deadline_ms(en, x)) {
            en->n->retries++;
            if (x->throttled)
                en->n->throttled++;
            x->not_before = next;
            return;
        }
        http_deadline_passed(en, x);
    }
    x->gave_up = v == HTTP_RETRY;
    http_xfer_finish(x);
}

/* ---- the loop ------------------------------------------------------------ */

/* Starts what may start now; returns when the next one could. */
static long long http_start_ready(struct http_engine *en, struct http_xfer *xs, size_t n,
                                  int *active)
{
    long long now = util_now_ms(), wake = now + HTTP_TICK_MS;
    for (size_t i = 0; i < n && *active < en->o.max_in_flight; i++) {
        struct http_xfer *x = &xs[i];
        long wait;
        if (x->done || x->active)
            continue;
        if (en->stop && *en->stop) {
            /* Interrupted: what was sent completes, nothing new starts, so
             * a re-run finds a world it can converge (SPEC.md "Exit codes"). */
            http_fail(x, "Interrupted", "interrupted; not sent. Run the command again to "
                      "continue");
            http_xfer_finish(x);
            continue;
        }
        if (x->not_before > now) {
            wake = x->not_before < wake ? x->not_before : wake;
            continue;
        }
        if ((wait = http_qps_take(en, now)) > 0) {
            wake = now + wait < wake ? now + wait : wake;
            break;
        }
        if (!x->first_ms)
            x->first_ms = now;
        if (http_attempt_start(en, x) < 0) {
            http_xfer_finish(x);
            continue;
        }
        (*active)++;
    }
    return wake;
}

static int http_reap(struct http_engine *en, int *active)
{
    CURLMsg *m;
    int q, finished = 0;
    while ((m = curl_multi_info_read(en->multi, &q))) {
        struct http_xfer *x = NULL;
        if (m->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        (*active)--;
        finished++;
        http_attempt_done(en, x, m->data.result);
    }
    return finished;
}

static size_t http_left(const struct http_xfer *xs, size_t n)
{
    size_t left = 0;
    for (size_t i = 0; i < n; i++)
        left += !xs[i].done;
    return left;
}

int http_run(struct http_engine *en, struct http_xfer *xs, size_t n)
{
    int active = 0, running, failed = 0;
    for (size_t i = 0; i < n; i++)
        xs[i].en = en;
    while (http_left(xs, n)) {
        long long wake = http_start_ready(en, xs, n, &active), now;
        if (!http_left(xs, n))
            break;
        curl_multi_perform(en->multi, &running);
        if (http_reap(en, &active))
            continue;
        now = util_now_ms();
        curl_multi_poll(en->multi, NULL, 0, (int)(wake > now ? wake - now : 0), NULL);
    }
    for (size_t i = 0; i < n; i++) {
        failed |= xs[i].e->kind != ERR_NONE;
        if (xs[i].easy)
            curl_easy_cleanup(xs[i].easy);
        xs[i].easy = NULL;
        http_free_headers(&xs[i]);
    }
    return failed ? -1 : 0;
}
