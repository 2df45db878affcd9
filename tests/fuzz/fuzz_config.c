/* Fuzz target: paasctl.ini (core/config.c). config_load reads a file, so
 * the input goes through an in-memory file (memfd), named by its /proc path. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct config cfg;   /* large: keep it off the stack */
    char path[64];
    struct err e;
    int fd = memfd_create("paasctl.ini", 0);
    if (fd < 0)
        return 0;
    if (write(fd, data, size) == (ssize_t)size) {
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        err_init(&e);
        config_load(path, &cfg, &e);
    }
    close(fd);
    return 0;
}
