#ifndef BERTH_POLICY_POLICY_H
#define BERTH_POLICY_POLICY_H

#include <stddef.h>

/*
 * What a push may do beyond what the access rules allow, from a policy
 * file of rules (policy = FILE in berth.conf): byte quotas of namespaces
 * and immutable tags. One rule a line:
 *
 *   # rule      repositories    value
 *   quota       team-a/[*]      10G
 *   quota       library/alpine  500M
 *   quota       *               2T
 *   immutable   release/[*]     v*,stable
 *
 * (here "[*]" stands for a plain '*', which cannot follow '/' in C)
 *
 * quota PATTERN SIZE: the repositories PATTERN names together hold at most
 * SIZE bytes (digits and K, M, G or T, powers of 1024). A quota counts a
 * namespace, so PATTERN is one: a repository name, NAME/[*] (every
 * repository whose name starts with NAME/, at any depth), or * (the whole
 * registry). What counts is the store's (store_ns_usage()): each blob
 * that a repository of the namespace links, once however many of them
 * link it, and the bytes of each repository's manifests. Every quota rule
 * whose pattern matches a repository holds for it.
 *
 * immutable PATTERN GLOB[,GLOB...]: in the repositories of the shell
 * pattern PATTERN, a tag that matches one of the shell patterns GLOB
 * names one manifest for good: pushing that manifest again is fine,
 * pointing the tag at another one, or deleting it, is not.
 *
 * Patterns are those of util/names.h (fnmatch(3); '*' also matches '/').
 * '#' starts a comment; blank lines are ignored. Knows nothing of the
 * store or of HTTP.
 */

struct policy; /* opaque: the rules of one file */

/*
 * Read the policy file path. Return 0 and set *out (free it with
 * policy_free(), which accepts NULL), or -1 with a one-line reason in err
 * (errlen bytes, always terminated) naming the file and line, as
 * "policy.conf:3: quota of 'team-*' is not a namespace".
 */
int policy_load(const char *path, struct policy **out, char *err,
                size_t errlen);
void policy_free(struct policy *p);

/* Whether path reads as a policy file: policy_load() and policy_free(). */
int policy_check(const char *path, char *err, size_t errlen);

/* A quota rule; the strings live as long as its policy. */
struct policy_quota {
    const char *pattern; /* as written: "team-a/[*]" */
    /*
     * The namespace, as store_ns_usage() takes it: "" for *, "NAME/" for
     * NAME/[*], the repository name for one repository
     */
    const char *ns;
    long long limit; /* bytes */
};

/*
 * The quota rules that hold for repo (NULL: all of them), one a call, in
 * the file's order: the first at *i = 0, then *i is where the next search
 * starts. NULL when there is none left, or p is NULL.
 */
const struct policy_quota *policy_quota_next(const struct policy *p,
                                             const char *repo, size_t *i);

/* Whether tag of repo is immutable: 1 or 0 (0 when p is NULL). */
int policy_immutable(const struct policy *p, const char *repo, const char *tag);

#endif
