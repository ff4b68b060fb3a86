#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "util/lines.h"

int lines_read(const char *path, const char *what, lines_fn *fn, void *ctx,
               char *err, size_t errlen)
{
    char line[LINES_LEN], why[512], *s, *hash;
    int lineno = 0, n = 0, rc = -1;
    FILE *f;

    f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "cannot open %s file '%s': %s", what, path,
                 strerror(errno));
        return -1;
    }
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        if (!strchr(line, '\n') && !feof(f)) {
            snprintf(err, errlen, "%s:%d: line too long", path, lineno);
            goto out;
        }
        hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        for (s = line; isspace((unsigned char)*s); s++)
            ;
        if (!*s)
            continue;
        if (n++ == LINES_MAX) {
            snprintf(err, errlen, "%s:%d: more than %d lines of rules", path,
                     lineno, LINES_MAX);
            goto out;
        }
        why[0] = '\0';
        if (fn(ctx, s, why, sizeof(why))) {
            snprintf(err, errlen, "%s:%d: %s", path, lineno, why);
            goto out;
        }
    }
    if (ferror(f)) {
        snprintf(err, errlen, "cannot read %s file '%s': %s", what, path,
                 strerror(errno));
        goto out;
    }
    rc = 0;
out:
    fclose(f);
    return rc;
}
