#include "config.h"

#include <errno.h>
#include <stddef.h>
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
 * What to do when a map or the disk is full, for the log: each message
 * names the setting that helps.
 */
#define META_FULL                                                              \
    "the metadata map is full; it grows up to map_size_max in the config"
#define SESSIONS_FULL                                                          \
    "the map of upload sessions is full; it grows up to "                      \
    "upload_sessions_map_size in the config"
#define DISK_FULL "the disk of the storage root is full"

static int map_rc(int rc, const char *what, const char *full)
{
    switch (rc) {
    case MDB_SUCCESS:
        return STORE_OK;
    case MDB_NOTFOUND:
        return STORE_NOTFOUND;
    case MDB_MAP_FULL:
        log_err("%s: %s (%s)", what, mdb_strerror(rc), full);
        return STORE_FULL;
    case ENOSPC:
    case EDQUOT:
        log_err("%s: %s (%s)", what, mdb_strerror(rc), DISK_FULL);
        return STORE_FULL;
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_INVALID:
    case MDB_VERSION_MISMATCH:
        log_err("%s: %s", what, mdb_strerror(rc));
        return STORE_CORRUPT;
    default:
        log_err("%s: %s", what, mdb_strerror(rc));
        return STORE_IO;
    }
}

int store_map_mdb_rc(int rc, const char *what)
{
    return map_rc(rc, what, META_FULL);
}

int store_map_umdb_rc(int rc, const char *what)
{
    return map_rc(rc, what, SESSIONS_FULL);
}

int store_map_errno(int err, const char *what, const char *path)
{
    int full = err == ENOSPC || err == EDQUOT || err == EFBIG;

    log_err("cannot %s '%s': %s%s", what, path, strerror(err),
            err == EFBIG ? ""
            : full       ? " (" DISK_FULL ")"
                         : "");
    return full ? STORE_FULL : STORE_IO;
}

int store_corrupt(const char *what, const char *name)
{
    log_err("corrupt %s '%s'", what, name);
    return STORE_CORRUPT;
}

/* Whether a transaction of this process reads env (mdb_reader_list). */
static int reader_line(const char *msg, void *ctx)
{
    long pid;
    char txnid[32];

    if (sscanf(msg, "%ld %*s %31s", &pid, txnid) == 2 &&
        pid == (long)getpid() && strcmp(txnid, "-"))
        *(int *)ctx = 1;
    return 0;
}

static int reading(MDB_env *env)
{
    int found = 0;

    mdb_reader_list(env, reader_line, &found);
    return found;
}

/*
 * Grow the map of env (of struct store_env_size z) before a write: when
 * the data fills half of it, or a write found it full, double it up to
 * z->max. mdb_env_set_mapsize() remaps, which no transaction of this
 * process may span: a write waits for the next one when one reads. The
 * new size goes into the meta page with the next commit, and other
 * processes take it up when mdb_txn_begin() says MDB_MAP_RESIZED.
 */
static void env_grow(struct store *s, MDB_env *env, struct store_env_size *z)
{
    MDB_envinfo info;
    MDB_stat st;
    const char *dir = "?";
    size_t used, next;
    int rc;

    if (mdb_env_info(env, &info) || mdb_env_stat(env, &st))
        return;
    used = ((size_t)info.me_last_pgno + 1) * st.ms_psize;
    if ((!z->due && used <= info.me_mapsize / 2) || info.me_mapsize >= z->max ||
        reading(env))
        return;
    next = info.me_mapsize > z->max / 2 ? z->max : 2 * info.me_mapsize;
    rc = mdb_env_set_mapsize(env, next);
    mdb_env_get_path(env, &dir);
    if (rc) {
        log_warn("cannot grow the map of '%s': %s", dir, mdb_strerror(rc));
        return;
    }
    z->due = 0;
    store_map_find(s);
    log_info("grew the map of '%s' to %zu MiB (at most %zu MiB: %s)", dir,
             next >> 20, z->max >> 20, z->key);
}

/*
 * mdb_txn_begin() on env, taking up a map that another process grew
 * (MDB_MAP_RESIZED), and growing ours before a write.
 */
static int txn_begin(struct store *s, MDB_env *env, struct store_env_size *z,
                     unsigned flags, MDB_txn **txn)
{
    int rc;

    if (!(flags & MDB_RDONLY))
        env_grow(s, env, z);
    rc = mdb_txn_begin(env, NULL, flags, txn);
    if (rc == MDB_MAP_RESIZED && !reading(env)) {
        rc = mdb_env_set_mapsize(env, 0);
        if (rc == 0) {
            store_map_find(s);
            rc = mdb_txn_begin(env, NULL, flags, txn);
        }
    }
    return rc;
}

int store_txn_begin(struct store *s, unsigned flags, MDB_txn **txn)
{
    int rc;

    if (s->rdonly && !(flags & MDB_RDONLY))
        return STORE_READONLY;
    rc = txn_begin(s, s->env, &s->msize, flags, txn);
    return rc ? store_map_mdb_rc(rc, "mdb_txn_begin") : STORE_OK;
}

int store_utxn_begin(struct store *s, unsigned flags, MDB_txn **txn)
{
    int rc;

    if (s->rdonly && !(flags & MDB_RDONLY))
        return STORE_READONLY;
    if (!s->uenv)
        return STORE_NOTFOUND; /* STORE_RDONLY, and no sessions there */
    rc = txn_begin(s, s->uenv, &s->usize, flags, txn);
    return rc ? store_map_umdb_rc(rc, "mdb_txn_begin sessions") : STORE_OK;
}

int store_txn_commit(MDB_txn *txn)
{
    int rc = mdb_txn_commit(txn);

    return rc ? store_map_mdb_rc(rc, "mdb_txn_commit") : STORE_OK;
}

long long store_now(const struct store *s)
{
    return s->clock ? s->clock() : (long long)time(NULL);
}

/* Where blob d's file waits in trash/: "<root>/trash/<alg>-<hex>". */
static void trash_path(const struct store *s, const struct digest *d, char *buf,
                       size_t len)
{
    snprintf(buf, len, "%s/trash/%s-%s", s->root, digest_alg_name(d->alg),
             d->hex);
}

int store_trash(struct store *s, const struct digest *d)
{
    char from[PATH_MAX], to[PATH_MAX];
    int rc;

    rc = store_blob_path(s, d, from, sizeof(from), NULL);
    if (rc)
        return rc;
    trash_path(s, d, to, sizeof(to));
    if (rename(from, to)) {
        if (errno == ENOENT)
            return STORE_OK; /* lost in a crash: the record goes alone */
        return store_map_errno(errno, "move to trash", from);
    }
    if (s->nmoved == s->moved_cap) {
        s->moved_cap = s->moved_cap ? 2 * s->moved_cap : 64;
        s->moved = xrealloc(s->moved, s->moved_cap * sizeof(*s->moved));
    }
    s->moved[s->nmoved++] = *d;
    return STORE_OK;
}

/* "<alg>-<hex>" into d. */
static int trash_name(const char *name, struct digest *d)
{
    char str[DIGEST_STR_MAX];
    const char *dash = strchr(name, '-');
    size_t len = strlen(name);

    if (!dash || len >= sizeof(str))
        return -1;
    memcpy(str, name, len + 1);
    str[dash - name] = ':';
    return digest_parse(d, str, len);
}

int store_trash_settle(struct store *s, MDB_txn *txn, const char *name, int dry,
                       int *restored, long long *bytes)
{
    char path[PATH_MAX], blob[PATH_MAX];
    struct blob_rec rec;
    struct digest d;
    struct stat st;
    int rc;

    snprintf(path, sizeof(path), "%s/trash/%s", s->root, name);
    if (trash_name(name, &d) || lstat(path, &st) || !S_ISREG(st.st_mode)) {
        log_warn("'%s' is not a blob file: left alone", path);
        return STORE_NOTFOUND;
    }
    rc = store_blob_path(s, &d, blob, sizeof(blob), NULL);
    if (rc == STORE_OK)
        rc = store_blob_rec(s, txn, &d, &rec);
    if (rc && rc != STORE_NOTFOUND)
        return rc;
    /* a record without its file: the crash came before the commit */
    *restored =
        rc == STORE_OK && !(rec.flags & BLOB_INLINE) && access(blob, F_OK);
    *bytes = *restored ? 0 : (long long)st.st_size;
    if (dry)
        return STORE_OK;
    if (*restored) {
        if (rename(path, blob))
            return store_map_errno(errno, "put back", path);
        log_info("put '%s' back where it was", path);
    } else if (unlink(path) && errno != ENOENT) {
        return store_map_errno(errno, "remove", path);
    }
    return STORE_OK;
}

/*
 * After the transaction: the files it moved to trash/ go for good when it
 * committed, and back where they were when it did not. A crash before
 * this leaves them in trash/ for the GC to settle (store/gc.c).
 */
static void settle_trash(struct store *s, int committed)
{
    char path[PATH_MAX], blob[PATH_MAX];
    size_t i;

    for (i = 0; i < s->nmoved; i++) {
        trash_path(s, &s->moved[i], path, sizeof(path));
        if (committed) {
            if (unlink(path) && errno != ENOENT)
                log_warn("cannot remove '%s': %s", path, strerror(errno));
        } else if (store_blob_path(s, &s->moved[i], blob, sizeof(blob), NULL) ||
                   rename(path, blob)) {
            log_err("cannot put '%s' back: %s", path, strerror(errno));
        }
    }
    s->nmoved = 0;
}

int store_txn_end(struct store *s, MDB_txn *txn, int rc)
{
    int sessions = mdb_txn_env(txn) == s->uenv;
    uint64_t id = mdb_txn_id(txn);
    int committed = 0;

    if (rc == STORE_OK) {
        rc = mdb_txn_commit(txn);
        if (rc)
            rc = sessions ? store_map_umdb_rc(rc, "mdb_txn_commit sessions")
                          : store_map_mdb_rc(rc, "mdb_txn_commit");
        committed = rc == STORE_OK;
    } else {
        mdb_txn_abort(txn);
    }
    settle_trash(s, committed);
    /* the map may be what was full (or the disk: growing costs nothing) */
    if (rc == STORE_FULL)
        (sessions ? &s->usize : &s->msize)->due = 1;
    /* sessions need not survive a power loss (open_sessions) */
    if (committed && !sessions)
        rc = store_durable(s, id);
    return rc;
}

int store_dup_put(MDB_txn *txn, MDB_dbi dbi, const char *repo, const char *from,
                  const char *to, const char *what)
{
    char kbuf[LINK_KEY_MAX];
    MDB_val key, val;
    int rc;

    store_pair_key(kbuf, repo, from, &key);
    store_str_val(to, &val);
    rc = mdb_put(txn, dbi, &key, &val, MDB_NODUPDATA);
    return rc == MDB_KEYEXIST ? STORE_OK : store_map_mdb_rc(rc, what);
}

int store_dup_del(MDB_txn *txn, MDB_dbi dbi, const char *repo, const char *from,
                  const char *to, const char *what)
{
    char kbuf[LINK_KEY_MAX];
    MDB_val key, val;
    int rc;

    store_pair_key(kbuf, repo, from, &key);
    store_str_val(to, &val);
    rc = store_del(txn, dbi, &key, &val, what);
    return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

int store_get(MDB_txn *txn, MDB_dbi dbi, MDB_val *key, MDB_val *val,
              const char *what)
{
    int rc = mdb_get(txn, dbi, key, val);

    return rc == MDB_NOTFOUND ? STORE_NOTFOUND : store_map_mdb_rc(rc, what);
}

int store_del(MDB_txn *txn, MDB_dbi dbi, MDB_val *key, MDB_val *val,
              const char *what)
{
    int rc = mdb_del(txn, dbi, key, val);

    return rc == MDB_NOTFOUND ? STORE_NOTFOUND : store_map_mdb_rc(rc, what);
}

int store_get_link(MDB_txn *txn, MDB_dbi dbi, const char *repo,
                   const struct digest *d, MDB_val *val, const char *what)
{
    char kbuf[LINK_KEY_MAX];
    MDB_val key;

    store_link_key(kbuf, repo, d, &key);
    return store_get(txn, dbi, &key, val, what);
}

void store_link_key(char *buf, const char *repo, const struct digest *d,
                    MDB_val *key)
{
    size_t n = strlen(repo);

    BUG_ON(n > NAME_MAX_LEN);
    memcpy(buf, repo, n + 1); /* the NUL separates repo from digest */
    digest_format(d, buf + n + 1);
    key->mv_data = buf;
    key->mv_size = n + 1 + strlen(buf + n + 1);
}

void store_pair_key(char *buf, const char *repo, const char *str, MDB_val *key)
{
    size_t n = strlen(repo), m = strlen(str);

    BUG_ON(n > NAME_MAX_LEN || m >= DIGEST_STR_MAX);
    memcpy(buf, repo, n + 1);
    memcpy(buf + n + 1, str, m);
    key->mv_data = buf;
    key->mv_size = n + 1 + m;
}

void store_str_val(const char *str, MDB_val *v)
{
    v->mv_data = (void *)str;
    v->mv_size = strlen(str);
}

const char *store_strerror(int rc)
{
    switch (rc) {
    case STORE_OK:
        return "success";
    case STORE_NOTFOUND:
        return "not found";
    case STORE_DIGEST_MISMATCH:
        return "content does not match its digest";
    case STORE_SIZE_MISMATCH:
        return "a descriptor's size does not match its content";
    case STORE_CORRUPT:
        return "stored data is corrupt";
    case STORE_FULL:
        return "storage full";
    case STORE_IO:
        return "storage I/O error";
    case STORE_RANGE:
        return "chunk does not start at the end of the upload";
    case STORE_SHORT:
        return "body length does not match the announced length";
    case STORE_ABORTED:
        return "request body could not be read";
    case STORE_BUSY:
        return "upload is in use by another request";
    case STORE_TOOBIG:
        return "size limit exceeded";
    case STORE_BLOB_MISSING:
        return "a referenced blob is not in the repository";
    case STORE_MANIFEST_MISSING:
        return "a referenced manifest is not in the repository";
    case STORE_VERSION:
        return "the storage format is not this build's";
    case STORE_READONLY:
        return "the store is open read-only";
    case STORE_IN_USE:
        return "a manifest of the repository references it";
    case STORE_LOCKED:
        return "another garbage collection or a backup is running";
    case STORE_OWNER_SESSIONS:
        return "too many upload sessions open for the user";
    case STORE_REPO_SESSIONS:
        return "too many upload sessions open in the repository";
    case STORE_TAG_FIXED:
        return "the tag names another manifest and may not move";
    default:
        return "unknown store error";
    }
}

static int make_dir(const char *path)
{
    struct stat st;

    if (mkdir_p(path, 0755))
        return store_map_errno(errno, "create directory", path);
    if (stat(path, &st) || !S_ISDIR(st.st_mode))
        return store_map_errno(errno ? errno : ENOTDIR, "use directory", path);
    if (access(path, W_OK | X_OK))
        return store_map_errno(errno, "write to directory", path);
    return STORE_OK;
}

/*
 * The format of the root, within txn (the "format" record of the "info"
 * database): a root from before the record has format 1, a root with no
 * databases yet is new and has this build's.
 */
static int read_format(struct store *s, MDB_txn *txn, long long *v)
{
    MDB_dbi dbi;
    int rc;

    rc = mdb_dbi_open(txn, "info", 0, &s->info);
    if (rc == MDB_NOTFOUND) {
        rc = mdb_dbi_open(txn, "blobs", 0, &dbi);
        if (rc && rc != MDB_NOTFOUND)
            return store_map_mdb_rc(rc, "mdb_dbi_open blobs");
        *v = rc == MDB_NOTFOUND ? STORE_FORMAT : 1;
        return STORE_OK;
    }
    if (rc)
        return store_map_mdb_rc(rc, "mdb_dbi_open info");
    rc = store_info_get(s, txn, "format", v);
    if (rc == STORE_NOTFOUND) {
        *v = 1;
        return STORE_OK;
    }
    return rc;
}

/* Whether this build can use a root of format v, opened as s is. */
static int check_format(const struct store *s, long long v)
{
    if (v > STORE_FORMAT) {
        log_err("storage root '%s' has format %lld, newer than this berth's "
                "%u: run the berth release that wrote it, or a later one",
                s->root, v, STORE_FORMAT);
        return STORE_VERSION;
    }
    if (v < STORE_FORMAT && s->rdonly) {
        log_err("storage root '%s' has format %lld, older than this berth's "
                "%u: run 'berthctl upgrade' (or start berth-fcgi) once",
                s->root, v, STORE_FORMAT);
        return STORE_VERSION;
    }
    return STORE_OK;
}

/*
 * Open the databases, within txn, creating them unless read-only, and
 * bring a root of an older format to this build's.
 */
static int open_dbis_in(struct store *s, MDB_txn *txn)
{
    static const struct {
        const char *name;
        size_t off;
        unsigned flags;
    } dbs[] = {
        {"blobs", offsetof(struct store, blobs), 0},
        {"links", offsetof(struct store, links), 0},
        {"repos", offsetof(struct store, repos), 0},
        {"manifests", offsetof(struct store, manifests), 0},
        {"tags", offsetof(struct store, tags), 0},
        {"mtags", offsetof(struct store, mtags), MDB_DUPSORT},
        {"referrers", offsetof(struct store, referrers), MDB_DUPSORT},
        {"catalog", offsetof(struct store, catalog), 0},
        {"inline", offsetof(struct store, inlined), 0},
        {"info", offsetof(struct store, info), 0},
        {"usedby", offsetof(struct store, usedby), MDB_DUPSORT},
        {"usage", offsetof(struct store, usage), 0},
        {"nslinks", offsetof(struct store, nslinks), 0},
    };
    unsigned create = s->rdonly ? 0 : MDB_CREATE;
    long long v;
    size_t i;
    int rc;

    rc = read_format(s, txn, &v);
    if (rc == STORE_OK)
        rc = check_format(s, v);
    if (rc)
        return rc;
    for (i = 0; i < ARRAY_SIZE(dbs); i++) {
        MDB_dbi *dbi = (MDB_dbi *)(void *)((char *)s + dbs[i].off);

        rc = mdb_dbi_open(txn, dbs[i].name, dbs[i].flags | create, dbi);
        if (rc) {
            log_err("cannot open database '%s' in '%s/meta': %s", dbs[i].name,
                    s->root, mdb_strerror(rc));
            return rc == MDB_NOTFOUND ? STORE_CORRUPT
                                      : store_map_mdb_rc(rc, "mdb_dbi_open");
        }
    }
    /* newer than format 3, and needing none: created when missing */
    rc = mdb_dbi_open(txn, "audit", create, &s->audit);
    if (rc == MDB_NOTFOUND && s->rdonly)
        s->audit = 0;
    else if (rc)
        return store_map_mdb_rc(rc, "mdb_dbi_open audit");
    rc = mdb_dbi_open(txn, "pulls", create, &s->pulls);
    if (rc == MDB_NOTFOUND && s->rdonly)
        s->pulls = 0;
    else if (rc)
        return store_map_mdb_rc(rc, "mdb_dbi_open pulls");
    /* the webhooks' state (store/hooks.c), likewise */
    rc = mdb_dbi_open(txn, "hooks", create, &s->hooks);
    if (rc == MDB_NOTFOUND && s->rdonly)
        s->hooks = 0;
    else if (rc)
        return store_map_mdb_rc(rc, "mdb_dbi_open hooks");
    if (s->rdonly)
        return STORE_OK;
    if (v < STORE_FORMAT) {
        rc = store_upgrade(s, txn, v);
        if (rc)
            return rc;
    }
    return store_info_put(s, txn, "format", STORE_FORMAT);
}

static int open_dbis(struct store *s)
{
    MDB_txn *txn;
    int rc;

    rc = store_txn_begin(s, s->rdonly ? MDB_RDONLY : 0, &txn);
    if (rc)
        return rc;
    rc = open_dbis_in(s, txn);
    if (rc) {
        mdb_txn_abort(txn);
        return rc;
    }
    /* a read-only transaction's handles stay open only if it commits */
    rc = store_txn_commit(txn);
    if (rc || !s->uenv)
        return rc;
    rc = store_utxn_begin(s, s->rdonly ? MDB_RDONLY : 0, &txn);
    if (rc)
        return rc;
    rc = mdb_dbi_open(txn, "uploads", s->rdonly ? 0 : MDB_CREATE, &s->uploads);
    /* the counts of open sessions are for writers only */
    if (rc == 0 && !s->rdonly)
        rc = mdb_dbi_open(txn, "ucounts", MDB_CREATE, &s->ucounts);
    if (rc) {
        mdb_txn_abort(txn);
        return store_map_umdb_rc(rc, "mdb_dbi_open uploads");
    }
    return store_txn_end(s, txn, STORE_OK);
}

/* Open the LMDB environment in directory path; *env is ours on failure. */
static int open_env(const char *path, size_t map_size, unsigned flags,
                    MDB_env **env)
{
    int rc, dead;

    rc = mdb_env_create(env);
    if (rc)
        return store_map_mdb_rc(rc, "mdb_env_create");
    /* 16 in use (store_private.h): room for a few more */
    mdb_env_set_maxdbs(*env, 32);
    rc = mdb_env_set_mapsize(*env, map_size);
    if (rc)
        return store_map_mdb_rc(rc, "mdb_env_set_mapsize");
    rc = mdb_env_open(*env, path, flags, 0640);
    if (rc == ENOENT)
        return STORE_NOTFOUND; /* read-only, and none there: caller says */
    if (rc) {
        log_err("cannot open LMDB environment '%s': %s", path,
                mdb_strerror(rc));
        if (rc == MDB_INVALID || rc == MDB_CORRUPTED ||
            rc == MDB_VERSION_MISMATCH)
            return STORE_CORRUPT;
        return STORE_IO;
    }
    /* workers get killed: free the reader slots of dead processes */
    if (mdb_reader_check(*env, &dead) == 0 && dead)
        log_info("cleared %d stale LMDB reader slots in '%s'", dead, path);
    return STORE_OK;
}

/*
 * The sessions environment is never flushed (MDB_NOSYNC): a session's
 * record only ever describes data already fsynced, so a process crash
 * loses nothing, and what a power loss may cost is sessions, which
 * clients then start again. One that cannot be read is started afresh,
 * except by a read-only open, which goes without sessions instead.
 */
static int open_sessions(struct store *s)
{
    char path[PATH_MAX], file[PATH_MAX + 16];
    size_t start = s->usize.max < STORE_SESSIONS_MAP_START
                       ? s->usize.max
                       : STORE_SESSIONS_MAP_START;
    int rc;

    snprintf(path, sizeof(path), "%s/sessions", s->root);
    if (s->rdonly) {
        rc = open_env(path, start, MDB_RDONLY, &s->uenv);
        if (rc) {
            mdb_env_close(s->uenv);
            s->uenv = NULL;
            log_warn("reading '%s' without upload sessions", s->root);
        }
        return STORE_OK;
    }
    rc = make_dir(path);
    if (rc)
        return rc;
    rc = open_env(path, start, MDB_NOSYNC, &s->uenv);
    if (rc != STORE_CORRUPT)
        return rc;
    log_warn("starting the upload sessions in '%s' afresh", path);
    mdb_env_close(s->uenv);
    s->uenv = NULL;
    snprintf(file, sizeof(file), "%s/data.mdb", path);
    unlink(file);
    snprintf(file, sizeof(file), "%s/lock.mdb", path);
    unlink(file);
    return open_env(path, start, MDB_NOSYNC, &s->uenv);
}

static int open_meta(struct store *s, const struct store_options *opt)
{
    char path[PATH_MAX];
    /* the meta page is flushed by store_durable(), outside the write
     * lock, or not at all with STORE_SYNC_DATA (store/durable.c) */
    unsigned flags = s->rdonly ? MDB_RDONLY : MDB_NOMETASYNC;

    snprintf(path, sizeof(path), "%s/meta", s->root);
    return open_env(path, opt->map_size, flags, &s->env);
}

int store_open(const char *root, const struct store_options *opt,
               struct store **out)
{
    static const char *const subdirs[] = {"meta", "blobs", "uploads", "trash"};
    struct store *s;
    char path[PATH_MAX];
    size_t i;
    int rc = STORE_OK;

    if (strlen(root) >= sizeof(s->root) || root[0] != '/') {
        log_err("storage root '%s' must be an absolute path shorter than "
                "%zu bytes",
                root, sizeof(s->root));
        return STORE_IO;
    }
    s = xcalloc(1, sizeof(*s));
    memcpy(s->root, root, strlen(root) + 1);
    s->inline_max = opt->inline_max;
    s->rdonly = !!(opt->flags & STORE_RDONLY);
    s->msize.max =
        opt->map_size_max > opt->map_size ? opt->map_size_max : opt->map_size;
    s->msize.key = "map_size_max";
    s->usize.max = opt->sessions_map_size ? opt->sessions_map_size
                                          : STORE_SESSIONS_MAP_START;
    s->usize.key = "upload_sessions_map_size";
    s->per_owner = opt->sessions_per_owner;
    s->per_repo = opt->sessions_per_repo;
    s->audit_on = opt->audit;
    s->audit_retention = opt->audit_retention;
    s->audit_max = opt->audit_max;
    s->trim.statm = -1;
    s->synced_fd = -1;
    for (i = 0; i < ARRAY_SIZE(subdirs) && !s->rdonly; i++) {
        snprintf(path, sizeof(path), "%s/%s", root, subdirs[i]);
        rc = make_dir(path);
        if (rc)
            goto fail;
    }
    rc = open_meta(s, opt);
    if (rc == STORE_NOTFOUND)
        log_err("no store at '%s'", root);
    if (rc == STORE_OK)
        rc = open_sessions(s);
    if (rc == STORE_OK)
        rc = open_dbis(s);
    if (rc == STORE_OK && !s->rdonly && !(opt->flags & STORE_SYNC_DATA))
        rc = store_durable_open(s);
    if (rc)
        goto fail;
    store_map_find(s);
    store_trim_init(s);
    *out = s;
    return STORE_OK;
fail:
    store_close(s);
    return rc;
}

void store_close(struct store *s)
{
    if (!s)
        return;
    store_durable_close(s);
    if (s->env)
        mdb_env_close(s->env);
    if (s->uenv)
        mdb_env_close(s->uenv);
    store_trim_release(s);
    free(s->moved);
    free(s);
}
