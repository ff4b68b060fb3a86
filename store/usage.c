#include "config.h"

#include <stdint.h>
#include <string.h>

#include "store/store_private.h"
#include "util/log.h"

/*
 * The bytes each namespace holds, kept by the write transactions that
 * link and unlink blobs and put and drop manifests, so that a quota check
 * reads two records instead of walking a namespace (policy/policy.h).
 *
 * The namespaces of repository "a/b/c" are "a/b/c" itself, "a/b/", "a/"
 * and the whole store. A namespace holds each blob that a repository in
 * it links once, however many of them link it, and the bytes of every
 * manifest record of its repositories (each repository keeps its own).
 * For a repository, a links entry is one blob; for the store, a blobs
 * entry; for "a/" and "a/b/", nslinks counts the repositories under it
 * that link a blob, so that the blob counts from the first link to the
 * last.
 */

/* The "usage" key of namespace ns: the store's is "*", which no name is. */
static void usage_key(const char *ns, size_t len, MDB_val *key)
{
    key->mv_data = len ? (void *)ns : (void *)"*";
    key->mv_size = len ? len : 1;
}

/* Add delta to the bytes of namespace ns[0..len), within txn. */
static int usage_add(struct store *s, MDB_txn *txn, const char *ns, size_t len,
                     long long delta)
{
    MDB_val key, val;
    int64_t v = 0;
    int rc;

    if (!delta)
        return STORE_OK;
    usage_key(ns, len, &key);
    rc = store_get(txn, s->usage, &key, &val, "mdb_get usage");
    if (rc == STORE_OK && val.mv_size != sizeof(v))
        return store_corrupt("usage record of", ns);
    if (rc == STORE_OK)
        memcpy(&v, val.mv_data, sizeof(v));
    else if (rc != STORE_NOTFOUND)
        return rc;
    if (v + delta < 0) {
        log_err("namespace '%.*s' holds fewer bytes than it drops", (int)len,
                ns);
        v = -delta;
    }
    v += delta;
    if (!v)
        rc = store_del(txn, s->usage, &key, NULL, "mdb_del usage");
    else {
        val.mv_data = &v;
        val.mv_size = sizeof(v);
        rc = store_map_mdb_rc(mdb_put(txn, s->usage, &key, &val, 0),
                              "mdb_put usage");
    }
    return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

/* The nslinks key of blob d in namespace ns[0..len) ("a/"), in kbuf. */
static void nslink_key(const char *ns, size_t len, const struct digest *d,
                       char *kbuf, MDB_val *key)
{
    char dstr[DIGEST_STR_MAX];
    size_t dlen;

    digest_format(d, dstr);
    dlen = strlen(dstr);
    memcpy(kbuf, ns, len);
    kbuf[len] = '\0';
    memcpy(kbuf + len + 1, dstr, dlen);
    key->mv_data = kbuf;
    key->mv_size = len + 1 + dlen;
}

/*
 * Count one more (delta 1) or one fewer (-1) repository of namespace
 * ns[0..len) ("a/") linking d; *edge 1 when that was the first or the
 * last.
 */
static int nslink_count(struct store *s, MDB_txn *txn, const char *ns,
                        size_t len, const struct digest *d, int delta,
                        int *edge)
{
    char kbuf[LINK_KEY_MAX], dstr[DIGEST_STR_MAX];
    MDB_val key, val;
    uint64_t n = 0;
    int rc;

    digest_format(d, dstr);
    nslink_key(ns, len, d, kbuf, &key);
    rc = store_get(txn, s->nslinks, &key, &val, "mdb_get nslinks");
    if (rc == STORE_OK && val.mv_size != sizeof(n))
        return store_corrupt("namespace link record of", dstr);
    if (rc == STORE_OK)
        memcpy(&n, val.mv_data, sizeof(n));
    else if (rc != STORE_NOTFOUND)
        return rc;
    if (delta < 0 && !n) {
        log_err("namespace '%.*s' does not count '%s'", (int)len, ns, dstr);
        *edge = 0;
        return STORE_OK;
    }
    n += (uint64_t)(int64_t)delta;
    *edge = delta > 0 ? n == 1 : n == 0;
    if (!n)
        return store_del(txn, s->nslinks, &key, NULL, "mdb_del nslinks");
    val.mv_data = &n;
    val.mv_size = sizeof(n);
    return store_map_mdb_rc(mdb_put(txn, s->nslinks, &key, &val, 0),
                            "mdb_put nslinks");
}

int store_ns_link(struct store *s, MDB_txn *txn, const char *repo,
                  const struct digest *d, long long size, int delta,
                  int store_edge)
{
    long long bytes = delta > 0 ? size : -size;
    const char *slash;
    int rc, edge;

    rc = usage_add(s, txn, repo, strlen(repo), bytes);
    for (slash = strchr(repo, '/'); rc == STORE_OK && slash;
         slash = strchr(slash + 1, '/')) {
        size_t len = (size_t)(slash - repo) + 1;

        rc = nslink_count(s, txn, repo, len, d, delta, &edge);
        if (rc == STORE_OK && edge)
            rc = usage_add(s, txn, repo, len, bytes);
    }
    if (rc == STORE_OK && store_edge)
        rc = usage_add(s, txn, "", 0, bytes);
    return rc;
}

int store_ns_bytes(struct store *s, MDB_txn *txn, const char *repo,
                   long long bytes)
{
    const char *slash;
    int rc;

    rc = usage_add(s, txn, repo, strlen(repo), bytes);
    for (slash = strchr(repo, '/'); rc == STORE_OK && slash;
         slash = strchr(slash + 1, '/'))
        rc = usage_add(s, txn, repo, (size_t)(slash - repo) + 1, bytes);
    return rc == STORE_OK ? usage_add(s, txn, "", 0, bytes) : rc;
}

/* --- counting it all again: an upgrade, a repair --- */

struct rebuild {
    struct store *s;
    MDB_txn *txn;
};

static int rebuild_link(void *ctx, const MDB_val *key, const MDB_val *val)
{
    struct rebuild *b = ctx;
    const char *k = key->mv_data, *nul = memchr(k, '\0', key->mv_size);
    char repo[NAME_MAX_LEN + 1];
    struct blob_rec rec;
    struct digest d;
    int rc;

    (void)val;
    if (!nul || (size_t)(nul - k) > NAME_MAX_LEN ||
        digest_parse(&d, nul + 1, key->mv_size - (size_t)(nul - k) - 1))
        return store_corrupt("link key in", b->s->root);
    memcpy(repo, k, (size_t)(nul - k));
    repo[nul - k] = '\0';
    rc = store_blob_rec(b->s, b->txn, &d, &rec);
    if (rc == STORE_NOTFOUND)
        return STORE_OK; /* dangling: fsck's, and it counts for nothing */
    return rc ? rc
              : store_ns_link(b->s, b->txn, repo, &d, (long long)rec.size, 1,
                              0);
}

static int rebuild_blob(void *ctx, const MDB_val *key, const MDB_val *val)
{
    struct rebuild *b = ctx;
    struct blob_rec rec;

    (void)key;
    if (val->mv_size != sizeof(rec))
        return store_corrupt("blob record in", b->s->root);
    memcpy(&rec, val->mv_data, sizeof(rec));
    return rec.refs ? usage_add(b->s, b->txn, "", 0, (long long)rec.size)
                    : STORE_OK;
}

static int rebuild_manifest(void *ctx, const MDB_val *key, const MDB_val *val)
{
    struct rebuild *b = ctx;
    const char *k = key->mv_data, *nul = memchr(k, '\0', key->mv_size);
    char repo[NAME_MAX_LEN + 1];
    struct mrec_hdr h;

    if (!nul || (size_t)(nul - k) > NAME_MAX_LEN || val->mv_size < sizeof(h))
        return store_corrupt("manifest record in", b->s->root);
    memcpy(repo, k, (size_t)(nul - k));
    repo[nul - k] = '\0';
    memcpy(&h, val->mv_data, sizeof(h));
    return store_ns_bytes(b->s, b->txn, repo, h.body_len);
}

int store_ns_rebuild(struct store *s, MDB_txn *txn)
{
    struct rebuild b = {s, txn};
    int rc;

    rc = mdb_drop(txn, s->nslinks, 0);
    if (rc == 0)
        rc = mdb_drop(txn, s->usage, 0);
    if (rc)
        return store_map_mdb_rc(rc, "mdb_drop usage");
    rc = store_each(txn, s->links, "", 0, rebuild_link, &b);
    if (rc == STORE_OK)
        rc = store_each(txn, s->blobs, "", 0, rebuild_blob, &b);
    if (rc == STORE_OK)
        rc = store_each(txn, s->manifests, "", 0, rebuild_manifest, &b);
    return rc;
}

/* --- reading it --- */

/* The bytes of namespace ns[0..len) in *v (0 when it has no record). */
static int usage_get(struct store *s, MDB_txn *txn, const char *ns, size_t len,
                     int64_t *v)
{
    MDB_val key, val;
    int rc;

    *v = 0;
    usage_key(ns, len, &key);
    rc = store_get(txn, s->usage, &key, &val, "mdb_get usage");
    if (rc == STORE_OK && val.mv_size != sizeof(*v))
        return store_corrupt("usage record of", ns);
    if (rc == STORE_OK)
        memcpy(v, val.mv_data, sizeof(*v));
    return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

int store_ns_usage(struct store *s, const char *ns, const struct digest *d,
                   long long *used, int *holds)
{
    size_t len = strlen(ns);
    char kbuf[LINK_KEY_MAX];
    struct blob_rec rec;
    int64_t v = 0;
    MDB_val key, val;
    MDB_txn *txn;
    int rc, has = 0;

    rc = store_txn_begin(s, MDB_RDONLY, &txn);
    if (rc)
        return rc;
    rc = usage_get(s, txn, ns, len, &v);
    if (rc == STORE_OK && d) {
        if (!len) {
            rc = store_blob_rec(s, txn, d, &rec);
            has = rc == STORE_OK && rec.refs > 0;
        } else if (ns[len - 1] != '/') {
            rc = store_get_link(txn, s->links, ns, d, &val, "mdb_get links");
            has = rc == STORE_OK;
        } else {
            nslink_key(ns, len, d, kbuf, &key);
            rc = store_get(txn, s->nslinks, &key, &val, "mdb_get nslinks");
            has = rc == STORE_OK;
        }
        if (rc == STORE_NOTFOUND)
            rc = STORE_OK;
    }
    mdb_txn_abort(txn);
    if (rc)
        return rc;
    *used = v;
    if (holds)
        *holds = has;
    return STORE_OK;
}

int store_repo_stat(struct store *s, const char *repo,
                    struct store_repo_info *out, long long *bytes)
{
    struct store_repo_info ri;
    int64_t v;
    MDB_txn *txn;
    int rc;

    rc = store_txn_begin(s, MDB_RDONLY, &txn);
    if (rc)
        return rc;
    rc = store_repo_info(s, txn, repo, &ri);
    if (rc == STORE_OK)
        rc = usage_get(s, txn, repo, strlen(repo), &v);
    mdb_txn_abort(txn);
    if (rc)
        return rc;
    *out = ri;
    *bytes = v;
    return STORE_OK;
}

int store_stats(struct store *s, struct store_stats *out)
{
    MDB_stat bst, mst, est;
    MDB_envinfo info;
    MDB_txn *txn;
    long long bytes = 0;
    int rc;

    rc = store_ns_usage(s, "", NULL, &bytes, NULL);
    if (rc)
        return rc;
    rc = store_txn_begin(s, MDB_RDONLY, &txn);
    if (rc)
        return rc;
    rc = mdb_stat(txn, s->blobs, &bst);
    if (!rc)
        rc = mdb_stat(txn, s->manifests, &mst);
    mdb_txn_abort(txn);
    if (!rc)
        rc = mdb_env_info(s->env, &info);
    if (!rc)
        rc = mdb_env_stat(s->env, &est);
    if (rc)
        return store_map_mdb_rc(rc, "mdb_stat");
    out->blobs = (long long)bst.ms_entries;
    out->manifests = (long long)mst.ms_entries;
    out->bytes = bytes;
    out->map_used = ((long long)info.me_last_pgno + 1) * est.ms_psize;
    out->map_size = (long long)info.me_mapsize;
    return STORE_OK;
}
