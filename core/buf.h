/* The one growable byte buffer, for building requests and reading responses.
 * A failed allocation "sticks" (buf.failed) so a run of appends is checked
 * once at the end (libgit2's idea). The data is always NUL-terminated.
 * A buffer may carry its own size cap (buf.max, curl's dynbuf idea): an
 * append past it fails like an allocation, so readers of outside input
 * say their limit once. Growth never leaves a copy behind: the old block is
 * wiped before it is freed, so a buffer that held a key or token can grow. */
#ifndef CORE_BUF_H
#define CORE_BUF_H

#include <stddef.h>

struct buf {
    char *data;    /* owned; NUL-terminated when len > 0 or after any append */
    size_t len;
    size_t cap;
    int failed;    /* BUF_NOMEM or BUF_TOO_BIG; contents are unreliable */
    size_t max;    /* most bytes it may hold; 0 = no cap of its own */
};

enum { BUF_NOMEM = 1, BUF_TOO_BIG = 2 };

#define BUF_INIT { NULL, 0, 0, 0, 0 }

void buf_init(struct buf *b);
/* An empty buffer that holds at most max bytes. */
void buf_init_max(struct buf *b, size_t max);
/* Frees the insides (the cap stays); the struct can be reused. */
void buf_release(struct buf *b);
/* Like buf_release, but wipes the bytes first (secrets). */
void buf_release_secret(struct buf *b);
void buf_reset(struct buf *b);                 /* len = 0, keeps memory */
void buf_add(struct buf *b, const void *p, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Appends s with RFC 3986 percent-encoding: unreserved characters stay,
 * everything else becomes %XX (upper-case hex); '/' is kept if keep_slash. */
void buf_uri_encode(struct buf *b, const char *s, size_t n, int keep_slash);
/* Returns the data ("" when empty) - never NULL. Borrowed. */
const char *buf_str(const struct buf *b);
/* Hands the data to the caller (caller frees) and resets b. NULL if failed. */
char *buf_detach(struct buf *b);

#endif
