#include "config.h"

#include <stdint.h>
#include <string.h>

#include "store/store_private.h"
#include "util/log.h"
#include "util/xalloc.h"

/*
 * Manifests: their records (struct mrec_hdr, store_private.h), the usedby
 * index of what they reference, and the referrers index of their subjects.
 */

static int mrec_parse(const MDB_val *v, struct mrec *r)
{
    const char *p = v->mv_data;

    if (v->mv_size < sizeof(r->h))
        return -1;
    memcpy(&r->h, p, sizeof(r->h));
    if (v->mv_size != sizeof(r->h) + (size_t)r->h.ctype_len + r->h.subject_len +
                          r->h.atype_len + r->h.desc_len + r->h.body_len)
        return -1;
    r->ctype = p + sizeof(r->h);
    r->subject = r->ctype + r->h.ctype_len;
    r->atype = r->subject + r->h.subject_len;
    r->desc = r->atype + r->h.atype_len;
    r->body = r->desc + r->h.desc_len;
    return 0;
}

int store_mrec_get(struct store *s, MDB_txn *txn, const char *repo,
                   const struct digest *d, struct mrec *r)
{
    MDB_val val;
    int rc;

    rc = store_get_link(txn, s->manifests, repo, d, &val, "mdb_get manifests");
    if (rc)
        return rc;
    if (mrec_parse(&val, r))
        return store_corrupt("manifest record in", repo);
    return STORE_OK;
}

int store_mrec_refs(const struct mrec *r, const char *repo, struct manifest *m)
{
    char ctype[MEDIA_TYPE_MAX], why[256];

    memset(m, 0, sizeof(*m));
    if (r->h.ctype_len >= sizeof(ctype))
        return store_corrupt("manifest record in", repo);
    memcpy(ctype, r->ctype, r->h.ctype_len);
    ctype[r->h.ctype_len] = '\0';
    if (manifest_parse(r->body, r->h.body_len, ctype, m, why, sizeof(why))) {
        manifest_release(m);
        memset(m, 0, sizeof(*m));
        log_err("stored manifest in '%s' does not parse: %s", repo, why);
        return STORE_CORRUPT;
    }
    return STORE_OK;
}

int store_usedby(struct store *s, MDB_txn *txn, const char *repo,
                 const struct digest *d, struct digest *user)
{
    char kbuf[LINK_KEY_MAX];
    MDB_val key, val;
    int rc;

    store_link_key(kbuf, repo, d, &key);
    /* the first of the duplicates: mdb_get returns it */
    rc = store_get(txn, s->usedby, &key, &val, "mdb_get usedby");
    if (rc)
        return rc;
    if (user && digest_parse(user, val.mv_data, val.mv_size))
        return store_corrupt("usedby entry in", repo);
    return STORE_OK;
}

/*
 * Add or drop (add 0) the usedby entries of manifest dstr of repo: one for
 * each blob and child manifest m references.
 */
static int usedby_set(struct store *s, MDB_txn *txn, const char *repo,
                      const char *dstr, const struct manifest *m, int add)
{
    char ref[DIGEST_STR_MAX];
    size_t i;
    int rc = STORE_OK;

    for (i = 0; rc == STORE_OK && i < m->nblobs + m->nchildren; i++) {
        if (i < m->nblobs)
            digest_format(&m->blobs[i].digest, ref);
        else
            digest_format(&m->children[i - m->nblobs].digest, ref);
        rc = add ? store_dup_put(txn, s->usedby, repo, ref, dstr,
                                 "mdb_put usedby")
                 : store_dup_del(txn, s->usedby, repo, ref, dstr,
                                 "mdb_del usedby");
        /*
         * A blob nothing uses any more starts its grace now: a client
         * that checked it while the manifest was there may be pushing a
         * manifest that uses it. One a manifest uses needs no ask.
         */
        if (rc == STORE_OK && i < m->nblobs)
            rc = add ? store_link_used(s, txn, repo, &m->blobs[i].digest)
                     : store_link_release(s, txn, repo, &m->blobs[i].digest);
    }
    return rc;
}

static int put_mrec(struct store *s, MDB_txn *txn, const char *repo,
                    const struct store_manifest *mf, int cached)
{
    char kbuf[LINK_KEY_MAX], subject[DIGEST_STR_MAX] = "";
    const struct manifest *m = mf->m;
    const char *atype = mf->referrer ? m->artifact_type : "";
    const char *desc = mf->referrer ? mf->referrer : "";
    struct mrec_hdr h;
    MDB_val key, val;
    char *p;
    int rc;

    if (m->has_subject)
        digest_format(&m->subject, subject);
    memset(&h, 0, sizeof(h));
    if (mf->len > UINT32_MAX || strlen(desc) > UINT32_MAX)
        return STORE_TOOBIG;
    h.body_len = (uint32_t)mf->len;
    h.ctype_len = (uint16_t)strlen(m->media_type);
    h.subject_len = (uint16_t)strlen(subject);
    h.atype_len = (uint16_t)strlen(atype);
    h.desc_len = (uint32_t)strlen(desc);
    h.pushed = (int64_t)store_now(s);
    h.reserved = cached ? MREC_CACHED : 0;

    store_link_key(kbuf, repo, mf->digest, &key);
    val.mv_size = sizeof(h) + h.ctype_len + h.subject_len + h.atype_len +
                  h.desc_len + h.body_len;
    /* reserve the space in the map and write the record there once */
    rc = mdb_put(txn, s->manifests, &key, &val, MDB_RESERVE);
    if (rc)
        return store_map_mdb_rc(rc, "mdb_put manifests");
    p = val.mv_data;
    memcpy(p, &h, sizeof(h));
    p += sizeof(h);
    memcpy(p, m->media_type, h.ctype_len);
    p += h.ctype_len;
    memcpy(p, subject, h.subject_len);
    p += h.subject_len;
    memcpy(p, atype, h.atype_len);
    p += h.atype_len;
    memcpy(p, desc, h.desc_len);
    p += h.desc_len;
    memcpy(p, mf->body, h.body_len);
    return STORE_OK;
}

/* Whether repo holds every blob and manifest that mf refers to. */
static int check_refs(struct store *s, MDB_txn *txn, const char *repo,
                      const struct manifest *m, struct digest *missing)
{
    struct blob_rec rec;
    struct mrec r;
    size_t i;
    int rc;

    for (i = 0; i < m->nblobs; i++) {
        rc = store_linked_rec(s, txn, repo, &m->blobs[i].digest, &rec);
        if (rc == STORE_NOTFOUND)
            rc = STORE_BLOB_MISSING;
        else if (rc == STORE_OK && (long long)rec.size != m->blobs[i].size)
            rc = STORE_SIZE_MISMATCH;
        if (rc) {
            *missing = m->blobs[i].digest;
            return rc;
        }
    }
    for (i = 0; i < m->nchildren; i++) {
        rc = store_mrec_get(s, txn, repo, &m->children[i].digest, &r);
        if (rc == STORE_NOTFOUND)
            rc = STORE_MANIFEST_MISSING;
        else if (rc == STORE_OK && r.h.body_len != m->children[i].size)
            rc = STORE_SIZE_MISMATCH;
        if (rc) {
            *missing = m->children[i].digest;
            return rc;
        }
    }
    return STORE_OK;
}

/*
 * store_manifest_put() within txn; cached: store_manifest_put_cached(),
 * whose references come later, when a client asks for them.
 */
static int manifest_put(struct store *s, MDB_txn *txn, const char *repo,
                        const char *tag, const struct store_manifest *mf,
                        struct digest *missing, int cached)
{
    char dstr[DIGEST_STR_MAX], subject[DIGEST_STR_MAX], old[DIGEST_STR_MAX];
    struct digest prev;
    MDB_val val;
    int rc, existed;

    /* checked in the transaction that stores it: no delete slips between */
    rc = cached ? STORE_OK : check_refs(s, txn, repo, mf->m, missing);
    if (rc)
        return rc;
    if (tag && store_tag_held(s, repo, tag)) {
        struct digest now;

        rc = store_tag_get(s, txn, repo, tag, &now, NULL);
        if (rc == STORE_OK && !digest_equal(&now, mf->digest)) {
            *missing = now;
            return STORE_TAG_FIXED;
        }
        if (rc && rc != STORE_NOTFOUND)
            return rc;
    }
    rc = store_get_link(txn, s->manifests, repo, mf->digest, &val,
                        "mdb_get manifests");
    if (rc && rc != STORE_NOTFOUND)
        return rc;
    existed = rc == STORE_OK;
    digest_format(mf->digest, dstr);
    rc = put_mrec(s, txn, repo, mf, cached);
    if (rc == STORE_OK && !existed)
        rc = store_repo_count(s, txn, repo, REPO_MANIFESTS, +1);
    if (rc == STORE_OK && !existed)
        rc = store_ns_bytes(s, txn, repo, (long long)mf->len);
    /* the same digest is the same content: its references are there */
    if (rc == STORE_OK && !existed)
        rc = usedby_set(s, txn, repo, dstr, mf->m, 1);
    old[0] = '\0';
    if (rc == STORE_OK && tag) {
        rc = store_tag_get(s, txn, repo, tag, &prev, NULL);
        if (rc == STORE_OK && !digest_equal(&prev, mf->digest))
            digest_format(&prev, old); /* a tag move */
        if (rc == STORE_OK || rc == STORE_NOTFOUND)
            rc = store_tag_put(s, txn, repo, tag, dstr);
    }
    if (rc == STORE_OK && tag && mf->m->description[0])
        rc = store_catalog_describe(s, txn, repo, mf->m->description);
    if (rc == STORE_OK)
        rc = store_audit_add(s, txn, cached ? "cache" : "push", repo,
                             tag ? tag : dstr, dstr, old);
    if (rc == STORE_OK && mf->m->has_subject) {
        digest_format(&mf->m->subject, subject);
        rc = store_dup_put(txn, s->referrers, repo, subject, dstr,
                           "mdb_put referrers");
    }
    return rc;
}

int store_manifest_put(struct store *s, const char *repo, const char *tag,
                       const struct store_manifest *mf, struct digest *missing)
{
    MDB_txn *txn;
    int rc = store_txn_begin(s, 0, &txn);

    return rc ? rc
              : store_txn_end(s, txn,
                              manifest_put(s, txn, repo, tag, mf, missing, 0));
}

int store_manifest_put_cached(struct store *s, const char *repo,
                              const char *tag, const struct store_manifest *mf)
{
    struct digest missing;
    MDB_txn *txn;
    int rc = store_txn_begin(s, 0, &txn);

    return rc ? rc
              : store_txn_end(s, txn,
                              manifest_put(s, txn, repo, tag, mf, &missing, 1));
}

/* store_tag_confirm() within txn. */
static int tag_confirm(struct store *s, MDB_txn *txn, const char *repo,
                       const char *tag, const struct digest *d)
{
    char dstr[DIGEST_STR_MAX];
    struct digest now;
    int rc;

    rc = store_tag_get(s, txn, repo, tag, &now, NULL);
    if (rc)
        return rc;
    if (!digest_equal(&now, d))
        return STORE_NOTFOUND; /* moved meanwhile: that one counts */
    digest_format(d, dstr);
    return store_tag_put(s, txn, repo, tag, dstr);
}

int store_tag_confirm(struct store *s, const char *repo, const char *tag,
                      const struct digest *d)
{
    MDB_txn *txn;
    int rc = store_txn_begin(s, 0, &txn);

    return rc ? rc : store_txn_end(s, txn, tag_confirm(s, txn, repo, tag, d));
}

/* store_tag_forget() within txn. */
static int tag_forget(struct store *s, MDB_txn *txn, const char *repo,
                      const char *tag, const struct digest *d)
{
    struct digest now;
    int rc;

    rc = store_tag_get(s, txn, repo, tag, &now, NULL);
    if (rc)
        return rc;
    if (!digest_equal(&now, d))
        return STORE_NOTFOUND; /* fetched again meanwhile: that one counts */
    return store_tag_drop(s, txn, repo, tag);
}

int store_tag_forget(struct store *s, const char *repo, const char *tag,
                     const struct digest *d)
{
    MDB_txn *txn;
    int rc = store_txn_begin(s, 0, &txn);

    return rc ? rc : store_txn_end(s, txn, tag_forget(s, txn, repo, tag, d));
}

int store_manifest_get(struct store *s, const char *repo, const char *tag,
                       const struct digest *d, struct buf *body,
                       struct store_manifest_info *info)
{
    long long tagged = 0;
    struct digest dig;
    struct mrec r;
    MDB_txn *txn;
    int rc;

    rc = store_txn_begin(s, MDB_RDONLY, &txn);
    if (rc)
        return rc;
    if (tag) {
        rc = store_tag_get(s, txn, repo, tag, &dig, &tagged);
        if (rc)
            goto txn_abort;
        d = &dig;
    }
    rc = store_mrec_get(s, txn, repo, d, &r);
    if (rc)
        goto txn_abort;
    if (r.h.ctype_len >= sizeof(info->media_type)) {
        rc = store_corrupt("manifest record in", repo);
        goto txn_abort;
    }
    if (body && r.h.body_len > body->max) {
        rc = STORE_TOOBIG;
        goto txn_abort;
    }
    if (body) {
        buf_reset(body);
        BUG_ON(buf_add(body, r.body, r.h.body_len));
    }
    info->digest = *d;
    info->size = r.h.body_len;
    info->cached = (r.h.reserved & MREC_CACHED) != 0;
    info->tagged = tagged;
    memcpy(info->media_type, r.ctype, r.h.ctype_len);
    info->media_type[r.h.ctype_len] = '\0';
txn_abort:
    mdb_txn_abort(txn);
    return rc;
}

int store_manifest_drop(struct store *s, MDB_txn *txn, const char *repo,
                        const struct digest *d, struct digest *user)
{
    char kbuf[LINK_KEY_MAX], dstr[DIGEST_STR_MAX], subject[DIGEST_STR_MAX];
    struct manifest m;
    struct mrec r;
    MDB_val key;
    int rc;

    rc = store_mrec_get(s, txn, repo, d, &r);
    if (rc)
        return rc; /* a blob's digest too: STORE_NOTFOUND */
    rc = store_usedby(s, txn, repo, d, user);
    if (rc == STORE_OK)
        return STORE_IN_USE; /* an index of repo lists it */
    if (rc != STORE_NOTFOUND)
        return rc;
    if (r.h.subject_len >= sizeof(subject))
        return store_corrupt("manifest record in", repo);
    /* r points into the map: take what outlives the next write */
    memcpy(subject, r.subject, r.h.subject_len);
    subject[r.h.subject_len] = '\0';
    rc = store_mrec_refs(&r, repo, &m);
    if (rc)
        return rc;
    digest_format(d, dstr);
    rc = usedby_set(s, txn, repo, dstr, &m, 0);
    manifest_release(&m);
    store_link_key(kbuf, repo, d, &key);
    if (rc == STORE_OK)
        rc = store_del(txn, s->manifests, &key, NULL, "mdb_del manifests");
    if (rc == STORE_OK && subject[0])
        rc = store_dup_del(txn, s->referrers, repo, subject, dstr,
                           "mdb_del referrers");
    if (rc == STORE_OK)
        rc = store_tags_drop_all(s, txn, repo, dstr);
    if (rc == STORE_OK)
        rc = store_repo_count(s, txn, repo, REPO_MANIFESTS, -1);
    if (rc == STORE_OK)
        rc = store_ns_bytes(s, txn, repo, -(long long)r.h.body_len);
    if (rc == STORE_OK)
        rc = store_audit_add(s, txn, "manifest-delete", repo, dstr, dstr, NULL);
    return rc;
}

int store_manifest_delete(struct store *s, const char *repo,
                          const struct digest *d, struct digest *user)
{
    MDB_txn *txn;
    int rc = store_txn_begin(s, 0, &txn);

    return rc ? rc
              : store_txn_end(s, txn,
                              store_manifest_drop(s, txn, repo, d, user));
}

int store_referrers(struct store *s, const char *repo,
                    const struct digest *subject, const char *artifact_type,
                    store_list_fn *fn, void *ctx)
{
    char kbuf[LINK_KEY_MAX], sstr[DIGEST_STR_MAX];
    struct digest d;
    MDB_cursor *cur;
    MDB_txn *txn;
    MDB_val key, val;
    struct mrec r;
    size_t alen = artifact_type ? strlen(artifact_type) : 0;
    int rc;

    digest_format(subject, sstr);
    store_pair_key(kbuf, repo, sstr, &key);
    rc = store_txn_begin(s, MDB_RDONLY, &txn);
    if (rc)
        return rc;
    rc = mdb_cursor_open(txn, s->referrers, &cur);
    if (rc) {
        rc = store_map_mdb_rc(rc, "mdb_cursor_open referrers");
        goto txn_abort;
    }
    rc = mdb_cursor_get(cur, &key, &val, MDB_SET_KEY);
    while (rc == 0) {
        if (digest_parse(&d, val.mv_data, val.mv_size) ||
            store_mrec_get(s, txn, repo, &d, &r)) {
            log_warn("stale referrer of '%s' in '%s'", sstr, repo);
        } else if (!artifact_type || (r.h.atype_len == alen &&
                                      !memcmp(r.atype, artifact_type, alen))) {
            rc = fn(ctx, r.desc, r.h.desc_len);
            if (rc)
                goto cursor_close;
        }
        rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT_DUP);
    }
    rc = rc == MDB_NOTFOUND ? STORE_OK
                            : store_map_mdb_rc(rc, "mdb_cursor_get referrers");
cursor_close:
    mdb_cursor_close(cur);
txn_abort:
    mdb_txn_abort(txn);
    return rc;
}
