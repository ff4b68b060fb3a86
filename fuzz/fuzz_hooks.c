/*
 * hooks_load() (hooks/hooks.h) on the input as a webhooks file. One it
 * refuses must leave no hooks and a terminated reason that names the
 * file; one it accepts must give hooks whose names, URLs and bounds are
 * as the header promises, and whose bodies for an event of each kind are
 * JSON. The corpus is the files of tests/unit/test_hooks.c.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fuzz/fuzz.h"
#include "hooks/hooks.h"

static void check_hook(const struct hook *h)
{
    static const unsigned kinds[] = {HOOK_PUSH, HOOK_TAG, HOOK_DELETE,
                                     HOOK_PULL};
    struct hook_event e = {.id = "1",
                           .repo = "a/b",
                           .ref = "v1",
                           .digest = "",
                           .old = "",
                           .user = "u",
                           .addr = "::1",
                           .media_type = "",
                           .size = -1,
                           .host = "h",
                           .instance = "i"};
    char sig[HOOK_SIGNATURE_MAX], *body;
    json_error_t je;
    json_t *j;
    size_t i, len;

    if (!h->name[0] || strlen(h->name) > HOOK_NAME_MAX ||
        strncmp(h->url, "http", 4) || h->timeout_ms < 1 || h->retries < 0 ||
        h->retries > 100 || h->backoff_ms < 1 ||
        h->backoff_max_ms < h->backoff_ms || h->secret_len > HOOK_SECRET_MAX)
        abort();
    for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        e.kind = kinds[i];
        hook_wants(h, kinds[i], "a/b");
        body = hook_body(h, &e, &len);
        j = json_loadb(body, len, 0, &je);
        if (!j)
            abort();
        json_decref(j);
        if (hook_sign(h, body, len, sig) == 0 && strlen(sig) != 71)
            abort();
        free(body);
    }
    if (hook_backoff_ms(h, 1000) > h->backoff_max_ms)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct hooks *h = NULL;
    const char *name = fuzz_file(data, size);
    char err[512];
    size_t i;

    if (hooks_load(name, &h, err, sizeof(err))) {
        if (h || !memchr(err, '\0', sizeof(err)) || !strstr(err, name))
            abort();
        return 0;
    }
    if (!h)
        abort();
    for (i = 0; i < hooks_count(h); i++)
        check_hook(hooks_get(h, i));
    hooks_free(h);
    return 0;
}
