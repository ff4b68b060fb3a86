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

static int get_blob_rec(struct store *s, MDB_txn *txn, const struct digest *d,
                        struct blob_rec *out)
{
    char dstr[DIGEST_STR_MAX];
    MDB_val key, val;
    int rc;

    digest_format(d, dstr);
    key.mv_data = dstr;
    key.mv_size = strlen(dstr);
    rc = mdb_get(txn, s->blobs, &key, &val);
    if (rc)
        return store_map_mdb_rc(rc, "mdb_get blobs");
    if (val.mv_size != sizeof(*out)) {
        log_err("corrupt blob record for '%s'", dstr);
        return STORE_IO;
    }
    memcpy(out, val.mv_data, sizeof(*out)); /* val dies with txn */
    return STORE_OK;
}

static int put_blob_rec(struct store *s, MDB_txn *txn, const struct digest *d,
                        const struct blob_rec *rec)
{
    char dstr[DIGEST_STR_MAX];
    MDB_val key, val;

    digest_format(d, dstr);
    key.mv_data = dstr;
    key.mv_size = strlen(dstr);
    val.mv_data = (void *)rec;
    val.mv_size = sizeof(*rec);
    return store_map_mdb_rc(mdb_put(txn, s->blobs, &key, &val, 0),
                            "mdb_put blobs");
}

/* The size of d if repo links it, within txn. */
int store_linked_size(struct store *s, MDB_txn *txn, const char *repo,
                      const struct digest *d, long long *size)
{
    char kbuf[LINK_KEY_MAX];
    struct blob_rec rec;
    MDB_val key, val;
    int rc;

    store_link_key(kbuf, repo, d, &key);
    rc = mdb_get(txn, s->links, &key, &val);
    if (rc)
        return store_map_mdb_rc(rc, "mdb_get links");
    rc = get_blob_rec(s, txn, d, &rec);
    if (rc == STORE_NOTFOUND) {
        log_err("repository '%s' links blob '%s' that has no record", repo,
                d->hex);
        return STORE_IO;
    }
    if (rc == STORE_OK)
        *size = (long long)rec.size;
    return rc;
}

/* The recorded size of d if repo links it, in a transaction of its own. */
static int lookup(struct store *s, const char *repo, const struct digest *d,
                  long long *size)
{
    MDB_txn *txn;
    int rc;

    rc = store_txn_begin(s, MDB_RDONLY, &txn);
    if (rc)
        return rc;
    rc = store_linked_size(s, txn, repo, d, size);
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
                    long long *size)
{
    char path[PATH_MAX];
    struct stat st;
    long long sz;
    int rc;

    rc = lookup(s, repo, d, &sz);
    if (rc)
        return rc;
    rc = store_blob_path(s, d, path, sizeof(path), NULL);
    if (rc)
        return rc;
    if (stat(path, &st))
        return errno == ENOENT ? STORE_NOTFOUND
                               : store_map_errno(errno, "stat blob", path);
    *size = sz;
    return STORE_OK;
}

int store_blob_open(struct store *s, const char *repo, const struct digest *d,
                    int *fd, long long *size)
{
    char path[PATH_MAX];
    long long sz;
    int rc, f;

    rc = lookup(s, repo, d, &sz);
    if (rc)
        return rc;
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
    *size = sz;
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

int store_blob_adopt(struct store *s, MDB_txn *txn, const char *repo,
                     const struct digest *d, const char *path, long long size)
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
        rec.size = (uint64_t)size;
        rec.refs = 0;
    } else if (rc) {
        return rc;
    }
    /*
     * Content-addressed: an existing file with this name has these bytes.
     * Check the file, not only the record, so that a file lost in a crash
     * between unlink and commit (see store_blob_delete) is put back.
     */
    if (rc == STORE_OK && stat(dst, &st) == 0 &&
        (long long)st.st_size == size) {
        if (unlink(path))
            log_warn("cannot remove '%s': %s", path, strerror(errno));
    } else {
        char *slash = strrchr(dst, '/');

        *slash = '\0';
        if (mkdir_p(dst, 0755))
            return store_map_errno(errno, "create directory", dst);
        *slash = '/';
        if (rename(path, dst))
            return store_map_errno(errno, "rename blob into", dst);
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
    digest_format(d, dstr);
    key.mv_data = dstr;
    key.mv_size = strlen(dstr);
    rc = mdb_del(txn, s->blobs, &key, NULL);
    if (rc) {
        rc = store_map_mdb_rc(rc, "mdb_del blobs");
        goto txn_abort;
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
    MDB_txn *txn;
    long long sz;
    int rc;

    rc = store_txn_begin(s, 0, &txn);
    if (rc)
        return rc;
    rc = store_linked_size(s, txn, from, d, &sz);
    if (rc)
        goto txn_abort;
    rc = store_link_add(s, txn, repo, d);
    if (rc)
        goto txn_abort;
    rc = store_txn_commit(txn);
    if (rc == STORE_OK)
        *size = sz;
    return rc;
txn_abort:
    mdb_txn_abort(txn);
    return rc;
}
