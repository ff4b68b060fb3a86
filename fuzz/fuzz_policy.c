/*
 * policy_load() (policy/policy.h) on the input as a policy file. One it
 * refuses must leave no policy and a terminated reason that names the
 * file, in a short buffer too; one it accepts must give, for a few
 * repositories, exactly the quota rules whose patterns match, each with
 * the namespace of its pattern, and say 0 or 1 of a few tags. The corpus
 * is conf/policy.conf and the files of tests/unit/test_policy.c.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "policy/policy.h"
#include "util/names.h"

static const char *const repos[] = {
    "a",           "team-a",      "team-a/x",       "team-a/x/y",
    "team-ab/x",   "release/app", "release/a/b",    "library/alpine",
    "library/a-b", "a.b/c__d",    "v1.0/stable/rc", "x/y/z/w"};
static const char *const tags[] = {"v1.0", "stable", "latest", "rc-1",
                                   "a",    "V_1",    "x.y-z"};

#define NREPOS (sizeof(repos) / sizeof(repos[0]))
#define NTAGS  (sizeof(tags) / sizeof(tags[0]))

/* the promises of one quota rule: its namespace is that of its pattern */
static void check_quota(const struct policy_quota *q)
{
    size_t len;

    if (!q->pattern || !q->ns || q->limit < 0)
        abort();
    len = strlen(q->ns);
    if (!len) {
        if (strcmp(q->pattern, "*"))
            abort();
    } else if (q->ns[len - 1] == '/') {
        /* "NAME/": the pattern is "NAME/" "*" */
        if (strncmp(q->pattern, q->ns, len) || strcmp(q->pattern + len, "*") ||
            !name_valid(q->ns, len - 1))
            abort();
    } else if (strcmp(q->pattern, q->ns) || !name_valid(q->ns, len)) {
        abort();
    }
}

/* Whether repository repo is in namespace ns, as store_ns_usage() counts */
static int in_ns(const char *ns, const char *repo)
{
    size_t len = strlen(ns);

    if (!len)
        return 1;
    if (ns[len - 1] == '/')
        return !strncmp(ns, repo, len);
    return !strcmp(ns, repo);
}

/*
 * The quota rules of repo must be those of all (the rules, as NULL gives
 * them) whose patterns match repo, in order, and each must count repo.
 */
static void check_repo(const struct policy *p, const char *repo,
                       const struct policy_quota *const *all, size_t nall)
{
    const struct policy_quota *q;
    size_t i = 0, prev = 0, a = 0;

    while ((q = policy_quota_next(p, repo, &i))) {
        if (i <= prev)
            abort();
        prev = i;
        for (; a < nall && all[a] != q; a++) {
            if (name_pattern_match(all[a]->pattern, repo))
                abort(); /* a rule that holds for repo was skipped */
        }
        if (a == nall || !name_pattern_match(q->pattern, repo) ||
            !in_ns(q->ns, repo))
            abort();
        a++;
    }
    for (; a < nall; a++) {
        if (name_pattern_match(all[a]->pattern, repo))
            abort();
    }
    /* at the end it stays at the end */
    if (policy_quota_next(p, repo, &i))
        abort();
}

static void check_policy(const struct policy *p)
{
    const struct policy_quota **all = NULL, *q;
    size_t i = 0, prev = 0, nall = 0, r, t;
    int imm;

    while ((q = policy_quota_next(p, NULL, &i))) {
        if (i <= prev)
            abort();
        prev = i;
        check_quota(q);
        all = realloc(all, (nall + 1) * sizeof(*all));
        if (!all)
            abort();
        all[nall++] = q;
    }
    for (r = 0; r < NREPOS; r++) {
        check_repo(p, repos[r], all, nall);
        for (t = 0; t < NTAGS; t++) {
            imm = policy_immutable(p, repos[r], tags[t]);
            if (imm != 0 && imm != 1)
                abort();
        }
    }
    free(all);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct policy *p = NULL;
    const char *name = fuzz_file(data, size);
    char err[512], err2[512], small[32];
    size_t i, want;

    if (policy_load(name, &p, err, sizeof(err))) {
        if (p || !memchr(err, '\0', sizeof(err)) || !strstr(err, name))
            abort();
        /* policy_check() says the same; a short buffer stays terminated */
        if (policy_check(name, err2, sizeof(err2)) != -1 || strcmp(err, err2))
            abort();
        memset(small, 'x', sizeof(small));
        want = strlen(err) < 15 ? strlen(err) : 15;
        if (policy_check(name, small, 16) != -1 || strlen(small) != want ||
            strncmp(small, err, want))
            abort();
        for (i = 16; i < sizeof(small); i++) {
            if (small[i] != 'x')
                abort();
        }
        return 0;
    }
    if (!p || policy_check(name, err, sizeof(err)))
        abort();
    check_policy(p);
    policy_free(p);
    return 0;
}
