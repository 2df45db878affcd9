/* Error values: every fallible function returns int (0 ok, -1 failed) and fills
 * a caller-owned struct err. Only cmd/ turns one into a message and exit code
 * (SPEC.md "Exit codes"). */
#ifndef CORE_ERR_H
#define CORE_ERR_H

/* The exit-code class of an error, as SPEC.md defines them. */
enum err_kind {
    ERR_NONE = 0,
    ERR_FAILED = 1,   /* AWS/Kubernetes error, check failed, timeout */
    ERR_USAGE = 2,    /* bad flag, bad config, unknown slot */
    ERR_REFUSED = 3,  /* safety interlock */
    ERR_LOCKED = 4,   /* another run holds the lock */
    ERR_SIGINT = 130, /* stopped by SIGINT (128 + 2) after finishing what */
    ERR_SIGTERM = 143,/* was in flight; SIGTERM (128 + 15) */
};

struct err {
    enum err_kind kind;
    char msg[1024];        /* human sentence, never a secret */
    char code[96];         /* AWS error code or Kubernetes Status reason */
    char request_id[128];  /* AWS request id, when there is one */
    long http_status;      /* 0 when no HTTP exchange happened */
    int uncertain;         /* 1: the request was sent and may have been
                            * executed (reset, timeout, 5xx): look before
                            * acting again. 0: it certainly was not (refused
                            * connection, throttled, 4xx) or it succeeded. */
};

void err_init(struct err *e);
/* Sets kind and a formatted message; clears code, request id and status.
 * Always returns -1 so callers can write `return err_set(...)`. */
int err_set(struct err *e, enum err_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prepends "context: " to the message, keeping everything else. Returns -1. */
int err_wrap(struct err *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Exit code for cmd/: 0 for ERR_NONE, else the kind's number. */
int err_exit_code(const struct err *e);

#endif
