/* Growable buffer (see buf.h). */
#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init(struct buf *b)
{
    memset(b, 0, sizeof(*b));
}

void buf_init_max(struct buf *b, size_t max)
{
    buf_init(b);
    b->max = max;
}

void buf_release(struct buf *b)
{
    size_t max = b->max;
    free(b->data);
    buf_init_max(b, max);
}

void buf_release_secret(struct buf *b)
{
    if (b->data)
        explicit_bzero(b->data, b->cap);
    buf_release(b);
}

void buf_reset(struct buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

/* Not realloc: it may leave the old bytes (a key, a token) in freed memory.
 * A new block, a copy, and the old one wiped. */
static int buf_grow(struct buf *b, size_t extra)
{
    size_t need, cap;
    char *p;
    if (b->failed)
        return -1;
    if (extra > (size_t)-1 / 2 - b->len) {
        b->failed = BUF_NOMEM;
        return -1;
    }
    if (b->max && extra > b->max - (b->len < b->max ? b->len : b->max)) {
        b->failed = BUF_TOO_BIG;
        return -1;
    }
    need = b->len + extra + 1;
    if (need <= b->cap && b->data)
        return 0;
    cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    if (!(p = malloc(cap))) {
        b->failed = BUF_NOMEM;
        return -1;
    }
    if (b->data) {
        memcpy(p, b->data, b->len + 1);
        explicit_bzero(b->data, b->cap);
        free(b->data);
    }
    b->data = p;
    b->cap = cap;
    return 0;
}

void buf_add(struct buf *b, const void *p, size_t n)
{
    if (buf_grow(b, n) < 0)
        return;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void buf_puts(struct buf *b, const char *s)
{
    buf_add(b, s, strlen(s));
}

void buf_putc(struct buf *b, char c)
{
    buf_add(b, &c, 1);
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || buf_grow(b, (size_t)n) < 0) {
        if (!b->failed)
            b->failed = BUF_NOMEM;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void buf_uri_encode(struct buf *b, const char *s, size_t n, int keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
            (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
            c == '~' || (keep_slash && c == '/')) {
            buf_putc(b, (char)c);
        } else {
            char enc[3] = { '%', hex[c >> 4], hex[c & 15] };
            buf_add(b, enc, 3);
        }
    }
}

const char *buf_str(const struct buf *b)
{
    return b->data ? b->data : "";
}

char *buf_detach(struct buf *b)
{
    char *p;
    if (b->failed) {
        buf_release_secret(b);
        return NULL;
    }
    if (!b->data)
        buf_add(b, "", 0);
    p = b->data;
    buf_init(b);
    return p;
}
