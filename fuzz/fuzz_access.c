/*
 * auth_policy_load() (auth/auth.h) on the input as an access file, and
 * auth_check() of a policy it accepts with a few users, repositories and
 * actions, for the rules' patterns and names. The corpus is the access
 * files of tests/unit/test_auth.c and conf/access.conf.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "fuzz/fuzz.h"

static const char *const users[] = {NULL, "", "alice", "ci", "anonymous"};
static const char *const repos[] = {"a", "public/x", "team-a/b/c",
                                    "library/busybox"};
static const enum auth_action actions[] = {AUTH_PULL, AUTH_PUSH, AUTH_DELETE,
                                           AUTH_CATALOG, AUTH_LOGIN};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct auth_policy *p = NULL;
    enum auth_result r;
    char err[512];
    size_t u, i, a;

    if (auth_policy_load(fuzz_file(data, size), &p, err, sizeof(err))) {
        if (p || !memchr(err, '\0', sizeof(err)))
            abort();
        return 0;
    }
    for (u = 0; u < sizeof(users) / sizeof(users[0]); u++)
        for (i = 0; i < sizeof(repos) / sizeof(repos[0]); i++)
            for (a = 0; a < sizeof(actions) / sizeof(actions[0]); a++) {
                r = auth_check(p, users[u], repos[i], actions[a]);
                if (r != AUTH_OK && r != AUTH_NEED_LOGIN && r != AUTH_DENIED)
                    abort();
                /* an anonymous client is told to log in, never denied */
                if (!(users[u] && *users[u]) && r == AUTH_DENIED)
                    abort();
            }
    auth_policy_free(p);
    return 0;
}
