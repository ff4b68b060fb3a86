/* tests/unit/cases.h: directories of test cases (tests/unit/data/) */
#ifndef BERTH_TESTS_UNIT_CASES_H
#define BERTH_TESTS_UNIT_CASES_H

#include <stddef.h>

/*
 * A data-driven suite is a directory <root>/<kind>/<case>/ of files, one
 * directory per case (jansson's test/suites): adding a case needs no C.
 */

/*
 * The content of file name in dir, NUL-terminated, in memory the caller
 * free()s; its length in *len (if not NULL). NULL if there is no such
 * file.
 */
char *case_file(const char *dir, const char *name, size_t *len);

/*
 * Call run(ctx, dir, name) for every case in <root>/<kind>, dir being the
 * case's directory and name its own; fail the test unless there are at
 * least min cases, so that cases missing from a tree are noticed.
 */
void cases_run(const char *root, const char *kind, int min,
               void (*run)(void *ctx, const char *dir, const char *name),
               void *ctx);

#endif
