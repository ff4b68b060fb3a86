#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store_private.h"
#include "util/fsutil.h"
#include "util/log.h"
#include "util/xalloc.h"

int store_map_mdb_rc(int rc, const char *what)
{
    switch (rc) {
    case MDB_SUCCESS:
        return STORE_OK;
    case MDB_NOTFOUND:
        return STORE_NOTFOUND;
    case MDB_KEYEXIST:
        return STORE_EXISTS;
    case MDB_MAP_FULL:
        log_err("%s: %s (raise map_size in the config)", what,
                mdb_strerror(rc));
        return STORE_FULL;
    case ENOSPC:
        log_err("%s: %s", what, mdb_strerror(rc));
        return STORE_FULL;
    default:
        log_err("%s: %s", what, mdb_strerror(rc));
        return STORE_IO;
    }
}

int store_map_errno(int err, const char *what, const char *path)
{
    log_err("cannot %s '%s': %s", what, path, strerror(err));
    return err == ENOSPC || err == EDQUOT || err == EFBIG ? STORE_FULL
                                                          : STORE_IO;
}

int store_txn_begin(struct store *s, unsigned flags, MDB_txn **txn)
{
    int rc = mdb_txn_begin(s->env, NULL, flags, txn);

    return rc ? store_map_mdb_rc(rc, "mdb_txn_begin") : STORE_OK;
}

int store_utxn_begin(struct store *s, unsigned flags, MDB_txn **txn)
{
    int rc = mdb_txn_begin(s->uenv, NULL, flags, txn);

    return rc ? store_map_mdb_rc(rc, "mdb_txn_begin sessions") : STORE_OK;
}

int store_txn_commit(MDB_txn *txn)
{
    int rc = mdb_txn_commit(txn);

    return rc ? store_map_mdb_rc(rc, "mdb_txn_commit") : STORE_OK;
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
    case STORE_EXISTS:
        return "already exists";
    case STORE_INVALID:
        return "content does not match its digest";
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

static int open_dbis(struct store *s)
{
    MDB_txn *txn;
    int rc;

    rc = store_txn_begin(s, 0, &txn);
    if (rc)
        return rc;
    if ((rc = mdb_dbi_open(txn, "blobs", MDB_CREATE, &s->blobs)) ||
        (rc = mdb_dbi_open(txn, "links", MDB_CREATE, &s->links)) ||
        (rc = mdb_dbi_open(txn, "repos", MDB_CREATE, &s->repos)) ||
        (rc = mdb_dbi_open(txn, "manifests", MDB_CREATE, &s->manifests)) ||
        (rc = mdb_dbi_open(txn, "tags", MDB_CREATE, &s->tags)) ||
        (rc =
             mdb_dbi_open(txn, "mtags", MDB_CREATE | MDB_DUPSORT, &s->mtags)) ||
        (rc = mdb_dbi_open(txn, "referrers", MDB_CREATE | MDB_DUPSORT,
                           &s->referrers)) ||
        (rc = mdb_dbi_open(txn, "catalog", MDB_CREATE, &s->catalog)) ||
        (rc = mdb_dbi_open(txn, "inline", MDB_CREATE, &s->inlined))) {
        mdb_txn_abort(txn);
        return store_map_mdb_rc(rc, "mdb_dbi_open");
    }
    rc = store_txn_commit(txn);
    if (rc)
        return rc;
    rc = store_utxn_begin(s, 0, &txn);
    if (rc)
        return rc;
    rc = mdb_dbi_open(txn, "uploads", MDB_CREATE, &s->uploads);
    if (rc) {
        mdb_txn_abort(txn);
        return store_map_mdb_rc(rc, "mdb_dbi_open uploads");
    }
    return store_txn_commit(txn);
}

/* Open the LMDB environment in directory path; *env is ours on failure. */
static int open_env(const char *path, size_t map_size, unsigned flags,
                    MDB_env **env)
{
    int rc, dead;

    rc = mdb_env_create(env);
    if (rc)
        return store_map_mdb_rc(rc, "mdb_env_create");
    mdb_env_set_maxdbs(*env, 16);
    rc = mdb_env_set_mapsize(*env, map_size);
    if (rc)
        return store_map_mdb_rc(rc, "mdb_env_set_mapsize");
    rc = mdb_env_open(*env, path, flags, 0640);
    if (rc) {
        log_err("cannot open LMDB environment '%s': %s", path,
                mdb_strerror(rc));
        return rc == MDB_INVALID || rc == MDB_CORRUPTED ||
                       rc == MDB_VERSION_MISMATCH
                   ? STORE_INVALID
                   : STORE_IO;
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
 * clients then start again. One that cannot be read is started afresh.
 */
static int open_sessions(struct store *s)
{
    char path[PATH_MAX], file[PATH_MAX + 16];
    int rc;

    snprintf(path, sizeof(path), "%s/sessions", s->root);
    rc = make_dir(path);
    if (rc)
        return rc;
    rc = open_env(path, SESSIONS_MAP_SIZE, MDB_NOSYNC, &s->uenv);
    if (rc != STORE_INVALID)
        return rc;
    log_warn("starting the upload sessions in '%s' afresh", path);
    mdb_env_close(s->uenv);
    s->uenv = NULL;
    snprintf(file, sizeof(file), "%s/data.mdb", path);
    unlink(file);
    snprintf(file, sizeof(file), "%s/lock.mdb", path);
    unlink(file);
    return open_env(path, SESSIONS_MAP_SIZE, MDB_NOSYNC, &s->uenv);
}

/*
 * Where LMDB mapped the data file of env: mdb_env_info() tells only of
 * a fixed map, so ask the kernel which mapping is that file.
 */
static void find_map(MDB_env *env, struct store_map *m)
{
    char line[PATH_MAX + 128], file[PATH_MAX];
    const char *dir;
    unsigned long lo, hi;
    size_t n;
    FILE *f;

    m->addr = NULL;
    m->len = 0;
    if (mdb_env_get_path(env, &dir))
        return;
    snprintf(file, sizeof(file), "%s/data.mdb", dir);
    n = strlen(file);
    f = fopen("/proc/self/maps", "r");
    if (!f)
        return;
    while (fgets(line, sizeof(line), f)) {
        size_t len = strcspn(line, "\n");

        line[len] = '\0';
        if (len < n || strcmp(line + len - n, file) ||
            sscanf(line, "%lx-%lx", &lo, &hi) != 2)
            continue;
        m->addr = (void *)lo;
        m->len = hi - lo;
        break;
    }
    fclose(f);
}

int store_open(const char *root, const struct store_options *opt,
               struct store **out)
{
    static const char *const subdirs[] = {"meta", "blobs", "uploads"};
    struct store *s;
    char path[PATH_MAX];
    size_t i;
    int rc;

    if (strlen(root) >= sizeof(s->root) || root[0] != '/') {
        log_err("storage root '%s' must be an absolute path shorter than "
                "%zu bytes",
                root, sizeof(s->root));
        return STORE_IO;
    }
    s = xcalloc(1, sizeof(*s));
    memcpy(s->root, root, strlen(root) + 1);
    s->inline_max = opt->inline_max;
    for (i = 0; i < ARRAY_SIZE(subdirs); i++) {
        snprintf(path, sizeof(path), "%s/%s", root, subdirs[i]);
        rc = make_dir(path);
        if (rc)
            goto fail;
    }
    snprintf(path, sizeof(path), "%s/meta", root);
    rc = open_env(path, opt->map_size,
                  opt->flags & STORE_SYNC_DATA ? MDB_NOMETASYNC : 0, &s->env);
    if (rc) {
        rc = STORE_IO;
        goto fail;
    }
    rc = open_sessions(s);
    if (rc) {
        rc = STORE_IO;
        goto fail;
    }
    rc = open_dbis(s);
    if (rc)
        goto fail;
    find_map(s->env, &s->map);
    find_map(s->uenv, &s->umap);
    *out = s;
    return STORE_OK;
fail:
    store_close(s);
    return rc;
}

void store_release_pages(struct store *s)
{
    if (s->map.addr)
        madvise(s->map.addr, s->map.len, MADV_DONTNEED);
    if (s->umap.addr)
        madvise(s->umap.addr, s->umap.len, MADV_DONTNEED);
}

void store_close(struct store *s)
{
    if (!s)
        return;
    if (s->env)
        mdb_env_close(s->env);
    if (s->uenv)
        mdb_env_close(s->uenv);
    free(s);
}
