#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "util/lines.h"
#include "util/names.h"
#include "util/xalloc.h"

#define WHO_MAX     256
#define PATTERN_MAX (NAME_MAX_LEN + 1)

enum who { WHO_ANYONE, WHO_ANONYMOUS, WHO_AUTHENTICATED, WHO_USER };

struct rule {
    enum who who;
    char user[WHO_MAX];
    unsigned actions;
    char pattern[PATTERN_MAX];
};

struct auth_policy {
    struct rule *rules;
    size_t n;
};

static int parse_actions(char *s, unsigned *out)
{
    static const struct {
        const char *name;
        unsigned bits;
    } names[] = {
        {"pull", AUTH_PULL},
        {"push", AUTH_PUSH | AUTH_PULL},
        {"delete", AUTH_DELETE},
        {"catalog", AUTH_CATALOG},
        {"all", AUTH_PULL | AUTH_PUSH | AUTH_DELETE | AUTH_CATALOG},
    };
    char *tok;
    size_t i;

    *out = 0;
    /* strsep, not strtok: "pull,,push" and "pull," are mistakes */
    while ((tok = strsep(&s, ","))) {
        for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
            if (!strcmp(tok, names[i].name))
                break;
        }
        if (i == sizeof(names) / sizeof(names[0]))
            return -1;
        *out |= names[i].bits;
    }
    return *out ? 0 : -1;
}

/* Parse one non-blank line into r; return NULL or what is wrong. */
static const char *parse_rule(char *line, struct rule *r)
{
    char *who, *actions, *pattern, *extra, *save = NULL;

    who = strtok_r(line, " \t\r\n", &save);
    actions = strtok_r(NULL, " \t\r\n", &save);
    pattern = strtok_r(NULL, " \t\r\n", &save);
    extra = strtok_r(NULL, " \t\r\n", &save);
    if (!who || !actions || !pattern || extra)
        return "expected 'who actions repositories'";
    memset(r, 0, sizeof(*r));
    if (!strcmp(who, "*"))
        r->who = WHO_ANYONE;
    else if (!strcmp(who, "anonymous"))
        r->who = WHO_ANONYMOUS;
    else if (!strcmp(who, "authenticated"))
        r->who = WHO_AUTHENTICATED;
    else if (strlen(who) >= sizeof(r->user))
        return "user name too long";
    else {
        r->who = WHO_USER;
        memcpy(r->user, who, strlen(who) + 1);
    }
    if (parse_actions(actions, &r->actions))
        return "actions are pull, push, delete, catalog or all, "
               "comma-separated";
    if (strlen(pattern) >= sizeof(r->pattern))
        return "repository pattern too long";
    memcpy(r->pattern, pattern, strlen(pattern) + 1);
    return NULL;
}

/* lines_fn: one more rule of the access file. */
static int add_rule(void *ctx, char *s, char *why, size_t len)
{
    struct auth_policy *p = ctx;
    const char *wrong;

    p->rules = xrealloc(p->rules, (p->n + 1) * sizeof(*p->rules));
    wrong = parse_rule(s, &p->rules[p->n]);
    if (wrong) {
        snprintf(why, len, "%s", wrong);
        return -1;
    }
    p->n++;
    return 0;
}

int auth_policy_load(const char *path, struct auth_policy **out, char *err,
                     size_t errlen)
{
    struct auth_policy *p = xcalloc(1, sizeof(*p));

    if (lines_read(path, "access", add_rule, p, err, errlen)) {
        auth_policy_free(p);
        return -1;
    }
    *out = p;
    return 0;
}

void auth_policy_free(struct auth_policy *p)
{
    if (!p)
        return;
    free(p->rules);
    free(p);
}

static int who_matches(const struct rule *r, const char *user)
{
    switch (r->who) {
    case WHO_ANYONE:
        return 1;
    case WHO_ANONYMOUS:
        return !user;
    case WHO_AUTHENTICATED:
        return user != NULL;
    default:
        return user && !strcmp(r->user, user);
    }
}

enum auth_result auth_check(const struct auth_policy *p, const char *user,
                            const char *repo, enum auth_action action)
{
    size_t i;

    if (!p)
        return AUTH_OK;
    if (user && !*user)
        user = NULL;
    if (action == AUTH_LOGIN)
        return user ? AUTH_OK : AUTH_NEED_LOGIN;
    for (i = 0; i < p->n; i++) {
        const struct rule *r = &p->rules[i];

        if (!(r->actions & action) || !who_matches(r, user))
            continue;
        /* the catalog is one thing, not a repository */
        if (action == AUTH_CATALOG || name_pattern_match(r->pattern, repo))
            return AUTH_OK;
    }
    return user ? AUTH_DENIED : AUTH_NEED_LOGIN;
}
