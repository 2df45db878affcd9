/* paasctl's entry point: global options, the dispatch table, shared set-up
 * (config, AWS client) and the one place where errors become messages and
 * exit codes (SPEC.md "Commands", "Exit codes"; DESIGN.md "Dispatch table"). */
#include "cmd/cmd.h"

#include <curl/curl.h>
#include <errno.h>
#include <libxml/parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/env.h"
#include "core/util.h"
#include "run/journal.h"
#include "run/lock.h"

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    interrupted = sig;
}

static const struct cmd commands[] = {
    { "cutover", cmd_cutover, CMD_NEEDS_CONFIG | CMD_NEEDS_AWS | CMD_MUTATES,
      "make the pre-live slot live; the live one moves to pre-live", "cutover",
      "Health-gated swap: refuses (exit 3) unless every ingress node of the\n"
      "pre-live slot is InService on the pre-live ELB; registers them with the\n"
      "live ELB and waits until all are InService ([elb] swap_timeout); if they\n"
      "are not, deregisters them again and exits 1 with nothing changed;\n"
      "otherwise retags both slots and moves the old live slot to pre-live.\n"
      "The live ELB never loses its last InService node. An interrupted\n"
      "cutover is finished (or undone) by running it again.\n", NULL,
      "paasctl cutover\npaasctl -o json cutover | jq .live" },
    { "rollback", cmd_rollback, CMD_NEEDS_CONFIG | CMD_NEEDS_AWS | CMD_MUTATES,
      "undo the last cutover", "rollback",
      "Makes the slot that was live before the last cutover live again, by the\n"
      "same health-gated swap. Refused (exit 3) when the journal has no\n"
      "cutover, when that slot has been torn down or is not healthy.\n", NULL,
      "paasctl rollback" },
    { "kubeconfig", cmd_kubeconfig, CMD_NEEDS_CONFIG | CMD_NEEDS_AWS,
      "write an admin kubeconfig for the slot, signed by its own CA",
      "kubeconfig a|b [--ttl DURATION] [--file FILE | --merge]",
      "Reads the slot's CA from its bucket (secret/, made by 'up'), signs a\n"
      "fresh client certificate (group kubeadm:cluster-admins, CN paasctl:$USER)\n"
      "and writes a kubeconfig for https://api.SLOT.k8s.DNS_ZONE:6443, context\n"
      "NAME-SLOT, mode 0600; prints its path, never the key.\n"
      "  --ttl DURATION  certificate lifetime (12h, 90m, 1h30m, 7d; default 12h)\n"
      "  --file FILE     write FILE (default ~/.kube/paasctl-NAME-SLOT.yaml, the\n"
      "                  slot's default kubeconfig)\n"
      "  --merge         merge into $KUBECONFIG's first file or ~/.kube/config,\n"
      "                  keeping its other entries; its current-context becomes\n"
      "                  NAME-SLOT\n", NULL,
      "paasctl kubeconfig b --ttl 2h --merge && kubectl get nodes" },
    { "smoke", cmd_smoke, CMD_NEEDS_CONFIG | CMD_NEEDS_AWS,
      "run the smoke suite against a slot", "smoke a|b",
      "Checks, each reported with its reason, failing ones retried until\n"
      "[smoke] timeout: the API answers (/version); every running ingress and\n"
      "minion instance has a Ready Node and no Node is NotReady; kube-system pods\n"
      "are Running or Succeeded; deployments, statefulsets and daemonsets in the\n"
      "smoke namespaces are fully available; the ingress instances are InService\n"
      "on their ELB; every Ingress host answers below 500 through that ELB\n"
      "([smoke] path, connect_to). Exit 0 only if every check passes.\n", NULL,
      "paasctl smoke b || echo 'b is not ready'" },
    { "consul-sync", cmd_consul_sync, CMD_NEEDS_CONFIG | CMD_CATCHES_SIGNALS,
      "keep DST's Consul KV equal to SRC's during the upgrade",
      "consul-sync SRC DST [--once] [--prefix P] [--delete]",
      "Reads both slots' Consul KV ([consul] service through each slot's API\n"
      "server, or address_a/address_b), writes SRC's keys that DST lacks or\n"
      "holds differently to DST in transactions of at most 64 operations, each\n"
      "a cas on the ModifyIndex DST had when read: a key changed on DST in\n"
      "between is reported as a conflict and DST's value stays. Then follows\n"
      "SRC with blocking queries, a line per change batch, until SIGINT or\n"
      "SIGTERM (exit 130/143 after the transaction in flight). Values are never\n"
      "printed. Takes no lock (it writes only Consul).\n"
      "  --once      one pass and its report; exit 1 if there were conflicts\n"
      "  --prefix P  only keys under P (default [consul] prefix, else all)\n"
      "  --delete    delete DST keys SRC does not have (delete-cas)\n", NULL,
      "paasctl consul-sync a b --once --prefix app/" },
    { "migrate", cmd_migrate, CMD_NEEDS_CONFIG | CMD_NEEDS_AWS | CMD_MUTATES,
      "recreate SRC's Kubernetes objects in DST",
      "migrate SRC DST [-n NS]... [-l SELECTOR] [--stack NAME]... [--resources LIST]\n"
      "       [--exclude-resources LIST] [--update] [--dry-run]",
      "Reads every type SRC's discovery lists (every API group, custom resources\n"
      "included), page by page, and creates the objects in DST in SPEC.md's order\n"
      "(CRDs first, their custom resources once DST reports them Established; a\n"
      "namespace before anything in it), [migrate] concurrency requests at once\n"
      "within [migrate] qps. What a cluster makes by itself is skipped and\n"
      "counted with its reason; server-set fields are stripped. Objects DST\n"
      "already has are reported as exists. A type DST does not serve at the same\n"
      "group/version fails, reported. Exit 1 if any object failed.\n"
      "  -n NS                   only this namespace (repeatable), and the\n"
      "                          cluster roles, CRDs and storage classes it needs\n"
      "  --stack NAME            the namespaces labelled paasctl.io/stack=NAME\n"
      "                          (repeatable), as -n\n"
      "  -l SELECTOR             only objects with these labels; their namespaces\n"
      "                          come along\n"
      "  --resources LIST        only these types (plural, plural.group or kind)\n"
      "  --exclude-resources LIST  not these types, on top of [migrate]\n"
      "  --update                replace what DST has with SRC's version\n"
      "  --dry-run               send the writes with dryRun=All: DST validates,\n"
      "                          stores nothing; the same report; no lock\n", NULL,
      "paasctl migrate a b --stack shop --dry-run\npaasctl migrate a b --stack shop" },
    { "upgrade", cmd_upgrade, CMD_NEEDS_CONFIG | CMD_NEEDS_AWS | CMD_MUTATES,
      "the whole upgrade to the idle slot, gate by gate, resumable",
      "upgrade [--to a|b] [--from-step N] [--skip-preflight]",
      "Runs, each step a gate that must pass before the next, under one lock:\n"
      "  1 up IDLE            2 smoke IDLE          3 migrate LIVE IDLE\n"
      "  4 consul-sync LIVE IDLE --once (only with [consul])\n"
      "  5 smoke IDLE         6 cutover             7 smoke IDLE (now on the live ELB)\n"
      "LIVE is the slot tagged live, IDLE the other (or --to). Stops at the first\n"
      "failed step (exit 1, or 3 for a refusal) naming it and how to continue;\n"
      "run again, it resumes at the first unfinished step of the unfinished\n"
      "upgrade (recorded after each step in STATE_BUCKET/NAME/upgrade, so even\n"
      "a killed run resumes; else the journal's). Never tears the old slot down.\n"
      "  --to a|b        the slot to upgrade to (must not be live)\n"
      "  --from-step N   start at step N whatever the records say\n"
      "  --skip-preflight  the up step without the quota and image checks\n"
      "  --dry-run       print the steps it would run and what each does\n", NULL,
      "paasctl --dry-run upgrade\npaasctl upgrade\npaasctl upgrade --from-step 5" },
    { "plan", cmd_plan, CMD_NEEDS_CONFIG | CMD_NEEDS_AWS,
      "what up would do: + create, = exists, ~ update; changes nothing",
      "plan shell|a|b",
      "Reads the world by its paasctl:* tags (and the ELB, bucket and zone\n"
      "names) and prints one line per resource that 'up' would create (+),\n"
      "update (~), destroy (-) or leave as it is (=), then the totals. Sends no\n"
      "mutating request. -o json prints the same as one document.\n", NULL,
      "paasctl plan b" },
    { "up", cmd_up, CMD_NEEDS_CONFIG | CMD_NEEDS_AWS | CMD_MUTATES,
      "converge the shell or a slot to the configuration",
      "up shell|a|b [--no-wait] [--skip-preflight]",
      "up shell: the state bucket, VPC, subnets, gateways, routes, the S3\n"
      "gateway endpoint, security groups, bastion, hosted zone, the live and\n"
      "pre-live ELBs with their listeners, and *.DNS_ZONE / *.prelive.DNS_ZONE\n"
      "aliasing them.\n"
      "up a|b: the slot's config bucket, auth server, master_count masters (3:\n"
      "behind the internal API ELB NAME-SLOT-api), ingress nodes and minions\n"
      "spread over the zones, its api/auth DNS records, and its ingress nodes\n"
      "behind the pre-live ELB. Needs the shell (exit 3 without it); a running\n"
      "slot is not switched between 1 and 3 masters (exit 3).\n"
      "Creates only what is missing, converges counts both ways (the newest\n"
      "extras go), and is safe to re-run after a crash or Ctrl-C.\n"
      "Then up a|b waits until the slot's API answers and its nodes are Ready,\n"
      "when the API can be reached from here (else it says how to check).\n"
      "Pre-flight, before anything is made: the vCPUs this run launches plus\n"
      "those running against the On-Demand standard quota, the Elastic IPs it\n"
      "allocates against theirs, and that the image is there and x86_64; exit 1\n"
      "naming every failed check.\n"
      "  --dry-run         print the plan, change nothing\n"
      "  --no-wait         do not wait for the cluster\n"
      "  --skip-preflight  no quota and image checks (accounts without Service\n"
      "                    Quotas access)\n", cmd_up_prepare,
      "paasctl up shell && paasctl up a" },
    { "teardown", cmd_teardown, CMD_NEEDS_CONFIG | CMD_NEEDS_AWS | CMD_MUTATES,
      "destroy the shell or a slot and everything it owns", "teardown a|b|shell",
      "teardown a|b: deregisters the slot's ingress nodes from both ELBs,\n"
      "deletes the load balancers and security groups its Kubernetes made\n"
      "(tagged kubernetes.io/cluster/NAME-SLOT), terminates its instances and\n"
      "waits, deletes its DNS records and its bucket. Refused (exit 3) for the\n"
      "live slot.\n"
      "teardown shell: everything of the shell in dependency order, the state\n"
      "bucket last. Refused (exit 3) while a slot has instances.\n"
      "Asks to type the slot's name (the paas name for the shell) on a\n"
      "terminal; needs --yes otherwise.\n"
      "  --dry-run   print what would be destroyed, change nothing\n", NULL,
      "paasctl teardown a --yes" },
    { "status", cmd_status, CMD_NEEDS_CONFIG | CMD_NEEDS_AWS,
      "the shell, each slot, which slot is live, ELB health, drift",
      "status [--check]",
      "Reads the world by its paasctl:* tags and the ELB names and prints the\n"
      "shell, the live and pre-live ELBs with their health, and each slot's\n"
      "instances by role and state.\n"
      "  --check   exit 1 when tags and ELB membership disagree (drift)\n", NULL,
      "paasctl -o json status --check" },
    { "history", cmd_history, CMD_NEEDS_CONFIG | CMD_NEEDS_AWS,
      "the journal, newest first", "history [-n N]",
      "Lists the journal records (STATE_BUCKET/NAME/journal/), newest first.\n"
      "  -n N      only the newest N records\n", NULL,
      "paasctl history -n 10" },
    { "unlock", cmd_unlock, CMD_NEEDS_CONFIG | CMD_NEEDS_AWS,
      "remove a stale lock (prints who held it)", "unlock LOCK_ID",
      "Removes STATE_BUCKET/NAME/lock if its id is LOCK_ID (the id printed\n"
      "when a command exits 4), and prints who held it.\n", NULL,
      "paasctl unlock 3f2c9a1e-0b7d-4c55-9a64-5d1e2f7a8b90" },
    { "help", NULL, 0,
      "usage, options and an example of a command", "help [COMMAND]",
      "Prints the tool's usage, or COMMAND's usage, options and example\n"
      "(the same as 'paasctl COMMAND --help').\n", NULL,
      "paasctl help migrate" },
    { "version", cmd_version, 0,
      "version, and the versions of the libraries linked",
      "version", "Prints paasctl's version and the linked library versions.\n", NULL,
      "paasctl -o json version" },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

/* The options of a usage line, or the global ones, as JSON. */
static json_t *options_json(const struct cmd_opt *o, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_pack("{s:s, s:b}", "name", o[i].name,
                                           "takes_value", o[i].takes_value));
    return a;
}

/* -o json help [COMMAND]: the same facts as the text, for scripts and the
 * workflow pack (docs/schema/help.json). */
static void usage_json(const struct cmd *c)
{
    json_t *d;
    if (!c) {
        json_t *cmds = json_array();
        for (size_t i = 0; i < N_COMMANDS; i++)
            json_array_append_new(cmds, json_pack("{s:s, s:s, s:s}", "name", commands[i].name,
                                                  "summary", commands[i].summary,
                                                  "usage", commands[i].usage));
        d = json_pack("{s:o, s:o}", "commands", cmds, "options",
                      options_json(cmd_global_opts, cmd_n_global_opts));
    } else {
        struct cmd_opt o[CMD_MAX_OPTS];
        size_t n = cmd_usage_options(c, o, CMD_MAX_OPTS);
        json_t *ex = json_array();
        const char *s = c->example ? c->example : "";
        while (*s) {
            size_t len = strcspn(s, "\n");
            json_array_append_new(ex, json_stringn(s, len));
            s += len + (s[len] == '\n');
        }
        d = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o}", "name", c->name, "summary", c->summary,
                      "usage", c->usage, "help", c->help, "options", options_json(o, n),
                      "examples", ex);
    }
    cmd_print_json(d);
    json_decref(d);
}

static void usage_global(FILE *out)
{
    fprintf(out,
        "usage: paasctl [options] COMMAND [args]\n\n"
        "A/B (blue/green) upgrades of whole Kubernetes clusters on AWS.\n\n"
        "Commands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nOptions (before or after the command):\n");
    for (size_t i = 0; cmd_global_help[i]; i++) {
        const char *tab = strchr(cmd_global_help[i], '\t');
        fprintf(out, "  %-24.*s %s\n", (int)(tab - cmd_global_help[i]), cmd_global_help[i],
                tab + 1);
    }
    fprintf(out,
        "\nExit codes: 0 done, 1 failed, 2 usage/config error, 3 refused by a safety\n"
        "interlock, 4 another run holds the lock, 130/143 interrupted by SIGINT/SIGTERM.\n"
        "'paasctl help COMMAND' shows a command's options and an example.\n");
}

static void usage_command(const struct paas *p, const struct cmd *c)
{
    if (p->output == OUT_JSON) {
        usage_json(c);
        return;
    }
    printf("usage: paasctl [options] %s\n\n%s", c->usage, c->help);
    if (c->example) {
        const char *s = c->example;
        printf("\nExample:\n");
        while (*s) {
            size_t len = strcspn(s, "\n");
            printf("  %.*s\n", (int)len, s);
            s += len + (s[len] == '\n');
        }
    }
}

static const struct cmd *find_command(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

/* "unknown command 'cutovr' — did you mean 'cutover'?" */
static int unknown_command(const char *name, struct err *e)
{
    const char *names[N_COMMANDS];
    const char *near;
    for (size_t i = 0; i < N_COMMANDS; i++)
        names[i] = commands[i].name;
    near = util_closest(name, names, N_COMMANDS);
    if (near)
        return err_set(e, ERR_USAGE, "unknown command '%s' \xe2\x80\x94 did you mean '%s'?",
                       name, near);
    return err_set(e, ERR_USAGE, "unknown command '%s' (see 'paasctl --help')", name);
}

/* An option neither global nor in c's usage line is a usage error, with
 * the closest known option when it looks like a typo. Checked here, from
 * the table, before the command parses its own arguments, so every
 * command (and every new one) gets the same message. c NULL: no command. */
static int check_options(const struct cmd *c, int first, int argc, char **argv,
                         struct err *e)
{
    struct cmd_opt own[CMD_MAX_OPTS];
    const char *names[CMD_MAX_OPTS + 32];
    size_t n_own = c ? cmd_usage_options(c, own, CMD_MAX_OPTS) : 0, n = 0;
    for (size_t i = 0; i < n_own; i++)
        names[n++] = own[i].name;
    for (size_t i = 0; i < cmd_n_global_opts && n < sizeof(names) / sizeof(names[0]); i++)
        names[n++] = cmd_global_opts[i].name;
    for (int i = first; i < argc; i++) {
        const char *a = argv[i], *near;
        size_t k, len = strcspn(a, "=");
        if (a[0] != '-' || strcmp(a, "-") == 0)
            continue;
        /* "--prefix P" or "--prefix=P" */
        for (k = 0; k < n_own; k++)
            if (strncmp(own[k].name, a, len) == 0 && own[k].name[len] == '\0' &&
                (a[len] == '\0' || own[k].takes_value))
                break;
        if (k < n_own) {
            i += own[k].takes_value && a[len] == '\0';
            continue;
        }
        near = util_closest(a, names, n);
        if (near)
            return err_set(e, ERR_USAGE, "%s%sunknown option '%s' \xe2\x80\x94 did you mean '%s'?",
                           c ? c->name : "", c ? ": " : "", a, near);
        return err_set(e, ERR_USAGE, "%s%sunknown option '%s' (see 'paasctl %s%s--help')",
                       c ? c->name : "", c ? ": " : "", a, c ? c->name : "", c ? " " : "");
    }
    return 0;
}

struct global_opts {
    const char *config;
    int help;
    int version;
    int man;                  /* hidden: print paasctl(1) from the table */
    const char *completion;   /* hidden: print the bash/zsh completion */
};

/* One global option at argv[*i] (its value, if any, too: *i moves past
 * it): 1 when it was one, 0 when it is not global (the command's own),
 * -1 on a usage error. */
static int parse_global_opt(struct paas *p, int argc, char **argv, int *i,
                            struct global_opts *g, struct err *e)
{
    const char *a = argv[*i];
    if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0 ||
        strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) {
        if (*i + 1 >= argc)
            return err_set(e, ERR_USAGE, "option %s needs a value", a);
        if (a[1] == 'c' || a[2] == 'c') {
            g->config = argv[++*i];
        } else if (strcmp(argv[++*i], "json") == 0) {
            p->output = OUT_JSON;
        } else if (strcmp(argv[*i], "table") == 0) {
            p->output = OUT_TABLE;
        } else {
            return err_set(e, ERR_USAGE, "-o: unknown output '%s' (table or json)", argv[*i]);
        }
    } else if (a[1] == 'v' && strspn(a + 1, "v") == strlen(a + 1)) {
        p->log.verbosity += (int)strlen(a + 1);
    } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
        p->log.quiet = 1;
    } else if (strcmp(a, "--dry-run") == 0) {
        p->dry_run = 1;
    } else if (strcmp(a, "--yes") == 0 || strcmp(a, "-y") == 0) {
        p->yes = 1;
    } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
        g->help = 1;
    } else if (strcmp(a, "--version") == 0) {
        g->version = 1;
    } else if (strcmp(a, "--man") == 0) {
        g->man = 1;
    } else if (strcmp(a, "--completion") == 0 && *i + 1 < argc) {
        g->completion = argv[++*i];
    } else {
        return 0;
    }
    return 1;
}

/* Takes the global options out of argv wherever they stand, leaving the
 * command and its own arguments in order in args. */
static int parse_globals(struct paas *p, int argc, char **argv,
                         struct global_opts *g, char **args, int *nargs,
                         struct err *e)
{
    int n = 0, after_dashdash = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int rc = 0;
        if (!after_dashdash && strcmp(a, "--") == 0) {
            after_dashdash = 1;
            continue;
        }
        if (!after_dashdash && a[0] == '-' && strcmp(a, "-") != 0)
            rc = parse_global_opt(p, argc, argv, &i, g, e);
        if (rc < 0)
            return -1;
        if (rc == 0)
            args[n++] = argv[i];   /* an argument, or the command's own option */
    }
    args[n] = NULL;
    *nargs = n;
    return 0;
}

/* "up b": the command and its own arguments, for the lock and journal. */
static void command_line(struct paas *p, int argc, char **argv)
{
    size_t n = 0;
    p->command_line[0] = '\0';
    for (int i = 0; i < argc && n + 1 < sizeof(p->command_line); i++) {
        int w = snprintf(p->command_line + n, sizeof(p->command_line) - n, "%s%s",
                         i ? " " : "", argv[i]);
        if (w < 0)
            break;
        n += (size_t)w;
    }
}

/* The context's inputs from outside the arguments and the configuration,
 * read here once (DESIGN.md "No hidden globals"): the tunable knobs and
 * the wall clock. Lower layers get them from struct paas, never from the
 * environment. */
static void setup_context(struct paas *p)
{
    p->knobs.max_attempts = (int)env_long("PAASCTL_MAX_ATTEMPTS", 0, 1, 100);
    p->knobs.retry_base_ms = env_long("PAASCTL_RETRY_BASE_MS", 0, 1, 60000);
    p->knobs.poll_ms = env_long("PAASCTL_POLL_MS", 0, 1, 600000);
    p->knobs.dependency_wait_s = env_long("PAASCTL_DEPENDENCY_WAIT_S", 0, 0, 7200);
    p->knobs.iam_wait_s = env_long("PAASCTL_IAM_WAIT_S", -1, 0, 3600);
    p->knobs.cluster_wait_s = env_long("PAASCTL_CLUSTER_WAIT_S", 0, 1, 86400);
    p->knobs.low_speed_s = env_long("PAASCTL_LOW_SPEED_S", 0, 1, 3600);
    p->knobs.deadline_s = env_long("PAASCTL_DEADLINE_S", 0, 1, 86400);
    p->clock = env_wall_clock_ts;
    /* https://no-color.org: set and not empty means no colour; we also
     * draw progress without escape sequences then, as on a dumb terminal. */
    const char *no_color = env_get("NO_COLOR"), *term = env_get("TERM");
    if ((no_color && *no_color) || (term && strcmp(term, "dumb") == 0))
        p->log.escapes = 0;
}

static int setup_config(struct paas *p, const char *path, struct err *e)
{
    if (!path)
        path = env_get("PAASCTL_CONFIG");
    if (!path)
        path = "paasctl.ini";
    if (config_load(path, &p->cfg, e) < 0)
        return -1;
    p->have_cfg = 1;
    return 0;
}

static int setup_aws(struct paas *p, struct err *e)
{
    struct aws_client_opts o = {
        p->cfg.profile, p->cfg.region, p->cfg.endpoint, &p->log,
        p->knobs.max_attempts, p->knobs.retry_base_ms, env_wall_clock
    };
    if (aws_client_init(&p->aws, &o, e) < 0) {
        aws_client_release(&p->aws);
        return -1;
    }
    p->have_aws = 1;
    http_engine_limits(&p->aws.http, 0, p->knobs.low_speed_s, p->knobs.deadline_s * 1000);
    log_debug(&p->log, 1, "aws region %s, credentials from %s", p->aws.region,
              p->aws.creds.source);
    return 0;
}

/* Ctrl-C and SIGTERM do not kill a mutating run outright: plans see the flag
 * at their next wait and return, so the lock is released and the journal
 * says what happened. A second signal ends the process at once. */
static void catch_signals(struct paas *p)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESETHAND;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    p->interrupted = &interrupted;
    p->aws.http.stop = &interrupted;
}

/* Lock, run, journal, unlock: every mutating command goes through here. */
static int run_mutating(struct paas *p, const struct cmd *c, int argc,
                        char **argv, struct err *e)
{
    struct lock_info mine;
    struct err side;
    int rc;
    if (p->dry_run)
        return c->fn(p, argc, argv, e);
    /* Caught before the lock: a Ctrl-C while the lock PUT is in flight lets
     * that PUT finish and the run then stops, unlocks and journals. */
    catch_signals(p);
    if (c->prepare && c->prepare(p, argc, argv, e) < 0)
        return -1;
    if (lock_acquire(p, &mine, e) < 0)
        return -1;
    rc = c->fn(p, argc, argv, e);
    p->aws.http.stop = NULL;   /* the journal and the unlock must still go out */
    err_init(&side);
    /* SPEC.md "Exit codes": the journal says "interrupted" for a run that
     * stopped on SIGINT/SIGTERM, so nobody takes it for a failed change. */
    if (!p->journaled &&
        journal_append(p, rc == 0 ? "ok" : interrupted ? "interrupted" : "failed",
                       rc == 0 ? "" : e->msg,
                       p->changes, &side) < 0) {
        /* teardown shell deletes the state bucket, journal included. */
        if (rc == 0 && strcmp(side.code, "NoSuchBucket") == 0)
            log_info(&p->log, "the state bucket is gone with the shell: no journal record");
        else
            log_error(&p->log, "could not write the journal record: %s", side.msg);
    }
    if (lock_release(p, &mine, &side) < 0)
        log_error(&p->log, "could not release the lock (run 'paasctl unlock %s'): %s",
                  mine.id, side.msg);
    return rc;
}

/* SPEC.md "Output": in JSON mode an error is the one document on stdout
 * too (exit code unchanged), unless the command already printed its
 * document (a failed smoke's report says itself that it failed). */
static const char *error_kind(int code)
{
    switch (code) {
    case 2: return "usage";
    case 3: return "refused";
    case 4: return "locked";
    case 130: case 143: return "interrupted";
    default: return "failed";
    }
}

static void print_json_error(const struct err *e, int code)
{
    json_t *d;
    if (cmd_json_documents() > 0)
        return;
    d = json_pack("{s:{s:s, s:s, s:s, s:i}}", "error", "message", e->msg,
                  "kind", error_kind(code), "code", e->code, "exit", code);
    if (d)
        cmd_print_json(d);
    json_decref(d);
}

static void report_counters(const struct paas *p)
{
    if (p->have_aws)
        log_debug(&p->log, 1, "aws requests=%ld retries=%ld throttled=%ld connects=%ld "
                  "bytes_out=%ld bytes_in=%ld",
                  p->aws.n.requests, p->aws.n.retries, p->aws.n.throttled,
                  p->aws.n.connects, p->aws.n.bytes_out, p->aws.n.bytes_in);
}

/* `paasctl help [COMMAND]`: the same text as --help. */
static int help(const struct paas *p, int nargs, char **args, struct err *e)
{
    const struct cmd *c;
    if (nargs < 2) {
        if (p->output == OUT_JSON)
            usage_json(NULL);
        else
            usage_global(stdout);
        return 0;
    }
    c = find_command(args[1]);
    if (!c)
        return unknown_command(args[1], e);
    usage_command(p, c);
    return 0;
}

/* The hidden --man and --completion SHELL: what `make` writes to
 * man/paasctl.1 and scripts/completion/ (and a test compares). */
static int generate(const struct global_opts *g, struct err *e)
{
    if (g->man) {
        cmd_gen_man(commands, N_COMMANDS, stdout);
        return 0;
    }
    if (cmd_gen_completion(commands, N_COMMANDS, g->completion, stdout) < 0)
        return err_set(e, ERR_USAGE, "--completion: unknown shell '%s' (bash or zsh)",
                       g->completion);
    return 0;
}

static int run(struct paas *p, int argc, char **argv, struct err *e)
{
    struct global_opts g = { NULL, 0, 0, 0, NULL };
    char **args = calloc((size_t)argc + 1, sizeof(*args));
    const struct cmd *c;
    int nargs = 0, rc = -1;
    if (!args)
        return err_set(e, ERR_FAILED, "out of memory");
    if (parse_globals(p, argc, argv, &g, args, &nargs, e) < 0)
        goto out;
    if (g.version) {
        cmd_print_version(p);
        rc = 0;
        goto out;
    }
    if (g.man || g.completion) {
        rc = generate(&g, e);
        goto out;
    }
    if (nargs == 0 && g.help && p->output == OUT_JSON) {
        usage_json(NULL);
        rc = 0;
        goto out;
    }
    if (nargs == 0) {
        usage_global(g.help ? stdout : stderr);
        rc = g.help ? 0 : err_set(e, ERR_USAGE, "no command given");
        goto out;
    }
    c = find_command(args[0]);
    if (!c) {
        if (args[0][0] == '-') {
            if (check_options(NULL, 0, nargs, args, e) == 0)
                err_set(e, ERR_USAGE, "unknown option '%s'", args[0]);
        }
        else
            unknown_command(args[0], e);
        goto out;
    }
    if (g.help) {
        usage_command(p, c);
        rc = 0;
        goto out;
    }
    if (check_options(c, 1, nargs, args, e) < 0)
        goto out;
    if (!c->fn) {   /* help: no set-up, the table is here */
        rc = help(p, nargs, args, e);
        goto out;
    }
    p->command = c->name;
    command_line(p, nargs, args);
    if ((c->flags & CMD_NEEDS_CONFIG) && setup_config(p, g.config, e) < 0)
        goto out;
    if ((c->flags & CMD_NEEDS_AWS) && setup_aws(p, e) < 0)
        goto out;
    if (c->flags & CMD_CATCHES_SIGNALS)
        catch_signals(p);
    if (c->flags & CMD_MUTATES)
        rc = run_mutating(p, c, nargs, args, e);
    else
        rc = c->fn(p, nargs, args, e);
out:
    free(args);
    return rc;
}

int main(int argc, char **argv)
{
    struct paas p;
    struct err e;
    int code;
    memset(&p, 0, sizeof(p));
    err_init(&e);
    log_init(&p.log, stderr);
    setup_context(&p);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    xmlInitParser();
    if (run(&p, argc, argv, &e) < 0) {
        if (e.kind == ERR_NONE)
            e.kind = ERR_FAILED;
        log_error(&p.log, "%s", e.msg);
    }
    report_counters(&p);
    /* A script reading `-o json` must know when the output was cut short
     * (a full disk, a closed pipe): a failed write is a failed run. */
    if ((fflush(stdout) != 0 || ferror(stdout)) && e.kind == ERR_NONE) {
        err_set(&e, ERR_FAILED, "cannot write to standard output: %s", strerror(errno));
        log_error(&p.log, "%s", e.msg);
    }
    /* SPEC.md "Exit codes": a run that stopped for SIGINT/SIGTERM says so
     * with 128 + the signal (the lock is released, the journal written). */
    code = e.kind != ERR_NONE && interrupted ? 128 + (int)interrupted : err_exit_code(&e);
    if (code != 0 && p.output == OUT_JSON) {
        print_json_error(&e, code);
        fflush(stdout);
    }
    if (p.have_aws)
        aws_client_release(&p.aws);
    json_decref(p.changes);
    xmlCleanupParser();
    curl_global_cleanup();
    return code;
}
