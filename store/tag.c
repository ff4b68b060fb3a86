#include "config.h"

#include <stdint.h>
#include <string.h>

#include "store/store_private.h"
#include "util/log.h"
#include "util/xalloc.h"

/*
 * Tags: "tags" maps "<repo>\0<tag>" to a struct tag_rec and the digest of
 * the manifest, "mtags" the other way, so that deleting a manifest finds
 * its tags.
 */

int store_tag_get(struct store *s, MDB_txn *txn, const char *repo,
                  const char *tag, struct digest *out, long long *pushed)
{
    char kbuf[LINK_KEY_MAX];
    struct tag_rec rec;
    MDB_val key, val;
    int rc;

    store_pair_key(kbuf, repo, tag, &key);
    rc = store_get(txn, s->tags, &key, &val, "mdb_get tags");
    if (rc)
        return rc;
    /* val dies with txn: digest_parse() copies */
    if (val.mv_size <= sizeof(rec) ||
        digest_parse(out, (const char *)val.mv_data + sizeof(rec),
                     val.mv_size - sizeof(rec)))
        return store_corrupt("tag record of", repo);
    memcpy(&rec, val.mv_data, sizeof(rec));
    if (pushed)
        *pushed = rec.pushed;
    return STORE_OK;
}

void store_set_tag_guard(struct store *s, store_tag_fixed_fn *fn, void *ctx)
{
    s->tag_fixed = fn;
    s->tag_fixed_ctx = ctx;
}

int store_tag_held(struct store *s, const char *repo, const char *tag)
{
    return s->tag_fixed && s->tag_fixed(s->tag_fixed_ctx, repo, tag);
}

int store_tag_put(struct store *s, MDB_txn *txn, const char *repo,
                  const char *tag, const char *dstr)
{
    char kbuf[LINK_KEY_MAX], old[DIGEST_STR_MAX];
    char rec[sizeof(struct tag_rec) + DIGEST_STR_MAX];
    struct tag_rec tr = {(int64_t)store_now(s)};
    struct digest prev;
    size_t dlen = strlen(dstr);
    MDB_val key, val;
    int rc, existed;

    rc = store_tag_get(s, txn, repo, tag, &prev, NULL);
    if (rc && rc != STORE_NOTFOUND)
        return rc;
    existed = rc == STORE_OK;
    if (existed) {
        digest_format(&prev, old);
        if (strcmp(old, dstr) && store_tag_held(s, repo, tag))
            return STORE_TAG_FIXED;
        if (strcmp(old, dstr)) {
            rc = store_dup_del(txn, s->mtags, repo, old, tag, "mdb_del mtags");
            if (rc)
                return rc;
        }
    }
    /* pushed again, to the same manifest or not: the tag's time moves */
    BUG_ON(dlen >= DIGEST_STR_MAX);
    memcpy(rec, &tr, sizeof(tr));
    memcpy(rec + sizeof(tr), dstr, dlen);
    store_pair_key(kbuf, repo, tag, &key);
    val.mv_data = rec;
    val.mv_size = sizeof(tr) + dlen;
    rc = store_map_mdb_rc(mdb_put(txn, s->tags, &key, &val, 0), "mdb_put tags");
    if (rc == STORE_OK)
        rc = store_dup_put(txn, s->mtags, repo, dstr, tag, "mdb_put mtags");
    if (rc || existed)
        return rc;
    return store_repo_count(s, txn, repo, REPO_TAGS, +1);
}

int store_tag_drop(struct store *s, MDB_txn *txn, const char *repo,
                   const char *tag)
{
    char kbuf[LINK_KEY_MAX], dstr[DIGEST_STR_MAX];
    struct digest d;
    MDB_val key;
    int rc;

    rc = store_tag_get(s, txn, repo, tag, &d, NULL);
    if (rc)
        return rc;
    if (store_tag_held(s, repo, tag))
        return STORE_TAG_FIXED;
    digest_format(&d, dstr);
    store_pair_key(kbuf, repo, tag, &key);
    rc = store_del(txn, s->tags, &key, NULL, "mdb_del tags");
    if (rc == STORE_OK)
        rc = store_dup_del(txn, s->mtags, repo, dstr, tag, "mdb_del mtags");
    if (rc == STORE_OK)
        rc = store_repo_count(s, txn, repo, REPO_TAGS, -1);
    if (rc == STORE_OK)
        rc = store_audit_add(s, txn, "tag-delete", repo, tag, dstr, NULL);
    return rc;
}

int store_tags_drop_all(struct store *s, MDB_txn *txn, const char *repo,
                        const char *dstr)
{
    char kbuf[LINK_KEY_MAX], tkey[LINK_KEY_MAX], tag[TAG_MAX_LEN + 1];
    MDB_cursor *cur;
    MDB_val key, val, tk;
    int rc, n = 0;

    store_pair_key(kbuf, repo, dstr, &key);
    rc = mdb_cursor_open(txn, s->mtags, &cur);
    if (rc)
        return store_map_mdb_rc(rc, "mdb_cursor_open mtags");
    rc = mdb_cursor_get(cur, &key, &val, MDB_SET_KEY);
    while (rc == 0) {
        if (val.mv_size > TAG_MAX_LEN) {
            rc = store_corrupt("tag index of", repo);
            goto cursor_close;
        }
        memcpy(tag, val.mv_data, val.mv_size);
        tag[val.mv_size] = '\0';
        if (store_tag_held(s, repo, tag)) {
            rc = STORE_TAG_FIXED;
            goto cursor_close;
        }
        store_pair_key(tkey, repo, tag, &tk);
        rc = store_del(txn, s->tags, &tk, NULL, "mdb_del tags");
        if (rc && rc != STORE_NOTFOUND)
            goto cursor_close;
        if (rc == STORE_OK)
            rc = store_audit_add(s, txn, "tag-delete", repo, tag, dstr, NULL);
        if (rc)
            goto cursor_close;
        n++;
        rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT_DUP);
    }
    if (rc != MDB_NOTFOUND) {
        rc = store_map_mdb_rc(rc, "mdb_cursor_get mtags");
        goto cursor_close;
    }
    rc = STORE_OK;
    if (n)
        rc = store_del(txn, s->mtags, &key, NULL, "mdb_del mtags");
    while (rc == STORE_OK && n--)
        rc = store_repo_count(s, txn, repo, REPO_TAGS, -1);
cursor_close:
    mdb_cursor_close(cur);
    return rc;
}

int store_tag_delete(struct store *s, const char *repo, const char *tag)
{
    MDB_txn *txn;
    int rc = store_txn_begin(s, 0, &txn);

    return rc ? rc : store_txn_end(s, txn, store_tag_drop(s, txn, repo, tag));
}

/*
 * Whether the catalog lists repo: a repository whose last manifest and
 * tag went is unknown to the tags list too, whatever blobs it still links.
 */
static int listed(struct store *s, MDB_txn *txn, const char *repo)
{
    MDB_val key, val;

    store_str_val(repo, &key);
    return store_get(txn, s->catalog, &key, &val, "mdb_get catalog");
}

int store_tags_list(struct store *s, const char *repo, const char *last, long n,
                    store_list_fn *fn, void *ctx, int *more)
{
    char prefix[NAME_MAX_LEN + 1];
    size_t plen = strlen(repo) + 1;
    MDB_txn *txn;
    int rc;

    BUG_ON(plen > sizeof(prefix));
    memcpy(prefix, repo, plen); /* with the NUL that ends the repo part */
    rc = store_txn_begin(s, MDB_RDONLY, &txn);
    if (rc)
        return rc;
    rc = listed(s, txn, repo);
    if (rc == STORE_OK)
        rc =
            store_list_keys(txn, s->tags, prefix, plen, last, n, fn, ctx, more);
    mdb_txn_abort(txn);
    return rc;
}
