#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/store_private.h"
#include "util/log.h"
#include "util/xalloc.h"

/*
 * Garbage collection (store.h has the contract). Each phase looks in a
 * read transaction for what may go, then removes it in write transactions
 * of at most BATCH removals, each of which looks again at what it removes:
 * between the look and the removal a push may have made it used again. A
 * GC killed at any point leaves a consistent store: every removal is one
 * transaction, and files go only after their record's removal commits
 * (store_trash), or, for files that have no record, under the writer lock
 * that an upload holds while it renames a file into place.
 *
 *   1. trash/: files a crash left there go, or go back
 *   2. tags that the retention rules drop
 *   3. manifests nothing reachable uses (only with untagged_ttl)
 *   4. blob links no manifest of the repository uses; a blob goes with
 *      its last link
 *   4b. beyond the cache's cap (cache_max), the least recently pulled
 *      blobs that the pull-through cache fetched, with all their links
 *   5. files in blobs/ without a record, and empty blobs/ directories
 *   6. upload sessions past their time to live
 *   7. what fetches of the cache left in fetch/ (store_fetch_sweep)
 */

/*
 * A write transaction removes at most BATCH items, and after each the GC
 * waits as long as the transaction took: pushes wait on it for one short
 * transaction at most, and have the writer lock at least half the time
 * while it sweeps (make bench: manifest PUT p99 during a sweep).
 */
#define BATCH 128

/* A list of keys (or names) to look at again; grows. */
struct keys {
    char (*k)[LINK_KEY_MAX];
    size_t n, cap;
};

struct gc {
    struct store *s;
    const struct store_gc_options *o;
    struct store_gc_stats st;
    long long now;
    long long cutoff;      /* what was made, pushed or touched before goes */
    long long done, total; /* progress of the phase at work */
    /*
     * The tags of the repository at work that the retention rules dropped
     * (or, dry, would drop), in name order: the manifests they leave
     * untagged are not kept for being untagged.
     */
    struct keys dropped;
    struct digest *untagged; /* the manifests those tags named */
    size_t nuntagged, untagged_cap;
    /*
     * Dry: the manifests this run would remove ("<repo>\0<digest>"),
     * sorted before the links are looked at, whose users they would stop
     * being.
     */
    struct keys dry_gone;
};

/* Count what went (n things: n > 1 only for sessions) and say so. */
static void report_n(struct gc *g, enum store_gc_kind kind, const char *repo,
                     const char *what, long long n, long long bytes,
                     const char *why)
{
    struct store_gc_event e = {kind, repo, what, n, bytes, why};
    long long *counts[] = {&g->st.tags,    &g->st.manifests, &g->st.links,
                           &g->st.blobs,   &g->st.orphans,   &g->st.trash,
                           &g->st.sessions};

    *counts[kind] += n;
    g->st.bytes += bytes;
    if (g->o->report)
        g->o->report(g->o->ctx, &e);
}

static void report(struct gc *g, enum store_gc_kind kind, const char *repo,
                   const char *what, long long bytes, const char *why)
{
    report_n(g, kind, repo, what, 1, bytes, why);
}

static void progress(struct gc *g, long long n)
{
    g->done += n;
    if (g->o->progress && g->total > 0)
        g->o->progress(g->o->ctx, g->done, g->total);
}

static void keys_add(struct keys *ks, const char *p, size_t len)
{
    BUG_ON(len >= LINK_KEY_MAX);
    if (ks->n == ks->cap) {
        ks->cap = ks->cap ? 2 * ks->cap : BATCH;
        ks->k = xrealloc(ks->k, ks->cap * sizeof(*ks->k));
    }
    memcpy(ks->k[ks->n], p, len);
    ks->k[ks->n++][len] = '\0';
}

/*
 * Run work over the items [0, n) in write transactions of at most BATCH
 * items, each followed by a pause as long as it: work(g, txn, i, arg)
 * looks at item i again and removes it if it still may go. A dry run
 * passes read-only transactions, and work removes nothing.
 */
static int in_batches(struct gc *g, size_t n,
                      int (*work)(struct gc *g, MDB_txn *txn, size_t i,
                                  void *arg),
                      void *arg)
{
    unsigned flags = g->o->dry_run ? MDB_RDONLY : 0;
    struct timespec t0, t1;
    size_t i, start;
    long held;
    MDB_txn *txn;
    int rc = STORE_OK;

    g->done = 0;
    g->total = (long long)n;
    for (i = 0; rc == STORE_OK && i < n;) {
        start = i;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        rc = store_txn_begin(g->s, flags, &txn);
        if (rc)
            break;
        while (rc == STORE_OK && i < n && i - start < BATCH)
            rc = work(g, txn, i++, arg);
        if (g->o->dry_run) {
            mdb_txn_abort(txn);
        } else {
            rc = store_txn_end(g->s, txn, rc);
            clock_gettime(CLOCK_MONOTONIC, &t1);
            held = (t1.tv_sec - t0.tv_sec) * 1000000L +
                   (t1.tv_nsec - t0.tv_nsec) / 1000;
            if (rc == STORE_OK && i < n && held > 0)
                usleep((useconds_t)(held < 1000000 ? held : 1000000));
        }
        progress(g, (long long)(i - start));
    }
    return rc;
}

/* --- 1. trash/ --- */

static int settle_one(struct gc *g, MDB_txn *txn, const char *name)
{
    long long bytes = 0;
    int rc, restored = 0;

    rc = store_trash_settle(g->s, txn, name, g->o->dry_run, &restored, &bytes);
    if (rc == STORE_NOTFOUND)
        return STORE_OK; /* not a blob's: left alone */
    if (rc == STORE_OK && !restored)
        report(g, STORE_GC_TRASH, NULL, name, bytes, NULL);
    return rc;
}

static int settle_trash(struct gc *g)
{
    char dir[PATH_MAX];
    struct keys names = {NULL, 0, 0};
    struct dirent *de;
    MDB_txn *txn;
    size_t i;
    int rc = STORE_OK;
    DIR *d;

    snprintf(dir, sizeof(dir), "%s/trash", g->s->root);
    d = opendir(dir);
    if (!d)
        return errno == ENOENT ? STORE_OK
                               : store_map_errno(errno, "open directory", dir);
    while ((de = readdir(d)))
        if (de->d_name[0] != '.' && strlen(de->d_name) < LINK_KEY_MAX)
            keys_add(&names, de->d_name, strlen(de->d_name));
    closedir(d);
    /* under the writer lock: no other transaction moves files meanwhile */
    for (i = 0; rc == STORE_OK && i < names.n; i++) {
        rc = store_txn_begin(g->s, g->o->dry_run ? MDB_RDONLY : 0, &txn);
        if (rc)
            break;
        rc = settle_one(g, txn, names.k[i]);
        mdb_txn_abort(txn); /* it only read */
    }
    free(names.k);
    return rc;
}

/* --- repositories --- */

static int each_repo_name(void *ctx, const MDB_val *key, const MDB_val *val)
{
    (void)val;
    if (key->mv_size > NAME_MAX_LEN)
        return STORE_CORRUPT;
    keys_add(ctx, key->mv_data, key->mv_size);
    return STORE_OK;
}

static int repo_names(struct store *s, struct keys *repos)
{
    MDB_txn *txn;
    int rc;

    rc = store_txn_begin(s, MDB_RDONLY, &txn);
    if (rc)
        return rc;
    rc = store_each(txn, s->repos, "", 0, each_repo_name, repos);
    mdb_txn_abort(txn);
    return rc;
}

/* --- 2. retention --- */

struct tag_list {
    struct keys names;
    long long *pushed;
    size_t cap;
    struct store *s;
    MDB_txn *txn;
    const char *repo;
};

static int each_tag(void *ctx, const MDB_val *key, const MDB_val *val)
{
    struct tag_list *tl = ctx;
    struct tag_rec rec;

    if (key->mv_size > TAG_MAX_LEN || val->mv_size <= sizeof(rec))
        return store_corrupt("tag record of", tl->repo);
    memcpy(&rec, val->mv_data, sizeof(rec));
    keys_add(&tl->names, key->mv_data, key->mv_size);
    if (tl->cap < tl->names.cap) {
        tl->cap = tl->names.cap;
        tl->pushed = xrealloc(tl->pushed, tl->cap * sizeof(*tl->pushed));
    }
    tl->pushed[tl->names.n - 1] = rec.pushed;
    return STORE_OK;
}

struct retain_sweep {
    const char *repo;
    struct tag_list *tl;
    unsigned char *drop;
    char (*why)[STORE_WHY_MAX];
};

/* Drop tag i, unless it was set again since the rules looked at it. */
static int retain_one(struct gc *g, MDB_txn *txn, size_t i, void *arg)
{
    struct retain_sweep *rs = arg;
    const char *tag = rs->tl->names.k[i];
    struct digest d;
    long long pushed;
    int rc;

    if (!rs->drop[i])
        return STORE_OK;
    rc = store_tag_get(g->s, txn, rs->repo, tag, &d, &pushed);
    if (rc == STORE_NOTFOUND || (rc == STORE_OK && pushed != rs->tl->pushed[i]))
        return STORE_OK; /* gone, or set again since the rules looked */
    if (rc == STORE_OK && !g->o->dry_run) {
        g->s->audit_why = rs->why[i];
        rc = store_tag_drop(g->s, txn, rs->repo, tag);
        g->s->audit_why = NULL;
    }
    if (rc)
        return rc;
    keys_add(&g->dropped, tag, strlen(tag));
    if (g->nuntagged == g->untagged_cap) {
        g->untagged_cap = g->untagged_cap ? 2 * g->untagged_cap : 64;
        g->untagged =
            xrealloc(g->untagged, g->untagged_cap * sizeof(*g->untagged));
    }
    g->untagged[g->nuntagged++] = d;
    report(g, STORE_GC_TAG, rs->repo, tag, 0, rs->why[i]);
    return STORE_OK;
}

/* Whether the retention rules dropped tag (len bytes) at this run. */
static int dropped(const struct gc *g, const char *tag, size_t len)
{
    size_t i;

    /* a repository's dropped tags are few next to its tags */
    for (i = 0; i < g->dropped.n; i++)
        if (strlen(g->dropped.k[i]) == len &&
            !memcmp(g->dropped.k[i], tag, len))
            return 1;
    return 0;
}

static int retain_repo(struct gc *g, const char *repo)
{
    char prefix[NAME_MAX_LEN + 1];
    size_t plen = strlen(repo) + 1, i;
    struct tag_list tl;
    struct store_gc_tag *tags = NULL;
    struct retain_sweep rs;
    int rc;

    memset(&tl, 0, sizeof(tl));
    tl.s = g->s;
    tl.repo = repo;
    memcpy(prefix, repo, plen);
    rc = store_txn_begin(g->s, MDB_RDONLY, &tl.txn);
    if (rc)
        return rc;
    rc = store_each(tl.txn, g->s->tags, prefix, plen, each_tag, &tl);
    mdb_txn_abort(tl.txn);
    if (rc || tl.names.n == 0)
        goto out;
    tags = xcalloc(tl.names.n, sizeof(*tags));
    for (i = 0; i < tl.names.n; i++) {
        tags[i].tag = tl.names.k[i];
        tags[i].pushed = tl.pushed[i];
    }
    rs.repo = repo;
    rs.tl = &tl;
    rs.drop = xcalloc(tl.names.n, 1);
    rs.why = xcalloc(tl.names.n, sizeof(*rs.why));
    rc = g->o->retain(g->o->retain_ctx, repo, tags, tl.names.n, g->now, rs.drop,
                      rs.why);
    if (rc == STORE_OK)
        rc = in_batches(g, tl.names.n, retain_one, &rs);
    free(rs.drop);
    free(rs.why);
out:
    free(tags);
    free(tl.names.k);
    free(tl.pushed);
    return rc;
}

/* --- 3. manifests --- */

/* A manifest of a repository, as the mark phase sees it. */
struct mnode {
    struct digest d;
    long long pushed;
    int tagged, untagged_now, live, gone;
    long subject;  /* index of the subject, or -1 */
    long *parents; /* indexes of the manifests that list it */
    size_t nparents;
};

struct mgraph {
    struct mnode *m;
    size_t n, cap;
    struct gc *g;
    struct store *s;
    MDB_txn *txn;
    const char *repo;
};

static int each_mrec(void *ctx, const MDB_val *key, const MDB_val *val)
{
    struct mgraph *mg = ctx;
    struct mnode *m;
    struct mrec_hdr h;

    if (val->mv_size < sizeof(h))
        return store_corrupt("manifest record in", mg->repo);
    memcpy(&h, val->mv_data, sizeof(h));
    if (mg->n == mg->cap) {
        mg->cap = mg->cap ? 2 * mg->cap : 64;
        mg->m = xrealloc(mg->m, mg->cap * sizeof(*mg->m));
    }
    m = &mg->m[mg->n];
    memset(m, 0, sizeof(*m));
    m->subject = -1;
    m->pushed = h.pushed;
    if (digest_parse(&m->d, key->mv_data, key->mv_size))
        return store_corrupt("manifest key in", mg->repo);
    mg->n++;
    return STORE_OK;
}

/* The index of d among the manifests (sorted by digest string), or -1. */
static long mfind(const struct mgraph *mg, const struct digest *d)
{
    size_t i;

    /* digests sort as their strings; a linear scan keeps this simple */
    for (i = 0; i < mg->n; i++)
        if (digest_equal(&mg->m[i].d, d))
            return (long)i;
    return -1;
}

/*
 * Whether manifest m (its mtags key) has tags other than those the
 * retention rules dropped (which a dry run leaves there), and whether
 * the rules untagged it just now.
 */
static int mark_tags(struct mgraph *mg, MDB_val *key, struct mnode *m)
{
    MDB_cursor *cur;
    MDB_val val;
    size_t i;
    int rc;

    for (i = 0; i < mg->g->nuntagged && !m->untagged_now; i++)
        m->untagged_now = digest_equal(&mg->g->untagged[i], &m->d);
    rc = mdb_cursor_open(mg->txn, mg->s->mtags, &cur);
    if (rc)
        return store_map_mdb_rc(rc, "mdb_cursor_open mtags");
    for (rc = mdb_cursor_get(cur, key, &val, MDB_SET_KEY); rc == 0;
         rc = mdb_cursor_get(cur, key, &val, MDB_NEXT_DUP))
        if (!dropped(mg->g, val.mv_data, val.mv_size))
            m->tagged = 1;
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? STORE_OK
                              : store_map_mdb_rc(rc, "mdb_cursor_get mtags");
}

/* Tags, subjects and parents of every manifest, within mg->txn. */
static int mgraph_links(struct mgraph *mg)
{
    char kbuf[LINK_KEY_MAX], dstr[DIGEST_STR_MAX];
    struct digest p;
    MDB_cursor *cur;
    MDB_val key, val;
    struct mrec r;
    size_t i;
    int rc = STORE_OK;

    for (i = 0; rc == STORE_OK && i < mg->n; i++) {
        struct mnode *m = &mg->m[i];

        digest_format(&m->d, dstr);
        store_pair_key(kbuf, mg->repo, dstr, &key);
        rc = mark_tags(mg, &key, m);
        if (rc == STORE_OK)
            rc = store_mrec_get(mg->s, mg->txn, mg->repo, &m->d, &r);
        if (rc)
            break;
        if (r.h.subject_len &&
            digest_parse(&p, r.subject, r.h.subject_len) == 0)
            m->subject = mfind(mg, &p);
        rc = mdb_cursor_open(mg->txn, mg->s->usedby, &cur);
        if (rc)
            return store_map_mdb_rc(rc, "mdb_cursor_open usedby");
        for (rc = mdb_cursor_get(cur, &key, &val, MDB_SET_KEY); rc == 0;
             rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT_DUP)) {
            long j;

            if (digest_parse(&p, val.mv_data, val.mv_size))
                continue;
            j = mfind(mg, &p);
            if (j < 0)
                continue;
            m->parents =
                xrealloc(m->parents, (m->nparents + 1) * sizeof(*m->parents));
            m->parents[m->nparents++] = j;
        }
        mdb_cursor_close(cur);
        rc = rc == MDB_NOTFOUND ? STORE_OK
                                : store_map_mdb_rc(rc, "mdb_cursor_get usedby");
    }
    return rc;
}

/*
 * Mark: the roots are the tagged manifests and the untagged ones younger
 * than untagged_ttl (all of them while it is off), but not those whose
 * last tag the retention rules took in this run; what a live index lists
 * is live, and so is a referrer of a live manifest.
 */
static void mark(struct gc *g, struct mgraph *mg)
{
    size_t i, j;
    int changed = 1;

    for (i = 0; i < mg->n; i++) {
        struct mnode *m = &mg->m[i];

        /* what the retention rules untagged in this run goes now */
        m->live = m->tagged || (!m->untagged_now &&
                                (g->o->untagged_ttl < 0 ||
                                 m->pushed >= g->now - g->o->untagged_ttl));
    }
    while (changed) {
        changed = 0;
        for (i = 0; i < mg->n; i++) {
            struct mnode *m = &mg->m[i];

            if (m->live)
                continue;
            for (j = 0; j < m->nparents && !m->live; j++)
                m->live = mg->m[m->parents[j]].live;
            if (!m->live && m->subject >= 0)
                m->live = mg->m[m->subject].live;
            changed |= m->live;
        }
    }
}

/*
 * Drop manifest i if it still may go: there, pushed no later than the
 * mark saw, untagged, listed by no index, without a subject that is
 * there. One that must wait for another candidate goes in a later pass.
 */
static int manifest_one(struct gc *g, MDB_txn *txn, size_t i, void *arg)
{
    struct mgraph *mg = arg;
    struct mnode *m = &mg->m[i];
    char kbuf[LINK_KEY_MAX], dstr[DIGEST_STR_MAX];
    struct digest subj;
    MDB_val key, val;
    struct mrec r;
    int rc;

    /* the grace is for a push under way; the rules' decision is made */
    if (m->live || m->gone || (m->pushed >= g->cutoff && !m->untagged_now))
        return STORE_OK;
    if (!g->o->dry_run) {
        rc = store_mrec_get(g->s, txn, mg->repo, &m->d, &r);
        if (rc == STORE_NOTFOUND) {
            m->gone = 1;
            return STORE_OK;
        }
        if (rc)
            return rc;
        if (r.h.pushed != m->pushed)
            return STORE_OK; /* pushed again */
        if (r.h.subject_len &&
            digest_parse(&subj, r.subject, r.h.subject_len) == 0) {
            rc = store_mrec_get(g->s, txn, mg->repo, &subj, &r);
            if (rc != STORE_NOTFOUND)
                return rc; /* its subject is there: wait */
        }
        digest_format(&m->d, dstr);
        store_pair_key(kbuf, mg->repo, dstr, &key);
        if (mdb_get(txn, g->s->mtags, &key, &val) == 0)
            return STORE_OK; /* tagged since */
        g->s->audit_why = m->untagged_now
                              ? "the retention rules took its last tag"
                              : "untagged for longer than untagged_ttl";
        rc = store_manifest_drop(g->s, txn, mg->repo, &m->d, NULL);
        g->s->audit_why = NULL;
        if (rc == STORE_IN_USE)
            return STORE_OK; /* an index lists it: wait */
        if (rc)
            return rc;
    } else {
        size_t j;

        /* dry: it waits for a parent or subject that stays */
        for (j = 0; j < m->nparents; j++)
            if (!mg->m[m->parents[j]].gone)
                return STORE_OK;
        if (m->subject >= 0 && !mg->m[m->subject].gone)
            return STORE_OK;
    }
    m->gone = 1;
    digest_format(&m->d, dstr);
    if (g->o->dry_run) {
        store_link_key(kbuf, mg->repo, &m->d, &key);
        keys_add(&g->dry_gone, key.mv_data, key.mv_size);
    }
    /* not live (mark()): untagged, and no live index or subject keeps it */
    report(g, STORE_GC_MANIFEST, mg->repo, dstr, 0,
           m->untagged_now ? "the retention rules took its last tag"
                           : "untagged for longer than untagged_ttl");
    return STORE_OK;
}

static int manifests_repo(struct gc *g, const char *repo)
{
    char prefix[NAME_MAX_LEN + 1];
    size_t plen = strlen(repo) + 1, i;
    struct mgraph mg;
    long long before;
    int rc;

    memset(&mg, 0, sizeof(mg));
    mg.g = g;
    mg.s = g->s;
    mg.repo = repo;
    memcpy(prefix, repo, plen);
    rc = store_txn_begin(g->s, MDB_RDONLY, &mg.txn);
    if (rc)
        return rc;
    rc = store_each(mg.txn, g->s->manifests, prefix, plen, each_mrec, &mg);
    if (rc == STORE_OK)
        rc = mgraph_links(&mg);
    mdb_txn_abort(mg.txn);
    if (rc == STORE_OK)
        mark(g, &mg);
    /* an index goes before what it lists: passes until one drops nothing */
    do {
        before = g->st.manifests;
        if (rc == STORE_OK)
            rc = in_batches(g, mg.n, manifest_one, &mg);
    } while (rc == STORE_OK && g->st.manifests > before);
    for (i = 0; i < mg.n; i++)
        free(mg.m[i].parents);
    free(mg.m);
    return rc;
}

/* --- 4. blob links --- */

struct link_scan {
    struct gc *g;
    MDB_txn *txn;
    struct keys cand; /* "<repo>\0<digest>" as "<repo> <digest>" */
};

static int cmp_key(const void *a, const void *b)
{
    const char *ka = a, *kb = b;
    size_t la = strlen(ka);
    int c = strcmp(ka, kb);

    /* "<repo>\0<digest>": the repository, then the digest */
    return c ? c : strcmp(ka + la + 1, kb + la + 1);
}

/*
 * Dry: whether every manifest of repo that uses d is one this run would
 * remove; the real run would then release the link now.
 */
static int dry_users_gone(struct gc *g, MDB_txn *txn, const char *repo,
                          const struct digest *d, int *gone)
{
    char kbuf[LINK_KEY_MAX], ubuf[LINK_KEY_MAX];
    struct digest u;
    MDB_cursor *cur;
    MDB_val key, val, ukey;
    int rc;

    *gone = 1;
    store_link_key(kbuf, repo, d, &key);
    rc = mdb_cursor_open(txn, g->s->usedby, &cur);
    if (rc)
        return store_map_mdb_rc(rc, "mdb_cursor_open usedby");
    for (rc = mdb_cursor_get(cur, &key, &val, MDB_SET_KEY); rc == 0 && *gone;
         rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT_DUP)) {
        if (digest_parse(&u, val.mv_data, val.mv_size))
            continue;
        memset(ubuf, 0, sizeof(ubuf));
        store_link_key(ubuf, repo, &u, &ukey);
        *gone =
            g->dry_gone.n && bsearch(ubuf, g->dry_gone.k, g->dry_gone.n,
                                     sizeof(*g->dry_gone.k), cmp_key) != NULL;
    }
    mdb_cursor_close(cur);
    if (rc == 0 || rc == MDB_NOTFOUND)
        return STORE_OK;
    return store_map_mdb_rc(rc, "mdb_cursor_get usedby");
}

/*
 * Whether the link of repo to d may go: no manifest of repo uses it, the
 * grace has passed since it was made or released (at --grace 0, a
 * release in this run counts as passed), and since a client last asked
 * for it.
 */
static int link_unused(struct gc *g, MDB_txn *txn, const char *repo,
                       const struct digest *d)
{
    struct link_rec link;
    int rc, gone;

    rc = store_link_get(g->s, txn, repo, d, &link);
    if (rc)
        return rc;
    rc = store_usedby(g->s, txn, repo, d, NULL);
    if (rc == STORE_OK && g->o->dry_run) {
        /* released now, by the manifests this run would remove */
        rc = dry_users_gone(g, txn, repo, d, &gone);
        if (rc)
            return rc;
        if (!gone)
            return STORE_IN_USE;
        link.released = g->now;
    } else if (rc == STORE_OK) {
        return STORE_IN_USE;
    } else if (rc != STORE_NOTFOUND) {
        return rc;
    }
    /* a client's ask holds it a minute at least, whatever the grace */
    if (link.released > g->cutoff || link.asked > g->cutoff ||
        link.asked > g->now - STORE_ASK_HOLD)
        return STORE_IN_USE;
    return STORE_OK;
}

/* Split "<repo>\0<d>" (len bytes) into repo and d. */
static int split_key(const char *key, size_t len, char *repo, struct digest *d)
{
    size_t rlen = strnlen(key, len);

    if (rlen > NAME_MAX_LEN || rlen + 1 >= len)
        return -1;
    memcpy(repo, key, rlen);
    repo[rlen] = '\0';
    return digest_parse(d, key + rlen + 1, len - rlen - 1);
}

/* Split candidate i, a link key keys_add() copied, into repo and d. */
static int cand_link(const struct keys *cand, size_t i, char *repo,
                     struct digest *d)
{
    const char *k = cand->k[i];
    size_t rlen = strlen(k); /* the key's NUL made the copy two strings */

    return split_key(k, rlen + 1 + strlen(k + rlen + 1), repo, d);
}

static int each_link(void *ctx, const MDB_val *key, const MDB_val *val)
{
    struct link_scan *ls = ctx;
    char repo[NAME_MAX_LEN + 1];
    struct digest d;
    int rc;

    (void)val;
    if (split_key(key->mv_data, key->mv_size, repo, &d))
        return store_corrupt("link key in", ls->g->s->root);
    rc = link_unused(ls->g, ls->txn, repo, &d);
    if (rc == STORE_IN_USE)
        return STORE_OK;
    if (rc)
        return rc;
    keys_add(&ls->cand, key->mv_data, key->mv_size);
    return STORE_OK;
}

static int link_one(struct gc *g, MDB_txn *txn, size_t i, void *arg)
{
    struct keys *cand = arg;
    char repo[NAME_MAX_LEN + 1], dstr[DIGEST_STR_MAX];
    long long freed = 0;
    struct blob_rec rec;
    struct digest d;
    int rc;

    if (cand_link(cand, i, repo, &d))
        return store_corrupt("link key in", g->s->root);
    rc = link_unused(g, txn, repo, &d);
    if (rc == STORE_IN_USE || rc == STORE_NOTFOUND)
        return STORE_OK; /* used, touched or gone since the look */
    if (rc == STORE_OK && !g->o->dry_run)
        rc = store_blob_unlink(g->s, txn, repo, &d, NULL, &freed);
    /* dry: a blob frees its bytes when this is its only link */
    else if (rc == STORE_OK && store_blob_rec(g->s, txn, &d, &rec) == 0)
        freed = rec.refs <= 1 ? (long long)rec.size : 0;
    if (rc)
        return rc;
    digest_format(&d, dstr);
    report(g, STORE_GC_LINK, repo, dstr, 0, NULL);
    if (freed)
        report(g, STORE_GC_BLOB, NULL, dstr, freed, NULL);
    return STORE_OK;
}

static int sweep_links(struct gc *g)
{
    struct link_scan ls = {g, NULL, {NULL, 0, 0}};
    int rc;

    /* what the manifests removed released, it released before this */
    g->now = store_now(g->s);
    g->cutoff = g->now - g->o->grace;
    if (g->dry_gone.n)
        qsort(g->dry_gone.k, g->dry_gone.n, sizeof(*g->dry_gone.k), cmp_key);

    rc = store_txn_begin(g->s, MDB_RDONLY, &ls.txn);
    if (rc)
        return rc;
    rc = store_each(ls.txn, g->s->links, "", 0, each_link, &ls);
    mdb_txn_abort(ls.txn);
    if (rc == STORE_OK)
        rc = in_batches(g, ls.cand.n, link_one, &ls.cand);
    free(ls.cand.k);
    return rc;
}

/* --- 4b. the pull-through cache's cap --- */

/* A blob the cache fetched, and when it was last pulled. */
struct cached {
    struct digest d;
    long long pulled, size;
};

struct cache_scan {
    struct gc *g;
    MDB_txn *txn;
    struct cached *v;
    size_t n, cap;
    long long total;
};

static int each_cached(void *ctx, const MDB_val *key, const MDB_val *val)
{
    struct cache_scan *cs = ctx;
    struct blob_rec rec;
    struct cached *c;

    if (val->mv_size != sizeof(rec))
        return store_corrupt("blob record", cs->g->s->root);
    memcpy(&rec, val->mv_data, sizeof(rec));
    if (!(rec.flags & BLOB_CACHED))
        return STORE_OK;
    if (cs->n == cs->cap) {
        cs->cap = cs->cap ? 2 * cs->cap : BATCH;
        cs->v = xrealloc(cs->v, cs->cap * sizeof(*cs->v));
    }
    c = &cs->v[cs->n];
    if (digest_parse(&c->d, key->mv_data, key->mv_size))
        return store_corrupt("blob key in", cs->g->s->root);
    c->size = (long long)rec.size;
    c->pulled = store_pull_get(cs->g->s, cs->txn, &c->d);
    cs->total += c->size;
    cs->n++;
    return STORE_OK;
}

static int cmp_pulled(const void *a, const void *b)
{
    const struct cached *x = a, *y = b;

    return (x->pulled > y->pulled) - (x->pulled < y->pulled);
}

static int cmp_digest(const void *a, const void *b)
{
    const struct digest *x = a, *y = b;

    if (x->alg != y->alg)
        return (int)x->alg - (int)y->alg;
    return strcmp(x->hex, y->hex);
}

/* The links of the blobs chosen (sorted digests), to be evicted. */
struct evict_scan {
    const char *root; /* the store's, for a corrupt key's report */
    struct digest *chosen;
    size_t n;
    struct keys cand;
};

static int each_evict_link(void *ctx, const MDB_val *key, const MDB_val *val)
{
    struct evict_scan *es = ctx;
    char repo[NAME_MAX_LEN + 1];
    struct digest d;

    (void)val;
    if (split_key(key->mv_data, key->mv_size, repo, &d))
        return store_corrupt("link key in", es->root);
    if (bsearch(&d, es->chosen, es->n, sizeof(d), cmp_digest))
        keys_add(&es->cand, key->mv_data, key->mv_size);
    return STORE_OK;
}

static int evict_one(struct gc *g, MDB_txn *txn, size_t i, void *arg)
{
    struct keys *cand = arg;
    char repo[NAME_MAX_LEN + 1], dstr[DIGEST_STR_MAX];
    long long freed = 0;
    struct blob_rec rec;
    struct digest d;
    int rc;

    if (cand_link(cand, i, repo, &d))
        return store_corrupt("link key in", g->s->root);
    rc = store_linked_rec(g->s, txn, repo, &d, &rec);
    /* gone, or pushed (the registry's own now) since the look */
    if (rc == STORE_NOTFOUND || (rc == STORE_OK && !(rec.flags & BLOB_CACHED)))
        return STORE_OK;
    if (rc == STORE_OK && !g->o->dry_run)
        rc = store_blob_evict(g->s, txn, repo, &d, &freed);
    else if (rc == STORE_OK)
        freed = rec.refs <= 1 ? (long long)rec.size : 0;
    if (rc)
        return rc;
    digest_format(&d, dstr);
    report(g, STORE_GC_LINK, repo, dstr, 0, "cache over cache_max");
    if (freed)
        report(g, STORE_GC_BLOB, NULL, dstr, freed,
               "cache over cache_max: least recently pulled");
    return STORE_OK;
}

static int evict_cache(struct gc *g)
{
    struct cache_scan cs = {g, NULL, NULL, 0, 0, 0};
    struct evict_scan es = {g->s->root, NULL, 0, {NULL, 0, 0}};
    long long over;
    size_t i;
    int rc;

    rc = store_txn_begin(g->s, MDB_RDONLY, &cs.txn);
    if (rc)
        return rc;
    rc = store_each(cs.txn, g->s->blobs, "", 0, each_cached, &cs);
    mdb_txn_abort(cs.txn);
    over = cs.total - g->o->cache_max;
    if (rc || over <= 0)
        goto out;
    /* the least recently pulled first, until the rest fits */
    qsort(cs.v, cs.n, sizeof(*cs.v), cmp_pulled);
    es.chosen = xcalloc(cs.n ? cs.n : 1, sizeof(*es.chosen));
    for (i = 0; i < cs.n && over > 0; i++) {
        es.chosen[es.n++] = cs.v[i].d;
        over -= cs.v[i].size;
    }
    qsort(es.chosen, es.n, sizeof(*es.chosen), cmp_digest);
    rc = store_txn_begin(g->s, MDB_RDONLY, &cs.txn);
    if (rc)
        goto out;
    rc = store_each(cs.txn, g->s->links, "", 0, each_evict_link, &es);
    mdb_txn_abort(cs.txn);
    if (rc == STORE_OK)
        rc = in_batches(g, es.cand.n, evict_one, &es.cand);
out:
    free(es.cand.k);
    free(es.chosen);
    free(cs.v);
    return rc;
}

/* --- 5. files in blobs/ without a record --- */

struct orphans {
    struct keys files; /* "<alg>/<h2>/<hex>" below blobs/ */
    struct keys dirs;  /* "<alg>/<h2>" */
};

/* Whether blob d has a file that its record accounts for, within txn. */
static int has_file_record(struct gc *g, MDB_txn *txn, const struct digest *d)
{
    struct blob_rec rec;
    int rc = store_blob_rec(g->s, txn, d, &rec);

    if (rc == STORE_NOTFOUND)
        return 0;
    return rc ? -1 : !(rec.flags & BLOB_INLINE);
}

/* The digest of the file "<alg>/<h2>/<hex>". */
static int file_digest(const char *rel, struct digest *d)
{
    char str[DIGEST_STR_MAX];
    const char *a = rel, *h2 = strchr(rel, '/'), *hex;

    if (!h2 || !(hex = strchr(h2 + 1, '/')) || (size_t)(h2 - a) > 16 ||
        hex - h2 - 1 != 2 || strncmp(h2 + 1, hex + 1, 2))
        return -1;
    if (snprintf(str, sizeof(str), "%.*s:%s", (int)(h2 - a), a, hex + 1) >=
        (int)sizeof(str))
        return -1;
    return digest_parse(d, str, strlen(str));
}

static int scan_blobs(struct gc *g, struct orphans *o)
{
    char dir[PATH_MAX], sub[PATH_MAX + 512], path[PATH_MAX + 1024];
    DIR *da, *dh, *df;
    struct dirent *a, *h, *f;
    struct digest d;
    struct stat st;
    MDB_txn *txn;
    int rc, known;

    snprintf(dir, sizeof(dir), "%s/blobs", g->s->root);
    da = opendir(dir);
    if (!da)
        return store_map_errno(errno, "open directory", dir);
    rc = store_txn_begin(g->s, MDB_RDONLY, &txn);
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
        while (rc == STORE_OK && (h = readdir(dh))) {
            if (h->d_name[0] == '.')
                continue;
            snprintf(path, sizeof(path), "%s/%s/%s", dir, a->d_name, h->d_name);
            df = opendir(path);
            if (!df)
                continue;
            snprintf(sub, sizeof(sub), "%s/%s", a->d_name, h->d_name);
            keys_add(&o->dirs, sub, strlen(sub));
            while (rc == STORE_OK && (f = readdir(df))) {
                char rel[LINK_KEY_MAX];

                if (f->d_name[0] == '.')
                    continue;
                if (snprintf(rel, sizeof(rel), "%s/%s/%s", a->d_name, h->d_name,
                             f->d_name) >= (int)sizeof(rel))
                    continue;
                snprintf(path, sizeof(path), "%s/%s", dir, rel);
                if (file_digest(rel, &d) || lstat(path, &st) ||
                    !S_ISREG(st.st_mode)) {
                    log_warn("'%s' is not a blob file: left alone", path);
                    continue;
                }
                if (st.st_mtime >= g->cutoff)
                    continue; /* an upload may be committing it */
                known = has_file_record(g, txn, &d);
                if (known < 0)
                    rc = STORE_IO;
                else if (!known)
                    keys_add(&o->files, rel, strlen(rel));
            }
            closedir(df);
        }
        closedir(dh);
    }
    mdb_txn_abort(txn);
    closedir(da);
    return rc;
}

/*
 * Remove orphan i if it still has no record. The write transaction holds
 * the writer lock, under which an upload renames its file into place and
 * commits its record: a file without a record now is none of theirs.
 */
static int orphan_one(struct gc *g, MDB_txn *txn, size_t i, void *arg)
{
    struct orphans *o = arg;
    char path[PATH_MAX + LINK_KEY_MAX];
    struct digest d;
    struct stat st;
    int known;

    snprintf(path, sizeof(path), "%s/blobs/%s", g->s->root, o->files.k[i]);
    if (file_digest(o->files.k[i], &d) || lstat(path, &st))
        return STORE_OK;
    known = has_file_record(g, txn, &d);
    if (known < 0)
        return STORE_IO;
    if (known)
        return STORE_OK;
    if (!g->o->dry_run && unlink(path) && errno != ENOENT)
        return store_map_errno(errno, "remove", path);
    report(g, STORE_GC_ORPHAN, NULL, o->files.k[i], (long long)st.st_size,
           NULL);
    return STORE_OK;
}

/* Remove the fan-out directory i if it is empty, under the writer lock. */
static int dir_one(struct gc *g, MDB_txn *txn, size_t i, void *arg)
{
    struct orphans *o = arg;
    char path[PATH_MAX + LINK_KEY_MAX];

    (void)txn; /* held for the writer lock */
    if (g->o->dry_run)
        return STORE_OK;
    snprintf(path, sizeof(path), "%s/blobs/%s", g->s->root, o->dirs.k[i]);
    if (rmdir(path) && errno != ENOTEMPTY && errno != EEXIST && errno != ENOENT)
        return store_map_errno(errno, "remove directory", path);
    return STORE_OK;
}

static int sweep_orphans(struct gc *g)
{
    struct orphans o;
    int rc;

    memset(&o, 0, sizeof(o));
    rc = scan_blobs(g, &o);
    if (rc == STORE_OK)
        rc = in_batches(g, o.files.n, orphan_one, &o);
    if (rc == STORE_OK)
        rc = in_batches(g, o.dirs.n, dir_one, &o);
    free(o.files.k);
    free(o.dirs.k);
    return rc;
}

/* --- the whole --- */

int store_gc_lock(struct store *s, int *fd)
{
    char path[PATH_MAX];

    snprintf(path, sizeof(path), "%s/gc.lock", s->root);
    *fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (*fd < 0)
        return store_map_errno(errno, "open", path);
    if (flock(*fd, LOCK_EX | LOCK_NB) == 0)
        return STORE_OK;
    close(*fd);
    *fd = -1;
    return errno == EWOULDBLOCK ? STORE_LOCKED
                                : store_map_errno(errno, "lock", path);
}

static int sessions(struct gc *g)
{
    char n[32];
    int count = 0, rc;

    if (g->o->dry_run)
        return STORE_OK;
    rc = store_upload_purge(g->s, g->o->upload_ttl, &count);
    if (rc == STORE_OK && count) {
        snprintf(n, sizeof(n), "%d", count);
        report_n(g, STORE_GC_SESSION, NULL, n, count, 0, NULL);
    }
    return rc;
}

/* What fetches left in fetch/ (a crash's .part, a failure's lock). */
static int fetch_leftovers(struct gc *g)
{
    long long n = 0;
    int rc;

    if (g->o->dry_run)
        return STORE_OK;
    rc = store_fetch_sweep(g->s, &n);
    if (rc == STORE_OK && n)
        log_info("removed %lld files that fetches left in fetch/", n);
    return rc;
}

static int record_end(struct gc *g)
{
    MDB_txn *txn;
    int rc;

    if (g->o->dry_run)
        return STORE_OK;
    rc = store_txn_begin(g->s, 0, &txn);
    return rc ? rc
              : store_txn_end(
                    g->s, txn,
                    store_info_put(g->s, txn, "gc_last", store_now(g->s)));
}

/*
 * The audit log back within its bounds, whatever the appends left (none
 * may have come since the retention passed). In one transaction: what
 * goes is a little more than a GC's share of appends.
 */
static int audit_prune(struct gc *g)
{
    long long n = 0;
    int rc;

    if (g->o->dry_run)
        return STORE_OK;
    rc = store_audit_prune(g->s, 0, &n);
    if (rc == STORE_OK && n)
        log_info("removed %lld entries of the audit log", n);
    return rc;
}

int store_gc(struct store *s, const struct store_gc_options *o,
             struct store_gc_stats *out)
{
    char user[sizeof(s->actor_user)], addr[sizeof(s->actor_addr)];
    struct keys repos = {NULL, 0, 0};
    struct gc g;
    size_t i;
    int rc, fd = -1;

    if (s->rdonly && !o->dry_run)
        return STORE_READONLY;
    memset(&g, 0, sizeof(g));
    g.s = s;
    g.o = o;
    g.now = store_now(s);
    g.cutoff = g.now - o->grace;
    if (!o->dry_run) {
        rc = store_gc_lock(s, &fd);
        if (rc)
            return rc;
    }
    /* what it removes is the user "gc"'s in the audit log */
    memcpy(user, s->actor_user, sizeof(user));
    memcpy(addr, s->actor_addr, sizeof(addr));
    store_set_actor(s, "gc", "local");
    rc = settle_trash(&g);
    if (rc == STORE_OK && (o->retain || o->untagged_ttl >= 0))
        rc = repo_names(s, &repos);
    for (i = 0; rc == STORE_OK && i < repos.n; i++) {
        g.dropped.n = 0;
        g.nuntagged = 0;
        if (o->retain)
            rc = retain_repo(&g, repos.k[i]);
        if (rc == STORE_OK && (o->untagged_ttl >= 0 || g.dropped.n))
            rc = manifests_repo(&g, repos.k[i]);
    }
    free(g.dropped.k);
    free(g.untagged);
    if (rc == STORE_OK)
        rc = sweep_links(&g);
    free(g.dry_gone.k);
    if (rc == STORE_OK && o->cache_max > 0)
        rc = evict_cache(&g);
    if (rc == STORE_OK)
        rc = sweep_orphans(&g);
    if (rc == STORE_OK)
        rc = sessions(&g);
    if (rc == STORE_OK)
        rc = fetch_leftovers(&g);
    if (rc == STORE_OK)
        rc = record_end(&g);
    if (rc == STORE_OK)
        rc = audit_prune(&g);
    free(repos.k);
    store_set_actor(s, user, addr);
    if (fd >= 0)
        close(fd); /* drops the lock */
    if (rc == STORE_OK && out)
        *out = g.st;
    return rc;
}

int store_gc_last(struct store *s, long long *when)
{
    return store_info_read(s, "gc_last", when);
}
