/* tests/unit/test_uri.c: fcgi-app/uri.h (request target and query) */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fcgi-app/uri.h"

static const struct {
    const char *uri;
    int rc;
    const char *path, *query; /* when rc == 0 */
} split_cases[] = {
    {"/v2/", 0, "/v2/", ""},
    {"/v2", 0, "/v2", ""},
    {"/", 0, "/", ""},
    {"/v2/a/tags/list?n=2&last=x", 0, "/v2/a/tags/list", "n=2&last=x"},
    {"/v2/a/tags/list?", 0, "/v2/a/tags/list", ""},
    {"/v2/a?b?c", 0, "/v2/a", "b?c"}, /* the first '?' ends the path */
    {"/v2/a%2Fb/blobs/x", 0, "/v2/a/b/blobs/x", ""},
    {"/v2/%61", 0, "/v2/a", ""},
    {"/v2/%7e%7E", 0, "/v2/~~", ""},
    {"/v2/a+b", 0, "/v2/a+b", ""}, /* '+' is not a space in a path */
    {"/v2/sha256%3Aab", 0, "/v2/sha256:ab", ""},
    {"/v2/x?%zz", 0, "/v2/x", "%zz"}, /* the query stays raw */
    /* refused */
    {"", -1, NULL, NULL},
    {"v2/", -1, NULL, NULL},
    {"http://h/v2/", -1, NULL, NULL},
    {"*", -1, NULL, NULL},
    {"/v2/%", -1, NULL, NULL},
    {"/v2/%4", -1, NULL, NULL},
    {"/v2/%4g", -1, NULL, NULL},
    {"/v2/%g4", -1, NULL, NULL},
    {"/v2/%00", -1, NULL, NULL}, /* a NUL would cut the path short */
    {"/v2/a%00b?x", -1, NULL, NULL},
};

static void test_split_table(void **state)
{
    size_t i;

    for (i = 0; i < sizeof(split_cases) / sizeof(split_cases[0]); i++) {
        char path[64];
        const char *query = NULL;
        int rc = uri_split(split_cases[i].uri, path, sizeof(path), &query);

        if (rc != split_cases[i].rc)
            fail_msg("case %zu '%s': got %d, want %d", i, split_cases[i].uri,
                     rc, split_cases[i].rc);
        if (rc)
            continue;
        assert_string_equal(path, split_cases[i].path);
        assert_string_equal(query, split_cases[i].query);
    }
    assert_int_equal(uri_split(NULL, NULL, 0, NULL), -1);
}

/* A path that fills the buffer to the byte, and one byte more. */
static void test_split_length(void **state)
{
    char uri[16], path[8];
    const char *query;

    memcpy(uri, "/abcdef", 8); /* 7 characters and the NUL: fits */
    assert_int_equal(uri_split(uri, path, sizeof(path), &query), 0);
    assert_string_equal(path, "/abcdef");
    memcpy(uri, "/abcdefg", 9);
    assert_int_equal(uri_split(uri, path, sizeof(path), &query), -1);
    /* an escape counts once decoded */
    memcpy(uri, "/abcde%66", 10);
    assert_int_equal(uri_split(uri, path, sizeof(path), &query), 0);
    assert_string_equal(path, "/abcdef");
}

static const struct {
    const char *query, *key;
    int rc;
    const char *value; /* when rc == 1 */
} query_cases[] = {
    {"", "n", 0, NULL},
    {"n=5", "n", 1, "5"},
    {"n=5&last=abc", "last", 1, "abc"},
    {"n=5&last=abc", "n", 1, "5"},
    {"last=abc&n=5", "n", 1, "5"},
    {"n", "n", 1, ""}, /* a key alone has the value "" */
    {"n=", "n", 1, ""},
    {"n=1&n=2", "n", 1, "1"}, /* the first one counts */
    {"nn=1", "n", 0, NULL},   /* a key is matched whole */
    {"xn=1", "n", 0, NULL},
    {"n=1", "nn", 0, NULL},
    {"&&n=1&", "n", 1, "1"},
    {"mount=sha256%3Aab&from=a%2Fb", "mount", 1, "sha256:ab"},
    {"mount=sha256%3Aab&from=a%2Fb", "from", 1, "a/b"},
    {"digest=sha256:ab", "digest", 1, "sha256:ab"},
    {"artifactType=application%2Fvnd.x%2Bjson", "artifactType", 1,
     "application/vnd.x+json"},
    {"a=b=c", "a", 1, "b=c"},
    {"a=x+y", "a", 1, "x+y"},
    /* refused values */
    {"n=%", "n", -1, NULL},
    {"n=%zz", "n", -1, NULL},
    {"n=%00", "n", -1, NULL},
    {"n=0123456789abcdef0123456789abcdef", "n", -1, NULL}, /* over 32 */
};

static void test_query_table(void **state)
{
    size_t i;

    for (i = 0; i < sizeof(query_cases) / sizeof(query_cases[0]); i++) {
        char out[32];
        int rc = uri_query(query_cases[i].query, query_cases[i].key, out,
                           sizeof(out));

        if (rc != query_cases[i].rc)
            fail_msg("case %zu '%s' key '%s': got %d, want %d", i,
                     query_cases[i].query, query_cases[i].key, rc,
                     query_cases[i].rc);
        if (rc == 1)
            assert_string_equal(out, query_cases[i].value);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_table),
        cmocka_unit_test(test_split_length),
        cmocka_unit_test(test_query_table),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
