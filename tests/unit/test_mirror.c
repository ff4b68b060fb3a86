/*
 * tests/unit/test_mirror.c: mirror/mirror.h. Mirror rules files, one per
 * row, what they read as or the error they give, and which upstream (and
 * which name there) serves which repository.
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

#include "mirror/mirror.h"

/* Write text to a fresh file and read it as mirror rules: 0 or -1, err. */
static int load(const char *text, struct mirror **m, char *err, size_t len)
{
    char path[] = "/tmp/berth-test-mirror-XXXXXX";
    int fd = mkstemp(path), rc;
    FILE *f;

    assert_true(fd >= 0);
    f = fdopen(fd, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
    rc = mirror_load(path, m, err, len);
    unlink(path);
    return rc;
}

static const struct {
    const char *text;
    const char *err; /* NULL: it reads; else a part of the message */
} load_cases[] = {
    {"", NULL},
    {"# nothing\n\n", NULL},
    {"upstream hub/ https://r.example:5000\nlocal team/\ncache_max 50G\n",
     NULL},
    {"upstream * http://127.0.0.1:5000 revalidate=1m timeout=5s "
     "credentials=/etc/c ca=/etc/ca.pem\n",
     NULL},
    {"upstream hub http://x\n", ":1: 'hub' is not a prefix"},
    {"upstream Hub/ http://x\n", "is not a prefix"},
    {"local *\n", "is not a prefix"},
    {"upstream hub/ ftp://x\n", "is not an upstream URL"},
    {"upstream hub/ http://\n", "is not an upstream URL"},
    {"upstream hub/ http://x/path\n", "more than a host and port"},
    {"upstream hub/ http://u:p@x\n", "more than a host and port"},
    {"upstream hub/\n", "expected 'upstream PREFIX/ URL [OPTION...]'"},
    {"local team/ x\n", "expected 'local PREFIX/'"},
    {"upstream hub/ http://x timeout=0\n", "timeout: expected a duration"},
    {"upstream hub/ http://x revalidate=5y\n", "expected a duration"},
    {"upstream hub/ http://x colour=red\n", "unknown or repeated option"},
    {"upstream hub/ http://x ca=a ca=b\n", "is not an absolute path"},
    {"upstream hub/ http://x ca=/a ca=/b\n", "unknown or repeated option"},
    {"upstream hub/ http://x noequals\n", "expected OPTION=VALUE"},
    {"upstream hub/ http://x\nlocal hub/\n", ":2: 'hub/' has a rule already"},
    {"upstream * http://x\nupstream * http://y\n", "has a rule already"},
    {"cache_max 10Q\n", "expected a size"},
    {"cache_max 1G\ncache_max 2G\n", "expected one 'cache_max SIZE'"},
    {"mirror hub/ http://x\n", "unknown rule 'mirror'"},
};

static void test_load(void **state)
{
    struct mirror *m;
    char err[512];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(load_cases) / sizeof(load_cases[0]); i++) {
        m = NULL;
        err[0] = '\0';
        int rc = load(load_cases[i].text, &m, err, sizeof(err));

        if (!load_cases[i].err && rc)
            fail_msg("case %zu: %s", i, err);
        if (load_cases[i].err && (!rc || !strstr(err, load_cases[i].err)))
            fail_msg("case %zu: got '%s', want '%s'", i, rc ? err : "ok",
                     load_cases[i].err);
        mirror_free(m);
    }
}

static const char rules[] = "upstream hub/ https://a.example revalidate=2m\n"
                            "upstream hub/quay/ https://b.example\n"
                            "upstream * http://127.0.0.1:5000 timeout=7s "
                            "credentials=/etc/berth/c\n"
                            "local team/\n"
                            "cache_max 5M\n";

static const struct {
    const char *repo;
    const char *url;    /* NULL: the registry's own */
    const char *remote; /* the name at the upstream */
} match_cases[] = {
    {"hub/library/alpine", "https://a.example", "library/alpine"},
    {"hub/quay/x", "https://b.example", "x"},
    {"hub/quayx", "https://a.example", "quayx"},
    {"library/alpine", "http://127.0.0.1:5000", "library/alpine"},
    {"alpine", "http://127.0.0.1:5000", "alpine"},
    {"team/app", NULL, NULL},
    {"team", "http://127.0.0.1:5000", "team"},
    {"hub", "http://127.0.0.1:5000", "hub"},
};

static void test_match(void **state)
{
    const struct mirror_upstream *u;
    char remote[NAME_MAX_LEN + 1], err[512];
    struct mirror *m = NULL;
    size_t i;

    (void)state;
    assert_int_equal(load(rules, &m, err, sizeof(err)), 0);
    for (i = 0; i < sizeof(match_cases) / sizeof(match_cases[0]); i++) {
        u = mirror_match(m, match_cases[i].repo, remote);
        if (!match_cases[i].url) {
            if (u)
                fail_msg("case %zu: %s is served by %s", i, match_cases[i].repo,
                         u->url);
            continue;
        }
        if (!u || strcmp(u->url, match_cases[i].url) ||
            strcmp(remote, match_cases[i].remote))
            fail_msg("case %zu: %s -> %s %s", i, match_cases[i].repo,
                     u ? u->url : "(local)", u ? remote : "");
    }
    u = mirror_match(m, "hub/x", remote);
    assert_non_null(u);
    assert_int_equal(u->revalidate, 120);
    assert_int_equal(u->timeout, MIRROR_TIMEOUT_DEFAULT);
    assert_null(u->credentials);
    u = mirror_match(m, "x", remote);
    assert_non_null(u);
    assert_int_equal(u->timeout, 7);
    assert_int_equal(u->revalidate, MIRROR_REVALIDATE_DEFAULT);
    assert_string_equal(u->credentials, "/etc/berth/c");
    assert_string_equal(u->prefix, "");
    assert_int_equal(mirror_cache_max(m), 5 << 20);
    assert_int_equal(mirror_count(m), 4);
    assert_null(mirror_match(NULL, "hub/x", remote));
    assert_int_equal(mirror_cache_max(NULL), 0);
    mirror_free(m);
}

static void test_missing_file(void **state)
{
    struct mirror *m = NULL;
    char err[512];

    (void)state;
    assert_int_equal(
        mirror_load("/nonexistent/mirror.conf", &m, err, sizeof(err)), -1);
    assert_null(m);
    assert_non_null(strstr(err, "/nonexistent/mirror.conf"));
    assert_int_equal(mirror_check("/nonexistent/mirror.conf", err, sizeof(err)),
                     -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load),
        cmocka_unit_test(test_match),
        cmocka_unit_test(test_missing_file),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
