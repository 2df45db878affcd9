/* Who runs this command and a fresh random id, for the lock and journal. */
#ifndef RUN_IDENTITY_H
#define RUN_IDENTITY_H

#include <stddef.h>
#include <time.h>

void identity_user(char *out, size_t size);
void identity_host(char *out, size_t size);
/* 32 hex characters from the OpenSSL RNG. */
void identity_random_id(char out[33]);
/* "2026-11-25T06:12:00Z" */
void identity_iso_time(time_t t, char *out, size_t size);

#endif
