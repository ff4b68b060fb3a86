/*
 * mirror_load() (mirror/mirror.h) on the input as a mirror rules file.
 * One it refuses must leave no rules and a terminated reason that names
 * the file; one it accepts must say the same through mirror_check(), and
 * map a few repositories to an upstream whose prefix starts the name,
 * with the rest of the name, a valid one, as the name there. The corpus
 * is conf/mirror.conf and rules like those of tests/unit/test_mirror.c.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "mirror/mirror.h"
#include "util/names.h"

static const char *const repos[] = {"a",          "hub/library/alpine",
                                    "hub/quay/x", "library/alpine",
                                    "team/app",   "team",
                                    "hub",        "a/b/c/d"};

#define NREPOS (sizeof(repos) / sizeof(repos[0]))

static void check_mirror(const struct mirror *m)
{
    char remote[NAME_MAX_LEN + 1];
    const struct mirror_upstream *u;
    size_t i, plen;

    for (i = 0; i < mirror_count(m); i++) {
        u = mirror_get(m, i);
        if (u && (strncmp(u->url, "http", 4) || u->timeout <= 0 ||
                  u->revalidate <= 0))
            abort();
    }
    if (mirror_cache_max(m) < 0)
        abort();
    for (i = 0; i < NREPOS; i++) {
        u = mirror_match(m, repos[i], remote);
        if (!u)
            continue;
        plen = strlen(u->prefix);
        if (strncmp(repos[i], u->prefix, plen) ||
            strcmp(remote, repos[i] + plen) ||
            !name_valid(remote, strlen(remote)))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mirror *m = NULL;
    const char *name = fuzz_file(data, size);
    char err[512], err2[512];

    if (mirror_load(name, &m, err, sizeof(err))) {
        if (m || !memchr(err, '\0', sizeof(err)) || !strstr(err, name))
            abort();
        if (mirror_check(name, err2, sizeof(err2)) != -1 || strcmp(err, err2))
            abort();
        return 0;
    }
    if (!m || mirror_check(name, err, sizeof(err)))
        abort();
    check_mirror(m);
    mirror_free(m);
    return 0;
}
