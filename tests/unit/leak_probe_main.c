/* A program that leaks on purpose and then fails the way a refused run
 * does (exit 1), built like every test program with ASan. test_cli.py runs
 * it to prove that tests/run's sanitizer settings make a leak exit with a
 * code of its own: with ASan's default (1) this leak would have looked like
 * the expected failure. */
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    char *lost = malloc(64);
    if (!lost)
        return 2;
    snprintf(lost, 64, "leaked on purpose");
    lost = NULL;
    return 1;
}
