/* `up shell` / `plan shell` (SPEC.md "What it does", "Clusters",
 * "Tags"): the state bucket, the VPC and its network, the security groups,
 * the bastion, the hosted zone and the two classic ELBs, all found by tags
 * (and the ELB, bucket and zone names), created only where missing. */
#ifndef PLANS_SHELL_H
#define PLANS_SHELL_H

#include "aws/ec2.h"
#include "aws/elb.h"
#include "aws/route53.h"
#include "core/config.h"
#include "plans/diff.h"
#include "plans/paas.h"

#define SHELL_Z CONFIG_MAX_ZONES

enum shell_sg { SG_BASTION, SG_ELB, SG_NODE, SHELL_N_SG };
enum shell_lb { LB_LIVE, LB_PRELIVE, SHELL_N_LB };

/* What exists of the shell; have_x says whether x was found. */
struct shell_world {
    int nz;
    int have_bucket;
    char bucket_tag[32];                 /* its paasctl:paas tag, "" = none */
    int have_vpc, dns_hostnames;
    struct ec2_vpc vpc;
    int have_pub[SHELL_Z], have_priv[SHELL_Z];
    struct ec2_subnet pub[SHELL_Z], priv[SHELL_Z];
    int have_igw;
    struct ec2_igw igw;
    int have_eip[SHELL_Z];
    struct ec2_address eip[SHELL_Z];
    int have_nat[SHELL_Z];
    struct ec2_nat nat[SHELL_Z];
    int have_rtb_pub, have_rtb_priv[SHELL_Z];
    struct ec2_route_table rtb_pub, rtb_priv[SHELL_Z];
    int have_sg[SHELL_N_SG];
    struct ec2_security_group sg[SHELL_N_SG];
    int have_bastion;
    struct ec2_instance bastion;
    struct ec2_instance *bastions_seen;  /* every bastion, terminated too */
    size_t n_bastions_seen;
    int have_zone;
    struct r53_zone zone;
    int have_lb[SHELL_N_LB];
    struct elb_lb lb[SHELL_N_LB];
    struct elb_attrs attrs[SHELL_N_LB];
    char dup[256];   /* "" or the first duplicate seen: two resources tagged
                      * for one place, made by someone else or by an old
                      * version (README "Duplicates"); up refuses them */
};

/* What shell_read reads: everything (`up shell`, `teardown shell`), or
 * only what a slot needs (VPC, subnets, groups, ELBs, zone). */
enum shell_read_what { SHELL_READ_ALL, SHELL_READ_FOR_SLOT };

/* Reads the shell by tags. w is heap-sized; release with
 * shell_world_release. */
int shell_read(struct paas *p, enum shell_read_what what,
               struct shell_world *w, struct err *e);
void shell_world_release(struct shell_world *w);
/* The index of zone az in the configuration's zones, or -1. */
int shell_zone_index(const struct config *cfg, const char *az);
/* The zone index whose Name tag is PAAS-shell-<what>-<z+1> ("eip",
 * "nat", ...), or -1: how the shell tells its per-zone pieces apart. */
int shell_name_zone(const struct paas *p, const struct ec2_tags *t, const char *what);
/* The shell's VPC by its tags; *found = 0 when there is none. dup (may be
 * NULL) gets the id of a second VPC so tagged, else "". */
int shell_find_vpc(struct paas *p, struct ec2_vpc *out, int *found,
                   char dup[32], struct err *e);
/* A duplicate (dup: a shell_world's or a slot_net's, "" = none): with
 * apply, ERR_REFUSED naming both ids (up must not spread over two copies);
 * else it becomes the diff's note for `plan`. 0 when there is none or only
 * a note. */
int shell_refuse_duplicates(const char *dup, int apply, struct diff *d, struct err *e);
/* For `status`, beside shell_find_vpc (vpc, and other_vpc its dup): the
 * first duplicate among the VPCs, the subnets and the shell's groups into
 * out ("" = none), in two requests. */
int shell_find_duplicates(struct paas *p, const struct ec2_vpc *vpc, const char *other_vpc,
                          char *out, size_t size, struct err *e);

/* The state bucket, created (and tagged) if missing. `up shell` runs this
 * before it takes the lock, because the lock lives in that bucket. */
int plan_state_bucket(struct paas *p, struct err *e);

/* The state step before `up` takes the lock (the lock lives in the state
 * bucket; SPEC.md "Lock and journal"): for target "shell" the bucket is
 * made (plan_state_bucket); for a slot it must exist already, else
 * ERR_REFUSED says that the shell comes first. Nothing with dry_run. */
int plan_up_prepare(struct paas *p, const char *target, struct err *e);

/* Computes the shell's diff into d (plan, --dry-run) and, when apply is
 * set, makes it so (up shell). */
int plan_up_shell(struct paas *p, int apply, struct diff *d, struct err *e);

/* Waits until every NAT gateway of w (those with an id) is available
 * (gone = 0: private routes need them) or gone (gone = 1: teardown, whose
 * addresses are released after). One failing while awaited as available
 * is an error; Ctrl-C and WAIT_NAT_S end the wait (run/wait.h). */
int shell_wait_nats(struct paas *p, const struct shell_world *w, int gone,
                    struct err *e);

/* Names shared with the slots and teardown. */
const char *shell_sg_role(enum shell_sg g);

#endif
