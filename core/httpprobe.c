/* The smoke suite's HTTP GET (see httpprobe.h). */
#include "core/httpprobe.h"

#include <curl/curl.h>
#include <stdio.h>

static size_t http_probe_discard(char *p, size_t size, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return size * n;
}

int http_probe(const char *url, const char *host, const char *connect_to,
               long timeout_ms, long *status, struct err *e)
{
    CURL *h = curl_easy_init();
    struct curl_slist *hdrs = NULL, *to = NULL;
    char line[512];
    CURLcode rc;
    *status = 0;
    if (!h)
        return err_set(e, ERR_FAILED, "cannot initialise libcurl");
    snprintf(line, sizeof(line), "Host: %s", host);
    hdrs = curl_slist_append(hdrs, line);
    if (connect_to && *connect_to)
        to = curl_slist_append(to, connect_to);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_CONNECT_TO, to);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, http_probe_discard);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    rc = curl_easy_perform(h);
    if (rc == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
    else
        err_set(e, ERR_FAILED, "%s", curl_easy_strerror(rc));
    curl_slist_free_all(hdrs);
    curl_slist_free_all(to);
    curl_easy_cleanup(h);
    return rc == CURLE_OK ? 0 : -1;
}
