/* tests/unit/test_auth.c: auth/auth.h, one row per question */
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

#include "auth/auth.h"

static const char rules[] = "# comment\n"
                            "\n"
                            "*               pull            public/*\n"
                            "authenticated   pull,catalog    *   # trailing\n"
                            "alice           push,delete     team-a/*\n"
                            "ci              push            *\n"
                            "admin           all             *\n";

/* Write text to a new file under /tmp; its name into path. */
static void write_file(char *path, size_t len, const char *text)
{
    int fd;

    snprintf(path, len, "/tmp/berth-test-auth-XXXXXX");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

static struct auth_policy *load(const char *text)
{
    struct auth_policy *p = NULL;
    char path[64], err[256];
    int rc;

    write_file(path, sizeof(path), text);
    rc = auth_policy_load(path, &p, err, sizeof(err));
    unlink(path);
    if (rc)
        fail_msg("refused: %s", err);
    return p;
}

static const struct {
    const char *user, *repo;
    enum auth_action action;
    enum auth_result want;
} cases[] = {
    {NULL, "public/x", AUTH_PULL, AUTH_OK},
    {"", "public/x/y", AUTH_PULL, AUTH_OK}, /* "" is anonymous too */
    {NULL, "public/x", AUTH_PUSH, AUTH_NEED_LOGIN},
    {NULL, "team-a/x", AUTH_PULL, AUTH_NEED_LOGIN},
    {NULL, NULL, AUTH_CATALOG, AUTH_NEED_LOGIN},
    {NULL, NULL, AUTH_LOGIN, AUTH_NEED_LOGIN},
    {"bob", NULL, AUTH_LOGIN, AUTH_OK},
    {"bob", "team-a/x", AUTH_PULL, AUTH_OK},
    {"bob", "team-a/x", AUTH_PUSH, AUTH_DENIED},
    {"bob", "team-a/x", AUTH_DELETE, AUTH_DENIED},
    {"bob", NULL, AUTH_CATALOG, AUTH_OK},
    {"alice", "team-a/x", AUTH_PUSH, AUTH_OK},
    {"alice", "team-a/x/y", AUTH_DELETE, AUTH_OK},
    {"alice", "team-b/x", AUTH_PUSH, AUTH_DENIED},
    {"alice", "team-a", AUTH_PUSH, AUTH_DENIED}, /* the pattern wants a '/' */
    {"ci", "anything/at/all", AUTH_PUSH, AUTH_OK},
    {"ci", "anything", AUTH_DELETE, AUTH_DENIED},
    {"admin", "x", AUTH_DELETE, AUTH_OK},
    {"Alice", "team-a/x", AUTH_PUSH, AUTH_DENIED}, /* names are exact */
};

static void test_rules(void **state)
{
    struct auth_policy *p = load(rules);
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        enum auth_result got =
            auth_check(p, cases[i].user, cases[i].repo, cases[i].action);

        if (got != cases[i].want)
            fail_msg("case %zu (%s, %s, %d): got %d, want %d", i,
                     cases[i].user ? cases[i].user : "(anonymous)",
                     cases[i].repo ? cases[i].repo : "-", cases[i].action, got,
                     cases[i].want);
    }
    auth_policy_free(p);
}

static void test_no_policy(void **state)
{
    (void)state;
    assert_int_equal(auth_check(NULL, NULL, "x", AUTH_DELETE), AUTH_OK);
    assert_int_equal(auth_check(NULL, NULL, NULL, AUTH_LOGIN), AUTH_OK);
    auth_policy_free(NULL);
}

static void test_empty_policy(void **state)
{
    struct auth_policy *p = load("# nobody may do anything\n");

    (void)state;
    assert_int_equal(auth_check(p, "root", "x", AUTH_PULL), AUTH_DENIED);
    assert_int_equal(auth_check(p, NULL, "x", AUTH_PULL), AUTH_NEED_LOGIN);
    auth_policy_free(p);
}

static const struct {
    const char *text, *error;
} bad[] = {
    {"alice pull\n", ":1: expected 'who actions repositories'"},
    {"alice pull x y\n", ":1: expected"},
    {"\n\nalice fly x\n", ":3: actions are pull, push"},
    {"alice pull, x\n", ":1: actions are"},
    {"alice ,, x\n", ":1: actions are"},
};

static void test_bad_files(void **state)
{
    struct auth_policy *p = NULL;
    char path[64], err[256];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        write_file(path, sizeof(path), bad[i].text);
        assert_int_equal(auth_policy_load(path, &p, err, sizeof(err)), -1);
        unlink(path);
        if (!strstr(err, bad[i].error) || !strstr(err, path))
            fail_msg("case %zu: '%s' lacks '%s' or the file name", i, err,
                     bad[i].error);
    }
    assert_int_equal(
        auth_policy_load("/nonexistent/access", &p, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "cannot open access file '/nonexistent"));
    assert_null(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules),
        cmocka_unit_test(test_no_policy),
        cmocka_unit_test(test_empty_policy),
        cmocka_unit_test(test_bad_files),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
