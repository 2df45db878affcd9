/* Typed confirmation for destructive commands (SPEC.md: without a terminal
 * and without --yes they refuse). Typing the slot's name, not just "y",
 * makes tearing down the wrong slot by habit unlikely. */
#include "cmd/cmd.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

int cmd_confirm(struct paas *p, const char *what, const char *word,
                struct err *e)
{
    char line[256];
    if (p->yes || p->dry_run)
        return 0;
    if (!isatty(STDIN_FILENO))
        return err_set(e, ERR_REFUSED, "refusing to %s without a terminal: "
                       "pass --yes to confirm", what);
    fprintf(stderr, "This will %s. Type '%s' to confirm: ", what, word);
    fflush(stderr);
    if (!fgets(line, sizeof(line), stdin))
        return err_set(e, ERR_REFUSED, "not confirmed; nothing changed");
    line[strcspn(line, "\r\n")] = '\0';
    if (strcmp(line, word) != 0)
        return err_set(e, ERR_REFUSED, "typed '%s', not '%s'; nothing changed", line, word);
    return 0;
}
