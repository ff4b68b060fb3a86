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

void scaled_bytes(long long bytes, char *buf)
{
    static const char *const units[] = {"KiB", "MiB", "GiB",
                                        "TiB", "PiB", "EiB"};
    /* the magnitude, unsigned: -LLONG_MIN does not fit a long long */
    unsigned long long n = bytes < 0 ? 0ULL - (unsigned long long)bytes
                                     : (unsigned long long)bytes;
    unsigned long long unit = 1024, tenths;
    const char *sign = bytes < 0 ? "-" : "";
    size_t i;

    if (n < 1024) {
        snprintf(buf, SCALED_BYTES_MAX, "%s%llu B", sign, n);
        return;
    }
    for (i = 0;; i++, unit <<= 10) {
        /* n / unit in tenths, rounded half up, without overflow */
        tenths = n / unit * 10 + (n % unit * 10 + unit / 2) / unit;
        if (tenths < 10240 || i == sizeof(units) / sizeof(units[0]) - 1)
            break;
    }
    snprintf(buf, SCALED_BYTES_MAX, "%s%llu.%llu %s", sign, tenths / 10,
             tenths % 10, units[i]);
}
