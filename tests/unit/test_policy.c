/*
 * tests/unit/test_policy.c: policy/policy.h. Policy files, one per row,
 * what they read as or the error they give, and which quota and
 * immutable rules hold for which repository and tag.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "policy/policy.h"

/* Write text to a fresh file and read it as a policy: 0 or -1, err. */
static int load(const char *text, struct policy **p, char *err, size_t len)
{
    char path[] = "/tmp/berth-test-policy-XXXXXX";
    int fd = mkstemp(path), rc;
    FILE *f;

    assert_true(fd >= 0);
    f = fdopen(fd, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
    rc = policy_load(path, p, err, len);
    unlink(path);
    return rc;
}

static const struct {
    const char *text;
    const char *err; /* NULL: it reads; else a part of the message */
} load_cases[] = {
    {"", NULL},
    {"# nothing\n\n   \n", NULL},
    {"quota team-a/* 10G\nimmutable release/* v*,stable # pinned\n", NULL},
    {"quota * 1T\nquota library/alpine 500m\nquota a/b/* 0\n", NULL},
    {"quota team-* 10G\n", ":1: quota of 'team-*' is not a namespace"},
    {"quota team-a/*/x 10G\n", "not a namespace"},
    {"quota Team/* 10G\n", "no repository name holds 'T'"},
    {"quota team-a/* 10X\n", "expected a size"},
    {"quota team-a/* -1\n", "expected a size"},
    {"quota team-a/*\n", "expected 'quota REPOSITORIES SIZE'"},
    {"quota team-a/* 1G more\n", "expected 'quota REPOSITORIES SIZE'"},
    {"\nimmutable release/* v+\n", ":2: bad tag pattern 'v+'"},
    {"immutable release/* v*,,x\n", "empty tag pattern"},
    {"immutable release/* v*,\n", "empty tag pattern"},
    {"immutable rel[ease/* v*\n", "'[' without ']'"},
    {"keep release/* v*\n", "unknown rule 'keep' (quota or immutable)"},
};

static void test_load(void **state)
{
    char err[512];
    struct policy *p;
    size_t i;
    int rc;

    (void)state;
    for (i = 0; i < sizeof(load_cases) / sizeof(load_cases[0]); i++) {
        p = NULL;
        err[0] = '\0';
        rc = load(load_cases[i].text, &p, err, sizeof(err));
        if (!load_cases[i].err) {
            if (rc)
                fail_msg("case %zu: %s", i, err);
        } else if (rc != -1 || !strstr(err, load_cases[i].err)) {
            fail_msg("case %zu: rc %d, '%s', not '%s'", i, rc, err,
                     load_cases[i].err);
        }
        policy_free(p);
    }
}

static void test_missing_file(void **state)
{
    struct policy *p = NULL;
    char err[512];

    (void)state;
    assert_int_equal(
        policy_load("/nonexistent/policy.conf", &p, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "cannot open policy file"));
    assert_null(p);
    policy_free(NULL);
}

static const char rules[] = "quota team-a/* 10G\n"
                            "quota library/alpine 500M\n"
                            "quota * 1T\n"
                            "immutable release/* v*,stable\n"
                            "immutable team-a/prod rc-?\n";

/* Which quota rules hold for a repository, in order: "ns=limit;..." */
static const struct {
    const char *repo; /* NULL: every rule */
    const char *quotas;
} quota_cases[] = {
    {"team-a/x", "team-a/=10737418240;=1099511627776;"},
    {"team-a/x/y", "team-a/=10737418240;=1099511627776;"},
    {"team-ab/x", "=1099511627776;"},
    {"team-a", "=1099511627776;"},
    {"library/alpine", "library/alpine=524288000;=1099511627776;"},
    {"library/alpine2", "=1099511627776;"},
    {NULL, "team-a/=10737418240;library/alpine=524288000;=1099511627776;"},
};

static void test_quota_next(void **state)
{
    const struct policy_quota *q;
    struct policy *p = NULL;
    char err[512], got[512];
    size_t i, k, n;

    (void)state;
    assert_int_equal(load(rules, &p, err, sizeof(err)), 0);
    for (i = 0; i < sizeof(quota_cases) / sizeof(quota_cases[0]); i++) {
        got[0] = '\0';
        n = 0;
        for (k = 0; (q = policy_quota_next(p, quota_cases[i].repo, &k));)
            n += (size_t)snprintf(got + n, sizeof(got) - n, "%s=%lld;", q->ns,
                                  q->limit);
        assert_string_equal(got, quota_cases[i].quotas);
    }
    k = 0;
    q = policy_quota_next(p, "team-a/x", &k);
    assert_string_equal(q->pattern, "team-a/*");
    k = 0;
    assert_null(policy_quota_next(NULL, "team-a/x", &k));
    policy_free(p);
}

static const struct {
    const char *repo, *tag;
    int immutable;
} immutable_cases[] = {
    {"release/app", "v1.0", 1},   {"release/app", "stable", 1},
    {"release/app", "latest", 0}, {"release/a/b", "v2", 1},
    {"releases/app", "v1.0", 0},  {"team-a/prod", "rc-1", 1},
    {"team-a/prod", "rc-10", 0},  {"team-a/dev", "rc-1", 0},
};

static void test_immutable(void **state)
{
    struct policy *p = NULL;
    char err[512];
    size_t i;

    (void)state;
    assert_int_equal(load(rules, &p, err, sizeof(err)), 0);
    for (i = 0; i < sizeof(immutable_cases) / sizeof(immutable_cases[0]); i++) {
        if (policy_immutable(p, immutable_cases[i].repo,
                             immutable_cases[i].tag) !=
            immutable_cases[i].immutable)
            fail_msg("case %zu: %s:%s", i, immutable_cases[i].repo,
                     immutable_cases[i].tag);
    }
    assert_int_equal(policy_immutable(NULL, "release/app", "v1"), 0);
    policy_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_quota_next),
        cmocka_unit_test(test_immutable),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
