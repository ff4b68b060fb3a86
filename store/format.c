#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "store/store_private.h"
#include "util/log.h"
#include "util/xalloc.h"

/*
 * Upgrades of the storage root's layout, one step per format, run by the
 * first read-write open of an older root inside the transaction that
 * opens the databases (store.c), so that a root is either upgraded whole
 * or not at all, and every other process waits for it on the writer lock.
 * The transaction needs free map space of about the size of what it
 * rewrites.
 *
 * Format 1 to 2: links gain the time they were made (struct link_rec),
 * tags the time they were set (struct tag_rec), manifest records the time
 * they were pushed (struct mrec_hdr), and the usedby index is built from
 * the manifests. What format 1 did not record is taken as the time of the
 * upgrade, which starts every grace period afresh.
 */

/*
 * Call fn for every key of dbi, each with its current value. The keys are
 * collected first: writing a value of another size while a cursor walks
 * the database would move it under the cursor.
 */
static int each_entry(MDB_txn *txn, MDB_dbi dbi, const char *what,
                      int (*fn)(struct store *, MDB_txn *, MDB_val *, MDB_val *,
                                int64_t),
                      struct store *s, int64_t now)
{
    MDB_cursor *cur;
    MDB_val key, val;
    char **keys = NULL;
    size_t *lens = NULL, n = 0, cap = 0, i;
    int rc;

    rc = mdb_cursor_open(txn, dbi, &cur);
    if (rc)
        return store_map_mdb_rc(rc, what);
    for (rc = mdb_cursor_get(cur, &key, &val, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
        if (n == cap) {
            cap = cap ? 2 * cap : 256;
            keys = xrealloc(keys, cap * sizeof(*keys));
            lens = xrealloc(lens, cap * sizeof(*lens));
        }
        keys[n] = xmalloc(key.mv_size);
        memcpy(keys[n], key.mv_data, key.mv_size);
        lens[n++] = key.mv_size;
    }
    mdb_cursor_close(cur);
    rc = rc == MDB_NOTFOUND ? STORE_OK : store_map_mdb_rc(rc, what);
    for (i = 0; rc == STORE_OK && i < n; i++) {
        key.mv_data = keys[i];
        key.mv_size = lens[i];
        rc = store_get(txn, dbi, &key, &val, what);
        if (rc == STORE_OK)
            rc = fn(s, txn, &key, &val, now);
    }
    for (i = 0; i < n; i++)
        free(keys[i]);
    free(keys);
    free(lens);
    return rc;
}

/*
 * A links entry: the empty value becomes a link_rec, released now (not
 * asked: usedby, built below, says what holds it).
 */
static int link_v2(struct store *s, MDB_txn *txn, MDB_val *key, MDB_val *val,
                   int64_t now)
{
    struct link_rec rec = {0, now};

    if (val->mv_size != 0)
        return store_corrupt("format 1 link in", s->root);
    val->mv_data = &rec;
    val->mv_size = sizeof(rec);
    return store_map_mdb_rc(mdb_put(txn, s->links, key, val, 0),
                            "upgrade links");
}

/* A tags entry: "<d>" becomes a tag_rec and "<d>". */
static int tag_v2(struct store *s, MDB_txn *txn, MDB_val *key, MDB_val *val,
                  int64_t now)
{
    char buf[sizeof(struct tag_rec) + DIGEST_STR_MAX];
    struct tag_rec rec = {now};

    if (val->mv_size == 0 || val->mv_size >= DIGEST_STR_MAX)
        return store_corrupt("format 1 tag in", s->root);
    memcpy(buf, &rec, sizeof(rec));
    memcpy(buf + sizeof(rec), val->mv_data, val->mv_size);
    val->mv_size += sizeof(rec);
    val->mv_data = buf;
    return store_map_mdb_rc(mdb_put(txn, s->tags, key, val, 0), "upgrade tags");
}

/*
 * The usedby entries of manifest dstr of repo, whose format 2 record is r:
 * its blobs and children.
 */
static int usedby_add(struct store *s, MDB_txn *txn, const char *repo,
                      const char *dstr, const struct mrec *r)
{
    char ref[DIGEST_STR_MAX];
    struct manifest m;
    size_t i;
    int rc;

    rc = store_mrec_refs(r, repo, &m);
    for (i = 0; rc == STORE_OK && i < m.nblobs + m.nchildren; i++) {
        if (i < m.nblobs)
            digest_format(&m.blobs[i].digest, ref);
        else
            digest_format(&m.children[i - m.nblobs].digest, ref);
        rc = store_dup_put(txn, s->usedby, repo, ref, dstr, "upgrade usedby");
    }
    if (rc != STORE_CORRUPT)
        manifest_release(&m);
    return rc;
}

/*
 * One manifest record: the header grows by the pushed field, and what the
 * manifest references goes into usedby. The record is rebuilt in memory,
 * since the new one is longer than the old.
 */
static int manifest_v2(struct store *s, MDB_txn *txn, MDB_val *key,
                       MDB_val *old, int64_t now)
{
    char repo[NAME_MAX_LEN + 1], dstr[DIGEST_STR_MAX];
    size_t rlen = strnlen(key->mv_data, key->mv_size), rest;
    struct mrec_hdr h;
    struct mrec r;
    MDB_val val;
    char *rec;
    int rc;

    if (old->mv_size < MREC_HDR_V1 || rlen > NAME_MAX_LEN ||
        key->mv_size - rlen - 1 >= DIGEST_STR_MAX)
        return store_corrupt("format 1 manifest record in", s->root);
    memcpy(repo, key->mv_data, rlen);
    repo[rlen] = '\0';
    memcpy(dstr, (char *)key->mv_data + rlen + 1, key->mv_size - rlen - 1);
    dstr[key->mv_size - rlen - 1] = '\0';
    memset(&h, 0, sizeof(h));
    memcpy(&h, old->mv_data, MREC_HDR_V1);
    h.pushed = now;
    rest = old->mv_size - MREC_HDR_V1;
    rec = xmalloc(sizeof(h) + rest);
    memcpy(rec, &h, sizeof(h));
    memcpy(rec + sizeof(h), (const char *)old->mv_data + MREC_HDR_V1, rest);
    val.mv_data = rec;
    val.mv_size = sizeof(h) + rest;
    rc = store_map_mdb_rc(mdb_put(txn, s->manifests, key, &val, 0),
                          "upgrade manifests");
    if (rc == STORE_OK) {
        /* parse the record as it is now: the old one was overwritten */
        struct digest d;

        rc = digest_parse(&d, dstr, strlen(dstr))
                 ? store_corrupt("manifest key in", repo)
                 : store_mrec_get(s, txn, repo, &d, &r);
    }
    if (rc == STORE_OK)
        rc = usedby_add(s, txn, repo, dstr, &r);
    free(rec);
    return rc;
}

int store_upgrade(struct store *s, MDB_txn *txn, long long from)
{
    int64_t now = (int64_t)store_now(s);
    int rc = STORE_OK;

    if (from == 1) {
        log_info("upgrading the storage root '%s' from format 1 to 2", s->root);
        rc = each_entry(txn, s->links, "upgrade links", link_v2, s, now);
        if (rc == STORE_OK)
            rc = each_entry(txn, s->tags, "upgrade tags", tag_v2, s, now);
        if (rc == STORE_OK)
            rc = each_entry(txn, s->manifests, "upgrade manifests", manifest_v2,
                            s, now);
        from = 2;
    }
    if (rc == STORE_OK && from == 2) {
        log_info("upgrading the storage root '%s' from format 2 to 3: "
                 "counting the bytes of each namespace",
                 s->root);
        rc = store_ns_rebuild(s, txn);
        from = 3;
    }
    BUG_ON(rc == STORE_OK && from != STORE_FORMAT);
    return rc;
}
