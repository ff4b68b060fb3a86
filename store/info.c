#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "store/store_private.h"
#include "util/xalloc.h"

/*
 * The "info" database: small facts about the whole store, each a key
 * whose value is a decimal number, readable with mdb_dump:
 *
 *   format        the layout's format (store/format.c)
 *   maintenance   1 while maintenance mode is on (absent: off)
 *   gc_last       when the last garbage collection ended (store/gc.c)
 */

int store_info_get(struct store *s, MDB_txn *txn, const char *name,
                   long long *out)
{
    MDB_val key, val;
    char num[24];
    long long v;
    char *end;
    int rc;

    store_str_val(name, &key);
    rc = store_get(txn, s->info, &key, &val, "mdb_get info");
    if (rc)
        return rc;
    if (val.mv_size == 0 || val.mv_size >= sizeof(num))
        return store_corrupt("info record", name);
    memcpy(num, val.mv_data, val.mv_size);
    num[val.mv_size] = '\0';
    errno = 0;
    v = strtoll(num, &end, 10);
    if (*end || errno || num[0] < '0' || num[0] > '9')
        return store_corrupt("info record", name);
    *out = v;
    return STORE_OK;
}

int store_info_put(struct store *s, MDB_txn *txn, const char *name, long long v)
{
    MDB_val key, val;
    char num[24];

    BUG_ON(v < 0);
    snprintf(num, sizeof(num), "%lld", v);
    store_str_val(name, &key);
    store_str_val(num, &val);
    return store_map_mdb_rc(mdb_put(txn, s->info, &key, &val, 0),
                            "mdb_put info");
}

int store_info_read(struct store *s, const char *name, long long *out)
{
    long long v = 0;
    MDB_txn *txn;
    int rc;

    rc = store_txn_begin(s, MDB_RDONLY, &txn);
    if (rc)
        return rc;
    rc = store_info_get(s, txn, name, &v);
    mdb_txn_abort(txn);
    if (rc && rc != STORE_NOTFOUND)
        return rc;
    *out = rc == STORE_OK ? v : 0;
    return STORE_OK;
}

int store_maintenance(struct store *s, int *on)
{
    long long v;
    int rc = store_info_read(s, "maintenance", &v);

    if (rc == STORE_OK)
        *on = v != 0; /* no record: off */
    return rc;
}

/* Set or clear the maintenance record, within txn. */
static int maintenance_put(struct store *s, MDB_txn *txn, int on)
{
    MDB_val key;
    int rc;

    /* clients see it: their writes are turned away, or taken again */
    rc = store_audit_add(s, txn, on ? "readonly-on" : "readonly-off", NULL,
                         NULL, NULL, NULL);
    if (rc)
        return rc;
    if (on)
        return store_info_put(s, txn, "maintenance", 1);
    store_str_val("maintenance", &key);
    rc = store_del(txn, s->info, &key, NULL, "mdb_del info");
    return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

int store_set_maintenance(struct store *s, int on)
{
    MDB_txn *txn;
    int rc = store_txn_begin(s, 0, &txn);

    return rc ? rc : store_txn_end(s, txn, maintenance_put(s, txn, on));
}

/*
 * The pages of LMDB's freelist (its database 0), as mdb_stat -f counts
 * them: each record is a list of page numbers that starts with its
 * length. Pages a garbage collection freed are used again by later
 * writes, so they are not counted as used.
 */
static int free_pages(MDB_txn *txn, size_t *out)
{
    MDB_cursor *cur;
    MDB_val key, val;
    size_t n = 0;
    int rc = mdb_cursor_open(txn, 0, &cur);

    if (rc)
        return store_map_mdb_rc(rc, "mdb_cursor_open freelist");
    while ((rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) == 0) {
        size_t len;

        if (val.mv_size < sizeof(len))
            continue;
        memcpy(&len, val.mv_data, sizeof(len)); /* not always aligned */
        n += len;
    }
    mdb_cursor_close(cur);
    if (rc != MDB_NOTFOUND)
        return store_map_mdb_rc(rc, "mdb_cursor_get freelist");
    *out = n;
    return STORE_OK;
}

int store_health(struct store *s, struct store_health *out)
{
    struct store_health h = {0};
    struct statvfs fs;
    MDB_envinfo info;
    MDB_stat st;
    long long v = 0;
    size_t freed = 0, used;
    MDB_txn *txn;
    int rc = store_txn_begin(s, MDB_RDONLY, &txn);

    if (rc)
        return rc;
    rc = store_info_get(s, txn, "maintenance", &v);
    if (rc == STORE_NOTFOUND)
        rc = STORE_OK;
    if (!rc)
        rc = free_pages(txn, &freed);
    if (!rc && (mdb_env_info(s->env, &info) || mdb_env_stat(s->env, &st)))
        rc = store_map_mdb_rc(EINVAL, "mdb_env_info");
    mdb_txn_abort(txn);
    if (rc)
        return rc;
    h.maintenance = v != 0;
    /* the pages the last commit reached, less those free for reuse */
    used = (size_t)info.me_last_pgno + 1;
    h.map_used = (used > freed ? used - freed : 0) * st.ms_psize;
    /* a map made larger than map_size_max before keeps its size */
    h.map_max = info.me_mapsize > s->msize.max ? info.me_mapsize : s->msize.max;
    if (statvfs(s->root, &fs))
        return store_map_errno(errno, "statvfs", s->root);
    h.disk_free = (long long)fs.f_bavail * (long long)fs.f_frsize;
    h.disk_size = (long long)fs.f_blocks * (long long)fs.f_frsize;
    *out = h;
    return STORE_OK;
}
