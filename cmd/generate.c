/* What is generated from the dispatch table: the options a usage line
 * names, paasctl(1) in roff, and the bash and zsh completion scripts.
 * Everything here reads only the table it is given, so a new command (or
 * a new option in a usage line) reaches --help, the man page and the
 * completions at once (SPEC.md "Commands": -h/--help on every command). */
#include "cmd/cmd.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

const struct cmd_opt cmd_global_opts[] = {
    { "-c", 1 }, { "--config", 1 }, { "-o", 1 }, { "--output", 1 }, { "-v", 0 },
    { "-q", 0 }, { "--quiet", 0 }, { "--dry-run", 0 }, { "--yes", 0 }, { "-y", 0 },
    { "-h", 0 }, { "--help", 0 }, { "--version", 0 },
};
const size_t cmd_n_global_opts = sizeof(cmd_global_opts) / sizeof(cmd_global_opts[0]);

/* The help lines of the global options, "FLAGS\tWHAT" (usage, man). */
const char *const cmd_global_help[] = {
    "-c, --config FILE\tconfiguration (default $PAASCTL_CONFIG, else ./paasctl.ini)",
    "-o, --output table|json\toutput format; json: one document on stdout, errors too",
    "-v\tlog each request (repeat for more); secrets never shown",
    "-q, --quiet\tquiet: errors only, no progress",
    "--dry-run\tprint what a mutating command would do, change nothing",
    "-y, --yes\tno confirmation prompt for destructive commands",
    "-h, --help\tthis help, or a command's help after its name",
    "--version\tversion and linked libraries",
    NULL,
};

/* One word of a usage line without its brackets and ellipsis. */
static void usage_word(const char *w, size_t len, char *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < len && n + 1 < cap; i++)
        if (!strchr("[]().", w[i]))
            out[n++] = w[i];
    out[n] = '\0';
}

/* The next word of a usage line at *s (words end at a character of seps),
 * into w without brackets ("" when the word was only brackets); *optional
 * says whether it stands in [...], *depth carries the nesting to the next
 * call. Returns 0 at the end of the line. */
static size_t usage_token(const char **s, const char *seps, int *depth, int *optional,
                          char *w, size_t cap)
{
    size_t len;
    *s += strspn(*s, seps);
    len = strcspn(*s, seps);
    if (!len)
        return 0;
    *optional = *depth > 0 || (*s)[0] == '[';
    for (size_t i = 0; i < len; i++)
        *depth += (*s)[i] == '[' ? 1 : (*s)[i] == ']' ? -1 : 0;
    usage_word(*s, len, w, cap);
    *s += len;
    return len;
}

/* Calls fn for each word of c's usage line after the command's name, with
 * the word that follows it (or ""), brackets stripped; `optional` says
 * whether it stood in [...]. */
typedef void (*usage_word_fn)(void *arg, const char *w, const char *next, int optional);

static void usage_walk(const struct cmd *c, usage_word_fn fn, void *arg)
{
    const char *s = c->usage + strlen(c->name);
    char cur[64] = "", next[64];
    int depth = 0, cur_opt = 0, have = 0, opt;
    while (usage_token(&s, " \t\n|", &depth, &opt, next, sizeof(next))) {
        if (!next[0])
            continue;
        if (have)
            fn(arg, cur, next, cur_opt);
        memcpy(cur, next, sizeof(cur));
        cur_opt = opt;
        have = 1;
    }
    if (have)
        fn(arg, cur, "", cur_opt);
}

struct opt_list {
    struct cmd_opt *opts;
    size_t n, max;
};

static void collect_option(void *arg, const char *w, const char *next, int optional)
{
    struct opt_list *l = arg;
    (void)optional;
    if (w[0] != '-' || l->n >= l->max)
        return;
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->opts[i].name, w) == 0)
            return;
    snprintf(l->opts[l->n].name, sizeof(l->opts[l->n].name), "%s", w);
    /* "--ttl DURATION", "-n NS": an upper-case word after an option is its value. */
    l->opts[l->n].takes_value = isupper((unsigned char)next[0]) != 0;
    l->n++;
}

size_t cmd_usage_options(const struct cmd *c, struct cmd_opt *opts, size_t max)
{
    struct opt_list l = { opts, 0, max };
    usage_walk(c, collect_option, &l);
    return l.n;
}

/* The words a command's positional arguments can be, position by position:
 * "shell|a|b" -> "shell a b"; SRC/DST -> the slots; COMMAND -> commands. */
#define MAX_POS 4
struct positional {
    char words[MAX_POS][160];
    size_t n;
    const struct cmd *table;
    size_t n_table;
};

/* One positional word: a literal "shell|a|b" -> "shell a b", SRC/DST ->
 * the slots, COMMAND -> the commands, other upper-case words -> free text. */
static void positional_word(struct positional *pp, const char *w)
{
    char *dst = pp->words[pp->n++];
    size_t cap = sizeof(pp->words[0]), k = 0;
    dst[0] = '\0';
    if (strcmp(w, "COMMAND") == 0) {
        for (size_t i = 0; i < pp->n_table; i++)
            snprintf(dst + strlen(dst), cap - strlen(dst), "%s%s", i ? " " : "",
                     pp->table[i].name);
    } else if (strcmp(w, "SRC") == 0 || strcmp(w, "DST") == 0) {
        snprintf(dst, cap, "a b");
    } else if (!isupper((unsigned char)w[0])) {
        for (size_t i = 0; w[i] && k + 1 < cap; i++)
            dst[k++] = w[i] == '|' ? ' ' : w[i];
        dst[k] = '\0';
    }
}

/* The positional arguments of c's usage line, position by position: the
 * words outside [...] (and an optional COMMAND), not options. */
static void positional_words(const struct cmd *c, const struct cmd *t, size_t n,
                             struct positional *pp)
{
    const char *s = c->usage + strlen(c->name);
    int depth = 0;
    memset(pp, 0, sizeof(*pp));
    pp->table = t;
    pp->n_table = n;
    int inside;
    char w[64];
    while (pp->n < MAX_POS && usage_token(&s, " \t\n", &depth, &inside, w, sizeof(w))) {
        if (w[0] && w[0] != '-' && (!inside || strcmp(w, "COMMAND") == 0))
            positional_word(pp, w);
    }
}

/* ---- paasctl(1) ---------------------------------------------------------- */

/* Roff-escapes one line: backslashes, hyphens, and a leading dot or quote
 * that roff would read as a request. */
static void roff_line(FILE *out, const char *s, size_t len)
{
    if (len && (s[0] == '.' || s[0] == '\''))
        fputs("\\&", out);
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\\')
            fputs("\\e", out);
        else if (s[i] == '-')
            fputs("\\-", out);
        else
            fputc(s[i], out);
    }
    fputc('\n', out);
}

/* Each line of text as a line of a no-fill block. */
static void roff_block(FILE *out, const char *text)
{
    fputs(".RS\n.nf\n", out);
    while (text && *text) {
        size_t len = strcspn(text, "\n");
        roff_line(out, text, len);
        text += len + (text[len] == '\n');
    }
    fputs(".fi\n.RE\n", out);
}

static void man_options(FILE *out)
{
    for (size_t i = 0; cmd_global_help[i]; i++) {
        const char *tab = strchr(cmd_global_help[i], '\t');
        fputs(".TP\n.B ", out);
        roff_line(out, cmd_global_help[i], (size_t)(tab - cmd_global_help[i]));
        roff_line(out, tab + 1, strlen(tab + 1));
    }
}

static void man_commands(const struct cmd *t, size_t n, FILE *out)
{
    for (size_t i = 0; i < n; i++) {
        fputs(".SS ", out);
        roff_line(out, t[i].name, strlen(t[i].name));
        roff_line(out, t[i].summary, strlen(t[i].summary));
        fputs(".PP\n.B paasctl\n", out);
        roff_line(out, t[i].usage, strcspn(t[i].usage, "\n"));
        if (strchr(t[i].usage, '\n'))
            roff_block(out, strchr(t[i].usage, '\n') + 1);
        fputs(".PP\n", out);
        roff_block(out, t[i].help);
        if (t[i].example) {
            fputs(".PP\nExample:\n", out);
            roff_block(out, t[i].example);
        }
    }
}

void cmd_gen_man(const struct cmd *t, size_t n, FILE *out)
{
    fputs(".\\\" Generated by 'paasctl --man' from the dispatch table; do not edit.\n"
          ".TH PAASCTL 1 \"\" \"paasctl\" \"User Commands\"\n"
          ".SH NAME\npaasctl \\- A/B (blue/green) upgrades of whole Kubernetes clusters on AWS\n"
          ".SH SYNOPSIS\n.B paasctl\n[\\fIoptions\\fR] \\fICOMMAND\\fR [\\fIargs\\fR]\n"
          ".br\n.B paasctl help\n[\\fICOMMAND\\fR]\n"
          ".SH DESCRIPTION\nA long\\-lived shell (VPC, ELBs live and pre\\-live, state bucket)\n"
          "hosts two cluster slots, a and b. An upgrade brings up the idle slot,\n"
          "smoke\\-tests it, copies the Kubernetes objects across and cuts traffic\n"
          "over by swapping ELB membership; the old slot stays for a rollback until\n"
          "it is torn down.\n"
          ".SH OPTIONS\nGlobal options go before or after the command.\n", out);
    man_options(out);
    fputs(".SH COMMANDS\n", out);
    man_commands(t, n, out);
    fputs(".SH OUTPUT\nWith \\fB\\-o json\\fR every command prints one JSON document on\n"
          "stdout (schemas in docs/schema/); an error is the document\n"
          "{\"error\": {\"message\", \"code\", \"exit\"}}, with the same exit status.\n"
          "Logs and progress go to stderr: on a terminal one updating line, else\n"
          "plain lines; none with \\fB\\-q\\fR; no escape sequences with NO_COLOR set.\n"
          ".SH EXIT STATUS\n.TP\n0\ndone (or nothing to do)\n.TP\n1\nthe operation failed\n"
          ".TP\n2\nusage or configuration error\n.TP\n3\nrefused by a safety interlock\n"
          ".TP\n4\nanother run holds the lock\n.TP\n130, 143\ninterrupted by SIGINT, SIGTERM\n"
          ".SH ENVIRONMENT\n.TP\n.B PAASCTL_CONFIG\nthe configuration file when \\fB\\-c\\fR is not given\n"
          ".TP\n.B NO_COLOR\nwhen set, no colour and no terminal escape sequences\n"
          ".SH FILES\n.TP\n.I ./paasctl.ini\nthe default configuration\n", out);
}

/* ---- completion ---------------------------------------------------------- */

static void words_of_options(const struct cmd_opt *o, size_t n, int want_value,
                             char *buf, size_t cap)
{
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++)
        if (want_value < 0 || o[i].takes_value == want_value)
            snprintf(buf + strlen(buf), cap - strlen(buf), "%s%s", buf[0] ? " " : "", o[i].name);
}

/* One command's data as shell assignments: opts, vopts, pos0..pos3. */
static void completion_case(const struct cmd *c, const struct cmd *t, size_t n,
                            const char *indent, FILE *out)
{
    struct cmd_opt o[CMD_MAX_OPTS];
    struct positional pp;
    char all[512], vals[512];
    size_t no = cmd_usage_options(c, o, CMD_MAX_OPTS);
    words_of_options(o, no, -1, all, sizeof(all));
    words_of_options(o, no, 1, vals, sizeof(vals));
    positional_words(c, t, n, &pp);
    fprintf(out, "%s%s) opts='%s' vopts='%s'", indent, c->name, all, vals);
    for (size_t k = 0; k < pp.n; k++)
        fprintf(out, " pos%zu='%s'", k, pp.words[k]);
    fputs(" ;;\n", out);
}

static void completion_data(const struct cmd *t, size_t n, const char *indent, FILE *out)
{
    char g[512], gv[512];
    fprintf(out, "%scommands='", indent);
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%s%s", i ? " " : "", t[i].name);
    words_of_options(cmd_global_opts, cmd_n_global_opts, -1, g, sizeof(g));
    words_of_options(cmd_global_opts, cmd_n_global_opts, 1, gv, sizeof(gv));
    fprintf(out, "'\n%sglobals='%s'\n%sgvopts='%s'\n", indent, g, indent, gv);
}

/* The shell-independent part: which command, which positional index, and
 * the candidate words in $cands (both shells run it). */
static const char completion_head[] =
    "    local cmd='' npos=0 skip=0 w i opts='' vopts='' pos0='' pos1='' pos2='' pos3=''\n"
    "    for ((i = first; i < last; i++)); do\n"
    "        w=${words_[i]}\n"
    "        if ((skip)); then skip=0; continue; fi\n"
    "        case \" $gvopts $vopts \" in *\" $w \"*) skip=1; continue ;; esac\n"
    "        case $w in -*) continue ;; esac\n"
    "        if [[ -z $cmd ]]; then\n"
    "            cmd=$w\n"
    "            case $cmd in\n";
static const char completion_tail[] =
    "            esac\n"
    "        else\n"
    "            npos=$((npos + 1))\n"
    "        fi\n"
    "    done\n"
    "    cands=''\n"
    "    case $prev in\n"
    "        -o|--output) cands='table json'; return 0 ;;\n"
    "        -c|--config) cands='@files'; return 0 ;;\n"
    "    esac\n"
    "    case \" $vopts \" in *\" $prev \"*) return 0 ;; esac\n"
    "    if [[ $cur == -* ]]; then cands=\"$opts $globals\"; return 0; fi\n"
    "    if [[ -z $cmd ]]; then cands=$commands; return 0; fi\n"
    "    case $npos in 0) cands=$pos0 ;; 1) cands=$pos1 ;; 2) cands=$pos2 ;; 3) cands=$pos3 ;; esac\n";

static void completion_cases(const struct cmd *t, size_t n, FILE *out)
{
    fputs(completion_head, out);
    for (size_t i = 0; i < n; i++)
        completion_case(&t[i], t, n, "                ", out);
    fputs(completion_tail, out);
}

static void completion_bash(const struct cmd *t, size_t n, FILE *out)
{
    fputs("# bash completion for paasctl. Generated by 'paasctl --completion bash'\n"
          "# from the dispatch table; do not edit.\n"
          "_paasctl_candidates() {\n", out);
    completion_data(t, n, "    local ", out);
    completion_cases(t, n, out);
    fputs("}\n\n"
          "_paasctl() {\n"
          "    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} cands\n"
          "    local -a words_=(\"${COMP_WORDS[@]}\")\n"
          "    local first=1 last=$COMP_CWORD\n"
          "    _paasctl_candidates\n"
          "    if [[ $cands == @files ]]; then\n"
          "        mapfile -t COMPREPLY < <(compgen -f -- \"$cur\")\n"
          "    else\n"
          "        mapfile -t COMPREPLY < <(compgen -W \"$cands\" -- \"$cur\")\n"
          "    fi\n"
          "}\n"
          "complete -F _paasctl paasctl\n", out);
}

static void completion_zsh(const struct cmd *t, size_t n, FILE *out)
{
    fputs("#compdef paasctl\n"
          "# zsh completion for paasctl. Generated by 'paasctl --completion zsh'\n"
          "# from the dispatch table; do not edit.\n"
          "_paasctl_candidates() {\n", out);
    completion_data(t, n, "    local ", out);
    completion_cases(t, n, out);
    fputs("}\n\n"
          "_paasctl() {\n"
          "    local cur=${words[CURRENT]} prev=${words[CURRENT-1]} cands\n"
          "    local -a words_=(\"${words[@]}\")\n"
          "    local first=2 last=$CURRENT\n"
          "    _paasctl_candidates\n"
          "    if [[ $cands == @files ]]; then _files; else compadd -- ${=cands}; fi\n"
          "}\n\n"
          "_paasctl \"$@\"\n", out);
}

int cmd_gen_completion(const struct cmd *t, size_t n, const char *shell, FILE *out)
{
    if (strcmp(shell, "bash") == 0)
        completion_bash(t, n, out);
    else if (strcmp(shell, "zsh") == 0)
        completion_zsh(t, n, out);
    else
        return -1;
    return 0;
}
