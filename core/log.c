/* Logging (see log.h). */
#include "log.h"
#include "core/util.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void log_init(struct logger *l, FILE *out)
{
    memset(l, 0, sizeof(*l));
    l->out = out;
    l->tty = out ? isatty(fileno(out)) : 0;
    l->escapes = l->tty;
}

/* Back to the start of the drawn line and blank it: "\r\033[K", or
 * without escapes, spaces over what was drawn and "\r" again. */
static void log_erase(const struct logger *l, const struct progress *p)
{
    if (l->escapes)
        fputs("\r\033[K", l->out);
    else if (p->drawn > 0)
        fprintf(l->out, "\r%*s\r", p->drawn, "");
}

/* Messages carry text from outside (API errors, the lock's holder): it
 * reaches the terminal only through util_printable. */
static void log_vline(const struct logger *l, const char *prefix,
                      const char *fmt, va_list ap)
{
    char small[512], *text = small, *safe;
    va_list again;
    int n;
    if (!l || !l->out)
        return;
    va_copy(again, ap);
    n = vsnprintf(small, sizeof(small), fmt, ap);
    if (n >= (int)sizeof(small) && (text = malloc((size_t)n + 1)) != NULL)
        vsnprintf(text, (size_t)n + 1, fmt, again);
    va_end(again);
    if (!text)
        text = small;              /* out of memory: the cut message */
    safe = util_printable(text);
    fprintf(l->out, "%s%s\n", prefix, safe ? safe : "(out of memory)");
    fflush(l->out);
    free(safe);
    if (text != small)
        free(text);
}

void log_error(const struct logger *l, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vline(l, "paasctl: ", fmt, ap);
    va_end(ap);
}

void log_info(const struct logger *l, const char *fmt, ...)
{
    va_list ap;
    if (!l || l->quiet)
        return;
    va_start(ap, fmt);
    log_vline(l, "", fmt, ap);
    va_end(ap);
}

void log_debug(const struct logger *l, int level, const char *fmt, ...)
{
    va_list ap;
    if (!l || l->verbosity < level)
        return;
    va_start(ap, fmt);
    log_vline(l, "debug: ", fmt, ap);
    va_end(ap);
}

void log_progress(const struct logger *l, struct progress *p, double elapsed_s,
                  const char *fmt, ...)
{
    char line[sizeof(p->last)];
    va_list ap;
    if (!l || !l->out || l->quiet)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (l->tty) {
        int n;
        log_erase(l, p);
        n = fprintf(l->out, "%s, %.0f s", line, elapsed_s);
        p->drawn = n > 0 ? n : 1;
    } else if (strcmp(line, p->last) != 0) {
        fprintf(l->out, "%s, %.0f s\n", line, elapsed_s);
    }
    fflush(l->out);
    snprintf(p->last, sizeof(p->last), "%s", line);
}

void log_progress_end(const struct logger *l, struct progress *p)
{
    if (l && l->out && l->tty && p->drawn) {
        fputc('\n', l->out);
        fflush(l->out);
    }
    p->drawn = 0;
    p->last[0] = '\0';
}

void log_progress_clear(const struct logger *l, struct progress *p)
{
    if (l && l->out && l->tty && p->drawn) {
        log_erase(l, p);
        fflush(l->out);
    }
    p->drawn = 0;
    p->last[0] = '\0';
}
