#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store_private.h"
#include "util/fsutil.h"
#include "util/log.h"
#include "util/xalloc.h"

int store_blob_path(struct store *s, const struct digest *d, char *buf,
                    size_t len, size_t *rel)
{
    int n = snprintf(buf, len, "%s/blobs/%s/%.2s/%s", s->root,
                     digest_alg_name(d->alg), d->hex, d->hex);

    if (n < 0 || (size_t)n >= len)
        return STORE_IO;
    if (rel)
        *rel = strlen(s->root) + sizeof("/blobs/") - 1;
    return STORE_OK;
}

/* "<alg>:<hex>" of d as a key, in buf (DIGEST_STR_MAX bytes). */
static void digest_key(const struct digest *d, char *buf, MDB_val *key)
{
    digest_format(d, buf);
    store_str_val(buf, key);
}

int store_blob_rec(struct store *s, MDB_txn *txn, const struct digest *d,
                   struct blob_rec *out)
{
    char dstr[DIGEST_STR_MAX];
    MDB_val key, val;
    int rc;

    digest_key(d, dstr, &key);
    rc = store_get(txn, s->blobs, &key, &val, "mdb_get blobs");
    if (rc)
        return rc;
    if (val.mv_size != sizeof(*out))
        return store_corrupt("blob record", dstr);
    memcpy(out, val.mv_data, val.mv_size); /* val dies with txn */
    return STORE_OK;
}

static int put_blob_rec(struct store *s, MDB_txn *txn, const struct digest *d,
                        const struct blob_rec *rec)
{
    char dstr[DIGEST_STR_MAX];
    MDB_val key, val;

    digest_key(d, dstr, &key);
    val.mv_data = (void *)rec;
    val.mv_size = sizeof(*rec);
    return store_map_mdb_rc(mdb_put(txn, s->blobs, &key, &val, 0),
                            "mdb_put blobs");
}

int store_blob_inlined(const struct store *s, long long size)
{
    return size <= s->inline_max;
}

int store_link_get(struct store *s, MDB_txn *txn, const char *repo,
                   const struct digest *d, struct link_rec *out)
{
    MDB_val val;
    int rc;

    rc = store_get_link(txn, s->links, repo, d, &val, "mdb_get links");
    if (rc)
        return rc;
    if (val.mv_size != sizeof(*out))
        return store_corrupt("link record in", repo);
    memcpy(out, val.mv_data, sizeof(*out));
    return STORE_OK;
}

/* Set the link of repo to d, within txn. */
static int put_link(struct store *s, MDB_txn *txn, const char *repo,
                    const struct digest *d, const struct link_rec *rec,
                    unsigned flags)
{
    char kbuf[LINK_KEY_MAX];
    MDB_val key, val;

    store_link_key(kbuf, repo, d, &key);
    val.mv_data = (void *)rec;
    val.mv_size = sizeof(*rec);
    return store_map_mdb_rc(mdb_put(txn, s->links, &key, &val, flags),
                            "mdb_put links");
}

int store_linked_rec(struct store *s, MDB_txn *txn, const char *repo,
                     const struct digest *d, struct blob_rec *out)
{
    struct link_rec link;
    int rc;

    rc = store_link_get(s, txn, repo, d, &link);
    if (rc)
        return rc;
    rc = store_blob_rec(s, txn, d, out);
    if (rc == STORE_NOTFOUND) {
        log_err("repository '%s' links blob '%s' that has no record", repo,
                d->hex);
        return STORE_CORRUPT;
    }
    return rc;
}

/*
 * An open blob: a file (fd) or the bytes of one kept in the database,
 * copied out of the map (data). path is the file's, or "" for the latter.
 */
struct store_blob {
    long long size;
    int fd;
    size_t rel; /* where the part below <root>/blobs/ starts in path */
    char path[PATH_MAX];
    unsigned char data[]; /* size bytes when fd < 0 */
};

/* Copy the bytes of inline blob d (rec) into a new handle, within txn. */
static int open_inline(struct store *s, MDB_txn *txn, const struct digest *d,
                       const struct blob_rec *rec, struct store_blob **out)
{
    char dstr[DIGEST_STR_MAX];
    struct store_blob *b;
    MDB_val key, val;
    int rc;

    digest_key(d, dstr, &key);
    rc = store_get(txn, s->inlined, &key, &val, "mdb_get inline");
    if (rc == STORE_NOTFOUND || (rc == STORE_OK && val.mv_size != rec->size))
        return store_corrupt("inline blob", dstr);
    if (rc)
        return rc;
    b = xmalloc(sizeof(*b) + val.mv_size);
    b->size = (long long)rec->size;
    b->fd = -1;
    b->rel = 0;
    b->path[0] = '\0';
    memcpy(b->data, val.mv_data, val.mv_size); /* val dies with txn */
    *out = b;
    return STORE_OK;
}

/*
 * Open the file of blob d (rec), within txn. The file is checked as well
 * as the record: a crash between unlinking a blob file and committing the
 * deletion of its record (store_blob_delete) leaves a record without a
 * file, and such a blob must look absent rather than be promised to a
 * client, or to the web server.
 */
static int open_file(struct store *s, const struct digest *d,
                     const struct blob_rec *rec, struct store_blob **out)
{
    struct store_blob *b = xmalloc(sizeof(*b));
    int rc;

    b->size = (long long)rec->size;
    rc = store_blob_path(s, d, b->path, sizeof(b->path), &b->rel);
    if (rc)
        goto free_b;
    b->fd = open(b->path, O_RDONLY | O_CLOEXEC);
    if (b->fd < 0) {
        rc = errno == ENOENT ? STORE_NOTFOUND
                             : store_map_errno(errno, "open blob", b->path);
        goto free_b;
    }
    *out = b;
    return STORE_OK;
free_b:
    free(b);
    return rc;
}

/*
 * An ask within this long of the last one is not written: a tenth of the
 * hold, so that a client that asks now and then holds a blob for good.
 */
#define ASK_SLACK (STORE_ASK_HOLD / 10)

/*
 * Whether a client's ask of repo's blob d should be written: nothing of
 * repo uses d, and the last ask is a while ago. Within txn.
 */
static int stale_ask(struct store *s, MDB_txn *txn, const char *repo,
                     const struct digest *d, int *stale)
{
    struct link_rec link;
    int rc;

    *stale = 0;
    rc = store_usedby(s, txn, repo, d, NULL);
    if (rc == STORE_OK)
        return STORE_OK; /* a manifest keeps it: no grace needed */
    if (rc != STORE_NOTFOUND)
        return rc;
    rc = store_link_get(s, txn, repo, d, &link);
    if (rc == STORE_OK)
        *stale = link.asked < store_now(s) - ASK_SLACK;
    return rc;
}

/* A client asked for repo's blob d now, within txn. */
static int ask(struct store *s, MDB_txn *txn, const char *repo,
               const struct digest *d)
{
    struct link_rec link;
    int rc;

    rc = store_link_get(s, txn, repo, d, &link);
    if (rc)
        return rc; /* gone meanwhile: STORE_NOTFOUND, as for the client */
    link.asked = (int64_t)store_now(s);
    return put_link(s, txn, repo, d, &link, 0);
}

int store_link_release(struct store *s, MDB_txn *txn, const char *repo,
                       const struct digest *d)
{
    struct link_rec link;
    int rc = store_usedby(s, txn, repo, d, NULL);

    if (rc == STORE_OK)
        return STORE_OK; /* still used */
    if (rc != STORE_NOTFOUND)
        return rc;
    rc = store_link_get(s, txn, repo, d, &link);
    if (rc)
        return rc == STORE_NOTFOUND ? STORE_OK : rc;
    link.released = (int64_t)store_now(s);
    return put_link(s, txn, repo, d, &link, 0);
}

int store_link_used(struct store *s, MDB_txn *txn, const char *repo,
                    const struct digest *d)
{
    struct link_rec link;
    int rc = store_link_get(s, txn, repo, d, &link);

    if (rc || link.asked == 0)
        return rc == STORE_NOTFOUND ? STORE_OK : rc;
    link.asked = 0; /* the push it was asked for is done */
    return put_link(s, txn, repo, d, &link, 0);
}

int store_blob_open(struct store *s, const char *repo, const struct digest *d,
                    unsigned flags, struct store_blob **out)
{
    struct store_blob *b = NULL;
    struct blob_rec rec;
    MDB_txn *txn;
    int rc, stale = 0, pulled = 0;

    rc = store_txn_begin(s, MDB_RDONLY, &txn);
    if (rc)
        return rc;
    rc = store_linked_rec(s, txn, repo, d, &rec);
    if (rc == STORE_OK && (flags & STORE_BLOB_TOUCH) && !s->rdonly)
        rc = stale_ask(s, txn, repo, d, &stale);
    if (rc == STORE_OK && (flags & STORE_BLOB_PULL) && !s->rdonly && s->pulls &&
        (rec.flags & BLOB_CACHED))
        pulled = store_pull_get(s, txn, d) <= store_now(s) - STORE_PULL_SLACK;
    if (rc == STORE_OK)
        rc = rec.flags & BLOB_INLINE ? open_inline(s, txn, d, &rec, &b)
                                     : open_file(s, d, &rec, &b);
    mdb_txn_abort(txn);
    /*
     * A client that asks for a blob nothing references may be about to
     * push a manifest that does: its ask is written, in a write
     * transaction of its own, which also tells whether a GC took the link
     * away meanwhile (then the blob is not there for this client either).
     */
    if (rc == STORE_OK && stale) {
        rc = store_txn_begin(s, 0, &txn);
        if (rc == STORE_OK)
            rc = store_txn_end(s, txn, ask(s, txn, repo, d));
    }
    if (rc == STORE_OK && pulled && store_txn_begin(s, 0, &txn) == STORE_OK)
        (void)store_txn_end(s, txn, store_pull_put(s, txn, d));
    if (rc) {
        store_blob_close(b);
        return rc;
    }
    *out = b;
    return STORE_OK;
}

void store_blob_close(struct store_blob *b)
{
    if (!b)
        return;
    if (b->fd >= 0)
        close(b->fd);
    free(b);
}

long long store_blob_size(const struct store_blob *b)
{
    return b->size;
}

long store_blob_read(struct store_blob *b, long long off, void *buf, size_t len)
{
    ssize_t n;

    if (off >= b->size)
        return 0;
    if ((long long)len > b->size - off)
        len = (size_t)(b->size - off);
    if (b->fd < 0) {
        memcpy(buf, b->data + off, len);
        return (long)len;
    }
    do
        n = pread(b->fd, buf, len, (off_t)off);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        log_err("cannot read '%s' at offset %lld: %s", b->path, off,
                strerror(errno));
    else if (n == 0 && len)
        log_err("'%s' is shorter than its record: %lld bytes", b->path,
                b->size);
    return n > 0 ? (long)n : -1;
}

const char *store_blob_file(const struct store_blob *b, size_t *rel)
{
    if (b->fd < 0)
        return NULL;
    if (rel)
        *rel = b->rel;
    return b->path;
}

/*
 * store_link_add(); cached: the pull-through cache links a blob it has
 * (store_link_add_cached), which leaves BLOB_CACHED as it is, where any
 * other link makes the blob the registry's own.
 */
static int link_add(struct store *s, MDB_txn *txn, const char *repo,
                    const struct digest *d, int cached)
{
    int64_t now = (int64_t)store_now(s);
    struct link_rec link = {now, now}, old;
    struct blob_rec rec;
    int rc;

    rc = store_blob_rec(s, txn, d, &rec);
    if (rc)
        return rc;
    if (!cached && (rec.flags & BLOB_CACHED)) {
        rec.flags &= ~(uint64_t)BLOB_CACHED;
        rc = put_blob_rec(s, txn, d, &rec);
        if (rc)
            return rc;
    }
    rc = store_link_get(s, txn, repo, d, &old);
    if (rc == STORE_OK) {
        /* asked for again: what a manifest uses needs no ask */
        link.released = old.released;
        if (store_usedby(s, txn, repo, d, NULL) == STORE_OK)
            link.asked = 0;
        return put_link(s, txn, repo, d, &link, 0);
    }
    if (rc != STORE_NOTFOUND)
        return rc;
    rc = put_link(s, txn, repo, d, &link, MDB_NOOVERWRITE);
    if (rc == STORE_OK)
        rc = store_ns_link(s, txn, repo, d, (long long)rec.size, 1,
                           rec.refs == 0);
    if (rc)
        return rc;
    rec.refs++;
    rc = put_blob_rec(s, txn, d, &rec);
    if (rc)
        return rc;
    return store_repo_count(s, txn, repo, REPO_LINKS, +1);
}

int store_link_add(struct store *s, MDB_txn *txn, const char *repo,
                   const struct digest *d)
{
    return link_add(s, txn, repo, d, 0);
}

int store_link_add_cached(struct store *s, MDB_txn *txn, const char *repo,
                          const struct digest *d)
{
    return link_add(s, txn, repo, d, 1);
}

int store_blob_mark_cached(struct store *s, MDB_txn *txn,
                           const struct digest *d)
{
    struct blob_rec rec;
    int rc = store_blob_rec(s, txn, d, &rec);

    if (rc)
        return rc;
    rec.flags |= BLOB_CACHED;
    return put_blob_rec(s, txn, d, &rec);
}

/* Copy size bytes of fd into the "inline" record of d, within txn. */
static int put_inline(struct store *s, MDB_txn *txn, const struct digest *d,
                      int fd, const char *path, long long size)
{
    char dstr[DIGEST_STR_MAX];
    MDB_val key, val;
    long long off = 0;
    ssize_t n;
    int rc;

    digest_key(d, dstr, &key);
    val.mv_size = (size_t)size;
    /* reserve the space in the map and read the file straight into it */
    rc = mdb_put(txn, s->inlined, &key, &val, MDB_RESERVE);
    if (rc)
        return store_map_mdb_rc(rc, "mdb_put inline");
    while (off < size) {
        n = pread(fd, (char *)val.mv_data + off, (size_t)(size - off),
                  (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return store_map_errno(n ? errno : EIO, "read", path);
        off += n;
    }
    return STORE_OK;
}

int store_blob_adopt(struct store *s, MDB_txn *txn, const char *repo,
                     const struct digest *d, int fd, const char *path,
                     long long size)
{
    char dst[PATH_MAX];
    struct blob_rec rec;
    struct stat st;
    int rc;

    rc = store_blob_path(s, d, dst, sizeof(dst), NULL);
    if (rc)
        return rc;
    rc = store_blob_rec(s, txn, d, &rec);
    if (rc == STORE_NOTFOUND) {
        memset(&rec, 0, sizeof(rec));
        rec.size = (uint64_t)size;
        rec.flags = store_blob_inlined(s, size) ? BLOB_INLINE : 0;
    } else if (rc) {
        return rc;
    }
    if (rec.flags & BLOB_INLINE) {
        /* content-addressed: the bytes, when there, are these */
        if (rc == STORE_NOTFOUND) {
            rc = put_inline(s, txn, d, fd, path, size);
            if (rc)
                return rc;
        }
    } else if (rc == STORE_OK && stat(dst, &st) == 0 &&
               (long long)st.st_size == size) {
        /*
         * Check the file, not only the record, so that a file lost in a
         * crash between unlink and commit (see store_blob_delete) is put
         * back.
         */
        if (unlink(path))
            log_warn("cannot remove '%s': %s", path, strerror(errno));
    } else {
        /* the caller flushed only what it expected to become a file */
        if (store_blob_inlined(s, size) && fdatasync(fd))
            return store_map_errno(errno, "fsync", path);
        /* most blobs land in a directory that exists: try that first */
        if (rename(path, dst)) {
            char *slash = strrchr(dst, '/');

            if (errno != ENOENT)
                return store_map_errno(errno, "rename blob into", dst);
            *slash = '\0';
            if (mkdir_p(dst, 0755))
                return store_map_errno(errno, "create directory", dst);
            *slash = '/';
            if (rename(path, dst))
                return store_map_errno(errno, "rename blob into", dst);
        }
        if (fsync_parent(dst))
            return store_map_errno(errno, "fsync directory of", dst);
    }
    rc = put_blob_rec(s, txn, d, &rec);
    if (rc)
        return rc;
    return store_link_add(s, txn, repo, d);
}

int store_blob_adopt_link(struct store *s, MDB_txn *txn, const char *repo,
                          const struct digest *d, int fd, const char *src,
                          long long size)
{
    char dst[PATH_MAX];
    struct blob_rec rec;
    struct stat st, mine;
    int rc;

    rc = store_blob_path(s, d, dst, sizeof(dst), NULL);
    if (rc)
        return rc;
    rc = store_blob_rec(s, txn, d, &rec);
    if (rc == STORE_OK &&
        ((rec.flags & BLOB_INLINE) ||
         (stat(dst, &st) == 0 && (long long)st.st_size == (long long)rec.size)))
        return store_link_add(s, txn, repo, d); /* adopted meanwhile */
    if (rc == STORE_NOTFOUND) {
        memset(&rec, 0, sizeof(rec));
        rec.size = (uint64_t)size;
    } else if (rc) {
        return rc;
    }
    /*
     * No record, or one whose file is lost: what is at dst is no blob's
     * (a crash between this link and its commit, or an orphan), and
     * nothing else can put one there while this transaction holds the
     * writer lock.
     */
    if (unlink(dst) && errno != ENOENT)
        return store_map_errno(errno, "remove", dst);
    if (link(src, dst)) {
        char *slash = strrchr(dst, '/');

        if (errno == EXDEV || errno == EPERM || errno == EMLINK)
            return STORE_LINK_REFUSED;
        if (errno != ENOENT)
            return store_map_errno(errno, "link blob into", dst);
        *slash = '\0';
        if (mkdir_p(dst, 0755))
            return store_map_errno(errno, "create directory", dst);
        *slash = '/';
        if (link(src, dst))
            return errno == EXDEV || errno == EPERM || errno == EMLINK
                       ? STORE_LINK_REFUSED
                       : store_map_errno(errno, "link blob into", dst);
    }
    /* the file checked is the file linked, or src was replaced meanwhile */
    if (stat(dst, &st) || fstat(fd, &mine) || st.st_ino != mine.st_ino ||
        st.st_dev != mine.st_dev) {
        unlink(dst);
        return STORE_DIGEST_MISMATCH;
    }
    if (fsync_parent(dst)) {
        rc = store_map_errno(errno, "fsync directory of", dst);
        goto unlink_dst;
    }
    rc = put_blob_rec(s, txn, d, &rec);
    if (rc == STORE_OK)
        rc = store_link_add(s, txn, repo, d);
    if (rc == STORE_OK)
        return STORE_OK;
unlink_dst:
    /* the transaction aborts: the file must not stay without a record */
    unlink(dst);
    return rc;
}

/* Drop the blob itself, its last link gone, within txn. */
static int blob_drop(struct store *s, MDB_txn *txn, const struct digest *d,
                     const struct blob_rec *rec)
{
    char dstr[DIGEST_STR_MAX];
    MDB_val key;
    int rc;

    digest_key(d, dstr, &key);
    rc = store_del(txn, s->blobs, &key, NULL, "mdb_del blobs");
    if (rc == STORE_NOTFOUND)
        return store_corrupt("blob record", dstr); /* get_blob_rec had it */
    if (rc)
        return rc;
    if ((rec->flags & BLOB_CACHED) && s->pulls) {
        rc = store_del(txn, s->pulls, &key, NULL, "mdb_del pulls");
        if (rc && rc != STORE_NOTFOUND)
            return rc;
    }
    if (rec->flags & BLOB_INLINE) {
        rc = store_del(txn, s->inlined, &key, NULL, "mdb_del inline");
        return rc == STORE_NOTFOUND ? STORE_OK : rc;
    }
    /*
     * Move the file aside while holding the writer lock, so that no
     * concurrent upload of the same content can rename its file into
     * place between our commit and our unlink; it is unlinked after the
     * commit (store_txn_end).
     */
    return store_trash(s, d);
}

/*
 * store_blob_unlink(); evict: the cache's eviction, which unlinks a blob
 * that manifests of repo use (they are the cache's, and fetch it again).
 */
static int blob_unlink(struct store *s, MDB_txn *txn, const char *repo,
                       const struct digest *d, struct digest *user,
                       long long *freed, int evict)
{
    char kbuf[LINK_KEY_MAX];
    struct blob_rec rec;
    MDB_val key;
    int rc;

    rc = evict ? STORE_NOTFOUND : store_usedby(s, txn, repo, d, user);
    if (rc == STORE_OK)
        return STORE_IN_USE; /* a manifest of repo references it */
    if (rc != STORE_NOTFOUND)
        return rc;
    store_link_key(kbuf, repo, d, &key);
    rc = store_del(txn, s->links, &key, NULL, "mdb_del links");
    if (rc)
        return rc;
    rc = store_blob_rec(s, txn, d, &rec);
    if (rc == STORE_NOTFOUND)
        return store_corrupt("blob record of a link in", repo);
    if (rc == STORE_OK)
        rc = store_repo_count(s, txn, repo, REPO_LINKS, -1);
    if (rc == STORE_OK)
        rc = store_ns_link(s, txn, repo, d, (long long)rec.size, -1,
                           rec.refs <= 1);
    if (rc == STORE_OK) {
        char dstr[DIGEST_STR_MAX];

        digest_format(d, dstr);
        rc = store_audit_add(s, txn, evict ? "blob-evict" : "blob-delete", repo,
                             dstr, dstr, NULL);
    }
    if (rc)
        return rc;
    if (freed)
        *freed = rec.refs <= 1 ? (long long)rec.size : 0;
    if (rec.refs <= 1)
        return blob_drop(s, txn, d, &rec);
    rec.refs--;
    return put_blob_rec(s, txn, d, &rec);
}

int store_blob_unlink(struct store *s, MDB_txn *txn, const char *repo,
                      const struct digest *d, struct digest *user,
                      long long *freed)
{
    return blob_unlink(s, txn, repo, d, user, freed, 0);
}

int store_blob_evict(struct store *s, MDB_txn *txn, const char *repo,
                     const struct digest *d, long long *freed)
{
    return blob_unlink(s, txn, repo, d, NULL, freed, 1);
}

int store_blob_delete(struct store *s, const char *repo, const struct digest *d,
                      struct digest *user)
{
    MDB_txn *txn;
    int rc = store_txn_begin(s, 0, &txn);

    return rc ? rc
              : store_txn_end(s, txn,
                              store_blob_unlink(s, txn, repo, d, user, NULL));
}

int store_blob_mount(struct store *s, const char *repo, const char *from,
                     const struct digest *d, long long *size)
{
    struct blob_rec rec;
    MDB_txn *txn;
    int rc;

    rc = store_txn_begin(s, 0, &txn);
    if (rc)
        return rc;
    rc = store_linked_rec(s, txn, from, d, &rec);
    if (rc == STORE_OK)
        rc = store_link_add(s, txn, repo, d);
    rc = store_txn_end(s, txn, rc);
    if (rc == STORE_OK)
        *size = (long long)rec.size;
    return rc;
}
