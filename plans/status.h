/* What exists, read from AWS by tags and names (SPEC.md "status"): the
 * shell's VPC, the ELBs, each slot's instances, and which slot is live. */
#ifndef PLANS_STATUS_H
#define PLANS_STATUS_H

#include <stddef.h>
#include "aws/ec2.h"
#include "aws/elb.h"
#include <jansson.h>
#include "plans/paas.h"
#include "plans/public_dns.h"

struct status_elb {
    int exists;
    struct elb_lb lb;
    size_t in_service, out_of_service;
};

struct status_drift {
    char instance[32];
    char problem[224];
};

struct status_report {
    int have_shell;
    struct ec2_vpc vpc;
    struct status_elb live, prelive;
    int api_wanted[2];                /* slot a, b: master_count = 3 */
    struct status_elb api[2];         /* ...its API balancer NAME-SLOT-api */
    struct ec2_instance *instances;   /* every non-terminated instance */
    size_t n_instances;
    char live_slot[16];               /* "a", "b" or "" (from traffic tags) */
    char prelive_slot[16];
    struct status_drift *drift;       /* malloc'd, n_drift entries */
    size_t n_drift;
    char duplicate[256];              /* "" or two resources tagged for one
                                       * place of the shell (shell_read) */
    int swap_pending;                 /* an interrupted cutover/rollback */
    char swap_command[16], swap_from[8], swap_to[8];
    json_t *journal;                  /* the newest records, newest first */
    char api_version[2][64];          /* slot a, b: the API's /version when it
                                       * can be reached from here, else "" */
    struct pdns dns;                  /* the public names of the ELBs (have_zone
                                       * 0: no public zone DNS_ZONE) */
};

/* Reads the world and computes drift: an ingress node whose
 * paasctl:traffic tag disagrees with its ELB membership, or an ELB member
 * that belongs to no slot. The report is the caller's:
 * status_report_release(). */
int plan_status(struct paas *p, struct status_report *r, struct err *e);
void status_report_release(struct status_report *r);

#endif
