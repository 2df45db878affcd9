/* One plain HTTP GET for the smoke suite's ingress check (SPEC.md "Smoke"
 * check 6): the status code of url with a Host header, optionally sent
 * elsewhere with curl's CONNECT_TO syntax ("host:port:connhost:connport"). */
#ifndef CORE_HTTPPROBE_H
#define CORE_HTTPPROBE_H

#include "core/err.h"

/* *status gets the HTTP status; a transport failure is -1 with e saying
 * what (refused, timed out...). The body is read and dropped. */
int http_probe(const char *url, const char *host, const char *connect_to,
               long timeout_ms, long *status, struct err *e);

#endif
