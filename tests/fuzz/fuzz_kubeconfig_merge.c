/* Fuzz target: merging paasctl's entry into an existing kubeconfig
 * (k8s/kubeconfig_file.c, what `kubeconfig --merge` reads from the
 * operator's file): parse, copy, emit. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "k8s/kubeconfig_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct k8s_kc_entry x = {
        "fuzz-a", "fuzz-a-admin", "https://api.a.k8s.example.com:6443",
        "CA\n", "CERT\n", "KEY\n",
    };
    char *text = malloc(size + 1);
    struct buf out = BUF_INIT;
    struct err e;
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    err_init(&e);
    k8s_kubeconfig_render(&x, text, "/fuzz/kubeconfig", &out, &e);
    buf_release_secret(&out);
    free(text);
    return 0;
}
