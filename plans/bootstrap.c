/* Bootstrap templates and their rendering (see bootstrap.h). */
#include "plans/bootstrap.h"

#include <string.h>

/* The templates are embedded with the assembler's .incbin (paths relative
 * to the repository root, where make runs): the Makefile needs no rule and
 * the binary carries them. Edit a template, then rebuild this file. */
__asm__(".pushsection .rodata\n"
        "paasctl_tmpl_bootstrap:\n"
        ".incbin \"scripts/bootstrap/bootstrap.sh\"\n"
        ".byte 0\n"
        "paasctl_tmpl_env:\n"
        ".incbin \"scripts/bootstrap/role.env.in\"\n"
        ".byte 0\n"
        "paasctl_tmpl_user_data:\n"
        ".incbin \"scripts/bootstrap/user-data.sh.in\"\n"
        ".byte 0\n"
        "paasctl_tmpl_versions:\n"
        ".incbin \"scripts/bootstrap/versions.env\"\n"
        ".byte 0\n"
        "paasctl_tmpl_realm:\n"
        ".incbin \"scripts/bootstrap/keycloak-realm.json.in\"\n"
        ".byte 0\n"
        ".popsection\n");

extern const char paasctl_tmpl_bootstrap[] __asm__("paasctl_tmpl_bootstrap");
extern const char paasctl_tmpl_env[] __asm__("paasctl_tmpl_env");
extern const char paasctl_tmpl_user_data[] __asm__("paasctl_tmpl_user_data");
extern const char paasctl_tmpl_versions[] __asm__("paasctl_tmpl_versions");
extern const char paasctl_tmpl_realm[] __asm__("paasctl_tmpl_realm");

const char *bootstrap_script(void)
{
    return paasctl_tmpl_bootstrap;
}

const char *bootstrap_env_template(void)
{
    return paasctl_tmpl_env;
}

const char *bootstrap_user_data_template(void)
{
    return paasctl_tmpl_user_data;
}

const char *bootstrap_realm_template(void)
{
    return paasctl_tmpl_realm;
}

void bootstrap_var(struct bootstrap_vars *v, const char *key, const char *value)
{
    if (v->n < BOOTSTRAP_MAX_VARS) {
        v->key[v->n] = key;
        v->value[v->n++] = value;
    }
}

void bootstrap_cluster_vars(struct bootstrap_vars *v, const struct cluster_config *cc)
{
    bootstrap_var(v, "K8S_VERSION", cc->kubernetes_version);
    bootstrap_var(v, "POD_CIDR", cc->pod_cidr.text);
    bootstrap_var(v, "SERVICE_CIDR", cc->service_cidr.text);
    bootstrap_var(v, "VERSIONS", paasctl_tmpl_versions);
}

/* The value for the key of length n, or NULL. */
static const char *bootstrap_lookup(const struct bootstrap_vars *v,
                                    const char *key, size_t n)
{
    for (size_t i = 0; i < v->n; i++)
        if (strlen(v->key[i]) == n && memcmp(v->key[i], key, n) == 0)
            return v->value[i];
    return NULL;
}

/* Length of an @KEY@ name ([A-Z0-9_]+) starting at s, or 0. */
static size_t bootstrap_key_len(const char *s)
{
    size_t n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
    return n > 0 && s[n] == '@' ? n : 0;
}

int bootstrap_render(const char *tmpl, const struct bootstrap_vars *v,
                     struct buf *out, struct err *e)
{
    const char *s = tmpl;
    while (*s) {
        const char *at = strchr(s, '@');
        size_t n;
        const char *val;
        if (!at) {
            buf_puts(out, s);
            break;
        }
        buf_add(out, s, (size_t)(at - s));
        n = bootstrap_key_len(at + 1);
        if (!n) {
            buf_putc(out, '@');
            s = at + 1;
            continue;
        }
        val = bootstrap_lookup(v, at + 1, n);
        if (!val)
            return err_set(e, ERR_FAILED, "bootstrap template: no value for @%.*s@",
                           (int)n, at + 1);
        buf_puts(out, val);
        s = at + n + 2;
    }
    if (out->failed)
        return err_set(e, ERR_FAILED, "out of memory rendering a bootstrap template");
    return 0;
}
