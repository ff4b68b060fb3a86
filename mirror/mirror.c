#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mirror/mirror.h"
#include "util/lines.h"
#include "util/scaled.h"
#include "util/xalloc.h"

/* sizes and durations as berth.conf writes them (config/conf.c) */
static const struct scaled_unit size_units[] = {
    {"Tt", 1ULL << 40}, {"Gg", 1ULL << 30}, {"Mm", 1ULL << 20},
    {"Kk", 1ULL << 10}, {NULL, 0},
};
static const struct scaled_unit duration_units[] = {
    {"d", 86400}, {"h", 3600}, {"m", 60}, {"s", 1}, {NULL, 0},
};

/* A rule; its strings are its own, the upstream's point into them. */
struct rule {
    int local;  /* a local rule: no upstream */
    char *text; /* prefix, url, credentials, ca: each ended by a NUL */
    struct mirror_upstream up;
};

struct mirror {
    struct rule *rules;
    size_t n;
    long long cache_max;
    int has_cache_max;
};

/* The longest URL an upstream may have: scheme, host, port. */
#define URL_MAX 512

static char *copy_string(const char *s)
{
    size_t n = strlen(s) + 1;

    return memcpy(xmalloc(n), s, n);
}

/* "PREFIX/": a valid name and a '/'; "*" (when star) stands for "". */
static int parse_prefix(const char *p, int star, char *why, size_t len)
{
    size_t n = strlen(p);

    if (star && !strcmp(p, "*"))
        return 0;
    if (n < 2 || p[n - 1] != '/' || !name_valid(p, n - 1)) {
        snprintf(why, len,
                 "'%s' is not a prefix: a repository name and a '/'%s", p,
                 star ? ", or *" : "");
        return -1;
    }
    return 0;
}

/* http:// or https://, then a host[:port] of printable characters. */
static int parse_url(const char *u, char *why, size_t len)
{
    const char *host;
    size_t i;

    if (!strncmp(u, "https://", 8))
        host = u + 8;
    else if (!strncmp(u, "http://", 7))
        host = u + 7;
    else
        host = NULL;
    if (!host || !*host || strlen(u) >= URL_MAX) {
        snprintf(why, len,
                 "'%s' is not an upstream URL (http:// or "
                 "https://, then host[:port])",
                 u);
        return -1;
    }
    for (i = 0; host[i]; i++) {
        unsigned char c = (unsigned char)host[i];

        /* no path, query, credentials or anything curl would take apart */
        if (c <= ' ' || c >= 0x7f || strchr("/?#@\\\"'", c)) {
            snprintf(why, len,
                     "upstream URL '%s' has more than a host and "
                     "port",
                     u);
            return -1;
        }
    }
    return 0;
}

static int parse_duration(const char *v, const char *key, long long *out,
                          char *why, size_t len)
{
    unsigned long long n;

    if (scaled_parse(v, duration_units, 365ULL * 86400, &n) || n == 0) {
        snprintf(why, len,
                 "%s: expected a duration (digits and s, m, h or "
                 "d), not '%s'",
                 key, v);
        return -1;
    }
    *out = (long long)n;
    return 0;
}

/*
 * The options of an upstream rule (words, n of them): into r, whose text
 * holds prefix and url already and gets the file names appended.
 */
static int parse_options(struct rule *r, char **words, size_t n, char *why,
                         size_t len)
{
    const char *cred = NULL, *ca = NULL;
    size_t i, tlen;
    char *v;

    r->up.revalidate = MIRROR_REVALIDATE_DEFAULT;
    r->up.timeout = MIRROR_TIMEOUT_DEFAULT;
    for (i = 0; i < n; i++) {
        v = strchr(words[i], '=');
        if (!v || v == words[i] || !v[1]) {
            snprintf(why, len, "expected OPTION=VALUE, not '%s'", words[i]);
            return -1;
        }
        *v++ = '\0';
        if (!strcmp(words[i], "credentials") && !cred)
            cred = v;
        else if (!strcmp(words[i], "ca") && !ca)
            ca = v;
        else if (!strcmp(words[i], "revalidate")) {
            if (parse_duration(v, words[i], &r->up.revalidate, why, len))
                return -1;
        } else if (!strcmp(words[i], "timeout")) {
            if (parse_duration(v, words[i], &r->up.timeout, why, len))
                return -1;
        } else {
            snprintf(why, len,
                     "unknown or repeated option '%s' (credentials, ca, "
                     "revalidate, timeout)",
                     words[i]);
            return -1;
        }
        if ((v == cred || v == ca) && v[0] != '/') {
            snprintf(why, len, "%s: '%s' is not an absolute path", words[i], v);
            return -1;
        }
    }
    /* prefix\0url\0cred\0ca\0 */
    tlen = strlen(r->up.prefix) + strlen(r->up.url) + 2;
    r->text = xrealloc(r->text, tlen + (cred ? strlen(cred) : 0) +
                                    (ca ? strlen(ca) : 0) + 2);
    r->up.prefix = r->text;
    r->up.url = r->text + strlen(r->up.prefix) + 1;
    v = r->text + tlen;
    memcpy(v, cred ? cred : "", (cred ? strlen(cred) : 0) + 1);
    r->up.credentials = cred ? v : NULL;
    v += strlen(v) + 1;
    memcpy(v, ca ? ca : "", (ca ? strlen(ca) : 0) + 1);
    r->up.ca = ca ? v : NULL;
    return 0;
}

#define WORDS_MAX 8

/* Parse one non-blank line; return 0, or -1 with why written. */
static int parse_line(struct mirror *m, char *s, char *why, size_t len)
{
    char *w[WORDS_MAX + 1], *save = NULL, *p;
    size_t n = 0, i;
    struct rule *r;
    unsigned long long size;

    while (n <= WORDS_MAX && (p = strtok_r(n ? NULL : s, " \t\r\n", &save)))
        w[n++] = p;
    if (!strcmp(w[0], "cache_max")) {
        if (n != 2 || m->has_cache_max) {
            snprintf(why, len, "expected one 'cache_max SIZE'");
            return -1;
        }
        if (scaled_parse(w[1], size_units, LLONG_MAX, &size) || size == 0) {
            snprintf(why, len,
                     "expected a size (digits and K, M, G or T), not '%s'",
                     w[1]);
            return -1;
        }
        m->cache_max = (long long)size;
        m->has_cache_max = 1;
        return 0;
    }
    if (strcmp(w[0], "upstream") && strcmp(w[0], "local")) {
        snprintf(why, len, "unknown rule '%s' (upstream, local or cache_max)",
                 w[0]);
        return -1;
    }
    if (!strcmp(w[0], "local") && n != 2) {
        snprintf(why, len, "expected 'local PREFIX/'");
        return -1;
    }
    if (!strcmp(w[0], "upstream") && (n < 3 || n > WORDS_MAX)) {
        snprintf(why, len, "expected 'upstream PREFIX/ URL [OPTION...]'");
        return -1;
    }
    if (parse_prefix(w[1], w[0][0] == 'u', why, len))
        return -1;
    if (w[0][0] == 'u' && parse_url(w[2], why, len))
        return -1;
    for (i = 0; i < m->n; i++) {
        if (!strcmp(m->rules[i].up.prefix, strcmp(w[1], "*") ? w[1] : "")) {
            snprintf(why, len, "'%s' has a rule already", w[1]);
            return -1;
        }
    }
    m->rules = xrealloc(m->rules, (m->n + 1) * sizeof(*m->rules));
    r = &m->rules[m->n++];
    memset(r, 0, sizeof(*r));
    r->local = w[0][0] == 'l';
    r->text = copy_string(strcmp(w[1], "*") ? w[1] : "");
    r->up.prefix = r->text;
    r->up.url = "";
    if (r->local)
        return 0;
    /* prefix\0url\0 first; parse_options() appends the rest */
    r->text = xrealloc(r->text, strlen(r->text) + strlen(w[2]) + 2);
    memcpy(r->text + strlen(r->text) + 1, w[2], strlen(w[2]) + 1);
    r->up.prefix = r->text;
    r->up.url = r->text + strlen(r->text) + 1;
    return parse_options(r, w + 3, n - 3, why, len);
}

/* lines_fn: one more rule of the mirror file. */
static int add_rule(void *ctx, char *s, char *why, size_t len)
{
    return parse_line(ctx, s, why, len);
}

int mirror_load(const char *path, struct mirror **out, char *err, size_t errlen)
{
    struct mirror *m = xcalloc(1, sizeof(*m));

    if (lines_read(path, "mirror", add_rule, m, err, errlen)) {
        mirror_free(m);
        return -1;
    }
    *out = m;
    return 0;
}

int mirror_check(const char *path, char *err, size_t errlen)
{
    struct mirror *m;

    if (mirror_load(path, &m, err, errlen))
        return -1;
    mirror_free(m);
    return 0;
}

void mirror_free(struct mirror *m)
{
    size_t i;

    if (!m)
        return;
    for (i = 0; i < m->n; i++)
        free(m->rules[i].text);
    free(m->rules);
    free(m);
}

const struct mirror_upstream *mirror_match(const struct mirror *m,
                                           const char *repo,
                                           char remote[NAME_MAX_LEN + 1])
{
    const struct rule *best = NULL;
    size_t i, plen, blen = 0, rlen;

    if (!m)
        return NULL;
    rlen = strlen(repo);
    for (i = 0; i < m->n; i++) {
        plen = strlen(m->rules[i].up.prefix);
        /* the default ("") matches all; a prefix leaves a name after it */
        if (plen &&
            (plen >= rlen || strncmp(repo, m->rules[i].up.prefix, plen)))
            continue;
        if (!best || plen > blen) {
            best = &m->rules[i];
            blen = plen;
        }
    }
    if (!best || best->local || rlen - blen > NAME_MAX_LEN)
        return NULL;
    memcpy(remote, repo + blen, rlen - blen + 1);
    return &best->up;
}

long long mirror_cache_max(const struct mirror *m)
{
    return m ? m->cache_max : 0;
}

size_t mirror_count(const struct mirror *m)
{
    return m ? m->n : 0;
}

const struct mirror_upstream *mirror_get(const struct mirror *m, size_t i)
{
    return m && i < m->n && !m->rules[i].local ? &m->rules[i].up : NULL;
}
