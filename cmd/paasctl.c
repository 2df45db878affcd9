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
      "cutover is finished (or undone) by running it again.\n", NULL },
    { "rollback", cmd_rollback, CMD_NEEDS_CONFIG | CMD_NEEDS_AWS | CMD_MUTATES,
      "undo the last cutover", "rollback",
      "Makes the slot that was live before the last cutover live again, by the\n"
      "same health-gated swap. Refused (exit 3) when the journal has no\n"
      "cutover, when that slot has been torn down or is not healthy.\n", NULL },
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
      "                  NAME-SLOT\n", NULL },
    { "smoke", cmd_smoke, CMD_NEEDS_CONFIG | CMD_NEEDS_AWS,
      "run the smoke suite against a slot", "smoke a|b",
      "Checks, each reported with its reason, failing ones retried until\n"
      "[smoke] timeout: the API answers (/version); every running ingress and\n"
      "minion instance has a Ready Node and no Node is NotReady; kube-system pods\n"
      "are Running or Succeeded; deployments, statefulsets and daemonsets in the\n"
      "smoke namespaces are fully available; the ingress instances are InService\n"
      "on their ELB; every Ingress host answers below 500 through that ELB\n"
      "([smoke] path, connect_to). Exit 0 only if every check passes.\n", NULL },
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
      "  --delete    delete DST keys SRC does not have (delete-cas)\n", NULL },
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
      "                          stores nothing; the same report; no lock\n", NULL },
    { "plan", cmd_plan, CMD_NEEDS_CONFIG | CMD_NEEDS_AWS,
      "what up would do: + create, = exists, ~ update; changes nothing",
      "plan shell|a|b",
      "Reads the world by its paasctl:* tags (and the ELB, bucket and zone\n"
      "names) and prints one line per resource that 'up' would create (+),\n"
      "update (~), destroy (-) or leave as it is (=), then the totals. Sends no\n"
      "mutating request. -o json prints the same as one document.\n", NULL },
    { "up", cmd_up, CMD_NEEDS_CONFIG | CMD_NEEDS_AWS | CMD_MUTATES,
      "converge the shell or a slot to the configuration", "up shell|a|b [--no-wait]",
      "up shell: the state bucket, VPC, subnets, gateways, routes, security\n"
      "groups, bastion, hosted zone and the live and pre-live ELBs.\n"
      "up a|b: the slot's config bucket, auth server, master, ingress nodes and\n"
      "minions spread over the zones, its api/auth DNS records, and its ingress\n"
      "nodes behind the pre-live ELB. Needs the shell (exit 3 without it).\n"
      "Creates only what is missing, converges counts both ways (the newest\n"
      "extras go), and is safe to re-run after a crash or Ctrl-C.\n"
      "Then up a|b waits until the slot's API answers and its nodes are Ready,\n"
      "when the API can be reached from here (else it says how to check).\n"
      "  --dry-run   print the plan, change nothing\n"
      "  --no-wait   do not wait for the cluster\n", cmd_up_prepare },
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
      "  --dry-run   print what would be destroyed, change nothing\n", NULL },
    { "status", cmd_status, CMD_NEEDS_CONFIG | CMD_NEEDS_AWS,
      "the shell, each slot, which slot is live, ELB health, drift",
      "status [--check]",
      "Reads the world by its paasctl:* tags and the ELB names and prints the\n"
      "shell, the live and pre-live ELBs with their health, and each slot's\n"
      "instances by role and state.\n"
      "  --check   exit 1 when tags and ELB membership disagree (drift)\n", NULL },
    { "history", cmd_history, CMD_NEEDS_CONFIG | CMD_NEEDS_AWS,
      "the journal, newest first", "history [-n N]",
      "Lists the journal records (STATE_BUCKET/NAME/journal/), newest first.\n"
      "  -n N      only the newest N records\n", NULL },
    { "unlock", cmd_unlock, CMD_NEEDS_CONFIG | CMD_NEEDS_AWS,
      "remove a stale lock (prints who held it)", "unlock LOCK_ID",
      "Removes STATE_BUCKET/NAME/lock if its id is LOCK_ID (the id printed\n"
      "when a command exits 4), and prints who held it.\n", NULL },
    { "version", cmd_version, 0,
      "version, and the versions of the libraries linked",
      "version", "Prints paasctl's version and the linked library versions.\n", NULL },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage_global(FILE *out)
{
    fprintf(out,
        "usage: paasctl [options] COMMAND [args]\n\n"
        "A/B (blue/green) upgrades of whole Kubernetes clusters on AWS.\n\n"
        "Commands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(out, "  %-11s %s\n", commands[i].name, commands[i].summary);
    fprintf(out,
        "\nOptions (before or after the command):\n"
        "  -c FILE          configuration (default $PAASCTL_CONFIG, else ./paasctl.ini)\n"
        "  -o table|json    output format\n"
        "  -v               log each request (repeat for more); secrets never shown\n"
        "  -q               quiet: errors only\n"
        "  --dry-run        print what a mutating command would do, change nothing\n"
        "  --yes            no confirmation prompt for destructive commands\n"
        "  -h, --help       this help, or a command's help after its name\n"
        "  --version        version and linked libraries\n\n"
        "Exit codes: 0 done, 1 failed, 2 usage/config error, 3 refused by a safety\n"
        "interlock, 4 another run holds the lock, 130/143 interrupted by SIGINT/SIGTERM.\n");
}

static void usage_command(const struct cmd *c)
{
    printf("usage: paasctl [options] %s\n\n%s", c->usage, c->help);
}

static const struct cmd *find_command(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

struct global_opts {
    const char *config;
    int help;
    int version;
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

static void report_counters(const struct paas *p)
{
    if (p->have_aws)
        log_debug(&p->log, 1, "aws requests=%ld retries=%ld throttled=%ld connects=%ld "
                  "bytes_out=%ld bytes_in=%ld",
                  p->aws.n.requests, p->aws.n.retries, p->aws.n.throttled,
                  p->aws.n.connects, p->aws.n.bytes_out, p->aws.n.bytes_in);
}

static int run(struct paas *p, int argc, char **argv, struct err *e)
{
    struct global_opts g = { NULL, 0, 0 };
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
    if (nargs == 0) {
        usage_global(g.help ? stdout : stderr);
        rc = g.help ? 0 : err_set(e, ERR_USAGE, "no command given");
        goto out;
    }
    c = find_command(args[0]);
    if (!c) {
        err_set(e, ERR_USAGE, "unknown command '%s' (see 'paasctl --help')", args[0]);
        goto out;
    }
    if (g.help) {
        usage_command(c);
        rc = 0;
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
    if (p.have_aws)
        aws_client_release(&p.aws);
    json_decref(p.changes);
    xmlCleanupParser();
    curl_global_cleanup();
    return code;
}
