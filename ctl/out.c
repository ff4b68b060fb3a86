#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "ctl/out.h"

void out_size(long long bytes, char *buf)
{
    scaled_bytes(bytes, buf);
}

void out_time(long long t, char *buf)
{
    time_t tt = (time_t)t;
    struct tm tm;

    if ((long long)tt != t || !gmtime_r(&tt, &tm) ||
        !strftime(buf, OUT_TIME_MAX, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(buf, OUT_TIME_MAX, "?");
}

int ref_parse(const char *s, struct ref *out, char *err, size_t errlen)
{
    const char *at = strchr(s, '@'), *colon = strchr(s, ':');
    size_t nlen = at      ? (size_t)(at - s)
                  : colon ? (size_t)(colon - s)
                          : strlen(s);
    struct ref r;
    int rc;

    memset(&r, 0, sizeof(r));
    if (at && colon && colon < at) {
        snprintf(err, errlen,
                 "'%s' has both a tag and a digest: give REPO:TAG or "
                 "REPO@DIGEST",
                 s);
        return -1;
    }
    if (!name_valid(s, nlen)) {
        snprintf(err, errlen, "invalid repository name '%.*s'", (int)nlen, s);
        return -1;
    }
    memcpy(r.repo, s, nlen);
    r.repo[nlen] = '\0';
    if (at) {
        rc = digest_parse(&r.digest, at + 1, strlen(at + 1));
        if (rc) {
            snprintf(err, errlen, "%s digest '%s'",
                     rc == DIGEST_UNSUPPORTED ? "unsupported" : "invalid",
                     at + 1);
            return -1;
        }
        r.kind = REF_DIGEST;
    } else if (colon) {
        if (!tag_valid(colon + 1, strlen(colon + 1))) {
            snprintf(err, errlen, "invalid tag '%s'%s", colon + 1,
                     strchr(colon + 1, '/')
                         ? " (a repository is named without the "
                           "registry's host and port)"
                         : "");
            return -1;
        }
        memcpy(r.tag, colon + 1, strlen(colon + 1) + 1);
        r.kind = REF_TAG;
    } else {
        r.kind = REF_REPO;
    }
    *out = r;
    return 0;
}

int out_json(json_t *doc)
{
    int rc = json_dumpf(doc, stdout, JSON_INDENT(2));

    json_decref(doc);
    if (rc || putchar('\n') == EOF)
        return -1;
    return 0;
}

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void out_progress_init(struct out_progress *p, int on, const char *what)
{
    p->on = on;
    p->what = what;
    p->last_ms = 0;
    p->shown = 0;
}

void out_progress(struct out_progress *p, long long done, long long total)
{
    long long t;

    if (!p->on)
        return;
    t = now_ms();
    if (p->shown && done < total && t - p->last_ms < 100)
        return;
    p->last_ms = t;
    p->shown = 1;
    /* \r back to the start of the line, then ESC [ K clears its rest */
    fprintf(stderr, "\r%s: %lld/%lld\033[K", p->what, done, total);
    fflush(stderr);
}

void out_progress_end(struct out_progress *p)
{
    if (!p->shown)
        return;
    fputs("\r\033[K", stderr);
    fflush(stderr);
    p->shown = 0;
}

int out_ask(const char *question)
{
    char line[64];
    size_t n;

    fprintf(stderr, "%s [y/N] ", question);
    fflush(stderr);
    if (!fgets(line, sizeof(line), stdin))
        return 0;
    n = strlen(line);
    while (n && isspace((unsigned char)line[n - 1]))
        line[--n] = '\0';
    return !strcasecmp(line, "y") || !strcasecmp(line, "yes");
}

double out_clock(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}
