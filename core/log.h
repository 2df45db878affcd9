/* Logging to stderr. The logger is passed down (no hidden global): aws/ and
 * k8s/ log requests through it at -v; cmd/ owns it. Callers must never pass a
 * secret to these functions. */
#ifndef CORE_LOG_H
#define CORE_LOG_H

#include <stdio.h>

struct logger {
    int verbosity;   /* 0 default, 1 = -v (requests), 2 = -vv (details) */
    int quiet;       /* -q: only errors */
    int tty;         /* stderr is a terminal: progress may redraw a line */
    int escapes;     /* terminal escape sequences allowed (a terminal, and
                      * NO_COLOR unset: cmd/ clears it); without them a
                      * redraw is "\r" and spaces (SPEC.md "Output") */
    FILE *out;       /* stderr unless a test says otherwise */
};

void log_init(struct logger *l, FILE *out);
/* Always printed (unless out is NULL): errors and warnings. */
void log_error(const struct logger *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Printed unless -q. */
void log_info(const struct logger *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Printed at verbosity >= level. */
void log_debug(const struct logger *l, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Progress of a long wait ("3/4 InService"), with the elapsed seconds.
 * On a terminal it redraws one line; otherwise it prints a plain line only
 * when the text (not the time) changed, so logs stay short. */
struct progress {
    char last[160];
    int drawn;       /* how many columns the drawn line takes; 0 = none */
};
void log_progress(const struct logger *l, struct progress *p, double elapsed_s,
                  const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Ends a progress line (newline on a terminal). */
void log_progress_end(const struct logger *l, struct progress *p);
/* Erases a drawn progress line, so the next output starts a clean line. */
void log_progress_clear(const struct logger *l, struct progress *p);

#endif
