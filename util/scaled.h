#ifndef BERTH_UTIL_SCALED_H
#define BERTH_UTIL_SCALED_H

#include <stddef.h>

/*
 * Numbers with a unit suffix, as config files write sizes ("64K") and
 * durations ("90d"): decimal digits, then at most one suffix of a table
 * of units. Each layer keeps its own tables (config/conf.c: sizes and
 * durations; retention/: durations with weeks); the parsing, the
 * overflow checks and the formatting are here, once.
 */

/*
 * One unit: the letters that name it (the first is the one written) and
 * what it multiplies by. A table is ordered largest first and ends with
 * {NULL, 0}; formatting writes a value in the first unit that divides it.
 */
struct scaled_unit {
    const char *suffixes;
    unsigned long long mult;
};

/*
 * Parse s, digits and at most one suffix of units (none: times 1; an
 * empty table takes digits alone), into *out if the value is at most
 * max. Return 0, or -1 if s is malformed (empty, a sign, space, another
 * suffix, anything after the suffix) or the value is over max; *out is
 * written only on success.
 */
int scaled_parse(const char *s, const struct scaled_unit *units,
                 unsigned long long max, unsigned long long *out);

/*
 * Write v into buf (len bytes, always terminated) in the largest unit of
 * units that divides it, with that unit's first suffix ("1536M", "36h");
 * as plain digits if none does, or if v is 0. scaled_parse() of the text
 * gives back v.
 */
void scaled_format(unsigned long long v, const struct scaled_unit *units,
                   char *buf, size_t len);

/*
 * bytes in powers of 1024 with one decimal, rounded half up, for people:
 * "0 B", "1023 B", "1.0 KiB", "1023.9 KiB", "1.0 MiB", on to EiB. A value
 * that would round to 1024.0 of a unit is written in the next ("1.0 MiB",
 * not "1024.0 KiB"). buf has SCALED_BYTES_MAX bytes.
 */
#define SCALED_BYTES_MAX 32
void scaled_bytes(long long bytes, char *buf);

#endif
