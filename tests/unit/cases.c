/* tests/unit/cases.c: see cases.h */
#include "config.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "tests/unit/cases.h"

char *case_file(const char *dir, const char *name, size_t *len)
{
    char path[1024];
    char *buf;
    long n;
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "rb");
    if (!f)
        return NULL;
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    assert_true(n >= 0);
    assert_int_equal(fseek(f, 0, SEEK_SET), 0);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    if (len)
        *len = (size_t)n;
    return buf;
}

void cases_run(const char *root, const char *kind, int min,
               void (*run)(void *ctx, const char *dir, const char *name),
               void *ctx)
{
    char dir[1024], cdir[1536];
    struct dirent *de;
    DIR *d;
    int n = 0;

    snprintf(dir, sizeof(dir), "%s/%s", root, kind);
    d = opendir(dir);
    if (!d)
        fail_msg("no cases in '%s'", dir);
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        snprintf(cdir, sizeof(cdir), "%s/%s", dir, de->d_name);
        run(ctx, cdir, de->d_name);
        n++;
    }
    closedir(d);
    if (n < min)
        fail_msg("'%s' has %d cases, fewer than %d", dir, n, min);
}
