/* Fuzz target: kubeconfig YAML (k8s/kubeconfig.c), the pure parser behind
 * k8s_kubeconfig_load, with its default context. */
#include <stdint.h>

#include "k8s/kubeconfig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct k8s_kc_source src = { "/fuzz/kubeconfig", (const char *)data, size };
    struct k8s_kubeconfig kc;
    struct err e;
    err_init(&e);
    k8s_kubeconfig_init(&kc);
    k8s_kubeconfig_parse(&kc, &src, 1, NULL, &e);
    k8s_kubeconfig_release(&kc);   /* safe after a failed parse too */
    return 0;
}
