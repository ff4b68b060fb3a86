#ifndef BERTH_STORE_STORE_PRIVATE_H
#define BERTH_STORE_STORE_PRIVATE_H

#include <limits.h>
#include <stdint.h>

#include <lmdb.h>

#include "store/store.h"

/*
 * Layout under the storage root (one comment, as in distribution's
 * registry/storage/paths.go):
 *
 *   <root>/meta/data.mdb, lock.mdb    the LMDB environment
 *   <root>/sessions/                  a second one, for upload sessions
 *   <root>/blobs/<alg>/<h2>/<hex>      blob content; <h2> = hex[0..2]
 *   <root>/uploads/<id>                data of upload session <id>
 *
 * A blob file exists only once its content has been fsynced and checked
 * against its digest: it is rename()d into place from uploads/. Blob
 * files are never modified after that; they are unlinked when the last
 * repository link goes away.
 *
 * LMDB databases; keys are bytes, "\0" is a literal NUL separator, <d>
 * a digest string "<alg>:<hex>":
 *
 *   blobs     "<d>"                -> struct blob_rec
 *   inline    "<d>"                -> the bytes of a blob kept in LMDB
 *                                      (BLOB_INLINE), which has no file
 *   links     "<repo>\0<d>"         -> (empty) repo links the blob
 *   manifests "<repo>\0<d>"         -> manifest record (store/manifest.c)
 *   tags      "<repo>\0<tag>"       -> "<d>" of the manifest it names
 *   mtags     "<repo>\0<d>"         -> dup-sorted "<tag>": tags naming d
 *   referrers "<repo>\0<subject d>" -> dup-sorted "<d>": manifests of
 *                                      repo whose subject is that digest
 *   repos     "<repo>"             -> struct repo_rec (store/repo.c)
 *   catalog   "<repo>"             -> (empty) repos the catalog lists
 *   info      "format"             -> STORE_FORMAT of this layout, as
 *                                      decimal digits (store/store.c)
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
 * repo_rec counts the links, manifests and tags entries of its repo.
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

struct store {
    MDB_env *env;  /* everything but upload sessions */
    MDB_env *uenv; /* upload sessions; NULL when STORE_RDONLY found none */
    MDB_dbi blobs, links, repos, uploads, info;
    MDB_dbi manifests, tags, mtags, referrers, catalog, inlined;
    long long inline_max; /* struct store_options */
    int rdonly;           /* opened with STORE_RDONLY */
    struct store_map map, umap;
    struct store_trim trim;
    char root[PATH_MAX - 256]; /* room below for the longest file name */
};

struct blob_rec {
    uint64_t size;
    uint64_t refs;
    uint64_t flags;
};
#define BLOB_INLINE 1u /* the bytes are in "inline", not in a file */

/*
 * A number of the "info" database (store/info.c), within txn: *out, or
 * STORE_NOTFOUND when the key is not there, STORE_CORRUPT when its value
 * is not a number.
 */
int store_info_get(struct store *s, MDB_txn *txn, const char *name,
                   long long *out);
/* Set one, v >= 0, within txn. */
int store_info_put(struct store *s, MDB_txn *txn, const char *name,
                   long long v);

/* Map an LMDB rc to STORE_*, logging the unexpected with what. */
int store_map_mdb_rc(int rc, const char *what);

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
 * of a store opened STORE_RDONLY is STORE_READONLY.
 */
int store_txn_begin(struct store *s, unsigned flags, MDB_txn **txn);

/*
 * The same in the sessions environment (the "uploads" database);
 * STORE_NOTFOUND when a read-only open found none.
 */
int store_utxn_begin(struct store *s, unsigned flags, MDB_txn **txn);

#define SESSIONS_MAP_SIZE ((size_t)256 << 20)

/* Commit txn (always consumed), mapping and logging failure. */
int store_txn_commit(MDB_txn *txn);

/*
 * End write transaction txn with the result rc of the work done in it:
 * commit it when rc is STORE_OK (and return what the commit returns),
 * else abort it and return rc. So a write is
 *
 *     rc = store_txn_begin(s, 0, &txn);
 *     if (rc == STORE_OK)
 *         rc = store_txn_end(txn, work(s, txn, ...));
 */
int store_txn_end(MDB_txn *txn, int rc);

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

/* STORE_OK if repo has a record, within txn; else STORE_NOTFOUND. */
int store_repo_known(struct store *s, MDB_txn *txn, const char *repo);

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

/* Find where this process mapped each environment (store/pages.c). */
void store_map_find(struct store *s);

/* Set up store_trim()'s state; store_close() undoes it (store/pages.c). */
void store_trim_init(struct store *s);
void store_trim_release(struct store *s);

/* Whether a blob of size bytes is kept in LMDB (store_options.inline_max). */
int store_blob_inlined(const struct store *s, long long size);

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

/* The record of blob d if repo links it, within txn; else STORE_NOTFOUND. */
int store_linked_rec(struct store *s, MDB_txn *txn, const char *repo,
                     const struct digest *d, struct blob_rec *out);

#endif
