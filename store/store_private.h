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
 *   <root>/blobs/<alg>/<h2>/<hex>      blob content; <h2> = hex[0..2]
 *   <root>/uploads/<id>                data of upload session <id>
 *
 * A blob file exists only once its content has been fsynced and checked
 * against its digest: it is rename()d into place from uploads/. Blob
 * files are never modified after that; they are unlinked when the last
 * repository link goes away.
 *
 * LMDB databases; keys are bytes, "\0" is a literal NUL separator:
 *
 *   blobs    "<alg>:<hex>"           -> struct blob_rec
 *   links    "<repo>\0<alg>:<hex>"    -> (empty) repo links the blob
 *   repos    "<repo>"                -> uint64 count of links
 *   uploads  "<id>"                  -> upload record (store/upload.c)
 *
 * Invariants kept by write transactions (serialised across processes by
 * LMDB's writer lock): a links entry implies a blobs entry; blob_rec.refs
 * counts the links entries of that digest; the blob file is renamed into
 * place and unlinked only inside the write transaction that adds or drops
 * the blobs entry, so two workers cannot race between file and record.
 *
 * Keys stay below LMDB's 511-byte limit: 255 (name) + 1 + 135 (digest).
 */

struct store {
    MDB_env *env;
    MDB_dbi blobs, links, repos, uploads;
    char root[PATH_MAX - 256]; /* room below for the longest file name */
};

struct blob_rec {
    uint64_t size;
    uint64_t refs;
};

/* Map an LMDB rc to STORE_*, logging the unexpected with what. */
int store_map_mdb_rc(int rc, const char *what);

/* Map errno to STORE_FULL or STORE_IO and log "cannot <what> '<path>'". */
int store_map_errno(int err, const char *what, const char *path);

/* Begin a transaction, mapping and logging failure. */
int store_txn_begin(struct store *s, unsigned flags, MDB_txn **txn);

/* Commit txn (always consumed), mapping and logging failure. */
int store_txn_commit(MDB_txn *txn);

/* "<repo>\0<digest>" into key (buf of LINK_KEY_MAX bytes). */
#define LINK_KEY_MAX (NAME_MAX_LEN + 1 + DIGEST_STR_MAX)
void store_link_key(char *buf, const char *repo, const struct digest *d,
                    MDB_val *key);

/*
 * Make blob d of repo from the verified, fsynced file at path (which is
 * consumed: renamed into place or unlinked), inside the caller's write
 * transaction.
 */
int store_blob_adopt(struct store *s, MDB_txn *txn, const char *repo,
                     const struct digest *d, const char *path, long long size);

/* Add a link from repo to d (existing blob record); no-op if present. */
int store_link_add(struct store *s, MDB_txn *txn, const char *repo,
                   const struct digest *d);

#endif
