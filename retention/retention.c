#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "retention/retention.h"
#include "util/lines.h"
#include "util/names.h"
#include "util/scaled.h"
#include "util/xalloc.h"

#define PATTERN_MAX (NAME_MAX_LEN + 1)

/* berth.conf's durations and weeks: retention periods are long */
static const struct scaled_unit duration_units[] = {
    {"w", 604800}, {"d", 86400}, {"h", 3600}, {"m", 60}, {"s", 1}, {NULL, 0},
};

static const struct scaled_unit no_units[] = {{NULL, 0}};

enum rule_kind {
    RULE_LAST = 1 << 0,
    RULE_TAGS = 1 << 1,
    RULE_NEWER = 1 << 2,
};

struct line {
    char pattern[PATTERN_MAX];
    unsigned rules; /* the RULE_* bits given, at least one */
    size_t last;
    char *globs;      /* keep-tags as written, for reasons */
    char *glob;       /* the same, each ',' a '\0' */
    size_t nglob;     /* how many strings glob holds */
    long long newer;  /* seconds */
    char *newer_text; /* keep-newer as written, for reasons */
};

struct retention {
    struct line *lines;
    size_t n;
};

static char *copy_string(const char *s)
{
    size_t n = strlen(s) + 1;

    return memcpy(xmalloc(n), s, n);
}

/* keep-tags=GLOB[,GLOB...] into l; return 0, or -1 with why written. */
static int parse_globs(const char *v, struct line *l, char *why, size_t len)
{
    char *rest, *g;

    l->globs = copy_string(v);
    l->glob = copy_string(v);
    /* strsep, not strtok: "v*,,x" and "v*," are mistakes */
    rest = l->glob;
    while ((g = strsep(&rest, ","))) {
        if (!*g) {
            snprintf(why, len, "empty pattern in 'keep-tags=%s'", v);
            return -1;
        }
        if (name_pattern_check(g, NAME_PATTERN_TAG, why, len))
            return -1;
        l->nglob++;
    }
    return 0;
}

/* Parse one "name=value" rule into l; return 0, or -1 with why written. */
static int parse_rule(char *tok, struct line *l, char *why, size_t len)
{
    static const struct {
        const char *name;
        enum rule_kind kind;
        const char *form;
    } rules[] = {
        {"keep-last", RULE_LAST, "keep-last=N (N tags, 0 or more)"},
        {"keep-tags", RULE_TAGS, "keep-tags=GLOB[,GLOB...]"},
        {"keep-newer", RULE_NEWER,
         "keep-newer=DURATION (digits and s, m, h, d or w)"},
    };
    char *eq = strchr(tok, '=');
    unsigned long long v;
    size_t i, n = eq ? (size_t)(eq - tok) : strlen(tok);

    for (i = 0; i < ARRAY_SIZE(rules); i++) {
        if (strlen(rules[i].name) == n && !memcmp(tok, rules[i].name, n))
            break;
    }
    if (i == ARRAY_SIZE(rules)) {
        snprintf(why, len,
                 "unknown rule '%.*s' (keep-last, keep-tags or keep-newer)",
                 (int)n, tok);
        return -1;
    }
    if (l->rules & rules[i].kind) {
        snprintf(why, len, "%s is given twice", rules[i].name);
        return -1;
    }
    l->rules |= rules[i].kind;
    if (eq && rules[i].kind == RULE_TAGS)
        return parse_globs(eq + 1, l, why, len);
    if (eq && rules[i].kind == RULE_LAST &&
        !scaled_parse(eq + 1, no_units, SIZE_MAX, &v)) {
        l->last = (size_t)v;
        return 0;
    }
    if (eq && rules[i].kind == RULE_NEWER &&
        !scaled_parse(eq + 1, duration_units, LLONG_MAX, &v)) {
        l->newer = (long long)v;
        l->newer_text = copy_string(eq + 1);
        return 0;
    }
    snprintf(why, len, "expected %s, not '%s'", rules[i].form, tok);
    return -1;
}

/* Parse one non-blank line into l; return 0, or -1 with why written. */
static int parse_line(char *s, struct line *l, char *why, size_t len)
{
    char *pattern, *tok, *save = NULL;

    memset(l, 0, sizeof(*l));
    pattern = strtok_r(s, " \t\r\n", &save);
    if (strlen(pattern) >= sizeof(l->pattern)) {
        snprintf(why, len, "repository pattern is too long");
        return -1;
    }
    if (name_pattern_check(pattern, NAME_PATTERN_REPO, why, len))
        return -1;
    memcpy(l->pattern, pattern, strlen(pattern) + 1);
    while ((tok = strtok_r(NULL, " \t\r\n", &save))) {
        if (parse_rule(tok, l, why, len))
            return -1;
    }
    if (!l->rules) {
        snprintf(why, len, "no rules for '%s'", l->pattern);
        return -1;
    }
    return 0;
}

static void line_release(struct line *l)
{
    free(l->globs);
    free(l->glob);
    free(l->newer_text);
}

/* lines_fn: one more line of the retention file. */
static int add_line(void *ctx, char *s, char *why, size_t len)
{
    struct retention *r = ctx;

    r->lines = xrealloc(r->lines, (r->n + 1) * sizeof(*r->lines));
    /* counted first: a line that fails holds memory too */
    return parse_line(s, &r->lines[r->n++], why, len);
}

int retention_load(const char *path, struct retention **out, char *err,
                   size_t errlen)
{
    struct retention *r = xcalloc(1, sizeof(*r));

    if (lines_read(path, "retention", add_line, r, err, errlen)) {
        retention_free(r);
        return -1;
    }
    *out = r;
    return 0;
}

void retention_free(struct retention *r)
{
    size_t i;

    if (!r)
        return;
    for (i = 0; i < r->n; i++)
        line_release(&r->lines[i]);
    free(r->lines);
    free(r);
}

/* Newest first: by push time, then the greater name, then the array. */
static int newest_first(const void *a, const void *b)
{
    const struct retention_tag *x = *(const struct retention_tag *const *)a;
    const struct retention_tag *y = *(const struct retention_tag *const *)b;
    int c;

    if (x->pushed != y->pushed)
        return x->pushed > y->pushed ? -1 : 1;
    c = strcmp(y->tag, x->tag);
    if (c)
        return c;
    return x < y ? -1 : x > y;
}

/* Leave drop[i] = 1 only for tags not among the l->last newest. */
static void keep_last(const struct line *l, const struct retention_tag *tags,
                      size_t n, unsigned char *drop)
{
    const struct retention_tag **order;
    size_t i;

    if (l->last >= n) {
        memset(drop, 0, n);
        return;
    }
    order = xcalloc(n, sizeof(*order));
    for (i = 0; i < n; i++)
        order[i] = &tags[i];
    qsort(order, n, sizeof(*order), newest_first);
    for (i = 0; i < l->last; i++)
        drop[order[i] - tags] = 0;
    free(order);
}

static int glob_matches(const struct line *l, const char *tag)
{
    const char *g = l->glob;
    size_t i;

    for (i = 0; i < l->nglob; i++, g += strlen(g) + 1) {
        if (name_pattern_match(g, tag))
            return 1;
    }
    return 0;
}

/* Seconds from pushed to now, or -1 if pushed is not before now. */
static long long age(long long pushed, long long now)
{
    long long a;

    if (pushed >= now)
        return -1;
    /* a push time far in the past is very old, not an overflow */
    return __builtin_sub_overflow(now, pushed, &a) ? LLONG_MAX : a;
}

/* In days, hours, minutes and seconds, without those that are 0: "95d". */
static void format_age(long long secs, char *buf, size_t len)
{
    const struct scaled_unit *u;
    size_t n = 0;

    if (secs < 1) {
        snprintf(buf, len, "0s");
        return;
    }
    buf[0] = '\0';
    for (u = duration_units + 1; u->suffixes && n < len; u++) {
        if ((unsigned long long)secs >= u->mult) {
            n += (size_t)snprintf(buf + n, len - n, "%llu%c",
                                  (unsigned long long)secs / u->mult,
                                  u->suffixes[0]);
            secs %= (long long)u->mult;
        }
    }
}

/* Why line l drops a tag pushed at pushed: each of its rules' say. */
static void reason(const struct line *l, long long pushed, long long now,
                   char *buf, size_t len)
{
    char ago[64];
    const char *sep = "", *t;
    size_t n = 0;

    buf[0] = '\0';
    if ((l->rules & RULE_LAST) && n < len) {
        n += (size_t)snprintf(buf + n, len - n, "not among the newest %zu",
                              l->last);
        sep = " and ";
    }
    /* a long list would crowd out the age: cut it short */
    if ((l->rules & RULE_TAGS) && n < len) {
        n += (size_t)snprintf(buf + n, len - n, "%snot matching %.48s%s", sep,
                              l->globs, strlen(l->globs) > 48 ? "..." : "");
        sep = " and ";
    }
    if ((l->rules & RULE_NEWER) && n < len) {
        t = l->newer_text;
        format_age(age(pushed, now), ago, sizeof(ago));
        /* the limit as the line says it; bare digits are seconds */
        snprintf(buf + n, len - n, "%spushed %s ago, over %s%s", sep, ago, t,
                 isdigit((unsigned char)t[strlen(t) - 1]) ? "s" : "");
    }
}

static const struct line *line_for(const struct retention *r, const char *repo)
{
    size_t i;

    for (i = 0; r && i < r->n; i++) {
        if (name_pattern_match(r->lines[i].pattern, repo))
            return &r->lines[i];
    }
    return NULL;
}

size_t retention_apply(const struct retention *r, const char *repo,
                       const struct retention_tag *tags, size_t n,
                       long long now, unsigned char *drop,
                       char (*why)[RETENTION_WHY_MAX])
{
    const struct line *l = line_for(r, repo);
    size_t i, dropped = 0;

    if (!n) /* drop and why may be NULL then */
        return 0;
    memset(drop, l != NULL, n);
    if (l && (l->rules & RULE_LAST))
        keep_last(l, tags, n, drop);
    for (i = 0; i < n; i++) {
        if (drop[i] && (l->rules & RULE_TAGS) && glob_matches(l, tags[i].tag))
            drop[i] = 0;
        if (drop[i] && (l->rules & RULE_NEWER) &&
            age(tags[i].pushed, now) <= l->newer)
            drop[i] = 0;
        if (why && drop[i])
            reason(l, tags[i].pushed, now, why[i], sizeof(why[i]));
        else if (why)
            why[i][0] = '\0';
        dropped += drop[i];
    }
    return dropped;
}
