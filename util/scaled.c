#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/scaled.h"

int scaled_parse(const char *s, const struct scaled_unit *units,
                 unsigned long long max, unsigned long long *out)
{
    const struct scaled_unit *u;
    unsigned long long v, mult = 1;
    char *end;

    /* strtoull() would take a sign and leading space */
    if (!isdigit((unsigned char)s[0]))
        return -1;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno)
        return -1;
    if (*end) {
        for (u = units; u->suffixes && !strchr(u->suffixes, *end); u++)
            ;
        if (!u->suffixes || end[1])
            return -1;
        mult = u->mult;
    }
    if (v > max / mult)
        return -1;
    *out = v * mult;
    return 0;
}

void scaled_format(unsigned long long v, const struct scaled_unit *units,
                   char *buf, size_t len)
{
    const struct scaled_unit *u;

    for (u = units; v && u->suffixes; u++) {
        if (v % u->mult == 0) {
            snprintf(buf, len, "%llu%c", v / u->mult, u->suffixes[0]);
            return;
        }
    }
    snprintf(buf, len, "%llu", v);
}
