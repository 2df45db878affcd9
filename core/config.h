/* paasctl.ini (SPEC.md "Configuration"): parsed with inih, every key validated.
 * Errors are ERR_USAGE with "FILE:LINE: message" (line 0 omitted for errors
 * about the file as a whole, e.g. a missing required section). */
#ifndef CORE_CONFIG_H
#define CORE_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include "err.h"

#define CONFIG_MAX_ZONES 6
#define CONFIG_MAX_LISTENERS 8
#define CONFIG_MAX_LIST 32

struct cidr {
    uint32_t addr;     /* host order, network address */
    int prefix;        /* 0..32 */
    char text[20];     /* canonical "a.b.c.d/n" */
};

/* One [elb] listener (SPEC.md "Configuration"): "LB:INST" is plain HTTP;
 * "LB:INST:https|ssl:CERT_ARN" terminates TLS on the ELB with an ACM or
 * IAM certificate, and the ELB speaks HTTP (https) or TCP (ssl) to the
 * instances. Protocols are spelt as the ELB API spells them. */
struct listener {
    int lb_port;
    int instance_port;
    char protocol[8];          /* "HTTP", "HTTPS" or "SSL" */
    char instance_protocol[8]; /* "HTTP" (for HTTP and HTTPS) or "TCP" (for SSL) */
    char cert_arn[256];        /* "" for HTTP */
};

struct cluster_config {
    int present;              /* the [cluster x] section exists */
    char ami[64];
    char auth_type[32];
    char master_type[32];
    char ingress_type[32];
    int ingress_count;        /* 1..1000 */
    char minion_type[32];
    int minion_count;         /* 0..1000 */
    char kubernetes_version[16]; /* "1.32.4": exactly what the slot's nodes install */
    struct cidr pod_cidr;     /* default 10.244.0.0/16; overlaps neither vpc_cidr nor service_cidr */
    struct cidr service_cidr; /* default 10.96.0.0/12 */
    int master_count;         /* 1 or 3; default 1 */
    char kubeconfig[4096];    /* absolute after ~ and relative resolution; "" = unset */
    char context[256];        /* "" = kubeconfig's current-context */
};

struct config {
    char path[4096];          /* the file read */

    /* [paas] */
    char name[21];            /* [a-z][a-z0-9-]{0,19} */
    char region[32];          /* "" = resolve from env/profile */
    char profile[128];        /* "" = AWS_PROFILE / default */
    char endpoint[512];       /* "" = real endpoints */
    char state_bucket[64];    /* S3 bucket name rules */

    /* [shell] */
    struct cidr vpc_cidr;
    int n_zones;
    char zones[CONFIG_MAX_ZONES][32];
    struct cidr public_subnets[CONFIG_MAX_ZONES];   /* n_zones of them */
    struct cidr private_subnets[CONFIG_MAX_ZONES];  /* n_zones of them */
    int n_public_subnets;     /* == n_zones after config_load */
    int n_private_subnets;    /* == n_zones after config_load */
    char dns_zone[256];
    struct cidr admin_cidr;
    char bastion_ami[64];
    char bastion_type[32];
    char key_name[256];       /* "" = none */

    /* [elb] */
    char live_name[33];       /* default NAME-live; ELB names: 1..32, [A-Za-z0-9-] */
    char prelive_name[33];    /* default NAME-prelive */
    int n_listeners;
    struct listener listeners[CONFIG_MAX_LISTENERS]; /* default 80:80 */
    char health_target[128];  /* default HTTP:80/healthz */
    int health_interval;      /* default 10, 5..300 */
    int healthy_threshold;    /* default 2, 2..10 */
    int unhealthy_threshold;  /* default 2, 2..10 */
    int draining_timeout;     /* default 300, 1..3600 */
    int swap_timeout;         /* default 0 = derived */
    char ssl_policy[64];      /* "" = the ELB's default; a predefined
                               * ELBSecurityPolicy-* name, only with an
                               * https/ssl listener */

    /* [cluster a], [cluster b]: index 0 = a, 1 = b */
    struct cluster_config cluster[2];

    /* [smoke] */
    double smoke_timeout;     /* seconds, default 600; 0.1..86400, 3 decimals */
    int n_smoke_namespaces;
    char smoke_namespaces[CONFIG_MAX_LIST][64];   /* empty = all non-system */
    char smoke_path[256];     /* default /healthz */
    char connect_to[512];     /* "" = none; curl CONNECT_TO syntax */

    /* [migrate] */
    int n_exclude_namespaces;
    char exclude_namespaces[CONFIG_MAX_LIST][64]; /* default kube-system, kube-public, kube-node-lease */
    int n_exclude_resources;
    char exclude_resources[CONFIG_MAX_LIST][64];  /* default events, nodes */
    int migrate_concurrency;  /* default 16, 1..256 */
    int migrate_qps;          /* default 0 = unlimited */

    /* [consul] (SPEC.md "Consul sync"): the proxy service, or a direct
     * address per slot; "" = unset */
    char consul_service[256];     /* NAMESPACE/SERVICE:PORT */
    char consul_address_a[512];   /* http(s)://host:port */
    char consul_address_b[512];
    char consul_token_file[4096]; /* absolute; "" = CONSUL_HTTP_TOKEN */
    char consul_ca_file[4096];    /* absolute; "" = the system store */
    char consul_prefix[512];      /* "" = every key */
};

/* Reads and validates the file at path into cfg (caller-owned, filled
 * entirely, defaults applied). Returns 0, or -1 with e->kind = ERR_USAGE. */
int config_load(const char *path, struct config *cfg, struct err *e);

/* The swap timeout in seconds: [elb] swap_timeout, or when 0
 * health_interval * healthy_threshold * 3 + 60. */
int config_swap_timeout(const struct config *cfg);

/* Slot name "a"/"b" -> 0/1, else -1. */
int config_slot_index(const char *slot);

/* Parses "a.b.c.d/n" strictly (the address must be the network address).
 * Returns 0 or -1 (no err: the caller names the field and line). */
int cidr_parse(const char *s, struct cidr *out);
/* 1 if inner lies entirely within outer. */
int cidr_contains(const struct cidr *outer, const struct cidr *inner);
/* 1 if the two ranges share any address. */
int cidr_overlaps(const struct cidr *x, const struct cidr *y);

/* ~/.kube/paasctl-NAME-SLOT.yaml: where `paasctl kubeconfig SLOT` writes by
 * default, and the slot's kubeconfig when its section sets none. -1
 * without a HOME or when it does not fit. */
int config_default_kubeconfig(const struct config *cfg, const char *slot, char *out,
                              size_t size);

#endif
