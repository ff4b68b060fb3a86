#ifndef BERTH_CTL_OUT_H
#define BERTH_CTL_OUT_H

#include <stddef.h>

#include <jansson.h>

#include "util/digest.h"
#include "util/names.h"
#include "util/scaled.h"

/*
 * What every command of berthctl shares: sizes in human units, times in
 * ISO 8601, the REF argument, JSON on stdout, the progress line and the
 * question on a terminal. The first three are pure (tests/unit).
 */

/*
 * bytes in powers of 1024 with one decimal, rounded half up: "0 B",
 * "1023 B", "1.0 KiB", "1023.9 KiB", "1.0 MiB", on to EiB. A value that
 * would round to 1024.0 of a unit is written in the next ("1.0 MiB", not
 * "1024.0 KiB"). buf has OUT_SIZE_MAX bytes.
 */
#define OUT_SIZE_MAX SCALED_BYTES_MAX
void out_size(long long bytes, char *buf);

/*
 * t (seconds since the epoch) as UTC in ISO 8601, "2026-12-02T09:30:00Z".
 * buf has OUT_TIME_MAX bytes; a time gmtime() cannot break down is
 * written as "?".
 */
#define OUT_TIME_MAX 32
void out_time(long long t, char *buf);

/*
 * A time of the audit log, t microseconds since the epoch, as UTC in ISO
 * 8601 with microseconds: "2026-12-02T09:30:00.000123Z". buf has
 * OUT_TIME_MAX bytes.
 */
void out_time_us(long long t, char *buf);

/*
 * Parse s, an RFC 3339 time ("2026-12-02T09:30:00Z", with a fraction of
 * a second or an offset "+01:00" as it may have, or a date alone,
 * "2026-12-02", midnight UTC) or a duration back from now (seconds since
 * the epoch): "90s", "30m", "24h", "7d". Return 0 with the time in
 * microseconds since the epoch in *us, or -1.
 */
int out_parse_since(const char *s, long long now, long long *us);

/* What a REF argument of berthctl rm names. */
enum ref_kind {
    REF_REPO,   /* REPO: the whole repository */
    REF_TAG,    /* REPO:TAG */
    REF_DIGEST, /* REPO@DIGEST: a manifest, or a blob */
};

struct ref {
    enum ref_kind kind;
    char repo[NAME_MAX_LEN + 1];
    char tag[TAG_MAX_LEN + 1]; /* REF_TAG */
    struct digest digest;      /* REF_DIGEST */
};

/*
 * Parse s as REPO, REPO:TAG or REPO@DIGEST (util/names.h, util/digest.h:
 * sha256 or sha512). Return 0 and fill *out, or -1 with a one-line reason
 * in err (errlen bytes, always terminated) that quotes what is wrong.
 */
int ref_parse(const char *s, struct ref *out, char *err, size_t errlen);

/*
 * Write doc to stdout as one JSON document and a newline, and drop the
 * reference to it. Return 0, or -1 if stdout cannot be written.
 */
int out_json(json_t *doc);

/*
 * A line on stderr, rewritten in place, that says how far long work has
 * come ("deleting 'team/app': 120/300"); drawn at most ten times a second,
 * and only when on (on a terminal, neither --json nor -q).
 */
struct out_progress {
    int on;
    const char *what;
    long long last_ms; /* when it was last drawn */
    int shown;         /* a line is on the screen */
};

void out_progress_init(struct out_progress *p, int on, const char *what);
void out_progress(struct out_progress *p, long long done, long long total);
/* Clear the line, so that what follows starts on a clean one. */
void out_progress_end(struct out_progress *p);

/* Seconds on a monotonic clock: the difference of two is a duration. */
double out_clock(void);

/*
 * Ask question on stderr (" [y/N] " is added) and read the answer from
 * stdin. Return 1 for "y" or "yes" (any case), 0 for anything else or
 * the end of the input.
 */
int out_ask(const char *question);

#endif
