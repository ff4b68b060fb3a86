#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/store_private.h"
#include "util/fsutil.h"
#include "util/log.h"
#include "util/xalloc.h"

/*
 * Backup and restore (store.h). Why a backup is one point in time:
 *
 *  1. The metadata is copied by mdb_env_copyfd2(MDB_CP_COMPACT), which
 *     reads one snapshot S in a read transaction of its own.
 *  2. The blob files to copy are read from that copy, so they are
 *     exactly the ones S references; no other snapshot is involved.
 *  3. A blob file, once in place, is never modified, and goes only with
 *     its record: by the GC, which the backup keeps out with the GC's
 *     lock, or by a deletion (the last link of a blob going, store_trash).
 *     A file of S that a deletion removed since is found missing: then
 *     the backup starts again from 1 with a newer snapshot (in which that
 *     blob has no record), keeping what it copied. Pushes after S add
 *     files S does not reference: nothing to do for them.
 *  4. The copy is renamed into place after every file it references is
 *     flushed, so dest/meta/data.mdb always names files that are there.
 *     Only then do the files it does not name go (prune).
 */

#define TRIES    5
#define META_TMP "data.mdb.tmp"

struct bfile {
    struct digest d;
    long long size;
};

struct blist {
    struct bfile *v;
    size_t n, cap;
};

/* "<dir>/blobs/<alg>/<h2>/<hex>" into buf (PATH_MAX bytes). */
static int file_path(const char *dir, const struct digest *d, char *buf)
{
    int n = snprintf(buf, PATH_MAX, "%s/blobs/%s/%.2s/%s", dir,
                     digest_alg_name(d->alg), d->hex, d->hex);

    if (n < 0 || n >= PATH_MAX) {
        log_err("path too long below '%s'", dir);
        return STORE_IO;
    }
    return STORE_OK;
}

/* mkdir, with a directory that is there already no error. */
static int make_dir(const char *path)
{
    if (mkdir(path, 0755) && errno != EEXIST)
        return store_map_errno(errno, "make directory", path);
    return STORE_OK;
}

/* Make the directories of the file at path below base, which is there. */
static int make_dirs(const char *base, const char *path)
{
    char buf[PATH_MAX];
    size_t i, blen = strlen(base);
    int rc;

    snprintf(buf, sizeof(buf), "%s", path);
    for (i = blen + 1; buf[i]; i++) {
        if (buf[i] != '/')
            continue;
        buf[i] = '\0';
        rc = make_dir(buf);
        buf[i] = '/';
        if (rc)
            return rc;
    }
    return STORE_OK;
}

static int sync_path(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC), rc = STORE_OK;

    if (fd < 0)
        return store_map_errno(errno, "open", path);
    if (fsync(fd))
        rc = store_map_errno(errno, "fsync", path);
    close(fd);
    return rc;
}

/* Flush every directory below dir/blobs, and it. */
static int sync_blob_dirs(const char *dir)
{
    static const enum digest_alg algs[] = {DIGEST_SHA256, DIGEST_SHA512};
    char path[PATH_MAX];
    struct stat st;
    size_t a;
    int h, rc;

    for (a = 0; a < ARRAY_SIZE(algs); a++) {
        for (h = 0; h < 256; h++) {
            snprintf(path, sizeof(path), "%s/blobs/%s/%02x", dir,
                     digest_alg_name(algs[a]), h);
            if (stat(path, &st))
                continue;
            rc = sync_path(path);
            if (rc)
                return rc;
        }
        snprintf(path, sizeof(path), "%s/blobs/%s", dir,
                 digest_alg_name(algs[a]));
        if (stat(path, &st) == 0 && (rc = sync_path(path)))
            return rc;
    }
    snprintf(path, sizeof(path), "%s/blobs", dir);
    return sync_path(path);
}

/* Copy the open file in to path (made anew), and flush it. */
static int copy_fd(int in, const char *from, const char *path)
{
    long long copied;
    int out, rc = STORE_OK, read_failed;

    out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0)
        return store_map_errno(errno, "create", path);
    if (fd_copy(in, out, NULL, &copied, &read_failed))
        rc = store_map_errno(errno, read_failed ? "read" : "write",
                             read_failed ? from : path);
    else if (fsync(out))
        rc = store_map_errno(errno, "fsync", path);
    if (close(out) && rc == STORE_OK)
        rc = store_map_errno(errno, "close", path);
    if (rc)
        unlink(path);
    return rc;
}

/*
 * Put the file from at to (whose directories are there): a hard link when
 * link_ok and both are on one file system, else a copy, through a
 * temporary name and rename(). *linked says which. STORE_NOTFOUND (not
 * logged) when from is not there.
 */
static int put_file(const char *from, const char *to, int link_ok, int *linked)
{
    char tmp[PATH_MAX + 8];
    int in, rc;

    snprintf(tmp, sizeof(tmp), "%s.tmp", to);
    unlink(tmp);
    if (link_ok) {
        if (link(from, tmp) == 0) {
            if (rename(tmp, to)) {
                rc = store_map_errno(errno, "rename", tmp);
                unlink(tmp);
                return rc;
            }
            *linked = 1;
            return STORE_OK;
        }
        if (errno == ENOENT)
            return STORE_NOTFOUND;
        if (errno != EXDEV && errno != EPERM && errno != EMLINK)
            return store_map_errno(errno, "link", from);
    }
    in = open(from, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return errno == ENOENT ? STORE_NOTFOUND
                               : store_map_errno(errno, "open", from);
    rc = copy_fd(in, from, tmp);
    close(in);
    if (rc == STORE_OK && rename(tmp, to)) {
        rc = store_map_errno(errno, "rename", tmp);
        unlink(tmp);
    }
    *linked = 0;
    return rc;
}

/*
 * The blob files that the metadata in the LMDB data file at path
 * references, into *l.
 */
static int list_files(const char *path, struct blist *l)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_cursor *cur;
    MDB_val k, v;
    struct blob_rec rec;
    MDB_cursor_op op = MDB_FIRST;
    int rc;

    l->n = 0;
    rc = mdb_env_create(&env);
    if (rc)
        return store_map_mdb_rc(rc, "mdb_env_create");
    mdb_env_set_maxdbs(env, 32);
    rc = mdb_env_open(env, path, MDB_RDONLY | MDB_NOSUBDIR | MDB_NOLOCK, 0);
    if (rc) {
        log_err("cannot open LMDB data file '%s': %s", path, mdb_strerror(rc));
        rc = rc == ENOENT                               ? STORE_NOTFOUND
             : rc == MDB_INVALID || rc == MDB_CORRUPTED ? STORE_CORRUPT
                                                        : STORE_IO;
        goto env_close;
    }
    rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn);
    if (rc) {
        rc = store_map_mdb_rc(rc, "mdb_txn_begin");
        goto env_close;
    }
    rc = mdb_dbi_open(txn, "blobs", 0, &dbi);
    if (rc == 0)
        rc = mdb_cursor_open(txn, dbi, &cur);
    if (rc) {
        rc = store_map_mdb_rc(rc, "open blobs of the copy");
        goto txn_abort;
    }
    while ((rc = mdb_cursor_get(cur, &k, &v, op)) == 0) {
        struct bfile f;

        op = MDB_NEXT;
        if (v.mv_size != sizeof(rec) ||
            digest_parse(&f.d, k.mv_data, k.mv_size)) {
            rc = store_corrupt("blob record in", path);
            break;
        }
        memcpy(&rec, v.mv_data, sizeof(rec));
        if (rec.flags & BLOB_INLINE)
            continue;
        f.size = (long long)rec.size;
        if (l->n == l->cap) {
            l->cap = l->cap ? 2 * l->cap : 256;
            l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
        }
        l->v[l->n++] = f;
    }
    if (rc == MDB_NOTFOUND)
        rc = STORE_OK;
    else if (rc > 0)
        rc = store_map_mdb_rc(rc, "read blobs of the copy");
    mdb_cursor_close(cur);
txn_abort:
    mdb_txn_abort(txn);
env_close:
    mdb_env_close(env);
    return rc;
}

/*
 * Put the files of l from src into dst (their directories made); a file
 * already in dst with its size stays. *missing counts the files src lacks.
 */
static int put_files(const char *src, const char *dst, const struct blist *l,
                     const struct store_backup_options *o,
                     struct store_backup_stats *st, long long *missing)
{
    char from[PATH_MAX], to[PATH_MAX];
    struct stat sb;
    size_t i;
    int rc, linked;

    for (i = 0; i < l->n; i++) {
        const struct bfile *f = &l->v[i];

        if (o->progress)
            o->progress(o->ctx, (long long)i, (long long)l->n);
        rc = file_path(src, &f->d, from);
        if (rc == STORE_OK)
            rc = file_path(dst, &f->d, to);
        if (rc)
            return rc;
        if (lstat(to, &sb) == 0 && S_ISREG(sb.st_mode) &&
            (long long)sb.st_size == f->size) {
            st->present++;
            st->bytes_present += f->size;
            continue;
        }
        rc = make_dirs(dst, to);
        if (rc == STORE_OK)
            rc = put_file(from, to, o->link, &linked);
        if (rc == STORE_NOTFOUND) {
            (*missing)++;
            continue;
        }
        if (rc)
            return rc;
        if (linked) {
            st->linked++;
            st->bytes_linked += f->size;
        } else {
            st->copied++;
            st->bytes_copied += f->size;
        }
    }
    if (o->progress)
        o->progress(o->ctx, (long long)l->n, (long long)l->n);
    return STORE_OK;
}

/* Order of struct bfile by digest, for prune()'s lookups. */
static int bfile_cmp(const void *a, const void *b)
{
    const struct bfile *x = a, *y = b;

    if (x->d.alg != y->d.alg)
        return x->d.alg < y->d.alg ? -1 : 1;
    return strcmp(x->d.hex, y->d.hex);
}

/*
 * Remove from dir/blobs every file that l does not name: blobs the
 * backup's metadata no longer references (deleted since an earlier
 * backup), and the temporary file of a copy that was interrupted. l is
 * sorted with bfile_cmp.
 */
static int prune(const char *dir, const struct blist *l,
                 struct store_backup_stats *st)
{
    static const enum digest_alg algs[] = {DIGEST_SHA256, DIGEST_SHA512};
    char path[PATH_MAX];
    struct bfile key;
    struct dirent *de;
    struct stat sb;
    size_t a;
    DIR *d;
    int h, n;

    for (a = 0; a < ARRAY_SIZE(algs); a++) {
        for (h = 0; h < 256; h++) {
            snprintf(path, sizeof(path), "%s/blobs/%s/%02x", dir,
                     digest_alg_name(algs[a]), h);
            d = opendir(path);
            if (!d && errno == ENOENT)
                continue;
            if (!d)
                return store_map_errno(errno, "open directory", path);
            while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                    continue;
                key.d.alg = algs[a];
                n = (int)strlen(de->d_name);
                if (n < (int)sizeof(key.d.hex)) {
                    memcpy(key.d.hex, de->d_name, (size_t)n + 1);
                    if (bsearch(&key, l->v, l->n, sizeof(*l->v), bfile_cmp))
                        continue;
                }
                n = snprintf(path, sizeof(path), "%s/blobs/%s/%02x/%s", dir,
                             digest_alg_name(algs[a]), h, de->d_name);
                if (n < 0 || n >= (int)sizeof(path) || lstat(path, &sb) ||
                    !S_ISREG(sb.st_mode))
                    continue;
                if (unlink(path)) {
                    closedir(d);
                    return store_map_errno(errno, "remove", path);
                }
                st->pruned++;
                st->bytes_pruned += sb.st_size;
            }
            closedir(d);
        }
    }
    return STORE_OK;
}

/* Copy the metadata, compacted, into the file at path. */
static int copy_meta(struct store *s, const char *path, long long *bytes)
{
    MDB_txn *txn;
    struct stat sb;
    int fd, rc;

    /* take up a map another process grew, which the copy's own read
     * transaction would fail on (MDB_MAP_RESIZED) */
    rc = store_txn_begin(s, MDB_RDONLY, &txn);
    if (rc)
        return rc;
    mdb_txn_abort(txn);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0)
        return store_map_errno(errno, "create", path);
    rc = mdb_env_copyfd2(s->env, fd, MDB_CP_COMPACT);
    if (rc) {
        log_err("cannot copy the metadata to '%s': %s", path, mdb_strerror(rc));
        rc = rc == ENOSPC ? STORE_FULL : STORE_IO;
    } else if (fsync(fd) || fstat(fd, &sb)) {
        rc = store_map_errno(errno, "fsync", path);
    } else {
        *bytes = (long long)sb.st_size;
    }
    if (close(fd) && rc == STORE_OK)
        rc = store_map_errno(errno, "close", path);
    return rc;
}

/* dest/backup.json: what the backup is, for people and scripts. */
static int write_stamp(const char *dest, const struct store_backup_stats *st)
{
    char path[PATH_MAX], tmp[PATH_MAX + 8], doc[512];
    int fd, n, rc = STORE_OK;

    snprintf(path, sizeof(path), "%s/backup.json", dest);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    n = snprintf(doc, sizeof(doc),
                 "{\"time\":%lld,\"berth\":\"%s\",\"format\":%u,"
                 "\"blobs\":%lld,\"meta_bytes\":%lld}\n",
                 (long long)time(NULL), PACKAGE_VERSION, STORE_FORMAT,
                 st->blobs, st->meta_bytes);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return store_map_errno(errno, "create", tmp);
    if (write(fd, doc, (size_t)n) != n || fsync(fd))
        rc = store_map_errno(errno, "write", tmp);
    close(fd);
    if (rc == STORE_OK && rename(tmp, path))
        rc = store_map_errno(errno, "rename", tmp);
    return rc;
}

/*
 * STORE_IN_USE if dest is the storage root or a directory below it: a
 * backup there would copy itself into the next one, and go with the root.
 */
static int inside_root(struct store *s, const char *dest)
{
    char d[PATH_MAX], r[PATH_MAX];
    size_t n;

    if (!realpath(dest, d))
        return store_map_errno(errno, "resolve", dest);
    if (!realpath(s->root, r))
        return store_map_errno(errno, "resolve", s->root);
    n = strlen(r);
    if (strncmp(d, r, n) == 0 && (d[n] == '\0' || d[n] == '/')) {
        log_err("the backup directory '%s' is inside the storage root '%s'",
                dest, s->root);
        rmdir(dest); /* if make_dir() made it: it is empty */
        return STORE_IN_USE;
    }
    return STORE_OK;
}

int store_backup(struct store *s, const char *dest,
                 const struct store_backup_options *o,
                 struct store_backup_stats *out)
{
    struct store_backup_stats st;
    struct blist l = {NULL, 0, 0};
    char meta[PATH_MAX - 64], tmp[PATH_MAX], fin[PATH_MAX];
    long long missing = 1;
    int rc, lock = -1;

    memset(&st, 0, sizeof(st));
    if (snprintf(meta, sizeof(meta), "%s/meta", dest) >= (int)sizeof(meta)) {
        log_err("backup directory '%s' has too long a name", dest);
        return STORE_IO;
    }
    snprintf(tmp, sizeof(tmp), "%s/" META_TMP, meta);
    snprintf(fin, sizeof(fin), "%s/data.mdb", meta);
    rc = store_gc_lock(s, &lock);
    if (rc)
        return rc;
    rc = make_dir(dest);
    if (rc == STORE_OK)
        rc = inside_root(s, dest);
    if (rc == STORE_OK)
        rc = make_dir(meta);
    if (rc == STORE_OK) {
        snprintf(tmp, sizeof(tmp), "%s/blobs", dest);
        rc = make_dir(tmp);
        snprintf(tmp, sizeof(tmp), "%s/" META_TMP, meta);
    }
    while (rc == STORE_OK && missing && st.tries < TRIES) {
        st.tries++;
        missing = 0;
        /* copied and linked add up the passes (the work done); present
         * is of the last, which is the backup */
        st.present = st.bytes_present = 0;
        rc = copy_meta(s, tmp, &st.meta_bytes);
        if (rc == STORE_OK)
            rc = list_files(tmp, &l);
        if (rc == STORE_OK)
            rc = put_files(s->root, dest, &l, o, &st, &missing);
        if (rc == STORE_OK && missing)
            log_info("%lld blob files went during the backup: copying a "
                     "newer snapshot",
                     missing);
    }
    if (rc == STORE_OK && missing) {
        log_err("blob files keep going during the backup to '%s'", dest);
        rc = STORE_BUSY;
    }
    if (rc == STORE_OK)
        rc = sync_blob_dirs(dest);
    if (rc == STORE_OK && rename(tmp, fin))
        rc = store_map_errno(errno, "rename", tmp);
    if (rc == STORE_OK)
        rc = sync_path(meta);
    st.blobs = (long long)l.n;
    if (rc == STORE_OK)
        rc = write_stamp(dest, &st);
    if (rc == STORE_OK)
        rc = sync_path(dest);
    /* the new metadata is in place: what it does not name can go */
    if (rc == STORE_OK) {
        qsort(l.v, l.n, sizeof(*l.v), bfile_cmp);
        rc = prune(dest, &l, &st);
    }
    if (rc)
        unlink(tmp);
    free(l.v);
    close(lock); /* lets the GC in again */
    if (rc == STORE_OK && out)
        *out = st;
    return rc;
}

/* STORE_OK if root is an empty directory, or not there (then made). */
static int empty_root(const char *root)
{
    struct dirent *de;
    DIR *d;
    int rc = STORE_OK;

    if (mkdir(root, 0755) == 0)
        return STORE_OK;
    if (errno != EEXIST)
        return store_map_errno(errno, "make directory", root);
    d = opendir(root);
    if (!d)
        return store_map_errno(errno, "open directory", root);
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
            log_err("cannot restore into '%s': it is not empty", root);
            rc = STORE_IN_USE;
            break;
        }
    closedir(d);
    return rc;
}

int store_restore(const char *src, const char *root,
                  const struct store_options *opt,
                  const struct store_backup_options *o,
                  struct store_backup_stats *out)
{
    struct store_backup_stats st;
    struct blist l = {NULL, 0, 0};
    char from[PATH_MAX], to[PATH_MAX];
    struct store *s;
    struct stat sb;
    long long missing = 0;
    size_t i;
    int rc, linked;

    memset(&st, 0, sizeof(st));
    if (strlen(src) + 300 > PATH_MAX || strlen(root) + 300 > PATH_MAX) {
        log_err("path too long: '%s' or '%s'", src, root);
        return STORE_IO;
    }
    snprintf(from, sizeof(from), "%s/meta/data.mdb", src);
    if (stat(from, &sb)) {
        log_err("no backup in '%s': %s", src, strerror(errno));
        return errno == ENOENT ? STORE_NOTFOUND : STORE_IO;
    }
    rc = list_files(from, &l);
    if (rc == STORE_OK)
        rc = empty_root(root);
    if (rc)
        goto out;
    snprintf(to, sizeof(to), "%s/meta", root);
    rc = make_dir(to);
    snprintf(to, sizeof(to), "%s/blobs", root);
    if (rc == STORE_OK)
        rc = make_dir(to);
    if (rc == STORE_OK)
        rc = put_files(src, root, &l, o, &st, &missing);
    if (rc == STORE_OK && missing) {
        log_err("the backup in '%s' lacks %lld blob files", src, missing);
        rc = STORE_CORRUPT;
    }
    /* a link shares the file: it must be the size the record says */
    for (i = 0; rc == STORE_OK && i < l.n; i++) {
        rc = file_path(root, &l.v[i].d, to);
        if (rc == STORE_OK && (stat(to, &sb) || sb.st_size != l.v[i].size))
            rc = store_corrupt("blob file", to);
    }
    if (rc == STORE_OK)
        rc = sync_blob_dirs(root);
    if (rc)
        goto out;
    snprintf(to, sizeof(to), "%s/meta/data.mdb", root);
    rc = put_file(from, to, 0, &linked);
    if (rc == STORE_OK && stat(to, &sb) == 0)
        st.meta_bytes = (long long)sb.st_size;
    snprintf(to, sizeof(to), "%s/meta", root);
    if (rc == STORE_OK)
        rc = sync_path(to);
    if (rc == STORE_OK)
        rc = sync_path(root);
    st.blobs = (long long)l.n;
    if (rc == STORE_OK)
        rc = store_open(root, opt, &s);
    if (rc == STORE_OK)
        store_close(s);
out:
    free(l.v);
    if (rc == STORE_OK && out)
        *out = st;
    return rc;
}
