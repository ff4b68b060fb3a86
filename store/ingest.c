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
 * and linked into blobs/ by store_blob_adopt_link(). A batch is checked
 * file by file, then made blobs in one write transaction: its commit, and
 * the flush that goes with it, is most of what a small blob costs.
 */

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

/*
 * Copy src (fd in, size bytes) into the new file tmp (open in *out),
 * hashing what is read into h.
 */
static int copy_in(int in, const char *src, long long size, const char *tmp,
                   struct hasher *h, int *out)
{
    long long copied;
    int fd, rc = STORE_OK, read_failed;

    fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return store_map_errno(errno, "create", tmp);
    if (fd_copy(in, fd, h, &copied, &read_failed))
        rc = store_map_errno(errno, read_failed ? "read" : "write",
                             read_failed ? src : tmp);
    /* a file that changed size under us is not the file that was stat()ed */
    else if (copied != size)
        rc = STORE_DIGEST_MISMATCH;
    if (rc) {
        close(fd);
        unlink(tmp);
        return rc;
    }
    *out = fd;
    return STORE_OK;
}

/* What the write transaction of a batch does with one file. */
enum step {
    STEP_NONE,      /* nothing: present and linked, or the file's rc says */
    STEP_LINK_REPO, /* the store has the blob: link repo to it */
    STEP_LINK_FILE, /* hard-link the checked file in (store_blob_adopt_link) */
    STEP_ADOPT,     /* adopt the checked copy in uploads/ (store_blob_adopt) */
    STEP_AGAIN,     /* after the commit, alone: the blob went meanwhile */
    STEP_COPY       /* after the commit, alone and copied: link refused */
};

struct prep {
    enum step step;
    int in, fd; /* the file; the copy (-1: none) */
    long long size;
    char tmp[PATH_MAX]; /* the copy's path */
};

/*
 * Hash the file v->path where it is (to be linked) or into a copy in
 * uploads/, and check it: p->step on success, else v->rc for what is
 * wrong with the file. Returns STORE_OK, or a failure of the store.
 */
static int prepare(struct store *s, struct store_ingest_file *v, struct prep *p,
                   unsigned flags)
{
    char id[UPLOAD_ID_LEN + 1];
    struct digest got;
    struct hasher h;
    struct stat st;
    int rc;

    p->in = open(v->path, O_RDONLY | O_CLOEXEC);
    if (p->in < 0) {
        v->rc = errno == ENOENT ? STORE_NOTFOUND
                                : store_map_errno(errno, "open", v->path);
        return STORE_OK;
    }
    if (fstat(p->in, &st)) {
        v->rc = store_map_errno(errno, "stat", v->path);
        return STORE_OK;
    }
    if (!S_ISREG(st.st_mode)) {
        log_err("cannot import '%s': not a regular file", v->path);
        v->rc = STORE_IO;
        return STORE_OK;
    }
    p->size = (long long)st.st_size;
    hasher_init(&h, v->d.alg);
    /*
     * A blob kept in LMDB is copied whatever the flag. A file to share is
     * linked into blobs/ in the transaction that adds its record, never
     * into uploads/ first: there its source's old mtime would make it an
     * abandoned upload to store_upload_purge() and fsck.
     */
    if ((flags & STORE_INGEST_LINK) && !store_blob_inlined(s, p->size)) {
        if (hasher_update_fd(&h, p->in, p->size)) {
            v->rc = store_map_errno(errno, "read", v->path);
            return STORE_OK;
        }
        hasher_final(&h, &got);
        if (!digest_equal(&got, &v->d)) {
            v->rc = STORE_DIGEST_MISMATCH;
            return STORE_OK;
        }
        /* the file's data is the blob's now: on disk before the record */
        if (fdatasync(p->in))
            return store_map_errno(errno, "fsync", v->path);
        p->step = STEP_LINK_FILE;
        return STORE_OK;
    }
    store_upload_id(id);
    if (snprintf(p->tmp, sizeof(p->tmp), "%s/uploads/%s", s->root, id) >=
        (int)sizeof(p->tmp))
        return STORE_IO;
    rc = copy_in(p->in, v->path, p->size, p->tmp, &h, &p->fd);
    if (rc == STORE_FULL)
        return rc;
    if (rc) {
        v->rc = rc;
        return STORE_OK;
    }
    hasher_final(&h, &got);
    if (!digest_equal(&got, &v->d)) {
        v->rc = STORE_DIGEST_MISMATCH;
        return STORE_OK;
    }
    /* a blob kept in LMDB is made durable by the commit itself */
    if (!store_blob_inlined(s, p->size) && fdatasync(p->fd))
        return store_map_errno(errno, "fsync", p->tmp);
    p->step = STEP_ADOPT;
    return STORE_OK;
}

/* The write transaction of a batch: each file's step. */
static int commit(struct store *s, const char *repo,
                  struct store_ingest_file *v, struct prep *p, size_t n)
{
    MDB_txn *txn;
    size_t i;
    int rc;

    for (i = 0; i < n && p[i].step < STEP_LINK_REPO; i++)
        ;
    if (i == n)
        return STORE_OK;
    rc = store_txn_begin(s, 0, &txn);
    if (rc)
        return rc;
    for (; i < n && rc == STORE_OK; i++) {
        switch (p[i].step) {
        case STEP_LINK_REPO:
            rc = store_link_add(s, txn, repo, &v[i].d);
            if (rc == STORE_NOTFOUND) {
                p[i].step = STEP_AGAIN;
                rc = STORE_OK;
            }
            break;
        case STEP_LINK_FILE:
            rc = store_blob_adopt_link(s, txn, repo, &v[i].d, p[i].in,
                                       v[i].path, p[i].size);
            if (rc == STORE_LINK_REFUSED) {
                p[i].step = STEP_COPY;
                rc = STORE_OK;
            }
            break;
        case STEP_ADOPT:
            rc = store_blob_adopt(s, txn, repo, &v[i].d, p[i].fd, p[i].tmp,
                                  p[i].size);
            break;
        default:
            break;
        }
    }
    return store_txn_end(s, txn, rc);
}

int store_blobs_ingest(struct store *s, const char *repo,
                       struct store_ingest_file *v, size_t n, unsigned flags)
{
    struct prep *p;
    int linked, rc = STORE_OK;
    size_t i;

    if (s->rdonly)
        return STORE_READONLY;
    p = xcalloc(n ? n : 1, sizeof(*p));
    for (i = 0; i < n && rc == STORE_OK; i++) {
        p[i].in = p[i].fd = -1;
        v[i].rc = STORE_OK;
        linked = 0;
        rc = lookup(s, repo, &v[i].d, &linked, &p[i].size);
        if (rc == STORE_OK) {
            p[i].step = linked ? STEP_NONE : STEP_LINK_REPO;
            continue;
        }
        if (rc == STORE_NOTFOUND)
            rc = prepare(s, &v[i], &p[i], flags);
    }
    if (rc == STORE_OK)
        rc = commit(s, repo, v, p, n);
    for (i = 0; i < n; i++) {
        if (p[i].fd >= 0) {
            /* gone when renamed into place; else what is left is ours */
            if (unlink(p[i].tmp) && errno != ENOENT)
                log_warn("cannot remove '%s': %s", p[i].tmp, strerror(errno));
            close(p[i].fd);
        }
        if (p[i].in >= 0)
            close(p[i].in);
        if (rc || v[i].rc)
            continue;
        v[i].out.size = p[i].size;
        v[i].out.how = p[i].step == STEP_LINK_FILE ? STORE_INGEST_LINKED
                       : p[i].step == STEP_ADOPT   ? STORE_INGEST_COPIED
                                                   : STORE_INGEST_PRESENT;
        /* what the transaction could not do, alone now */
        if (p[i].step == STEP_AGAIN || p[i].step == STEP_COPY)
            rc = store_blobs_ingest(
                s, repo, &v[i], 1,
                p[i].step == STEP_COPY ? flags & ~STORE_INGEST_LINK : flags);
    }
    free(p);
    return rc;
}

int store_blob_ingest(struct store *s, const char *repo, const struct digest *d,
                      const char *path, unsigned flags,
                      struct store_ingest *out)
{
    struct store_ingest_file f;
    int rc;

    f.d = *d;
    f.path = path;
    rc = store_blobs_ingest(s, repo, &f, 1, flags);
    if (rc == STORE_OK)
        rc = f.rc;
    if (rc == STORE_OK)
        *out = f.out;
    return rc;
}
