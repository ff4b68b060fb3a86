#ifndef BERTH_MIRROR_MIRROR_H
#define BERTH_MIRROR_MIRROR_H

#include <stddef.h>

#include "util/names.h"

/*
 * The pull-through cache's rules (mirror = FILE in berth.conf): which
 * repository names are served from which upstream registry. One rule a
 * line:
 *
 *   # rule     names    what
 *   upstream   hub/     https://registry.example:5000 revalidate=5m
 *   upstream   quay/    https://other.example credentials=/etc/berth/q.cred
 *   upstream   *        https://registry.example:5000
 *   local      team/
 *   cache_max  50G
 *
 * upstream PREFIX/ URL [OPTION...]: a repository PREFIX/NAME is NAME at
 * URL (http:// or https://, host[:port], no path). upstream * URL: the
 * default upstream, for names under no other prefix (so that docker's
 * registry-mirrors works: library/alpine is library/alpine there).
 * Options: credentials=FILE (one line "user:password", for the
 * upstream's Basic or token login), ca=FILE (the CA bundle that verifies
 * the upstream's certificate; default: the system's), revalidate=DURATION
 * (how long a manifest by tag is served before it is checked again with a
 * HEAD; default 5m), timeout=DURATION (to connect, and the longest stall
 * of an answer; default 30s). Durations are digits and s, m, h or d.
 *
 * local PREFIX/: names under PREFIX/ are the registry's own (pushable)
 * even when there is a default upstream.
 *
 * cache_max SIZE: what cached blobs may take together (K, M, G, T); the
 * GC evicts the least recently pulled beyond it. Default: no cap.
 *
 * The longest matching prefix decides, whether upstream or local. '#'
 * starts a comment. Knows nothing of the store, of HTTP or of libcurl.
 */

struct mirror; /* opaque: the rules of one file */

/* One upstream; its strings live as long as the struct mirror. */
struct mirror_upstream {
    const char *prefix;      /* "hub/", or "" for the default ("*") */
    const char *url;         /* "https://host:port", no trailing '/' */
    const char *credentials; /* a file, or NULL */
    const char *ca;          /* a file, or NULL: the system's CAs */
    long long revalidate;    /* seconds */
    long long timeout;       /* seconds */
};

#define MIRROR_REVALIDATE_DEFAULT 300
#define MIRROR_TIMEOUT_DEFAULT    30

/*
 * Read the rules file path. Return 0 and set *out (free it with
 * mirror_free(), which accepts NULL), or -1 with a one-line reason in err
 * (errlen bytes, always terminated) naming the file and line, as
 * "mirror.conf:3: expected 'upstream PREFIX/ URL [OPTION...]'".
 */
int mirror_load(const char *path, struct mirror **out, char *err,
                size_t errlen);
void mirror_free(struct mirror *m);

/* Whether path reads as a rules file: mirror_load() and mirror_free(). */
int mirror_check(const char *path, char *err, size_t errlen);

/*
 * The upstream that serves repo, with repo's name there in remote
 * (NAME_MAX_LEN + 1 bytes); NULL when repo is the registry's own (no
 * rule, a local rule, or m NULL). The result lives as long as m.
 */
const struct mirror_upstream *mirror_match(const struct mirror *m,
                                           const char *repo,
                                           char remote[NAME_MAX_LEN + 1]);

/* The cache_max of m in bytes; 0: no cap (or m NULL). */
long long mirror_cache_max(const struct mirror *m);

/* How many upstream rules m has, and the i-th (in the file's order). */
size_t mirror_count(const struct mirror *m);
const struct mirror_upstream *mirror_get(const struct mirror *m, size_t i);

#endif
