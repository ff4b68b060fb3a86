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
 * Rules that hold for every function below:
 *  - It returns STORE_OK (0) or one of the negative codes listed with it;
 *    store_strerror() names them.
 *  - Output parameters come last and are written only on STORE_OK; the
 *    one exception says so (store_manifest_put's *missing).
 *  - No LMDB transaction stays open after it returns, so the caller may
 *    take its time with a client.
 *  - STORE_IO, STORE_FULL and STORE_CORRUPT have been logged, naming the
 *    object; the caller does not log them again.
 *  - Repository names, tags and digests were validated by the caller
 *    (util/names.h, util/digest.h). Sizes are in bytes.
 *  - A struct store is used by one thread at a time, in the process that
 *    opened it.
 */
#define STORE_OK 0
/* no such repository, tag, manifest, blob (in this repository) or upload */
#define STORE_NOTFOUND (-1)
/* content does not hash to the digest the client gave */
#define STORE_DIGEST_MISMATCH (-2)
/* a descriptor's size differs from the size of what it describes */
#define STORE_SIZE_MISMATCH (-3)
/* data on disk is not as berth wrote it */
#define STORE_CORRUPT (-4)
/* disk, quota or LMDB map full */
#define STORE_FULL (-5)
/* any other system or LMDB failure */
#define STORE_IO (-6)
/* a chunk does not start where the upload ends */
#define STORE_RANGE (-7)
/* a body's length differs from the announced one */
#define STORE_SHORT (-8)
/* the body reader failed: the client went away */
#define STORE_ABORTED (-9)
/* another request is writing this upload */
#define STORE_BUSY (-10)
/* over a size limit: the caller's, or the record format's */
#define STORE_TOOBIG (-11)
/* a manifest names a blob that is not in the repository */
#define STORE_BLOB_MISSING (-12)
/* an index names a manifest that is not in the repository */
#define STORE_MANIFEST_MISSING (-13)
/*
 * the storage root's format is not this build's: newer, or older and the
 * store opened read-only (a read-write open upgrades it)
 */
#define STORE_VERSION (-14)
/* a write to a store opened STORE_RDONLY */
#define STORE_READONLY (-15)
/* a manifest of the repository references what is to be deleted */
#define STORE_IN_USE (-16)
/* another garbage collection, or a backup, is running */
#define STORE_LOCKED (-17)
/* the owner has store_options.sessions_per_owner upload sessions open */
#define STORE_OWNER_SESSIONS (-18)
/* the repository has store_options.sessions_per_repo sessions open */
#define STORE_REPO_SESSIONS (-19)
/* the write would move or remove a tag the store's tag guard holds */
#define STORE_TAG_FIXED (-20)

/* A short description of rc, for messages; never NULL. */
const char *store_strerror(int rc);

struct store; /* opaque */

/*
 * Flags of struct store_options.
 *
 * STORE_SYNC_DATA: flush a commit's data but not LMDB's meta page. By
 * default every commit is on disk, meta page included, before the call
 * that made it returns (the meta page by one flush that covers the
 * commits of every process before it: store/durable.c); with this flag
 * the database stays intact, but a power loss may undo the last commit
 * before it.
 *
 * STORE_RDONLY: open for reading only, for tools that must not change the
 * store. Nothing is created, nothing is removed (sessions/ included), and
 * every function that writes returns STORE_READONLY. The store may be in
 * use by writers at the same time; each call reads one consistent state.
 */
#define STORE_SYNC_DATA 1u
#define STORE_RDONLY    2u

struct store_options {
    size_t map_size; /* the LMDB map the metadata starts with */
    unsigned flags;  /* STORE_SYNC_DATA, STORE_RDONLY */
    /*
     * Blobs up to this many bytes (config blobs, signatures, small
     * layers) are kept in LMDB rather than as files: one commit makes
     * them durable, where a file costs its own flush, a directory flush
     * and a rename. -1: every blob is a file.
     */
    long long inline_max;
    /*
     * The maps grow: when the data fills half of one, the next write
     * doubles it, up to its most (every process that has the store open
     * follows). map_size_max is the most of the metadata's, map_size if
     * below it; sessions_map_size the most of the upload sessions', which
     * start at STORE_SESSIONS_MAP_START or this if it is smaller; 0:
     * STORE_SESSIONS_MAP_START.
     */
    size_t map_size_max;
    size_t sessions_map_size;
    /*
     * The most upload sessions one owner (store_upload_begin), and one
     * repository, may have open; 0: no limit.
     */
    long long sessions_per_owner;
    long long sessions_per_repo;
    /*
     * The audit log (store_audit_walk): audit 1 records every change
     * clients see, 0 nothing. Entries older than audit_retention seconds,
     * and the oldest beyond audit_max entries, go (0: no such bound).
     */
    int audit;
    long long audit_retention;
    long long audit_max;
};

#define STORE_INLINE_MAX_DEFAULT ((long long)32 << 10)
#define STORE_SESSIONS_MAP_START ((size_t)256 << 20)

/*
 * The format of the storage root's layout (store_private.h), recorded in
 * the root and checked by store_open(). It changes when a release changes
 * how anything is laid out; a root of an older format is upgraded by the
 * first read-write open (store/format.c). Format 1: the first release;
 * 2: times of links, tags and manifests, and the usedby index; 3: the
 * bytes of each namespace (store_ns_usage). The audit database came later
 * without a new format: the first read-write open creates it, a build
 * that does not know it leaves it alone, and a read-only open of a root
 * without it finds an empty log.
 */
#define STORE_FORMAT 3u

/*
 * Open the store at root (an absolute path), creating its directories
 * and LMDB environments if needed (not with STORE_RDONLY). Call it in each
 * worker after fork(): an LMDB environment must not be used across
 * fork(). On STORE_OK *out is the store; free it with store_close(),
 * which accepts NULL.
 *
 * Returns STORE_IO (root is not a usable directory), STORE_FULL,
 * STORE_CORRUPT (an LMDB environment cannot be read), STORE_VERSION (the
 * root has a newer format than STORE_FORMAT, or, with STORE_RDONLY, an
 * older one), STORE_NOTFOUND (with STORE_RDONLY: root holds no store).
 * Every failure is logged in one line that names the path and what to do.
 */
int store_open(const char *root, const struct store_options *opt,
               struct store **out);
void store_close(struct store *s);

/*
 * Flush every commit made through s, the last one included: a writer
 * that opened the store with STORE_SYNC_DATA for a long run of writes
 * that it can make again (berthctl import-registry) calls it at the end,
 * so that a power loss after it undoes nothing. Returns STORE_IO.
 */
int store_flush(struct store *s);

/*
 * Maintenance mode, a flag in the store that every process reads: while
 * it is on, the front ends refuse writes (fcgi-app/: 405 UNSUPPORTED).
 * store_maintenance() sets *on to 1 or 0, and returns STORE_CORRUPT,
 * STORE_IO. store_set_maintenance() returns STORE_FULL, STORE_IO,
 * STORE_READONLY.
 */
int store_maintenance(struct store *s, int *on);
int store_set_maintenance(struct store *s, int on);

/*
 * What a readiness probe asks of the store (fcgi-app/h_health.c), read
 * in one read transaction, so STORE_OK also says that one works.
 */
struct store_health {
    size_t map_used;     /* bytes of the metadata map in use (not free) */
    size_t map_max;      /* the most it may grow to: map_size_max */
    long long disk_free; /* bytes of the root's file system free to us */
    long long disk_size; /* bytes of the root's file system */
    int maintenance;     /* store_maintenance() */
};

/*
 * Fill *out. Returns STORE_IO (a transaction or statvfs() failed, logged
 * too) or STORE_CORRUPT.
 */
int store_health(struct store *s, struct store_health *out);

/*
 * Call between requests. A process's resident set grows by every page of
 * the database it reads: the pages are shared with the page cache and
 * cost the machine nothing more, but they count in its RSS, and a process
 * that stores thousands of small blobs reads new pages with each. So
 * every few calls this looks at how many file-backed pages the process
 * has resident, and once they have grown by a megabyte since it last let
 * go, it lets go of the database pages it has mapped
 * (MADV_DONTNEED); the few it needs come back at the next touch.
 * A process that serves the same manifests over and over never lets go.
 */
void store_trim(struct store *s);

/*
 * Where a request body comes from. Return the number of bytes put in buf
 * (at most len), 0 at the end of the body, or -1 if the body could not be
 * read completely (the client went away). fcgi-app/ passes a reader over
 * the FastCGI input stream; tests pass in-memory readers.
 */
typedef long store_read_fn(void *ctx, char *buf, size_t len);

struct store_body {
    store_read_fn *read;
    void *ctx;
    long long length; /* announced length, or -1 when unknown */
};

/* --- blobs (store/blob.c) --- */

struct store_blob; /* opaque: an open blob */

/*
 * Flag of store_blob_open(): a client asks for the blob (GET, HEAD), and
 * may be about to push a manifest that references it, so if nothing in
 * repo references it, its grace period before garbage collection starts
 * again (a write, when the last ask is more than a few seconds old).
 */
#define STORE_BLOB_TOUCH 1u
/*
 * Flag of store_blob_open(): a client pulls the blob. When the cache
 * fetched it (and nobody pushed it), its pull time, the eviction order
 * of store_gc()'s cache_max, moves to now. It is written at most every
 * STORE_PULL_SLACK seconds, so that a hot blob costs nothing beyond the
 * open's read transaction; a write that fails only makes the order less
 * exact, and the open still succeeds.
 */
#define STORE_BLOB_PULL  2u
#define STORE_PULL_SLACK 300

/*
 * Open blob d, linked into repo, for reading, in one read transaction.
 * On STORE_OK *out holds the whole blob, whether it is a file (open) or
 * kept in the database (a copy of its bytes, which are small): a delete
 * that commits afterwards does not take it away, and no transaction
 * stays open. Close it with store_blob_close(), which accepts NULL.
 * flags: 0, STORE_BLOB_TOUCH, STORE_BLOB_PULL, or both (ignored when the
 * store is read-only).
 *
 * Returns STORE_NOTFOUND (repo does not link d, or its file is gone),
 * STORE_CORRUPT, STORE_IO, and with STORE_BLOB_TOUCH STORE_FULL.
 */
int store_blob_open(struct store *s, const char *repo, const struct digest *d,
                    unsigned flags, struct store_blob **out);
void store_blob_close(struct store_blob *b);

/* The blob's size. */
long long store_blob_size(const struct store_blob *b);

/*
 * Copy up to len bytes from offset off into buf. Return how many (0 at or
 * past the end), or -1 when the file cannot be read (logged).
 */
long store_blob_read(struct store_blob *b, long long off, void *buf,
                     size_t len);

/*
 * The absolute path of the blob's file, for a front server to send it
 * itself (X-Sendfile, X-Accel-Redirect), and in *rel (if not NULL) the
 * offset of the part below <root>/blobs/ ("sha256/ab/ab12..."). NULL when
 * the blob is kept in the database and has no file. Valid until
 * store_blob_close().
 */
const char *store_blob_file(const struct store_blob *b, size_t *rel);

/*
 * Unlink blob d from repo. The blob goes when no repository links it any
 * more. Returns STORE_NOTFOUND (repo does not link d), STORE_IN_USE (a
 * manifest of repo references it: one of them in *user, if not NULL, and
 * only then), STORE_CORRUPT, STORE_FULL, STORE_IO, STORE_READONLY.
 */
int store_blob_delete(struct store *s, const char *repo, const struct digest *d,
                      struct digest *user);

/*
 * Link blob d, which repository from links, into repo as well (a
 * cross-repository mount); *size is its size. Returns STORE_NOTFOUND
 * (from does not link d), STORE_CORRUPT, STORE_FULL, STORE_IO,
 * STORE_READONLY.
 */
int store_blob_mount(struct store *s, const char *repo, const char *from,
                     const struct digest *d, long long *size);

/* --- importing blob files (store/ingest.c) --- */

/* Flag of store_blob_ingest(): hard-link the file rather than copy it. */
#define STORE_INGEST_LINK 1u

/* What store_blob_ingest() did. */
enum store_ingest_how {
    STORE_INGEST_COPIED = 1, /* the file's bytes were copied in */
    STORE_INGEST_LINKED,     /* the file was hard-linked in */
    STORE_INGEST_PRESENT     /* the store had the blob: only linked to repo
                                if it was not, nothing read */
};

struct store_ingest {
    long long size;
    enum store_ingest_how how;
};

/*
 * Make the regular file at path blob d of repo, as a finished upload of
 * its bytes would (an importer's way in: berthctl import-registry). When
 * the store has blob d already (its record, and its file), path is not
 * read: repo is linked to it if it was not, and out->how is
 * STORE_INGEST_PRESENT; so a second import of the same files costs a
 * lookup each. Otherwise the file is copied into uploads/, hashed as it
 * is read, checked against d, flushed, and adopted in one write
 * transaction as store_upload_finish() adopts an upload (renamed into
 * blobs/, or kept in LMDB when small). With STORE_INGEST_LINK a blob
 * that is to be a file is hashed where it is, flushed, and hard-linked
 * into blobs/ in the write transaction that adds its record (copied as
 * above where the link is refused: another file system); it then shares
 * its file with path, which must not be modified afterwards. Nothing of
 * the file is left in uploads/ or blobs/ on failure, but a copy's after a
 * crash (store_upload_purge() removes that).
 * On STORE_OK *out says what was done.
 *
 * Returns STORE_NOTFOUND (path is not there: not logged),
 * STORE_DIGEST_MISMATCH (the bytes, an empty file's none included, are
 * not d's: nothing is stored), STORE_IO (path is not a regular file, or
 * cannot be read; logged), STORE_CORRUPT, STORE_FULL, STORE_READONLY.
 */
int store_blob_ingest(struct store *s, const char *repo, const struct digest *d,
                      const char *path, unsigned flags,
                      struct store_ingest *out);

/* One file of store_blobs_ingest(). */
struct store_ingest_file {
    struct digest d;         /* in: what the file must hash to */
    const char *path;        /* in */
    int rc;                  /* out: store_blob_ingest()'s for this file */
    struct store_ingest out; /* out, when rc is STORE_OK */
};

/*
 * store_blob_ingest() of n files of repo at once: each file checked (and
 * copied) in turn, then all of them made blobs of repo in one write
 * transaction. Each file's own outcome is in its rc: STORE_OK,
 * STORE_NOTFOUND, STORE_DIGEST_MISMATCH or STORE_IO (the file cannot be
 * read), as store_blob_ingest() would return for it. Returns STORE_OK
 * when every file has its rc; else a failure of the store (STORE_CORRUPT,
 * STORE_FULL, STORE_IO, STORE_READONLY), and then none of the batch's
 * files need be in the store (the rc of each is undefined). Each file of
 * a batch is open until the end of the call: keep n to tens.
 */
int store_blobs_ingest(struct store *s, const char *repo,
                       struct store_ingest_file *v, size_t n, unsigned flags);

/* --- uploads (store/upload.c) --- */

/*
 * Start an upload session for repo on behalf of owner, an opaque name
 * (berth-fcgi's is REMOTE_USER, "" when anonymous: every anonymous
 * client is one owner; its first 255 bytes count); write its id
 * (UPLOAD_ID_LEN chars and a NUL) into id. Session state lives in LMDB
 * and on disk, never in process memory, so any worker can continue it.
 * The session counts against the limits of store_options until it is
 * finished, cancelled or purged. Returns STORE_OWNER_SESSIONS and
 * STORE_REPO_SESSIONS (a limit is reached), STORE_FULL, STORE_IO,
 * STORE_READONLY.
 */
int store_upload_begin(struct store *s, const char *repo, const char *owner,
                       char *id);

/*
 * Bytes received so far in *size; of a session whose content a finishing
 * request checked (and whose worker was killed, or whose commit failed),
 * the blob's size, which a PUT of the same digest accepts. Returns
 * STORE_NOTFOUND (no such session in repo, or its data is gone),
 * STORE_CORRUPT, STORE_IO.
 */
int store_upload_status(struct store *s, const char *repo, const char *id,
                        long long *size);

/*
 * Append body to the upload; *size is then the bytes received in all.
 * start is where the client says the chunk begins (Content-Range), or -1
 * to append at the end. The chunk is all or nothing: on any failure
 * nothing of it is kept and the session stays usable.
 *
 * Returns STORE_NOTFOUND (no such session in repo), STORE_RANGE (start is
 * not the current size, or the content was checked already: see
 * store_upload_status), STORE_BUSY (another request is writing the
 * session), STORE_ABORTED (the body could not be read to its end),
 * STORE_SHORT (the body is shorter or longer than body->length),
 * STORE_CORRUPT, STORE_FULL, STORE_IO, STORE_READONLY.
 */
int store_upload_append(struct store *s, const char *repo, const char *id,
                        long long start, const struct store_body *body,
                        long long *size);

/*
 * Append body (if not NULL) as the final chunk, check the whole upload
 * against d, and make it blob d of repo; *size is its size. The session
 * is gone on STORE_OK and on STORE_DIGEST_MISMATCH (nothing is stored
 * then); on other failures before the check it stays as it was, after it
 * the session holds the checked content, which the same call (d, and no
 * body or an empty one) makes the blob again. So does it after a process
 * that was finishing the session was killed: the blob may be stored
 * already, and that call returns STORE_OK. Concurrent uploads of the same
 * content end with one intact blob.
 *
 * Returns STORE_DIGEST_MISMATCH, and the codes of store_upload_append()
 * but STORE_RANGE.
 */
int store_upload_finish(struct store *s, const char *repo, const char *id,
                        const struct store_body *body, const struct digest *d,
                        long long *size);

/*
 * Drop the session and its data. Returns STORE_NOTFOUND, STORE_BUSY,
 * STORE_CORRUPT, STORE_FULL, STORE_IO, STORE_READONLY.
 */
int store_upload_cancel(struct store *s, const char *repo, const char *id);

/*
 * Drop sessions started more than max_age seconds ago, and files in
 * uploads/ that are that old and have no session (left by a crash). A
 * session in use by another request is left alone. *n counts what was
 * removed; a session dropped counts no more against the limits of
 * store_options. Workers call this when they start and every few
 * minutes. Returns STORE_FULL, STORE_IO, STORE_READONLY.
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
 * manifest it refers to, with the sizes its descriptors give. Nothing
 * changes unless STORE_OK is returned.
 *
 * Returns STORE_BLOB_MISSING, STORE_MANIFEST_MISSING (a referenced blob
 * or manifest is not in repo) and STORE_SIZE_MISMATCH (one has another
 * size than its descriptor claims): for these three, and only for them,
 * *missing is the digest of the first such reference. Also
 * STORE_TAG_FIXED (the tag guard holds tag, which names another manifest:
 * *missing is that one), STORE_TOOBIG (the body is over 4 GiB),
 * STORE_CORRUPT, STORE_FULL, STORE_IO, STORE_READONLY.
 */
int store_manifest_put(struct store *s, const char *repo, const char *tag,
                       const struct store_manifest *mf, struct digest *missing);

/*
 * Store manifest mf of the pull-through cache in repo, and point tag (if
 * not NULL) at it, in one transaction: as store_manifest_put(), but before
 * the blobs and child manifests it refers to are there (they are fetched
 * when a client asks for them), and marked as cached (the info's cached,
 * fsck). The caller checked that mf's digest is its body's. Pushed again,
 * the same digest and tag move the tag's time (store_manifest_info.tagged).
 * Returns STORE_TAG_FIXED, STORE_TOOBIG, STORE_CORRUPT, STORE_FULL,
 * STORE_IO, STORE_READONLY.
 */
int store_manifest_put_cached(struct store *s, const char *repo,
                              const char *tag, const struct store_manifest *mf);

/*
 * The upstream still names manifest d by tag of repo: the tag's time
 * (store_manifest_info.tagged) moves to now; no audit entry, nothing
 * else changes. STORE_NOTFOUND when tag is gone or names another
 * manifest now; STORE_CORRUPT, STORE_FULL, STORE_IO, STORE_READONLY.
 */
int store_tag_confirm(struct store *s, const char *repo, const char *tag,
                      const struct digest *d);

/*
 * The upstream no longer has tag of repo: the tag goes if it still names
 * manifest d, as store_tag_delete() drops it (audited); the manifest
 * stays, for GC. STORE_NOTFOUND when tag is gone or names another
 * manifest now; STORE_TAG_FIXED (the tag guard holds it), STORE_CORRUPT,
 * STORE_FULL, STORE_IO, STORE_READONLY.
 */
int store_tag_forget(struct store *s, const char *repo, const char *tag,
                     const struct digest *d);

/*
 * Fetching a blob for the pull-through cache. store_fetch_begin() takes
 * blob d's fetch lock, waiting up to wait_ms for another worker that holds
 * it, and then:
 *   STORE_FETCH_PRESENT  the store has the blob (fetched meanwhile, or
 *                        pushed): repo links it now, open it as usual;
 *   STORE_OK             the caller fetches it: *out, a handle that it
 *                        feeds with store_fetch_write() and ends with
 *                        store_fetch_commit() or store_fetch_abort(),
 *                        which release the lock and leave no file of the
 *                        fetch in <root>/fetch/;
 *   STORE_LOCKED         another worker still fetches it after wait_ms;
 * or STORE_READONLY, STORE_FULL, STORE_IO, STORE_CORRUPT.
 *
 * store_fetch_expect() sets the size the blob must have (the upstream's
 * Content-Length): a write beyond it is STORE_SIZE_MISMATCH, and so is a
 * commit short of it. store_fetch_commit() checks the digest of what was
 * written (STORE_DIGEST_MISMATCH) and only then makes it blob d of repo,
 * marked as the cache's, and always consumes the handle; nothing of a
 * wrong or short fetch is kept.
 *
 * A handle writes to the disk in a thread of its own while its caller
 * goes on, so a write error (STORE_FULL, STORE_IO) may be the answer of
 * the store_fetch_write() after the one that wrote, or of
 * store_fetch_verify() or store_fetch_commit(); store_fetch_commit() and
 * store_fetch_abort() end the thread. A handle is used by one thread at a
 * time.
 */
#define STORE_FETCH_PRESENT 1
struct store_fetch;
int store_fetch_begin(struct store *s, const char *repo, const struct digest *d,
                      long long wait_ms, struct store_fetch **out);
void store_fetch_expect(struct store_fetch *f, long long size);
/* Bytes written so far. */
long long store_fetch_got(const struct store_fetch *f);
int store_fetch_write(struct store_fetch *f, const void *data, size_t len);
/*
 * Check what was written against the digest and the expected size, as
 * store_fetch_commit() does first (STORE_DIGEST_MISMATCH,
 * STORE_SIZE_MISMATCH); no more writes after it. Once it said STORE_OK,
 * store_fetch_read() reads what was fetched (bytes [off, off + len), as
 * store_blob_read() does), so that a client gets the end of a checked
 * blob before the commit flushes it to the disk.
 */
int store_fetch_verify(struct store_fetch *f);
long store_fetch_read(struct store_fetch *f, long long off, void *buf,
                      size_t len);
int store_fetch_commit(struct store_fetch *f);
/* Drop what was fetched and the lock; f may be NULL. */
void store_fetch_abort(struct store_fetch *f);

/*
 * Following another worker's fetch of blob d: its bytes as it writes
 * them, so that a client that asks for the blob meanwhile gets it as it
 * comes rather than after the whole fetch. The fetcher keeps a note in
 * its lock file (its .part's inode, the size store_fetch_expect() set,
 * the bytes it received), which a follower reads; the .part grows
 * sequentially, so every byte below its size is written.
 *
 * store_fetch_follow() returns:
 *   STORE_OK             a fetch runs: *out, a handle to read it with
 *                        store_follow_read() and free with
 *                        store_follow_close(); it holds the lock file
 *                        and, once the note names it, the .part, both
 *                        read-only (it takes no lock, writes nothing);
 *   STORE_FETCH_PRESENT  no fetch runs and the store has the blob: repo
 *                        links it now (as store_fetch_begin() does), open
 *                        it as usual;
 *   STORE_NOTFOUND       no fetch runs, and the store has not the blob:
 *                        fetch it with store_fetch_begin();
 * or STORE_FULL, STORE_IO, STORE_CORRUPT.
 *
 * store_follow_length(): the size the fetcher expects, -1 while unknown
 * (store_fetch_expect() not called yet, or never: no Content-Length).
 * store_follow_got(): the bytes the fetcher said it received (noted each
 * MiB or second; its file may hold fewer, by up to two of its buffers),
 * to tell a slow fetch from a stalled one.
 *
 * store_follow_read() never blocks for long: it reads up to len bytes at
 * off of what is written now (0 when none yet: poll again a little
 * later) and sets *state:
 *   STORE_FOLLOW_RUNNING  the fetch goes on; what is read is all but the
 *                        last byte of the expected size, and nothing
 *                        while that size is unknown;
 *   STORE_FOLLOW_DONE     the fetch ended and the store has the blob in
 *                        the very file read (its lock is free, repo links
 *                        the blob, and the stored file is the .part's
 *                        inode): the rest, the last byte too, reads from
 *                        it, and what was read is the blob;
 *   STORE_FOLLOW_FAILED  the fetch ended otherwise (wrong or short, or
 *                        stored by another fetch, or kept in LMDB, or
 *                        its file never read), or its note names another
 *                        file: nothing more is read; what was read may
 *                        not be the blob's. The store may have the blob
 *                        still: store_fetch_begin() says.
 * With len 0 (buf may be NULL) it only sets *state. It returns -1 on a
 * read error (logged). A handle is used by one thread at a time.
 */
#define STORE_FOLLOW_RUNNING 0
#define STORE_FOLLOW_DONE    1
#define STORE_FOLLOW_FAILED  2
struct store_follow;
int store_fetch_follow(struct store *s, const char *repo,
                       const struct digest *d, struct store_follow **out);
long long store_follow_length(const struct store_follow *f);
long long store_follow_got(const struct store_follow *f);
long store_follow_read(struct store_follow *f, long long off, void *buf,
                       size_t len, int *state);
/* Close f's files and free it; f may be NULL. */
void store_follow_close(struct store_follow *f);
/*
 * Whether a blob of size bytes is kept in LMDB rather than as a file
 * (store_options.inline_max): such a blob's fetch cannot be followed.
 */
int store_blob_inlined(const struct store *s, long long size);

struct store_manifest_info {
    struct digest digest;
    long long size;
    char media_type[MEDIA_TYPE_MAX];
    int cached;       /* stored by store_manifest_put_cached() */
    long long tagged; /* by tag: when the tag was set or confirmed; else 0 */
};

/*
 * Look up a manifest of repo by tag (d NULL) or by digest (tag NULL).
 * Fill *info, and when body is not NULL replace its content with the
 * manifest's bytes. Returns STORE_NOTFOUND (no such tag or manifest in
 * repo), STORE_TOOBIG (the bytes exceed body->max; body unchanged),
 * STORE_CORRUPT, STORE_IO.
 */
int store_manifest_get(struct store *s, const char *repo, const char *tag,
                       const struct digest *d, struct buf *body,
                       struct store_manifest_info *info);

/*
 * Delete manifest d of repo and every tag naming it; what it references
 * stays until garbage collection finds nothing else uses it. Returns
 * STORE_NOTFOUND, STORE_IN_USE (an index of repo lists it: the index in
 * *user, if not NULL, and only then), STORE_TAG_FIXED (the tag guard holds
 * a tag naming it), STORE_CORRUPT, STORE_FULL, STORE_IO, STORE_READONLY.
 */
int store_manifest_delete(struct store *s, const char *repo,
                          const struct digest *d, struct digest *user);

/*
 * Delete tag of repo; the manifest stays. Returns STORE_NOTFOUND,
 * STORE_TAG_FIXED (the tag guard holds it), STORE_CORRUPT, STORE_FULL,
 * STORE_IO, STORE_READONLY.
 */
int store_tag_delete(struct store *s, const char *repo, const char *tag);

/*
 * The tag guard: fn(ctx, repo, tag) returns 1 for a tag that may be set
 * but never moved to another manifest or removed (an immutable tag), else
 * 0. Every write through s that would move or remove a tag asks it, in the
 * transaction that would, so that no check made before can be raced;
 * such a write changes nothing and returns STORE_TAG_FIXED. fn runs inside
 * a write transaction: it must not call the store. NULL (the default): no
 * tag is held. Garbage collection and repository deletion ask it too, so
 * a tool that may remove any tag (berthctl) sets none.
 */
typedef int store_tag_fixed_fn(void *ctx, const char *repo, const char *tag);
void store_set_tag_guard(struct store *s, store_tag_fixed_fn *fn, void *ctx);

/*
 * Called once per listed entry with its bytes (not NUL-terminated). It
 * runs inside a read transaction: copy, do no I/O. It returns STORE_OK to
 * go on, STORE_LIST_SKIP to leave the entry out of the page (it does not
 * count toward n; store_tags_list and store_catalog_list only), or a
 * negative STORE_* code (STORE_TOOBIG, say), which stops the walk and is
 * returned by the list function.
 */
#define STORE_LIST_SKIP 1
typedef int store_list_fn(void *ctx, const char *s, size_t len);

/*
 * The tags of repo in byte order, after last (NULL: from the start), at
 * most n; *more says whether more follow. Returns STORE_NOTFOUND (the
 * catalog does not list repo: it never existed, or its last manifest and
 * tag are gone), STORE_CORRUPT, STORE_IO, or what fn returned.
 */
int store_tags_list(struct store *s, const char *repo, const char *last, long n,
                    store_list_fn *fn, void *ctx, int *more);

/*
 * The repositories of the catalog, as store_tags_list() lists tags; the
 * ones fn leaves out (STORE_LIST_SKIP) do not count toward n, so *more
 * may announce a page that fn then leaves empty. Returns STORE_IO, or
 * what fn returned.
 */
int store_catalog_list(struct store *s, const char *last, long n,
                       store_list_fn *fn, void *ctx, int *more);

/*
 * Called once per repository of the catalog with its name and its
 * description (neither NUL-terminated; dlen 0 when it has none), within
 * a read transaction: copy, do no I/O. A non-zero return stops the walk
 * and is returned.
 */
typedef int store_catalog_fn(void *ctx, const char *name, size_t len,
                             const char *desc, size_t dlen);

/*
 * The repositories of the catalog in byte order of name, with their
 * descriptions, in one read transaction. A repository's description is
 * that of the last manifest pushed to it with a tag that had one
 * (struct manifest's description: an OCI description or title
 * annotation); a later tagged push without one leaves it. Returns
 * STORE_IO, or what fn returned.
 */
int store_catalog_walk(struct store *s, store_catalog_fn *fn, void *ctx);

/*
 * Returns STORE_OK if the registry knows repo, STORE_NOTFOUND if not,
 * STORE_CORRUPT, STORE_IO.
 */
int store_repo_exists(struct store *s, const char *repo);

/*
 * The manifests of repo whose subject is subject, as referrers descriptor
 * JSON, one call of fn each; only those of artifact_type unless it is
 * NULL. No referrers (or no such repository) is no error. Returns
 * STORE_IO, or what fn returned.
 */
int store_referrers(struct store *s, const char *repo,
                    const struct digest *subject, const char *artifact_type,
                    store_list_fn *fn, void *ctx);

/* --- what the store holds, for administrators (store/inventory.c) --- */

/* What a repository holds, by the counts the store keeps. */
struct store_repo_info {
    char name[NAME_MAX_LEN + 1];
    long long tags, manifests, links; /* links: the blobs it links */
    int listed; /* the catalog lists it: it has a manifest or a tag */
};

/*
 * Called once per entry of a walk, within its read transaction (do no
 * I/O); a non-zero return stops the walk and is returned.
 */
typedef int store_repo_fn(void *ctx, const struct store_repo_info *ri);

/*
 * Every repository the store knows (one with anything in it, listed or
 * not), in byte order of name, in one read transaction. Returns
 * STORE_CORRUPT, STORE_IO, or what fn returned.
 */
int store_repos_walk(struct store *s, store_repo_fn *fn, void *ctx);

/*
 * The counts of repo, as store_repos_walk() gives them, in *out, and in
 * *bytes what it holds, as store_ns_usage(repo) counts it, from one read
 * transaction: two records, no walk (a page of the web catalog asks it
 * of each repository it lists). Returns STORE_NOTFOUND (the store does
 * not know repo), STORE_CORRUPT, STORE_IO.
 */
int store_repo_stat(struct store *s, const char *repo,
                    struct store_repo_info *out, long long *bytes);

struct store_tag_info {
    char tag[TAG_MAX_LEN + 1];
    struct digest digest;
    char media_type[MEDIA_TYPE_MAX];
    /*
     * The bytes of the manifest and of everything it references, each
     * blob and child manifest counted once (what a pull of it moves)
     */
    long long size;
    long long pushed; /* when the tag was last set, seconds since the epoch */
};

typedef int store_tag_fn(void *ctx, const struct store_tag_info *ti);

/*
 * The tags of repo in byte order, with what they name, in one read
 * transaction. Returns STORE_NOTFOUND (the catalog does not list repo),
 * STORE_CORRUPT, STORE_IO, or what fn returned.
 */
int store_tags_walk(struct store *s, const char *repo, store_tag_fn *fn,
                    void *ctx);

/* Bytes and counts of a repository, or of the whole store. */
struct store_usage {
    long long total;  /* the blobs it links and its manifests */
    long long unique; /* what deleting it would free: the blobs no other
                         repository links, and its manifests */
    long long blobs, manifests;
};

/*
 * The usage of repo (store_repo_usage(); STORE_NOTFOUND when the store
 * does not know it), or of the whole store (store_usage(); total and
 * unique are then the same). Returns STORE_CORRUPT, STORE_IO.
 */
int store_repo_usage(struct store *s, const char *repo,
                     struct store_usage *out);
int store_usage(struct store *s, struct store_usage *out);

/*
 * The bytes namespace ns holds, for quotas (policy/policy.h): ns is a
 * repository name, "NAME/" (every repository whose name starts with it),
 * or "" (the whole store). It holds each blob that a repository in it
 * links, counted once however many of them link it, and the bytes of the
 * manifests of each of its repositories (each keeps its own record).
 * Upload sessions count for nothing until they finish. The counts are
 * kept by the writes that change them, so this reads a record or two.
 * *used is 0 for a namespace that holds nothing; *holds (if not NULL)
 * says whether the namespace holds blob d already (0 when d is NULL).
 * Returns STORE_CORRUPT, STORE_IO.
 */
int store_ns_usage(struct store *s, const char *ns, const struct digest *d,
                   long long *used, int *holds);

/* What GET /metrics shows of the store: each number is a record or two. */
struct store_stats {
    long long blobs;     /* blob records: each stored blob once */
    long long manifests; /* manifest records: one per repository it is in */
    long long bytes;     /* what the whole store holds (store_ns_usage "") */
    long long map_used;  /* bytes of the metadata's LMDB map in use */
    long long map_size;  /* and its size now (it grows: map_size_max) */
};

/*
 * Fill *out, from counts LMDB and the usage records keep: no walk.
 * Returns STORE_CORRUPT, STORE_IO.
 */
int store_stats(struct store *s, struct store_stats *out);

/* Progress of a long job: done of total steps, for a display. */
typedef void store_progress_fn(void *ctx, long long done, long long total);

/*
 * Delete all of repo: its tags, its manifests (an index before what it
 * lists) and its blob links; the blobs no other repository links go. The
 * work is done in write transactions of a few hundred changes each, so
 * that pushes never wait long for it; what a push adds to repo meanwhile
 * goes too. progress (if not NULL) is called after each. Returns
 * STORE_NOTFOUND (no such repository), STORE_TAG_FIXED (the tag guard
 * holds a tag of repo: what went before stays gone), STORE_CORRUPT,
 * STORE_FULL, STORE_IO, STORE_READONLY.
 */
int store_repo_delete(struct store *s, const char *repo,
                      store_progress_fn *progress, void *ctx);

/* --- garbage collection (store/gc.c) --- */

/* A tag of a repository, for the retention rules of a GC. */
struct store_gc_tag {
    const char *tag;
    long long pushed;
};

#define STORE_WHY_MAX 160

/*
 * Which tags of repo to drop, at time now: drop[i] = 1 and a reason in
 * why[i], or drop[i] = 0, for each of the n tags. Returns 0, or a STORE_*
 * code that stops the GC. (A front end wraps retention/ in one.)
 */
typedef int store_retain_fn(void *ctx, const char *repo,
                            const struct store_gc_tag *tags, size_t n,
                            long long now, unsigned char *drop,
                            char (*why)[STORE_WHY_MAX]);

enum store_gc_kind {
    STORE_GC_TAG,      /* a tag the retention rules drop */
    STORE_GC_MANIFEST, /* a manifest nothing reachable uses */
    STORE_GC_LINK,     /* a repository's link to a blob it does not use */
    STORE_GC_BLOB,     /* a blob no repository links any more */
    STORE_GC_ORPHAN,   /* a file in blobs/ without a record (a crash) */
    STORE_GC_TRASH,    /* a file a crash left in trash/ */
    STORE_GC_SESSION   /* upload sessions, older than their time to live */
};

/* One thing a GC removed (or, dry, would remove). Valid during the call. */
struct store_gc_event {
    enum store_gc_kind kind;
    const char *repo; /* NULL for what belongs to the whole store */
    const char *what; /* the tag, the digest, the file; the count of
                         sessions */
    long long count;  /* how many it stands for: 1, or the sessions */
    long long bytes;  /* what it frees on disk, 0 if nothing or not
                         known (sessions) */
    const char *why;  /* for a tag: the rule's reason; for a manifest:
                         why it is unreachable; else NULL */
};

typedef void store_gc_report_fn(void *ctx, const struct store_gc_event *e);

struct store_gc_options {
    long long grace;         /* what became unused less than this many
                                seconds ago stays (a push may be using it) */
    long long untagged_ttl;  /* untagged manifests nothing else keeps go
                                once older than this; -1: they stay */
    long long upload_ttl;    /* upload sessions older than this go */
    int dry_run;             /* report what would go; change nothing */
    store_retain_fn *retain; /* retention rules; NULL: none */
    void *retain_ctx;        /* for retain */
    /*
     * The pull-through cache's cap: while the blobs it fetched
     * (store_fetch_commit) and nobody pushed take more bytes than this,
     * the least recently pulled (STORE_BLOB_PULL) go, from every
     * repository that links them; the cached manifests that use them
     * stay and fetch them again when asked. 0: no cap.
     */
    long long cache_max;
    store_gc_report_fn *report;  /* NULL: no reports */
    store_progress_fn *progress; /* NULL: no progress */
    void *ctx;                   /* for report and progress */
};

/* What a GC removed (or, dry, would remove). */
struct store_gc_stats {
    long long tags, manifests, links, blobs, orphans, trash, sessions;
    long long bytes; /* freed on disk */
};

/*
 * Collect the garbage of the store, online: while pushes and pulls go
 * on, and without a window in which they fail.
 *
 * Reachable is what a tag names, what a reachable index lists, what a
 * reachable manifest references, and the referrers of a reachable
 * manifest; an untagged manifest is reachable too, unless untagged_ttl
 * says otherwise, or the retention rules took its last tag in this run.
 * Tags the retention rules drop go first. A manifest that is not
 * reachable goes once grace has passed since it was pushed; a blob link
 * that no manifest of its repository uses, once grace has passed since it
 * was made or its last user went (a user this run removed went at the
 * start of the link sweep: with a grace of 0 the link goes in the same
 * run, else in a later one), and since a client last asked for it (an
 * upload, a mount, STORE_BLOB_TOUCH) while nothing used it, which holds
 * it a minute at least even with a grace of 0; a blob goes with its last
 * link. A dry run reports what the real run would, its removals of
 * manifests included. Each removal is checked again in the write transaction
 * that makes it, and a file is removed only after that commits, so a push
 * that references something between the look and the removal keeps it.
 * The work is done in write transactions of at most 128 changes each,
 * each followed by a pause as long as it took: a GC holds the writer
 * lock at most half the time, and pushes go on beside it.
 * Files that a crash left in blobs/ without a record go after grace too,
 * with the blobs/ directories they leave empty, and so do the files a
 * crash left in trash/ (one whose record is still there goes back). Then
 * upload sessions older than upload_ttl go (store_upload_purge), and what
 * a crashed fetch of the cache left in fetch/ (its .part and lock file;
 * a fetch at work keeps its own).
 *
 * One GC runs at a time: it holds an flock() of <root>/gc.lock. On
 * STORE_OK *out (if not NULL) says what went; a GC that fails part way
 * leaves a consistent store, with what it removed removed. Returns
 * STORE_LOCKED (another GC holds the lock), STORE_CORRUPT, STORE_FULL,
 * STORE_IO, STORE_READONLY (unless dry_run), or what o->retain returned.
 */
int store_gc(struct store *s, const struct store_gc_options *o,
             struct store_gc_stats *out);

/*
 * When the last GC that finished (not dry) ended, in seconds since the
 * epoch, or 0 if none has. Returns STORE_CORRUPT, STORE_IO.
 */
int store_gc_last(struct store *s, long long *when);

/* --- the audit log (store/audit.c) --- */

/*
 * Who does what the next writes through s do: the user ("" anonymous) and
 * the client's address, each truncated to its maximum; copied. A front
 * end sets them per request (berth-fcgi: REMOTE_USER, REMOTE_ADDR), a
 * tool once (berthctl: the Unix user, "local"). Until set: "", "".
 */
#define STORE_AUDIT_USER_MAX 128
#define STORE_AUDIT_ADDR_MAX 64
void store_set_actor(struct store *s, const char *user, const char *addr);

/*
 * An entry of the audit log. Every write that changes what clients see
 * records one in its own write transaction, so that the log holds an
 * entry for each change that committed and none for one that did not:
 *
 *   push             a manifest put (ref: the tag, or the digest pushed
 *                    by digest); old: the manifest the tag named before
 *                    when the push moved it (a tag move), else ""
 *   tag-delete       a tag removed: by itself, with its manifest, by
 *                    the retention rules of a GC, with its repository,
 *                    by the cache when the upstream has it no longer
 *                    (store_tag_forget)
 *   manifest-delete  a manifest removed (by a client, a GC, berthctl)
 *   blob-delete      a repository's link to a blob removed (the blob
 *                    itself goes with its last link)
 *   repo-delete      the deletion of a repository began (what it removes
 *                    follows, each in the transaction that removes it)
 *   readonly-on/off  maintenance mode turned on or off
 *                    (store_set_maintenance)
 *   denied           berth's access rules refused a logged-in user (note:
 *                    the action), or its push rules a request (note:
 *                    the quota or the immutable tag)
 *   login-refused    they refused an anonymous client that must log in
 *
 * Uploads, mounts and imports of blobs add nothing a client sees until a
 * manifest uses them, and are not recorded. A GC's removals are the
 * user "gc"'s, with the rule's reason in note.
 */
struct store_audit_entry {
    long long time_us; /* microseconds since the epoch */
    const char *event, *user, *addr, *repo, *ref, *digest, *old, *note;
};

/*
 * Record event (denied, login-refused) of the actor on repo and ref (each
 * may be NULL: ""), in a write transaction of its own whose meta page is
 * not flushed (as with STORE_SYNC_DATA: a power loss may undo the last
 * few). A process records at most 20 a second: the others are counted,
 * and the count goes in the note of the next one recorded. Nothing
 * happens when the audit log is off. Returns STORE_FULL, STORE_IO,
 * STORE_READONLY.
 */
int store_audit_note(struct store *s, const char *event, const char *repo,
                     const char *ref, const char *note);

/* Which entries store_audit_walk() passes on. */
struct store_audit_query {
    long long since_us; /* entries from this time on; 0: all */
    const char *user;   /* that user's only ("" anonymous); NULL: any */
    const char *repo;   /* of that repository only; NULL: any */
    long long limit;    /* only the newest this many of them; 0: all */
};

/*
 * Call fn for each entry of the audit log that q selects, oldest first;
 * the strings of e die when fn returns. The entries are read in batches,
 * each in a short read transaction of its own, and fn runs outside them
 * (it may do I/O, or call the store): entries removed meanwhile may still
 * be passed, entries added meanwhile are not. fn
 * returns STORE_OK to go on, or a code that stops the walk and is
 * returned. Returns STORE_CORRUPT, STORE_IO.
 */
typedef int store_audit_fn(void *ctx, const struct store_audit_entry *e);
int store_audit_walk(struct store *s, const struct store_audit_query *q,
                     store_audit_fn *fn, void *ctx);

/*
 * Remove the entries beyond the bounds of struct store_options (at most
 * limit of them; 0: all there are), in a write transaction of its own
 * (store_gc does it at its end; every append removes a few). *n (if not
 * NULL) how many went. Returns STORE_FULL, STORE_IO, STORE_READONLY.
 */
int store_audit_prune(struct store *s, long long limit, long long *n);

/*
 * Record a pull of the manifest digest (by ref, a tag or the digest) of
 * repo as an entry "pull" of the audit log, for the webhooks that want
 * pulls (berth.conf's webhooks_pulls): a write transaction of its own,
 * whose meta page is not flushed (as store_audit_note()). Nothing happens
 * when the audit log is off. Returns STORE_FULL, STORE_IO,
 * STORE_READONLY.
 */
int store_audit_pull(struct store *s, const char *repo, const char *ref,
                     const char *digest);

/* An entry copied out of the log: e's strings point into buf. */
#define STORE_AUDIT_VALUE_MAX 2560
struct store_audit_copy {
    struct store_audit_entry e;
    char buf[STORE_AUDIT_VALUE_MAX];
};

/*
 * The oldest entry after time after_us (0: the first), copied into *out.
 * Returns STORE_NOTFOUND (none yet), STORE_CORRUPT, STORE_IO.
 */
int store_audit_next(struct store *s, long long after_us,
                     struct store_audit_copy *out);

/* The time of the newest entry in *time_us, 0 if the log is empty.
 * Returns STORE_CORRUPT, STORE_IO. */
int store_audit_last(struct store *s, long long *time_us);

/* --- webhooks' delivery state (store/hooks.c) --- */

/*
 * The audit log is the webhooks' outbox (hooks/hooks.h): an event is in
 * it once the change it reports commits, and in no other case. For each
 * hook the store keeps a cursor, the time of the last entry the hook has
 * passed (delivered, skipped, or made a dead letter), and the least of
 * them, the hold: pruning the log (the bounds of store_options,
 * store_audit_prune) never removes an entry after the hold, so that no
 * event is lost while a receiver is away; the log grows meanwhile.
 * These writes commit without a flush of LMDB's meta page: a power loss
 * may take a cursor back, and events go out again (at least once).
 *
 * A dead letter is an event a hook gave up on: a copy of its entry (the
 * log may drop the entry), how often it was tried, when it last failed
 * and why. Its id is the entry's time.
 */

#define STORE_HOOK_NAME_MAX 64

/*
 * Make names[0..n) the hooks there are: a hook new to the store starts at
 * the end of the log (it hears of what comes after), a hook not among
 * them loses its cursor and its dead letters, and the hold is set anew
 * (n = 0: no hold). Returns STORE_FULL, STORE_IO, STORE_READONLY,
 * STORE_TOOBIG (a name longer than STORE_HOOK_NAME_MAX).
 */
int store_hooks_sync(struct store *s, const char *const *names, size_t n);

/* The cursor of hook name. Returns STORE_NOTFOUND, STORE_CORRUPT,
 * STORE_IO. */
int store_hook_cursor(struct store *s, const char *name, long long *time_us);

/*
 * Move the cursor of hook name to time_us (never back: an older time
 * changes nothing), and the hold with it. Returns STORE_NOTFOUND (no
 * such hook: store_hooks_sync() dropped it), STORE_FULL, STORE_IO,
 * STORE_READONLY.
 */
int store_hook_advance(struct store *s, const char *name, long long time_us);

/* A dead letter as store_hook_dead_walk() passes it. */
struct store_hook_dead {
    const char *hook;
    struct store_audit_entry e; /* e.time_us is its id */
    long long failed;           /* when it last failed, seconds */
    long long attempts;         /* deliveries tried */
    int queued;                 /* store_hook_dead_retry() asked again */
    const char *why;            /* the last failure */
};

/*
 * Make the event e a dead letter of hook name (or update it: queued off,
 * attempts and why replaced) and move the hook's cursor to it, in one
 * transaction. Returns STORE_NOTFOUND (no such hook), STORE_FULL,
 * STORE_IO, STORE_READONLY.
 */
int store_hook_dead_add(struct store *s, const char *name,
                        const struct store_audit_entry *e, long long attempts,
                        const char *why);

/* Remove dead letter id of hook name (delivered after all). Returns
 * STORE_NOTFOUND, STORE_FULL, STORE_IO, STORE_READONLY. */
int store_hook_dead_del(struct store *s, const char *name, long long id);

/*
 * Queue dead letters again: of hook name (NULL: of every hook), the one
 * of id (0: all of them). *n how many. Returns STORE_NOTFOUND (none
 * matched), STORE_FULL, STORE_IO, STORE_READONLY.
 */
int store_hook_dead_retry(struct store *s, const char *name, long long id,
                          long long *n);

/*
 * Drop dead letters for good, chosen as store_hook_dead_retry() chooses
 * them; one queued again is left to its delivery. *n how many. Returns
 * STORE_NOTFOUND (none matched), STORE_FULL, STORE_IO, STORE_READONLY.
 */
int store_hook_dead_drop(struct store *s, const char *name, long long id,
                         long long *n);

/*
 * Call fn for each dead letter (of hook name; NULL: of every hook; only
 * the queued ones if queued), in order of hook name and id; its strings
 * die when fn returns, which runs outside any transaction. fn returns
 * STORE_OK to go on, or a code that stops the walk and is returned.
 * Returns STORE_CORRUPT, STORE_IO.
 */
typedef int store_hook_dead_fn(void *ctx, const struct store_hook_dead *d);
int store_hook_dead_walk(struct store *s, const char *name, int queued,
                         store_hook_dead_fn *fn, void *ctx);

/* A hook's state as store_hooks_walk() passes it. */
struct store_hook_info {
    const char *name;
    long long cursor;  /* time of the last entry passed */
    long long backlog; /* entries of the log after it (at most 1000000) */
    long long dead;    /* its dead letters */
};

/*
 * Call fn for each hook the store knows (store_hooks_sync), by name, and
 * *hold (if not NULL) the hold (LLONG_MAX: none). Read in one
 * transaction; fn runs after it. Returns STORE_CORRUPT, STORE_IO, or
 * what fn returned.
 */
typedef int store_hook_info_fn(void *ctx, const struct store_hook_info *h);
int store_hooks_walk(struct store *s, store_hook_info_fn *fn, void *ctx,
                     long long *hold);

/* --- backup and restore (store/backup.c) --- */

/*
 * A backup directory DEST holds what a storage root needs and nothing of
 * its transient state:
 *
 *   DEST/meta/data.mdb                 a compacted copy of the metadata
 *   DEST/blobs/<alg>/<h2>/<hex>        the blob files it references
 *   DEST/backup.json                   when, by which berth, what format
 *
 * Upload sessions are not backed up (clients start them again).
 */
struct store_backup_options {
    /*
     * Hard-link blob files instead of copying them where both sides are
     * on one file system (blob files are never modified: a link is as
     * good as a copy, and costs no space); a copy elsewhere.
     */
    int link;
    store_progress_fn *progress; /* blob files done of all; NULL: none */
    void *ctx;                   /* for progress */
};

struct store_backup_stats {
    long long blobs;          /* blob files the metadata copy references */
    long long copied, linked; /* of them: copied, hard-linked */
    long long present;        /* and found already there, unchanged */
    long long bytes_copied, bytes_linked, bytes_present;
    long long meta_bytes; /* of the metadata copy */
    long long tries;      /* metadata copies made (see below) */
    /* backup: files removed from dest that the new copy does not name */
    long long pruned, bytes_pruned;
};
/*
 * After more than one try, copied and linked (and their bytes) add up
 * every pass, and a file an earlier pass copied counts as present in the
 * last one as well.
 */

/*
 * Copy the store to directory dest (made if missing), online: while
 * pushes, pulls and deletes go on. The result is one point in time: the
 * metadata as one LMDB snapshot, compacted (mdb_env_copyfd2), and every
 * blob file that snapshot references. The blob list is read from the
 * copy itself; so the copy references no file that is not copied. A
 * file that a deletion removed between the snapshot and its copy makes
 * the backup take a newer snapshot and copy again (at most 5 times, then
 * STORE_BUSY); the GC cannot remove any, as the backup holds the GC's
 * lock all along (a GC meanwhile gets STORE_LOCKED, and a backup during
 * a GC too).
 *
 * Incremental: a blob file already in dest with its size is not copied
 * again (blob files are content-addressed and immutable). Every copied
 * file and directory is flushed before the metadata copy is renamed into
 * dest/meta/data.mdb, last: a backup that fails or is interrupted leaves
 * the one before it whole (its blob files stay: until the new metadata
 * is in place, a backup only adds files). Then the files in dest/blobs
 * that the new metadata does not reference go (blobs deleted since the
 * last backup, a copy left half-made): dest holds one backup, not a
 * history (keep a directory per backup for more: with o->link on the
 * store's file system, each costs little more than its metadata).
 *
 * On STORE_OK *out (if not NULL) says what was done. Returns STORE_LOCKED
 * (a GC is running), STORE_IN_USE (dest is the storage root or inside it),
 * STORE_BUSY, STORE_FULL, STORE_IO.
 */
int store_backup(struct store *s, const char *dest,
                 const struct store_backup_options *o,
                 struct store_backup_stats *out);

/*
 * Make the storage root root from the backup in src (store_backup()):
 * root must not exist, or be an empty directory. Copies (or, o->link,
 * hard-links) every blob file the metadata copy references, and the
 * metadata (always copied: LMDB writes its file in place), flushes them,
 * then opens the new root read-write once with opt, which makes what a
 * root has besides (sessions/, uploads/, trash/) and brings an older
 * format to this build's. bytes_present and present stay 0. Returns
 * STORE_NOTFOUND (no backup in src), STORE_IN_USE (root is not empty),
 * STORE_CORRUPT (the backup lacks a file it references, or it has
 * another size), STORE_VERSION, STORE_FULL, STORE_IO.
 */
int store_restore(const char *src, const char *root,
                  const struct store_options *opt,
                  const struct store_backup_options *o,
                  struct store_backup_stats *out);

/* --- checking the store (store/fsck.c) --- */

enum store_fsck_kind {
    STORE_FSCK_BLOB_MISSING, /* a blob's record without its file or bytes */
    STORE_FSCK_BLOB_CORRUPT, /* a blob whose content has another size, or
                                hashes to another digest */
    STORE_FSCK_ORPHAN,       /* a file in blobs/ without a record */
    STORE_FSCK_STRAY,        /* a file in blobs/ that is no blob's */
    STORE_FSCK_TRASH,        /* a file a crash left in trash/ */
    STORE_FSCK_DANGLING,     /* a record or index entry that names what is
                                not there, or an index entry missing */
    STORE_FSCK_BROKEN,       /* a manifest that references what its
                                repository lacks, or that cannot be read */
    STORE_FSCK_COUNT,        /* a count that does not match what it counts */
    STORE_FSCK_UPLOAD        /* a half-finished upload: a session without its
                                file, or an old file without its session */
};

/* One problem found. Valid during the call. */
struct store_fsck_event {
    enum store_fsck_kind kind;
    const char *repo;   /* NULL for what belongs to the whole store */
    const char *what;   /* a digest, a tag, a file, a session id */
    const char *detail; /* what is wrong, in words */
    int repaired;       /* 1 if --repair set it right */
};

typedef void store_fsck_report_fn(void *ctx, const struct store_fsck_event *e);

struct store_fsck_options {
    /*
     * Set right what can be set right without losing anything: remove
     * what can never be reached (files without records, records and
     * index entries that name what is not there, sessions without data,
     * files a crash left) and correct counts. A blob file whose content
     * is not its digest's is moved to <root>/damaged/ (and stays a
     * problem): berth then answers 404 for the blob, so that the next
     * push of it puts the right content back, as it does for a missing
     * file. Broken manifests are only reported.
     */
    int repair;
    store_fsck_report_fn *report;
    store_progress_fn *progress; /* blobs checked of all blobs */
    void *ctx;
};

struct store_fsck_stats {
    long long blobs, bytes, manifests; /* checked */
    long long problems, repaired;
};

/*
 * Check the store: every blob's content against its digest and size,
 * every record against the records it names, every file in blobs/ and
 * trash/ against the records, the upload sessions against their files.
 * Online: it reads one snapshot at a time, and a repair looks again in
 * the write transaction that makes it. On STORE_OK *out (if not NULL)
 * counts what was checked and found; problems remain if problems >
 * repaired. Returns STORE_CORRUPT (a record cannot be read at all),
 * STORE_FULL, STORE_IO, STORE_READONLY (repair of a read-only store).
 */
int store_fsck(struct store *s, const struct store_fsck_options *o,
               struct store_fsck_stats *out);

#endif
