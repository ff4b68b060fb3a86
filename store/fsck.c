#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/store_private.h"
#include "util/log.h"
#include "util/xalloc.h"

/*
 * The store checked against itself (store.h has the contract): first
 * every blob against its content, then the records against each other,
 * then the files against the records. The checks read one snapshot at a
 * time; a repair looks again in the write transaction that makes it, so
 * that what a push changed meanwhile is not "repaired".
 */

/* An upload file this young without its session may be starting. */
#define UPLOAD_YOUNG 3600
#define TRASH_YOUNG  60

struct fsck {
    struct store *s;
    const struct store_fsck_options *o;
    struct store_fsck_stats st;
};

static void problem(struct fsck *k, enum store_fsck_kind kind, const char *repo,
                    const char *what, const char *detail, int repaired)
{
    struct store_fsck_event e = {kind, repo, what, detail, repaired};

    k->st.problems++;
    if (repaired)
        k->st.repaired++;
    if (k->o->report)
        k->o->report(k->o->ctx, &e);
}

static void progress(struct fsck *k, long long done, long long total)
{
    if (k->o->progress)
        k->o->progress(k->o->ctx, done, total);
}

/*
 * Run repair(k, txn, arg) in a write transaction of its own, if repairs
 * were asked for; 1 if it repaired, 0 if not (or it found nothing to do),
 * -1 on failure (logged).
 */
static int repair(struct fsck *k,
                  int (*fix)(struct fsck *k, MDB_txn *txn, void *arg),
                  void *arg)
{
    MDB_txn *txn;
    int rc;

    if (!k->o->repair)
        return 0;
    rc = store_txn_begin(k->s, 0, &txn);
    if (rc == STORE_OK)
        rc = store_txn_end(k->s, txn, fix(k, txn, arg));
    if (rc == STORE_NOTFOUND)
        return 0; /* fine since: nothing to do */
    return rc ? -1 : 1;
}

/* --- blobs against their content --- */

struct blob_ent {
    struct digest d;
    struct blob_rec rec;
    long long links; /* counted in the links pass */
    int gone;        /* no record in the records pass' snapshot */
};

struct blobs {
    struct blob_ent *b;
    size_t n, cap;
};

static int each_blob_rec(void *ctx, const MDB_val *key, const MDB_val *val)
{
    struct blobs *bs = ctx;
    struct blob_ent *e;

    if (bs->n == bs->cap) {
        bs->cap = bs->cap ? 2 * bs->cap : 1024;
        bs->b = xrealloc(bs->b, bs->cap * sizeof(*bs->b));
    }
    e = &bs->b[bs->n];
    memset(e, 0, sizeof(*e));
    if (digest_parse(&e->d, key->mv_data, key->mv_size) ||
        val->mv_size != sizeof(e->rec))
        return STORE_CORRUPT;
    memcpy(&e->rec, val->mv_data, sizeof(e->rec));
    bs->n++;
    return STORE_OK;
}

/* The blob of digest string key among bs (sorted as LMDB sorts keys). */
static struct blob_ent *blob_find(struct blobs *bs, const struct digest *d)
{
    char want[DIGEST_STR_MAX], got[DIGEST_STR_MAX];
    size_t lo = 0, hi = bs->n;

    digest_format(d, want);
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c;

        digest_format(&bs->b[mid].d, got);
        /* LMDB compares keys as bytes, shorter first on a tie */
        c = memcmp(got, want,
                   strlen(got) < strlen(want) ? strlen(got) : strlen(want));
        if (c == 0)
            c = (int)strlen(got) - (int)strlen(want);
        if (c == 0)
            return &bs->b[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* Whether blob e went since the look (a GC, a delete): then all is well. */
static int gone_since(struct fsck *k, const struct blob_ent *e)
{
    struct blob_rec rec;
    MDB_txn *txn;
    int rc;

    if (store_txn_begin(k->s, MDB_RDONLY, &txn))
        return 0;
    rc = store_blob_rec(k->s, txn, &e->d, &rec);
    mdb_txn_abort(txn);
    return rc == STORE_NOTFOUND;
}

/* Whether the file of blob e is in trash/ (store_trash). */
static int in_trash(struct fsck *k, const struct blob_ent *e)
{
    char path[PATH_MAX];

    snprintf(path, sizeof(path), "%s/trash/%s-%s", k->s->root,
             digest_alg_name(e->d.alg), e->d.hex);
    return access(path, F_OK) == 0;
}

/* A blob file found corrupt, for quarantine(). */
struct bad_file {
    const struct blob_ent *e;
    const char *path;
    struct stat st; /* of the file that was checked */
    char moved[PATH_MAX];
};

/*
 * Move a blob file whose content is not its digest's to <root>/damaged/:
 * berth then answers 404 for the blob, and the next push of it puts the
 * right content in place (store_blob_adopt). The write transaction only
 * holds the writer lock, which an upload holds while it renames its file
 * into place: the file moved is the one that was checked.
 */
static int quarantine(struct fsck *k, MDB_txn *txn, void *arg)
{
    struct bad_file *bf = arg;
    char dir[PATH_MAX];
    struct blob_rec rec;
    struct stat now;
    int rc;

    rc = store_blob_rec(k->s, txn, &bf->e->d, &rec);
    if (rc)
        return rc; /* gone since: STORE_NOTFOUND, nothing to do */
    if (stat(bf->path, &now) || now.st_ino != bf->st.st_ino ||
        now.st_dev != bf->st.st_dev)
        return STORE_NOTFOUND; /* put right since */
    if (snprintf(dir, sizeof(dir), "%s/damaged", k->s->root) >=
            (int)sizeof(dir) ||
        snprintf(bf->moved, sizeof(bf->moved), "%s/%s-%s", dir,
                 digest_alg_name(bf->e->d.alg),
                 bf->e->d.hex) >= (int)sizeof(bf->moved))
        return STORE_IO;
    if (mkdir(dir, 0755) && errno != EEXIST)
        return store_map_errno(errno, "create directory", dir);
    if (rename(bf->path, bf->moved))
        return store_map_errno(errno, "move aside", bf->path);
    return STORE_OK;
}

/*
 * A blob file that is not its digest's: reported, and with repair moved
 * aside. It stays a problem (its content is missing) until a push of it.
 */
static void bad_file(struct fsck *k, const struct blob_ent *e, const char *path,
                     const struct stat *st, const char *why)
{
    char dstr[DIGEST_STR_MAX], msg[PATH_MAX + 256];
    struct bad_file bf = {e, path, *st, ""};

    if (gone_since(k, e))
        return;
    digest_format(&e->d, dstr);
    if (repair(k, quarantine, &bf) == 1) {
        snprintf(msg, sizeof(msg),
                 "%s; moved to '%s': a push of the blob puts it back", why,
                 bf.moved);
        why = msg;
    }
    problem(k, STORE_FSCK_BLOB_CORRUPT, NULL, dstr, why, 0);
}

/* Whether the content of e hashes to its digest and has its size. */
static void check_content(struct fsck *k, const struct blob_ent *e)
{
    char dstr[DIGEST_STR_MAX], path[PATH_MAX], why[128];
    struct hasher h;
    struct digest got;
    struct stat st;
    MDB_txn *txn;
    MDB_val key, val;
    int fd, rc;

    digest_format(&e->d, dstr);
    hasher_init(&h, e->d.alg);
    if (e->rec.flags & BLOB_INLINE) {
        if (store_txn_begin(k->s, MDB_RDONLY, &txn))
            return;
        store_str_val(dstr, &key);
        rc = store_get(txn, k->s->inlined, &key, &val, "mdb_get inline");
        if (rc == STORE_OK && val.mv_size == e->rec.size)
            hasher_update(&h, val.mv_data, val.mv_size);
        mdb_txn_abort(txn);
        if (rc || val.mv_size != e->rec.size) {
            problem(k, STORE_FSCK_BLOB_MISSING, NULL, dstr,
                    "its bytes are not in the database", 0);
            return;
        }
    } else {
        if (store_blob_path(k->s, &e->d, path, sizeof(path), NULL))
            return;
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            int err = errno;

            /*
             * Deleted since the look; or in trash/, on its way out or
             * back (check_trash() looks at that); or lost.
             */
            if (!gone_since(k, e) && !in_trash(k, e))
                problem(k, STORE_FSCK_BLOB_MISSING, NULL, dstr,
                        err == ENOENT ? "its file is missing" : strerror(err),
                        0);
            return;
        }
        if (fstat(fd, &st)) {
            problem(k, STORE_FSCK_BLOB_CORRUPT, NULL, dstr, strerror(errno), 0);
            close(fd);
            return;
        }
        if ((long long)st.st_size != (long long)e->rec.size) {
            close(fd);
            snprintf(why, sizeof(why), "its file has %lld bytes, not %llu",
                     (long long)st.st_size, (unsigned long long)e->rec.size);
            bad_file(k, e, path, &st, why);
            return;
        }
        rc = hasher_update_fd(&h, fd, (long long)e->rec.size);
        close(fd);
        if (rc) {
            problem(k, STORE_FSCK_BLOB_CORRUPT, NULL, dstr,
                    "its file cannot be read", 0);
            return;
        }
    }
    hasher_final(&h, &got);
    k->st.bytes += (long long)e->rec.size;
    if (digest_equal(&got, &e->d))
        return;
    if (e->rec.flags & BLOB_INLINE)
        problem(k, STORE_FSCK_BLOB_CORRUPT, NULL, dstr,
                "its bytes in the database hash to another digest", 0);
    else
        bad_file(k, e, path, &st, "its content hashes to another digest");
}

/* --- records against each other --- */

/*
 * A repository's entries, counted to compare with its record; both are
 * of one snapshot, and a repair adds the difference to the record as it
 * is then, so that pushes since the snapshot keep their counts.
 */
struct repo_tally {
    char name[NAME_MAX_LEN + 1];
    long long n[3];   /* the entries there are */
    long long rec[3]; /* what the record counted */
};

struct records {
    struct fsck *k;
    MDB_txn *txn;
    struct blobs *bs;
    /*
     * A tally per repository: first those with a record, in name order
     * (nsorted of them), then any found without one.
     */
    struct repo_tally *rc;
    size_t nrc, caprc, nsorted;
};

static struct repo_tally *tally_add(struct records *r, const char *repo)
{
    if (r->nrc == r->caprc) {
        r->caprc = r->caprc ? 2 * r->caprc : 64;
        r->rc = xrealloc(r->rc, r->caprc * sizeof(*r->rc));
    }
    memset(&r->rc[r->nrc], 0, sizeof(r->rc[0]));
    memcpy(r->rc[r->nrc].name, repo, strlen(repo) + 1);
    return &r->rc[r->nrc++];
}

static struct repo_tally *count_of(struct records *r, const char *repo)
{
    size_t lo = 0, hi = r->nsorted, i;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(r->rc[mid].name, repo);

        if (c == 0)
            return &r->rc[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (i = r->nsorted; i < r->nrc; i++)
        if (!strcmp(r->rc[i].name, repo))
            return &r->rc[i];
    return tally_add(r, repo);
}

/* A repository with a record: its tally, in name order. */
static int each_repo_name(void *ctx, const MDB_val *key, const MDB_val *val)
{
    struct records *r = ctx;
    char name[NAME_MAX_LEN + 1];

    (void)val;
    if (key->mv_size > NAME_MAX_LEN)
        return STORE_CORRUPT;
    memcpy(name, key->mv_data, key->mv_size);
    name[key->mv_size] = '\0';
    tally_add(r, name);
    r->nsorted++;
    return STORE_OK;
}

/* Split "<repo>\0<rest>" (len bytes): repo into repo, rest into rest. */
static int split(const MDB_val *key, char *repo, char *rest, size_t restlen)
{
    size_t rlen = strnlen(key->mv_data, key->mv_size);

    if (rlen > NAME_MAX_LEN || rlen + 1 > key->mv_size ||
        key->mv_size - rlen - 1 >= restlen)
        return -1;
    memcpy(repo, key->mv_data, rlen);
    repo[rlen] = '\0';
    memcpy(rest, (char *)key->mv_data + rlen + 1, key->mv_size - rlen - 1);
    rest[key->mv_size - rlen - 1] = '\0';
    return 0;
}

struct pair {
    char repo[NAME_MAX_LEN + 1];
    char from[DIGEST_STR_MAX];
    char to[DIGEST_STR_MAX];
    MDB_dbi dbi;
    struct digest d;
};

/* Drop a links entry whose blob has no record, if that is still so. */
static int fix_link(struct fsck *k, MDB_txn *txn, void *arg)
{
    struct pair *p = arg;
    struct blob_rec rec;
    struct link_rec link;
    char kbuf[LINK_KEY_MAX];
    MDB_val key;
    int rc;

    rc = store_link_get(k->s, txn, p->repo, &p->d, &link);
    if (rc)
        return rc;
    rc = store_blob_rec(k->s, txn, &p->d, &rec);
    if (rc != STORE_NOTFOUND)
        return rc ? rc : STORE_NOTFOUND; /* it has a record now */
    store_link_key(kbuf, p->repo, &p->d, &key);
    rc = store_del(txn, k->s->links, &key, NULL, "mdb_del links");
    return rc ? rc : store_repo_count(k->s, txn, p->repo, REPO_LINKS, -1);
}

static int each_link_entry(void *ctx, const MDB_val *key, const MDB_val *val)
{
    struct records *r = ctx;
    struct blob_rec rec;
    struct pair p;
    struct blob_ent *e;

    (void)val;
    memset(&p, 0, sizeof(p));
    if (split(key, p.repo, p.from, sizeof(p.from)) ||
        digest_parse(&p.d, p.from, strlen(p.from)))
        return STORE_CORRUPT;
    e = blob_find(r->bs, &p.d);
    if (e) {
        e->links++;
        count_of(r, p.repo)->n[REPO_LINKS]++;
        return STORE_OK;
    }
    /* the blob came after the first look: it is there */
    if (store_blob_rec(r->k->s, r->txn, &p.d, &rec) == STORE_OK) {
        count_of(r, p.repo)->n[REPO_LINKS]++;
        return STORE_OK;
    }
    /*
     * Counted as the snapshot has it: the repair drops the link as a
     * delete does, count and all, and each_repo_rec() then mends a
     * record that never counted it.
     */
    count_of(r, p.repo)->n[REPO_LINKS]++;
    problem(r->k, STORE_FSCK_DANGLING, p.repo, p.from,
            "a link to a blob that has no record",
            repair(r->k, fix_link, &p) > 0);
    return STORE_OK;
}

/*
 * Add to blob d's reference count what it counted wrong in the
 * snapshot, so that links made since keep their counts.
 */
struct refs_fix {
    struct digest d;
    long long delta;
};

static int fix_refs(struct fsck *k, MDB_txn *txn, void *arg)
{
    struct refs_fix *f = arg;
    char dstr[DIGEST_STR_MAX];
    struct blob_rec rec;
    MDB_val key, val;
    int rc;

    rc = store_blob_rec(k->s, txn, &f->d, &rec);
    if (rc)
        return rc;
    if ((long long)rec.refs + f->delta < 0)
        return STORE_NOTFOUND; /* links went meanwhile: leave it */
    rec.refs = (uint64_t)((long long)rec.refs + f->delta);
    digest_format(&f->d, dstr);
    store_str_val(dstr, &key);
    val.mv_data = &rec;
    val.mv_size = sizeof(rec);
    return store_map_mdb_rc(mdb_put(txn, k->s->blobs, &key, &val, 0),
                            "mdb_put blobs");
}

/* A tags entry whose manifest is not there goes, if that is still so. */
static int fix_tag(struct fsck *k, MDB_txn *txn, void *arg)
{
    struct pair *p = arg;
    struct digest d;
    struct mrec m;
    int rc;

    rc = store_tag_get(k->s, txn, p->repo, p->from, &d, NULL);
    if (rc)
        return rc;
    rc = store_mrec_get(k->s, txn, p->repo, &d, &m);
    if (rc != STORE_NOTFOUND)
        return rc ? rc : STORE_NOTFOUND;
    return store_tag_drop(k->s, txn, p->repo, p->from);
}

static int each_tag_entry(void *ctx, const MDB_val *key, const MDB_val *val)
{
    struct records *r = ctx;
    struct pair p;
    struct mrec m;
    int rc;

    memset(&p, 0, sizeof(p));
    if (split(key, p.repo, p.from, sizeof(p.from)) ||
        val->mv_size <= sizeof(struct tag_rec) ||
        digest_parse(&p.d, (char *)val->mv_data + sizeof(struct tag_rec),
                     val->mv_size - sizeof(struct tag_rec)))
        return STORE_CORRUPT;
    /* counted as the snapshot has it, as in each_link_entry() */
    count_of(r, p.repo)->n[REPO_TAGS]++;
    rc = store_mrec_get(r->k->s, r->txn, p.repo, &p.d, &m);
    if (rc != STORE_NOTFOUND)
        return rc;
    problem(r->k, STORE_FSCK_DANGLING, p.repo, p.from,
            "a tag of a manifest that is not there",
            repair(r->k, fix_tag, &p) > 0);
    return STORE_OK;
}

/*
 * Add the usedby entry "<repo>\0<from>" -> to of manifest d, if d is
 * still there.
 */
static int fix_usedby(struct fsck *k, MDB_txn *txn, void *arg)
{
    struct pair *p = arg;
    struct mrec m;
    int rc;

    rc = store_mrec_get(k->s, txn, p->repo, &p->d, &m);
    if (rc)
        return rc; /* STORE_NOTFOUND: deleted since, nothing to add */
    return store_dup_put(txn, k->s->usedby, p->repo, p->from, p->to,
                         "fsck usedby");
}

/*
 * What a manifest references must be in its repository (blobs linked,
 * children there), and in usedby.
 */
static int each_manifest_entry(void *ctx, const MDB_val *key,
                               const MDB_val *val)
{
    struct records *r = ctx;
    char repo[NAME_MAX_LEN + 1], dstr[DIGEST_STR_MAX], why[256];
    char ref[DIGEST_STR_MAX], kbuf[LINK_KEY_MAX];
    struct blob_rec rec;
    struct manifest m;
    struct digest d;
    struct mrec mr;
    MDB_val k, v;
    size_t i;
    int rc, cached = 0;

    (void)val;
    if (split(key, repo, dstr, sizeof(dstr)) ||
        digest_parse(&d, dstr, strlen(dstr)))
        return STORE_CORRUPT;
    count_of(r, repo)->n[REPO_MANIFESTS]++;
    r->k->st.manifests++;
    rc = store_mrec_get(r->k->s, r->txn, repo, &d, &mr);
    if (rc == STORE_OK) {
        /* the cache's: its references come when a client asks for them */
        cached = (mr.h.reserved & MREC_CACHED) != 0;
        rc = store_mrec_refs(&mr, repo, &m);
    }
    if (rc == STORE_CORRUPT) {
        problem(r->k, STORE_FSCK_BROKEN, repo, dstr,
                "its record or body cannot be read", 0);
        return STORE_OK;
    }
    if (rc)
        return rc;
    for (i = 0; rc == STORE_OK && i < m.nblobs + m.nchildren; i++) {
        const struct digest *rd = i < m.nblobs
                                      ? &m.blobs[i].digest
                                      : &m.children[i - m.nblobs].digest;

        digest_format(rd, ref);
        rc = i < m.nblobs ? store_linked_rec(r->k->s, r->txn, repo, rd, &rec)
                          : store_mrec_get(r->k->s, r->txn, repo, rd, &mr);
        if (rc == STORE_NOTFOUND && cached) {
            rc = STORE_OK;
        } else if (rc == STORE_NOTFOUND) {
            snprintf(why, sizeof(why),
                     "it references %s %s, which is not in "
                     "the repository",
                     i < m.nblobs ? "blob" : "manifest", ref);
            problem(r->k, STORE_FSCK_BROKEN, repo, dstr, why, 0);
            rc = STORE_OK;
        }
        if (rc)
            break;
        store_pair_key(kbuf, repo, ref, &k);
        v.mv_data = dstr;
        v.mv_size = strlen(dstr);
        {
            MDB_cursor *cur;

            rc =
                store_map_mdb_rc(mdb_cursor_open(r->txn, r->k->s->usedby, &cur),
                                 "mdb_cursor_open usedby");
            if (rc)
                break;
            rc = mdb_cursor_get(cur, &k, &v, MDB_GET_BOTH);
            mdb_cursor_close(cur);
        }
        if (rc == MDB_NOTFOUND) {
            struct pair p;

            memset(&p, 0, sizeof(p));
            memcpy(p.repo, repo, sizeof(p.repo));
            memcpy(p.from, ref, sizeof(p.from));
            memcpy(p.to, dstr, sizeof(p.to));
            p.d = d;
            snprintf(why, sizeof(why), "usedby lacks its reference to %s", ref);
            problem(r->k, STORE_FSCK_DANGLING, repo, dstr, why,
                    repair(r->k, fix_usedby, &p) > 0);
        }
        rc = rc == MDB_NOTFOUND ? STORE_OK : store_map_mdb_rc(rc, "usedby");
    }
    manifest_release(&m);
    return rc;
}

/* A dup-sorted index entry "<repo>\0<from>" -> to whose manifest is gone. */
static int fix_index_entry(struct fsck *k, MDB_txn *txn, void *arg)
{
    struct pair *p = arg;
    struct mrec m;
    struct digest d;
    int rc;

    /* usedby, referrers: "to" is the manifest; mtags: "from" is */
    if (digest_parse(&d, p->dbi == k->s->mtags ? p->from : p->to,
                     strlen(p->dbi == k->s->mtags ? p->from : p->to)))
        return STORE_CORRUPT;
    rc = store_mrec_get(k->s, txn, p->repo, &d, &m);
    if (rc != STORE_NOTFOUND)
        return rc ? rc : STORE_NOTFOUND;
    return store_dup_del(txn, p->dbi, p->repo, p->from, p->to, "fsck index");
}

struct index_walk {
    struct records *r;
    MDB_dbi dbi;
    const char *name;
};

static int each_index_entry(void *ctx, const MDB_val *key, const MDB_val *val)
{
    struct index_walk *w = ctx;
    struct records *r = w->r;
    const char *mdig;
    struct pair p;
    struct mrec m;
    char why[128];
    int rc;

    memset(&p, 0, sizeof(p));
    p.dbi = w->dbi;
    if (split(key, p.repo, p.from, sizeof(p.from)) ||
        val->mv_size >= sizeof(p.to))
        return STORE_CORRUPT;
    memcpy(p.to, val->mv_data, val->mv_size);
    mdig = w->dbi == r->k->s->mtags ? p.from : p.to;
    if (digest_parse(&p.d, mdig, strlen(mdig)))
        return STORE_CORRUPT;
    rc = store_mrec_get(r->k->s, r->txn, p.repo, &p.d, &m);
    if (rc != STORE_NOTFOUND)
        return rc;
    snprintf(why, sizeof(why), "a %s entry of a manifest that is not there",
             w->name);
    problem(r->k, STORE_FSCK_DANGLING, p.repo, mdig, why,
            repair(r->k, fix_index_entry, &p) > 0);
    return STORE_OK;
}

/* Add to repository record c what it counted wrong in the snapshot. */
static int fix_counts(struct fsck *k, MDB_txn *txn, void *arg)
{
    const struct repo_tally *c = arg;
    int rc = STORE_OK, i;

    for (i = 0; rc == STORE_OK && i < 3; i++)
        if (c->n[i] != c->rec[i])
            rc = store_repo_count(k->s, txn, c->name, (enum repo_count)i,
                                  (int)(c->n[i] - c->rec[i]));
    return rc;
}

static int each_repo_rec(void *ctx, const MDB_val *key, const MDB_val *val)
{
    struct records *r = ctx;
    struct store_repo_info ri;
    struct repo_tally *c;
    char name[NAME_MAX_LEN + 1], why[160];
    int rc;

    (void)val;
    if (key->mv_size > NAME_MAX_LEN)
        return STORE_CORRUPT;
    memcpy(name, key->mv_data, key->mv_size);
    name[key->mv_size] = '\0';
    rc = store_repo_info(r->k->s, r->txn, name, &ri);
    if (rc)
        return rc;
    c = count_of(r, name);
    c->rec[REPO_LINKS] = ri.links;
    c->rec[REPO_MANIFESTS] = ri.manifests;
    c->rec[REPO_TAGS] = ri.tags;
    if (ri.links == c->n[REPO_LINKS] && ri.manifests == c->n[REPO_MANIFESTS] &&
        ri.tags == c->n[REPO_TAGS])
        return STORE_OK;
    snprintf(why, sizeof(why),
             "it counts %lld links, %lld manifests, %lld tags; there are "
             "%lld, %lld, %lld",
             ri.links, ri.manifests, ri.tags, c->n[REPO_LINKS],
             c->n[REPO_MANIFESTS], c->n[REPO_TAGS]);
    problem(r->k, STORE_FSCK_COUNT, name, "repository record", why,
            repair(r->k, fix_counts, c) > 0);
    return STORE_OK;
}

static int check_records(struct fsck *k, struct blobs *bs)
{
    struct records r;
    struct index_walk iw[3];
    char why[128], dstr[DIGEST_STR_MAX];
    size_t i;
    int rc;

    memset(&r, 0, sizeof(r));
    r.k = k;
    r.bs = bs;
    rc = store_txn_begin(k->s, MDB_RDONLY, &r.txn);
    if (rc)
        return rc;
    rc = store_each(r.txn, k->s->repos, "", 0, each_repo_name, &r);
    if (rc == STORE_OK)
        rc = store_each(r.txn, k->s->links, "", 0, each_link_entry, &r);
    if (rc == STORE_OK)
        rc = store_each(r.txn, k->s->tags, "", 0, each_tag_entry, &r);
    if (rc == STORE_OK)
        rc = store_each(r.txn, k->s->manifests, "", 0, each_manifest_entry, &r);
    iw[0] = (struct index_walk){&r, k->s->usedby, "usedby"};
    iw[1] = (struct index_walk){&r, k->s->referrers, "referrers"};
    iw[2] = (struct index_walk){&r, k->s->mtags, "mtags"};
    for (i = 0; rc == STORE_OK && i < 3; i++)
        rc = store_each(r.txn, iw[i].dbi, "", 0, each_index_entry, &iw[i]);
    if (rc == STORE_OK)
        rc = store_each(r.txn, k->s->repos, "", 0, each_repo_rec, &r);
    /* the blobs' counts of the snapshot the links were counted in */
    for (i = 0; rc == STORE_OK && i < bs->n; i++) {
        struct blob_rec rec;

        bs->b[i].gone = store_blob_rec(k->s, r.txn, &bs->b[i].d, &rec) != 0;
        if (!bs->b[i].gone)
            bs->b[i].rec.refs = rec.refs;
    }
    mdb_txn_abort(r.txn);
    /* a repository with entries but no record */
    for (i = r.nsorted; rc == STORE_OK && i < r.nrc; i++) {
        struct store_repo_info ri;
        MDB_txn *txn;

        if (store_txn_begin(k->s, MDB_RDONLY, &txn))
            break;
        rc = store_repo_info(k->s, txn, r.rc[i].name, &ri);
        mdb_txn_abort(txn);
        if (rc == STORE_NOTFOUND) {
            problem(k, STORE_FSCK_COUNT, r.rc[i].name, "repository record",
                    "it has entries but no record",
                    repair(k, fix_counts, &r.rc[i]) > 0);
            rc = STORE_OK;
        }
    }
    /* every blob's count of links */
    for (i = 0; rc == STORE_OK && i < bs->n; i++) {
        struct refs_fix f = {bs->b[i].d,
                             bs->b[i].links - (long long)bs->b[i].rec.refs};

        if (bs->b[i].gone || f.delta == 0)
            continue;
        digest_format(&bs->b[i].d, dstr);
        snprintf(why, sizeof(why), "it counts %llu links; there are %lld",
                 (unsigned long long)bs->b[i].rec.refs, bs->b[i].links);
        problem(k, STORE_FSCK_COUNT, NULL, dstr, why,
                bs->b[i].links > 0 && repair(k, fix_refs, &f) > 0);
    }
    free(r.rc);
    return rc;
}

/* --- the bytes of each namespace (store/usage.c) --- */

struct usage_ent {
    char ns[NAME_MAX_LEN + 2];
    int64_t v;
};

struct usage_snap {
    struct usage_ent *e;
    size_t n, cap;
};

static int each_usage(void *ctx, const MDB_val *key, const MDB_val *val)
{
    struct usage_snap *u = ctx;
    struct usage_ent *e;

    if (key->mv_size > NAME_MAX_LEN + 1 || val->mv_size != sizeof(e->v))
        return STORE_CORRUPT;
    if (u->n == u->cap) {
        u->cap = u->cap ? 2 * u->cap : 64;
        u->e = xrealloc(u->e, u->cap * sizeof(*u->e));
    }
    e = &u->e[u->n++];
    memcpy(e->ns, key->mv_data, key->mv_size);
    e->ns[key->mv_size] = '\0';
    memcpy(&e->v, val->mv_data, sizeof(e->v));
    return STORE_OK;
}

/* The bytes ns holds in u (both in LMDB's order), or 0. */
static int64_t usage_of(const struct usage_snap *u, size_t *i, const char *ns)
{
    while (*i < u->n && strcmp(u->e[*i].ns, ns) < 0)
        ++*i;
    return *i < u->n && !strcmp(u->e[*i].ns, ns) ? u->e[*i].v : 0;
}

static void usage_problem(struct fsck *k, const char *ns, int64_t was,
                          int64_t is)
{
    char why[128];

    snprintf(why, sizeof(why), "it counts %lld bytes; there are %lld",
             (long long)was, (long long)is);
    problem(k, STORE_FSCK_COUNT, strcmp(ns, "*") ? ns : NULL, "namespace usage",
            why, k->o->repair);
}

/*
 * The namespaces' bytes, counted again from links, blobs and manifests in
 * a write transaction, which is committed only to repair: each namespace
 * whose count differs is a problem. It needs a store open for writing: a
 * read-only fsck leaves them to --repair.
 */
static int check_usage(struct fsck *k)
{
    struct usage_snap before = {NULL, 0, 0}, after = {NULL, 0, 0};
    size_t i, j = 0, bad = 0;
    MDB_txn *txn;
    int rc;

    if (k->s->rdonly)
        return STORE_OK;
    rc = store_txn_begin(k->s, 0, &txn);
    if (rc)
        return rc;
    rc = store_each(txn, k->s->usage, "", 0, each_usage, &before);
    if (rc == STORE_OK)
        rc = store_ns_rebuild(k->s, txn);
    if (rc == STORE_OK)
        rc = store_each(txn, k->s->usage, "", 0, each_usage, &after);
    for (i = 0; rc == STORE_OK && i < before.n; i++) {
        int64_t now = usage_of(&after, &j, before.e[i].ns);

        if (now != before.e[i].v) {
            usage_problem(k, before.e[i].ns, before.e[i].v, now);
            bad++;
        }
    }
    for (i = 0, j = 0; rc == STORE_OK && i < after.n; i++)
        if (!usage_of(&before, &j, after.e[i].ns)) {
            usage_problem(k, after.e[i].ns, 0, after.e[i].v);
            bad++;
        }
    if (rc == STORE_OK && bad && k->o->repair)
        rc = store_txn_end(k->s, txn, STORE_OK);
    else
        mdb_txn_abort(txn);
    if (rc == STORE_CORRUPT)
        log_err("corrupt usage record in '%s'", k->s->root);
    free(before.e);
    free(after.e);
    return rc;
}

/* --- files against the records --- */

struct orphan {
    char path[PATH_MAX];
    struct digest d;
};

/* Remove an orphan file, if it still has no record: under the writer lock. */
static int fix_orphan(struct fsck *k, MDB_txn *txn, void *arg)
{
    struct orphan *o = arg;
    struct blob_rec rec;
    int rc;

    rc = store_blob_rec(k->s, txn, &o->d, &rec);
    if (rc == STORE_OK && !(rec.flags & BLOB_INLINE))
        return STORE_NOTFOUND; /* it has its record now */
    if (rc && rc != STORE_NOTFOUND)
        return rc;
    if (unlink(o->path) && errno != ENOENT)
        return store_map_errno(errno, "remove", o->path);
    return STORE_OK;
}

/*
 * Whether blob d has a file record now: txn (read-only) moves on to the
 * newest snapshot, which the rest of the walk then reads.
 */
static int file_recorded_now(struct fsck *k, MDB_txn *txn,
                             const struct digest *d)
{
    struct blob_rec rec;

    mdb_txn_reset(txn);
    if (mdb_txn_renew(txn))
        return 0;
    return store_blob_rec(k->s, txn, d, &rec) == STORE_OK &&
           !(rec.flags & BLOB_INLINE);
}

/* Check the files of blobs/<alg>/<h2>/ against the records. */
static int check_dir(struct fsck *k, MDB_txn *txn, const char *alg,
                     const char *h2)
{
    char dir[PATH_MAX], str[DIGEST_STR_MAX + 8];
    struct orphan o;
    struct blob_rec rec;
    struct dirent *de;
    struct stat st;
    int rc = STORE_OK;
    DIR *d;

    if (snprintf(dir, sizeof(dir), "%s/blobs/%s/%s", k->s->root, alg, h2) >=
        (int)sizeof(dir))
        return STORE_OK;
    d = strlen(h2) == 2 ? opendir(dir) : NULL;
    if (!d) {
        problem(k, STORE_FSCK_STRAY, NULL, dir,
                "not a blob directory: left alone", 0);
        return STORE_OK;
    }
    while (rc == STORE_OK && (de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        if (snprintf(o.path, sizeof(o.path), "%s/%s", dir, de->d_name) >=
                (int)sizeof(o.path) ||
            snprintf(str, sizeof(str), "%s:%s", alg, de->d_name) >=
                (int)sizeof(str) ||
            lstat(o.path, &st) || !S_ISREG(st.st_mode) ||
            digest_parse(&o.d, str, strlen(str)) ||
            strncmp(de->d_name, h2, 2)) {
            problem(k, STORE_FSCK_STRAY, NULL, o.path,
                    "not a blob file: left alone", 0);
            continue;
        }
        rc = store_blob_rec(k->s, txn, &o.d, &rec);
        if (rc == STORE_OK && !(rec.flags & BLOB_INLINE))
            continue;
        if (rc && rc != STORE_NOTFOUND)
            break;
        rc = STORE_OK;
        if (file_recorded_now(k, txn, &o.d))
            continue; /* an upload that committed after the snapshot */
        problem(k, STORE_FSCK_ORPHAN, NULL, o.path,
                "a blob file without a record", repair(k, fix_orphan, &o) > 0);
    }
    closedir(d);
    return rc;
}

static int check_files(struct fsck *k)
{
    char dir[PATH_MAX], sub[PATH_MAX + 256];
    struct dirent *a, *h;
    MDB_txn *txn;
    DIR *da, *dh;
    int rc;

    snprintf(dir, sizeof(dir), "%s/blobs", k->s->root);
    da = opendir(dir);
    if (!da)
        return store_map_errno(errno, "open directory", dir);
    rc = store_txn_begin(k->s, MDB_RDONLY, &txn);
    if (rc) {
        closedir(da);
        return rc;
    }
    while (rc == STORE_OK && (a = readdir(da))) {
        if (a->d_name[0] == '.')
            continue;
        snprintf(sub, sizeof(sub), "%s/%s", dir, a->d_name);
        dh = opendir(sub);
        if (!dh)
            continue;
        while (rc == STORE_OK && (h = readdir(dh)))
            if (h->d_name[0] != '.')
                rc = check_dir(k, txn, a->d_name, h->d_name);
        closedir(dh);
    }
    mdb_txn_abort(txn);
    closedir(da);
    return rc;
}

/* Settle a file a crash left in trash/. */
static int fix_trash(struct fsck *k, MDB_txn *txn, void *arg)
{
    int restored;
    long long bytes;

    return store_trash_settle(k->s, txn, arg, 0, &restored, &bytes);
}

static int check_trash(struct fsck *k)
{
    char dir[PATH_MAX];
    struct dirent *de;
    DIR *d;

    snprintf(dir, sizeof(dir), "%s/trash", k->s->root);
    d = opendir(dir);
    if (!d)
        return STORE_OK;
    while ((de = readdir(d))) {
        char path[PATH_MAX + 256];
        struct stat st;

        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        /*
         * A file moved here (its ctime) within TRASH_YOUNG may be a
         * transaction's at work, which settles it when it ends.
         */
        if (de->d_name[0] == '.' || lstat(path, &st) ||
            (long long)st.st_ctime > store_now(k->s) - TRASH_YOUNG)
            continue;
        problem(k, STORE_FSCK_TRASH, NULL, de->d_name,
                "a blob file a crash left on its way out",
                repair(k, fix_trash, de->d_name) > 0);
    }
    closedir(d);
    return STORE_OK;
}

/* --- upload sessions --- */

struct upload_check {
    struct fsck *k;
    char id[UPLOAD_ID_LEN + 1];
};

static int each_session(void *ctx, const MDB_val *key, const MDB_val *val)
{
    struct upload_check *u = ctx;
    char path[PATH_MAX];

    (void)val;
    if (key->mv_size != UPLOAD_ID_LEN)
        return STORE_OK;
    memcpy(u->id, key->mv_data, UPLOAD_ID_LEN);
    u->id[UPLOAD_ID_LEN] = '\0';
    snprintf(path, sizeof(path), "%s/uploads/%s", u->k->s->root, u->id);
    if (access(path, F_OK) == 0)
        return STORE_OK;
    problem(u->k, STORE_FSCK_UPLOAD, NULL, u->id,
            "an upload session whose data file is missing",
            u->k->o->repair && store_upload_drop_lost(u->k->s, u->id) == 0);
    return STORE_OK;
}

static int check_uploads(struct fsck *k)
{
    struct upload_check u;
    char dir[PATH_MAX], path[PATH_MAX + 64];
    struct dirent *de;
    struct stat st;
    MDB_txn *txn;
    MDB_val key, val;
    int rc, young;
    DIR *d;

    memset(&u, 0, sizeof(u));
    u.k = k;
    rc = store_utxn_begin(k->s, MDB_RDONLY, &txn);
    if (rc == STORE_NOTFOUND)
        return STORE_OK; /* read-only, without sessions */
    if (rc)
        return rc;
    rc = store_each(txn, k->s->uploads, "", 0, each_session, &u);
    /* the session writes above ran in transactions of their own */
    snprintf(dir, sizeof(dir), "%s/uploads", k->s->root);
    d = rc == STORE_OK ? opendir(dir) : NULL;
    while (d && (de = readdir(d))) {
        if (!upload_id_valid(de->d_name, strlen(de->d_name)))
            continue;
        store_str_val(de->d_name, &key);
        if (mdb_get(txn, k->s->uploads, &key, &val) == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        if (lstat(path, &st))
            continue;
        /* a session's file comes before its record: a young one may */
        young = (long long)st.st_mtime > store_now(k->s) - UPLOAD_YOUNG;
        if (young)
            continue;
        problem(k, STORE_FSCK_UPLOAD, NULL, de->d_name,
                "an upload data file without its session",
                k->o->repair && unlink(path) == 0);
    }
    if (d)
        closedir(d);
    mdb_txn_abort(txn);
    return rc;
}

int store_fsck(struct store *s, const struct store_fsck_options *o,
               struct store_fsck_stats *out)
{
    struct blobs bs = {NULL, 0, 0};
    struct fsck k;
    MDB_txn *txn;
    size_t i;
    int rc;

    if (o->repair && s->rdonly)
        return STORE_READONLY;
    memset(&k, 0, sizeof(k));
    k.s = s;
    k.o = o;
    rc = store_txn_begin(s, MDB_RDONLY, &txn);
    if (rc)
        return rc;
    rc = store_each(txn, s->blobs, "", 0, each_blob_rec, &bs);
    mdb_txn_abort(txn);
    if (rc == STORE_CORRUPT)
        log_err("corrupt blob record in '%s'", s->root);
    for (i = 0; rc == STORE_OK && i < bs.n; i++) {
        check_content(&k, &bs.b[i]);
        k.st.blobs++;
        progress(&k, (long long)i + 1, (long long)bs.n);
    }
    if (rc == STORE_OK)
        rc = check_records(&k, &bs);
    if (rc == STORE_OK)
        rc = check_usage(&k);
    if (rc == STORE_OK)
        rc = check_files(&k);
    if (rc == STORE_OK)
        rc = check_trash(&k);
    if (rc == STORE_OK)
        rc = check_uploads(&k);
    free(bs.b);
    if (rc == STORE_OK && out)
        *out = k.st;
    return rc;
}
