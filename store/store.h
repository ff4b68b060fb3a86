#ifndef BERTH_STORE_STORE_H
#define BERTH_STORE_STORE_H

#include <stddef.h>

#include "util/buf.h"
#include "util/digest.h"
#include "util/manifest.h"
#include "util/names.h"

/*
 * The registry's storage: metadata in LMDB under <root>/meta, blobs as
 * content-addressed files <root>/blobs/<alg>/<2 hex>/<hex>, upload data in
 * <root>/uploads/<id>. The on-disk and key layout is described at the top
 * of store_private.h. Knows nothing of HTTP or FastCGI.
 *
 * Every function returns STORE_OK (0) or one of the negative codes below;
 * store_strerror() names them. Output parameters come last and are only
 * written on STORE_OK. No LMDB transaction stays open after a call returns.
 * Sizes are in bytes. Repository names and digests must have been
 * validated by the caller (util/names.h, util/digest.h).
 */
#define STORE_OK               0
#define STORE_NOTFOUND         (-1) /* no such repository, blob or upload */
#define STORE_EXISTS           (-2) /* create of something that is already there */
#define STORE_INVALID          (-3) /* content does not hash to the given digest */
#define STORE_FULL             (-4) /* disk or LMDB map full; already logged */
#define STORE_IO               (-5) /* other system or LMDB error; already logged */
#define STORE_RANGE            (-6) /* chunk does not start where the upload ends */
#define STORE_SHORT            (-7) /* body length differs from the announced one */
#define STORE_ABORTED          (-8) /* the body reader failed: client went away */
#define STORE_BUSY             (-9) /* another request is writing this upload */
#define STORE_TOOBIG           (-10) /* over a size limit */
#define STORE_BLOB_MISSING     (-11) /* a manifest names a blob not there */
#define STORE_MANIFEST_MISSING (-12) /* an index names a manifest not there */

struct store; /* opaque */

/*
 * Flags of struct store_options. By default every commit is on disk
 * before the call returns. STORE_SYNC_DATA flushes a commit's data but
 * not LMDB's meta page (MDB_NOMETASYNC): half the flushes, the database
 * stays intact, and a power loss may undo the last commit before it.
 */
#define STORE_SYNC_DATA 1u

struct store_options {
    size_t map_size; /* the LMDB map: the most the metadata may take */
    unsigned flags;
    /*
     * Blobs up to this many bytes (config blobs, signatures, small
     * layers) are kept in LMDB rather than as files: one commit makes
     * them durable, where a file costs its own flush, a directory flush
     * and a rename. -1: every blob is a file.
     */
    long long inline_max;
};

#define STORE_INLINE_MAX_DEFAULT ((long long)32 << 10)

/*
 * Open the store at root, creating its directories and LMDB environments
 * if needed. Call it in each worker after fork(): an LMDB environment
 * must not be used across fork(). Returns STORE_IO (logged, naming the
 * path) when root is not a writable directory. Free with store_close(),
 * which accepts NULL.
 */
int store_open(const char *root, const struct store_options *opt,
               struct store **out);
void store_close(struct store *s);

/*
 * Drop this process's mappings of the database's pages. LMDB reads
 * through a shared map, and every page a worker ever touched stays mapped
 * and counts in its RSS, until a busy worker appears to hold the whole
 * database; the pages themselves stay in the page cache, shared, and are
 * mapped again at the next touch. No transaction may be open.
 */
void store_release_pages(struct store *s);

const char *store_strerror(int rc);

/*
 * Where a request body comes from. Return the number of bytes put in buf
 * (at most len), 0 at the end of the body, or -1 if the body could not be
 * read completely (the client went away). fcgi-app/ passes a reader over
 * FCGX_GetStr(); tests pass in-memory readers.
 */
typedef long store_read_fn(void *ctx, char *buf, size_t len);

struct store_body {
    store_read_fn *read;
    void *ctx;
    long long length; /* announced length, or -1 when unknown */
};

/* --- blobs (store/blob.c) --- */

/*
 * The size of blob d if repo links it; STORE_NOTFOUND otherwise.
 * *inlined (if not NULL) says whether it is kept in the database, where
 * it has no file for a front server to send.
 */
int store_blob_stat(struct store *s, const char *repo, const struct digest *d,
                    long long *size, int *inlined);

/*
 * Open blob d, linked into repo, for reading: a file in *fd, which the
 * caller owns and must close(), or for a blob kept in the database *fd -1
 * and its bytes in data (content replaced; STORE_TOOBIG past data->max,
 * or when data is NULL).
 * No transaction is open after return, so the caller may take its time
 * streaming.
 */
int store_blob_open(struct store *s, const char *repo, const struct digest *d,
                    int *fd, long long *size, struct buf *data);

/*
 * Write the absolute path of blob d into buf (len bytes) and the offset of
 * the part below <root>/blobs/ ("sha256/ab/ab12...") into *rel, for the
 * front server to send the file itself (X-Sendfile, X-Accel-Redirect).
 * Says nothing about whether the blob exists, or has a file: use
 * store_blob_stat().
 */
int store_blob_path(struct store *s, const struct digest *d, char *buf,
                    size_t len, size_t *rel);

/*
 * Unlink blob d from repo. The file is removed when no repository links
 * it any more. STORE_NOTFOUND if repo does not link it.
 */
int store_blob_delete(struct store *s, const char *repo,
                      const struct digest *d);

/*
 * Link blob d, which repository from links, into repo as well (a
 * cross-repository mount). STORE_NOTFOUND if from does not link it.
 */
int store_blob_mount(struct store *s, const char *repo, const char *from,
                     const struct digest *d, long long *size);

/* --- uploads (store/upload.c) --- */

/*
 * Start an upload session for repo; write its id (UPLOAD_ID_LEN chars and
 * a NUL) into id. Session state lives in LMDB and on disk, never in
 * process memory, so any worker can continue it.
 */
int store_upload_begin(struct store *s, const char *repo, char *id);

/* Bytes received so far. STORE_NOTFOUND for an unknown id or another repo. */
int store_upload_status(struct store *s, const char *repo, const char *id,
                        long long *size);

/*
 * Append body to the upload. start is where the client says the chunk
 * begins (Content-Range), or -1 to append at the end; a start other than
 * the current size gives STORE_RANGE. The chunk is all or nothing: when
 * the body fails or is shorter or longer than body->length, nothing of it
 * is kept (STORE_ABORTED, STORE_SHORT) and the session stays usable.
 * STORE_BUSY if another request is writing the same upload.
 */
int store_upload_append(struct store *s, const char *repo, const char *id,
                        long long start, const struct store_body *body,
                        long long *size);

/*
 * Append body (if not NULL) as the final chunk, check the whole upload
 * against d, and make it blob d of repo. On STORE_INVALID (digest
 * mismatch) the session is dropped and nothing is stored. Concurrent
 * uploads of the same content end with one intact blob.
 */
int store_upload_finish(struct store *s, const char *repo, const char *id,
                        const struct store_body *body, const struct digest *d,
                        long long *size);

/* Drop the session and its data. */
int store_upload_cancel(struct store *s, const char *repo, const char *id);

/*
 * Drop sessions started more than max_age seconds ago, and files in
 * uploads/ that are that old and have no session (left by a crash). A
 * session in use by another request is left alone. *n counts what was
 * removed. Workers call this when they start.
 */
int store_upload_purge(struct store *s, long long max_age, int *n);

/* --- manifests and tags (store/manifest.c) --- */

/* A manifest to store: the client's bytes and what manifest_parse() saw. */
struct store_manifest {
    const struct digest *digest; /* of body, as the client will ask for it */
    const char *body;
    size_t len;
    const struct manifest *m;
    /* the descriptor for referrers lists, when m->has_subject; else NULL */
    const char *referrer;
};

/*
 * Store manifest mf in repo and, when tag is not NULL, point tag at it,
 * in one transaction, after checking that repo holds every blob and
 * manifest it refers to. STORE_BLOB_MISSING or STORE_MANIFEST_MISSING
 * name the first one missing in *missing; STORE_INVALID says a referenced
 * blob or manifest has another size than its descriptor claims (also in
 * *missing). Nothing changes unless STORE_OK is returned.
 */
int store_manifest_put(struct store *s, const char *repo, const char *tag,
                       const struct store_manifest *mf, struct digest *missing);

struct store_manifest_info {
    struct digest digest;
    long long size;
    char media_type[MEDIA_TYPE_MAX];
};

/*
 * Look up a manifest of repo by tag (d NULL) or by digest (tag NULL).
 * Fill *info, and when body is not NULL replace its content with the
 * manifest's bytes (STORE_TOOBIG if they do not fit its limit).
 * STORE_NOTFOUND if repo has no such tag or manifest.
 */
int store_manifest_get(struct store *s, const char *repo, const char *tag,
                       const struct digest *d, struct buf *body,
                       struct store_manifest_info *info);

/* Delete manifest d of repo and every tag naming it. */
int store_manifest_delete(struct store *s, const char *repo,
                          const struct digest *d);

/* Delete tag of repo; the manifest stays. */
int store_tag_delete(struct store *s, const char *repo, const char *tag);

/*
 * Called once per listed entry with its bytes (not NUL-terminated); a
 * non-zero return stops the walk and is returned. It runs inside a read
 * transaction: copy, do no I/O.
 */
typedef int store_list_fn(void *ctx, const char *s, size_t len);

/*
 * The tags of repo in byte order, after last (NULL: from the start), at
 * most n; *more says whether more follow. STORE_NOTFOUND if the registry
 * knows no repository of that name.
 */
int store_tags_list(struct store *s, const char *repo, const char *last, long n,
                    store_list_fn *fn, void *ctx, int *more);

/* The repositories of the catalog, as store_tags_list() lists tags. */
int store_catalog_list(struct store *s, const char *last, long n,
                       store_list_fn *fn, void *ctx, int *more);

/* STORE_OK if the registry knows repo, STORE_NOTFOUND if not. */
int store_repo_exists(struct store *s, const char *repo);

/*
 * The manifests of repo whose subject is subject, as referrers descriptor
 * JSON, one call of fn each; only those of artifact_type unless it is
 * NULL. No referrers is no error.
 */
int store_referrers(struct store *s, const char *repo,
                    const struct digest *subject, const char *artifact_type,
                    store_list_fn *fn, void *ctx);

#endif
