/* Fuzz target: SigV4 canonicalisation of arbitrary paths, queries and
 * header values (aws/sigv4.c), the parser of what a caller hands it. The
 * input is split at NUL bytes into path, query, header value, body. */
#include <stdint.h>
#include <string.h>

#include "aws/sigv4.h"

static const char *fuzz_next(const uint8_t **p, const uint8_t *end, char *out, size_t size)
{
    size_t n = 0;
    while (*p < end && **p && n + 1 < size)
        out[n++] = (char)*(*p)++;
    out[n] = '\0';
    if (*p < end)
        (*p)++;
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[512], query[512], value[256], body[256];
    const uint8_t *p = data, *end = data + size;
    struct sigv4_header h[3];
    struct sigv4_request req;
    struct sigv4_params prm = { "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                NULL, "us-east-1", "service", 1440938160, size % 2, 0 };
    struct sigv4_state st;
    struct err e;
    fuzz_next(&p, end, path, sizeof(path));
    fuzz_next(&p, end, query, sizeof(query));
    fuzz_next(&p, end, value, sizeof(value));
    fuzz_next(&p, end, body, sizeof(body));
    h[0] = (struct sigv4_header){ "Host", "example.amazonaws.com" };
    h[1] = (struct sigv4_header){ "X-Amz-Date", "20150830T123600Z" };
    h[2] = (struct sigv4_header){ "My-Header", value };
    req = (struct sigv4_request){ "GET", path[0] ? path : "/", query, h, 3, body,
                                  strlen(body), NULL };
    sigv4_state_init(&st);
    err_init(&e);
    sigv4_sign(&req, &prm, &st, &e);
    sigv4_state_release(&st);
    return 0;
}
