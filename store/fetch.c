#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/store_private.h"
#include "util/fsutil.h"
#include "util/log.h"
#include "util/xalloc.h"

/*
 * store_fetch_*(): a blob of the pull-through cache, fetched from an
 * upstream by one worker at a time. The worker that takes the blob's lock
 * file (fetch/<alg>-<hex>.lock, flock) writes fetch/<alg>-<hex>.part and
 * hashes it as it comes; only a file of the right digest (and size) is
 * adopted into blobs/, in one write transaction, as a finished upload
 * is. The others follow it (store_fetch_follow: they read the .part as
 * it grows, and its end once it is the blob), or wait for the lock and
 * then find the blob there.
 *
 * A lock file is unlinked only by whoever holds its lock: the fetcher when
 * it ends (commit or abort, after its .part), one that finds the blob
 * there, and store_fetch_sweep(). So a fetcher that waited on a lock file
 * and then took it checks that the path still names the file it locked
 * (lock_path), and else opens the path anew: two fetchers never hold
 * different files of one path, and never share a .part. Whoever takes a
 * lock looks for the blob before it fetches. A crash leaves a .part and
 * a lock file whose lock died with its process: the next fetch of the
 * blob truncates the .part, and the GC's sweep removes both.
 *
 * The disk writes of a fetch overlap its receiving, hashing and
 * streaming: a full buffer goes to the fetch's writer thread, started at
 * the first one, while the worker fills the other of its two buffers; it
 * waits only when the writer still holds that one. The writer's error is
 * the answer of the next store_fetch_write() or store_fetch_verify(),
 * which joins it before it writes the end; store_fetch_abort() joins it
 * too. A fetch holds at most 2 * DIRECT_BUF bytes.
 */

/* How often a fetch starts what it wrote on its way to the disk. */
#define SYNC_STEP ((long long)8 << 20)

/*
 * A fetch writes its file with O_DIRECT, in pieces of DIRECT_BUF bytes
 * from a buffer aligned to DIRECT_ALIGN: a buffered write copies every
 * byte into the page cache, zeroing each new page first, which took most
 * of a worker's time in bench/mirror.sh. A file system that refuses
 * O_DIRECT gets buffered writes. Without a writer thread (pthread_create
 * failed), a fetch writes its full buffers itself. Whoever writes a full
 * buffer hashes it first, in order (one job at a time), so that the
 * digest's work leaves the worker's thread, which receives and streams;
 * the tail is hashed after the writer is joined.
 */
#define DIRECT_BUF   ((size_t)4 << 20)
#define DIRECT_ALIGN ((size_t)4096)

struct store_fetch {
    struct store *s;
    struct digest d;
    char repo[NAME_MAX_LEN + 1];
    long long size; /* expected, -1: unknown */
    long long got;
    long long synced; /* sent on its way to the disk up to here */
    long long noted;  /* got as the lock file last said it (note()) */
    struct timespec noted_at;
    ino_t ino;    /* the .part's */
    int verified; /* store_fetch_verify(): 1 right, -1 wrong, 0 not yet */
    int verify_rc;
    int lock_fd, fd;
    struct hasher h; /* the writer's while it runs (O_DIRECT) */
    /*
     * With O_DIRECT (fd opened so): what was fetched and is not written
     * yet, at file offset flushed, in dbuf, one of buf; NULL: buffered
     * writes.
     */
    unsigned char *buf[2];
    unsigned char *dbuf;
    size_t dlen;
    long long flushed;
    /*
     * The writer thread (when running): mu guards job and werr; cv tells
     * the writer of a job or of quit, and the worker of a job done (never
     * both wait at once).
     */
    pthread_t writer;
    int running;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    const unsigned char *job; /* DIRECT_BUF bytes at job_off; NULL: none */
    long long job_off;
    int quit;
    int werr;            /* the writer's first error, STORE_*; sticky */
    char path[PATH_MAX]; /* the .part */
};

static int fetch_path(struct store *s, const struct digest *d, const char *ext,
                      char *buf, size_t len)
{
    int n = snprintf(buf, len, "%s/fetch/%s-%s.%s", s->root,
                     digest_alg_name(d->alg), d->hex, ext);

    return n < 0 || (size_t)n >= len ? STORE_IO : STORE_OK;
}

/*
 * Whether the store has blob d whole (its record, and its file unless it
 * is kept in LMDB); if so, link repo to it (when it is not yet). *ino,
 * when not NULL: the file's inode (0 if kept in LMDB).
 */
static int present_ino(struct store *s, const char *repo,
                       const struct digest *d, ino_t *ino)
{
    char path[PATH_MAX];
    struct blob_rec rec;
    struct stat st;
    MDB_txn *txn;
    int rc, linked;

    rc = store_txn_begin(s, MDB_RDONLY, &txn);
    if (rc)
        return rc;
    rc = store_blob_rec(s, txn, d, &rec);
    linked =
        rc == STORE_OK && store_linked_rec(s, txn, repo, d, &rec) == STORE_OK;
    mdb_txn_abort(txn);
    if (rc)
        return rc;
    if (!(rec.flags & BLOB_INLINE)) {
        rc = store_blob_path(s, d, path, sizeof(path), NULL);
        if (rc)
            return rc;
        /* a file lost in a crash is fetched again, and adopted */
        if (stat(path, &st) || (long long)st.st_size != (long long)rec.size)
            return STORE_NOTFOUND;
        if (ino)
            *ino = st.st_ino;
    } else if (ino) {
        *ino = 0;
    }
    if (linked)
        return STORE_OK;
    rc = store_txn_begin(s, 0, &txn);
    return rc ? rc
              : store_txn_end(s, txn, store_link_add_cached(s, txn, repo, d));
}

static int present(struct store *s, const char *repo, const struct digest *d)
{
    return present_ino(s, repo, d, NULL);
}

/*
 * The note a fetcher keeps at the start of its lock file for the
 * followers (store_fetch_follow): its .part's inode, the expected size
 * (-1: unknown) and the bytes received so far, in fixed-width decimal,
 * rewritten in place. A lock file just taken is emptied first: one that
 * a crashed fetch left says nothing of this one.
 */
#define NOTE_LEN 63

static void note(struct store_fetch *f)
{
    char buf[NOTE_LEN + 1];

    snprintf(buf, sizeof(buf), "%20llu %20lld %20lld",
             (unsigned long long)f->ino, f->size, f->got);
    buf[NOTE_LEN - 1] = '\n';
    if (pwrite_all(f->lock_fd, buf, NOTE_LEN, 0))
        log_warn("cannot write the note of '%s': %s", f->path, strerror(errno));
    f->noted = f->got;
    clock_gettime(CLOCK_MONOTONIC, &f->noted_at);
}

/* Read the note of lock file fd; STORE_NOTFOUND: none (yet), or torn. */
static int read_note(int fd, unsigned long long *ino, long long *size,
                     long long *got)
{
    char a[NOTE_LEN + 1], b[NOTE_LEN + 1];
    ssize_t n;

    /* read twice: a note being rewritten is not taken as it reads */
    n = pread(fd, a, NOTE_LEN, 0);
    if (n != NOTE_LEN || pread(fd, b, NOTE_LEN, 0) != NOTE_LEN ||
        memcmp(a, b, NOTE_LEN))
        return STORE_NOTFOUND;
    a[NOTE_LEN] = '\0';
    if (sscanf(a, "%llu %lld %lld", ino, size, got) != 3 || !*ino)
        return STORE_NOTFOUND;
    return STORE_OK;
}

/* Take the lock of fd, waiting up to wait_ms. */
static int take_lock(int fd, long long wait_ms)
{
    struct timespec pause = {0, 20 * 1000000L};
    long long waited = 0;

    for (;;) {
        if (flock(fd, LOCK_EX | LOCK_NB) == 0)
            return STORE_OK;
        if (errno != EWOULDBLOCK && errno != EINTR)
            return STORE_IO;
        if (waited >= wait_ms)
            return STORE_LOCKED;
        nanosleep(&pause, NULL);
        waited += 20;
    }
}

/*
 * Open lock file path (made, with its directory, if need be) and take its
 * lock, waiting up to wait_ms: *out, the lock of the file the path names
 * (see the top).
 */
static int lock_path(char *path, long long wait_ms, int *out)
{
    struct stat held, now;
    char *slash;
    int fd, rc;

    for (;;) {
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0 && errno == ENOENT) {
            slash = strrchr(path, '/');
            *slash = '\0';
            rc = mkdir_p(path, 0755);
            if (rc)
                rc = store_map_errno(errno, "create directory", path);
            *slash = '/';
            if (rc)
                return rc;
            fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        }
        if (fd < 0)
            return store_map_errno(errno, "open", path);
        rc = take_lock(fd, wait_ms);
        if (rc == STORE_IO)
            rc = store_map_errno(errno, "lock", path);
        if (rc == STORE_OK && fstat(fd, &held))
            rc = store_map_errno(errno, "stat", path);
        if (rc == STORE_OK && stat(path, &now) == 0) {
            if (now.st_ino == held.st_ino && now.st_dev == held.st_dev) {
                *out = fd;
                return STORE_OK;
            }
        } else if (rc == STORE_OK && errno != ENOENT) {
            rc = store_map_errno(errno, "stat", path);
        }
        close(fd); /* drops the lock */
        if (rc)
            return rc;
        /* unlinked by its holder while this one waited: again */
    }
}

/* Take O_DIRECT off f->fd: what is written from now on is buffered. */
static void buffered(struct store_fetch *f)
{
    int fl = fcntl(f->fd, F_GETFL);

    if (fl >= 0)
        fcntl(f->fd, F_SETFL, fl & ~O_DIRECT);
}

/*
 * Write len bytes (whole blocks) of buf at off with O_DIRECT, or
 * buffered when refused after all (and so the rest too).
 */
static int write_blocks(struct store_fetch *f, const unsigned char *buf,
                        size_t len, long long off)
{
    if (pwrite_all(f->fd, buf, len, off) == 0)
        return STORE_OK;
    if (errno != EINVAL)
        return store_map_errno(errno, "write", f->path);
    buffered(f);
    if (pwrite_all(f->fd, buf, len, off))
        return store_map_errno(errno, "write", f->path);
    /* buffered now: on its way to the disk, as store_fetch_write() does */
    sync_file_range(f->fd, off, (long long)len, SYNC_FILE_RANGE_WRITE);
    return STORE_OK;
}

/* The writer thread: the jobs of f, one at a time, until quit. */
static void *writer_main(void *arg)
{
    struct store_fetch *f = arg;
    const unsigned char *buf;
    long long off;
    int rc;

    pthread_mutex_lock(&f->mu);
    for (;;) {
        while (!f->job && !f->quit)
            pthread_cond_wait(&f->cv, &f->mu);
        if (!f->job)
            break;
        buf = f->job;
        off = f->job_off;
        pthread_mutex_unlock(&f->mu);
        hasher_update(&f->h, buf, DIRECT_BUF);
        rc = write_blocks(f, buf, DIRECT_BUF, off);
        pthread_mutex_lock(&f->mu);
        if (rc && !f->werr)
            f->werr = rc;
        f->job = NULL;
        pthread_cond_signal(&f->cv);
    }
    pthread_mutex_unlock(&f->mu);
    return NULL;
}

/* The writer's error so far, STORE_OK without one. */
static int writer_error(struct store_fetch *f)
{
    int rc;

    if (!f->running)
        return f->werr;
    pthread_mutex_lock(&f->mu);
    rc = f->werr;
    pthread_mutex_unlock(&f->mu);
    return rc;
}

/* Let the writer finish its job and end; its error, STORE_OK without. */
static int writer_join(struct store_fetch *f)
{
    if (!f->running)
        return f->werr;
    pthread_mutex_lock(&f->mu);
    f->quit = 1;
    pthread_cond_signal(&f->cv);
    pthread_mutex_unlock(&f->mu);
    pthread_join(f->writer, NULL);
    f->running = 0;
    return f->werr;
}

/*
 * Hand the full f->dbuf to the writer, once it is done with the other
 * buffer, and go on in that one; without a writer, write it here.
 */
static int hand_off(struct store_fetch *f)
{
    int rc;

    if (!f->running && pthread_create(&f->writer, NULL, writer_main, f) == 0)
        f->running = 1;
    if (!f->running) {
        hasher_update(&f->h, f->dbuf, DIRECT_BUF);
        rc = write_blocks(f, f->dbuf, DIRECT_BUF, f->flushed);
        if (rc)
            return rc;
        f->flushed += (long long)DIRECT_BUF;
        f->dlen = 0;
        return STORE_OK;
    }
    pthread_mutex_lock(&f->mu);
    while (f->job)
        pthread_cond_wait(&f->cv, &f->mu);
    rc = f->werr;
    if (rc == STORE_OK) {
        f->job = f->dbuf;
        f->job_off = f->flushed;
        pthread_cond_signal(&f->cv);
    }
    pthread_mutex_unlock(&f->mu);
    if (rc)
        return rc;
    f->flushed += (long long)DIRECT_BUF;
    f->dbuf = f->dbuf == f->buf[0] ? f->buf[1] : f->buf[0];
    f->dlen = 0;
    return STORE_OK;
}

/*
 * Write what f->dbuf holds, the writer joined: its whole blocks with
 * O_DIRECT, and, when last (or O_DIRECT fails), the rest buffered; to
 * the disk after all.
 */
static int direct_flush(struct store_fetch *f, int last)
{
    size_t whole = f->dlen & ~(DIRECT_ALIGN - 1);
    int rc;

    if (whole) {
        rc = write_blocks(f, f->dbuf, whole, f->flushed);
        if (rc)
            return rc;
    }
    f->flushed += (long long)whole;
    f->dlen -= whole;
    if (f->dlen && whole)
        memmove(f->dbuf, f->dbuf + whole, f->dlen);
    /* the end, and store_fetch_read() after it, need no alignment */
    if (last)
        buffered(f);
    if (last && f->dlen) {
        if (pwrite_all(f->fd, f->dbuf, f->dlen, f->flushed))
            return store_map_errno(errno, "write", f->path);
        f->flushed += (long long)f->dlen;
        f->dlen = 0;
    }
    return STORE_OK;
}

int store_fetch_begin(struct store *s, const char *repo, const struct digest *d,
                      long long wait_ms, struct store_fetch **out)
{
    char lock[PATH_MAX];
    struct store_fetch *f;
    struct stat st;
    int rc, fd = -1; /* set by lock_path() when it succeeds */

    if (s->rdonly)
        return STORE_READONLY;
    rc = fetch_path(s, d, "lock", lock, sizeof(lock));
    if (rc)
        return rc;
    rc = lock_path(lock, wait_ms, &fd);
    if (rc)
        return rc;
    /* another worker may have fetched it while this one waited */
    rc = present(s, repo, d);
    if (rc == STORE_OK) {
        unlink(lock); /* held: nobody else's */
        rc = STORE_FETCH_PRESENT;
    }
    if (rc != STORE_NOTFOUND)
        goto close_fd;
    f = xcalloc(1, sizeof(*f));
    f->s = s;
    f->d = *d;
    f->size = -1;
    f->lock_fd = fd;
    snprintf(f->repo, sizeof(f->repo), "%s", repo);
    rc = fetch_path(s, d, "part", f->path, sizeof(f->path));
    /*
     * A new .part, never the one a crashed fetch left (which a follower
     * may hold): a follower's bytes are this fetch's only when its file
     * is this fetch's (store_follow_read); the note goes, until remade.
     */
    if (rc == STORE_OK && ftruncate(fd, 0))
        rc = store_map_errno(errno, "truncate", lock);
    if (rc == STORE_OK && unlink(f->path) && errno != ENOENT)
        rc = store_map_errno(errno, "remove", f->path);
    if (rc == STORE_OK) {
        f->fd = open(f->path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_DIRECT,
                     0644);
        if (f->fd >= 0 &&
            (posix_memalign((void **)&f->buf[0], DIRECT_ALIGN, DIRECT_BUF) ||
             posix_memalign((void **)&f->buf[1], DIRECT_ALIGN, DIRECT_BUF))) {
            free(f->buf[0]);
            f->buf[0] = f->buf[1] = NULL;
            buffered(f);
        }
        f->dbuf = f->buf[0];
        if (f->dbuf) {
            pthread_mutex_init(&f->mu, NULL);
            pthread_cond_init(&f->cv, NULL);
        }
        if (f->fd < 0 && errno == EINVAL)
            f->fd = open(f->path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (f->fd < 0)
            rc = store_map_errno(errno, "create", f->path);
    }
    if (rc) {
        if (f->dbuf) {
            pthread_cond_destroy(&f->cv);
            pthread_mutex_destroy(&f->mu);
        }
        free(f->buf[0]);
        free(f->buf[1]);
        free(f);
        goto close_fd;
    }
    hasher_init(&f->h, d->alg);
    if (fstat(f->fd, &st) == 0)
        f->ino = st.st_ino;
    note(f);
    *out = f;
    return STORE_OK;
close_fd:
    close(fd); /* drops the lock */
    return rc;
}

void store_fetch_expect(struct store_fetch *f, long long size)
{
    f->size = size;
    note(f);
}

/* Note the bytes received each MiB or second, for the followers. */
static void note_got(struct store_fetch *f)
{
    struct timespec now;

    if (f->got - f->noted >= ((long long)1 << 20)) {
        note(f);
        return;
    }
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec > f->noted_at.tv_sec + 1 ||
        (now.tv_sec == f->noted_at.tv_sec + 1 &&
         now.tv_nsec >= f->noted_at.tv_nsec))
        note(f);
}

long long store_fetch_got(const struct store_fetch *f)
{
    return f->got;
}

int store_fetch_write(struct store_fetch *f, const void *data, size_t len)
{
    const unsigned char *p = data;
    size_t n, left = len;
    int rc;

    if (f->size >= 0 && f->got + (long long)len > f->size)
        return STORE_SIZE_MISMATCH;
    rc = writer_error(f);
    if (rc)
        return rc;
    if (!f->dbuf)
        hasher_update(&f->h, data, len);
    while (f->dbuf && left) {
        n = DIRECT_BUF - f->dlen < left ? DIRECT_BUF - f->dlen : left;
        memcpy(f->dbuf + f->dlen, p, n);
        f->dlen += n;
        p += n;
        left -= n;
        if (f->dlen == DIRECT_BUF) {
            rc = hand_off(f);
            if (rc)
                return rc;
        }
    }
    if (f->dbuf) {
        f->got += (long long)len;
        note_got(f);
        return STORE_OK;
    }
    if (pwrite_all(f->fd, data, len, f->got))
        return store_map_errno(errno, "write", f->path);
    /*
     * Start each few MiB on its way to the disk as it comes, as fd_copy()
     * does, so that the commit's fdatasync() waits for the last of them
     * only: the client that streams the blob waits for it.
     */
    f->got += (long long)len;
    if (f->got - f->synced >= SYNC_STEP) {
        sync_file_range(f->fd, f->synced, f->got - f->synced,
                        SYNC_FILE_RANGE_WRITE);
        f->synced = f->got;
    }
    note_got(f);
    return STORE_OK;
}

/* adopt the .part as blob d of f->repo, within txn */
static int adopt(struct store_fetch *f, MDB_txn *txn)
{
    struct blob_rec rec;
    int rc, fresh;

    rc = store_blob_rec(f->s, txn, &f->d, &rec);
    if (rc && rc != STORE_NOTFOUND)
        return rc;
    fresh = rc == STORE_NOTFOUND;
    rc = store_blob_adopt(f->s, txn, f->repo, &f->d, f->fd, f->path, f->got);
    /* a blob the cache brought in is the cache's until someone pushes it */
    if (rc == STORE_OK && fresh)
        rc = store_blob_mark_cached(f->s, txn, &f->d);
    if (rc == STORE_OK && fresh)
        rc = store_pull_put(f->s, txn, &f->d);
    return rc;
}

int store_fetch_verify(struct store_fetch *f)
{
    struct digest got;
    int rc;

    if (f->verified)
        return f->verified > 0 ? STORE_OK : f->verify_rc;
    rc = f->dbuf ? writer_join(f) : STORE_OK;
    if (f->dbuf)
        hasher_update(&f->h, f->dbuf, f->dlen);
    hasher_final(&f->h, &got);
    if (rc == STORE_OK && f->dbuf)
        rc = direct_flush(f, 1);
    if (rc == STORE_OK && f->size >= 0 && f->got != f->size)
        rc = STORE_SIZE_MISMATCH;
    else if (rc == STORE_OK && !digest_equal(&got, &f->d))
        rc = STORE_DIGEST_MISMATCH;
    f->verify_rc = rc;
    f->verified = rc ? -1 : 1;
    return rc;
}

long store_fetch_read(struct store_fetch *f, long long off, void *buf,
                      size_t len)
{
    ssize_t n;

    if (f->verified <= 0 || off >= f->got)
        return f->verified <= 0 ? -1 : 0;
    if ((long long)len > f->got - off)
        len = (size_t)(f->got - off);
    do
        n = pread(f->fd, buf, len, (off_t)off);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        log_err("cannot read '%s' at offset %lld: %s", f->path, off,
                strerror(errno));
    return n > 0 ? (long)n : -1;
}

int store_fetch_commit(struct store_fetch *f)
{
    MDB_txn *txn = NULL;
    int rc;

    rc = store_fetch_verify(f);
    /* a blob kept in LMDB is made durable by the commit itself */
    if (rc == STORE_OK && !store_blob_inlined(f->s, f->got) && fdatasync(f->fd))
        rc = store_map_errno(errno, "fsync", f->path);
    if (rc == STORE_OK)
        rc = store_txn_begin(f->s, 0, &txn);
    if (rc == STORE_OK)
        rc = store_txn_end(f->s, txn, adopt(f, txn));
    store_fetch_abort(f); /* and the lock file, which abort removes */
    return rc;
}

void store_fetch_abort(struct store_fetch *f)
{
    char lock[PATH_MAX];

    if (!f)
        return;
    if (f->dbuf) {
        writer_join(f);
        pthread_cond_destroy(&f->cv);
        pthread_mutex_destroy(&f->mu);
    }
    /* gone when renamed into place; else what is left is nobody's */
    if (unlink(f->path) && errno != ENOENT)
        log_warn("cannot remove '%s': %s", f->path, strerror(errno));
    /* held, so the path's (see the top): a waiter opens a new one */
    if (fetch_path(f->s, &f->d, "lock", lock, sizeof(lock)) == STORE_OK &&
        unlink(lock) && errno != ENOENT)
        log_warn("cannot remove '%s': %s", lock, strerror(errno));
    close(f->fd);
    close(f->lock_fd); /* drops the lock: the waiters look again */
    free(f->buf[0]);
    free(f->buf[1]);
    free(f);
}

/*
 * A follower of another worker's fetch (store_fetch_follow): the lock
 * file it found held, and, once the fetcher's note names it, the .part
 * that note names, both opened read-only; state, once the fetch ended.
 */
struct store_follow {
    struct store *s;
    struct digest d;
    char repo[NAME_MAX_LEN + 1];
    int lock_fd, fd;        /* fd: -1 until the note names the .part */
    unsigned long long ino; /* of the note, 0: none read yet */
    long long size, got;    /* of the note: expected (-1), received */
    int state;              /* STORE_FOLLOW_* */
    char path[PATH_MAX];    /* the .part */
};

/* Whether the lock of fd is free: nobody fetches (with that file) now. */
static int lock_free(int fd)
{
    if (flock(fd, LOCK_SH | LOCK_NB))
        return 0;
    flock(fd, LOCK_UN);
    return 1;
}

int store_fetch_follow(struct store *s, const char *repo,
                       const struct digest *d, struct store_follow **out)
{
    char lock[PATH_MAX];
    struct store_follow *f;
    int rc, fd;

    rc = fetch_path(s, d, "lock", lock, sizeof(lock));
    if (rc)
        return rc;
    fd = open(lock, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno != ENOENT)
        return store_map_errno(errno, "open", lock);
    if (fd < 0 || lock_free(fd)) {
        if (fd >= 0)
            close(fd);
        rc = s->rdonly ? STORE_NOTFOUND : present(s, repo, d);
        return rc == STORE_OK ? STORE_FETCH_PRESENT : rc;
    }
    f = xcalloc(1, sizeof(*f));
    f->s = s;
    f->d = *d;
    snprintf(f->repo, sizeof(f->repo), "%s", repo);
    f->lock_fd = fd;
    f->fd = -1;
    f->size = -1;
    f->state = STORE_FOLLOW_RUNNING;
    rc = fetch_path(s, d, "part", f->path, sizeof(f->path));
    if (rc) {
        store_follow_close(f);
        return rc;
    }
    *out = f;
    return STORE_OK;
}

/*
 * Read the fetcher's note again, and open the .part it names if not yet:
 * the state FAILED when the note names another file than the one open.
 */
static void follow_note(struct store_follow *f)
{
    unsigned long long ino;
    long long size, got;
    struct stat st;
    int fd;

    if (read_note(f->lock_fd, &ino, &size, &got))
        return;
    if (f->ino && ino != f->ino) {
        f->state = STORE_FOLLOW_FAILED;
        return;
    }
    f->size = size;
    f->got = got;
    if (f->fd >= 0)
        return;
    fd = open(f->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return; /* not yet, or gone: the lock says */
    if (fstat(fd, &st) || (unsigned long long)st.st_ino != ino) {
        close(fd); /* a file of another fetch: this one's comes */
        return;
    }
    f->fd = fd;
    f->ino = ino;
}

/*
 * Once the lock is free, whether the fetch followed made the blob: the
 * stored blob's file is the very file read (a rename keeps its inode).
 */
static void follow_end(struct store_follow *f)
{
    ino_t ino = 0;

    f->state = STORE_FOLLOW_FAILED;
    if (f->fd >= 0 && present_ino(f->s, f->repo, &f->d, &ino) == STORE_OK &&
        ino && (unsigned long long)ino == f->ino)
        f->state = STORE_FOLLOW_DONE;
}

long long store_follow_length(const struct store_follow *f)
{
    return f->size;
}

long long store_follow_got(const struct store_follow *f)
{
    return f->got;
}

long store_follow_read(struct store_follow *f, long long off, void *buf,
                       size_t len, int *state)
{
    struct stat st;
    long long end;
    ssize_t n;

    if (f->state == STORE_FOLLOW_RUNNING) {
        /* free first: then the note and the file are final */
        int ended = lock_free(f->lock_fd);

        follow_note(f);
        if (ended && f->state == STORE_FOLLOW_RUNNING)
            follow_end(f);
    }
    *state = f->state;
    /* without the size, no byte is known not to be the last */
    if (f->state == STORE_FOLLOW_FAILED || f->fd < 0 || !len ||
        (f->state != STORE_FOLLOW_DONE && f->size < 0))
        return 0;
    if (fstat(f->fd, &st)) {
        log_err("cannot stat '%s': %s", f->path, strerror(errno));
        return -1;
    }
    end = (long long)st.st_size;
    /* the last byte only once the blob is made of it */
    if (f->state != STORE_FOLLOW_DONE && f->size >= 0 && end >= f->size)
        end = f->size - 1;
    if (off >= end)
        return 0;
    if ((long long)len > end - off)
        len = (size_t)(end - off);
    do
        n = pread(f->fd, buf, len, (off_t)off);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        log_err("cannot read '%s' at offset %lld: %s", f->path, off,
                strerror(errno));
        return -1;
    }
    return (long)n;
}

void store_follow_close(struct store_follow *f)
{
    if (!f)
        return;
    if (f->fd >= 0)
        close(f->fd);
    close(f->lock_fd);
    free(f);
}

/* A name in fetch/: the length of its base, before ".lock" or ".part"; 0. */
static size_t fetch_base(const char *name)
{
    size_t n = strlen(name);

    if (n > 5 &&
        (!strcmp(name + n - 5, ".lock") || !strcmp(name + n - 5, ".part")))
        return n - 5;
    return 0;
}

/* What the fetch of base left, removed if nobody fetches it; counted. */
static int sweep_one(struct store *s, const char *base, long long *removed)
{
    char lock[PATH_MAX], part[PATH_MAX];
    struct stat held, now;
    int fd, made = 0, rc = STORE_OK;

    if (snprintf(lock, sizeof(lock), "%s/fetch/%s.lock", s->root, base) >=
            (int)sizeof(lock) ||
        snprintf(part, sizeof(part), "%s/fetch/%s.part", s->root, base) >=
            (int)sizeof(part))
        return STORE_OK; /* no fetch makes such names */
    fd = open(lock, O_RDWR | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        /* a .part alone: its lock, as a fetch would take it */
        fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        made = 1;
    }
    if (fd < 0)
        return errno == ENOENT ? STORE_OK
                               : store_map_errno(errno, "open", lock);
    /* held: a fetch at work; changed: unlinked meanwhile, its holder's */
    if (flock(fd, LOCK_EX | LOCK_NB) || fstat(fd, &held) || stat(lock, &now) ||
        now.st_ino != held.st_ino || now.st_dev != held.st_dev)
        goto close_fd;
    if (unlink(part) == 0)
        (*removed)++;
    else if (errno != ENOENT)
        rc = store_map_errno(errno, "remove", part);
    if (rc == STORE_OK && unlink(lock) == 0)
        *removed += !made;
    else if (rc == STORE_OK)
        rc = store_map_errno(errno, "remove", lock);
close_fd:
    close(fd); /* drops the lock */
    return rc;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int store_fetch_sweep(struct store *s, long long *removed)
{
    char path[PATH_MAX], **names = NULL;
    size_t n = 0, cap = 0, i, len;
    long long count = 0;
    struct dirent *de;
    int rc = STORE_OK;
    DIR *dir;

    snprintf(path, sizeof(path), "%s/fetch", s->root);
    dir = opendir(path);
    if (!dir && errno != ENOENT)
        return store_map_errno(errno, "open directory", path);
    /* the names first: what the sweep unlinks is not read again */
    while (dir && (de = readdir(dir))) {
        len = fetch_base(de->d_name);
        if (!len)
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            names = xrealloc(names, cap * sizeof(*names));
        }
        names[n] = xmalloc(len + 1);
        memcpy(names[n], de->d_name, len);
        names[n++][len] = '\0';
    }
    if (dir)
        closedir(dir);
    if (n)
        qsort(names, n, sizeof(*names), cmp_name);
    for (i = 0; rc == STORE_OK && i < n; i++)
        if (!i || strcmp(names[i], names[i - 1]))
            rc = sweep_one(s, names[i], &count);
    for (i = 0; i < n; i++)
        free(names[i]);
    free(names);
    if (rc == STORE_OK)
        *removed = count;
    return rc;
}

int store_pull_put(struct store *s, MDB_txn *txn, const struct digest *d)
{
    char dstr[DIGEST_STR_MAX];
    int64_t now = (int64_t)store_now(s);
    MDB_val key, val;

    if (!s->pulls)
        return STORE_OK;
    digest_format(d, dstr);
    store_str_val(dstr, &key);
    val.mv_data = &now;
    val.mv_size = sizeof(now);
    return store_map_mdb_rc(mdb_put(txn, s->pulls, &key, &val, 0),
                            "mdb_put pulls");
}

long long store_pull_get(struct store *s, MDB_txn *txn, const struct digest *d)
{
    char dstr[DIGEST_STR_MAX];
    MDB_val key, val;
    int64_t t;

    if (!s->pulls)
        return 0;
    digest_format(d, dstr);
    store_str_val(dstr, &key);
    if (mdb_get(txn, s->pulls, &key, &val) || val.mv_size != sizeof(t))
        return 0;
    memcpy(&t, val.mv_data, sizeof(t));
    return t;
}
