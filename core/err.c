/* Error values (see err.h). */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void err_init(struct err *e)
{
    memset(e, 0, sizeof(*e));
}

int err_set(struct err *e, enum err_kind kind, const char *fmt, ...)
{
    va_list ap;
    err_init(e);
    e->kind = kind;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
    return -1;
}

int err_wrap(struct err *e, const char *fmt, ...)
{
    char old[sizeof(e->msg)];
    size_t n;
    va_list ap;
    memcpy(old, e->msg, sizeof(old));
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
    /* "context: old message", cut at the end if it no longer fits. */
    n = strlen(e->msg);
    snprintf(e->msg + n, sizeof(e->msg) - n, ": %s", old);
    if (e->kind == ERR_NONE)
        e->kind = ERR_FAILED;
    return -1;
}

int err_exit_code(const struct err *e)
{
    return (int)e->kind;
}
