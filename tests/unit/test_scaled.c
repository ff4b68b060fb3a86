/*
 * tests/unit/test_scaled.c: util/scaled.h, one row per number. The
 * tables of units are the test's own; config's sizes and durations are
 * tested through config_parse_size() and config_parse_duration() in
 * test_config.
 */
#include "config.h"

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "util/scaled.h"

static const struct scaled_unit bytes[] = {
    {"Gg", 1ULL << 30},
    {"Kk", 1ULL << 10},
    {NULL, 0},
};

static const struct scaled_unit times[] = {
    {"w", 604800}, {"d", 86400}, {"h", 3600}, {"m", 60}, {"s", 1}, {NULL, 0},
};

static const struct scaled_unit none[] = {{NULL, 0}};

static const struct {
    const char *in;
    const struct scaled_unit *units;
    unsigned long long max;
    int rc;
    unsigned long long want;
} parse_cases[] = {
    {"0", bytes, ULLONG_MAX, 0, 0},
    {"7", bytes, ULLONG_MAX, 0, 7},
    {"007", bytes, ULLONG_MAX, 0, 7},
    {"3K", bytes, ULLONG_MAX, 0, 3072},
    {"3k", bytes, ULLONG_MAX, 0, 3072},
    {"2g", bytes, ULLONG_MAX, 0, 2ULL << 30},
    {"0G", bytes, ULLONG_MAX, 0, 0},
    {"2w", times, ULLONG_MAX, 0, 1209600},
    {"90d", times, ULLONG_MAX, 0, 7776000},
    {"1s", times, ULLONG_MAX, 0, 1},
    {"12", none, ULLONG_MAX, 0, 12},
    {"18446744073709551615", none, ULLONG_MAX, 0, ULLONG_MAX},
    /* max is inclusive, for plain digits and for a suffix */
    {"100", none, 100, 0, 100},
    {"101", none, 100, -1, 0},
    {"2K", bytes, 2048, 0, 2048},
    {"3K", bytes, 3071, -1, 0},
    {"1w", times, 604800, 0, 604800},
    {"1w", times, 604799, -1, 0},
    {"15250284452471w", times, LLONG_MAX, 0, 15250284452471ULL * 604800},
    {"15250284452472w", times, LLONG_MAX, -1, 0},
    /* too big for an unsigned long long, before or after the unit */
    {"18446744073709551616", none, ULLONG_MAX, -1, 0},
    {"17179869184G", bytes, ULLONG_MAX, -1, 0},
    {"99999999999999999999999", bytes, ULLONG_MAX, -1, 0},
    /* malformed */
    {"", bytes, ULLONG_MAX, -1, 0},
    {"K", bytes, ULLONG_MAX, -1, 0},
    {"1K", none, ULLONG_MAX, -1, 0},
    {"1M", bytes, ULLONG_MAX, -1, 0},
    {"1W", times, ULLONG_MAX, -1, 0},
    {"1KK", bytes, ULLONG_MAX, -1, 0},
    {"1Kb", bytes, ULLONG_MAX, -1, 0},
    {"1dh", times, ULLONG_MAX, -1, 0},
    {"1 K", bytes, ULLONG_MAX, -1, 0},
    {" 1", bytes, ULLONG_MAX, -1, 0},
    {"1 ", bytes, ULLONG_MAX, -1, 0},
    {"-1", bytes, ULLONG_MAX, -1, 0},
    {"+1", bytes, ULLONG_MAX, -1, 0},
    {"1.5K", bytes, ULLONG_MAX, -1, 0},
    {"0x10", bytes, ULLONG_MAX, -1, 0},
    {"1d1h", times, ULLONG_MAX, -1, 0},
};

static void test_parse(void **state)
{
    size_t i;

    for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
        unsigned long long out = 12345;
        int rc = scaled_parse(parse_cases[i].in, parse_cases[i].units,
                              parse_cases[i].max, &out);

        if (rc != parse_cases[i].rc)
            fail_msg("case %zu '%s': got %d, want %d", i, parse_cases[i].in, rc,
                     parse_cases[i].rc);
        if (rc == 0 && out != parse_cases[i].want)
            fail_msg("case %zu '%s': got %llu, want %llu", i, parse_cases[i].in,
                     out, parse_cases[i].want);
        if (rc != 0 && out != 12345)
            fail_msg("case %zu '%s': *out written on failure", i,
                     parse_cases[i].in);
    }
}

static const struct {
    unsigned long long v;
    const struct scaled_unit *units;
    const char *want;
} format_cases[] = {
    {0, bytes, "0"},
    {1, bytes, "1"},
    {1023, bytes, "1023"},
    {1024, bytes, "1K"},
    {1025, bytes, "1025"},
    {1536ULL << 20, bytes, "1572864K"}, /* no M in this table */
    {3ULL << 30, bytes, "3G"},
    {604800, times, "1w"},
    {7776000, times, "90d"},
    {129600, times, "36h"},
    {61, times, "61s"},
    {12, none, "12"},
    {ULLONG_MAX, none, "18446744073709551615"},
};

static void test_format(void **state)
{
    unsigned long long back;
    char buf[32];
    size_t i;

    for (i = 0; i < sizeof(format_cases) / sizeof(format_cases[0]); i++) {
        scaled_format(format_cases[i].v, format_cases[i].units, buf,
                      sizeof(buf));
        if (strcmp(buf, format_cases[i].want))
            fail_msg("case %zu %llu: got '%s', want '%s'", i, format_cases[i].v,
                     buf, format_cases[i].want);
        /* and the text parses back to the number */
        assert_int_equal(
            scaled_parse(buf, format_cases[i].units, ULLONG_MAX, &back), 0);
        assert_true(back == format_cases[i].v);
    }
    /* a short buffer is truncated and terminated */
    scaled_format(7776000, times, buf, 3);
    assert_string_equal(buf, "90");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_format),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
