/*
 * tests/unit/test_ctl_out.c: the pure parts of ctl/out.h (sizes
 * in human units, times in ISO 8601, REF arguments)
 */
#include "config.h"

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ctl/out.h"

#define KI 1024LL
#define MI (KI * KI)
#define GI (MI * KI)
#define TI (GI * KI)
#define EI (TI * KI * KI)

static const struct {
    long long in;
    const char *want;
} size_cases[] = {
    {0, "0 B"},
    {1, "1 B"},
    {1023, "1023 B"},
    {KI, "1.0 KiB"},
    {KI + 1, "1.0 KiB"},
    /* tenths round half up: 1075/1024 = 1.0498, 1076/1024 = 1.0508 */
    {1075, "1.0 KiB"},
    {1076, "1.1 KiB"},
    {1536, "1.5 KiB"},
    {10 * KI - 1, "10.0 KiB"},
    {1048524, "1023.9 KiB"}, /* 1023.949 KiB */
    /* 1023.95 KiB and more would read "1024.0 KiB": the next unit */
    {1048525, "1.0 MiB"},
    {MI - 1, "1.0 MiB"},
    {MI, "1.0 MiB"},
    {MI + MI / 2, "1.5 MiB"},
    {GI - 1, "1.0 GiB"},
    {GI, "1.0 GiB"},
    {5 * GI + GI / 10, "5.1 GiB"},
    {TI, "1.0 TiB"},
    {1000 * TI, "1000.0 TiB"},
    {1024 * TI, "1.0 PiB"},
    {EI, "1.0 EiB"},
    {LLONG_MAX, "8.0 EiB"},
    {-1, "-1 B"},
    {-1536, "-1.5 KiB"},
    {LLONG_MIN, "-8.0 EiB"},
};

static void test_size_table(void **state)
{
    char buf[OUT_SIZE_MAX];
    size_t i;

    for (i = 0; i < sizeof(size_cases) / sizeof(size_cases[0]); i++) {
        out_size(size_cases[i].in, buf);
        if (strcmp(buf, size_cases[i].want))
            fail_msg("size case %zu (%lld): got '%s', want '%s'", i,
                     size_cases[i].in, buf, size_cases[i].want);
    }
}

static const struct {
    long long in;
    const char *want;
} time_cases[] = {
    {0, "1970-01-01T00:00:00Z"},
    {-1, "1969-12-31T23:59:59Z"},
    {951782400, "2000-02-29T00:00:00Z"},
    {1767225599, "2025-12-31T23:59:59Z"},
    {1767225600, "2026-01-01T00:00:00Z"},
    {2147483648LL, "2038-01-19T03:14:08Z"},
    {253402300799LL, "9999-12-31T23:59:59Z"},
    {LLONG_MAX, "?"},
};

/* out_parse_since(): now is 2026-12-02T12:00:00Z; -1: refused */
#define NOW 1796212800LL
static const struct {
    const char *in;
    long long want_us;
} since_cases[] = {
    {"2026-12-02T09:30:00Z", 1796203800LL * 1000000},
    {"2026-12-02t09:30:00z", 1796203800LL * 1000000},
    {"2026-12-02 09:30:00Z", 1796203800LL * 1000000},
    {"2026-12-02T09:30:00.5Z", 1796203800LL * 1000000 + 500000},
    {"2026-12-02T09:30:00.000001Z", 1796203800LL * 1000000 + 1},
    {"2026-12-02T10:30:00+01:00", 1796203800LL * 1000000},
    {"2026-12-02T08:00:00-01:30", 1796203800LL * 1000000},
    {"2026-12-02", 1796169600LL * 1000000},
    {"1970-01-01T00:00:00Z", 0},
    {"24h", (NOW - 86400) * 1000000},
    {"7d", (NOW - 7 * 86400) * 1000000},
    {"90s", (NOW - 90) * 1000000},
    {"30m", (NOW - 1800) * 1000000},
    {"0s", NOW * 1000000},
    {"", -1},
    {"24", -1},  /* a number without its unit */
    {"24x", -1}, /* an unknown unit */
    {"-1h", -1},
    {"2026-12-02T09:30:00", -1}, /* no zone */
    {"2026-12-02T09:30Z", -1},
    {"2026-02-30T00:00:00Z", -1},
    {"2026-13-01", -1},
    {"2026-12-02T24:00:00Z", -1},
    {"2026-12-02T09:30:00.Z", -1},
    {"2026-12-02T09:30:00+0100", -1},
    {"2026-12-02T09:30:00Zjunk", -1},
    {"26-12-02", -1},
};

static void test_since_table(void **state)
{
    long long got;
    size_t i;
    int rc;

    for (i = 0; i < sizeof(since_cases) / sizeof(since_cases[0]); i++) {
        got = -1;
        rc = out_parse_since(since_cases[i].in, NOW, &got);
        if (since_cases[i].want_us < 0 ? rc != -1
                                       : rc || got != since_cases[i].want_us)
            fail_msg("since case %zu ('%s'): rc %d, %lld, want %lld", i,
                     since_cases[i].in, rc, got, since_cases[i].want_us);
    }
}

static void test_time_us(void **state)
{
    char buf[OUT_TIME_MAX];

    out_time_us(1796203800LL * 1000000 + 123, buf);
    assert_string_equal(buf, "2026-12-02T09:30:00.000123Z");
    out_time_us(0, buf);
    assert_string_equal(buf, "1970-01-01T00:00:00.000000Z");
}

static void test_time_table(void **state)
{
    char buf[OUT_TIME_MAX];
    size_t i;

    for (i = 0; i < sizeof(time_cases) / sizeof(time_cases[0]); i++) {
        out_time(time_cases[i].in, buf);
        if (strcmp(buf, time_cases[i].want))
            fail_msg("time case %zu (%lld): got '%s', want '%s'", i,
                     time_cases[i].in, buf, time_cases[i].want);
    }
}

#define D64    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define SHA256 "sha256:" D64
#define SHA512 "sha512:" D64 D64

/* kind -1: refused, with err containing want */
static const struct {
    const char *in;
    int kind;
    const char *repo, *want; /* the tag or digest; or a part of the error */
} ref_cases[] = {
    {"app", REF_REPO, "app", ""},
    {"team/app", REF_REPO, "team/app", ""},
    {"a.b/c-d/e__f", REF_REPO, "a.b/c-d/e__f", ""},
    {"team/app:1.0", REF_TAG, "team/app", "1.0"},
    {"app:latest", REF_TAG, "app", "latest"},
    {"app:_x", REF_TAG, "app", "_x"},
    {"app@" SHA256, REF_DIGEST, "app", SHA256},
    {"team/app@" SHA512, REF_DIGEST, "team/app", SHA512},
    {"", -1, NULL, "invalid repository name ''"},
    {"App", -1, NULL, "invalid repository name 'App'"},
    {"team//app", -1, NULL, "invalid repository name 'team//app'"},
    {"/app", -1, NULL, "invalid repository name '/app'"},
    {":1", -1, NULL, "invalid repository name ''"},
    {"@" SHA256, -1, NULL, "invalid repository name ''"},
    {"app:", -1, NULL, "invalid tag ''"},
    {"app:.x", -1, NULL, "invalid tag '.x'"},
    {"app:a:b", -1, NULL, "invalid tag 'a:b'"},
    {"localhost:5000/app:1", -1, NULL, "without the registry's host"},
    {"app@", -1, NULL, "invalid digest ''"},
    {"app@sha256:abc", -1, NULL, "invalid digest 'sha256:abc'"},
    {"app@sha256:" D64 "0", -1, NULL, "invalid digest"},
    {"app@SHA256:" D64, -1, NULL, "invalid digest"},
    {"app@md5:0123456789abcdef0123456789abcdef", -1, NULL,
     "unsupported digest 'md5:"},
    {"app:1@" SHA256, -1, NULL, "both a tag and a digest"},
    {"app@" SHA256 ":1", -1, NULL, "invalid digest"},
};

static void test_ref_table(void **state)
{
    char err[512], dstr[DIGEST_STR_MAX];
    struct ref r;
    size_t i;

    for (i = 0; i < sizeof(ref_cases) / sizeof(ref_cases[0]); i++) {
        const char *in = ref_cases[i].in, *want = ref_cases[i].want;

        memset(&r, 0x5a, sizeof(r));
        err[0] = '\0';
        if (ref_parse(in, &r, err, sizeof(err))) {
            if (ref_cases[i].kind != -1)
                fail_msg("ref case %zu '%s': refused (%s)", i, in, err);
            if (!strstr(err, want))
                fail_msg("ref case %zu '%s': error '%s' lacks '%s'", i, in, err,
                         want);
            /* *out is written only on success */
            assert_int_equal(((unsigned char *)&r)[0], 0x5a);
            continue;
        }
        if (ref_cases[i].kind == -1)
            fail_msg("ref case %zu '%s': accepted", i, in);
        assert_int_equal(r.kind, ref_cases[i].kind);
        assert_string_equal(r.repo, ref_cases[i].repo);
        if (r.kind == REF_TAG)
            assert_string_equal(r.tag, want);
        if (r.kind == REF_DIGEST) {
            digest_format(&r.digest, dstr);
            assert_string_equal(dstr, want);
        }
    }
}

/* the longest name and tag there may be fit; one byte more does not */
static void test_ref_lengths(void **state)
{
    char in[NAME_MAX_LEN + TAG_MAX_LEN + 8], err[512];
    struct ref r;

    memset(in, 'a', NAME_MAX_LEN);
    in[NAME_MAX_LEN] = ':';
    memset(in + NAME_MAX_LEN + 1, 't', TAG_MAX_LEN);
    in[NAME_MAX_LEN + 1 + TAG_MAX_LEN] = '\0';
    assert_int_equal(ref_parse(in, &r, err, sizeof(err)), 0);
    assert_int_equal(strlen(r.repo), NAME_MAX_LEN);
    assert_int_equal(strlen(r.tag), TAG_MAX_LEN);
    in[NAME_MAX_LEN + 1 + TAG_MAX_LEN] = 't';
    in[NAME_MAX_LEN + 2 + TAG_MAX_LEN] = '\0';
    assert_int_equal(ref_parse(in, &r, err, sizeof(err)), -1);
    in[NAME_MAX_LEN] = 'a';
    in[NAME_MAX_LEN + 1] = '\0';
    assert_int_equal(ref_parse(in, &r, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "invalid repository name"));
    /* a short err buffer is still terminated */
    assert_int_equal(ref_parse("App", &r, err, 8), -1);
    assert_int_equal(strlen(err), 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_size_table),  cmocka_unit_test(test_time_table),
        cmocka_unit_test(test_since_table), cmocka_unit_test(test_time_us),
        cmocka_unit_test(test_ref_table),   cmocka_unit_test(test_ref_lengths),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
