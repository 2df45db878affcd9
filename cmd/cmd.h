/* The commands (one file each) and what they share: the dispatch table
 * entry, and output helpers. Only cmd/ prints to stdout or picks an exit
 * code (DESIGN.md). */
#ifndef CMD_CMD_H
#define CMD_CMD_H

#include <jansson.h>
#include <stdio.h>
#include "plans/paas.h"

enum cmd_flags {
    CMD_NEEDS_CONFIG = 1 << 0,   /* load paasctl.ini first */
    CMD_NEEDS_AWS = 1 << 1,      /* resolve credentials, region, endpoints */
    CMD_MUTATES = 1 << 2,        /* takes the lock, writes the journal;
                                  * with --dry-run neither */
    CMD_CATCHES_SIGNALS = 1 << 3,/* SIGINT/SIGTERM set p->interrupted and the
                                  * command ends itself (consul-sync) */
};

/* Destructive commands ask the operator to type `word` (the slot's name) on
 * a terminal; without a terminal they need --yes. Refusal is ERR_REFUSED. */
int cmd_confirm(struct paas *p, const char *what, const char *word,
                struct err *e);

/* A command gets its own arguments (argv[0] is its name) with the global
 * options already removed. Returns 0, or -1 with e filled. */
typedef int (*cmd_fn)(struct paas *p, int argc, char **argv, struct err *e);

struct cmd {
    const char *name;
    cmd_fn fn;
    unsigned flags;
    const char *summary;        /* one line, for `paasctl --help` */
    const char *usage;          /* "status [--check]" */
    const char *help;           /* the command's own --help text */
    cmd_fn prepare;             /* a mutating command's step before the lock
                                 * (up: the state bucket); NULL = none */
    const char *example;        /* command lines for --help and the man page,
                                 * one a line; NULL = none */
};

/* What is generated from the dispatch table (cmd/generate.c), so the man
 * page and the completion scripts cannot drift from it: `paasctl --man`
 * prints paasctl(1) in roff, `paasctl --completion bash|zsh` the script. */
void cmd_gen_man(const struct cmd *t, size_t n, FILE *out);
int cmd_gen_completion(const struct cmd *t, size_t n, const char *shell, FILE *out);
/* The options a command's usage line names ("--ttl", "-n"), each with
 * whether it takes a value ("--ttl DURATION"); how many. */
#define CMD_MAX_OPTS 24
struct cmd_opt {
    char name[32];
    int takes_value;
};
size_t cmd_usage_options(const struct cmd *c, struct cmd_opt *opts, size_t max);
/* The global options (SPEC.md "Commands"), for help, man and completion. */
extern const struct cmd_opt cmd_global_opts[];
extern const char *const cmd_global_help[];
extern const size_t cmd_n_global_opts;

/* How many JSON documents this process printed on stdout, so an error in
 * JSON mode is printed only when it is the one document (SPEC.md "Output"). */
int cmd_json_documents(void);

/* Hands the plan's journal "changes" (SPEC.md "Lock and journal") to the
 * dispatcher, which writes them with the record; takes the reference. Only
 * cmd/ calls it, with what the plan returned in its result. */
void cmd_journal_changes(struct paas *p, json_t *changes);

int cmd_version(struct paas *p, int argc, char **argv, struct err *e);
int cmd_status(struct paas *p, int argc, char **argv, struct err *e);
int cmd_unlock(struct paas *p, int argc, char **argv, struct err *e);
int cmd_cutover(struct paas *p, int argc, char **argv, struct err *e);
int cmd_rollback(struct paas *p, int argc, char **argv, struct err *e);
int cmd_smoke(struct paas *p, int argc, char **argv, struct err *e);
int cmd_consul_sync(struct paas *p, int argc, char **argv, struct err *e);
int cmd_kubeconfig(struct paas *p, int argc, char **argv, struct err *e);
/* migrate SRC DST (SPEC.md "Migration"). */
int cmd_migrate(struct paas *p, int argc, char **argv, struct err *e);

struct swap_result;
/* The outcome of a cutover or rollback, as a sentence or JSON. */
void cmd_print_swap(struct paas *p, const struct swap_result *r);
/* upgrade [--to a|b] [--from-step N] (SPEC.md "Upgrade"). */
int cmd_upgrade(struct paas *p, int argc, char **argv, struct err *e);
int cmd_history(struct paas *p, int argc, char **argv, struct err *e);

/* The lifecycle (SPEC.md "Commands"): plan/up/teardown shell|a|b. */
int cmd_plan(struct paas *p, int argc, char **argv, struct err *e);
int cmd_up(struct paas *p, int argc, char **argv, struct err *e);
int cmd_up_prepare(struct paas *p, int argc, char **argv, struct err *e);
int cmd_teardown(struct paas *p, int argc, char **argv, struct err *e);
/* Checks that argv[1] is "shell" (when allowed), "a" or "b". */
int cmd_lifecycle_target(int argc, char **argv, int allow_shell, struct err *e);
struct diff;
/* A plan/up/teardown diff: a table of `+ create`/`= exists`/`~ update`/
 * `- destroy` lines and the totals, or its JSON document with -o json. */
void cmd_print_diff(struct paas *p, const struct diff *d, const char *verb);

/* Prints the library versions (also for --version). */
void cmd_print_version(struct paas *p);

/* Prints a JSON document to stdout (one line per document, indented). */
void cmd_print_json(json_t *doc);

/* A text table: rows of cells, printed with aligned columns. */
#define TABLE_MAX_COLS 8
struct table {
    size_t ncols, nrows, cap;
    char *(*rows)[TABLE_MAX_COLS];   /* owned strings */
};
void table_init(struct table *t, size_t ncols);
void table_add(struct table *t, ...);      /* ncols const char * cells */
void table_print(const struct table *t);   /* aligned, two spaces apart */
void table_release(struct table *t);

#endif
