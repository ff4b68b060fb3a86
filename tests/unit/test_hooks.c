/*
 * tests/unit/test_hooks.c: hooks/hooks.h. Webhooks files, one per row,
 * what they read as or the error they give; which events go to which
 * hook; the bodies in both formats; the signature (RFC 4231's HMAC-SHA256
 * case 2) and the backoff.
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
#include <jansson.h>

#include "hooks/hooks.h"

/* Write text to a fresh file; the caller unlinks path. */
static void write_file(char *path, const char *text)
{
    int fd = mkstemp(path);
    FILE *f;

    assert_true(fd >= 0);
    f = fdopen(fd, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static int load(const char *text, struct hooks **h, char *err, size_t len)
{
    char path[] = "/tmp/berth-test-hooks-XXXXXX";
    int rc;

    write_file(path, text);
    rc = hooks_load(path, h, err, len);
    unlink(path);
    return rc;
}

static const struct {
    const char *text;
    const char *err; /* NULL: it reads; else a part of the message */
} load_cases[] = {
    {"", NULL},
    {"# nothing\n\n", NULL},
    {"hook ci http://127.0.0.1:8080/x\n", NULL},
    {"hook a https://h/ events=push,delete repos=team-a/* format=cloudevents "
     "timeout=500ms retries=0 backoff=1s backoff_max=1h\n",
     NULL},
    {"hook a http://h/\nhook b http://h/ # two\n", NULL},
    {"hook a http://h/\nhook a http://i/\n", ":2: hook 'a' is defined twice"},
    {"hook a\n", ":1: expected 'hook NAME URL [options]'"},
    {"send a http://h/\n", "unknown rule 'send' (hook)"},
    {"hook a/b http://h/\n", "bad hook name 'a/b'"},
    {"hook a ftp://h/\n", "bad URL 'ftp://h/'"},
    {"hook a http:///x\n", "bad URL"},
    {"hook a http://h/ events=push,push2\n", "unknown event 'push2'"},
    {"hook a http://h/ events=\n", "unknown event ''"},
    {"hook a http://h/ repos=Team/*\n", "no repository name holds 'T'"},
    {"hook a http://h/ format=xml\n", "format must be registry or cloudevents"},
    {"hook a http://h/ timeout=5x\n", "timeout must be a duration"},
    {"hook a http://h/ timeout=0\n", "timeout must be a duration"},
    {"hook a http://h/ retries=101\n", "retries must be a number"},
    {"hook a http://h/ retries=1s\n", "retries must be a number"},
    {"hook a http://h/ retries=1 retries=2\n", "retries= is given twice"},
    {"hook a http://h/ color=red\n", "unknown option 'color'"},
    {"hook a http://h/ oops\n", "expected key=value, not 'oops'"},
    {"hook a http://h/ backoff=2m backoff_max=1m\n", "backoff_max is below"},
    {"hook a http://h/ secret=relative\n", "secret= must be an absolute path"},
    {"hook a http://h/ secret=/nonexistent/key\n", "cannot open secret"},
};

static void test_load(void **state)
{
    char err[512];
    struct hooks *h;
    size_t i;
    int rc;

    (void)state;
    for (i = 0; i < sizeof(load_cases) / sizeof(load_cases[0]); i++) {
        h = NULL;
        err[0] = '\0';
        rc = load(load_cases[i].text, &h, err, sizeof(err));
        if (!load_cases[i].err) {
            if (rc)
                fail_msg("case %zu: %s", i, err);
            hooks_free(h);
            continue;
        }
        if (rc != -1 || h)
            fail_msg("case %zu reads", i);
        if (!strstr(err, load_cases[i].err))
            fail_msg("case %zu: '%s' lacks '%s'", i, err, load_cases[i].err);
    }
}

/* conf/webhooks.conf, the example: it reads, and has no hook */
static void test_example(void **state)
{
    struct hooks *h = NULL;
    char err[512];

    (void)state;
    if (hooks_load(TEST_SRCDIR "/../../conf/webhooks.conf", &h, err,
                   sizeof(err)))
        fail_msg("%s", err);
    assert_int_equal(hooks_count(h), 0);
    hooks_free(h);
}

static void test_defaults_and_match(void **state)
{
    struct hooks *h;
    const struct hook *a, *b;
    char err[256];

    (void)state;
    assert_int_equal(load("hook a http://h/x\n"
                          "hook b http://h/y events=pull,tag repos=team-a/* "
                          "timeout=2s backoff=100ms backoff_max=1s\n",
                          &h, err, sizeof(err)),
                     0);
    assert_int_equal(hooks_count(h), 2);
    a = hooks_get(h, 0);
    b = hooks_get(h, 1);
    assert_string_equal(a->name, "a");
    assert_string_equal(a->url, "http://h/x");
    assert_int_equal(a->events, HOOK_PUSH | HOOK_TAG | HOOK_DELETE);
    assert_int_equal(a->timeout_ms, 5000);
    assert_int_equal(a->retries, 8);
    assert_int_equal(a->format, HOOK_FORMAT_REGISTRY);
    assert_int_equal(b->timeout_ms, 2000);

    assert_int_equal(hook_kind("push", ""), HOOK_PUSH);
    assert_int_equal(hook_kind("push", "sha256:00"), HOOK_TAG);
    assert_int_equal(hook_kind("tag-delete", ""), HOOK_DELETE);
    assert_int_equal(hook_kind("repo-delete", NULL), HOOK_DELETE);
    assert_int_equal(hook_kind("pull", ""), HOOK_PULL);
    assert_int_equal(hook_kind("denied", ""), 0);
    assert_int_equal(hook_kind("readonly-on", ""), 0);

    assert_true(hook_wants(a, HOOK_PUSH, "x"));
    assert_true(hook_wants(a, HOOK_TAG, "x"));
    assert_false(hook_wants(a, HOOK_PULL, "x"));
    assert_false(hook_wants(a, 0, "x"));
    assert_false(hook_wants(b, HOOK_PUSH, "team-a/x"));
    assert_true(hook_wants(b, HOOK_TAG, "team-a/x/y"));
    assert_true(hook_wants(b, HOOK_PULL, "team-a/x"));
    assert_false(hook_wants(b, HOOK_PULL, "team-b/x"));

    assert_int_equal(hook_backoff_ms(b, 1), 100);
    assert_int_equal(hook_backoff_ms(b, 2), 200);
    assert_int_equal(hook_backoff_ms(b, 4), 800);
    assert_int_equal(hook_backoff_ms(b, 5), 1000);
    assert_int_equal(hook_backoff_ms(b, 60), 1000);
    hooks_free(h);
}

static const struct hook_event ev = {
    .id = "0005e1f2a3b4c5d6",
    .time_us = 1700000000123456LL,
    .kind = HOOK_TAG,
    .repo = "team-a/app",
    .ref = "v1",
    .digest =
        "sha256:"
        "1111111111111111111111111111111111111111111111111111111111111111",
    .old = "sha256:"
           "2222222222222222222222222222222222222222222222222222222222222222",
    .user = "al\xffice",
    .addr = "10.0.0.1",
    .media_type = "application/vnd.oci.image.manifest.v1+json",
    .size = 528,
    .host = "reg.example:5000",
    .instance = "inst-1",
};

static void test_registry_body(void **state)
{
    struct hooks *h;
    char err[256], *body;
    json_t *j, *e;
    json_error_t je;
    size_t len;

    (void)state;
    assert_int_equal(load("hook a http://h/\n", &h, err, sizeof(err)), 0);
    assert_string_equal(hook_content_type(hooks_get(h, 0)),
                        "application/vnd.docker.distribution.events.v1+json");
    body = hook_body(hooks_get(h, 0), &ev, &len);
    assert_int_equal(strlen(body), len);
    j = json_loads(body, 0, &je);
    assert_non_null(j);
    e = json_array_get(json_object_get(j, "events"), 0);
    assert_non_null(e);
    assert_string_equal(json_string_value(json_object_get(e, "id")), ev.id);
    assert_string_equal(json_string_value(json_object_get(e, "action")),
                        "push");
    assert_string_equal(json_string_value(json_object_get(e, "timestamp")),
                        "2023-11-14T22:13:20.123456Z");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(e, "target"), "repository")),
                        "team-a/app");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(e, "target"), "tag")),
        "v1");
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(e, "target"), "length")),
                     528);
    assert_null(json_object_get(json_object_get(e, "target"), "url"));
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(e, "actor"), "name")),
        "al?ice");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(e, "request"), "method")),
                        "PUT");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(e, "source"), "instanceID")),
                        "inst-1");
    json_decref(j);
    free(body);
    hooks_free(h);
}

static void test_cloudevents_body(void **state)
{
    struct hooks *h;
    char err[256], *body;
    json_t *j;
    json_error_t je;
    size_t len;

    (void)state;
    assert_int_equal(
        load("hook a http://h/ format=cloudevents\n", &h, err, sizeof(err)), 0);
    assert_string_equal(hook_content_type(hooks_get(h, 0)),
                        "application/cloudevents+json");
    body = hook_body(hooks_get(h, 0), &ev, &len);
    j = json_loads(body, 0, &je);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "specversion")),
                        "1.0");
    assert_string_equal(json_string_value(json_object_get(j, "type")),
                        "io.berth.tag");
    assert_string_equal(json_string_value(json_object_get(j, "subject")),
                        "team-a/app:v1");
    assert_string_equal(json_string_value(json_object_get(j, "source")),
                        "/berth/inst-1");
    assert_string_equal(
        json_string_value(json_object_get(j, "datacontenttype")),
        "application/json");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(j, "data"), "previous")),
                        ev.old);
    json_decref(j);
    free(body);
    hooks_free(h);
}

/* RFC 4231, test case 2: key "Jefe" */
static void test_sign(void **state)
{
    char key[] = "/tmp/berth-test-key-XXXXXX", text[256], err[256];
    char sig[HOOK_SIGNATURE_MAX];
    const char *data = "what do ya want for nothing?";
    struct hooks *h;

    (void)state;
    write_file(key, "Jefe\nignored\n");
    snprintf(text, sizeof(text),
             "hook a http://h/ secret=%s\nhook b http://h/\n", key);
    assert_int_equal(load(text, &h, err, sizeof(err)), 0);
    unlink(key);
    assert_int_equal(hook_sign(hooks_get(h, 0), data, strlen(data), sig), 0);
    assert_string_equal(sig, "sha256=5bdcc146bf60754e6a042426089575c75a003f08"
                             "9d2739839dec58b964ec3843");
    assert_int_equal(hook_sign(hooks_get(h, 1), data, strlen(data), sig), -1);
    assert_string_equal(sig, "");
    hooks_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load),
        cmocka_unit_test(test_example),
        cmocka_unit_test(test_defaults_and_match),
        cmocka_unit_test(test_registry_body),
        cmocka_unit_test(test_cloudevents_body),
        cmocka_unit_test(test_sign),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
