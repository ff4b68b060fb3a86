#ifndef BERTH_STORE_STORE_PRIVATE_H
#define BERTH_STORE_STORE_PRIVATE_H

#include <limits.h>
#include <stdint.h>

#include <lmdb.h>

#include "store/store.h"

/*
 * Layout under the storage root, format 2 (one comment, as in
 * distribution's registry/storage/paths.go):
 *
 *   <root>/meta/data.mdb, lock.mdb    the LMDB environment
 *   <root>/sessions/                  a second one, for upload sessions
 *   <root>/blobs/<alg>/<h2>/<hex>      blob content; <h2> = hex[0..2]
 *   <root>/uploads/<id>                data of upload session <id>
 *   <root>/trash/<alg>-<hex>           a blob file on its way out
 *   <root>/fetch/<alg>-<hex>.lock      flock()ed by the one worker that
 *                                      fetches blob <alg>:<hex> from an
 *                                      upstream (store/fetch.c)
 *   <root>/fetch/<alg>-<hex>.part      what it has fetched so far
 *   <root>/gc.lock                     flock()ed by the one GC at work
 *
 * A blob file exists only once its content has been fsynced and checked
 * against its digest: it is rename()d into place from uploads/. Blob
 * files are never modified after that. When the last repository link
 * goes, the write transaction that drops the blob's record moves the file
 * to trash/, and it is unlinked after the commit: a crash in between
 * leaves a file in trash/ that has a record (put back) or has none
 * (removed), which the GC and fsck settle (store/gc.c).
 *
 * LMDB databases; keys are bytes, "\0" is a literal NUL separator, <d>
 * a digest string "<alg>:<hex>":
 *
 *   blobs     "<d>"                -> struct blob_rec
 *   inline    "<d>"                -> the bytes of a blob kept in LMDB
 *                                      (BLOB_INLINE), which has no file
 *   links     "<repo>\0<d>"         -> struct link_rec: repo links the
 *                                      blob, and when it last asked for it
 *   manifests "<repo>\0<d>"         -> manifest record (store/manifest.c)
 *   tags      "<repo>\0<tag>"       -> struct tag_rec, then "<d>" of the
 *                                      manifest it names
 *   mtags     "<repo>\0<d>"         -> dup-sorted "<tag>": tags naming d
 *   referrers "<repo>\0<subject d>" -> dup-sorted "<d>": manifests of
 *                                      repo whose subject is that digest
 *   usedby    "<repo>\0<d>"         -> dup-sorted "<m>": manifests of repo
 *                                      that reference blob or manifest d
 *                                      (config, layers, index entries)
 *   repos     "<repo>"             -> struct repo_rec (store/repo.c)
 *   usage     "<ns>"               -> int64_t: the bytes namespace ns
 *                                      holds (store/usage.c): a repo,
 *                                      "<prefix>/", or "*" for the store
 *   nslinks   "<prefix>/\0<d>"     -> uint64_t: how many repos under
 *                                      prefix/ link blob d
 *   catalog   "<repo>"             -> repos the catalog lists: the
 *                                      repo's description (for docker
 *                                      search; "" until a tagged push
 *                                      brings one, and in stores older
 *                                      than descriptions)
 *   info      "<name>"             -> a decimal number (store/info.c):
 *                                      format, maintenance, gc_last
 *   audit     <t>                  -> the audit log (store/audit.c): t
 *                                      the time in microseconds since
 *                                      the epoch, 8 bytes big-endian,
 *                                      one more than the last entry's
 *                                      if the clock is not past it, so
 *                                      that keys sort by commit and
 *                                      never repeat; the value is
 *                                      event, user, addr, repo, ref,
 *                                      digest, old and note, each ended
 *                                      by a NUL
 *   pulls     "<d>"                -> int64_t: when a client last pulled
 *                                      blob d, which the pull-through cache
 *                                      fetched (BLOB_CACHED), written at
 *                                      most every STORE_PULL_SLACK seconds;
 *                                      the cache's eviction order
 *                                      (store/fetch.c, store/gc.c)
 *   hooks     "c<name>"            -> the cursor of webhook name
 *                                      (store/hooks.c): 8 bytes, the
 *                                      time of an audit entry, BE
 *             "h"                  -> the hold: the least cursor
 *             "d<name>\0<t>"       -> a dead letter: failed (8), attempts
 *                                      (8), queued (1), why and NUL, then
 *                                      the audit entry's value
 *   uploads   "<id>"               -> upload record (store/upload.c), in
 *                                      the sessions environment, which is
 *                                      never fsynced (store.c)
 *
 * Invariants kept by write transactions (serialised across processes by
 * LMDB's writer lock): a links entry implies a blobs entry; blob_rec.refs
 * counts the links entries of that digest; the blob file is renamed into
 * place and unlinked only inside the write transaction that adds or drops
 * the blobs entry, so two workers cannot race between file and record.
 * tags and mtags mirror each other; a tag names a manifest of its repo;
 * usedby holds exactly the references of the manifests there are (a
 * manifest's blobs and children are in its repo: store_manifest_put
 * checks); repo_rec counts the links, manifests and tags entries of its
 * repo; usage holds, for each namespace, the sizes of the distinct blobs
 * its repos link and the bytes of their manifest records, and nslinks
 * the links under each prefix (store/usage.c). Times are seconds since
 * the epoch.
 *
 * Keys stay below LMDB's 511-byte limit: 255 (name) + 1 + 135 (digest);
 * dup-sorted values are digests or tags, far below it too.
 */

/* Where an environment's data file is mapped (store_trim). */
struct store_map {
    void *addr; /* NULL when unknown */
    size_t len;
};

/* What store_trim() remembers between calls (store/pages.c). */
struct store_trim {
    int statm;     /* /proc/self/statm, or -1: then no trimming */
    long base;     /* file-backed bytes resident after the last release */
    unsigned tick; /* calls since the last look */
};

/* How far an environment's map may grow (env_grow() in store/store.c). */
struct store_env_size {
    size_t max;      /* the most it may take */
    int due;         /* a write found it full: grow it before the next */
    const char *key; /* the config key of max, for messages */
};

struct store {
    MDB_env *env;  /* everything but upload sessions */
    MDB_env *uenv; /* upload sessions; NULL when STORE_RDONLY found none */
    MDB_dbi blobs, links, repos, uploads, ucounts, info, usedby;
    MDB_dbi manifests, tags, mtags, referrers, catalog, inlined;
    MDB_dbi usage, nslinks;
    MDB_dbi audit;        /* 0: none (a read-only open of a root without it) */
    MDB_dbi pulls;        /* 0: none, as audit */
    MDB_dbi hooks;        /* 0: none, as audit */
    long long inline_max; /* struct store_options */
    int rdonly;           /* opened with STORE_RDONLY */
    struct store_env_size msize, usize; /* of env, uenv */
    long long per_owner, per_repo;      /* sessions, 0: no limit */
    struct store_map map, umap;
    struct store_trim trim;
    /* the shared "on disk up to" transaction id (store/durable.c), or
     * NULL: sync = data, or read-only */
    uint64_t *synced;
    int synced_fd;
    /* store_set_tag_guard() */
    store_tag_fixed_fn *tag_fixed;
    void *tag_fixed_ctx;
    /* blob files the write transaction in progress moved to trash/ */
    struct digest *moved;
    size_t nmoved, moved_cap;
    /* the time, in seconds since the epoch; tests set their own clock */
    long long (*clock)(void);
    /* the audit log: store_options, store_set_actor(), and the reason of
     * the removal in progress (a GC's rule), NULL: none */
    int audit_on;
    long long audit_retention, audit_max;
    char actor_user[STORE_AUDIT_USER_MAX + 1];
    char actor_addr[STORE_AUDIT_ADDR_MAX + 1];
    const char *audit_why;
    /* store_audit_note()'s bound: this second, its notes, the left out */
    long long notes_sec, notes_n, notes_left;
    char root[PATH_MAX - 256]; /* room below for the longest file name */
};

/* Now, by the store's clock. */
long long store_now(const struct store *s);

struct blob_rec {
    uint64_t size;
    uint64_t refs;
    uint64_t flags;
};

/*
 * The value of a links entry: the two starts of the blob's grace period
 * (store/gc.c), once no manifest of the repository uses it.
 */
struct link_rec {
    /*
     * When a client last asked for the blob while no manifest of the
     * repository used it (an upload, a mount, a GET or HEAD): it may be
     * about to push one that does. 0 once a manifest uses it: that push
     * is done. A client's ask holds for at least STORE_ASK_HOLD, whatever
     * the grace.
     */
    int64_t asked;
    /* When the link was made, or the last manifest that used it went. */
    int64_t released;
};

/*
 * How long a client's ask holds a blob against GC even with a grace of 0:
 * the time a client takes from a HEAD to the PUT of its manifest.
 */
#define STORE_ASK_HOLD 60

/* The value of a tags entry is this, then the digest string. */
struct tag_rec {
    int64_t pushed; /* when the tag was last set */
};

/*
 * A manifest record ("manifests" database) is this header and five byte
 * strings, in this order:
 *
 *   struct mrec_hdr
 *   media type      what GET answers as Content-Type
 *   subject         "<alg>:<hex>" of the subject, or empty
 *   artifact type   for ?artifactType= filters of the referrers API
 *   descriptor      its entry in referrers lists (JSON), or empty
 *   body            the client's bytes
 *
 * Everything a GET or a referrers listing needs is in the record, so
 * neither parses a manifest; a delete parses the body for what the
 * manifest references (usedby).
 */
struct mrec_hdr {
    uint32_t body_len;
    uint16_t ctype_len;
    uint16_t subject_len;
    uint16_t atype_len;
    uint16_t reserved; /* flags: MREC_CACHED; 0 in stores before them */
    uint32_t desc_len;
    int64_t pushed; /* when it was last pushed */
};

/* A record parsed in place: the pointers die with the transaction. */
struct mrec {
    const char *ctype, *subject, *atype, *desc, *body;
    struct mrec_hdr h;
};

/*
 * Format 1's header had no pushed field: its records are this much
 * shorter (store/format.c reads them once, to upgrade them).
 */
#define MREC_HDR_V1 16
#define BLOB_INLINE 1u /* the bytes are in "inline", not in a file */
/*
 * A blob the pull-through cache fetched (store_fetch_commit), which the GC
 * may evict beyond the cache's cap; an upload, import or mount of the same
 * blob clears it: then it is the registry's own.
 */
#define BLOB_CACHED 2u
/*
 * In mrec_hdr.reserved: a manifest of the pull-through cache
 * (store_manifest_put_cached), stored before what it references: fsck
 * does not want its blobs and children there.
 */
#define MREC_CACHED 1u

/*
 * A number of the "info" database (store/info.c), within txn: *out, or
 * STORE_NOTFOUND when the key is not there, STORE_CORRUPT when its value
 * is not a number.
 */
int store_info_get(struct store *s, MDB_txn *txn, const char *name,
                   long long *out);
/* The same in a read transaction of its own; *out 0 when it is not there. */
int store_info_read(struct store *s, const char *name, long long *out);
/* Set one, v >= 0, within txn. */
int store_info_put(struct store *s, MDB_txn *txn, const char *name,
                   long long v);

/*
 * The manifest record of d in repo, within txn: STORE_NOTFOUND, or
 * STORE_CORRUPT when it is not a record (store/manifest.c).
 */
int store_mrec_get(struct store *s, MDB_txn *txn, const char *repo,
                   const struct digest *d, struct mrec *r);

/*
 * Parse the manifest of record r for what it references (m->blobs,
 * m->children, m->subject): into *m, which the caller releases with
 * manifest_release(). STORE_CORRUPT if the stored body does not parse.
 */
int store_mrec_refs(const struct mrec *r, const char *repo, struct manifest *m);

/*
 * Whether a manifest of repo references d (a blob or a manifest), within
 * txn: STORE_OK with one of them in *user (if not NULL), or STORE_NOTFOUND.
 */
int store_usedby(struct store *s, MDB_txn *txn, const char *repo,
                 const struct digest *d, struct digest *user);

/*
 * Delete manifest d of repo, its tags and what it references from usedby,
 * within txn. STORE_IN_USE (with the referencing manifest in *user, if
 * not NULL) when a manifest of repo references it.
 */
int store_manifest_drop(struct store *s, MDB_txn *txn, const char *repo,
                        const struct digest *d, struct digest *user);

/*
 * Unlink blob d from repo within txn; the blob goes, file to trash/
 * (store_trash), when no repository links it any more, and then *freed
 * (if not NULL) is its size, else 0. STORE_IN_USE (with *user) when a
 * manifest of repo references it.
 */
int store_blob_unlink(struct store *s, MDB_txn *txn, const char *repo,
                      const struct digest *d, struct digest *user,
                      long long *freed);

/*
 * The same for the cache's eviction (store/gc.c): blob d of repo goes
 * whether or not its (cached) manifests use it; they keep their usedby
 * entries, and the blob is fetched again when a client asks for it.
 */
int store_blob_evict(struct store *s, MDB_txn *txn, const char *repo,
                     const struct digest *d, long long *freed);

/*
 * Remove what fetches left in fetch/ that nobody fetches now: the .part
 * and lock file of a crashed fetch, a lock file an error left. Each goes
 * under its lock, taken without waiting (store/fetch.c's top), so the
 * files of a fetch at work stay. *removed: how many files went. Returns
 * STORE_IO.
 */
int store_fetch_sweep(struct store *s, long long *removed);

/*
 * Write now as the pull time of cached blob d within txn (the "pulls"
 * database; nothing when the store has none).
 */
int store_pull_put(struct store *s, MDB_txn *txn, const struct digest *d);

/* The pull time of d within txn; 0 when there is none. */
long long store_pull_get(struct store *s, MDB_txn *txn, const struct digest *d);

/*
 * Manifests of repo stopped using blob d (store_link_release()), or began
 * to (store_link_used()), within txn: the first starts the link's grace
 * when no manifest of repo uses it any more, the second ends the hold of
 * a client's ask. A link that is not there is no error.
 */
int store_link_release(struct store *s, MDB_txn *txn, const char *repo,
                       const struct digest *d);
int store_link_used(struct store *s, MDB_txn *txn, const char *repo,
                    const struct digest *d);

/* The record of blob d, within txn; STORE_NOTFOUND if there is none. */
int store_blob_rec(struct store *s, MDB_txn *txn, const struct digest *d,
                   struct blob_rec *out);

/* The link of repo to d, within txn; STORE_NOTFOUND if there is none. */
int store_link_get(struct store *s, MDB_txn *txn, const char *repo,
                   const struct digest *d, struct link_rec *out);

/*
 * Move the file of blob d to trash/ within the write transaction in
 * progress: store_txn_end() unlinks it after a commit, or puts it back
 * when the transaction does not commit.
 */
int store_trash(struct store *s, const struct digest *d);

/*
 * Settle the file name of trash/ that a crash left there, within txn
 * (a write transaction, for the writer lock; read-only when dry): put it
 * back when its blob's record is there without a file (*restored 1),
 * else remove it (*bytes its size). A dry run changes nothing. Returns
 * STORE_NOTFOUND (not a blob file: left alone), STORE_CORRUPT, STORE_IO.
 */
int store_trash_settle(struct store *s, MDB_txn *txn, const char *name, int dry,
                       int *restored, long long *bytes);

/*
 * Drop the record of upload session id if its data file is gone, in a
 * sessions transaction of its own (store/upload.c). STORE_NOTFOUND if the
 * session is not there, or its file is.
 */
int store_upload_drop_lost(struct store *s, const char *id);

/* Tags (store/tag.c), within txn. */
/* Whether the tag guard holds tag of repo (store_set_tag_guard): 1 or 0. */
int store_tag_held(struct store *s, const char *repo, const char *tag);
int store_tag_get(struct store *s, MDB_txn *txn, const char *repo,
                  const char *tag, struct digest *out, long long *pushed);
int store_tag_put(struct store *s, MDB_txn *txn, const char *repo,
                  const char *tag, const char *dstr);
int store_tag_drop(struct store *s, MDB_txn *txn, const char *repo,
                   const char *tag);
/* Drop every tag that names manifest dstr of repo. */
int store_tags_drop_all(struct store *s, MDB_txn *txn, const char *repo,
                        const char *dstr);

/*
 * Add the entry "<repo>\0<from>" -> to of a table with sorted duplicates
 * (mtags, referrers, usedby), or drop it. Adding one that is there, or
 * dropping one that is not, is no change.
 */
int store_dup_put(MDB_txn *txn, MDB_dbi dbi, const char *repo, const char *from,
                  const char *to, const char *what);
int store_dup_del(MDB_txn *txn, MDB_dbi dbi, const char *repo, const char *from,
                  const char *to, const char *what);

/*
 * Bring a root of format from to STORE_FORMAT within txn, which opened
 * every database (store/format.c).
 */
int store_upgrade(struct store *s, MDB_txn *txn, long long from);

/*
 * The namespace counters (store/usage.c), within txn. Blob d of size
 * bytes was linked to repo (delta 1) or unlinked from it (-1); store_edge
 * when it was the blob's first or last link in the store.
 */
int store_ns_link(struct store *s, MDB_txn *txn, const char *repo,
                  const struct digest *d, long long size, int delta,
                  int store_edge);
/* A manifest record of bytes bytes entered repo (bytes < 0: it left). */
int store_ns_bytes(struct store *s, MDB_txn *txn, const char *repo,
                   long long bytes);
/* Count every namespace again from links, blobs and manifests. */
int store_ns_rebuild(struct store *s, MDB_txn *txn);

/*
 * Map an LMDB rc to STORE_*, logging the unexpected with what: of the
 * metadata environment, and of the sessions environment (store_map_umdb_rc),
 * whose messages for a full map name their own config keys.
 */
int store_map_mdb_rc(int rc, const char *what);
int store_map_umdb_rc(int rc, const char *what);

/* Map errno to STORE_FULL or STORE_IO and log "cannot <what> '<path>'". */
int store_map_errno(int err, const char *what, const char *path);

/* Log "corrupt <what> '<name>'" and return STORE_CORRUPT. */
int store_corrupt(const char *what, const char *name);

/*
 * mdb_get() mapped to STORE_*: STORE_NOTFOUND (not logged) when key is not
 * there, other failures logged with what.
 */
int store_get(MDB_txn *txn, MDB_dbi dbi, MDB_val *key, MDB_val *val,
              const char *what);

/* mdb_del() mapped the same way; val NULL deletes every value of key. */
int store_del(MDB_txn *txn, MDB_dbi dbi, MDB_val *key, MDB_val *val,
              const char *what);

/* store_get() of the "<repo>\0<d>" key of dbi (links, manifests). */
int store_get_link(MDB_txn *txn, MDB_dbi dbi, const char *repo,
                   const struct digest *d, MDB_val *val, const char *what);

/*
 * Begin a transaction, mapping and logging failure; a write transaction
 * of a store opened STORE_RDONLY is STORE_READONLY. A write grows the map
 * first when it is due (struct store_env_size); a map another process
 * grew is taken up. Neither happens while this process has a transaction
 * reading the environment: then a map too small for the data stays an
 * error, and a map that is due grows at a later write.
 */
int store_txn_begin(struct store *s, unsigned flags, MDB_txn **txn);

/*
 * The same in the sessions environment (the "uploads" database);
 * STORE_NOTFOUND when a read-only open found none.
 */
int store_utxn_begin(struct store *s, unsigned flags, MDB_txn **txn);

/* Commit txn (always consumed), mapping and logging failure. */
int store_txn_commit(MDB_txn *txn);

/*
 * Durable commits (store/durable.c). store_durable_open() maps
 * <root>/meta/synced, which makes every commit of the metadata durable
 * before store_txn_end() returns; without it (sync = data, read-only)
 * store_durable() does nothing. store_durable(s, id) returns once
 * transaction id, committed, is on disk: STORE_OK, or STORE_IO when the
 * flush failed (the commit stands, but may not survive a power loss).
 */
int store_durable_open(struct store *s);
void store_durable_close(struct store *s);
int store_durable(struct store *s, uint64_t id);

/*
 * End write transaction txn with the result rc of the work done in it:
 * commit it when rc is STORE_OK (and return what the commit returns),
 * else abort it and return rc; then settle the blob files it moved to
 * trash/ (store_trash). So a write is
 *
 *     MDB_txn *txn;
 *     int rc = store_txn_begin(s, 0, &txn);
 *
 *     return rc ? rc : store_txn_end(s, txn, work(s, txn, ...));
 */
int store_txn_end(struct store *s, MDB_txn *txn, int rc);

/* "<repo>\0<digest>" into key (buf of LINK_KEY_MAX bytes). */
#define LINK_KEY_MAX (NAME_MAX_LEN + 1 + DIGEST_STR_MAX)
void store_link_key(char *buf, const char *repo, const struct digest *d,
                    MDB_val *key);

/* "<repo>\0<s>" into key (buf of LINK_KEY_MAX bytes); s is a tag. */
void store_pair_key(char *buf, const char *repo, const char *s, MDB_val *key);

/* Point v at a NUL-terminated string, without the NUL. */
void store_str_val(const char *str, MDB_val *v);

/* The repository counters of struct repo_rec (store/repo.c). */
enum repo_count { REPO_LINKS, REPO_MANIFESTS, REPO_TAGS };

/*
 * Add delta to one counter of repo, inside the caller's write transaction.
 * A repository enters the catalog when anything is added to it, leaves it
 * when its last manifest and tag are deleted (blobs may stay linked until
 * they are deleted too), and is forgotten when every counter is zero.
 */
int store_repo_count(struct store *s, MDB_txn *txn, const char *repo,
                     enum repo_count what, int delta);

/*
 * Make desc the description of repo, which the catalog lists, within the
 * caller's write transaction (store_catalog_walk()).
 */
int store_catalog_describe(struct store *s, MDB_txn *txn, const char *repo,
                           const char *desc);

/* What the record of repo counts, within txn; STORE_NOTFOUND if none. */
int store_repo_info(struct store *s, MDB_txn *txn, const char *repo,
                    struct store_repo_info *out);

/* STORE_OK if repo has a record, within txn; else STORE_NOTFOUND. */
int store_repo_known(struct store *s, MDB_txn *txn, const char *repo);

/*
 * Call fn for every entry of dbi whose key starts with prefix (plen
 * bytes; 0 for all), in key order, within txn, with the rest of the key
 * and the value (both die with the transaction). fn returns STORE_OK to
 * go on, or a STORE_* code that stops the walk and is returned. Returns
 * STORE_IO (a cursor failed), or what fn returned.
 */
typedef int store_each_fn(void *ctx, const MDB_val *key, const MDB_val *val);
int store_each(MDB_txn *txn, MDB_dbi dbi, const char *prefix, size_t plen,
               store_each_fn *fn, void *ctx);

/*
 * The keyset walk behind the list functions of store.h, within txn
 * (store/repo.c): the keys of dbi that start with prefix (plen bytes).
 */
int store_list_keys(MDB_txn *txn, MDB_dbi dbi, const char *prefix, size_t plen,
                    const char *last, long n, store_list_fn *fn, void *ctx,
                    int *more);

/*
 * Write the absolute path of blob d's file (whether or not there is one)
 * into buf (len bytes), and into *rel (if not NULL) the offset of the part
 * below <root>/blobs/. STORE_IO if it does not fit.
 */
int store_blob_path(struct store *s, const struct digest *d, char *buf,
                    size_t len, size_t *rel);

/*
 * Take <root>/gc.lock, exclusive and without waiting: the one GC at work
 * holds it, and so does a backup (store_backup), so that no blob file
 * goes while either runs but through a deletion. *fd (open) is closed to
 * drop it. STORE_LOCKED when someone holds it, STORE_IO, STORE_FULL.
 */
int store_gc_lock(struct store *s, int *fd);

/* Find where this process mapped each environment (store/pages.c). */
void store_map_find(struct store *s);

/* Set up store_trim()'s state; store_close() undoes it (store/pages.c). */
void store_trim_init(struct store *s);
void store_trim_release(struct store *s);

/*
 * Make blob d of repo from the verified file at path, inside the caller's
 * write transaction. A blob to be kept in LMDB is copied from the file
 * (which the caller removes after the commit); otherwise the file, which
 * the caller has fsynced, is renamed into place, or unlinked when the
 * blob is there already.
 */
int store_blob_adopt(struct store *s, MDB_txn *txn, const char *repo,
                     const struct digest *d, int fd, const char *path,
                     long long size);

/*
 * Add a link from repo to d (existing blob record: else STORE_NOTFOUND),
 * or, when there is one, start its grace again: an upload, a mount or an
 * import asked for it; within txn (store/blob.c).
 */
int store_link_add(struct store *s, MDB_txn *txn, const char *repo,
                   const struct digest *d);

/*
 * The same for the pull-through cache (store/fetch.c), which leaves the
 * blob's BLOB_CACHED as it is; store_link_add() clears it.
 */
int store_link_add_cached(struct store *s, MDB_txn *txn, const char *repo,
                          const struct digest *d);

/* Set BLOB_CACHED on the record of blob d, within txn. */
int store_blob_mark_cached(struct store *s, MDB_txn *txn,
                           const struct digest *d);

/*
 * A new upload id (UPLOAD_ID_LEN chars and a NUL) into out: the name of
 * a file in uploads/ (store/upload.c), which store_upload_purge() removes
 * when a crash leaves it without a session.
 */
void store_upload_id(char *out);

/*
 * As store_blob_adopt(), for a file of somebody else's that is to be
 * shared (store_blob_ingest(), STORE_INGEST_LINK): src, open as fd, whose
 * content the caller checked and flushed, is hard-linked into place within
 * the write transaction (never earlier: a file in blobs/ without a record
 * is garbage to the GC, and src's old mtime makes it old garbage), and
 * left where it is. A blob that is there already is only linked to repo.
 * STORE_LINK_REFUSED (nothing done) when link() is refused: another file
 * system, too many links, not allowed; STORE_DIGEST_MISMATCH when src is
 * not the file fd (replaced meanwhile).
 */
#define STORE_LINK_REFUSED 2
int store_blob_adopt_link(struct store *s, MDB_txn *txn, const char *repo,
                          const struct digest *d, int fd, const char *src,
                          long long size);

/*
 * Append an entry to the audit log within txn (a write transaction), of
 * the actor of store_set_actor() now, with note s->audit_why; the strings
 * of e may be NULL (""). Also removes a few of the entries beyond the
 * bounds. Nothing when the audit log is off (store/audit.c).
 */
int store_audit_add(struct store *s, MDB_txn *txn, const char *event,
                    const char *repo, const char *ref, const char *digest,
                    const char *old);

/*
 * The audit log's value format, shared with the dead letters of
 * store/hooks.c: store_audit_value() writes e's strings into vbuf
 * (STORE_AUDIT_VALUE_MAX bytes) and returns the length;
 * store_audit_parse() splits key (8 bytes, the time) and val into e,
 * pointing into val, or returns -1 if they are not an entry.
 */
size_t store_audit_value(const struct store_audit_entry *e, char *vbuf);
int store_audit_parse(const MDB_val *key, const MDB_val *val,
                      struct store_audit_entry *e);

/* The newest entry's time within txn (0: none). */
int store_audit_last_in(struct store *s, MDB_txn *txn, long long *time_us);

/* How many entries come after after_us, counting up to max; -1 on error. */
long long store_audit_count_after(struct store *s, MDB_txn *txn,
                                  long long after_us, long long max);

/*
 * The hold of the webhooks within txn (store/hooks.c): entries after it
 * must stay; LLONG_MAX when there are no hooks.
 */
int store_hooks_hold(struct store *s, MDB_txn *txn, long long *hold);

/* The record of blob d if repo links it, within txn; else STORE_NOTFOUND. */
int store_linked_rec(struct store *s, MDB_txn *txn, const char *repo,
                     const struct digest *d, struct blob_rec *out);

#endif
