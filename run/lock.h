/* The run lock (SPEC.md "Lock and journal"): the S3 object
 * STATE_BUCKET/NAME/lock, written with If-None-Match: * so that exactly one
 * writer wins; 412 means another run holds it (ERR_LOCKED, exit 4). */
#ifndef RUN_LOCK_H
#define RUN_LOCK_H

#include "plans/paas.h"

struct lock_info {
    char id[33];          /* random hex; what `unlock` takes */
    char command[256];
    char user[64];
    char host[256];
    long pid;
    char started[32];     /* ISO 8601 UTC */
    char etag[130];       /* of the lock object as read (lock_read) */
};

/* Takes the lock for p->command. When another run holds it, fails with
 * ERR_LOCKED and a message naming the holder, its command, since when, and
 * the unlock id. mine is filled on success. */
int lock_acquire(struct paas *p, struct lock_info *mine, struct err *e);
/* Releases the lock if it is still ours (a lock broken by `unlock` and
 * taken by someone else is left alone): the delete is conditional on the
 * ETag of the lock read just before, so a lock taken in between survives. */
int lock_release(struct paas *p, const struct lock_info *mine, struct err *e);
/* `unlock ID`: removes the lock if its id is ID; was gets the holder. No lock
 * at all is ERR_FAILED; another id is ERR_USAGE naming the current id. */
int lock_break(struct paas *p, const char *id, struct lock_info *was,
               struct err *e);
/* Reads the current lock; *held = 0 when there is none. */
int lock_read(struct paas *p, struct lock_info *out, int *held, struct err *e);

/* "user@host pid N, running 'cmd' since T (unlock id X)". */
void lock_describe(const struct lock_info *l, char *out, size_t size);

#endif
