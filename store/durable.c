/*
 * Durable commits, flushed once for many: group commit across processes.
 *
 * The metadata environment is opened MDB_NOMETASYNC: LMDB's commit writes
 * the transaction's pages, flushes them (fdatasync), and then writes the
 * meta page that points to them without flushing it. The order is what
 * keeps the database whole after a power loss: a meta page reaches the
 * disk only after the pages it points to, and a commit's new pages never
 * overwrite a page the last two meta pages point to (LMDB reuses only
 * pages freed by transactions older than the one before it, and commit
 * N+1's flush puts meta page N on disk before N+1 writes anything
 * beyond). What a power loss may cost is the last commit: its meta page
 * was written but not flushed, and the older meta page is used instead.
 *
 * So that an answered write is never that last commit, store_durable()
 * flushes the file once more after the commit, outside LMDB's write
 * lock, unless a flush already covers it: meta/synced holds the highest
 * transaction id known to be on disk, shared by every process through a
 * shared mapping, and its flock(2) elects one flusher at a time. A
 * process that waited for the lock finds, more often than not, that the
 * flush it waited for covered its commit too. And each commit's own
 * flush puts the meta page of the commit before it on disk: a process
 * whose commit another process's commit follows at once waits for that
 * one (on LMDB's write lock) instead of flushing, so under a steady load
 * of writes most commits cost the one flush LMDB makes in them.
 *
 * The mark only ever names a transaction whose meta page was flushed, so
 * after a power loss the environment holds at least what it says. A mark
 * above the environment's last transaction (a restored or recreated
 * environment under an old file) is set back to 0 at open.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store_private.h"
#include "util/log.h"

/* The last transaction committed in s's environment, or 0. */
static uint64_t last_txnid(struct store *s)
{
    MDB_envinfo info;

    if (mdb_env_info(s->env, &info))
        return 0;
    return info.me_last_txnid;
}

/* Raise the shared mark to id, unless it is higher already. */
static void mark_raise(struct store *s, uint64_t id)
{
    uint64_t cur = __atomic_load_n(s->synced, __ATOMIC_ACQUIRE);

    while (cur < id &&
           !__atomic_compare_exchange_n(s->synced, &cur, id, 1,
                                        __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        ;
}

int store_durable_open(struct store *s)
{
    char path[PATH_MAX];
    struct stat st;
    void *p;
    int fd;

    snprintf(path, sizeof(path), "%s/meta/synced", s->root);
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0 || fstat(fd, &st)) {
        log_err("cannot open '%s': %s", path, strerror(errno));
        goto fail;
    }
    /* every process sizes it alike: a race of two ftruncates is harmless */
    if (st.st_size < (off_t)sizeof(uint64_t) &&
        ftruncate(fd, sizeof(uint64_t))) {
        log_err("cannot size '%s': %s", path, strerror(errno));
        goto fail;
    }
    p = mmap(NULL, sizeof(uint64_t), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        log_err("cannot map '%s': %s", path, strerror(errno));
        goto fail;
    }
    s->synced = p;
    s->synced_fd = fd;
    if (__atomic_load_n(s->synced, __ATOMIC_ACQUIRE) > last_txnid(s))
        __atomic_store_n(s->synced, 0, __ATOMIC_RELEASE);
    return STORE_OK;
fail:
    if (fd >= 0)
        close(fd);
    return STORE_IO;
}

void store_durable_close(struct store *s)
{
    if (!s->synced)
        return;
    munmap(s->synced, sizeof(uint64_t));
    close(s->synced_fd);
    s->synced = NULL;
    s->synced_fd = -1;
}

int store_durable(struct store *s, uint64_t id)
{
    MDB_txn *txn;
    uint64_t last;
    int rc;

    if (!s->synced)
        return STORE_OK; /* sync = data: the last commit may be undone */
    /* the flush of the last commit put the meta page before it on disk */
    last = last_txnid(s);
    if (last > 0)
        mark_raise(s, last - 1);
    if (__atomic_load_n(s->synced, __ATOMIC_ACQUIRE) >= id)
        return STORE_OK;
    /*
     * A commit in progress, whoever makes it, flushes our meta page with
     * its own pages: wait for it by taking LMDB's write lock, which is
     * free at once when there is none, and let it go.
     */
    if (mdb_txn_begin(s->env, NULL, 0, &txn) == MDB_SUCCESS)
        mdb_txn_abort(txn);
    last = last_txnid(s);
    if (last > id)
        mark_raise(s, last - 1);
    if (__atomic_load_n(s->synced, __ATOMIC_ACQUIRE) >= id)
        return STORE_OK;
    while (flock(s->synced_fd, LOCK_EX))
        if (errno != EINTR) {
            log_err("cannot lock '%s/meta/synced': %s", s->root,
                    strerror(errno));
            return STORE_IO;
        }
    rc = STORE_OK;
    if (__atomic_load_n(s->synced, __ATOMIC_ACQUIRE) < id) {
        /* everything committed before the flush begins is covered by it */
        last = last_txnid(s);
        rc = mdb_env_sync(s->env, 1);
        if (rc) {
            log_err("cannot flush '%s/meta': %s", s->root, mdb_strerror(rc));
            rc = STORE_IO;
        } else {
            mark_raise(s, last);
        }
    }
    flock(s->synced_fd, LOCK_UN);
    return rc;
}

int store_flush(struct store *s)
{
    int rc;

    if (s->rdonly)
        return STORE_OK;
    rc = mdb_env_sync(s->env, 1);
    if (rc) {
        log_err("cannot flush '%s/meta': %s", s->root, mdb_strerror(rc));
        return STORE_IO;
    }
    return STORE_OK;
}
