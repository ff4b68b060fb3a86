/* tests/unit/test_names.c: util/names.h (repository names, tags, ids) */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/names.h"

/* a string literal and its length, embedded NULs included */
#define S(lit) lit, sizeof(lit) - 1

struct name_case {
    const char *in;
    size_t len;
    int ok;
};

static const struct name_case name_cases[] = {
    {S("a"), 1},
    {S("0"), 1},
    {S("a/b/c"), 1},
    {S("a.b"), 1},
    {S("a_b"), 1},
    {S("a__b"), 1},
    {S("a-b"), 1},
    {S("a---b"), 1},
    {S("library/ubuntu"), 1},
    {S("my-org/sub.team/app_v2__x--y"), 1},
    {S("a.b.c/d-e-f/g_h_i"), 1},
    {S("0.1/2-3"), 1},
    {S(""), 0},
    {S("A"), 0},
    {S("library/Ubuntu"), 0},
    {S("a//b"), 0},
    {S("/a"), 0},
    {S("a/"), 0},
    {S("/"), 0},
    {S("a/../b"), 0},
    {S("a/./b"), 0},
    {S(".."), 0},
    {S("."), 0},
    {S("a___b"), 0},
    {S("a.-b"), 0},
    {S("a-.b"), 0},
    {S("a..b"), 0},
    {S("a._b"), 0},
    {S("a_-b"), 0},
    {S(".a"), 0},
    {S("a."), 0},
    {S("_a"), 0},
    {S("a_"), 0},
    {S("-a"), 0},
    {S("a-"), 0},
    {S("a/.b"), 0},
    {S("a/b."), 0},
    {S("a b"), 0},
    {S("a:b"), 0},
    {S("a@b"), 0},
    {S("a\\b"), 0},
    {S("a\nb"), 0},
    {S("a\0b"), 0},
    {S("a\0"), 0},
    {S("\xc3\xa9"), 0},
};

static void test_name_table(void **state)
{
    size_t i;

    for (i = 0; i < sizeof(name_cases) / sizeof(name_cases[0]); i++) {
        int got = name_valid(name_cases[i].in, name_cases[i].len);

        if (got != name_cases[i].ok)
            fail_msg("name case %zu '%.*s': got %d, want %d", i,
                     (int)name_cases[i].len, name_cases[i].in, got,
                     name_cases[i].ok);
    }
}

/* Fill buf with a valid name of exactly n bytes: "aaaa/aaaa/a..." */
static void long_name(char *buf, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        buf[i] = (i % 5 == 4 && i + 1 < n) ? '/' : 'a';
    buf[n] = '\0';
}

static void test_name_length(void **state)
{
    char buf[NAME_MAX_LEN + 2];

    assert_int_equal(NAME_MAX_LEN, 255);
    long_name(buf, 255);
    assert_int_equal(name_valid(buf, 255), 1);
    long_name(buf, 256);
    assert_int_equal(name_valid(buf, 256), 0);
    /* one component of the full length */
    memset(buf, 'z', 256);
    assert_int_equal(name_valid(buf, 255), 1);
    assert_int_equal(name_valid(buf, 256), 0);
    /* len is honoured: a valid prefix of a longer invalid string */
    assert_int_equal(name_valid("abc/", 3), 1);
    assert_int_equal(name_valid("abc/", 4), 0);
    assert_int_equal(name_valid("a.", 1), 1);
}

static const struct name_case tag_cases[] = {
    {S("latest"), 1}, {S("v1.2.3"), 1},   {S("V1.2.3-rc.1_build-7"), 1},
    {S("_"), 1},      {S("0"), 1},        {S("a.."), 1},
    {S("A-"), 1},     {S("__"), 1},       {S(""), 0},
    {S(".a"), 0},     {S("-a"), 0},       {S("."), 0},
    {S("-"), 0},      {S("a/b"), 0},      {S("a:b"), 0},
    {S("a b"), 0},    {S("a+b"), 0},      {S("a@b"), 0},
    {S("a\0b"), 0},   {S("\xc3\xa9"), 0},
};

static void test_tag_table(void **state)
{
    size_t i;

    for (i = 0; i < sizeof(tag_cases) / sizeof(tag_cases[0]); i++) {
        int got = tag_valid(tag_cases[i].in, tag_cases[i].len);

        if (got != tag_cases[i].ok)
            fail_msg("tag case %zu '%.*s': got %d, want %d", i,
                     (int)tag_cases[i].len, tag_cases[i].in, got,
                     tag_cases[i].ok);
    }
}

static void test_tag_length(void **state)
{
    char buf[TAG_MAX_LEN + 2];

    assert_int_equal(TAG_MAX_LEN, 128);
    memset(buf, 'x', sizeof(buf));
    buf[5] = '.';
    buf[6] = '-';
    assert_int_equal(tag_valid(buf, 128), 1);
    assert_int_equal(tag_valid(buf, 129), 0);
    assert_int_equal(tag_valid(buf, 1), 1);
}

static const struct name_case id_cases[] = {
    {S("123e4567-e89b-42d3-a456-426614174000"), 1},
    {S("00000000-0000-0000-0000-000000000000"), 1},
    {S("ffffffff-ffff-ffff-ffff-ffffffffffff"), 1},
    {S("123E4567-e89b-42d3-a456-426614174000"), 0}, /* uppercase */
    {S("123e4567-e89b-42d3-a456-42661417400"), 0},  /* short */
    {S("123e4567-e89b-42d3-a456-4266141740000"), 0},
    {S("123e4567e89b42d3a456426614174000"), 0}, /* no dashes */
    {S("123e4567-e89b-42d3-a456_426614174000"), 0},
    {S("123e456-7e89b-42d3-a456-426614174000"), 0}, /* dash misplaced */
    {S("123e4567-e89b-42d3-a456-42661417400g"), 0},
    {S("../../../../../../../../etc/passwd00"), 0},
    {S("123e4567-e89b-42d3-a456-42661417/000"), 0},
    {S("123e4567-e89b-42d3-a456-4266141740\0"), 0},
    {S("------------------------------------"), 0},
    {S(""), 0},
};

static void test_upload_id_table(void **state)
{
    size_t i;

    for (i = 0; i < sizeof(id_cases) / sizeof(id_cases[0]); i++) {
        int got = upload_id_valid(id_cases[i].in, id_cases[i].len);

        if (got != id_cases[i].ok)
            fail_msg("id case %zu '%.*s': got %d, want %d", i,
                     (int)id_cases[i].len, id_cases[i].in, got, id_cases[i].ok);
    }
    assert_int_equal(UPLOAD_ID_LEN, 36);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_name_table),
        cmocka_unit_test(test_name_length),
        cmocka_unit_test(test_tag_table),
        cmocka_unit_test(test_tag_length),
        cmocka_unit_test(test_upload_id_table),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
