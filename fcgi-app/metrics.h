#ifndef BERTH_FCGI_APP_METRICS_H
#define BERTH_FCGI_APP_METRICS_H

#include "store/store.h"
#include "util/buf.h"

/*
 * Counters of the requests berth serves, for GET /metrics in Prometheus's
 * text format 0.0.4 (README, "Metrics").
 *
 * They live in one file of the storage root, <root>/metrics.shm, that
 * every berth process maps MAP_SHARED: the workers of a supervisor and
 * the processes a web server or spawn-fcgi starts add to the same
 * counters, and a process that dies, by kill -9 too, loses nothing it
 * counted. Counting is a relaxed atomic add to a fixed array: no lock, no
 * system call. Every label has a fixed set of values (routes, methods, a
 * list of status codes), so the file has a fixed size; a header with a
 * magic number and a layout version says whether a file is ours, and one
 * that is not (another version, or new) starts again at zero.
 *
 * The mapping belongs to the process: metrics_open() once, after fork or
 * not, and every request of the process counts until metrics_close().
 */

/*
 * Map <root>/metrics.shm, making it if need be. Returns 0, or -1 (logged),
 * after which nothing counts. Opening it again is a no-op.
 */
int metrics_open(const char *root);
void metrics_close(void);

/*
 * Count a request that ended: route an enum route_kind (router.h), method
 * one M_*, status the one sent (0: none), the body bytes read and
 * written, and how long it took in microseconds. A no-op while nothing
 * is open.
 */
void metrics_count(int route, unsigned method, int status, long long bytes_in,
                   long long bytes_out, long long duration_us);

/* Count a garbage collection that freed bytes. A no-op, as above. */
void metrics_gc(long long bytes);

/* What became of a webhook's post (fcgi-app/sender.c). */
enum metrics_hook {
    METRICS_HOOK_DELIVERED, /* the receiver answered 2xx */
    METRICS_HOOK_FAILED,    /* it did not; the post is tried again */
    METRICS_HOOK_DEAD,      /* the last try failed: a dead letter */
    METRICS_HOOK_N
};

/* Count a webhook's post. A no-op, as above. */
void metrics_hook(enum metrics_hook what);

/* What the pull-through cache did (fcgi-app/mirror.c). */
enum metrics_mirror {
    METRICS_MIRROR_BLOB_STORED,    /* a blob fetched, checked and kept */
    METRICS_MIRROR_BLOB_FAILED,    /* a fetch that kept nothing */
    METRICS_MIRROR_MANIFEST_NEW,   /* a manifest fetched: new, or changed */
    METRICS_MIRROR_MANIFEST_SAME,  /* a tag checked and unchanged */
    METRICS_MIRROR_MANIFEST_STALE, /* the upstream failed: the cached copy */
    METRICS_MIRROR_N
};

/* Count what the cache did; bytes those of a blob kept. A no-op, as
 * above. */
void metrics_mirror(enum metrics_mirror what, long long bytes);

/*
 * Append the exposition of every counter, and of st (NULL: left out), to
 * b. Returns 0, or -1 when b's cap was reached or nothing is open.
 */
int metrics_render(struct buf *b, const struct store_stats *st)
    __attribute__((warn_unused_result));

#endif
