/* The slot's bootstrap files (SPEC.md "Clusters"): the node bootstrap script,
 * one environment file per role and the instances' user data, rendered from
 * the templates in scripts/bootstrap/ (compiled into the binary, so paasctl
 * runs from anywhere). Rendering is a pure function: @KEY@ -> value. */
#ifndef PLANS_BOOTSTRAP_H
#define PLANS_BOOTSTRAP_H

#include <stddef.h>
#include "core/buf.h"
#include "core/config.h"
#include "core/err.h"

#define BOOTSTRAP_MAX_VARS 32

struct bootstrap_vars {
    const char *key[BOOTSTRAP_MAX_VARS];     /* "SLOT" for @SLOT@ */
    const char *value[BOOTSTRAP_MAX_VARS];
    size_t n;
};

void bootstrap_var(struct bootstrap_vars *v, const char *key, const char *value);

/* The cluster's own values for the env files (SPEC.md "Clusters"):
 * @K8S_VERSION@, @POD_CIDR@, @SERVICE_CIDR@ (borrowed from cc) and
 * @VERSIONS@, scripts/bootstrap/versions.env: every add-on version. */
void bootstrap_cluster_vars(struct bootstrap_vars *v, const struct cluster_config *cc);

/* Replaces every @KEY@ of tmpl with its value into out (appended). An
 * @WORD@ with no value is an error naming it (a template and the code
 * disagree); a lone '@' is copied. */
int bootstrap_render(const char *tmpl, const struct bootstrap_vars *v,
                     struct buf *out, struct err *e);

/* The templates, NUL-terminated, from scripts/bootstrap/. */
const char *bootstrap_script(void);        /* bootstrap.sh (uploaded as is) */
const char *bootstrap_env_template(void);  /* role.env.in */
const char *bootstrap_user_data_template(void); /* user-data.sh.in */
const char *bootstrap_realm_template(void); /* keycloak-realm.json.in */

#endif
