/* Unit tests of the request engine (core/http.c) and the capped buffer
 * (core/buf.c) where no server is needed: size caps, growth, interruption,
 * a refused curl option, retries against a closed loopback port, and the
 * AWS driver refusing more headers than it can sign. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "aws/transport.h"
#include "core/buf.h"
#include "core/env.h"
#include "core/http.h"
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

/* A driver that retries every failure and counts what it saw. */
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
    if (rc == CURLE_OK) {
        err_init(x->e);
        return HTTP_DONE;
    }
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
    curl_global_cleanup();
    return t_done();
}
