/* Who runs the command, random ids and timestamps (see identity.h). */
#include "run/identity.h"

#include <openssl/rand.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/env.h"
#include "core/util.h"

void identity_user(char *out, size_t size)
{
    const char *u = env_get("USER");
    struct passwd *pw;
    if (!u || !*u) {
        pw = getpwuid(getuid());
        u = pw ? pw->pw_name : "unknown";
    }
    snprintf(out, size, "%s", u);
}

void identity_host(char *out, size_t size)
{
    if (gethostname(out, size) != 0)
        snprintf(out, size, "unknown");
    out[size - 1] = '\0';
}

void identity_random_id(char out[33])
{
    unsigned char raw[16];
    if (RAND_bytes(raw, sizeof(raw)) != 1) {
        /* The RNG failing is near impossible; fall back to something unique
         * enough for a lock id rather than aborting a run. */
        for (size_t i = 0; i < sizeof(raw); i++)
            raw[i] = (unsigned char)((unsigned long long)getpid() * 31u +
                                     (unsigned long long)util_now_ms() + i * 7u);
    }
    for (size_t i = 0; i < sizeof(raw); i++)
        snprintf(out + 2 * i, 3, "%02x", raw[i]);
}

void identity_iso_time(time_t t, char *out, size_t size)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
