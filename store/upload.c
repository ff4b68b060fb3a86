#include "config.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
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
 * An upload session is a file <root>/uploads/<id> plus a record in the
 * "uploads" database:
 *
 *   uint64 size         bytes accepted so far (the file may be longer
 *                       after a crash or an aborted chunk: the tail is
 *                       cut off the next time the session is opened)
 *   int64  created      seconds since the epoch
 *   uint16 repo_len     then the repository name
 *   uint16 state_len    then the saved sha256 state of bytes [0, size)
 *   uint16 owner_len    then who started it (store_upload_begin)
 *   uint16 flags        REC_DONE, REC_UNCOUNTED
 *
 * and the repository, owner and state, in this order. A record of an
 * earlier berth has no owner_len and flags (its length tells): its
 * session is counted nowhere, and is REC_UNCOUNTED when saved again.
 *
 * The "ucounts" database of the sessions environment counts the open
 * sessions of each owner ("o<owner>") and repository ("r<repo>"), in the
 * write transactions that add and drop records, so that
 * store_upload_begin() checks the limits with two lookups.
 *
 * A session whose content was checked against its digest is REC_DONE
 * before the blob is committed: size is the blob's, and the state is the
 * digest string. A worker killed after that leaves a record whose file
 * may be gone (renamed into blobs/ by the commit): the session's status
 * and a PUT with that digest both see it finished (session_done()).
 *
 * A chunk is appended, fsynced, and only then is the record moved past
 * it, so the record never claims bytes the disk may not have. Saving the
 * hash state with the size means the final PUT hashes nothing again when
 * the client wants sha256, which every client does; a sha512 digest, or a
 * state saved by another OpenSSL build, costs one re-read of the file.
 *
 * Requests on one session are serialised by flock() on its file: a
 * second writer gets STORE_BUSY at once rather than queueing behind a
 * slow client.
 */

#define REC_HDR_V1 20 /* an earlier berth's: no owner_len, no flags */
#define REC_HDR    24
#define OWNER_MAX  255 /* bytes of an owner that count */
#define STATE_MAX                                                              \
    (HASHER_STATE_MAX > DIGEST_STR_MAX ? HASHER_STATE_MAX : DIGEST_STR_MAX)
#define REC_MAX (REC_HDR + NAME_MAX_LEN + OWNER_MAX + STATE_MAX)

#define REC_DONE      1u /* the content was checked: see above */
#define REC_UNCOUNTED 2u /* the counts of ucounts do not include it */
#define IO_CHUNK      (1024 * 1024)
#define DIRECT_ALIGN  4096 /* what O_DIRECT wants of a buffer, size, offset */

struct upload {
    int fd; /* -1 for a REC_DONE session whose file is gone */
    char path[PATH_MAX];
    long long size;
    int64_t created;
    struct hasher h;
    int hash_ok; /* h holds the sha256 state of [0, size) */
    unsigned flags;
    struct digest done; /* with REC_DONE: the blob's digest */
    char owner[OWNER_MAX + 1];
};

/* A record read in place; the pointers die with the transaction. */
struct rec {
    uint64_t size;
    int64_t created;
    const unsigned char *repo, *owner, *state;
    uint16_t repo_len, owner_len, state_len, flags;
};

static int upload_path(struct store *s, const char *id, char *buf)
{
    int n = snprintf(buf, PATH_MAX, "%s/uploads/%s", s->root, id);

    return n > 0 && n < PATH_MAX ? STORE_OK : STORE_IO;
}

static void id_key(const char *id, MDB_val *key)
{
    key->mv_data = (void *)id;
    key->mv_size = strlen(id);
}

/* The bytes of the record of session id, valid in txn; STORE_NOTFOUND. */
static int rec_find(struct store *s, MDB_txn *txn, const char *id, MDB_val *val)
{
    MDB_val key;
    int rc;

    id_key(id, &key);
    rc = mdb_get(txn, s->uploads, &key, val);
    if (rc)
        return rc == MDB_NOTFOUND ? STORE_NOTFOUND
                                  : store_map_umdb_rc(rc, "mdb_get uploads");
    return STORE_OK;
}

static int rec_put(struct store *s, MDB_txn *txn, const char *repo,
                   const char *id, const struct upload *u)
{
    unsigned char rec[REC_MAX], *state;
    uint64_t size = (uint64_t)u->size;
    uint16_t repo_len = (uint16_t)strlen(repo), state_len = 0;
    uint16_t owner_len = (uint16_t)strlen(u->owner), flags = (uint16_t)u->flags;
    MDB_val key, val;

    state = rec + REC_HDR + repo_len + owner_len;
    if (u->flags & REC_DONE) {
        digest_format(&u->done, (char *)state);
        state_len = (uint16_t)strlen((char *)state);
    } else if (u->hash_ok) {
        state_len = (uint16_t)hasher_save(&u->h, state);
    }
    memcpy(rec, &size, 8);
    memcpy(rec + 8, &u->created, 8);
    memcpy(rec + 16, &repo_len, 2);
    memcpy(rec + 18, &state_len, 2);
    memcpy(rec + 20, &owner_len, 2);
    memcpy(rec + 22, &flags, 2);
    memcpy(rec + REC_HDR, repo, repo_len);
    memcpy(rec + REC_HDR + repo_len, u->owner, owner_len);
    id_key(id, &key);
    val.mv_data = rec;
    val.mv_size = REC_HDR + repo_len + owner_len + state_len;
    return store_map_umdb_rc(mdb_put(txn, s->uploads, &key, &val, 0),
                             "mdb_put uploads");
}

/* Parse the record val of session id. */
static int rec_parse(const MDB_val *val, const char *id, struct rec *r)
{
    const unsigned char *p = val->mv_data;

    if (val->mv_size < REC_HDR_V1)
        return store_corrupt("upload record", id);
    memcpy(&r->size, p, 8);
    memcpy(&r->created, p + 8, 8);
    memcpy(&r->repo_len, p + 16, 2);
    memcpy(&r->state_len, p + 18, 2);
    r->repo = p + REC_HDR_V1;
    r->owner_len = 0;
    r->flags = REC_UNCOUNTED;
    if (val->mv_size != (size_t)REC_HDR_V1 + r->repo_len + r->state_len) {
        if (val->mv_size < REC_HDR)
            return store_corrupt("upload record", id);
        memcpy(&r->owner_len, p + 20, 2);
        memcpy(&r->flags, p + 22, 2);
        r->repo = p + REC_HDR;
        if (val->mv_size !=
            (size_t)REC_HDR + r->repo_len + r->owner_len + r->state_len)
            return store_corrupt("upload record", id);
    }
    r->owner = r->repo + r->repo_len;
    r->state = r->owner + r->owner_len;
    return STORE_OK;
}

/* Read the record of id into u; STORE_NOTFOUND if it belongs elsewhere. */
static int rec_get(struct store *s, MDB_txn *txn, const char *repo,
                   const char *id, struct upload *u)
{
    char dstr[DIGEST_STR_MAX];
    MDB_val val;
    struct rec r;
    int rc;

    rc = rec_find(s, txn, id, &val);
    if (rc)
        return rc;
    rc = rec_parse(&val, id, &r);
    if (rc)
        return rc;
    /* an id used under another repository is unknown there */
    if (r.repo_len != strlen(repo) || memcmp(r.repo, repo, r.repo_len))
        return STORE_NOTFOUND;
    if (r.owner_len > OWNER_MAX)
        return store_corrupt("upload record", id);
    u->size = (long long)r.size;
    u->created = r.created;
    u->flags = r.flags;
    memcpy(u->owner, r.owner, r.owner_len);
    u->owner[r.owner_len] = '\0';
    if (u->flags & REC_DONE) {
        u->hash_ok = 0;
        if (r.state_len >= sizeof(dstr))
            return store_corrupt("upload record", id);
        memcpy(dstr, r.state, r.state_len);
        dstr[r.state_len] = '\0';
        if (digest_parse(&u->done, dstr, r.state_len))
            return store_corrupt("upload record", id);
        return STORE_OK;
    }
    u->hash_ok = r.state_len && hasher_load(&u->h, r.state, r.state_len) == 0 &&
                 u->h.alg == DIGEST_SHA256;
    return STORE_OK;
}

/* The ucounts key of an owner ('o') or repository ('r') name. */
static void count_key(char kind, const void *name, size_t len, char *buf,
                      MDB_val *key)
{
    buf[0] = kind;
    memcpy(buf + 1, name, len);
    key->mv_data = buf;
    key->mv_size = 1 + len;
}

/*
 * Add delta (1 or -1) to the count of key, within txn. Adding to a count
 * that is at cap (0: none) is refused with over.
 */
static int count_add(struct store *s, MDB_txn *txn, const MDB_val *key,
                     int delta, long long cap, int over)
{
    uint64_t n = 0;
    MDB_val k = *key, val;
    int rc;

    rc = mdb_get(txn, s->ucounts, &k, &val);
    if (rc == 0 && val.mv_size == sizeof(n))
        memcpy(&n, val.mv_data, sizeof(n));
    else if (rc && rc != MDB_NOTFOUND)
        return store_map_umdb_rc(rc, "mdb_get ucounts");
    if (delta > 0 && cap > 0 && n >= (uint64_t)cap)
        return over;
    if (delta < 0 && n <= 1) {
        rc = mdb_del(txn, s->ucounts, &k, NULL);
        return rc == MDB_NOTFOUND ? STORE_OK
                                  : store_map_umdb_rc(rc, "mdb_del ucounts");
    }
    n = delta > 0 ? n + 1 : n - 1;
    val.mv_data = &n;
    val.mv_size = sizeof(n);
    return store_map_umdb_rc(mdb_put(txn, s->ucounts, &k, &val, 0),
                             "mdb_put ucounts");
}

/* Count a session of owner in repo in (delta 1), or out (-1), within txn. */
static int count(struct store *s, MDB_txn *txn, const void *owner,
                 size_t owner_len, const void *repo, size_t repo_len, int delta)
{
    char buf[1 + (OWNER_MAX > NAME_MAX_LEN ? OWNER_MAX : NAME_MAX_LEN)];
    MDB_val key;
    int rc;

    count_key('o', owner, owner_len, buf, &key);
    rc = count_add(s, txn, &key, delta, s->per_owner, STORE_OWNER_SESSIONS);
    if (rc)
        return rc;
    count_key('r', repo, repo_len, buf, &key);
    return count_add(s, txn, &key, delta, s->per_repo, STORE_REPO_SESSIONS);
}

/*
 * Drop the record of session id, and its counts, within txn;
 * STORE_NOTFOUND if there is none.
 */
static int forget(struct store *s, MDB_txn *txn, const char *id)
{
    char owner[OWNER_MAX], repo[NAME_MAX_LEN];
    int counted;
    MDB_val key, val;
    struct rec r;
    int rc;

    rc = rec_find(s, txn, id, &val);
    if (rc)
        return rc;
    /* a record that does not parse goes too, uncounted */
    counted = rec_parse(&val, id, &r) == STORE_OK &&
              !(r.flags & REC_UNCOUNTED) && r.owner_len <= OWNER_MAX &&
              r.repo_len <= NAME_MAX_LEN;
    if (counted) {
        /* val dies with the first write */
        memcpy(owner, r.owner, r.owner_len);
        memcpy(repo, r.repo, r.repo_len);
    }
    id_key(id, &key);
    rc = mdb_del(txn, s->uploads, &key, NULL);
    if (rc)
        return store_map_umdb_rc(rc, "mdb_del uploads");
    return counted ? count(s, txn, owner, r.owner_len, repo, r.repo_len, -1)
                   : STORE_OK;
}

/*
 * Open and lock session id of repo and load its state. On STORE_OK the
 * caller owns u->fd and must release it with upload_unlock().
 */
static int upload_lock(struct store *s, const char *repo, const char *id,
                       struct upload *u)
{
    MDB_txn *txn;
    struct stat st;
    int rc;

    if (s->rdonly)
        return STORE_READONLY;
    memset(u, 0, sizeof(*u));
    u->fd = -1;
    rc = upload_path(s, id, u->path);
    if (rc)
        return rc;
    u->fd = open(u->path, O_RDWR | O_CLOEXEC);
    if (u->fd < 0 && errno != ENOENT)
        return store_map_errno(errno, "open", u->path);
    if (u->fd >= 0 && flock(u->fd, LOCK_EX | LOCK_NB)) {
        rc = errno == EWOULDBLOCK ? STORE_BUSY
                                  : store_map_errno(errno, "lock", u->path);
        goto close_fd;
    }
    /* read the record under the lock: a finish or cancel may have won */
    rc = store_utxn_begin(s, MDB_RDONLY, &txn);
    if (rc)
        goto close_fd;
    rc = rec_get(s, txn, repo, id, u);
    mdb_txn_abort(txn);
    if (rc)
        goto close_fd;
    /* a finished session's file is a blob now: nothing to lock or read */
    if (u->fd < 0)
        return u->flags & REC_DONE ? STORE_OK : STORE_NOTFOUND;
    if (fstat(u->fd, &st)) {
        rc = store_map_errno(errno, "stat", u->path);
        goto close_fd;
    }
    if (st.st_size < u->size) {
        log_err("upload '%s' has %lld bytes on disk, %lld recorded", u->path,
                (long long)st.st_size, u->size);
        rc = STORE_CORRUPT;
        goto close_fd;
    }
    /* the tail of a chunk that never completed */
    if (st.st_size > u->size && ftruncate(u->fd, (off_t)u->size)) {
        rc = store_map_errno(errno, "truncate", u->path);
        goto close_fd;
    }
    return STORE_OK;
close_fd:
    if (u->fd >= 0)
        close(u->fd);
    u->fd = -1;
    return rc;
}

static void upload_unlock(struct upload *u)
{
    if (u->fd >= 0)
        close(u->fd); /* drops the flock */
    u->fd = -1;
}

/* Read from body until len bytes or its end; return the count, or -1. */
static long fill(const struct store_body *body, char *buf, size_t len)
{
    size_t got = 0;
    long n = 0;

    while (got < len && (n = body->read(body->ctx, buf + got, len - got)) > 0)
        got += (size_t)n;
    return got < len && n < 0 ? -1 : (long)got;
}

/*
 * Append body at u->size. All or nothing: on failure the file is cut
 * back to u->size, and u->h may be garbage (the caller then does not save
 * it). On success u->size and u->h cover the new bytes.
 *
 * An append that starts on a block boundary writes its whole blocks with
 * O_DIRECT: the bytes go from our buffer to the disk instead of being
 * copied into the page cache first, which costs about as much CPU as
 * hashing them, and a layer being pushed does not push other files out
 * of the cache. The last partial block goes through the page cache, and
 * so does everything where O_DIRECT is refused (tmpfs) or an append
 * starts mid-block.
 */
static int upload_write(struct upload *u, const struct store_body *body)
{
    long long total = 0, off = u->size;
    size_t have = 0, w;
    int rc = STORE_OK, dfd = -1;
    void *mem;
    char *buf;
    long n;

    if (posix_memalign(&mem, DIRECT_ALIGN, IO_CHUNK)) {
        log_err("out of memory for an upload buffer");
        abort();
    }
    buf = mem;
    if (off % DIRECT_ALIGN == 0 &&
        (body->length < 0 || body->length >= IO_CHUNK))
        dfd = open(u->path, O_WRONLY | O_DIRECT | O_CLOEXEC);
    do {
        n = fill(body, buf + have, IO_CHUNK - have);
        if (n < 0) {
            rc = STORE_ABORTED;
            goto cut;
        }
        if (body->length >= 0 && n > body->length - total) {
            rc = STORE_SHORT; /* more than announced */
            goto cut;
        }
        if (u->hash_ok)
            hasher_update(&u->h, buf + have, (size_t)n);
        total += n;
        have += (size_t)n;
        /* O_DIRECT takes whole blocks; the rest waits, or ends the body */
        w = dfd >= 0 && n > 0 ? have - have % DIRECT_ALIGN : have;
        if (w && dfd >= 0 && n > 0 && pwrite_all(dfd, buf, w, off)) {
            if (errno != EINVAL) {
                rc = store_map_errno(errno, "write", u->path);
                goto cut;
            }
            close(dfd); /* the file system wants something else */
            dfd = -1;
        }
        if (w && (dfd < 0 || n == 0) && pwrite_all(u->fd, buf, w, off)) {
            rc = store_map_errno(errno, "write", u->path);
            goto cut;
        }
        off += (long long)w;
        memmove(buf, buf + w, have - w);
        have -= w;
    } while (n > 0);
    if (body->length >= 0 && total != body->length) {
        rc = STORE_SHORT;
        goto cut;
    }
    u->size += total;
    goto out;
cut:
    if (ftruncate(u->fd, (off_t)u->size))
        log_err("cannot truncate '%s': %s", u->path, strerror(errno));
out:
    if (dfd >= 0)
        close(dfd);
    free(mem);
    return rc;
}

static int sync_data(struct upload *u)
{
    if (fdatasync(u->fd))
        return store_map_errno(errno, "fsync", u->path);
    return STORE_OK;
}

void store_upload_id(char *out)
{
    unsigned char b[16];
    char hex[33];

    if (random_bytes(b, sizeof(b))) {
        /* getrandom() cannot fail for 16 bytes once the pool is ready */
        log_err("getrandom failed: %s", strerror(errno));
        abort();
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    hex_encode(b, sizeof(b), hex);
    snprintf(out, UPLOAD_ID_LEN + 1, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8,
             hex + 12, hex + 16, hex + 20);
}

/* Write the record of session id of repo, in a transaction of its own. */
static int save(struct store *s, const char *repo, const char *id,
                const struct upload *u)
{
    MDB_txn *txn;
    int rc = store_utxn_begin(s, 0, &txn);

    return rc ? rc : store_txn_end(s, txn, rec_put(s, txn, repo, id, u));
}

/* Count new session id in, within the limits, and write its record. */
static int create(struct store *s, MDB_txn *txn, const char *repo,
                  const char *id, const struct upload *u)
{
    int rc = count(s, txn, u->owner, strlen(u->owner), repo, strlen(repo), 1);

    return rc ? rc : rec_put(s, txn, repo, id, u);
}

int store_upload_begin(struct store *s, const char *repo, const char *owner,
                       char *id)
{
    struct upload u;
    char uid[UPLOAD_ID_LEN + 1];
    MDB_txn *txn;
    size_t len = strlen(owner);
    int rc, fd;

    if (s->rdonly)
        return STORE_READONLY;
    memset(&u, 0, sizeof(u));
    if (len > OWNER_MAX)
        len = OWNER_MAX; /* the first bytes count: see store.h */
    memcpy(u.owner, owner, len);
    u.owner[len] = '\0';
    store_upload_id(uid);
    rc = upload_path(s, uid, u.path);
    if (rc)
        return rc;
    fd = open(u.path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return store_map_errno(errno, "create", u.path);
    close(fd);
    u.created = (int64_t)time(NULL);
    hasher_init(&u.h, DIGEST_SHA256);
    u.hash_ok = 1;
    rc = store_utxn_begin(s, 0, &txn);
    if (rc == STORE_OK)
        rc = store_txn_end(s, txn, create(s, txn, repo, uid, &u));
    if (rc) {
        unlink(u.path);
        return rc;
    }
    memcpy(id, uid, sizeof(uid));
    return STORE_OK;
}

/*
 * Whether finished session u of repo (REC_DONE) made its blob: STORE_OK
 * when its file is there still (the commit may not have come), or repo
 * links the blob; else STORE_NOTFOUND.
 */
static int session_done(struct store *s, const char *repo,
                        const struct upload *u)
{
    struct blob_rec rec;
    MDB_txn *txn;
    int rc;

    if (u->fd >= 0 || access(u->path, F_OK) == 0)
        return STORE_OK;
    rc = store_txn_begin(s, MDB_RDONLY, &txn);
    if (rc)
        return rc;
    rc = store_linked_rec(s, txn, repo, &u->done, &rec);
    mdb_txn_abort(txn);
    return rc;
}

int store_upload_status(struct store *s, const char *repo, const char *id,
                        long long *size)
{
    struct upload u;
    MDB_txn *txn;
    int rc;

    memset(&u, 0, sizeof(u));
    u.fd = -1;
    rc = upload_path(s, id, u.path);
    if (rc)
        return rc;
    rc = store_utxn_begin(s, MDB_RDONLY, &txn);
    if (rc)
        return rc;
    rc = rec_get(s, txn, repo, id, &u);
    mdb_txn_abort(txn);
    /* as upload_lock() and store_upload_finish() see it */
    if (rc == STORE_OK)
        rc = u.flags & REC_DONE          ? session_done(s, repo, &u)
             : access(u.path, F_OK) == 0 ? STORE_OK
                                         : STORE_NOTFOUND;
    if (rc == STORE_OK)
        *size = u.size;
    return rc;
}

int store_upload_append(struct store *s, const char *repo, const char *id,
                        long long start, const struct store_body *body,
                        long long *size)
{
    struct upload u;
    int rc;

    rc = upload_lock(s, repo, id, &u);
    if (rc)
        return rc;
    /* a finished session takes no more: a PUT with its digest ends it */
    if ((start >= 0 && start != u.size) || (u.flags & REC_DONE)) {
        rc = STORE_RANGE;
        goto unlock;
    }
    rc = upload_write(&u, body);
    if (rc == STORE_OK)
        rc = sync_data(&u);
    if (rc == STORE_OK)
        rc = save(s, repo, id, &u);
    if (rc == STORE_OK)
        *size = u.size;
    /* else the record still says the old size: the next lock cuts the tail */
unlock:
    upload_unlock(&u);
    return rc;
}

/* Remove record and file of a session that is locked by the caller. */
static int drop(struct store *s, const char *id, struct upload *u)
{
    MDB_txn *txn;
    int rc;

    rc = store_utxn_begin(s, 0, &txn);
    if (rc)
        return rc;
    rc = forget(s, txn, id);
    rc = store_txn_end(s, txn, rc == STORE_NOTFOUND ? STORE_OK : rc);
    if (rc)
        return rc;
    if (unlink(u->path) && errno != ENOENT)
        log_warn("cannot remove '%s': %s", u->path, strerror(errno));
    return STORE_OK;
}

/* Whether body is empty: a finished session takes no more bytes. */
static int body_empty(const struct store_body *body)
{
    char c;

    if (!body || body->length == 0)
        return 1;
    return body->length < 0 && fill(body, &c, 1) == 0;
}

/* Make the checked content of session u blob d of repo. */
static int commit(struct store *s, const char *repo, const struct digest *d,
                  struct upload *u)
{
    MDB_txn *txn;
    int rc = store_txn_begin(s, 0, &txn);

    return rc ? rc
              : store_txn_end(
                    s, txn,
                    store_blob_adopt(s, txn, repo, d, u->fd, u->path, u->size));
}

int store_upload_finish(struct store *s, const char *repo, const char *id,
                        const struct store_body *body, const struct digest *d,
                        long long *size)
{
    char dstr[DIGEST_STR_MAX];
    struct digest got;
    struct upload u;
    int rc;

    rc = upload_lock(s, repo, id, &u);
    if (rc)
        return rc;
    if (u.flags & REC_DONE) {
        /* an attempt that was killed checked it: the same PUT ends it */
        got = u.done;
        if (!body_empty(body) || !digest_equal(&got, d))
            goto mismatch;
        rc = u.fd >= 0 ? commit(s, repo, d, &u) : session_done(s, repo, &u);
        if (rc == STORE_NOTFOUND && drop(s, id, &u))
            log_warn("cannot forget upload session '%s'", id);
        goto committed;
    }
    if (body) {
        rc = upload_write(&u, body);
        if (rc)
            goto unlock;
    }
    if (d->alg == DIGEST_SHA256 && u.hash_ok) {
        hasher_final(&u.h, &got);
    } else {
        hasher_init(&u.h, d->alg);
        if (hasher_update_fd(&u.h, u.fd, u.size)) {
            rc = store_map_errno(errno, "read", u.path);
            goto unlock;
        }
        hasher_final(&u.h, &got);
    }
    if (!digest_equal(&got, d))
        goto mismatch;
    /* a blob kept in LMDB is made durable by the commit itself */
    if (!store_blob_inlined(s, u.size)) {
        rc = sync_data(&u);
        if (rc)
            goto unlock;
    }
    /*
     * Say so before the commit, which may rename the file away: a worker
     * killed after it leaves a session that is seen finished.
     */
    u.flags |= REC_DONE;
    u.done = *d;
    rc = save(s, repo, id, &u);
    if (rc == STORE_OK)
        rc = commit(s, repo, d, &u);
committed:
    if (rc)
        goto unlock;
    *size = u.size;
    /*
     * The blob is stored; the session's record goes now. Should that
     * fail, or a crash come first, the record is REC_DONE: the same PUT
     * ends it, and the purge drops it.
     */
    if (drop(s, id, &u))
        log_warn("cannot forget upload session '%s'", id);
    goto unlock;
mismatch:
    digest_format(&got, dstr);
    log_debug("upload '%s' of '%s' hashes to '%s', not '%s:%s'", id, repo, dstr,
              digest_alg_name(d->alg), d->hex);
    rc = drop(s, id, &u);
    if (rc == STORE_OK)
        rc = STORE_DIGEST_MISMATCH;
unlock:
    upload_unlock(&u);
    return rc;
}

int store_upload_cancel(struct store *s, const char *repo, const char *id)
{
    struct upload u;
    int rc;

    rc = upload_lock(s, repo, id, &u);
    if (rc)
        return rc;
    rc = drop(s, id, &u);
    upload_unlock(&u);
    return rc;
}

#define PURGE_BATCH 256

/* Collect up to PURGE_BATCH ids of sessions created before cutoff. */
static int stale_ids(struct store *s, int64_t cutoff,
                     char (*ids)[UPLOAD_ID_LEN + 1], int *count)
{
    MDB_cursor *cur;
    MDB_txn *txn;
    MDB_val key, val;
    int64_t created;
    int rc, n = 0;

    rc = store_utxn_begin(s, MDB_RDONLY, &txn);
    if (rc)
        return rc;
    rc = mdb_cursor_open(txn, s->uploads, &cur);
    if (rc) {
        mdb_txn_abort(txn);
        return store_map_mdb_rc(rc, "mdb_cursor_open uploads");
    }
    rc = mdb_cursor_get(cur, &key, &val, MDB_FIRST);
    while (rc == 0 && n < PURGE_BATCH) {
        if (val.mv_size >= REC_HDR && key.mv_size == UPLOAD_ID_LEN) {
            memcpy(&created, (char *)val.mv_data + 8, 8);
            if (created < cutoff) {
                memcpy(ids[n], key.mv_data, UPLOAD_ID_LEN);
                ids[n++][UPLOAD_ID_LEN] = '\0';
            }
        }
        rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    *count = n;
    return rc == 0 || rc == MDB_NOTFOUND
               ? STORE_OK
               : store_map_mdb_rc(rc, "mdb_cursor_get uploads");
}

/* Whether the uploads database has a record for id. */
static int has_record(struct store *s, const char *id)
{
    MDB_txn *txn;
    MDB_val key, val;
    int rc;

    if (store_utxn_begin(s, MDB_RDONLY, &txn))
        return 1; /* when in doubt, keep the file */
    id_key(id, &key);
    rc = mdb_get(txn, s->uploads, &key, &val);
    mdb_txn_abort(txn);
    return rc != MDB_NOTFOUND;
}

/* Remove files in uploads/ older than cutoff that have no session. */
static int purge_orphans(struct store *s, int64_t cutoff, int *n)
{
    char dir[PATH_MAX], path[PATH_MAX + 256];
    struct dirent *de;
    struct stat st;
    DIR *d;

    snprintf(dir, sizeof(dir), "%s/uploads", s->root);
    d = opendir(dir);
    if (!d)
        return store_map_errno(errno, "open directory", dir);
    while ((de = readdir(d))) {
        if (!upload_id_valid(de->d_name, strlen(de->d_name)))
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        if (stat(path, &st) || (int64_t)st.st_mtime >= cutoff ||
            has_record(s, de->d_name))
            continue;
        if (unlink(path) == 0)
            (*n)++;
    }
    closedir(d);
    return STORE_OK;
}

int store_upload_purge(struct store *s, long long max_age, int *n)
{
    char(*ids)[UPLOAD_ID_LEN + 1];
    int64_t cutoff = (int64_t)time(NULL) - max_age;
    struct upload u;
    int rc, i, count, batch, removed = 0;

    if (s->rdonly)
        return STORE_READONLY;
    ids = xmalloc(PURGE_BATCH * sizeof(*ids));
    do {
        rc = stale_ids(s, cutoff, ids, &count);
        if (rc)
            goto out;
        for (i = 0, batch = 0; i < count; i++) {
            memset(&u, 0, sizeof(u));
            if (upload_path(s, ids[i], u.path))
                continue;
            /* lock as a request would: a session in use is not abandoned */
            u.fd = open(u.path, O_RDWR | O_CLOEXEC);
            if (u.fd >= 0 && flock(u.fd, LOCK_EX | LOCK_NB)) {
                close(u.fd);
                continue;
            }
            if (drop(s, ids[i], &u) == STORE_OK)
                batch++;
            upload_unlock(&u);
        }
        removed += batch;
    } while (count == PURGE_BATCH && batch > 0);
    rc = purge_orphans(s, cutoff, &removed);
out:
    free(ids);
    if (rc == STORE_OK)
        *n = removed;
    return rc;
}

int store_upload_drop_lost(struct store *s, const char *id)
{
    char path[PATH_MAX];
    MDB_txn *txn;
    int rc;

    if (upload_path(s, id, path))
        return STORE_IO;
    rc = store_utxn_begin(s, 0, &txn);
    if (rc)
        return rc;
    /* look again: a session whose file is there is not lost */
    rc = access(path, F_OK) == 0 ? STORE_NOTFOUND : forget(s, txn, id);
    return store_txn_end(s, txn, rc);
}
