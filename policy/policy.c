#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"
#include "util/lines.h"
#include "util/names.h"
#include "util/scaled.h"
#include "util/xalloc.h"

#define PATTERN_MAX (NAME_MAX_LEN + 1)

/* sizes as berth.conf writes them (config/conf.c) */
static const struct scaled_unit size_units[] = {
    {"Tt", 1ULL << 40}, {"Gg", 1ULL << 30}, {"Mm", 1ULL << 20},
    {"Kk", 1ULL << 10}, {NULL, 0},
};

enum rule_kind { RULE_QUOTA, RULE_IMMUTABLE };

struct rule {
    enum rule_kind kind;
    char pattern[PATTERN_MAX];
    struct policy_quota quota; /* RULE_QUOTA; strings point into rule */
    char ns[PATTERN_MAX];
    char *glob;   /* RULE_IMMUTABLE: the tag patterns, each ',' a '\0' */
    size_t nglob; /* how many strings glob holds */
};

struct policy {
    struct rule *rules;
    size_t n;
};

static char *copy_string(const char *s)
{
    size_t n = strlen(s) + 1;

    return memcpy(xmalloc(n), s, n);
}

/*
 * The namespace of quota pattern p into ns: "" for "*", "NAME/" for
 * "NAME/" "*", p itself for a repository name. -1 if p is none of them.
 */
static int quota_ns(const char *p, char *ns)
{
    size_t len = strlen(p);

    if (!strcmp(p, "*")) {
        ns[0] = '\0';
        return 0;
    }
    if (len > 2 && !strcmp(p + len - 2, "/*") && name_valid(p, len - 2)) {
        memcpy(ns, p, len - 1);
        ns[len - 1] = '\0';
        return 0;
    }
    if (!name_valid(p, len))
        return -1;
    memcpy(ns, p, len + 1);
    return 0;
}

static int parse_quota(const char *v, struct rule *r, char *why, size_t len)
{
    unsigned long long limit;

    if (quota_ns(r->pattern, r->ns)) {
        snprintf(why, len,
                 "quota of '%s' is not a namespace: a repository name, "
                 "NAME/* or *",
                 r->pattern);
        return -1;
    }
    if (scaled_parse(v, size_units, LLONG_MAX, &limit)) {
        snprintf(why, len,
                 "expected a size (digits and K, M, G or T), not '%s'", v);
        return -1;
    }
    r->quota.limit = (long long)limit;
    return 0;
}

static int parse_immutable(const char *v, struct rule *r, char *why, size_t len)
{
    char *rest, *g;

    r->glob = copy_string(v);
    /* strsep, not strtok: "v*,,x" and "v*," are mistakes */
    rest = r->glob;
    while ((g = strsep(&rest, ","))) {
        if (!*g) {
            snprintf(why, len, "empty tag pattern in '%s'", v);
            return -1;
        }
        if (name_pattern_check(g, NAME_PATTERN_TAG, why, len))
            return -1;
        r->nglob++;
    }
    return 0;
}

/* Parse one non-blank line into r; return 0, or -1 with why written. */
static int parse_line(char *s, struct rule *r, char *why, size_t len)
{
    char *kind, *pattern, *value, *extra, *save = NULL;

    memset(r, 0, sizeof(*r));
    kind = strtok_r(s, " \t\r\n", &save);
    pattern = strtok_r(NULL, " \t\r\n", &save);
    value = strtok_r(NULL, " \t\r\n", &save);
    extra = strtok_r(NULL, " \t\r\n", &save);
    if (!strcmp(kind, "quota")) {
        r->kind = RULE_QUOTA;
    } else if (!strcmp(kind, "immutable")) {
        r->kind = RULE_IMMUTABLE;
    } else {
        snprintf(why, len, "unknown rule '%s' (quota or immutable)", kind);
        return -1;
    }
    if (!pattern || !value || extra) {
        snprintf(why, len, "expected '%s REPOSITORIES %s'", kind,
                 r->kind == RULE_QUOTA ? "SIZE" : "GLOB[,GLOB...]");
        return -1;
    }
    if (strlen(pattern) >= sizeof(r->pattern)) {
        snprintf(why, len, "repository pattern is too long");
        return -1;
    }
    if (name_pattern_check(pattern, NAME_PATTERN_REPO, why, len))
        return -1;
    memcpy(r->pattern, pattern, strlen(pattern) + 1);
    return r->kind == RULE_QUOTA ? parse_quota(value, r, why, len)
                                 : parse_immutable(value, r, why, len);
}

/* lines_fn: one more rule of the policy file. */
static int add_rule(void *ctx, char *s, char *why, size_t len)
{
    struct policy *p = ctx;

    p->rules = xrealloc(p->rules, (p->n + 1) * sizeof(*p->rules));
    /* counted first: a line that fails holds memory too */
    return parse_line(s, &p->rules[p->n++], why, len);
}

int policy_load(const char *path, struct policy **out, char *err, size_t errlen)
{
    struct policy *p = xcalloc(1, sizeof(*p));
    size_t i;

    if (lines_read(path, "policy", add_rule, p, err, errlen)) {
        policy_free(p);
        return -1;
    }
    /* a quota points into its rule: set it once the array stays put */
    for (i = 0; i < p->n; i++) {
        p->rules[i].quota.pattern = p->rules[i].pattern;
        p->rules[i].quota.ns = p->rules[i].ns;
    }
    *out = p;
    return 0;
}

int policy_check(const char *path, char *err, size_t errlen)
{
    struct policy *p;

    if (policy_load(path, &p, err, errlen))
        return -1;
    policy_free(p);
    return 0;
}

void policy_free(struct policy *p)
{
    size_t i;

    if (!p)
        return;
    for (i = 0; i < p->n; i++)
        free(p->rules[i].glob);
    free(p->rules);
    free(p);
}

const struct policy_quota *policy_quota_next(const struct policy *p,
                                             const char *repo, size_t *i)
{
    const struct rule *r;

    for (; p && *i < p->n; (*i)++) {
        r = &p->rules[*i];
        if (r->kind == RULE_QUOTA &&
            (!repo || name_pattern_match(r->pattern, repo))) {
            (*i)++;
            return &r->quota;
        }
    }
    return NULL;
}

int policy_immutable(const struct policy *p, const char *repo, const char *tag)
{
    const struct rule *r;
    const char *g;
    size_t i, j;

    for (i = 0; p && i < p->n; i++) {
        r = &p->rules[i];
        if (r->kind != RULE_IMMUTABLE || !name_pattern_match(r->pattern, repo))
            continue;
        for (j = 0, g = r->glob; j < r->nglob; j++, g += strlen(g) + 1) {
            if (name_pattern_match(g, tag))
                return 1;
        }
    }
    return 0;
}
