/* The shell's S3 gateway VPC endpoint (README "S3 gateway endpoint"): on
 * the private route tables, so the nodes' image pulls from S3 and the
 * bootstrap's bucket reads go to S3 without paying NAT gateway charges.
 * Tagged at creation (role vpce-s3, beside SPEC.md "Tags"), found by its
 * tags, its route tables kept equal to the shell's private ones; made by
 * `up shell`, listed by `plan shell`, removed by `teardown shell` before
 * the VPC. */
#ifndef PLANS_SHELL_ENDPOINT_H
#define PLANS_SHELL_ENDPOINT_H

#include <stddef.h>
#include "aws/ec2.h"
#include "plans/diff.h"
#include "plans/paas.h"
#include "plans/shell.h"

#define VPCE_ROLE "vpce-s3"
#define VPCE_MAX_SEEN 16

struct vpce {
    int have;
    struct ec2_vpc_endpoint ep;       /* the live one, when have */
    size_t n_dead;                    /* deleted/failed ones still listed: */
    char dead[VPCE_MAX_SEEN][32];     /* they feed the ClientToken */
    size_t n_live;                    /* live ones: more than one is a */
    char live[VPCE_MAX_SEEN][32];     /* duplicate (README "Duplicates") */
    char dup[128];                    /* the sentence about it, "" = none */
    size_t d;                         /* its diff entry */
};

/* up shell: the endpoint of w's VPC by tags (none without a VPC). */
int vpce_read(struct paas *p, const struct shell_world *w, struct vpce *v, struct err *e);
/* One diff line: + create, ~ update (route tables differ, or private
 * route tables are still to be made), or =. A duplicate is refused with
 * apply, else noted (shell_refuse_duplicates). */
int vpce_decide(const struct paas *p, const struct shell_world *w, struct vpce *v,
                int apply, struct diff *d, struct err *e);
/* After the private route tables exist: create, or set its route tables. */
int vpce_apply(struct paas *p, const struct shell_world *w, struct vpce *v, struct diff *d,
               struct err *e);

/* teardown shell: every live endpoint tagged for the paas, a `-` line
 * each, then deleted (before the route tables and the VPC). */
int vpce_teardown_decide(struct paas *p, struct vpce *v, struct diff *d, struct err *e);
int vpce_teardown_apply(struct paas *p, const struct vpce *v, struct err *e);

#endif
