/* tests/unit/test_range.c: util/range.h (Range and Content-Range) */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "util/range.h"

#define NONE  RANGE_NONE
#define OK    RANGE_OK
#define UNSAT RANGE_UNSATISFIABLE

static const struct {
    const char *hdr; /* NULL: no Range header */
    long long size;
    int rc;
    long long start, len; /* when rc == RANGE_OK */
} range_cases[] = {
    {NULL, 100, NONE, 0, 0},
    {"bytes=0-9", 100, OK, 0, 10},
    {"bytes=10-19", 100, OK, 10, 10},
    {"bytes=99-99", 100, OK, 99, 1},
    {"bytes=0-0", 1, OK, 0, 1},
    {"bytes=0-99", 100, OK, 0, 100},
    {"bytes=5-", 100, OK, 5, 95},
    {"bytes=0-", 100, OK, 0, 100},
    {"bytes=99-", 100, OK, 99, 1},
    {"bytes=-3", 100, OK, 97, 3},
    {"bytes=-100", 100, OK, 0, 100},
    {"bytes=-1000", 100, OK, 0, 100}, /* suffix longer than the blob */
    {"bytes= 0-9", 100, OK, 0, 10},
    {"bytes=-0", 100, UNSAT, 0, 0},
    /* start at or beyond the end */
    {"bytes=100-", 100, UNSAT, 0, 0},
    {"bytes=100-200", 100, UNSAT, 0, 0},
    {"bytes=1000-2000", 100, UNSAT, 0, 0},
    /* end beyond the end is clamped */
    {"bytes=90-1000", 100, OK, 90, 10},
    {"bytes=0-9000000000000000000", 100, OK, 0, 100},
    /* last before first: syntactically invalid, ignored */
    {"bytes=9-0", 100, NONE, 0, 0},
    {"bytes=5-4", 100, NONE, 0, 0},
    /* several ranges: the whole blob */
    {"bytes=0-1,5-6", 100, NONE, 0, 0},
    {"bytes=0-1, 5-6", 100, NONE, 0, 0},
    {"bytes=-1,-2", 100, NONE, 0, 0},
    /* garbage */
    {"", 100, NONE, 0, 0},
    {"bytes=", 100, NONE, 0, 0},
    {"bytes=-", 100, NONE, 0, 0},
    {"bytes=a-b", 100, NONE, 0, 0},
    {"bytes=0-9x", 100, NONE, 0, 0},
    {"bytes=0-9 ", 100, NONE, 0, 0},
    {"bytes=0", 100, NONE, 0, 0},
    {"bytes=--1", 100, NONE, 0, 0},
    {"bytes=-3x", 100, NONE, 0, 0},
    {"bytes=+0-9", 100, NONE, 0, 0},
    {"bytes 0-9", 100, NONE, 0, 0},
    {"Bytes=0-9", 100, NONE, 0, 0},
    {"0-9", 100, NONE, 0, 0},
    {"items=0-1", 100, NONE, 0, 0},
    /* numbers too big for a long long */
    {"bytes=99999999999999999999-", 100, NONE, 0, 0},
    {"bytes=0-99999999999999999999", 100, NONE, 0, 0},
    {"bytes=-99999999999999999999", 100, NONE, 0, 0},
    /* a blob of size 0 satisfies no range */
    {"bytes=0-", 0, UNSAT, 0, 0},
    {"bytes=0-0", 0, UNSAT, 0, 0},
    {"bytes=-1", 0, UNSAT, 0, 0},
    {NULL, 0, NONE, 0, 0},
    {"bytes=0-1,2-3", 0, NONE, 0, 0},
};

static void test_range_table(void **state)
{
    size_t i;

    for (i = 0; i < sizeof(range_cases) / sizeof(range_cases[0]); i++) {
        long long start = -7, len = -7;
        int rc =
            range_parse(range_cases[i].hdr, range_cases[i].size, &start, &len);

        if (rc != range_cases[i].rc)
            fail_msg("range case %zu '%s' size %lld: got %d, want %d", i,
                     range_cases[i].hdr ? range_cases[i].hdr : "(null)",
                     range_cases[i].size, rc, range_cases[i].rc);
        if (rc == RANGE_OK) {
            if (start != range_cases[i].start || len != range_cases[i].len)
                fail_msg("range case %zu '%s': got %lld+%lld, want "
                         "%lld+%lld",
                         i, range_cases[i].hdr, start, len,
                         range_cases[i].start, range_cases[i].len);
        } else {
            /* outputs untouched when nothing is satisfiable */
            assert_int_equal(start, -7);
            assert_int_equal(len, -7);
        }
    }
}

/* Every OK answer lies inside the blob. */
static void test_range_inside(void **state)
{
    static const char *const hdrs[] = {"bytes=0-",    "bytes=3-", "bytes=0-2",
                                       "bytes=2-100", "bytes=-1", "bytes=-2",
                                       "bytes=-1000", "bytes=4-4"};
    long long size;
    size_t i;

    for (size = 0; size < 8; size++) {
        for (i = 0; i < sizeof(hdrs) / sizeof(hdrs[0]); i++) {
            long long start = -1, len = -1;

            if (range_parse(hdrs[i], size, &start, &len) != RANGE_OK)
                continue;
            assert_true(start >= 0);
            assert_true(len >= 1);
            assert_true(start + len <= size);
        }
    }
}

static const struct {
    const char *hdr;
    int rc;
    long long first, last;
} cr_cases[] = {
    {"0-9", 0, 0, 9},
    {"10-19", 0, 10, 19},
    {"0-0", 0, 0, 0},
    {"5-5", 0, 5, 5},
    {"bytes 0-9", 0, 0, 9},
    {"bytes=0-9", 0, 0, 9},
    {"0-9/100", 0, 0, 9},
    {"0-9/*", 0, 0, 9},
    {"bytes 10-19/20", 0, 10, 19},
    {"9000000000000000000-9000000000000000001", 0, 9000000000000000000LL,
     9000000000000000001LL},
    {"9-0", -1, 0, 0},
    {"-1", -1, 0, 0},
    {"-", -1, 0, 0},
    {"0-", -1, 0, 0},
    {"0", -1, 0, 0},
    {"a-b", -1, 0, 0},
    {"0-b", -1, 0, 0},
    {"", -1, 0, 0},
    {" 0-9", -1, 0, 0},
    {"0 -9", -1, 0, 0},
    {"0-9 ", -1, 0, 0},
    {"0-9x", -1, 0, 0},
    {"0--9", -1, 0, 0},
    {"+0-9", -1, 0, 0},
    {"bytes", -1, 0, 0},
    {"bytes=", -1, 0, 0},
    {"items 0-9", -1, 0, 0},
    {"bytes=bytes 0-9", -1, 0, 0},
    /* overflow */
    {"0-99999999999999999999", -1, 0, 0},
    {"99999999999999999999-99999999999999999999", -1, 0, 0},
    {"0-18446744073709551616", -1, 0, 0},
};

static void test_content_range_table(void **state)
{
    size_t i;

    for (i = 0; i < sizeof(cr_cases) / sizeof(cr_cases[0]); i++) {
        long long first = -7, last = -7;
        int rc = content_range_parse(cr_cases[i].hdr, &first, &last);

        if (rc != cr_cases[i].rc)
            fail_msg("content-range case %zu '%s': got %d, want %d", i,
                     cr_cases[i].hdr, rc, cr_cases[i].rc);
        if (rc == 0) {
            assert_int_equal(first, cr_cases[i].first);
            assert_int_equal(last, cr_cases[i].last);
        } else {
            assert_int_equal(first, -7);
            assert_int_equal(last, -7);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_range_table),
        cmocka_unit_test(test_range_inside),
        cmocka_unit_test(test_content_range_table),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
