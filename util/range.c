#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/range.h"

/* Parse a run of digits at *s; advance *s. Return -1 if none or too big. */
static long long number(const char **s)
{
    long long v = 0;
    const char *p = *s;

    if (*p < '0' || *p > '9')
        return -1;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (v > (0x7fffffffffffffffLL - 9) / 10)
            return -1;
        v = v * 10 + (*p - '0');
    }
    *s = p;
    return v;
}

int range_parse(const char *hdr, long long size, long long *start,
                long long *len)
{
    long long a = -1, b = -1;
    const char *p;

    if (!hdr || strncmp(hdr, "bytes=", 6))
        return RANGE_NONE;
    p = hdr + 6;
    while (*p == ' ')
        p++;
    if (strchr(p, ','))
        return RANGE_NONE; /* multipart/byteranges: serve it all */
    if (*p == '-') {       /* the last n bytes */
        p++;
        b = number(&p);
        if (b < 0 || *p)
            return RANGE_NONE;
        if (b == 0 || size == 0)
            return RANGE_UNSATISFIABLE;
        if (b > size)
            b = size;
        *start = size - b;
        *len = b;
        return RANGE_OK;
    }
    a = number(&p);
    if (a < 0 || *p != '-')
        return RANGE_NONE;
    p++;
    if (*p) {
        b = number(&p);
        if (b < 0 || *p || b < a)
            return RANGE_NONE;
    }
    if (a >= size)
        return RANGE_UNSATISFIABLE;
    if (b < 0 || b >= size)
        b = size - 1;
    *start = a;
    *len = b - a + 1;
    return RANGE_OK;
}

int content_range_parse(const char *hdr, long long *first, long long *last)
{
    const char *p = hdr;
    long long a, b;

    if (!strncmp(p, "bytes=", 6) || !strncmp(p, "bytes ", 6))
        p += 6;
    a = number(&p);
    if (a < 0 || *p != '-')
        return -1;
    p++;
    b = number(&p);
    /* "a-b/total" from RFC-style clients: the total is not needed */
    if (b < 0 || (*p && *p != '/') || b < a)
        return -1;
    *first = a;
    *last = b;
    return 0;
}
