#include "config.h"

#include <stdint.h>
#include <string.h>

#include "store/store_private.h"
#include "util/log.h"
#include "util/xalloc.h"

/*
 * A manifest record ("manifests" database) is a header and five byte
 * strings, in this order:
 *
 *   struct mrec_hdr
 *   media type      what GET answers as Content-Type
 *   subject         "<alg>:<hex>" of the subject, or empty
 *   artifact type   for ?artifactType= filters of the referrers API
 *   descriptor      its entry in referrers lists (JSON), or empty
 *   body            the client's bytes
 *
 * Everything a GET, a referrers listing or a delete needs is in the
 * record, so none of them parses a manifest.
 */
struct mrec_hdr {
    uint32_t body_len;
    uint16_t ctype_len;
    uint16_t subject_len;
    uint16_t atype_len;
    uint16_t reserved;
    uint32_t desc_len;
};

struct mrec {
    const char *ctype, *subject, *atype, *desc, *body;
    struct mrec_hdr h;
};

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

static int get_mrec(struct store *s, MDB_txn *txn, const char *repo,
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

static int put_mrec(struct store *s, MDB_txn *txn, const char *repo,
                    const struct store_manifest *mf)
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
        rc = get_mrec(s, txn, repo, &m->children[i].digest, &r);
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
 * Add or drop the entry "repo, from" -> to of dbi, a table with sorted
 * duplicates (mtags: digest -> tag; referrers: subject -> referrer).
 * Adding one that is there or dropping one that is not is no change.
 */
static int pair_link(MDB_txn *txn, MDB_dbi dbi, const char *repo,
                     const char *from, const char *to, int add,
                     const char *what)
{
    char kbuf[LINK_KEY_MAX];
    MDB_val key, val;
    int rc;

    store_pair_key(kbuf, repo, from, &key);
    store_str_val(to, &val);
    if (add) {
        rc = mdb_put(txn, dbi, &key, &val, MDB_NODUPDATA);
        if (rc == MDB_KEYEXIST)
            rc = 0;
    } else {
        rc = mdb_del(txn, dbi, &key, &val);
        if (rc == MDB_NOTFOUND)
            rc = 0;
    }
    return store_map_mdb_rc(rc, what);
}

/* Add or drop the "mtags" entry d -> tag. */
static int mtag(struct store *s, MDB_txn *txn, const char *repo,
                const char *dstr, const char *tag, int add)
{
    return pair_link(txn, s->mtags, repo, dstr, tag, add, "mtags");
}

/* Point tag of repo at dstr. */
static int tag_put(struct store *s, MDB_txn *txn, const char *repo,
                   const char *tag, const char *dstr)
{
    char kbuf[LINK_KEY_MAX], old[DIGEST_STR_MAX];
    MDB_val key, val;
    int rc, existed = 0;

    store_pair_key(kbuf, repo, tag, &key);
    rc = mdb_get(txn, s->tags, &key, &val);
    if (rc == 0) {
        if (val.mv_size >= sizeof(old))
            return store_corrupt("tag record of", repo);
        memcpy(old, val.mv_data, val.mv_size);
        old[val.mv_size] = '\0';
        if (!strcmp(old, dstr))
            return STORE_OK;
        existed = 1;
        rc = mtag(s, txn, repo, old, tag, 0);
        if (rc)
            return rc;
    } else if (rc != MDB_NOTFOUND) {
        return store_map_mdb_rc(rc, "mdb_get tags");
    }
    store_str_val(dstr, &val);
    rc = mdb_put(txn, s->tags, &key, &val, 0);
    if (rc)
        return store_map_mdb_rc(rc, "mdb_put tags");
    rc = mtag(s, txn, repo, dstr, tag, 1);
    if (rc || existed)
        return rc;
    return store_repo_count(s, txn, repo, REPO_TAGS, +1);
}

/* Add or drop the "referrers" entry subject -> dstr. */
static int referrer(struct store *s, MDB_txn *txn, const char *repo,
                    const char *subject, const char *dstr, int add)
{
    return pair_link(txn, s->referrers, repo, subject, dstr, add, "referrers");
}

/* store_manifest_put() within txn. */
static int manifest_put(struct store *s, MDB_txn *txn, const char *repo,
                        const char *tag, const struct store_manifest *mf,
                        struct digest *missing)
{
    char dstr[DIGEST_STR_MAX], subject[DIGEST_STR_MAX];
    MDB_val val;
    int rc, existed;

    /* checked in the transaction that stores it: no delete slips between */
    rc = check_refs(s, txn, repo, mf->m, missing);
    if (rc)
        return rc;
    rc = store_get_link(txn, s->manifests, repo, mf->digest, &val,
                        "mdb_get manifests");
    if (rc && rc != STORE_NOTFOUND)
        return rc;
    existed = rc == STORE_OK;
    rc = put_mrec(s, txn, repo, mf);
    if (rc == STORE_OK && !existed)
        rc = store_repo_count(s, txn, repo, REPO_MANIFESTS, +1);
    digest_format(mf->digest, dstr);
    if (rc == STORE_OK && tag)
        rc = tag_put(s, txn, repo, tag, dstr);
    if (rc == STORE_OK && mf->m->has_subject) {
        digest_format(&mf->m->subject, subject);
        rc = referrer(s, txn, repo, subject, dstr, 1);
    }
    return rc;
}

int store_manifest_put(struct store *s, const char *repo, const char *tag,
                       const struct store_manifest *mf, struct digest *missing)
{
    MDB_txn *txn;
    int rc = store_txn_begin(s, 0, &txn);

    return rc ? rc
              : store_txn_end(txn,
                              manifest_put(s, txn, repo, tag, mf, missing));
}

/* The digest tag of repo names, within txn. */
static int tag_get(struct store *s, MDB_txn *txn, const char *repo,
                   const char *tag, struct digest *out)
{
    char kbuf[LINK_KEY_MAX];
    MDB_val key, val;
    int rc;

    store_pair_key(kbuf, repo, tag, &key);
    rc = store_get(txn, s->tags, &key, &val, "mdb_get tags");
    if (rc)
        return rc;
    /* val dies with txn: digest_parse() copies */
    if (digest_parse(out, val.mv_data, val.mv_size))
        return store_corrupt("tag record of", repo);
    return STORE_OK;
}

int store_manifest_get(struct store *s, const char *repo, const char *tag,
                       const struct digest *d, struct buf *body,
                       struct store_manifest_info *info)
{
    struct digest dig;
    struct mrec r;
    MDB_txn *txn;
    int rc;

    rc = store_txn_begin(s, MDB_RDONLY, &txn);
    if (rc)
        return rc;
    if (tag) {
        rc = tag_get(s, txn, repo, tag, &dig);
        if (rc)
            goto txn_abort;
        d = &dig;
    }
    rc = get_mrec(s, txn, repo, d, &r);
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
    memcpy(info->media_type, r.ctype, r.h.ctype_len);
    info->media_type[r.h.ctype_len] = '\0';
txn_abort:
    mdb_txn_abort(txn);
    return rc;
}

/* Drop every tag naming dstr in repo. */
static int drop_tags(struct store *s, MDB_txn *txn, const char *repo,
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
        store_pair_key(tkey, repo, tag, &tk);
        rc = store_del(txn, s->tags, &tk, NULL, "mdb_del tags");
        if (rc && rc != STORE_NOTFOUND)
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

/* store_manifest_delete() within txn. */
static int manifest_drop(struct store *s, MDB_txn *txn, const char *repo,
                         const struct digest *d)
{
    char kbuf[LINK_KEY_MAX], dstr[DIGEST_STR_MAX], subject[DIGEST_STR_MAX];
    struct mrec r;
    MDB_val key;
    int rc;

    rc = get_mrec(s, txn, repo, d, &r);
    if (rc)
        return rc;
    if (r.h.subject_len >= sizeof(subject))
        return store_corrupt("manifest record in", repo);
    /* r points into the map: copy what outlives the next write */
    memcpy(subject, r.subject, r.h.subject_len);
    subject[r.h.subject_len] = '\0';
    digest_format(d, dstr);
    store_link_key(kbuf, repo, d, &key);
    rc = store_del(txn, s->manifests, &key, NULL, "mdb_del manifests");
    if (rc == STORE_OK && subject[0])
        rc = referrer(s, txn, repo, subject, dstr, 0);
    if (rc == STORE_OK)
        rc = drop_tags(s, txn, repo, dstr);
    if (rc == STORE_OK)
        rc = store_repo_count(s, txn, repo, REPO_MANIFESTS, -1);
    return rc;
}

int store_manifest_delete(struct store *s, const char *repo,
                          const struct digest *d)
{
    MDB_txn *txn;
    int rc = store_txn_begin(s, 0, &txn);

    return rc ? rc : store_txn_end(txn, manifest_drop(s, txn, repo, d));
}

/* store_tag_delete() within txn. */
static int tag_drop(struct store *s, MDB_txn *txn, const char *repo,
                    const char *tag)
{
    char kbuf[LINK_KEY_MAX], dstr[DIGEST_STR_MAX];
    struct digest d;
    MDB_val key;
    int rc;

    rc = tag_get(s, txn, repo, tag, &d);
    if (rc)
        return rc;
    digest_format(&d, dstr);
    store_pair_key(kbuf, repo, tag, &key);
    rc = store_del(txn, s->tags, &key, NULL, "mdb_del tags");
    if (rc == STORE_OK)
        rc = mtag(s, txn, repo, dstr, tag, 0);
    if (rc == STORE_OK)
        rc = store_repo_count(s, txn, repo, REPO_TAGS, -1);
    return rc;
}

int store_tag_delete(struct store *s, const char *repo, const char *tag)
{
    MDB_txn *txn;
    int rc = store_txn_begin(s, 0, &txn);

    return rc ? rc : store_txn_end(txn, tag_drop(s, txn, repo, tag));
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
    rc = store_repo_known(s, txn, repo);
    if (rc == STORE_OK)
        rc =
            store_list_keys(txn, s->tags, prefix, plen, last, n, fn, ctx, more);
    mdb_txn_abort(txn);
    return rc;
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
            get_mrec(s, txn, repo, &d, &r)) {
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
