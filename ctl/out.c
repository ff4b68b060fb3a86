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

void out_time_us(long long t, char *buf)
{
    long long sec = t >= 0 ? t / 1000000 : -((-t + 999999) / 1000000);
    size_t n;

    out_time(sec, buf);
    n = strlen(buf);
    if (n > 1 && buf[n - 1] == 'Z')
        snprintf(buf + n - 1, OUT_TIME_MAX - (n - 1), ".%06lldZ",
                 t - sec * 1000000);
}

/* n decimal digits at *p into *v; -1 if they are not there. */
static int digits(const char **p, int n, int *v)
{
    int i;

    *v = 0;
    for (i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return -1;
        *v = *v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    return 0;
}

/* "YYYY-MM-DD[THH:MM:SS[.frac](Z|+hh:mm|-hh:mm)]" into *us. */
static int parse_rfc3339(const char *p, long long *us)
{
    struct tm tm;
    int y, mo, d, h = 0, mi = 0, sec = 0, oh, om, sign, frac = 0, scale;
    long long t;
    time_t tt;

    if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' ||
        digits(&p, 2, &d))
        return -1;
    if (*p) {
        if (*p != 'T' && *p != 't' && *p != ' ')
            return -1;
        p++;
        if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi) ||
            *p++ != ':' || digits(&p, 2, &sec))
            return -1;
        if (*p == '.') {
            p++;
            if (!isdigit((unsigned char)*p))
                return -1;
            for (scale = 100000; isdigit((unsigned char)*p); p++) {
                frac += (*p - '0') * scale;
                scale /= 10;
            }
        }
        if ((*p == 'Z' || *p == 'z') && !p[1]) {
            oh = om = 0;
            sign = 1;
        } else if ((*p == '+' || *p == '-')) {
            sign = *p++ == '-' ? -1 : 1;
            if (digits(&p, 2, &oh) || *p++ != ':' || digits(&p, 2, &om) || *p)
                return -1;
        } else {
            return -1;
        }
    } else {
        oh = om = 0;
        sign = 1;
    }
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 ||
        oh > 23 || om > 59)
        return -1;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    tt = timegm(&tm);
    if (tt == (time_t)-1 || tm.tm_mday != d) /* 31 days in February? */
        return -1;
    t = (long long)tt - sign * (oh * 3600LL + om * 60LL);
    *us = t * 1000000LL + frac;
    return 0;
}

int out_parse_since(const char *s, long long now, long long *us)
{
    static const struct scaled_unit units[] = {
        {"d", 86400}, {"h", 3600}, {"m", 60}, {"s", 1}, {NULL, 0}};
    unsigned long long v;

    /* a duration has its unit: a number alone is neither */
    if (s[0] && strchr("dhms", s[strlen(s) - 1]) &&
        !scaled_parse(s, units, (unsigned long long)now, &v)) {
        *us = (now - (long long)v) * 1000000LL;
        return 0;
    }
    return parse_rfc3339(s, us);
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
