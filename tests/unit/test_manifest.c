/*
 * tests/unit/test_manifest.c: util/manifest.h, data driven (jansson's
 * test/suites layout). Each directory under data/manifests/valid and
 * data/manifests/invalid is one case:
 *
 *   input          the manifest body
 *   content-type   the Content-Type it is pushed with (absent: none)
 *   expect         valid cases: "key value" lines that must hold, keys
 *                  kind, media_type, blobs, children, artifact_type,
 *                  subject, annotations, description
 *   error          invalid cases: a text the error message must contain
 *
 * Adding a case needs no C.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/cases.h"
#include "util/manifest.h"

#define DATA TEST_SRCDIR "/data/manifests"

/* Read dir/name into a malloc'd string (NULL if absent); *len its size. */
static void chomp(char *s)
{
    size_t n = s ? strlen(s) : 0;

    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = '\0';
}

/* Check one "key value" line of an expect file against m. */
static void expect_line(const char *c, const char *line,
                        const struct manifest *m)
{
    char key[64], got[4096];
    const char *val = strchr(line, ' ');
    char sub[DIGEST_STR_MAX];

    if (!val) {
        val = "";
        snprintf(key, sizeof(key), "%s", line);
    } else {
        snprintf(key, sizeof(key), "%.*s", (int)(val - line), line);
        val++;
    }
    if (!strcmp(key, "kind"))
        snprintf(got, sizeof(got), "%s",
                 m->kind == MANIFEST_IMAGE ? "image" : "index");
    else if (!strcmp(key, "media_type"))
        snprintf(got, sizeof(got), "%s", m->media_type);
    else if (!strcmp(key, "blobs"))
        snprintf(got, sizeof(got), "%zu", m->nblobs);
    else if (!strcmp(key, "children"))
        snprintf(got, sizeof(got), "%zu", m->nchildren);
    else if (!strcmp(key, "artifact_type"))
        snprintf(got, sizeof(got), "%s", m->artifact_type);
    else if (!strcmp(key, "subject")) {
        sub[0] = '\0';
        if (m->has_subject)
            digest_format(&m->subject, sub);
        snprintf(got, sizeof(got), "%s", sub);
    } else if (!strcmp(key, "annotations"))
        snprintf(got, sizeof(got), "%s", m->annotations ? m->annotations : "");
    else if (!strcmp(key, "description"))
        snprintf(got, sizeof(got), "%s", m->description);
    else
        fail_msg("%s: unknown key '%s' in expect", c, key);
    if (strcmp(got, val))
        fail_msg("%s: %s is '%s', expected '%s'", c, key, got, val);
}

static void run_case(void *ctx, const char *dir, const char *name)
{
    const char *kind = ctx;
    char why[512];
    struct manifest m;
    char *input, *ctype, *want, *line, *save = NULL;
    size_t len;
    int rc;

    input = case_file(dir, "input", &len);
    assert_non_null(input);
    ctype = case_file(dir, "content-type", NULL);
    chomp(ctype);
    memset(&m, 0, sizeof(m));
    rc = manifest_parse(input, len, ctype, &m, why, sizeof(why));
    if (!strcmp(kind, "valid")) {
        if (rc != MANIFEST_OK)
            fail_msg("%s: refused: %s", name, why);
        want = case_file(dir, "expect", NULL);
        assert_non_null(want);
        for (line = strtok_r(want, "\n", &save); line;
             line = strtok_r(NULL, "\n", &save))
            expect_line(name, line, &m);
        free(want);
    } else {
        if (rc == MANIFEST_OK)
            fail_msg("%s: accepted", name);
        want = case_file(dir, "error", NULL);
        assert_non_null(want);
        chomp(want);
        if (!strstr(why, want))
            fail_msg("%s: error '%s' lacks '%s'", name, why, want);
        free(want);
    }
    manifest_release(&m);
    free(ctype);
    free(input);
}

static void run_dir(const char *kind)
{
    cases_run(DATA, kind, 10, run_case, (void *)kind);
}

static void test_valid(void **state)
{
    (void)state;
    run_dir("valid");
}

static void test_invalid(void **state)
{
    (void)state;
    run_dir("invalid");
}

static void test_descriptor_json(void **state)
{
    static const char body[] =
        "{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_MANIFEST "\","
        "\"config\":{\"mediaType\":\"application/x.cfg\",\"digest\":"
        "\"sha256:"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\","
        "\"size\":2},\"layers\":[],\"annotations\":{\"k\":\"v\\u00e9\"}}";
    static const char dig[] =
        "sha256:"
        "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    struct manifest m;
    struct digest d;
    char why[256], *s;

    (void)state;
    assert_int_equal(digest_parse(&d, dig, strlen(dig)), 0);
    assert_int_equal(
        manifest_parse(body, strlen(body), NULL, &m, why, sizeof(why)),
        MANIFEST_OK);
    s = manifest_descriptor_json(&m, &d, 1234);
    assert_string_equal(
        s, "{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"size\":1234,\"digest\":"
           "\"sha256:"
           "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
           "\",\"artifactType\":\"application/x.cfg\",\"annotations\":{\"k\":"
           "\"v\\u00E9\"}}");
    free(s);
    manifest_release(&m);
    manifest_release(&m); /* twice is harmless */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_descriptor_json),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
