/*
 * tests/unit/test_store_cache.c: what the store does for the pull-through
 * cache. A cached manifest is kept before its blobs (and fsck finds
 * nothing wrong with that); a fetched blob is kept only when its digest
 * and size are right, one fetcher at a time; the GC's cache_max evicts
 * the least recently pulled cached blobs and never a pushed one; what a
 * crashed fetch left in fetch/ is swept, what a fetch at work holds is
 * not; a fetch at work is followed as it is written, and only a fetch
 * that stores the blob in the very file followed completes a follower.
 */
#include "config.h"

#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/store_private.h"
#include "tests/unit/store_fixture.h"

static long long fake_now;

static long long fake_clock(void)
{
    return fake_now;
}

static int cache_setup(void **state)
{
    struct fixture *f;

    if (setup(state))
        return -1;
    f = *state;
    fake_now = 1700000000;
    f->s->clock = fake_clock;
    return 0;
}

/* Fetch data as blob d of repo in pieces of 1000 bytes; commit's rc. */
static int fetch(struct fixture *f, const char *repo, const void *data,
                 size_t len, const struct digest *d, long long expect)
{
    struct store_fetch *h;
    size_t off, n;
    int rc;

    rc = store_fetch_begin(f->s, repo, d, 0, &h);
    if (rc)
        return rc;
    if (expect >= 0)
        store_fetch_expect(h, expect);
    for (off = 0; off < len; off += n) {
        n = len - off < 1000 ? len - off : 1000;
        rc = store_fetch_write(h, (const char *)data + off, n);
        if (rc) {
            store_fetch_abort(h);
            return rc;
        }
    }
    return store_fetch_commit(h);
}

static int has_blob(struct fixture *f, const char *repo, const struct digest *d)
{
    struct store_blob *b = NULL;
    int rc = store_blob_open(f->s, repo, d, 0, &b);

    store_blob_close(b);
    return rc == STORE_OK;
}

static long long fsck_problems(struct fixture *f)
{
    struct store_fsck_options o;
    struct store_fsck_stats st;

    memset(&o, 0, sizeof(o));
    assert_int_equal(store_fsck(f->s, &o, &st), STORE_OK);
    return st.problems;
}

static void test_cached_manifest(void **state)
{
    struct fixture *f = *state;
    struct store_manifest_info info;
    unsigned char *cfg = pattern(3000, 1);
    struct digest dcfg, missing;
    struct tm t;

    digest_of(DIGEST_SHA256, cfg, 3000, &dcfg);
    tm_image(&t, &dcfg, 3000, NULL, NULL, 1);
    /* pushed, it needs its blobs; cached, it comes first */
    assert_int_equal(put_manifest(f, "hub/a", "1", &t, &missing),
                     STORE_BLOB_MISSING);
    struct store_manifest mf = {&t.d, t.body, t.len, &t.m, NULL};
    assert_int_equal(store_manifest_put_cached(f->s, "hub/a", "1", &mf),
                     STORE_OK);
    assert_int_equal(store_manifest_get(f->s, "hub/a", "1", NULL, NULL, &info),
                     STORE_OK);
    assert_true(info.cached);
    assert_int_equal(info.tagged, fake_now);
    assert_true(digest_equal(&info.digest, &t.d));
    assert_int_equal(fsck_problems(f), 0);
    /* a check of the tag moves its time, nothing else */
    fake_now += 100;
    assert_int_equal(store_tag_confirm(f->s, "hub/a", "1", &t.d), STORE_OK);
    assert_int_equal(store_manifest_get(f->s, "hub/a", "1", NULL, NULL, &info),
                     STORE_OK);
    assert_int_equal(info.tagged, fake_now);
    assert_int_equal(store_tag_confirm(f->s, "hub/a", "2", &t.d),
                     STORE_NOTFOUND);
    /* its blob, fetched later, is linked and used */
    assert_int_equal(fetch(f, "hub/a", cfg, 3000, &dcfg, 3000), STORE_OK);
    assert_true(has_blob(f, "hub/a", &dcfg));
    assert_int_equal(fsck_problems(f), 0);
    /* gone at the upstream: the tag goes if it still names t.d */
    assert_int_equal(store_tag_forget(f->s, "hub/a", "1", &dcfg),
                     STORE_NOTFOUND);
    assert_int_equal(store_tag_forget(f->s, "hub/a", "1", &t.d), STORE_OK);
    assert_int_equal(store_manifest_get(f->s, "hub/a", "1", NULL, NULL, &info),
                     STORE_NOTFOUND);
    assert_int_equal(store_manifest_get(f->s, "hub/a", NULL, &t.d, NULL, &info),
                     STORE_OK);
    assert_int_equal(store_tag_forget(f->s, "hub/a", "1", &t.d),
                     STORE_NOTFOUND);
    assert_int_equal(fsck_problems(f), 0);
    tm_release(&t);
    free(cfg);
}

static void test_fetch_checked(void **state)
{
    struct fixture *f = *state;
    unsigned char *data = pattern(50000, 2), *other = pattern(50000, 3);
    struct store_fetch *h, *h2;
    struct digest d;
    char part[PATH_MAX], buf[64];
    struct stat st;

    digest_of(DIGEST_SHA256, data, 50000, &d);
    /* wrong bytes, too few, too many: nothing is kept */
    assert_int_equal(fetch(f, "hub/a", other, 50000, &d, 50000),
                     STORE_DIGEST_MISMATCH);
    assert_int_equal(fetch(f, "hub/a", data, 40000, &d, 50000),
                     STORE_SIZE_MISMATCH);
    assert_int_equal(fetch(f, "hub/a", data, 50000, &d, 49000),
                     STORE_SIZE_MISMATCH);
    assert_int_equal(fetch(f, "hub/a", data, 40000, &d, -1),
                     STORE_DIGEST_MISMATCH);
    assert_false(has_blob(f, "hub/a", &d));
    snprintf(part, sizeof(part), "%s/fetch/sha256-%s.part", f->root, d.hex);
    assert_int_equal(stat(part, &st), -1);
    /* one fetcher at a time: the second finds the lock taken */
    assert_int_equal(store_fetch_begin(f->s, "hub/a", &d, 0, &h), STORE_OK);
    assert_int_equal(store_fetch_begin(f->s, "hub/b", &d, 50, &h2),
                     STORE_LOCKED);
    assert_int_equal(store_fetch_write(h, data, 50000), STORE_OK);
    assert_int_equal(store_fetch_got(h), 50000);
    /* checked, what was fetched can be read before the commit */
    assert_int_equal(store_fetch_read(h, 0, buf, sizeof(buf)), -1);
    assert_int_equal(store_fetch_verify(h), STORE_OK);
    assert_int_equal(store_fetch_read(h, 49990, buf, sizeof(buf)), 10);
    assert_memory_equal(buf, data + 49990, 10);
    assert_int_equal(store_fetch_commit(h), STORE_OK);
    assert_true(has_blob(f, "hub/a", &d));
    /* the file is the blob, the unaligned end included */
    {
        unsigned char *back = malloc(50000);
        struct store_blob *b = NULL;

        assert_non_null(back);
        assert_int_equal(store_blob_open(f->s, "hub/a", &d, 0, &b), STORE_OK);
        assert_int_equal(store_blob_read(b, 0, back, 50000), 50000);
        assert_memory_equal(back, data, 50000);
        store_blob_close(b);
        free(back);
    }
    /* then it finds the blob there, and links its repository to it */
    assert_false(has_blob(f, "hub/b", &d));
    assert_int_equal(store_fetch_begin(f->s, "hub/b", &d, 0, &h2),
                     STORE_FETCH_PRESENT);
    assert_true(has_blob(f, "hub/b", &d));
    free(data);
    free(other);
}

/* A blob of whole blocks: read back after the check, then committed. */
static void test_fetch_aligned(void **state)
{
    struct fixture *f = *state;
    unsigned char *data = pattern(8192, 4), buf[16];
    struct store_fetch *h;
    struct digest d;

    digest_of(DIGEST_SHA256, data, 8192, &d);
    assert_int_equal(store_fetch_begin(f->s, "hub/a", &d, 0, &h), STORE_OK);
    store_fetch_expect(h, 8192);
    assert_int_equal(store_fetch_write(h, data, 8192), STORE_OK);
    assert_int_equal(store_fetch_verify(h), STORE_OK);
    assert_int_equal(store_fetch_read(h, 8191, buf, sizeof(buf)), 1);
    assert_int_equal(buf[0], data[8191]);
    assert_int_equal(store_fetch_commit(h), STORE_OK);
    assert_true(has_blob(f, "hub/a", &d));
    free(data);
}

/*
 * A blob of several 4 MiB buffers and an unaligned end, so that the
 * writer thread writes some of it: read back whole after the check; and
 * a fetch dropped while the writer has a buffer leaks nothing.
 */
static void test_fetch_big(void **state)
{
    struct fixture *f = *state;
    size_t len = ((size_t)13 << 20) + 1000, off, n;
    unsigned char *data = pattern(len, 5), *back = malloc(len);
    struct store_blob *b = NULL;
    struct store_fetch *h;
    struct digest d;

    assert_non_null(back);
    digest_of(DIGEST_SHA256, data, len, &d);
    assert_int_equal(store_fetch_begin(f->s, "hub/a", &d, 0, &h), STORE_OK);
    store_fetch_expect(h, (long long)len);
    for (off = 0; off < ((size_t)9 << 20); off += 65536)
        assert_int_equal(store_fetch_write(h, data + off, 65536), STORE_OK);
    store_fetch_abort(h);
    assert_false(has_blob(f, "hub/a", &d));
    assert_int_equal(store_fetch_begin(f->s, "hub/a", &d, 0, &h), STORE_OK);
    store_fetch_expect(h, (long long)len);
    for (off = 0; off < len; off += n) {
        n = len - off < 65536 ? len - off : 65536;
        assert_int_equal(store_fetch_write(h, data + off, n), STORE_OK);
    }
    assert_int_equal(store_fetch_verify(h), STORE_OK);
    assert_int_equal(store_fetch_read(h, 0, back, 65536), 65536);
    assert_memory_equal(back, data, 65536);
    assert_int_equal(store_fetch_commit(h), STORE_OK);
    assert_int_equal(store_blob_open(f->s, "hub/a", &d, 0, &b), STORE_OK);
    for (off = 0; off < len; off += (size_t)n)
        assert_true((n = (size_t)store_blob_read(b, (long long)off, back + off,
                                                 len - off)) > 0);
    assert_memory_equal(back, data, len);
    store_blob_close(b);
    /* too many bytes, once the writer runs: nothing is kept */
    digest_of(DIGEST_SHA256, data, len - 1, &d);
    assert_int_equal(fetch(f, "hub/a", data, len, &d, (long long)len - 1),
                     STORE_SIZE_MISMATCH);
    assert_false(has_blob(f, "hub/a", &d));
    free(back);
    free(data);
}

static void test_evict_order(void **state)
{
    struct fixture *f = *state;
    struct store_gc_options o;
    struct store_gc_stats st;
    unsigned char *b[4];
    struct digest d[4];
    struct store_blob *sb;
    size_t i;

    for (i = 0; i < 4; i++) {
        b[i] = pattern(100000, 10 + (unsigned)i);
        digest_of(DIGEST_SHA256, b[i], 100000, &d[i]);
    }
    /* 0, 1, 2 fetched a minute apart; 3 pushed, the oldest of all */
    put_blob(f, "team/x", b[3], 100000, &d[3]);
    for (i = 0; i < 3; i++) {
        fake_now += 60;
        assert_int_equal(fetch(f, "hub/a", b[i], 100000, &d[i], 100000),
                         STORE_OK);
    }
    /* 0 pulled again, long after: now 1 is the least recently pulled */
    fake_now += STORE_PULL_SLACK + 1;
    assert_int_equal(
        store_blob_open(f->s, "hub/a", &d[0], STORE_BLOB_PULL, &sb), STORE_OK);
    store_blob_close(sb);
    memset(&o, 0, sizeof(o));
    o.grace = 1000000; /* the ordinary sweep takes nothing */
    o.untagged_ttl = -1;
    o.upload_ttl = 1000000;
    o.cache_max = 250000; /* two of the three */
    assert_int_equal(store_gc(f->s, &o, &st), STORE_OK);
    assert_false(has_blob(f, "hub/a", &d[1]));
    assert_true(has_blob(f, "hub/a", &d[0]));
    assert_true(has_blob(f, "hub/a", &d[2]));
    assert_true(has_blob(f, "team/x", &d[3]));
    assert_int_equal(st.blobs, 1);
    assert_int_equal(st.bytes, 100000);
    /* a cap under everything takes the cache's, never the pushed one */
    o.cache_max = 1;
    assert_int_equal(store_gc(f->s, &o, &st), STORE_OK);
    assert_false(has_blob(f, "hub/a", &d[0]));
    assert_false(has_blob(f, "hub/a", &d[2]));
    assert_true(has_blob(f, "team/x", &d[3]));
    /* a cached blob someone pushes is the registry's own from then on */
    assert_int_equal(fetch(f, "hub/a", b[1], 100000, &d[1], 100000), STORE_OK);
    put_blob(f, "team/y", b[1], 100000, &d[1]);
    assert_int_equal(store_gc(f->s, &o, &st), STORE_OK);
    assert_true(has_blob(f, "hub/a", &d[1]));
    assert_int_equal(fsck_problems(f), 0);
    for (i = 0; i < 4; i++)
        free(b[i]);
}

/* Make file path with content text. */
static void put_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");

    assert_non_null(fp);
    fputs(text, fp);
    assert_int_equal(fclose(fp), 0);
}

static int exists(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0;
}

static void fetch_file(struct fixture *f, const struct digest *d,
                       const char *ext, char *out)
{
    snprintf(out, PATH_MAX, "%s/fetch/sha256-%s.%s", f->root, d->hex, ext);
}

/*
 * fetch/: what a crash left goes (store_fetch_sweep, and the GC), the
 * files of a fetch at work stay, and an ended fetch leaves nothing.
 */
static void test_fetch_sweep(void **state)
{
    struct fixture *f = *state;
    unsigned char *data = pattern(50000, 5);
    char lock[PATH_MAX], part[PATH_MAX], dlock[PATH_MAX], dpart[PATH_MAX],
        alone[PATH_MAX], other[PATH_MAX];
    struct store_gc_options o;
    struct store_gc_stats st;
    struct digest d, dead, dead2;
    struct store_fetch *h;
    long long n = -1;

    digest_of(DIGEST_SHA256, data, 50000, &d);
    digest_of(DIGEST_SHA256, data, 1000, &dead);
    digest_of(DIGEST_SHA256, data, 2000, &dead2);
    assert_int_equal(store_fetch_sweep(f->s, &n), STORE_OK);
    assert_int_equal(n, 0);
    /* a fetch at work, a crash's .part and lock file, a .part alone */
    assert_int_equal(store_fetch_begin(f->s, "hub/a", &d, 0, &h), STORE_OK);
    assert_int_equal(store_fetch_write(h, data, 20000), STORE_OK);
    fetch_file(f, &d, "lock", lock);
    fetch_file(f, &d, "part", part);
    fetch_file(f, &dead, "lock", dlock);
    fetch_file(f, &dead, "part", dpart);
    fetch_file(f, &dead2, "part", alone);
    snprintf(other, sizeof(other), "%s/fetch/notes", f->root);
    put_file(dlock, "");
    put_file(dpart, "half a blob");
    put_file(alone, "half another");
    put_file(other, "not a fetch's");
    assert_int_equal(store_fetch_sweep(f->s, &n), STORE_OK);
    assert_int_equal(n, 3);
    assert_false(exists(dlock));
    assert_false(exists(dpart));
    assert_false(exists(alone));
    assert_true(exists(other));
    assert_true(exists(lock));
    assert_true(exists(part));
    /* the fetch goes on, and leaves nothing when it ends */
    assert_int_equal(store_fetch_write(h, data + 20000, 30000), STORE_OK);
    assert_int_equal(store_fetch_commit(h), STORE_OK);
    assert_true(has_blob(f, "hub/a", &d));
    assert_false(exists(lock));
    assert_false(exists(part));
    assert_int_equal(fetch(f, "hub/a", data, 1000, &dead2, 1000),
                     STORE_DIGEST_MISMATCH);
    fetch_file(f, &dead2, "lock", lock);
    assert_false(exists(lock));
    assert_false(exists(alone));
    /* the GC sweeps */
    put_file(dlock, "");
    put_file(dpart, "half a blob");
    memset(&o, 0, sizeof(o));
    o.grace = 1000000;
    o.untagged_ttl = -1;
    o.upload_ttl = 1000000;
    assert_int_equal(store_gc(f->s, &o, &st), STORE_OK);
    assert_false(exists(dlock));
    assert_false(exists(dpart));
    assert_true(has_blob(f, "hub/a", &d));
    free(data);
}

/*
 * A process that takes the lock of a fetch's lock file, says so on fd
 * ready, and unlinks the file while it holds it, as a sweep does; its
 * exit drops the lock.
 */
static void unlink_held(const char *lock, int ready)
{
    int fd = open(lock, O_RDWR | O_CREAT, 0644);

    if (fd < 0 || flock(fd, LOCK_EX) || write(ready, "x", 1) != 1)
        _exit(1);
    poll(NULL, 0, 200); /* the fetcher opens it, and waits */
    _exit(unlink(lock) ? 1 : 0);
}

/*
 * A fetcher that waited on a lock file its holder unlinked opens the path
 * anew: it holds the lock of the file the path names, which a sweep
 * leaves alone, and no other fetcher can hold one of the same path.
 */
static void test_fetch_lock_unlinked(void **state)
{
    struct fixture *f = *state;
    unsigned char *data = pattern(30000, 6);
    char lock[PATH_MAX], part[PATH_MAX];
    struct store_fetch *h;
    struct digest d;
    int fd, pfd[2], status;
    long long n = -1;
    pid_t pid;
    char c;

    digest_of(DIGEST_SHA256, data, 30000, &d);
    fetch_file(f, &d, "lock", lock);
    fetch_file(f, &d, "part", part);
    /* fetch/ made by a fetch that failed */
    assert_int_equal(fetch(f, "hub/a", data, 100, &d, -1),
                     STORE_DIGEST_MISMATCH);
    assert_int_equal(pipe(pfd), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        unlink_held(lock, pfd[1]);
    assert_int_equal(read(pfd[0], &c, 1), 1);
    assert_int_equal(store_fetch_begin(f->s, "hub/a", &d, 5000, &h), STORE_OK);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(pfd[0]);
    close(pfd[1]);
    fd = open(lock, O_RDWR);
    assert_true(fd >= 0);
    assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), -1);
    close(fd);
    assert_int_equal(store_fetch_sweep(f->s, &n), STORE_OK);
    assert_int_equal(n, 0);
    assert_true(exists(part));
    assert_int_equal(store_fetch_write(h, data, 30000), STORE_OK);
    assert_int_equal(store_fetch_commit(h), STORE_OK);
    assert_true(has_blob(f, "hub/a", &d));
    free(data);
}

/*
 * Read what follower fl has at off into buf (up to len), polling up to 5
 * s for at least want bytes or another state than RUNNING; the bytes.
 */
static long follow_poll(struct store_follow *fl, long long off,
                        unsigned char *buf, size_t len, long want, int *state)
{
    long n, got = 0;
    int i;

    for (i = 0; i < 500; i++) {
        n = store_follow_read(fl, off + got, buf + got, len - (size_t)got,
                              state);
        assert_true(n >= 0);
        got += n;
        if (got >= want || *state != STORE_FOLLOW_RUNNING)
            break;
        if (!n)
            poll(NULL, 0, 10);
    }
    return got;
}

/*
 * Another worker's fetch is followed as it is written: its length, its
 * bytes, all but the last until it is the blob; a failed fetch fails its
 * followers, even when a new fetch then stores the blob.
 */
static void test_fetch_follow(void **state)
{
    struct fixture *f = *state;
    size_t len = ((size_t)9 << 20) + 1000, off, n;
    unsigned char *data = pattern(len, 7), *other = pattern(len, 8);
    unsigned char *back = malloc(len);
    struct store_follow *fl;
    struct store_fetch *h;
    struct digest d;
    long got;
    int st;

    assert_non_null(back);
    digest_of(DIGEST_SHA256, data, len, &d);
    /* no fetch: the caller fetches */
    assert_int_equal(store_fetch_follow(f->s, "hub/b", &d, &fl),
                     STORE_NOTFOUND);
    assert_int_equal(store_fetch_begin(f->s, "hub/a", &d, 0, &h), STORE_OK);
    assert_int_equal(store_fetch_follow(f->s, "hub/b", &d, &fl), STORE_OK);
    assert_int_equal(store_follow_read(fl, 0, back, len, &st), 0);
    assert_int_equal(st, STORE_FOLLOW_RUNNING);
    assert_int_equal(store_follow_length(fl), -1);
    store_fetch_expect(h, (long long)len);
    /* a full buffer and a bit: its bytes come while the fetch runs */
    for (off = 0; off < ((size_t)5 << 20); off += 65536)
        assert_int_equal(store_fetch_write(h, data + off, 65536), STORE_OK);
    got = follow_poll(fl, 0, back, len, 4 << 20, &st);
    assert_int_equal(st, STORE_FOLLOW_RUNNING);
    assert_true(got >= (4 << 20));
    assert_true((size_t)got < len);
    assert_memory_equal(back, data, (size_t)got);
    assert_int_equal(store_follow_length(fl), (long long)len);
    assert_true(store_follow_got(fl) >= got);
    for (; off < len; off += n) {
        n = len - off < 65536 ? len - off : 65536;
        assert_int_equal(store_fetch_write(h, data + off, n), STORE_OK);
    }
    /* checked, not yet committed: all but the last byte */
    assert_int_equal(store_fetch_verify(h), STORE_OK);
    got += follow_poll(fl, got, back + got, len - (size_t)got,
                       (long)len - 1 - got, &st);
    assert_int_equal(got, (long)len - 1);
    assert_int_equal(st, STORE_FOLLOW_RUNNING);
    assert_int_equal(store_follow_read(fl, got, back + got, 1, &st), 0);
    assert_int_equal(store_fetch_commit(h), STORE_OK);
    /* the blob now, in the file read: the last byte too */
    assert_int_equal(store_follow_read(fl, got, back + got, 1, &st), 1);
    assert_int_equal(st, STORE_FOLLOW_DONE);
    assert_memory_equal(back, data, len);
    store_follow_close(fl);
    assert_true(has_blob(f, "hub/b", &d));
    assert_int_equal(store_fetch_follow(f->s, "hub/c", &d, &fl),
                     STORE_FETCH_PRESENT);
    assert_true(has_blob(f, "hub/c", &d));

    /* wrong bytes: the follower fails, and is not made whole after */
    digest_of(DIGEST_SHA256, data, len - 1, &d);
    assert_int_equal(store_fetch_begin(f->s, "hub/a", &d, 0, &h), STORE_OK);
    store_fetch_expect(h, (long long)len - 1);
    assert_int_equal(store_fetch_follow(f->s, "hub/a", &d, &fl), STORE_OK);
    for (off = 0; off < ((size_t)5 << 20); off += 65536)
        assert_int_equal(store_fetch_write(h, other + off, 65536), STORE_OK);
    got = follow_poll(fl, 0, back, len, 4 << 20, &st);
    assert_int_equal(st, STORE_FOLLOW_RUNNING);
    assert_true(got >= (4 << 20));
    store_fetch_abort(h);
    /* a new fetch of it stores the blob before the follower looks again */
    assert_int_equal(fetch(f, "hub/a", data, len - 1, &d, (long long)len - 1),
                     STORE_OK);
    assert_true(has_blob(f, "hub/a", &d));
    assert_int_equal(store_follow_read(fl, got, back + got, len, &st), 0);
    assert_int_equal(st, STORE_FOLLOW_FAILED);
    store_follow_close(fl);

    /* a wrong digest, committed: failed too */
    digest_of(DIGEST_SHA256, data, len - 2, &d);
    assert_int_equal(store_fetch_begin(f->s, "hub/a", &d, 0, &h), STORE_OK);
    store_fetch_expect(h, (long long)len - 2);
    assert_int_equal(store_fetch_follow(f->s, "hub/a", &d, &fl), STORE_OK);
    for (off = 0; off < len - 2; off += n) {
        n = len - 2 - off < 65536 ? len - 2 - off : 65536;
        assert_int_equal(store_fetch_write(h, other + off, n), STORE_OK);
    }
    assert_int_equal(store_fetch_commit(h), STORE_DIGEST_MISMATCH);
    assert_int_equal(store_follow_read(fl, 0, back, len, &st), 0);
    assert_int_equal(st, STORE_FOLLOW_FAILED);
    store_follow_close(fl);
    assert_false(has_blob(f, "hub/a", &d));
    assert_int_equal(store_fetch_follow(f->s, "hub/a", &d, &fl),
                     STORE_NOTFOUND);

    /*
     * What a crashed fetch left, a .part and a note naming it: a new
     * fetch makes its own file, and its followers read that one.
     */
    digest_of(DIGEST_SHA256, data, len - 3, &d);
    {
        char part[PATH_MAX], lock[PATH_MAX], text[128];
        struct stat old, now;
        int fd;

        fetch_file(f, &d, "part", part);
        fetch_file(f, &d, "lock", lock);
        put_file(part, "junk, junk, junk");
        fd = open(part, O_RDONLY); /* its inode stays in use */
        assert_true(fd >= 0);
        assert_int_equal(fstat(fd, &old), 0);
        snprintf(text, sizeof(text), "%20llu %20lld %20lld\n",
                 (unsigned long long)old.st_ino, (long long)len - 3, 16LL);
        put_file(lock, text);
        assert_int_equal(store_fetch_begin(f->s, "hub/a", &d, 0, &h), STORE_OK);
        assert_int_equal(stat(part, &now), 0);
        assert_true(now.st_ino != old.st_ino);
        assert_int_equal(store_fetch_follow(f->s, "hub/a", &d, &fl), STORE_OK);
        assert_int_equal(store_follow_read(fl, 0, back, len, &st), 0);
        assert_int_equal(store_follow_length(fl), -1);
        store_fetch_expect(h, (long long)len - 3);
        for (off = 0; off < ((size_t)5 << 20); off += 65536)
            assert_int_equal(store_fetch_write(h, data + off, 65536), STORE_OK);
        got = follow_poll(fl, 0, back, len, 4 << 20, &st);
        assert_int_equal(st, STORE_FOLLOW_RUNNING);
        assert_true(got >= (4 << 20));
        assert_memory_equal(back, data, (size_t)got);
        store_fetch_abort(h);
        assert_int_equal(store_follow_read(fl, got, back, len, &st), 0);
        assert_int_equal(st, STORE_FOLLOW_FAILED);
        store_follow_close(fl);
        close(fd);
    }
    free(back);
    free(other);
    free(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_cached_manifest, cache_setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_fetch_checked, cache_setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_fetch_aligned, cache_setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_fetch_big, cache_setup, teardown),
        cmocka_unit_test_setup_teardown(test_evict_order, cache_setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_fetch_sweep, cache_setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_fetch_lock_unlinked, cache_setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_fetch_follow, cache_setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
