#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_private.h"
#include "util/log.h"
#include "util/xalloc.h"

/*
 * What the store holds, for an administrator: repositories with their
 * counts, tags with their sizes and times, the bytes a repository takes
 * and would free, and the deletion of a whole repository.
 */

/* A set of digests, small enough to search in a line. */
struct dset {
    struct digest *d;
    size_t n, cap;
};

/* Add d to the set: 1 if it was not there, 0 if it was. */
static int dset_add(struct dset *s, const struct digest *d)
{
    size_t i;

    for (i = 0; i < s->n; i++)
        if (digest_equal(&s->d[i], d))
            return 0;
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 32;
        s->d = xrealloc(s->d, s->cap * sizeof(*s->d));
    }
    s->d[s->n++] = *d;
    return 1;
}

struct repos_walk {
    struct store *s;
    MDB_txn *txn;
    store_repo_fn *fn;
    void *ctx;
};

static int each_repo(void *ctx, const MDB_val *key, const MDB_val *val)
{
    struct repos_walk *w = ctx;
    struct store_repo_info ri;
    char name[NAME_MAX_LEN + 1];
    int rc;

    (void)val;
    if (key->mv_size > NAME_MAX_LEN)
        return store_corrupt("repository record in", w->s->root);
    memcpy(name, key->mv_data, key->mv_size);
    name[key->mv_size] = '\0';
    rc = store_repo_info(w->s, w->txn, name, &ri);
    return rc ? rc : w->fn(w->ctx, &ri);
}

int store_repos_walk(struct store *s, store_repo_fn *fn, void *ctx)
{
    struct repos_walk w = {s, NULL, fn, ctx};
    int rc;

    rc = store_txn_begin(s, MDB_RDONLY, &w.txn);
    if (rc)
        return rc;
    rc = store_each(w.txn, s->repos, "", 0, each_repo, &w);
    mdb_txn_abort(w.txn);
    return rc;
}

/*
 * Add to *size the bytes of manifest d of repo and of what it references
 * that seen does not hold yet, within txn.
 */
static int manifest_size(struct store *s, MDB_txn *txn, const char *repo,
                         const struct digest *d, struct dset *seen,
                         long long *size, int depth)
{
    struct manifest m;
    struct mrec r;
    size_t i;
    int rc;

    if (!dset_add(seen, d))
        return STORE_OK;
    rc = store_mrec_get(s, txn, repo, d, &r);
    if (rc == STORE_OK)
        rc = store_mrec_refs(&r, repo, &m);
    if (rc)
        return rc;
    *size += r.h.body_len;
    for (i = 0; i < m.nblobs; i++)
        if (dset_add(seen, &m.blobs[i].digest))
            *size += m.blobs[i].size;
    /* an index lists manifests; one that lists indexes is rare, and deep */
    for (i = 0; rc == STORE_OK && i < m.nchildren && depth < 8; i++)
        rc = manifest_size(s, txn, repo, &m.children[i].digest, seen, size,
                           depth + 1);
    manifest_release(&m);
    return rc;
}

/* Is repo in the catalog (has manifests or tags), within txn? */
static int listed(struct store *s, MDB_txn *txn, const char *repo)
{
    MDB_val key, val;

    store_str_val(repo, &key);
    return store_get(txn, s->catalog, &key, &val, "mdb_get catalog");
}

struct tags_walk {
    struct store *s;
    MDB_txn *txn;
    const char *repo;
    struct dset seen;
    store_tag_fn *fn;
    void *ctx;
};

static int each_tag(void *ctx, const MDB_val *key, const MDB_val *val)
{
    struct tags_walk *w = ctx;
    struct store_tag_info ti;
    struct mrec r;
    int rc;

    (void)val;
    memset(&ti, 0, sizeof(ti));
    if (key->mv_size > TAG_MAX_LEN)
        return store_corrupt("tag record of", w->repo);
    memcpy(ti.tag, key->mv_data, key->mv_size);
    rc = store_tag_get(w->s, w->txn, w->repo, ti.tag, &ti.digest, &ti.pushed);
    if (rc == STORE_OK)
        rc = store_mrec_get(w->s, w->txn, w->repo, &ti.digest, &r);
    if (rc == STORE_OK && r.h.ctype_len >= sizeof(ti.media_type))
        rc = store_corrupt("manifest record in", w->repo);
    if (rc)
        return rc;
    memcpy(ti.media_type, r.ctype, r.h.ctype_len);
    w->seen.n = 0;
    rc =
        manifest_size(w->s, w->txn, w->repo, &ti.digest, &w->seen, &ti.size, 0);
    return rc ? rc : w->fn(w->ctx, &ti);
}

int store_tags_walk(struct store *s, const char *repo, store_tag_fn *fn,
                    void *ctx)
{
    struct tags_walk w = {s, NULL, repo, {NULL, 0, 0}, fn, ctx};
    char prefix[NAME_MAX_LEN + 1];
    size_t plen = strlen(repo) + 1;
    int rc;

    BUG_ON(plen > sizeof(prefix));
    memcpy(prefix, repo, plen); /* with the NUL that ends the repo part */
    rc = store_txn_begin(s, MDB_RDONLY, &w.txn);
    if (rc)
        return rc;
    rc = listed(s, w.txn, repo);
    if (rc == STORE_OK)
        rc = store_each(w.txn, s->tags, prefix, plen, each_tag, &w);
    mdb_txn_abort(w.txn);
    free(w.seen.d);
    return rc;
}

struct usage_walk {
    struct store *s;
    MDB_txn *txn;
    const char *repo; /* NULL: the whole store */
    struct store_usage *u;
};

/* A links entry of the repository: a blob it links. */
static int each_link(void *ctx, const MDB_val *key, const MDB_val *val)
{
    struct usage_walk *w = ctx;
    struct blob_rec rec;
    struct digest d;
    int rc;

    (void)val;
    if (digest_parse(&d, key->mv_data, key->mv_size))
        return store_corrupt("link key in", w->repo);
    rc = store_linked_rec(w->s, w->txn, w->repo, &d, &rec);
    if (rc)
        return rc;
    w->u->blobs++;
    w->u->total += (long long)rec.size;
    if (rec.refs <= 1)
        w->u->unique += (long long)rec.size;
    return STORE_OK;
}

/* A blobs entry: a blob of the store. */
static int each_blob(void *ctx, const MDB_val *key, const MDB_val *val)
{
    struct usage_walk *w = ctx;
    struct blob_rec rec;

    (void)key;
    if (val->mv_size != sizeof(rec))
        return store_corrupt("blob record in", w->s->root);
    memcpy(&rec, val->mv_data, sizeof(rec));
    w->u->blobs++;
    w->u->total += (long long)rec.size;
    w->u->unique += (long long)rec.size;
    return STORE_OK;
}

/* A manifests entry, of the repository or of the store. */
static int each_manifest(void *ctx, const MDB_val *key, const MDB_val *val)
{
    struct usage_walk *w = ctx;
    struct mrec_hdr h;

    (void)key;
    if (val->mv_size < sizeof(h))
        return store_corrupt("manifest record in", w->s->root);
    memcpy(&h, val->mv_data, sizeof(h));
    w->u->manifests++;
    w->u->total += h.body_len;
    w->u->unique += h.body_len;
    return STORE_OK;
}

/* The usage of repo, or of the store when repo is NULL. */
static int usage(struct store *s, const char *repo, struct store_usage *out)
{
    char prefix[NAME_MAX_LEN + 1];
    size_t plen = repo ? strlen(repo) + 1 : 0;
    struct store_usage u;
    struct usage_walk w = {s, NULL, repo, &u};
    int rc;

    BUG_ON(plen > sizeof(prefix));
    if (repo)
        memcpy(prefix, repo, plen);
    memset(&u, 0, sizeof(u));
    rc = store_txn_begin(s, MDB_RDONLY, &w.txn);
    if (rc)
        return rc;
    rc = repo ? store_repo_known(s, w.txn, repo) : STORE_OK;
    if (rc == STORE_OK)
        rc = store_each(w.txn, repo ? s->links : s->blobs, prefix, plen,
                        repo ? each_link : each_blob, &w);
    if (rc == STORE_OK)
        rc = store_each(w.txn, s->manifests, prefix, plen, each_manifest, &w);
    mdb_txn_abort(w.txn);
    if (rc == STORE_OK)
        *out = u;
    return rc;
}

int store_repo_usage(struct store *s, const char *repo, struct store_usage *out)
{
    return usage(s, repo, out);
}

int store_usage(struct store *s, struct store_usage *out)
{
    return usage(s, NULL, out);
}

/* --- deleting a repository --- */

/* The most changes one write transaction of a long job makes. */
#define BATCH 256

/* Keys of a walk, as NUL-terminated strings. */
struct keys {
    char (*k)[LINK_KEY_MAX];
    size_t n, cap;
};

/*
 * Up to max keys of dbi after "<repo>\0", the part after the prefix, into
 * *ks, within txn.
 */
static int some_keys(MDB_txn *txn, MDB_dbi dbi, const char *repo, size_t max,
                     struct keys *ks)
{
    char prefix[NAME_MAX_LEN + 1];
    size_t plen = strlen(repo) + 1;
    MDB_cursor *cur;
    MDB_val key, val;
    int rc;

    memcpy(prefix, repo, plen);
    ks->n = 0;
    rc = mdb_cursor_open(txn, dbi, &cur);
    if (rc)
        return store_map_mdb_rc(rc, "mdb_cursor_open");
    key.mv_data = prefix;
    key.mv_size = plen;
    for (rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);
         rc == 0 && ks->n < max && key.mv_size > plen &&
         key.mv_size - plen < LINK_KEY_MAX &&
         !memcmp(key.mv_data, prefix, plen);
         rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
        if (ks->n == ks->cap) {
            ks->cap = ks->cap ? 2 * ks->cap : BATCH;
            ks->k = xrealloc(ks->k, ks->cap * sizeof(*ks->k));
        }
        memcpy(ks->k[ks->n], (char *)key.mv_data + plen, key.mv_size - plen);
        ks->k[ks->n++][key.mv_size - plen] = '\0';
    }
    mdb_cursor_close(cur);
    return rc == 0 || rc == MDB_NOTFOUND
               ? STORE_OK
               : store_map_mdb_rc(rc, "mdb_cursor_get");
}

enum drop_what { DROP_TAGS, DROP_MANIFESTS, DROP_LINKS };

/*
 * One write transaction of store_repo_delete(): drop up to BATCH of what
 * of repo. *n counts what went; *left whether any of it is left. A
 * manifest an index of repo lists waits for the index, so manifests are
 * looked at all, to find those that may go.
 */
static int drop_batch(struct store *s, MDB_txn *txn, const char *repo,
                      enum drop_what what, struct keys *ks, int *n, int *left)
{
    MDB_dbi dbi = what == DROP_TAGS        ? s->tags
                  : what == DROP_MANIFESTS ? s->manifests
                                           : s->links;
    struct digest d;
    size_t i;
    int rc;

    *n = 0;
    rc = some_keys(txn, dbi, repo, what == DROP_MANIFESTS ? SIZE_MAX : BATCH,
                   ks);
    *left = ks->n > 0;
    for (i = 0; rc == STORE_OK && i < ks->n && *n < BATCH; i++) {
        if (what == DROP_TAGS) {
            rc = store_tag_drop(s, txn, repo, ks->k[i]);
        } else if (digest_parse(&d, ks->k[i], strlen(ks->k[i]))) {
            rc = store_corrupt("key in", repo);
        } else if (what == DROP_MANIFESTS) {
            rc = store_manifest_drop(s, txn, repo, &d, NULL);
        } else {
            rc = store_blob_unlink(s, txn, repo, &d, NULL, NULL);
        }
        if (rc == STORE_IN_USE)
            rc = STORE_OK; /* its user goes in this pass or the next */
        else if (rc == STORE_OK)
            (*n)++;
    }
    return rc;
}

/* drop_batch(); the first of a deletion records it in the audit log */
static int audit_batch(struct store *s, MDB_txn *txn, const char *repo,
                       enum drop_what what, struct keys *ks, int *n, int *left,
                       int first)
{
    int rc = STORE_OK;

    if (first)
        rc = store_audit_add(s, txn, "repo-delete", repo, NULL, NULL, NULL);
    return rc ? rc : drop_batch(s, txn, repo, what, ks, n, left);
}

int store_repo_delete(struct store *s, const char *repo,
                      store_progress_fn *progress, void *ctx)
{
    struct keys ks = {NULL, 0, 0};
    struct store_repo_info ri;
    long long done = 0, total;
    enum drop_what what;
    MDB_txn *txn;
    int rc, n = 0, left = 0, first = 1;

    if (s->rdonly)
        return STORE_READONLY;
    rc = store_txn_begin(s, MDB_RDONLY, &txn);
    if (rc)
        return rc;
    rc = store_repo_info(s, txn, repo, &ri);
    mdb_txn_abort(txn);
    if (rc)
        return rc;
    total = ri.tags + ri.manifests + ri.links;
    for (what = DROP_TAGS; rc == STORE_OK && what <= DROP_LINKS; what++) {
        do {
            rc = store_txn_begin(s, 0, &txn);
            if (rc == STORE_OK)
                rc = store_txn_end(
                    s, txn,
                    audit_batch(s, txn, repo, what, &ks, &n, &left, first));
            if (rc)
                break;
            first = 0;
            done += n;
            if (progress)
                progress(ctx, done, total > done ? total : done);
            /* a pass that drops nothing of what is left cannot end */
            if (left && n == 0) {
                log_err("cannot delete the rest of repository '%s'", repo);
                rc = STORE_CORRUPT;
            }
        } while (rc == STORE_OK && left);
    }
    free(ks.k);
    return rc;
}
