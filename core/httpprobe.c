/* The smoke suite's HTTP GET (see httpprobe.h), one request through the
 * request engine: no retry (smoke retries whole checks), the body dropped. */
#include "core/httpprobe.h"

#include <stdio.h>
#include <string.h>

#include "core/http.h"

struct http_probe_req {
    const char *url;
    const char *host;
    struct curl_slist *connect_to;
    CURLcode rc;
};

static int http_probe_prepare(struct http_xfer *x)
{
    const struct http_probe_req *q = x->arg;
    HTTP_SET(x, CURLOPT_URL, q->url);
    if (q->connect_to)
        HTTP_SET(x, CURLOPT_CONNECT_TO, q->connect_to);
    return http_xfer_header(x, "Host: %s", q->host);
}

static enum http_verdict http_probe_judge(struct http_xfer *x, CURLcode rc)
{
    ((struct http_probe_req *)x->arg)->rc = rc;
    if (rc != CURLE_OK)
        err_set(x->e, ERR_FAILED, "%s", x->curl_err[0] ? x->curl_err : curl_easy_strerror(rc));
    return HTTP_DONE;
}

static const struct http_driver http_probe_driver = {
    http_probe_prepare, http_probe_judge, NULL, NULL, NULL
};

int http_probe(const char *url, const char *host, const char *connect_to,
               long timeout_ms, long *status, struct err *e)
{
    struct http_engine_opts o = { 1, 0, timeout_ms, timeout_ms, { 1, 0, 0 } };
    struct http_probe_req q = { url, host, NULL, CURLE_OK };
    struct http_counters n;
    struct http_engine en;
    struct http_xfer x;
    struct err xe;
    int rc;
    *status = 0;
    memset(&n, 0, sizeof(n));
    if (connect_to && *connect_to && !(q.connect_to = curl_slist_append(NULL, connect_to)))
        return err_set(e, ERR_FAILED, "out of memory");
    if (http_engine_init(&en, &o, &n, e) < 0) {
        http_engine_release(&en);
        curl_slist_free_all(q.connect_to);
        return -1;
    }
    http_xfer_init(&x, &http_probe_driver, &q, NULL, &xe);
    rc = http_run(&en, &x, 1);
    if (rc == 0)
        *status = x.status;
    else
        err_set(e, ERR_FAILED, "%s", xe.msg);
    http_engine_release(&en);
    curl_slist_free_all(q.connect_to);
    return rc;
}
