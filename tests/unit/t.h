/* A minimal unit-test harness: each check prints "PASS: name" or
 * "FAIL: name: why"; tests/run counts those lines. t_done() exits non-zero
 * if anything failed. Header-only so each test file is one binary. */
#ifndef TESTS_T_H
#define TESTS_T_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int t_failed_count, t_passed_count;

#define T_OK(name, cond, ...)                                            \
    do {                                                                 \
        if (cond) {                                                      \
            printf("PASS: %s\n", name);                                  \
            t_passed_count++;                                            \
        } else {                                                         \
            printf("FAIL: %s: ", name);                                  \
            printf(__VA_ARGS__);                                         \
            printf(" (%s:%d)\n", __FILE__, __LINE__);                    \
            t_failed_count++;                                            \
        }                                                                \
    } while (0)

/* Compares two strings; on mismatch shows both. NULL counts as "(null)". */
#define T_STREQ(name, got, want)                                         \
    do {                                                                 \
        const char *t_g = (got), *t_w = (want);                          \
        T_OK(name, t_g && t_w && strcmp(t_g, t_w) == 0,                  \
             "got [%s] want [%s]", t_g ? t_g : "(null)",                 \
             t_w ? t_w : "(null)");                                      \
    } while (0)

#define T_INTEQ(name, got, want)                                         \
    do {                                                                 \
        long long t_g = (long long)(got), t_w = (long long)(want);       \
        T_OK(name, t_g == t_w, "got %lld want %lld", t_g, t_w);          \
    } while (0)

/* A test's temporary directory (t_mktmp) and paths inside it (t_tmp_path). */
static char t_tmp[256];

/* Makes /tmp/PREFIX.XXXXXX as t_tmp; 0, or -1 when it cannot. */
static inline int t_mktmp(const char *prefix)
{
    snprintf(t_tmp, sizeof(t_tmp), "/tmp/%s.XXXXXX", prefix);
    return mkdtemp(t_tmp) ? 0 : -1;
}

/* t_tmp/NAME (t_tmp_path); the last four results stay valid at once. */
static inline const char *t_tmp_path(const char *name)
{
    static char p[4][512];
    static int i;
    i = (i + 1) % 4;
    snprintf(p[i], sizeof(p[i]), "%s/%s", t_tmp, name);
    return p[i];
}

/* Removes a test's temporary directory and everything in it. */
static inline void t_rmtree(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", dir);
}

static inline int t_done(void)
{
    fflush(stdout);
    return t_failed_count ? 1 : 0;
}

#endif
