#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store_private.h"
#include "util/fsutil.h"
#include "util/log.h"
#include "util/xalloc.h"

/*
 * store_blob_ingest(): a blob file from outside (another registry's
 * storage) made a blob of the store. A copy takes the way of an upload's:
 * a file of its own in uploads/, checked and flushed, then
 * store_blob_adopt() in one write transaction; it needs no session, as
 * nothing continues it (a crash leaves a file in uploads/ that
 * store_upload_purge() removes). A file to share is checked where it is
 * and linked into blobs/ by store_blob_adopt_link().
 */

#define COPY_CHUNK (1024 * 1024)

/*
 * Whether the store has blob d whole (its record, and its file unless it
 * is kept in LMDB), and whether repo links it; in one read transaction.
 */
static int lookup(struct store *s, const char *repo, const struct digest *d,
                  int *linked, long long *size)
{
    char path[PATH_MAX];
    struct blob_rec rec;
    struct stat st;
    MDB_txn *txn;
    int rc;

    rc = store_txn_begin(s, MDB_RDONLY, &txn);
    if (rc)
        return rc;
    rc = store_blob_rec(s, txn, d, &rec);
    if (rc == STORE_OK) {
        rc = store_linked_rec(s, txn, repo, d, &rec);
        *linked = rc == STORE_OK;
        rc = rc == STORE_NOTFOUND ? STORE_OK : rc;
    }
    mdb_txn_abort(txn);
    if (rc)
        return rc;
    /* a file lost in a crash is put back by adopting the bytes again */
    if (!(rec.flags & BLOB_INLINE)) {
        rc = store_blob_path(s, d, path, sizeof(path), NULL);
        if (rc)
            return rc;
        if (stat(path, &st) || (long long)st.st_size != (long long)rec.size)
            return STORE_NOTFOUND;
    }
    *size = (long long)rec.size;
    return STORE_OK;
}

/* Link repo to blob d, which the store has. STORE_NOTFOUND if it went. */
static int link_present(struct store *s, const char *repo,
                        const struct digest *d)
{
    MDB_txn *txn;
    int rc = store_txn_begin(s, 0, &txn);

    return rc ? rc : store_txn_end(s, txn, store_link_add(s, txn, repo, d));
}

/*
 * Copy src (fd in, size bytes) into the new file tmp (open in *out),
 * hashing what is read into h.
 */
static int copy_in(int in, const char *src, long long size, const char *tmp,
                   struct hasher *h, int *out)
{
    char *buf = xmalloc(COPY_CHUNK);
    long long off = 0;
    ssize_t n;
    int fd, rc = STORE_OK;

    fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        free(buf);
        return store_map_errno(errno, "create", tmp);
    }
    for (;;) {
        n = read(in, buf, COPY_CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = store_map_errno(errno, "read", src);
            break;
        }
        if (n == 0)
            break;
        hasher_update(h, buf, (size_t)n);
        if (pwrite_all(fd, buf, (size_t)n, off)) {
            rc = store_map_errno(errno, "write", tmp);
            break;
        }
        /*
         * Start writing it out now, so that the flush before the rename
         * waits for the last chunk rather than for the whole file: the
         * disk works while the next chunk is read and hashed.
         */
        sync_file_range(fd, off, n, SYNC_FILE_RANGE_WRITE);
        off += n;
    }
    free(buf);
    /* a file that changed size under us is not the file that was stat()ed */
    if (rc == STORE_OK && off != size)
        rc = STORE_DIGEST_MISMATCH;
    if (rc) {
        close(fd);
        unlink(tmp);
        return rc;
    }
    *out = fd;
    return STORE_OK;
}

/*
 * Link the file src (open as in, size bytes) into place as blob d of
 * repo, after hashing it where it is: STORE_LINK_REFUSED when it cannot
 * be linked (the caller copies it then).
 */
static int link_in(struct store *s, const char *repo, const struct digest *d,
                   int in, const char *src, long long size)
{
    struct digest got;
    struct hasher h;
    MDB_txn *txn;
    int rc;

    hasher_init(&h, d->alg);
    if (hasher_update_fd(&h, in, size))
        return store_map_errno(errno, "read", src);
    hasher_final(&h, &got);
    if (!digest_equal(&got, d))
        return STORE_DIGEST_MISMATCH;
    /* src's data is the blob's now: on disk before the record */
    if (fdatasync(in))
        return store_map_errno(errno, "fsync", src);
    rc = store_txn_begin(s, 0, &txn);
    if (rc)
        return rc;
    return store_txn_end(s, txn,
                         store_blob_adopt_link(s, txn, repo, d, in, src, size));
}

/* Adopt the checked file tmp (fd) as blob d of repo. */
static int adopt(struct store *s, const char *repo, const struct digest *d,
                 int fd, const char *tmp, long long size)
{
    MDB_txn *txn;
    int rc;

    /* a blob kept in LMDB is made durable by the commit itself */
    if (!store_blob_inlined(s, size) && fdatasync(fd))
        return store_map_errno(errno, "fsync", tmp);
    rc = store_txn_begin(s, 0, &txn);
    if (rc)
        return rc;
    return store_txn_end(s, txn,
                         store_blob_adopt(s, txn, repo, d, fd, tmp, size));
}

int store_blob_ingest(struct store *s, const char *repo, const struct digest *d,
                      const char *path, unsigned flags,
                      struct store_ingest *out)
{
    char tmp[PATH_MAX], id[UPLOAD_ID_LEN + 1];
    enum store_ingest_how how = STORE_INGEST_COPIED;
    struct digest got;
    struct hasher h;
    struct stat st;
    long long size;
    int linked = 0, in, fd = -1, rc;

    if (s->rdonly)
        return STORE_READONLY;
    rc = lookup(s, repo, d, &linked, &size);
    if (rc == STORE_OK && !linked)
        rc = link_present(s, repo, d);
    if (rc == STORE_OK) {
        out->size = size;
        out->how = STORE_INGEST_PRESENT;
        return STORE_OK;
    }
    if (rc != STORE_NOTFOUND)
        return rc;

    in = open(path, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return errno == ENOENT ? STORE_NOTFOUND
                               : store_map_errno(errno, "open", path);
    if (fstat(in, &st)) {
        rc = store_map_errno(errno, "stat", path);
        goto close_in;
    }
    if (!S_ISREG(st.st_mode)) {
        log_err("cannot import '%s': not a regular file", path);
        rc = STORE_IO;
        goto close_in;
    }
    size = (long long)st.st_size;
    /*
     * A blob kept in LMDB is copied whatever the flag. A file to share is
     * linked into blobs/ in the transaction that adds its record, never
     * into uploads/ first: there its source's old mtime would make it an
     * abandoned upload to store_upload_purge() and fsck.
     */
    if ((flags & STORE_INGEST_LINK) && !store_blob_inlined(s, size)) {
        rc = link_in(s, repo, d, in, path, size);
        if (rc != STORE_LINK_REFUSED) {
            how = STORE_INGEST_LINKED;
            goto close_in;
        }
    }
    store_upload_id(id);
    if (snprintf(tmp, sizeof(tmp), "%s/uploads/%s", s->root, id) >=
        (int)sizeof(tmp)) {
        rc = STORE_IO;
        goto close_in;
    }
    hasher_init(&h, d->alg);
    rc = copy_in(in, path, size, tmp, &h, &fd);
    if (rc)
        goto close_in;
    hasher_final(&h, &got);
    if (!digest_equal(&got, d)) {
        rc = STORE_DIGEST_MISMATCH;
        goto unlink_tmp;
    }
    rc = adopt(s, repo, d, fd, tmp, size);
unlink_tmp:
    /* gone when renamed into place; else what is left is ours */
    if (unlink(tmp) && errno != ENOENT)
        log_warn("cannot remove '%s': %s", tmp, strerror(errno));
    close(fd);
close_in:
    close(in);
    if (rc == STORE_OK) {
        out->size = size;
        out->how = how;
    }
    return rc;
}
