/* Unit tests of the request engine (core/http.c) and the capped buffer
 * (core/buf.c): size caps, growth, interruption, a refused curl option,
 * retries against a closed loopback port, the AWS driver refusing more
 * headers than it can sign; and, against a scripted loopback server (a
 * forked child that answers canned bytes, stopped by its pid), Retry-After,
 * an answer over its cap, and the Kubernetes driver sending extra_headers. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "aws/transport.h"
#include "core/buf.h"
#include "core/env.h"
#include "core/http.h"
#include "core/util.h"
#include "k8s/client.h"
#include "t.h"

static void test_buf_cap(void)
{
    struct buf b;
    buf_init_max(&b, 8);
    buf_puts(&b, "12345678");
    T_OK("buf/cap-exact-fits", !b.failed && b.len == 8, "failed=%d len=%zu", b.failed, b.len);
    buf_putc(&b, '9');
    T_INTEQ("buf/cap-past-is-too-big", b.failed, BUF_TOO_BIG);
    buf_release(&b);
    T_INTEQ("buf/release-keeps-cap", (long)b.max, 8);
    buf_init(&b);
    for (int i = 0; i < 1000; i++)
        buf_printf(&b, "%03d", i % 1000);
    T_OK("buf/growth-keeps-bytes", !b.failed && b.len == 3000 &&
         memcmp(b.data + 2997, "999", 3) == 0, "len=%zu", b.len);
    buf_release_secret(&b);
}

/* A driver that retries every failure (5xx too) and counts what it saw. */
struct t_req {
    const char *url;
    const char *protocols;
    int judged;
};

static int t_prepare(struct http_xfer *x)
{
    const struct t_req *r = x->arg;
    HTTP_SET(x, CURLOPT_URL, r->url);
    if (r->protocols)
        HTTP_SET(x, CURLOPT_PROTOCOLS_STR, r->protocols);
    return 0;
}

static enum http_verdict t_judge(struct http_xfer *x, CURLcode rc)
{
    struct t_req *r = x->arg;
    r->judged++;
    if (rc == CURLE_OK && x->status < 500) {
        err_init(x->e);
        return HTTP_DONE;
    }
    if (rc == CURLE_OK)
        err_set(x->e, ERR_FAILED, "HTTP %ld", x->status);
    else
        err_set(x->e, ERR_FAILED, "%s", curl_easy_strerror(rc));
    return HTTP_RETRY;
}

static const struct http_driver t_driver = { t_prepare, t_judge, NULL, NULL, NULL };

/* A loopback port nobody listens on: bound by us, then closed. */
static int t_closed_port(void)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int s = socket(AF_INET, SOCK_STREAM, 0), port = 0;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (s >= 0 && bind(s, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(s, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (s >= 0)
        close(s);
    return port;
}

static void t_engine(struct http_engine *en, struct http_counters *n, int attempts)
{
    struct http_engine_opts o = { 4, 0, 2000, 1000, { attempts, 1, 4 } };
    struct err e;
    memset(n, 0, sizeof(*n));
    err_init(&e);
    if (http_engine_init(en, &o, n, &e) < 0)
        printf("FAIL: engine/init: %s\n", e.msg);
}

static void test_retries_then_gives_up(const char *url)
{
    struct http_engine en;
    struct http_counters n;
    struct t_req r = { url, NULL, 0 };
    struct http_xfer x;
    struct err e;
    t_engine(&en, &n, 3);
    http_xfer_init(&x, &t_driver, &r, NULL, &e);
    T_INTEQ("engine/refused-fails", http_run(&en, &x, 1), -1);
    T_INTEQ("engine/attempts-bounded", x.attempt, 3);
    T_INTEQ("engine/judged-each-attempt", r.judged, 3);
    T_INTEQ("engine/counters-requests", n.requests, 3);
    T_INTEQ("engine/counters-retries", n.retries, 2);
    T_OK("engine/gave-up", x.gave_up, "%s", "gave_up not set");
    http_engine_release(&en);
}

static void test_refused_option(const char *url)
{
    struct http_engine en;
    struct http_counters n;
    struct t_req r = { url, "nosuchprotocol", 0 };
    struct http_xfer x;
    struct err e;
    t_engine(&en, &n, 3);
    http_xfer_init(&x, &t_driver, &r, NULL, &e);
    http_run(&en, &x, 1);
    T_OK("engine/refused-option-fails-unsent", e.kind == ERR_FAILED &&
         strstr(e.msg, "CURLOPT_PROTOCOLS_STR") && n.requests == 0 && r.judged == 0,
         "msg=%s requests=%ld", e.msg, n.requests);
    http_engine_release(&en);
}

static void test_interrupted(const char *url)
{
    static volatile sig_atomic_t stop = SIGINT;
    struct http_engine en;
    struct http_counters n;
    struct t_req r[3] = { { url, NULL, 0 }, { url, NULL, 0 }, { url, NULL, 0 } };
    struct http_xfer x[3];
    struct err e[3];
    int all = 1;
    t_engine(&en, &n, 3);
    en.stop = &stop;
    for (int i = 0; i < 3; i++) {
        http_xfer_init(&x[i], &t_driver, &r[i], NULL, &e[i]);
        x[i].what = "test GET";
    }
    T_INTEQ("engine/interrupted-fails", http_run(&en, x, 3), -1);
    for (int i = 0; i < 3; i++)
        all &= strcmp(e[i].code, "Interrupted") == 0 &&
               strstr(e[i].msg, "test GET: interrupted") != NULL;
    T_OK("engine/interrupted-each-named", all, "msg=%s", e[0].msg);
    T_INTEQ("engine/interrupted-nothing-sent", n.requests, 0);
    http_engine_release(&en);
}

/* 12 extra headers do not fit beside the 5 the signer adds: an error
 * before anything is sent, never a silently shortened request. */
static void test_aws_too_many_headers(const char *url)
{
    struct aws_client c;
    struct sigv4_header h[AWS_MAX_EXTRA_HEADERS + 1];
    struct aws_request req;
    struct aws_response resp;
    struct http_engine_opts o = { 1, 0, 2000, 1000, { 1, 1, 1 } };
    struct logger log;
    struct err e;
    memset(&c, 0, sizeof(c));
    err_init(&e);
    log_init(&log, NULL);
    c.log = &log;
    c.clock = env_wall_clock;
    for (size_t i = 0; i < AWS_MAX_EXTRA_HEADERS + 1; i++)
        h[i] = (struct sigv4_header){ "x-amz-meta-n", "v" };
    snprintf(c.ep[AWS_S3].url, sizeof(c.ep[AWS_S3].url), "%s", url);
    memset(&req, 0, sizeof(req));
    req.svc = AWS_S3;
    req.method = "GET";
    req.path = "/";
    req.headers = h;
    req.n_headers = AWS_MAX_EXTRA_HEADERS + 1;
    req.action = "GetObject";
    http_engine_init(&c.http, &o, &c.n, &e);
    aws_send(&c, &req, &resp, &e);
    T_OK("aws/too-many-headers-is-error", e.kind == ERR_FAILED &&
         strstr(e.msg, "extra headers") && c.n.requests == 0, "msg=%s", e.msg);
    aws_response_release(&resp);
    http_engine_release(&c.http);
}


/* ---- a scripted loopback server ----------------------------------------- */

/* One canned answer; need: a request must contain it, else 400. */
struct t_step {
    const char *need;
    const char *answer;
};

static pid_t t_server_pid = -1;

static void t_server_stop(void)
{
    if (t_server_pid > 0) {
        kill(t_server_pid, SIGTERM);
        waitpid(t_server_pid, NULL, 0);
        t_server_pid = -1;
    }
}

/* Reads a request's head (up to the blank line); 1 when it holds need. */
static int t_read_head(int c, const char *need)
{
    char req[8192];
    size_t n = 0;
    ssize_t r;
    while (n + 1 < sizeof(req) && (r = read(c, req + n, sizeof(req) - 1 - n)) > 0) {
        n += (size_t)r;
        req[n] = '\0';
        if (strstr(req, "\r\n\r\n"))
            break;
    }
    req[n] = '\0';
    return !need || strstr(req, need) != NULL;
}

static void t_serve(int ls, const struct t_step *steps, size_t n)
{
    static const char bad[] = "HTTP/1.1 400 Bad\r\nContent-Length: 0\r\n"
                              "Connection: close\r\n\r\n";
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    for (size_t i = 0; i < n; i++) {
        int c = accept(ls, NULL, NULL);
        const char *a;
        if (c < 0)
            _exit(1);
        a = t_read_head(c, steps[i].need) ? steps[i].answer : bad;
        if (write(c, a, strlen(a)) < 0)
            _exit(1);
        close(c);
    }
    _exit(0);
}

/* Starts the server on a kernel-chosen loopback port; returns the port. */
static int t_server_start(const struct t_step *steps, size_t n)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int ls = socket(AF_INET, SOCK_STREAM, 0), port = 0;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(ls, 8) != 0 ||
        getsockname(ls, (struct sockaddr *)&a, &len) != 0) {
        if (ls >= 0)
            close(ls);
        return 0;
    }
    port = ntohs(a.sin_port);
    fflush(stdout);
    t_server_pid = fork();
    if (t_server_pid == 0)
        t_serve(ls, steps, n);
    close(ls);
    return t_server_pid > 0 ? port : 0;
}

/* 503 with Retry-After: 1, then 200: the retry waits the second, not the
 * 1 ms backoff the policy alone would give. */
static void test_retry_after(void)
{
    static const struct t_step steps[] = {
        { NULL, "HTTP/1.1 503 Busy\r\nRetry-After: 1\r\nContent-Length: 0\r\n"
                "Connection: close\r\n\r\n" },
        { NULL, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok" },
    };
    struct http_engine en;
    struct http_counters n;
    struct t_req r = { NULL, NULL, 0 };
    struct http_xfer x;
    struct buf body = BUF_INIT;
    char url[64];
    struct err e;
    long long t0;
    int port = t_server_start(steps, 2), rc;
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/", port);
    r.url = url;
    t_engine(&en, &n, 3);
    http_xfer_init(&x, &t_driver, &r, &body, &e);
    t0 = util_now_ms();
    rc = http_run(&en, &x, 1);
    T_OK("engine/retry-after-then-ok", port && rc == 0 && x.status == 200 &&
         strcmp(buf_str(&body), "ok") == 0, "rc=%d status=%ld %s", rc, x.status, e.msg);
    T_OK("engine/retry-after-waited", util_now_ms() - t0 >= 900, "took %lld ms",
         util_now_ms() - t0);
    T_INTEQ("engine/retry-after-one-retry", n.retries, 1);
    http_engine_release(&en);
    buf_release(&body);
    t_server_stop();
}

static void test_answer_over_cap(void)
{
    static const struct t_step steps[] = {
        { NULL, "HTTP/1.1 200 OK\r\nContent-Length: 40\r\nConnection: close\r\n\r\n"
                "0123456789012345678901234567890123456789" },
    };
    struct http_engine en;
    struct http_counters n;
    struct t_req r = { NULL, NULL, 0 };
    struct http_xfer x;
    struct buf body;
    char url[64];
    struct err e;
    int port = t_server_start(steps, 1);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/", port);
    r.url = url;
    buf_init_max(&body, 16);
    t_engine(&en, &n, 3);
    http_xfer_init(&x, &t_driver, &r, &body, &e);
    http_run(&en, &x, 1);
    T_OK("engine/answer-over-cap-is-error", port && strcmp(e.code, "TooLarge") == 0 &&
         strstr(e.msg, "larger than 16 bytes") && r.judged == 0, "code=%s msg=%s",
         e.code, e.msg);
    http_engine_release(&en);
    buf_release(&body);
    t_server_stop();
}

/* k8s_request.extra_headers reach the server (the 200 needs the header). */
static void test_k8s_extra_headers(void)
{
    static const struct t_step steps[] = {
        { "X-Paasctl-Test: extra-1\r\n", "HTTP/1.1 200 OK\r\nContent-Type: "
          "application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}" },
    };
    static const char *const extra[] = { "X-Paasctl-Test: extra-1", NULL };
    struct k8s_kubeconfig kc;
    struct k8s_client c;
    struct k8s_response resp;
    struct k8s_request req;
    struct logger log;
    struct err e;
    char text[512];
    struct k8s_kc_source src = { "test-kubeconfig", text, 0 };
    int port = t_server_start(steps, 1), rc = -1;
    snprintf(text, sizeof(text),
             "apiVersion: v1\nkind: Config\ncurrent-context: t\n"
             "clusters: [{name: t, cluster: {server: 'http://127.0.0.1:%d'}}]\n"
             "users: [{name: t, user: {}}]\n"
             "contexts: [{name: t, context: {cluster: t, user: t}}]\n", port);
    src.len = strlen(text);
    err_init(&e);
    log_init(&log, NULL);
    memset(&req, 0, sizeof(req));
    req.verb = "GET";
    req.path = "/api";
    req.extra_headers = extra;
    k8s_response_init(&resp);
    if (port && k8s_kubeconfig_parse(&kc, &src, 1, NULL, &e) == 0 &&
        k8s_client_init(&c, &kc, &log, NULL, &e) == 0) {
        rc = k8s_send(&c, &req, &resp, &e);
        k8s_client_release(&c);
    }
    T_OK("k8s/extra-headers-sent", rc == 0 && resp.status == 200, "rc=%d status=%ld %s",
         rc, resp.status, e.msg);
    k8s_response_release(&resp);
    t_server_stop();
}

int main(void)
{
    char url[64];
    int port;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    test_buf_cap();
    port = t_closed_port();
    T_OK("setup/closed-port", port > 0, "%s", "no port");
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/", port);
    test_retries_then_gives_up(url);
    test_refused_option(url);
    test_interrupted(url);
    test_aws_too_many_headers(url);
    test_retry_after();
    test_answer_over_cap();
    test_k8s_extra_headers();
    t_server_stop();
    curl_global_cleanup();
    return t_done();
}
