/* Fuzz target: ExecCredential JSON from a credential plugin (k8s/exec.c). */
#include <stdint.h>

#include "k8s/exec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct k8s_exec_cred cred = { 0 };
    struct err e;
    err_init(&e);
    if (k8s_exec_parse((const char *)data, size, "client.authentication.k8s.io/v1",
                       "fuzz-plugin", &cred, &e) == 0)
        k8s_exec_cred_release(&cred);
    return 0;
}
