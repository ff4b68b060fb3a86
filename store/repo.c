#include "config.h"

#include <stdint.h>
#include <string.h>

#include "store/store_private.h"
#include "util/log.h"
#include "util/xalloc.h"

/* What a repository holds. */
struct repo_rec {
    uint64_t n[3]; /* indexed by enum repo_count */
};

static int get_rec(struct store *s, MDB_txn *txn, const char *repo,
                   struct repo_rec *out)
{
    MDB_val key, val;
    int rc;

    store_str_val(repo, &key);
    rc = store_get(txn, s->repos, &key, &val, "mdb_get repos");
    if (rc)
        return rc;
    if (val.mv_size != sizeof(*out))
        return store_corrupt("repository record", repo);
    memcpy(out, val.mv_data, val.mv_size);
    return STORE_OK;
}

static int catalog_set(struct store *s, MDB_txn *txn, const char *repo,
                       int listed)
{
    MDB_val key, val = {0, NULL};
    int rc;

    store_str_val(repo, &key);
    if (listed) /* a listed repository keeps its description */
        rc = mdb_put(txn, s->catalog, &key, &val, MDB_NOOVERWRITE);
    else
        rc = mdb_del(txn, s->catalog, &key, NULL);
    if (rc == MDB_NOTFOUND || rc == MDB_KEYEXIST)
        return STORE_OK;
    return store_map_mdb_rc(rc, "mdb_put catalog");
}

int store_catalog_describe(struct store *s, MDB_txn *txn, const char *repo,
                           const char *desc)
{
    MDB_val key, val;

    store_str_val(repo, &key);
    store_str_val(desc, &val);
    return store_map_mdb_rc(mdb_put(txn, s->catalog, &key, &val, 0),
                            "mdb_put catalog");
}

int store_repo_count(struct store *s, MDB_txn *txn, const char *repo,
                     enum repo_count what, int delta)
{
    struct repo_rec rec;
    MDB_val key, val;
    int rc;

    rc = get_rec(s, txn, repo, &rec);
    if (rc == STORE_NOTFOUND)
        memset(&rec, 0, sizeof(rec));
    else if (rc)
        return rc;
    if (delta < 0 && rec.n[what] < (uint64_t)-delta) {
        log_err("repository '%s' counts fewer entries than it drops", repo);
        rec.n[what] = 0;
    } else {
        rec.n[what] += (uint64_t)(int64_t)delta;
    }
    store_str_val(repo, &key);
    if (!rec.n[REPO_LINKS] && !rec.n[REPO_MANIFESTS] && !rec.n[REPO_TAGS]) {
        rc = mdb_del(txn, s->repos, &key, NULL);
        if (rc && rc != MDB_NOTFOUND)
            return store_map_mdb_rc(rc, "mdb_del repos");
        return catalog_set(s, txn, repo, 0);
    }
    val.mv_data = &rec;
    val.mv_size = sizeof(rec);
    rc = mdb_put(txn, s->repos, &key, &val, 0);
    if (rc)
        return store_map_mdb_rc(rc, "mdb_put repos");
    if (delta > 0)
        return catalog_set(s, txn, repo, 1);
    if (what != REPO_LINKS && !rec.n[REPO_MANIFESTS] && !rec.n[REPO_TAGS])
        return catalog_set(s, txn, repo, 0);
    return STORE_OK;
}

int store_repo_info(struct store *s, MDB_txn *txn, const char *repo,
                    struct store_repo_info *out)
{
    struct repo_rec rec;
    MDB_val key, val;
    size_t len = strlen(repo);
    int rc;

    rc = get_rec(s, txn, repo, &rec);
    if (rc)
        return rc;
    BUG_ON(len > NAME_MAX_LEN);
    memcpy(out->name, repo, len + 1);
    out->links = (long long)rec.n[REPO_LINKS];
    out->manifests = (long long)rec.n[REPO_MANIFESTS];
    out->tags = (long long)rec.n[REPO_TAGS];
    store_str_val(repo, &key);
    rc = store_get(txn, s->catalog, &key, &val, "mdb_get catalog");
    if (rc && rc != STORE_NOTFOUND)
        return rc;
    out->listed = rc == STORE_OK;
    return STORE_OK;
}

int store_repo_known(struct store *s, MDB_txn *txn, const char *repo)
{
    struct repo_rec rec;

    return get_rec(s, txn, repo, &rec);
}

int store_catalog_walk(struct store *s, store_catalog_fn *fn, void *ctx)
{
    MDB_cursor *cur;
    MDB_txn *txn;
    MDB_val key, val;
    int rc, stop = 0;

    rc = store_txn_begin(s, MDB_RDONLY, &txn);
    if (rc)
        return rc;
    rc = mdb_cursor_open(txn, s->catalog, &cur);
    if (rc) {
        mdb_txn_abort(txn);
        return store_map_mdb_rc(rc, "mdb_cursor_open catalog");
    }
    for (rc = mdb_cursor_get(cur, &key, &val, MDB_FIRST); rc == 0 && !stop;
         rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT))
        stop = fn(ctx, key.mv_data, key.mv_size, val.mv_data, val.mv_size);
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    if (stop)
        return stop;
    return rc == MDB_NOTFOUND ? STORE_OK
                              : store_map_mdb_rc(rc, "mdb_cursor_get catalog");
}

int store_repo_exists(struct store *s, const char *repo)
{
    MDB_txn *txn;
    int rc;

    rc = store_txn_begin(s, MDB_RDONLY, &txn);
    if (rc)
        return rc;
    rc = store_repo_known(s, txn, repo);
    mdb_txn_abort(txn);
    return rc;
}

int store_each(MDB_txn *txn, MDB_dbi dbi, const char *prefix, size_t plen,
               store_each_fn *fn, void *ctx)
{
    MDB_cursor *cur;
    MDB_val key, val, rest;
    int rc;

    rc = mdb_cursor_open(txn, dbi, &cur);
    if (rc)
        return store_map_mdb_rc(rc, "mdb_cursor_open");
    key.mv_data = (void *)prefix;
    key.mv_size = plen;
    rc = mdb_cursor_get(cur, &key, &val, plen ? MDB_SET_RANGE : MDB_FIRST);
    while (rc == 0 && key.mv_size >= plen &&
           !memcmp(key.mv_data, prefix, plen)) {
        rest.mv_data = (char *)key.mv_data + plen;
        rest.mv_size = key.mv_size - plen;
        rc = fn(ctx, &rest, &val);
        if (rc)
            goto cursor_close; /* a STORE_* code of fn's */
        rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT);
    }
    rc = rc == 0 || rc == MDB_NOTFOUND ? STORE_OK
                                       : store_map_mdb_rc(rc, "mdb_cursor_get");
cursor_close:
    mdb_cursor_close(cur);
    return rc;
}

/*
 * Walk the keys of dbi that start with prefix (plen bytes) and sort after
 * prefix+last, handing the rest of each key to fn, at most n of them;
 * *more says whether another one follows. One cursor positioned with
 * MDB_SET_RANGE, so a page costs the same however many entries precede
 * it.
 */
int store_list_keys(MDB_txn *txn, MDB_dbi dbi, const char *prefix, size_t plen,
                    const char *last, long n, store_list_fn *fn, void *ctx,
                    int *more)
{
    char kbuf[LINK_KEY_MAX];
    MDB_cursor *cur;
    MDB_val key, val;
    size_t llen = last ? strlen(last) : 0;
    long got = 0;
    int rc, next = 0;

    BUG_ON(plen + llen > sizeof(kbuf));
    rc = mdb_cursor_open(txn, dbi, &cur);
    if (rc)
        return store_map_mdb_rc(rc, "mdb_cursor_open");
    memcpy(kbuf, prefix, plen);
    if (llen)
        memcpy(kbuf + plen, last, llen);
    key.mv_data = kbuf;
    key.mv_size = plen + llen;
    if (key.mv_size == 0)
        rc = mdb_cursor_get(cur, &key, &val, MDB_FIRST);
    else
        rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);
    /* "last" itself is not part of the page */
    if (rc == 0 && llen && key.mv_size == plen + llen &&
        !memcmp(key.mv_data, kbuf, plen + llen))
        rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT);
    while (rc == 0) {
        if (key.mv_size < plen || memcmp(key.mv_data, prefix, plen))
            break;
        if (got == n) {
            next = 1;
            break;
        }
        rc = fn(ctx, (const char *)key.mv_data + plen, key.mv_size - plen);
        if (rc < 0)
            goto cursor_close;
        if (rc != STORE_LIST_SKIP)
            got++;
        rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT);
    }
    rc = rc == 0 || rc == MDB_NOTFOUND ? STORE_OK
                                       : store_map_mdb_rc(rc, "mdb_cursor_get");
    if (rc == STORE_OK)
        *more = next;
cursor_close:
    mdb_cursor_close(cur);
    return rc;
}

int store_catalog_list(struct store *s, const char *last, long n,
                       store_list_fn *fn, void *ctx, int *more)
{
    MDB_txn *txn;
    int rc;

    rc = store_txn_begin(s, MDB_RDONLY, &txn);
    if (rc)
        return rc;
    rc = store_list_keys(txn, s->catalog, "", 0, last, n, fn, ctx, more);
    mdb_txn_abort(txn);
    return rc;
}
