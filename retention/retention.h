#ifndef BERTH_RETENTION_RETENTION_H
#define BERTH_RETENTION_RETENTION_H

#include <stddef.h>

/*
 * Which tags a repository keeps, from a retention file of rules
 * (retention = FILE in berth.conf); the garbage collector asks, and
 * untags what the rules drop. One line per repository pattern:
 *
 *   # repositories   rules
 *   team-a/[*]       keep-last=10 keep-tags=v*,release-* keep-newer=90d
 *   cache/[*]        keep-newer=7d
 *   *                keep-last=50
 *
 * (here "[*]" stands for a plain '*', which cannot follow '/' in C)
 *
 * repositories: a shell pattern (fnmatch(3); '*' also matches '/') of
 * the characters of repository names and * ? [...]. The first line whose
 * pattern matches a repository applies to it; a repository that no line
 * matches keeps all its tags.
 *
 * rules: at least one, each at most once on a line. They are keep rules:
 * a tag is dropped when no rule of its line keeps it.
 *   keep-last=N          the N tags pushed last (N may be 0); of tags
 *                        pushed in the same second, the greater name
 *                        (strcmp) counts as the newer
 *   keep-tags=GLOB,...   tags that match any of the shell patterns (of
 *                        tag characters and * ? [...])
 *   keep-newer=DURATION  tags pushed at most DURATION before now (one
 *                        exactly DURATION old stays): digits and one of
 *                        s, m, h, d, w (seconds without one)
 *
 * '#' starts a comment; blank lines are ignored. Knows nothing of the
 * store: the caller hands over a repository's tags and push times.
 */

struct retention; /* opaque: the rules of one file */

/*
 * Read the retention file path. Return 0 and set *out (free it with
 * retention_free(), which accepts NULL), or -1 with a one-line reason in
 * err (errlen bytes, always terminated) naming the file and line, as
 * "retention.conf:3: keep-last is given twice".
 */
int retention_load(const char *path, struct retention **out, char *err,
                   size_t errlen);
void retention_free(struct retention *r);

/* A tag of a repository as retention_apply() sees it; nothing is kept. */
struct retention_tag {
    const char *tag;
    long long pushed; /* seconds since the epoch */
};

/* Room for one reason, with its NUL; a longer one is cut short. */
#define RETENTION_WHY_MAX 192

/*
 * Which of the n tags of repo the rules drop at time now (seconds since
 * the epoch): drop[i] = 1 or 0 for each i, and, if why is not NULL,
 * why[i] = the reason for a dropped tag ("not among the newest 10 and
 * pushed 95d ago, over 90d") or "" for a kept one. All n of drop (and
 * why) are written; with n = 0, tags, drop and why may be NULL. A NULL
 * r, or a repository no line matches, keeps every tag. Return the number
 * of tags dropped. Pure: no I/O, nothing logged, nothing of tags kept
 * past the call.
 */
size_t retention_apply(const struct retention *r, const char *repo,
                       const struct retention_tag *tags, size_t n,
                       long long now, unsigned char *drop,
                       char (*why)[RETENTION_WHY_MAX]);

#endif
