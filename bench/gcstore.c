/*
 * bench/gcstore.c: the garbage collector's figures (bench/bench.sh). It
 * makes, through the store's functions, a store that is mostly garbage,
 * and sweeps it with store_gc(). Built by bench.sh with the build's
 * libberth.a.
 *
 *   gcstore fill ROOT BLOBS MANIFESTS REPOS
 *
 * fills the storage root ROOT (a new one, or one berth is not serving)
 * with about BLOBS blobs and MANIFESTS image manifests in REPOS
 * repositories, then deletes most manifests. Each manifest has a config
 * and layers of its own and two layers shared with the other manifests
 * of its repository (from a pool of the blobs left over), and a tag.
 * Blobs are a few hundred bytes, kept in LMDB, but one layer in
 * LARGE_EVERY is over the inline limit and so a file, uploaded as a
 * client uploads it (store_upload_begin, store_upload_finish); the small
 * ones are made by the last step of an upload (store_blob_adopt, from
 * store_private.h), many to a commit, and LMDB flushes once at the end:
 * 100,000 blobs take seconds, not minutes. Manifests go in with
 * store_manifest_put(). Then 8 manifests in 10 are deleted by digest (as
 * a client's DELETE does: their blobs are unreachable from then on) and 1
 * in 10 loses its tag (unreachable for a GC with untagged_ttl 0); 1 in 10
 * stays. Prints what it made.
 *
 *   gcstore gc ROOT
 *
 * collects ROOT's garbage with store_gc(), with grace 0 and untagged_ttl
 * 0, the store opened as berth opens it by default: what `berthctl gc
 * --grace 0` does with `untagged_ttl = 0` in berth.conf. Prints `metric`
 * lines: the wall seconds of store_gc() and what it removed. The
 * untagged manifests go, but their blobs stay: a blob's grace starts
 * again when the last manifest that used it goes (store.h), so the next
 * sweep takes them.
 *
 * Anything that changed in the second a sweep starts is within grace 0:
 * sweep a store at least a second after filling it.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/store_private.h"
#include "util/digest.h"
#include "util/log.h"
#include "util/manifest.h"
#include "util/names.h"

#define LARGE_EVERY 20
#define SMALL_MIN   200 /* bytes of the small blobs: SMALL_MIN..SMALL_MAX */
#define SMALL_MAX   700
#define LARGE_MIN   (STORE_INLINE_MAX_DEFAULT + 1024)
#define LARGE_MAX   (STORE_INLINE_MAX_DEFAULT + 8192)
#define SHARED      2   /* pool layers per manifest */
#define BATCH       512 /* small blobs per commit */
#define LAYERS_MAX  64  /* unique layers per manifest */
#define MT_CONFIG   "application/vnd.oci.image.config.v1+json"
#define MT_LAYER    "application/vnd.oci.image.layer.v1.tar+gzip"

/* as berth.conf's defaults make them (config/keys.c) */
static const struct store_options options = {
    .map_size = (size_t)1 << 30,
    .flags = STORE_SYNC_DATA,
    .inline_max = STORE_INLINE_MAX_DEFAULT,
};

struct mem {
    const unsigned char *p;
    size_t len, off;
};

static long mem_read(void *ctx, char *buf, size_t len)
{
    struct mem *m = ctx;
    size_t n = m->len - m->off;

    if (n > len)
        n = len;
    memcpy(buf, m->p + m->off, n);
    m->off += n;
    return (long)n;
}

/* What fill made, and what it makes them with. */
struct fill {
    struct store *s;
    unsigned char *buf; /* LARGE_MAX bytes for a blob's content */
    int scratch;        /* a file for the content of small blobs */
    char scratch_path[PATH_MAX];
    long long blobs, files, bytes;
    unsigned long seq; /* blobs made so far: each one's content differs */
};

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int fail(const char *what, const char *name, int rc)
{
    fprintf(stderr, "gcstore: %s '%s': %s\n", what, name, store_strerror(rc));
    return 1;
}

/*
 * The content of blob seq, in f->buf: its number, then bytes that follow
 * from it; a file if large. Its length, and its digest in *d.
 */
static size_t content(struct fill *f, unsigned long seq, int large,
                      struct digest *d)
{
    unsigned long x = 2463534242ul ^ (seq * 2654435761ul);
    struct hasher h;
    size_t len, i;

    len = large ? LARGE_MIN + seq % (LARGE_MAX - LARGE_MIN)
                : SMALL_MIN + seq % (SMALL_MAX - SMALL_MIN);
    i = (size_t)snprintf((char *)f->buf, len, "gcstore blob %lu\n", seq);
    for (; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        f->buf[i] = (unsigned char)(x >> 24);
    }
    hasher_init(&h, DIGEST_SHA256);
    hasher_update(&h, f->buf, len);
    hasher_final(&h, d);
    f->blobs++;
    f->files += large;
    f->bytes += (long long)len;
    return len;
}

/* Upload blob seq to repo, as a client does. */
static int upload(struct fill *f, const char *repo, unsigned long seq,
                  int large, struct digest *d, long long *size)
{
    char id[UPLOAD_ID_LEN + 1];
    struct store_body body;
    struct mem m;
    int rc;

    m.p = f->buf;
    m.len = content(f, seq, large, d);
    m.off = 0;
    body.read = mem_read;
    body.ctx = &m;
    body.length = (long long)m.len;
    rc = store_upload_begin(f->s, repo, "", id);
    if (rc == STORE_OK)
        rc = store_upload_finish(f->s, repo, id, &body, d, size);
    return rc ? fail("cannot upload a blob to", repo, rc) : 0;
}

/*
 * Make small blob seq of repo within txn as an upload's last step does
 * (store_blob_adopt), from the scratch file, without the session, the
 * file and the commit of its own that an upload costs: ext4 takes
 * longer to find an inode for each new file the more were deleted.
 */
static int adopt(struct fill *f, MDB_txn *txn, const char *repo,
                 unsigned long seq, struct digest *d, long long *size)
{
    size_t len = content(f, seq, 0, d);
    int rc;

    if (pwrite(f->scratch, f->buf, len, 0) != (ssize_t)len) {
        fprintf(stderr, "gcstore: cannot write '%s': %s\n", f->scratch_path,
                strerror(errno));
        return 1;
    }
    rc = store_blob_adopt(f->s, txn, repo, d, f->scratch, f->scratch_path,
                          (long long)len);
    *size = (long long)len;
    return rc ? fail("cannot make a blob of", repo, rc) : 0;
}

/* Append a descriptor to the manifest being written at *p (room: end). */
static void descriptor(char **p, const char *end, const char *mt,
                       const struct digest *d, long long size, int comma)
{
    char dstr[DIGEST_STR_MAX];

    digest_format(d, dstr);
    *p += snprintf(*p, (size_t)(end - *p),
                   "%s{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%lld}",
                   comma ? "," : "", mt, dstr, size);
}

/*
 * The manifest of config d[0] and layers d[1..n), tagged tag in repo:
 * its digest in *out.
 */
static int manifest(struct fill *f, const char *repo, const char *tag,
                    const struct digest *d, const long long *sizes, size_t n,
                    struct digest *out)
{
    char body[512 + (LAYERS_MAX + SHARED + 1) * 256], err[256];
    char *p = body, *end = body + sizeof(body);
    struct store_manifest mf;
    struct manifest m;
    struct digest missing;
    struct hasher h;
    size_t i;
    int rc;

    p += snprintf(p, (size_t)(end - p),
                  "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":",
                  MT_OCI_MANIFEST);
    descriptor(&p, end, MT_CONFIG, &d[0], sizes[0], 0);
    p += snprintf(p, (size_t)(end - p), ",\"layers\":[");
    for (i = 1; i < n; i++)
        descriptor(&p, end, MT_LAYER, &d[i], sizes[i], i > 1);
    p += snprintf(p, (size_t)(end - p), "]}");
    hasher_init(&h, DIGEST_SHA256);
    hasher_update(&h, body, (size_t)(p - body));
    hasher_final(&h, out);
    if (manifest_parse(body, (size_t)(p - body), NULL, &m, err, sizeof(err))) {
        fprintf(stderr, "gcstore: a manifest refused: %s\n", err);
        return 1;
    }
    mf.digest = out;
    mf.body = body;
    mf.len = (size_t)(p - body);
    mf.m = &m;
    mf.referrer = NULL;
    rc = store_manifest_put(f->s, repo, tag, &mf, &missing);
    manifest_release(&m);
    return rc ? fail("cannot put a manifest in", repo, rc) : 0;
}

static long arg(const char *s, long min)
{
    char *end;
    long v = strtol(s, &end, 10);

    if (*s == '\0' || *end != '\0' || v < min || v > 100000000) {
        fprintf(stderr, "gcstore: '%s' is not a count of at least %ld\n", s,
                min);
        exit(2);
    }
    return v;
}

/*
 * Whether blob i of a repository (the pool's, then each manifest's config
 * and layers), seq of all, is a file: one layer in LARGE_EVERY is.
 */
static int large(unsigned long seq, long i, long pool, long unique)
{
    return (i < pool || (i - pool) % unique != 0) && seq % LARGE_EVERY == 0;
}

/*
 * Fill repo: the pool's blobs, then nm manifests of unique blobs each and
 * SHARED of the pool, tagged v<k>, their digests in md.
 */
static int fill_repo(struct fill *f, const char *repo, long pool, long nm,
                     long unique, struct digest *md)
{
    struct digest *d, m[LAYERS_MAX + 1 + SHARED];
    long long *sz, msz[LAYERS_MAX + 1 + SHARED];
    long count = pool + nm * unique, i, k, j, batch = 0;
    unsigned long seq0 = f->seq;
    MDB_txn *txn = NULL;
    char tag[32];
    int rc = 0;

    d = calloc((size_t)count, sizeof(*d));
    sz = calloc((size_t)count, sizeof(*sz));
    if (!d || !sz) {
        fprintf(stderr, "gcstore: out of memory\n");
        rc = 1;
        goto out;
    }
    f->seq += (unsigned long)count;
    for (i = 0; rc == 0 && i < count; i++)
        if (large(seq0 + (unsigned long)i, i, pool, unique))
            rc = upload(f, repo, seq0 + (unsigned long)i, 1, &d[i], &sz[i]);
    for (i = 0; rc == 0 && i < count; i++) {
        if (large(seq0 + (unsigned long)i, i, pool, unique))
            continue;
        if (!txn && (rc = store_txn_begin(f->s, 0, &txn)) != 0) {
            rc = fail("cannot begin a transaction in", repo, rc);
            break;
        }
        rc = adopt(f, txn, repo, seq0 + (unsigned long)i, &d[i], &sz[i]);
        if (rc == 0 && ++batch % BATCH == 0) {
            rc = store_txn_end(f->s, txn, STORE_OK);
            txn = NULL;
            if (rc)
                rc = fail("cannot commit the blobs of", repo, rc);
        }
    }
    if (txn && store_txn_end(f->s, txn, rc ? STORE_IO : STORE_OK) && !rc)
        rc = fail("cannot commit the blobs of", repo, STORE_IO);
    for (k = 0; rc == 0 && k < nm; k++) {
        for (j = 0; j < unique; j++) {
            m[j] = d[pool + k * unique + j];
            msz[j] = sz[pool + k * unique + j];
        }
        for (i = 0; i < SHARED && i < pool; i++, j++) {
            m[j] = d[(k * SHARED + i) % pool];
            msz[j] = sz[(k * SHARED + i) % pool];
        }
        snprintf(tag, sizeof(tag), "v%ld", k);
        rc = manifest(f, repo, tag, m, msz, (size_t)j, &md[k]);
    }
out:
    free(d);
    free(sz);
    return rc;
}

static int fill(const char *root, long nblobs, long nman, long nrepo)
{
    /* per manifest: a config and its layers, and what is left a pool */
    long unique = nblobs / nman - 1 > 1 ? nblobs / nman - 1 : 1;
    long pool, r, k, j, nm;
    long long deleted = 0, untagged = 0;
    struct digest *md = NULL;
    char repo[64], tag[32];
    struct fill f;
    double t0 = now();
    int rc;

    if (unique > LAYERS_MAX + 1)
        unique = LAYERS_MAX + 1;
    pool = (nblobs - nman * unique) / nrepo;
    if (pool < 0)
        pool = 0;
    memset(&f, 0, sizeof(f));
    f.scratch = -1;
    rc = store_open(root, &options, &f.s);
    if (rc)
        return fail("cannot open the store", root, rc);
    /*
     * A commit per blob and per manifest, each flushed, would make filling
     * take minutes: none is flushed until the end, which flushes them all
     * (nothing else uses the store meanwhile).
     */
    mdb_env_set_flags(f.s->env, MDB_NOSYNC, 1);
    snprintf(f.scratch_path, sizeof(f.scratch_path), "%s/gcstore.scratch",
             root);
    f.scratch =
        open(f.scratch_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    f.buf = malloc(LARGE_MAX);
    md = calloc((size_t)nman, sizeof(*md));
    if (f.scratch < 0 || !f.buf || !md) {
        fprintf(stderr, "gcstore: cannot make '%s' or its buffers\n",
                f.scratch_path);
        goto fail;
    }
    for (j = 0, r = 0; r < nrepo; r++, j += nm) {
        nm = nman / nrepo + (r < nman % nrepo);
        snprintf(repo, sizeof(repo), "gc/r%04ld", r);
        if (fill_repo(&f, repo, pool, nm, unique, &md[j]))
            goto fail;
    }
    /* then most of the manifests are deleted by digest, or untagged */
    for (j = 0, r = 0; r < nrepo; r++) {
        nm = nman / nrepo + (r < nman % nrepo);
        snprintf(repo, sizeof(repo), "gc/r%04ld", r);
        for (k = 0; k < nm; k++, j++) {
            if (j % 10 == 0)
                continue;
            if (j % 10 == 1) {
                snprintf(tag, sizeof(tag), "v%ld", k);
                rc = store_tag_delete(f.s, repo, tag);
                untagged++;
            } else {
                rc = store_manifest_delete(f.s, repo, &md[j], NULL);
                deleted++;
            }
            if (rc) {
                fail("cannot delete a manifest of", repo, rc);
                goto fail;
            }
        }
    }
    rc = mdb_env_sync(f.s->env, 1);
    if (rc) {
        fprintf(stderr, "gcstore: cannot flush '%s': %s\n", root,
                mdb_strerror(rc));
        goto fail;
    }
    printf("# gcstore: %lld blobs (%lld of them files, %lld bytes), %ld "
           "manifests in %ld repositories, %lld deleted, %lld untagged, "
           "in %.1f s\n",
           f.blobs, f.files, f.bytes, nman, nrepo, deleted, untagged,
           now() - t0);
    goto out;
fail:
    rc = 1;
out:
    if (f.scratch >= 0) {
        close(f.scratch);
        unlink(f.scratch_path);
    }
    free(f.buf);
    free(md);
    store_close(f.s);
    return rc;
}

static int gc(const char *root)
{
    struct store_gc_options o;
    struct store_gc_stats st;
    struct store *s;
    double t0;
    int rc;

    rc = store_open(root, &options, &s);
    if (rc)
        return fail("cannot open the store", root, rc);
    memset(&o, 0, sizeof(o));
    o.grace = 0;
    o.untagged_ttl = 0;
    o.upload_ttl = 7 * 86400; /* berth.conf's default */
    t0 = now();
    rc = store_gc(s, &o, &st);
    t0 = now() - t0;
    store_close(s);
    if (rc)
        return fail("cannot collect the garbage of", root, rc);
    printf("metric gc_seconds %.3f s\n", t0);
    printf("metric gc_manifests %lld manifests\n", st.manifests);
    printf("metric gc_links %lld links\n", st.links);
    printf("metric gc_blobs %lld blobs\n", st.blobs);
    printf("metric gc_bytes %lld B\n", st.bytes);
    return 0;
}

int main(int argc, char **argv)
{
    log_level = LOG_LVL_WARN;
    if (argc == 6 && !strcmp(argv[1], "fill"))
        return fill(argv[2], arg(argv[3], 1), arg(argv[4], 1), arg(argv[5], 1));
    if (argc == 3 && !strcmp(argv[1], "gc"))
        return gc(argv[2]);
    fprintf(stderr, "usage: gcstore fill ROOT BLOBS MANIFESTS REPOS\n"
                    "       gcstore gc ROOT\n");
    return 2;
}
