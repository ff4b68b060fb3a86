#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fcgi-app/metrics.h"
#include "fcgi-app/request.h"
#include "fcgi-app/router.h"
#include "util/log.h"
#include "util/xalloc.h"

/* A counter must be a plain atomic add, not a lock in libatomic. */
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "64-bit atomics lock-free");

/* The label values; each is an index of the arrays in struct layout. */
static const char *const route_names[] = {
    [ROUTE_BASE] = "base",       [ROUTE_CATALOG] = "catalog",
    [ROUTE_BLOB] = "blob",       [ROUTE_UPLOADS] = "uploads",
    [ROUTE_UPLOAD] = "upload",   [ROUTE_MANIFEST] = "manifest",
    [ROUTE_TAGS] = "tags",       [ROUTE_REFERRERS] = "referrers",
    [ROUTE_METRICS] = "metrics", [ROUTE_NONE] = "none",
    [ROUTE_LIVEZ] = "livez",     [ROUTE_READYZ] = "readyz",
    [ROUTE_V1_PING] = "v1_ping", [ROUTE_V1_SEARCH] = "v1_search",
    [ROUTE_UI_TAGS] = "ui_tags", [ROUTE_UI_REPOS] = "ui_repos",
};
#define NROUTES (ROUTE_NONE + 1)

/* bit i of an M_* */
static const char *const method_names[] = {"GET",   "HEAD",   "POST", "PUT",
                                           "PATCH", "DELETE", "OTHER"};
#define NMETHODS 7

/*
 * The status codes berth and its front servers answer with; any other
 * counts as the last, "other". 0 is a request that got no answer (the
 * client went away first).
 */
static const int codes[] = {0,   200, 201, 202, 204, 206, 301, 302, 304,
                            307, 400, 401, 403, 404, 405, 409, 413, 416,
                            429, 500, 501, 502, 503, 504, 507};
#define NCODES (sizeof(codes) / sizeof(codes[0]) + 1)

/* upper bounds of the duration buckets, in microseconds; then +Inf */
static const long long bounds_us[] = {
    5000,    10000,   25000,   50000,    100000,   250000,  500000,
    1000000, 2500000, 5000000, 10000000, 30000000, 60000000};
static const char *const bounds_le[] = {".005", ".01", ".025", ".05", ".1",
                                        ".25",  ".5",  "1",    "2.5", "5",
                                        "10",   "30",  "60"};
#define NBUCKETS (sizeof(bounds_us) / sizeof(bounds_us[0]) + 1)

#define LAYOUT_MAGIC   0x62657274686d6574ULL /* "berthmet" */
#define LAYOUT_VERSION 2

/*
 * The file: a header, then counters in native byte order (the file is
 * for the processes of one machine). Buckets are not cumulative here: a
 * request adds to its own bucket only, and the exposition sums them.
 */
struct layout {
    uint64_t magic;
    uint32_t version;
    uint32_t size; /* sizeof(struct layout) */
    _Atomic uint64_t requests[NROUTES][NMETHODS][NCODES];
    _Atomic uint64_t bytes_in[NROUTES][NMETHODS];
    _Atomic uint64_t bytes_out[NROUTES][NMETHODS];
    _Atomic uint64_t buckets[NROUTES][NMETHODS][NBUCKETS];
    _Atomic uint64_t duration_us[NROUTES][NMETHODS];
    _Atomic uint64_t gc_runs, gc_bytes;
    _Atomic uint64_t hook[METRICS_HOOK_N];
    _Atomic uint64_t mirror[METRICS_MIRROR_N];
    _Atomic uint64_t mirror_bytes;
};

static struct layout *shm;

int metrics_open(const char *root)
{
    char path[PATH_MAX];
    struct stat st;
    size_t ri;
    void *p;
    int fd, rc = -1;

    if (shm)
        return 0;
    /* a route added to router.h needs its label here */
    for (ri = 0; ri < NROUTES; ri++)
        BUG_ON(!route_names[ri]);
    if (snprintf(path, sizeof(path), "%s/metrics.shm", root) >=
        (int)sizeof(path)) {
        log_err("cannot open metrics: root '%s' is too long", root);
        return -1;
    }
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        log_err("cannot open '%s': %s", path, strerror(errno));
        return -1;
    }
    /* one process at a time makes or resets the file */
    if (flock(fd, LOCK_EX)) {
        log_err("cannot lock '%s': %s", path, strerror(errno));
        goto close_fd;
    }
    if (fstat(fd, &st)) {
        log_err("cannot stat '%s': %s", path, strerror(errno));
        goto close_fd;
    }
    if (st.st_size != (off_t)sizeof(struct layout) &&
        (ftruncate(fd, 0) || ftruncate(fd, sizeof(struct layout)))) {
        log_err("cannot size '%s': %s", path, strerror(errno));
        goto close_fd;
    }
    p = mmap(NULL, sizeof(struct layout), PROT_READ | PROT_WRITE, MAP_SHARED,
             fd, 0);
    if (p == MAP_FAILED) {
        log_err("cannot map '%s': %s", path, strerror(errno));
        goto close_fd;
    }
    shm = p;
    if (shm->magic != LAYOUT_MAGIC || shm->version != LAYOUT_VERSION ||
        shm->size != sizeof(struct layout)) {
        if (shm->magic)
            log_warn("'%s' is of another layout: the metrics start at zero",
                     path);
        memset(shm, 0, sizeof(*shm));
        shm->version = LAYOUT_VERSION;
        shm->size = sizeof(struct layout);
        shm->magic = LAYOUT_MAGIC; /* last: the others see a whole header */
    }
    rc = 0;
close_fd:
    /*
     * Unlock first: the mapping holds the open file, and with it the
     * lock, which close() would not let go of; the next process would
     * wait for it as long as this one lives.
     */
    flock(fd, LOCK_UN);
    close(fd); /* the mapping stays */
    return rc;
}

void metrics_close(void)
{
    if (shm)
        munmap(shm, sizeof(*shm));
    shm = NULL;
}

static void add(_Atomic uint64_t *c, uint64_t n)
{
    atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static uint64_t get(_Atomic uint64_t *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

static size_t method_index(unsigned method)
{
    size_t i;

    for (i = 0; i < NMETHODS - 1; i++)
        if (method == 1u << i)
            return i;
    return NMETHODS - 1;
}

static size_t code_index(int status)
{
    size_t i;

    for (i = 0; i < NCODES - 1; i++)
        if (codes[i] == status)
            return i;
    return NCODES - 1;
}

void metrics_count(int route, unsigned method, int status, long long bytes_in,
                   long long bytes_out, long long duration_us)
{
    size_t ri, mi, b = 0;

    if (!shm)
        return;
    ri = route >= 0 && route < NROUTES ? (size_t)route : ROUTE_NONE;
    mi = method_index(method);
    if (duration_us < 0)
        duration_us = 0;
    while (b < NBUCKETS - 1 && duration_us > bounds_us[b])
        b++;
    add(&shm->requests[ri][mi][code_index(status)], 1);
    add(&shm->bytes_in[ri][mi], bytes_in > 0 ? (uint64_t)bytes_in : 0);
    add(&shm->bytes_out[ri][mi], bytes_out > 0 ? (uint64_t)bytes_out : 0);
    add(&shm->buckets[ri][mi][b], 1);
    add(&shm->duration_us[ri][mi], (uint64_t)duration_us);
}

void metrics_gc(long long bytes)
{
    if (!shm)
        return;
    add(&shm->gc_runs, 1);
    add(&shm->gc_bytes, bytes > 0 ? (uint64_t)bytes : 0);
}

void metrics_hook(enum metrics_hook what)
{
    if (shm && what < METRICS_HOOK_N)
        add(&shm->hook[what], 1);
}

void metrics_mirror(enum metrics_mirror what, long long bytes)
{
    if (!shm || what >= METRICS_MIRROR_N)
        return;
    add(&shm->mirror[what], 1);
    add(&shm->mirror_bytes, bytes > 0 ? (uint64_t)bytes : 0);
}

static int addf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int addf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = buf_vaddf(b, fmt, ap);
    va_end(ap);
    return rc;
}

static int header(struct buf *b, const char *name, const char *type,
                  const char *help)
{
    return addf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* The counter of bytes name (in or out), per route and method with any. */
static int bytes(struct buf *b, const char *name, const char *help,
                 _Atomic uint64_t (*c)[NMETHODS])
{
    size_t ri, mi;
    uint64_t n;

    if (header(b, name, "counter", help))
        return -1;
    for (ri = 0; ri < NROUTES; ri++)
        for (mi = 0; mi < NMETHODS; mi++) {
            if (!(n = get(&c[ri][mi])))
                continue;
            if (addf(b, "%s{route=\"%s\",method=\"%s\"} %llu\n", name,
                     route_names[ri], method_names[mi], (unsigned long long)n))
                return -1;
        }
    return 0;
}

static uint64_t requests(size_t ri, size_t mi, int code)
{
    return get(&shm->requests[ri][mi][code_index(code)]);
}

/*
 * The upload counters, from the requests' (README): started, a POST to
 * uploads/ answered 202; finished, a PUT to an upload answered 201 or a
 * POST to uploads/ answered 201 (a monolithic upload or a mount); failed,
 * any request of those two routes answered 4xx or 5xx, or not at all.
 */
static int uploads(struct buf *b)
{
    uint64_t started = requests(ROUTE_UPLOADS, 2, 202);
    uint64_t finished =
        requests(ROUTE_UPLOAD, 3, 201) + requests(ROUTE_UPLOADS, 2, 201);
    uint64_t failed = 0;
    size_t mi, ci;

    for (mi = 0; mi < NMETHODS; mi++)
        for (ci = 0; ci < NCODES; ci++)
            if (ci == NCODES - 1 || codes[ci] >= 400 || codes[ci] == 0)
                failed += get(&shm->requests[ROUTE_UPLOADS][mi][ci]) +
                          get(&shm->requests[ROUTE_UPLOAD][mi][ci]);
    return (header(b, "berth_uploads_started_total", "counter",
                   "Upload sessions opened (POST .../blobs/uploads/ 202).") ||
            addf(b, "berth_uploads_started_total %llu\n",
                 (unsigned long long)started) ||
            header(b, "berth_uploads_finished_total", "counter",
                   "Uploads that made a blob (PUT 201, or POST 201).") ||
            addf(b, "berth_uploads_finished_total %llu\n",
                 (unsigned long long)finished) ||
            header(b, "berth_uploads_failed_total", "counter",
                   "Upload requests answered 4xx or 5xx, or not at all.") ||
            addf(b, "berth_uploads_failed_total %llu\n",
                 (unsigned long long)failed))
               ? -1
               : 0;
}

static int histogram(struct buf *b)
{
    const char *name = "registry_http_request_duration_seconds";
    size_t ri, mi, i;

    if (header(b, name, "histogram",
               "Time from accepting a request to its end, by route and "
               "method."))
        return -1;
    for (ri = 0; ri < NROUTES; ri++)
        for (mi = 0; mi < NMETHODS; mi++) {
            uint64_t n[NBUCKETS], count = 0;
            const char *l = route_names[ri], *m = method_names[mi];

            for (i = 0; i < NBUCKETS; i++)
                count += n[i] = get(&shm->buckets[ri][mi][i]);
            if (!count)
                continue;
            count = 0;
            for (i = 0; i < NBUCKETS; i++) {
                count += n[i];
                if (addf(b,
                         "%s_bucket{route=\"%s\",method=\"%s\",le=\"%s\"} "
                         "%llu\n",
                         name, l, m, i < NBUCKETS - 1 ? bounds_le[i] : "+Inf",
                         (unsigned long long)count))
                    return -1;
            }
            if (addf(b, "%s_sum{route=\"%s\",method=\"%s\"} %.6f\n", name, l, m,
                     (double)get(&shm->duration_us[ri][mi]) / 1e6) ||
                addf(b, "%s_count{route=\"%s\",method=\"%s\"} %llu\n", name, l,
                     m, (unsigned long long)count))
                return -1;
        }
    return 0;
}

/*
 * A counter whose label has the values names[0..n), of c[0..n): every
 * value, zeros too, so that rates work from the start.
 */
static int labelled(struct buf *b, const char *name, const char *help,
                    const char *label, const char *const *names,
                    _Atomic uint64_t *c, size_t n)
{
    size_t i;

    if (header(b, name, "counter", help))
        return -1;
    for (i = 0; i < n; i++)
        if (addf(b, "%s{%s=\"%s\"} %llu\n", name, label, names[i],
                 (unsigned long long)get(&c[i])))
            return -1;
    return 0;
}

/* The webhooks' posts and the pull-through cache's work. */
static int hooks_mirror(struct buf *b)
{
    static const char *const hook[] = {
        [METRICS_HOOK_DELIVERED] = "delivered",
        [METRICS_HOOK_FAILED] = "failed",
        [METRICS_HOOK_DEAD] = "dead",
    };
    static const char *const blob[] = {"stored", "failed"};
    static const char *const manifest[] = {"new", "same", "stale"};

    _Static_assert(METRICS_MIRROR_BLOB_FAILED == 1 &&
                       METRICS_MIRROR_MANIFEST_NEW == 2 &&
                       METRICS_MIRROR_N == 5,
                   "the labels below follow enum metrics_mirror");
    return labelled(b, "berth_webhook_posts_total",
                    "Webhook posts: delivered (2xx), failed (to be tried "
                    "again), dead (a dead letter).",
                    "result", hook, shm->hook, METRICS_HOOK_N) ||
                   labelled(b, "berth_mirror_blob_fetches_total",
                            "Blobs the pull-through cache fetched: stored "
                            "(the digest checked), failed (nothing kept).",
                            "result", blob, shm->mirror, 2) ||
                   header(b, "berth_mirror_fetched_bytes_total", "counter",
                          "Bytes of the blobs the cache fetched and kept.") ||
                   addf(b, "berth_mirror_fetched_bytes_total %llu\n",
                        (unsigned long long)get(&shm->mirror_bytes)) ||
                   labelled(b, "berth_mirror_manifest_fetches_total",
                            "Manifests the cache asked its upstream for: new "
                            "(fetched), same (a tag checked, unchanged), "
                            "stale (the upstream failed: the cached copy "
                            "went out).",
                            "result", manifest,
                            shm->mirror + METRICS_MIRROR_MANIFEST_NEW, 3)
               ? -1
               : 0;
}

static int gauge(struct buf *b, const char *name, const char *help, long long v)
{
    return header(b, name, "gauge", help) || addf(b, "%s %lld\n", name, v) ? -1
                                                                           : 0;
}

int metrics_render(struct buf *b, const struct store_stats *st)
{
    const char *name = "registry_http_requests_total";
    size_t ri, mi, ci;
    uint64_t n;

    if (!shm)
        return -1;
    if (header(b, name, "counter",
               "Requests answered, by route, method and status code."))
        return -1;
    for (ri = 0; ri < NROUTES; ri++)
        for (mi = 0; mi < NMETHODS; mi++)
            for (ci = 0; ci < NCODES; ci++) {
                char code[16];

                if (!(n = get(&shm->requests[ri][mi][ci])))
                    continue;
                if (ci < NCODES - 1)
                    snprintf(code, sizeof(code), "%d", codes[ci]);
                else
                    snprintf(code, sizeof(code), "other");
                if (addf(b, "%s{route=\"%s\",method=\"%s\",code=\"%s\"} %llu\n",
                         name, route_names[ri], method_names[mi], code,
                         (unsigned long long)n))
                    return -1;
            }
    if (histogram(b) ||
        bytes(b, "berth_http_request_body_bytes_total",
              "Bytes of request bodies berth read.", shm->bytes_in) ||
        bytes(b, "berth_http_response_body_bytes_total",
              "Bytes of answer bodies berth wrote (not offloaded files).",
              shm->bytes_out) ||
        uploads(b) ||
        header(b, "berth_gc_runs_total", "counter",
               "Garbage collections that ended well.") ||
        addf(b, "berth_gc_runs_total %llu\n",
             (unsigned long long)get(&shm->gc_runs)) ||
        header(b, "berth_gc_freed_bytes_total", "counter",
               "Bytes the garbage collections freed on disk.") ||
        addf(b, "berth_gc_freed_bytes_total %llu\n",
             (unsigned long long)get(&shm->gc_bytes)) ||
        hooks_mirror(b))
        return -1;
    if (!st)
        return 0;
    return (gauge(b, "berth_store_blobs", "Blobs stored.", st->blobs) ||
            gauge(b, "berth_store_manifests",
                  "Manifest records stored (one per repository).",
                  st->manifests) ||
            gauge(b, "berth_store_bytes",
                  "Bytes the store holds: blobs once each, manifests.",
                  st->bytes) ||
            gauge(b, "berth_lmdb_map_used_bytes",
                  "Bytes of the metadata's LMDB map in use.", st->map_used) ||
            gauge(b, "berth_lmdb_map_size_bytes",
                  "Size of the metadata's LMDB map now.", st->map_size))
               ? -1
               : 0;
}
