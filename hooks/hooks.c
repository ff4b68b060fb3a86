#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "hooks/hooks.h"
#include "util/digest.h"
#include "util/lines.h"
#include "util/names.h"
#include "util/xalloc.h"

struct hooks {
    struct hook *v;
    size_t n;
};

static const struct {
    const char *name;
    unsigned bit;
} kinds[] = {
    {"push", HOOK_PUSH},
    {"tag", HOOK_TAG},
    {"delete", HOOK_DELETE},
    {"pull", HOOK_PULL},
};

#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

/* "5s", "500ms", "2m", "1h", "7": a duration in ms into *ms; -1 if not */
static int parse_ms(const char *s, long long *ms)
{
    unsigned long long v = 0;
    const char *p = s;
    long long mul;

    if (!isdigit((unsigned char)*p))
        return -1;
    for (; isdigit((unsigned char)*p); p++) {
        v = v * 10 + (unsigned)(*p - '0');
        if (v > 1000000000ULL) /* 31 years of seconds: enough */
            return -1;
    }
    if (!strcmp(p, "ms"))
        mul = 1;
    else if (!*p || !strcmp(p, "s"))
        mul = 1000;
    else if (!strcmp(p, "m"))
        mul = 60000;
    else if (!strcmp(p, "h"))
        mul = 3600000;
    else
        return -1;
    *ms = (long long)v * mul;
    return 0;
}

static int parse_events(const char *v, unsigned *out, char *why, size_t len)
{
    char buf[128], *rest = buf, *e;
    unsigned bits = 0;
    size_t i;

    if (strlen(v) >= sizeof(buf)) {
        snprintf(why, len, "events= is too long");
        return -1;
    }
    memcpy(buf, v, strlen(v) + 1);
    while ((e = strsep(&rest, ","))) {
        for (i = 0; i < NKINDS && strcmp(kinds[i].name, e); i++)
            ;
        if (i == NKINDS) {
            snprintf(why, len,
                     "unknown event '%.40s' (push, tag, delete, pull)", e);
            return -1;
        }
        bits |= kinds[i].bit;
    }
    *out = bits;
    return 0;
}

/* The secret in file path: its bytes up to the first newline. */
static int read_secret(const char *path, struct hook *h, char *why, size_t len)
{
    unsigned char buf[HOOK_SECRET_MAX + 2];
    size_t n;
    FILE *f;

    if (path[0] != '/') {
        snprintf(why, len, "secret= must be an absolute path");
        return -1;
    }
    f = fopen(path, "r");
    if (!f) {
        snprintf(why, len, "cannot open secret '%.200s': %s", path,
                 strerror(errno));
        return -1;
    }
    n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    if (memchr(buf, '\n', n))
        n = (size_t)((unsigned char *)memchr(buf, '\n', n) - buf);
    if (n > HOOK_SECRET_MAX || n == 0) {
        snprintf(why, len, "secret '%.200s' must hold 1 to %d bytes", path,
                 HOOK_SECRET_MAX);
        return -1;
    }
    memcpy(h->secret, buf, n);
    h->secret_len = n;
    return 0;
}

static int valid_name(const char *s)
{
    size_t n = strlen(s);

    if (!n || n > HOOK_NAME_MAX)
        return 0;
    for (; *s; s++) {
        if (!isalnum((unsigned char)*s) && !strchr("._-", *s))
            return 0;
    }
    return 1;
}

static int valid_url(const char *s)
{
    size_t n = strlen(s);
    const char *p;

    if (n > HOOK_URL_MAX)
        return 0;
    if (!strncmp(s, "http://", 7))
        p = s + 7;
    else if (!strncmp(s, "https://", 8))
        p = s + 8;
    else
        return 0;
    if (!*p || *p == '/')
        return 0; /* no host */
    for (; *s; s++) {
        if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 127)
            return 0;
    }
    return 1;
}

/* key=value option v of a hook into h; seen: the options given before */
static int parse_option(char *opt, struct hook *h, unsigned *seen, char *why,
                        size_t len)
{
    static const char *const names[] = {
        "events",  "repos",   "secret",  "format",
        "timeout", "retries", "backoff", "backoff_max",
    };
    char *v = strchr(opt, '=');
    size_t i;
    long long n;

    if (!v) {
        snprintf(why, len, "expected key=value, not '%.40s'", opt);
        return -1;
    }
    *v++ = '\0';
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (!strcmp(names[i], opt))
            break;
    }
    if (i == sizeof(names) / sizeof(names[0])) {
        snprintf(why, len,
                 "unknown option '%.40s' (events, repos, secret, format, "
                 "timeout, retries, backoff, backoff_max)",
                 opt);
        return -1;
    }
    if (*seen & (1u << i)) {
        snprintf(why, len, "%s= is given twice", names[i]);
        return -1;
    }
    *seen |= 1u << i;
    switch (i) {
    case 0:
        return parse_events(v, &h->events, why, len);
    case 1:
        if (strlen(v) >= sizeof(h->repos)) {
            snprintf(why, len, "repos= is too long");
            return -1;
        }
        if (name_pattern_check(v, NAME_PATTERN_REPO, why, len))
            return -1;
        memcpy(h->repos, v, strlen(v) + 1);
        return 0;
    case 2:
        return read_secret(v, h, why, len);
    case 3:
        if (!strcmp(v, "registry")) {
            h->format = HOOK_FORMAT_REGISTRY;
        } else if (!strcmp(v, "cloudevents")) {
            h->format = HOOK_FORMAT_CLOUDEVENTS;
        } else {
            snprintf(why, len, "format must be registry or cloudevents");
            return -1;
        }
        return 0;
    case 5:
        if (parse_ms(v, &n) || strchr(v, 's') || strchr(v, 'm') ||
            strchr(v, 'h') || n / 1000 > 100) {
            snprintf(why, len, "retries must be a number from 0 to 100");
            return -1;
        }
        h->retries = n / 1000;
        return 0;
    default:
        if (parse_ms(v, &n) || n < 1) {
            snprintf(why, len,
                     "%s must be a duration (digits and ms, s, m or h) above "
                     "0",
                     names[i]);
            return -1;
        }
        if (i == 4)
            h->timeout_ms = n;
        else if (i == 6)
            h->backoff_ms = n;
        else
            h->backoff_max_ms = n;
        return 0;
    }
}

static int parse_line(const struct hooks *all, char *s, struct hook *h,
                      char *why, size_t len)
{
    char *word, *name, *url, *save = NULL, *opt;
    unsigned seen = 0;
    size_t i;

    memset(h, 0, sizeof(*h));
    h->events = HOOK_PUSH | HOOK_TAG | HOOK_DELETE;
    h->format = HOOK_FORMAT_REGISTRY;
    h->timeout_ms = 5000;
    h->retries = 8;
    h->backoff_ms = 1000;
    h->backoff_max_ms = 300000;
    word = strtok_r(s, " \t\r\n", &save);
    if (strcmp(word, "hook")) {
        snprintf(why, len, "unknown rule '%.40s' (hook)", word);
        return -1;
    }
    name = strtok_r(NULL, " \t\r\n", &save);
    url = strtok_r(NULL, " \t\r\n", &save);
    if (!name || !url) {
        snprintf(why, len, "expected 'hook NAME URL [options]'");
        return -1;
    }
    if (!valid_name(name)) {
        snprintf(why, len,
                 "bad hook name '%.40s': 1 to %d letters, digits, '.', '_', "
                 "'-'",
                 name, HOOK_NAME_MAX);
        return -1;
    }
    for (i = 0; i < all->n - 1; i++) {
        if (!strcmp(all->v[i].name, name)) {
            snprintf(why, len, "hook '%s' is defined twice", name);
            return -1;
        }
    }
    memcpy(h->name, name, strlen(name) + 1);
    if (!valid_url(url)) {
        snprintf(why, len,
                 "bad URL '%.100s': http:// or https://, a host, at most %d "
                 "bytes",
                 url, HOOK_URL_MAX);
        return -1;
    }
    memcpy(h->url, url, strlen(url) + 1);
    while ((opt = strtok_r(NULL, " \t\r\n", &save))) {
        if (parse_option(opt, h, &seen, why, len))
            return -1;
    }
    if (h->backoff_max_ms < h->backoff_ms) {
        snprintf(why, len, "backoff_max is below backoff");
        return -1;
    }
    return 0;
}

/* lines_fn: one more hook of the webhooks file. */
static int add_hook(void *ctx, char *s, char *why, size_t len)
{
    struct hooks *h = ctx;

    h->v = xrealloc(h->v, (h->n + 1) * sizeof(*h->v));
    h->n++;
    return parse_line(h, s, &h->v[h->n - 1], why, len);
}

int hooks_load(const char *path, struct hooks **out, char *err, size_t errlen)
{
    struct hooks *h = xcalloc(1, sizeof(*h));

    if (lines_read(path, "webhooks", add_hook, h, err, errlen)) {
        hooks_free(h);
        return -1;
    }
    *out = h;
    return 0;
}

int hooks_check(const char *path, char *err, size_t errlen)
{
    struct hooks *h;

    if (hooks_load(path, &h, err, errlen))
        return -1;
    hooks_free(h);
    return 0;
}

void hooks_free(struct hooks *h)
{
    if (!h)
        return;
    /* the secrets do not stay in freed memory */
    if (h->v)
        OPENSSL_cleanse(h->v, h->n * sizeof(*h->v));
    free(h->v);
    free(h);
}

size_t hooks_count(const struct hooks *h)
{
    return h ? h->n : 0;
}

const struct hook *hooks_get(const struct hooks *h, size_t i)
{
    return &h->v[i];
}

unsigned hook_kind(const char *event, const char *old)
{
    if (!strcmp(event, "push"))
        return old && *old ? HOOK_TAG : HOOK_PUSH;
    if (!strcmp(event, "tag-delete") || !strcmp(event, "manifest-delete") ||
        !strcmp(event, "blob-delete") || !strcmp(event, "repo-delete"))
        return HOOK_DELETE;
    if (!strcmp(event, "pull"))
        return HOOK_PULL;
    return 0;
}

int hook_wants(const struct hook *h, unsigned kind, const char *repo)
{
    /* a tag move is a push too */
    unsigned want = kind == HOOK_TAG ? HOOK_TAG | HOOK_PUSH : kind;

    if (!kind || !(h->events & want))
        return 0;
    return !h->repos[0] || name_pattern_match(h->repos, repo);
}

long long hook_backoff_ms(const struct hook *h, long long n)
{
    long long ms = h->backoff_ms;

    while (--n > 0 && ms < h->backoff_max_ms)
        ms *= 2;
    return ms < h->backoff_max_ms ? ms : h->backoff_max_ms;
}

const char *hook_content_type(const struct hook *h)
{
    return h->format == HOOK_FORMAT_CLOUDEVENTS
               ? "application/cloudevents+json"
               : "application/vnd.docker.distribution.events.v1+json";
}

/* RFC 3339 in UTC with microseconds, as distribution's time.Time does */
#define TIME_MAX 64
static void rfc3339(long long us, char out[TIME_MAX])
{
    time_t secs;
    struct tm tm;

    if (us < 0)
        us = 0;
    secs = (time_t)(us / 1000000);
    if (!gmtime_r(&secs, &tm)) {
        snprintf(out, TIME_MAX, "1970-01-01T00:00:00Z");
        return;
    }
    snprintf(out, TIME_MAX, "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, (unsigned)(us % 1000000));
}

static const char *action_of(unsigned kind)
{
    switch (kind) {
    case HOOK_PULL:
        return "pull";
    case HOOK_DELETE:
        return "delete";
    default:
        return "push";
    }
}

static const char *method_of(unsigned kind)
{
    switch (kind) {
    case HOOK_PULL:
        return "GET";
    case HOOK_DELETE:
        return "DELETE";
    default:
        return "PUT";
    }
}

/* the tag of e: its ref unless that is a digest */
static const char *tag_of(const struct hook_event *e)
{
    return strchr(e->ref, ':') ? "" : e->ref;
}

/*
 * A JSON string of v (NULL: ""). Names and digests are ASCII; a user
 * name comes from the front server and may not be UTF-8: then its
 * bytes that are not are '?'.
 */
static json_t *jstr(const char *v)
{
    json_t *j = json_string(v ? v : "");
    char *copy, *p;

    if (j)
        return j;
    copy = xmalloc(strlen(v) + 1);
    memcpy(copy, v, strlen(v) + 1);
    for (p = copy; *p; p++) {
        if ((unsigned char)*p >= 0x80)
            *p = '?';
    }
    j = json_string(copy);
    free(copy);
    BUG_ON(!j);
    return j;
}

/* Set key to string v in o if v is not empty. */
static void set_str(json_t *o, const char *key, const char *v)
{
    if (v && *v)
        json_object_set_new(o, key, jstr(v));
}

static json_t *registry_body(const struct hook_event *e, const char *time)
{
    json_t *target = json_object(), *ev, *req, *actor, *source;
    const char *digest = e->digest[0] ? e->digest : "";

    set_str(target, "mediaType", e->media_type);
    if (e->size >= 0) {
        json_object_set_new(target, "size", json_integer(e->size));
        json_object_set_new(target, "length", json_integer(e->size));
    }
    set_str(target, "digest", digest);
    json_object_set_new(target, "repository", jstr(e->repo));
    /* no url: berth does not know the address its clients use */
    set_str(target, "tag", tag_of(e));
    req = json_pack("{s:o, s:o, s:o, s:s, s:s}", "id", jstr(e->id), "addr",
                    jstr(e->addr), "host", jstr(e->host), "method",
                    method_of(e->kind), "useragent", "");
    actor = json_pack("{s:o}", "name", jstr(e->user));
    source = json_pack("{s:o, s:o}", "addr", jstr(e->host), "instanceID",
                       jstr(e->instance));
    ev = json_pack("{s:o, s:s, s:s, s:o, s:o, s:o, s:o}", "id", jstr(e->id),
                   "timestamp", time, "action", action_of(e->kind), "target",
                   target, "request", req, "actor", actor, "source", source);
    return json_pack("{s:[o]}", "events", ev);
}

static json_t *cloudevents_body(const struct hook_event *e, const char *time)
{
    static const char *const types[] = {"io.berth.push", "io.berth.tag",
                                        "io.berth.delete", "io.berth.pull"};
    json_t *data = json_object();
    char source[300], subject[600];
    size_t t = e->kind == HOOK_TAG      ? 1
               : e->kind == HOOK_DELETE ? 2
               : e->kind == HOOK_PULL   ? 3
                                        : 0;

    json_object_set_new(data, "repository", jstr(e->repo));
    set_str(data, "tag", tag_of(e));
    set_str(data, "digest", e->digest);
    set_str(data, "previous", e->old);
    set_str(data, "mediaType", e->media_type);
    if (e->size >= 0)
        json_object_set_new(data, "size", json_integer(e->size));
    json_object_set_new(data, "actor", jstr(e->user));
    json_object_set_new(data, "addr", jstr(e->addr));
    snprintf(source, sizeof(source), "/berth/%s",
             e->instance && *e->instance ? e->instance : "registry");
    snprintf(subject, sizeof(subject), "%s%s%s", e->repo, e->ref[0] ? ":" : "",
             e->ref);
    if (strchr(e->ref, ':'))
        snprintf(subject, sizeof(subject), "%s@%s", e->repo, e->ref);
    return json_pack("{s:s, s:o, s:o, s:s, s:s, s:o, s:s, s:o}", "specversion",
                     "1.0", "id", jstr(e->id), "source", jstr(source), "type",
                     types[t], "time", time, "subject", jstr(subject),
                     "datacontenttype", "application/json", "data", data);
}

char *hook_body(const struct hook *h, const struct hook_event *e, size_t *len)
{
    char time[TIME_MAX], *out;
    json_t *body;

    rfc3339(e->time_us, time);
    body = h->format == HOOK_FORMAT_CLOUDEVENTS ? cloudevents_body(e, time)
                                                : registry_body(e, time);
    BUG_ON(!body); /* every string went through jstr() */
    out = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(body);
    BUG_ON(!out); /* jansson fails only out of memory */
    *len = strlen(out);
    return out;
}

int hook_sign(const struct hook *h, const char *body, size_t len,
              char out[HOOK_SIGNATURE_MAX])
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned maclen = 0;

    out[0] = '\0';
    if (!h->secret_len)
        return -1;
    if (!HMAC(EVP_sha256(), h->secret, (int)h->secret_len,
              (const unsigned char *)body, len, mac, &maclen) ||
        maclen != 32)
        return -1;
    memcpy(out, "sha256=", 7);
    hex_encode(mac, maclen, out + 7);
    return 0;
}
