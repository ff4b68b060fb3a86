#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store_private.h"
#include "util/fsutil.h"
#include "util/log.h"

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

static int get_blob_rec(struct store *s, MDB_txn *txn, const struct digest *d,
                        struct blob_rec *out)
{
    char dstr[DIGEST_STR_MAX];
    MDB_val key, val;
    int rc;

    digest_key(d, dstr, &key);
    rc = mdb_get(txn, s->blobs, &key, &val);
    if (rc)
        return store_map_mdb_rc(rc, "mdb_get blobs");
    memset(out, 0, sizeof(*out));
    if (val.mv_size != sizeof(*out) && val.mv_size != 2 * sizeof(uint64_t)) {
        log_err("corrupt blob record for '%s'", dstr);
        return STORE_IO;
    }
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

int store_linked_rec(struct store *s, MDB_txn *txn, const char *repo,
                     const struct digest *d, struct blob_rec *out)
{
    char kbuf[LINK_KEY_MAX];
    MDB_val key, val;
    int rc;

    store_link_key(kbuf, repo, d, &key);
    rc = mdb_get(txn, s->links, &key, &val);
    if (rc)
        return store_map_mdb_rc(rc, "mdb_get links");
    rc = get_blob_rec(s, txn, d, out);
    if (rc == STORE_NOTFOUND) {
        log_err("repository '%s' links blob '%s' that has no record", repo,
                d->hex);
        return STORE_IO;
    }
    return rc;
}

/* The record of d if repo links it, in a transaction of its own. */
static int lookup(struct store *s, const char *repo, const struct digest *d,
                  struct blob_rec *rec)
{
    MDB_txn *txn;
    int rc;

    rc = store_txn_begin(s, MDB_RDONLY, &txn);
    if (rc)
        return rc;
    rc = store_linked_rec(s, txn, repo, d, rec);
    mdb_txn_abort(txn);
    return rc;
}

/*
 * Both check the file as well as the record: a crash between unlinking a
 * blob file and committing the deletion of its record (store_blob_delete)
 * leaves a record without a file, and such a blob must look absent rather
 * than be promised to a client (or to the web server, on offload).
 */
int store_blob_stat(struct store *s, const char *repo, const struct digest *d,
                    long long *size, int *inlined)
{
    char path[PATH_MAX];
    struct blob_rec rec;
    struct stat st;
    int rc;

    rc = lookup(s, repo, d, &rec);
    if (rc)
        return rc;
    if (!(rec.flags & BLOB_INLINE)) {
        rc = store_blob_path(s, d, path, sizeof(path), NULL);
        if (rc)
            return rc;
        if (stat(path, &st))
            return errno == ENOENT ? STORE_NOTFOUND
                                   : store_map_errno(errno, "stat blob", path);
    }
    *size = (long long)rec.size;
    if (inlined)
        *inlined = !!(rec.flags & BLOB_INLINE);
    return STORE_OK;
}

/* Copy the bytes of inline blob d, linked into repo, into data. */
static int read_inline(struct store *s, const char *repo,
                       const struct digest *d, struct buf *data,
                       long long *size)
{
    char dstr[DIGEST_STR_MAX];
    struct blob_rec rec;
    MDB_txn *txn;
    MDB_val key, val;
    int rc;

    rc = store_txn_begin(s, MDB_RDONLY, &txn);
    if (rc)
        return rc;
    rc = store_linked_rec(s, txn, repo, d, &rec);
    if (rc)
        goto txn_abort;
    if (!(rec.flags & BLOB_INLINE)) {
        rc = STORE_EXISTS; /* it became a file: the caller opens that */
        goto txn_abort;
    }
    digest_key(d, dstr, &key);
    rc = mdb_get(txn, s->inlined, &key, &val);
    if (rc || val.mv_size != rec.size) {
        log_err("inline blob '%s' has no bytes or other ones", dstr);
        rc = STORE_IO;
        goto txn_abort;
    }
    buf_reset(data);
    if (buf_add(data, val.mv_data, val.mv_size)) {
        rc = STORE_TOOBIG;
        goto txn_abort;
    }
    *size = (long long)rec.size;
txn_abort:
    mdb_txn_abort(txn);
    return rc;
}

int store_blob_open(struct store *s, const char *repo, const struct digest *d,
                    int *fd, long long *size, struct buf *data)
{
    char path[PATH_MAX];
    struct blob_rec rec;
    int rc, f;

    rc = lookup(s, repo, d, &rec);
    if (rc)
        return rc;
    if (rec.flags & BLOB_INLINE) {
        if (!data)
            return STORE_TOOBIG;
        rc = read_inline(s, repo, d, data, size);
        if (rc == STORE_OK)
            *fd = -1;
        return rc;
    }
    rc = store_blob_path(s, d, path, sizeof(path), NULL);
    if (rc)
        return rc;
    /*
     * The transaction has ended; a concurrent delete may unlink the file
     * between the lookup and open(). That is a plain "not found".
     */
    f = open(path, O_RDONLY | O_CLOEXEC);
    if (f < 0) {
        if (errno == ENOENT)
            return STORE_NOTFOUND;
        return store_map_errno(errno, "open blob", path);
    }
    *fd = f;
    *size = (long long)rec.size;
    return STORE_OK;
}

int store_link_add(struct store *s, MDB_txn *txn, const char *repo,
                   const struct digest *d)
{
    char kbuf[LINK_KEY_MAX];
    struct blob_rec rec;
    MDB_val key, val;
    int rc;

    rc = get_blob_rec(s, txn, d, &rec);
    if (rc)
        return rc;
    store_link_key(kbuf, repo, d, &key);
    val.mv_data = NULL;
    val.mv_size = 0;
    rc = mdb_put(txn, s->links, &key, &val, MDB_NOOVERWRITE);
    if (rc == MDB_KEYEXIST)
        return STORE_OK;
    if (rc)
        return store_map_mdb_rc(rc, "mdb_put links");
    rec.refs++;
    rc = put_blob_rec(s, txn, d, &rec);
    if (rc)
        return rc;
    return store_repo_count(s, txn, repo, REPO_LINKS, +1);
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
    rc = get_blob_rec(s, txn, d, &rec);
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

int store_blob_delete(struct store *s, const char *repo, const struct digest *d)
{
    char kbuf[LINK_KEY_MAX], dstr[DIGEST_STR_MAX], path[PATH_MAX];
    struct blob_rec rec;
    MDB_txn *txn;
    MDB_val key;
    int rc;

    rc = store_txn_begin(s, 0, &txn);
    if (rc)
        return rc;
    store_link_key(kbuf, repo, d, &key);
    rc = mdb_del(txn, s->links, &key, NULL);
    if (rc) {
        rc = store_map_mdb_rc(rc, "mdb_del links");
        goto txn_abort;
    }
    rc = get_blob_rec(s, txn, d, &rec);
    if (rc)
        goto txn_abort;
    rc = store_repo_count(s, txn, repo, REPO_LINKS, -1);
    if (rc)
        goto txn_abort;
    if (rec.refs > 1) {
        rec.refs--;
        rc = put_blob_rec(s, txn, d, &rec);
        if (rc)
            goto txn_abort;
        return store_txn_commit(txn);
    }
    digest_key(d, dstr, &key);
    rc = mdb_del(txn, s->blobs, &key, NULL);
    if (rc) {
        rc = store_map_mdb_rc(rc, "mdb_del blobs");
        goto txn_abort;
    }
    if (rec.flags & BLOB_INLINE) {
        rc = mdb_del(txn, s->inlined, &key, NULL);
        if (rc && rc != MDB_NOTFOUND) {
            rc = store_map_mdb_rc(rc, "mdb_del inline");
            goto txn_abort;
        }
        return store_txn_commit(txn);
    }
    /*
     * Unlink while holding the writer lock, so no concurrent upload of the
     * same content can rename its file into place between our commit and
     * our unlink. If we crash after the unlink, the record survives
     * without a file: readers get "not found" and the next upload of the
     * content restores it (store_blob_adopt).
     */
    rc = store_blob_path(s, d, path, sizeof(path), NULL);
    if (rc)
        goto txn_abort;
    if (unlink(path) && errno != ENOENT) {
        rc = store_map_errno(errno, "unlink blob", path);
        goto txn_abort;
    }
    return store_txn_commit(txn);
txn_abort:
    mdb_txn_abort(txn);
    return rc;
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
    if (rc)
        goto txn_abort;
    rc = store_link_add(s, txn, repo, d);
    if (rc)
        goto txn_abort;
    rc = store_txn_commit(txn);
    if (rc == STORE_OK)
        *size = (long long)rec.size;
    return rc;
txn_abort:
    mdb_txn_abort(txn);
    return rc;
}
