/* The run's context, passed to every plan (DESIGN.md "No hidden globals"):
 * configuration, logger, the AWS client and the output choices. cmd/ fills
 * it; plans read it. */
#ifndef PLANS_PAAS_H
#define PLANS_PAAS_H

#include <jansson.h>
#include <signal.h>
#include <time.h>

#include "aws/transport.h"
#include "core/config.h"
#include "core/log.h"

enum paas_output { OUT_TABLE, OUT_JSON };

/* Tunables read from the environment once, by cmd/ (tests shorten waits
 * with them); 0 = the default of whoever uses it. */
struct paas_knobs {
    int max_attempts;          /* PAASCTL_MAX_ATTEMPTS: AWS and Kubernetes */
    long retry_base_ms;        /* PAASCTL_RETRY_BASE_MS: first backoff ceiling */
    long poll_ms;              /* PAASCTL_POLL_MS: first wait interval */
    long dependency_wait_s;    /* PAASCTL_DEPENDENCY_WAIT_S: how long teardown
                                * retries DependencyViolation */
    long iam_wait_s;           /* PAASCTL_IAM_WAIT_S: how long RunInstances is
                                * retried while a new instance profile is not
                                * yet visible to EC2 */
    long cluster_wait_s;       /* PAASCTL_CLUSTER_WAIT_S: how long `up` waits
                                * for a reachable cluster's nodes */
    long low_speed_s;          /* PAASCTL_LOW_SPEED_S: an AWS answer slower than
                                * HTTP_LOW_SPEED_BPS this long is cut */
    long deadline_s;           /* PAASCTL_DEADLINE_S: one AWS request, all its
                                * attempts together */
};

struct paas {
    struct config cfg;
    int have_cfg;
    struct logger log;
    struct aws_client aws;
    int have_aws;
    enum paas_output output;
    int dry_run;
    int skip_preflight;       /* up/upgrade --skip-preflight (README
                               * "Pre-flight") */
    int yes;
    struct paas_knobs knobs;
    void (*clock)(struct timespec *now);   /* the wall clock (lock, journal
                                            * and marker dates), passed like
                                            * the signer's `when` */
    const char *command;      /* the command's name: "up" */
    char command_line[256];   /* with its arguments: "up b", for the lock and
                               * the journal */
    json_t *changes;          /* the journal's "changes" of this run (ids,
                               * never a secret). Owned. Written by cmd/
                               * only (cmd_journal_changes), from what the
                               * plan returned in its result. */
    int journaled;            /* 1 once the plan wrote this run's record
                               * itself (a swap records before it removes
                               * its marker, SPEC.md "Cutover rules" 6):
                               * cmd/ then writes no second one */
    volatile sig_atomic_t *interrupted;  /* set by SIGINT/SIGTERM: long waits
                                          * stop and the lock is released */
};

/* The wall clock's seconds, from p->clock. */
static inline time_t paas_now(const struct paas *p)
{
    struct timespec now;
    p->clock(&now);
    return now.tv_sec;
}

/* 1 once the operator pressed Ctrl-C (or the run got SIGTERM). */
static inline int paas_interrupted(const struct paas *p)
{
    return p->interrupted && *p->interrupted;
}

#endif
