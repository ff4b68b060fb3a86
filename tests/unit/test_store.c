/* tests/unit/test_store.c: store/store.h, a fresh store per test */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/store_private.h"
#include "tests/unit/store_fixture.h"
#include "util/fsutil.h"

/*
 * Read all of b in pieces of at most 5 bytes into a new buffer of size
 * bytes and one more; free() it.
 */
static unsigned char *read_blob(struct store_blob *b, long long size)
{
    unsigned char *got = malloc((size_t)size + 1);
    long long off = 0;
    long n;

    assert_non_null(got);
    while ((n = store_blob_read(b, off, got + off, 5)) > 0)
        off += n;
    assert_int_equal(n, 0);
    assert_int_equal(off, size);
    /* past the end there is nothing */
    assert_int_equal(store_blob_read(b, size + 1, got, 1), 0);
    return got;
}

/* Assert that repo serves blob d with exactly data[0..len). */
static void assert_blob(struct fixture *f, const char *repo,
                        const struct digest *d, const void *data, size_t len)
{
    struct store_blob *b = NULL;
    unsigned char *got;

    assert_int_equal(store_blob_open(f->s, repo, d, 0, &b), STORE_OK);
    assert_non_null(b);
    assert_int_equal(store_blob_size(b), (long long)len);
    got = read_blob(b, (long long)len);
    assert_memory_equal(got, data, len);
    free(got);
    store_blob_close(b);
}

/* Assert that blob d of repo is a file (1) or kept in the database (0). */
static int blob_is_file(struct fixture *f, const char *repo,
                        const struct digest *d)
{
    struct store_blob *b = NULL;
    int file;

    assert_int_equal(store_blob_open(f->s, repo, d, 0, &b), STORE_OK);
    file = store_blob_file(b, NULL) != NULL;
    store_blob_close(b);
    return file;
}

static void assert_no_blob(struct fixture *f, const char *repo,
                           const struct digest *d)
{
    static char marker_obj;
    struct store_blob *const marker = (void *)&marker_obj, *b = marker;

    assert_int_equal(store_blob_open(f->s, repo, d, 0, &b), STORE_NOTFOUND);
    assert_ptr_equal(b, marker);
}

/* Whether the content file of d exists. */
static int blob_file_exists(struct fixture *f, const struct digest *d)
{
    char path[PATH_MAX];
    struct stat st;

    assert_int_equal(store_blob_path(f->s, d, path, sizeof(path), NULL),
                     STORE_OK);
    if (stat(path, &st) == 0)
        return 1;
    assert_int_equal(errno, ENOENT);
    return 0;
}

static void upload_file(struct fixture *f, const char *id, char *path,
                        size_t len)
{
    snprintf(path, len, "%s/uploads/%s", f->root, id);
}

/* Size of uploads/<id> on disk, or -1 if it does not exist. */
static long long upload_file_size(struct fixture *f, const char *id)
{
    char path[PATH_MAX];
    struct stat st;

    upload_file(f, id, path, sizeof(path));
    if (stat(path, &st))
        return -1;
    return (long long)st.st_size;
}

/* Regular files below dir (relative to the root), recursively. */
/* Assert that session id of repo holds size bytes, recorded and on disk. */
static void assert_session(struct fixture *f, const char *repo, const char *id,
                           long long size)
{
    long long got = -1;

    assert_int_equal(store_upload_status(f->s, repo, id, &got), STORE_OK);
    assert_int_equal(got, size);
    assert_int_equal(upload_file_size(f, id), size);
}

static int count_files_in(const char *dir)
{
    struct dirent *de;
    int n = 0;
    DIR *d = opendir(dir);

    if (!d)
        return 0;
    while ((de = readdir(d))) {
        char path[PATH_MAX];
        struct stat st;

        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        if (lstat(path, &st))
            continue;
        if (S_ISDIR(st.st_mode))
            n += count_files_in(path);
        else if (S_ISREG(st.st_mode))
            n++;
    }
    closedir(d);
    return n;
}

static int count_files(struct fixture *f, const char *sub)
{
    char dir[PATH_MAX];

    snprintf(dir, sizeof(dir), "%s/%s", f->root, sub);
    return count_files_in(dir);
}

/* --- tests --- */

static void test_upload_round_trip(void **state)
{
    struct fixture *f = *state;
    const size_t n = 1000;
    unsigned char *data = pattern(n, 1);
    char id[UPLOAD_ID_LEN + 2];
    struct store_body b;
    struct mem_body m;
    struct digest d;
    long long size = -1;

    digest_of(DIGEST_SHA256, data, n, &d);
    memset(id, 'x', sizeof(id));
    assert_int_equal(store_upload_begin(f->s, "library/ubuntu", "", id),
                     STORE_OK);
    assert_int_equal(id[UPLOAD_ID_LEN], '\0');
    assert_true(upload_id_valid(id, strlen(id)));
    assert_int_equal(upload_file_size(f, id), 0);
    assert_int_equal(store_upload_status(f->s, "library/ubuntu", id, &size),
                     STORE_OK);
    assert_int_equal(size, 0);

    /* chunk 1 at 0, chunk 2 at the end (-1), chunk 3 with the finish */
    assert_int_equal(append(f, "library/ubuntu", id, 0, data, 300, &size),
                     STORE_OK);
    assert_int_equal(size, 300);
    assert_int_equal(
        append(f, "library/ubuntu", id, -1, data + 300, 401, &size), STORE_OK);
    assert_int_equal(size, 701);
    assert_int_equal(store_upload_status(f->s, "library/ubuntu", id, &size),
                     STORE_OK);
    assert_int_equal(size, 701);
    assert_int_equal(upload_file_size(f, id), 701);

    body_init(&b, &m, data + 701, n - 701, -1, -1); /* length unknown */
    size = -1;
    assert_int_equal(
        store_upload_finish(f->s, "library/ubuntu", id, &b, &d, &size),
        STORE_OK);
    assert_int_equal(size, (long long)n);
    assert_int_equal(m.off, n - 701);

    assert_blob(f, "library/ubuntu", &d, data, n);
    assert_true(blob_file_exists(f, &d));
    /* the session is over and its file has become the blob */
    assert_int_equal(store_upload_status(f->s, "library/ubuntu", id, &size),
                     STORE_NOTFOUND);
    assert_int_equal(upload_file_size(f, id), -1);
    assert_int_equal(count_files(f, "uploads"), 0);
    assert_int_equal(count_files(f, "blobs"), 1);
    free(data);
}

static void test_blob_open_and_path(void **state)
{
    struct fixture *f = *state;
    static const char data[] = "hello, berth";
    char path[PATH_MAX], want[PATH_MAX], small[16];
    struct digest d, other;
    size_t rel = 0;

    put_blob(f, "a/b", data, sizeof(data) - 1, &d);
    assert_blob(f, "a/b", &d, data, sizeof(data) - 1);

    /* unknown in another repository, unknown digest anywhere */
    assert_no_blob(f, "a/c", &d);
    assert_no_blob(f, "a", &d);
    assert_no_blob(f, "a/b/c", &d);
    digest_of(DIGEST_SHA256, "other", 5, &other);
    assert_no_blob(f, "a/b", &other);
    /* same hex, other algorithm */
    other = d;
    other.alg = DIGEST_SHA512;
    assert_no_blob(f, "a/b", &other);

    /* the path: <root>/blobs/<alg>/<2 hex>/<hex>, rel below blobs/ */
    assert_int_equal(store_blob_path(f->s, &d, path, sizeof(path), &rel),
                     STORE_OK);
    snprintf(want, sizeof(want), "%s/blobs/sha256/%.2s/%s", f->root, d.hex,
             d.hex);
    assert_string_equal(path, want);
    assert_true(rel < strlen(path));
    assert_memory_equal(path + rel, "sha256/", 7);
    /* and an open blob names the same file */
    {
        struct store_blob *b = NULL;
        size_t brel = 0;

        assert_int_equal(store_blob_open(f->s, "a/b", &d, 0, &b), STORE_OK);
        assert_string_equal(store_blob_file(b, &brel), want);
        assert_int_equal(brel, rel);
        store_blob_close(b);
        store_blob_close(NULL);
    }
    assert_int_equal(store_blob_path(f->s, &d, path, sizeof(path), NULL),
                     STORE_OK);
    /* a buffer too small is an error, not a truncated path */
    assert_int_equal(store_blob_path(f->s, &d, small, sizeof(small), &rel),
                     STORE_IO);
}

static void test_finish_wrong_digest(void **state)
{
    struct fixture *f = *state;
    static const char data[] = "some content";
    char id[UPLOAD_ID_LEN + 1];
    struct digest wrong, right;
    long long size = -1;

    digest_of(DIGEST_SHA256, data, sizeof(data) - 1, &right);
    digest_of(DIGEST_SHA256, "other", 5, &wrong);
    assert_int_equal(store_upload_begin(f->s, "r", "", id), STORE_OK);
    assert_int_equal(append(f, "r", id, 0, data, sizeof(data) - 1, &size),
                     STORE_OK);
    size = -7;
    assert_int_equal(store_upload_finish(f->s, "r", id, NULL, &wrong, &size),
                     STORE_DIGEST_MISMATCH);
    assert_int_equal(size, -7);
    /* nothing stored under either digest */
    assert_no_blob(f, "r", &wrong);
    assert_no_blob(f, "r", &right);
    assert_false(blob_file_exists(f, &wrong));
    assert_false(blob_file_exists(f, &right));
    /* the session is gone, with its file */
    assert_int_equal(store_upload_status(f->s, "r", id, &size), STORE_NOTFOUND);
    assert_int_equal(append(f, "r", id, -1, "x", 1, &size), STORE_NOTFOUND);
    assert_int_equal(store_upload_finish(f->s, "r", id, NULL, &right, &size),
                     STORE_NOTFOUND);
    assert_int_equal(upload_file_size(f, id), -1);
    assert_int_equal(count_files(f, "uploads"), 0);
    assert_int_equal(count_files(f, "blobs"), 0);

    /* a wrong digest of the other algorithm, and a wrong final chunk */
    assert_int_equal(store_upload_begin(f->s, "r", "", id), STORE_OK);
    assert_int_equal(append(f, "r", id, 0, data, 4, &size), STORE_OK);
    {
        struct store_body b;
        struct mem_body m;
        struct digest w512;

        digest_of(DIGEST_SHA512, data, sizeof(data) - 1, &w512);
        w512.hex[0] = w512.hex[0] == '0' ? '1' : '0';
        body_init(&b, &m, data + 4, sizeof(data) - 1 - 4, -1, -1);
        assert_int_equal(store_upload_finish(f->s, "r", id, &b, &w512, &size),
                         STORE_DIGEST_MISMATCH);
        assert_no_blob(f, "r", &w512);
    }
    assert_int_equal(store_upload_status(f->s, "r", id, &size), STORE_NOTFOUND);
    assert_int_equal(count_files(f, "uploads"), 0);
}

static void test_append_wrong_start(void **state)
{
    struct fixture *f = *state;
    unsigned char *data = pattern(100, 2);
    char id[UPLOAD_ID_LEN + 1];
    struct digest d;
    long long size = -1;

    digest_of(DIGEST_SHA256, data, 100, &d);
    assert_int_equal(store_upload_begin(f->s, "r", "", id), STORE_OK);
    /* nothing yet: only 0 is right */
    size = -7;
    assert_int_equal(append(f, "r", id, 1, data, 10, &size), STORE_RANGE);
    assert_int_equal(size, -7);
    assert_int_equal(append(f, "r", id, 0, data, 40, &size), STORE_OK);
    assert_int_equal(size, 40);
    /* overlapping, a gap, the start again */
    size = -7;
    assert_int_equal(append(f, "r", id, 39, data + 39, 10, &size), STORE_RANGE);
    assert_int_equal(append(f, "r", id, 41, data + 41, 10, &size), STORE_RANGE);
    assert_int_equal(append(f, "r", id, 0, data, 40, &size), STORE_RANGE);
    assert_int_equal(size, -7);
    assert_session(f, "r", id, 40);
    /* and the right start still works */
    assert_int_equal(append(f, "r", id, 40, data + 40, 60, &size), STORE_OK);
    assert_int_equal(size, 100);
    assert_int_equal(store_upload_finish(f->s, "r", id, NULL, &d, &size),
                     STORE_OK);
    assert_blob(f, "r", &d, data, 100);
    free(data);
}

static void test_append_aborted(void **state)
{
    struct fixture *f = *state;
    const size_t n = 500;
    unsigned char *data = pattern(n, 3);
    char id[UPLOAD_ID_LEN + 1];
    struct store_body b;
    struct mem_body m;
    struct digest d;
    long long size = -1;

    digest_of(DIGEST_SHA256, data, n, &d);
    assert_int_equal(store_upload_begin(f->s, "r", "", id), STORE_OK);

    /* a first chunk that fails at once and one that fails mid-way */
    body_init(&b, &m, data, 100, 100, 0);
    size = -7;
    assert_int_equal(store_upload_append(f->s, "r", id, 0, &b, &size),
                     STORE_ABORTED);
    assert_int_equal(size, -7);
    body_init(&b, &m, data, 100, 100, 50);
    assert_int_equal(store_upload_append(f->s, "r", id, 0, &b, &size),
                     STORE_ABORTED);
    assert_session(f, "r", id, 0);

    assert_int_equal(append(f, "r", id, 0, data, 200, &size), STORE_OK);
    assert_int_equal(size, 200);

    /* the second chunk fails after 123 bytes, some of them written */
    body_init(&b, &m, data + 200, 150, 150, 123);
    size = -7;
    assert_int_equal(store_upload_append(f->s, "r", id, 200, &b, &size),
                     STORE_ABORTED);
    assert_int_equal(size, -7);
    assert_int_equal(m.off, 123);
    assert_session(f, "r", id, 200);
    /* its data is not kept: 200 is still where the next chunk starts */
    assert_int_equal(append(f, "r", id, 323, data + 323, 10, &size),
                     STORE_RANGE);

    /* the same chunk again, then a final chunk that fails, then the rest */
    assert_int_equal(append(f, "r", id, 200, data + 200, 150, &size), STORE_OK);
    assert_int_equal(size, 350);
    body_init(&b, &m, data + 350, n - 350, -1, 20);
    assert_int_equal(store_upload_finish(f->s, "r", id, &b, &d, &size),
                     STORE_ABORTED);
    assert_session(f, "r", id, 350);
    assert_no_blob(f, "r", &d);

    /* the persisted hash state covers exactly [0, 350) */
    body_init(&b, &m, data + 350, n - 350, (long long)(n - 350), -1);
    assert_int_equal(store_upload_finish(f->s, "r", id, &b, &d, &size),
                     STORE_OK);
    assert_int_equal(size, (long long)n);
    assert_blob(f, "r", &d, data, n);
    free(data);
}

static void test_append_length_mismatch(void **state)
{
    struct fixture *f = *state;
    const size_t n = 300;
    unsigned char *data = pattern(n, 4);
    char id[UPLOAD_ID_LEN + 1];
    struct store_body b;
    struct mem_body m;
    struct digest d;
    long long size = -1;

    digest_of(DIGEST_SHA256, data, n, &d);
    assert_int_equal(store_upload_begin(f->s, "r", "", id), STORE_OK);
    assert_int_equal(append(f, "r", id, 0, data, 100, &size), STORE_OK);

    /* body longer than announced (by 1 and by a lot) */
    body_init(&b, &m, data + 100, 51, 50, -1);
    size = -7;
    assert_int_equal(store_upload_append(f->s, "r", id, 100, &b, &size),
                     STORE_SHORT);
    assert_int_equal(size, -7);
    body_init(&b, &m, data + 100, 200, 10, -1);
    assert_int_equal(store_upload_append(f->s, "r", id, 100, &b, &size),
                     STORE_SHORT);
    /* body shorter than announced, and empty with a length announced */
    body_init(&b, &m, data + 100, 49, 50, -1);
    assert_int_equal(store_upload_append(f->s, "r", id, 100, &b, &size),
                     STORE_SHORT);
    body_init(&b, &m, data + 100, 0, 1, -1);
    assert_int_equal(store_upload_append(f->s, "r", id, 100, &b, &size),
                     STORE_SHORT);
    assert_int_equal(size, -7);
    /* nothing kept */
    assert_session(f, "r", id, 100);

    /* the final chunk too */
    body_init(&b, &m, data + 100, 199, 200, -1);
    assert_int_equal(store_upload_finish(f->s, "r", id, &b, &d, &size),
                     STORE_SHORT);
    body_init(&b, &m, data + 100, 200, 199, -1);
    assert_int_equal(store_upload_finish(f->s, "r", id, &b, &d, &size),
                     STORE_SHORT);
    assert_session(f, "r", id, 100);
    assert_no_blob(f, "r", &d);

    /* an empty chunk of announced length 0 is fine and changes nothing */
    body_init(&b, &m, "", 0, 0, -1);
    assert_int_equal(store_upload_append(f->s, "r", id, 100, &b, &size),
                     STORE_OK);
    assert_int_equal(size, 100);

    body_init(&b, &m, data + 100, 200, 200, -1);
    assert_int_equal(store_upload_finish(f->s, "r", id, &b, &d, &size),
                     STORE_OK);
    assert_int_equal(size, (long long)n);
    assert_blob(f, "r", &d, data, n);
    free(data);
}

static void test_upload_other_repo(void **state)
{
    struct fixture *f = *state;
    static const char data[] = "0123456789";
    char id[UPLOAD_ID_LEN + 1];
    struct store_body b;
    struct mem_body m;
    struct digest d;
    long long size = -7;

    digest_of(DIGEST_SHA256, data, 10, &d);
    assert_int_equal(store_upload_begin(f->s, "team/app", "", id), STORE_OK);
    assert_int_equal(append(f, "team/app", id, 0, data, 5, &size), STORE_OK);

    size = -7;
    assert_int_equal(store_upload_status(f->s, "team/other", id, &size),
                     STORE_NOTFOUND);
    assert_int_equal(store_upload_status(f->s, "team", id, &size),
                     STORE_NOTFOUND);
    assert_int_equal(store_upload_status(f->s, "team/app/x", id, &size),
                     STORE_NOTFOUND);
    assert_int_equal(store_upload_status(f->s, "team/ap", id, &size),
                     STORE_NOTFOUND);
    assert_int_equal(append(f, "team/other", id, 5, data + 5, 5, &size),
                     STORE_NOTFOUND);
    body_init(&b, &m, data + 5, 5, 5, -1);
    assert_int_equal(store_upload_finish(f->s, "team/other", id, &b, &d, &size),
                     STORE_NOTFOUND);
    assert_int_equal(m.off, 0); /* the body was not even read */
    assert_int_equal(store_upload_cancel(f->s, "team/other", id),
                     STORE_NOTFOUND);
    assert_int_equal(size, -7);

    /* an unknown id of the right shape */
    assert_int_equal(store_upload_status(f->s, "team/app",
                                         "00000000-0000-4000-8000-000000000000",
                                         &size),
                     STORE_NOTFOUND);
    assert_int_equal(append(f, "team/app",
                            "00000000-0000-4000-8000-000000000000", 0, data, 1,
                            &size),
                     STORE_NOTFOUND);

    /* the owner is unaffected */
    assert_int_equal(store_upload_status(f->s, "team/app", id, &size),
                     STORE_OK);
    assert_int_equal(size, 5);
    body_init(&b, &m, data + 5, 5, 5, -1);
    assert_int_equal(store_upload_finish(f->s, "team/app", id, &b, &d, &size),
                     STORE_OK);
    assert_blob(f, "team/app", &d, data, 10);
    assert_no_blob(f, "team/other", &d);
}

static void test_upload_cancel(void **state)
{
    struct fixture *f = *state;
    char id[UPLOAD_ID_LEN + 1], id2[UPLOAD_ID_LEN + 1];
    long long size = -7;
    struct digest d;

    assert_int_equal(store_upload_begin(f->s, "r", "", id), STORE_OK);
    assert_int_equal(store_upload_begin(f->s, "r", "", id2), STORE_OK);
    assert_string_not_equal(id, id2);
    assert_int_equal(append(f, "r", id, 0, "abc", 3, &size), STORE_OK);
    assert_int_equal(store_upload_cancel(f->s, "r", id), STORE_OK);
    size = -7;
    assert_int_equal(store_upload_status(f->s, "r", id, &size), STORE_NOTFOUND);
    assert_int_equal(size, -7);
    assert_int_equal(append(f, "r", id, -1, "d", 1, &size), STORE_NOTFOUND);
    digest_of(DIGEST_SHA256, "abc", 3, &d);
    assert_int_equal(store_upload_finish(f->s, "r", id, NULL, &d, &size),
                     STORE_NOTFOUND);
    assert_int_equal(store_upload_cancel(f->s, "r", id), STORE_NOTFOUND);
    assert_int_equal(upload_file_size(f, id), -1);
    assert_no_blob(f, "r", &d);
    /* the other session lives on */
    assert_int_equal(store_upload_status(f->s, "r", id2, &size), STORE_OK);
    assert_int_equal(size, 0);
    assert_int_equal(count_files(f, "uploads"), 1);
    assert_int_equal(store_upload_cancel(f->s, "r", id2), STORE_OK);
    assert_int_equal(count_files(f, "uploads"), 0);
}

static void test_finish_sha512(void **state)
{
    struct fixture *f = *state;
    const size_t n = 777;
    unsigned char *data = pattern(n, 5);
    char id[UPLOAD_ID_LEN + 1], path[PATH_MAX];
    struct store_body b;
    struct mem_body m;
    struct digest d, d256;
    long long size = -1;
    size_t rel;

    digest_of(DIGEST_SHA512, data, n, &d);
    digest_of(DIGEST_SHA256, data, n, &d256);
    assert_int_equal(store_upload_begin(f->s, "r", "", id), STORE_OK);
    assert_int_equal(append(f, "r", id, 0, data, 333, &size), STORE_OK);
    assert_int_equal(append(f, "r", id, 333, data + 333, 111, &size), STORE_OK);
    /* the final chunk is part of the re-hash */
    body_init(&b, &m, data + 444, n - 444, (long long)(n - 444), -1);
    assert_int_equal(store_upload_finish(f->s, "r", id, &b, &d, &size),
                     STORE_OK);
    assert_int_equal(size, (long long)n);
    assert_blob(f, "r", &d, data, n);
    /* stored under its sha512 name only */
    assert_no_blob(f, "r", &d256);
    assert_int_equal(store_blob_path(f->s, &d, path, sizeof(path), &rel),
                     STORE_OK);
    assert_memory_equal(path + rel, "sha512/", 7);
    assert_true(blob_file_exists(f, &d));

    /* sha512 without a final chunk */
    free(data);
    data = pattern(n, 6);
    digest_of(DIGEST_SHA512, data, n, &d);
    assert_int_equal(store_upload_begin(f->s, "r", "", id), STORE_OK);
    assert_int_equal(append(f, "r", id, 0, data, n, &size), STORE_OK);
    assert_int_equal(store_upload_finish(f->s, "r", id, NULL, &d, &size),
                     STORE_OK);
    assert_blob(f, "r", &d, data, n);
    free(data);
}

static void test_empty_blob(void **state)
{
    struct fixture *f = *state;
    char id[UPLOAD_ID_LEN + 1];
    struct store_body b;
    struct mem_body m;
    struct digest d, d512;
    long long size = -1;

    digest_of(DIGEST_SHA256, "", 0, &d);
    assert_string_equal(
        d.hex,
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");

    /* begin, then finish at once */
    assert_int_equal(store_upload_begin(f->s, "r", "", id), STORE_OK);
    assert_int_equal(store_upload_finish(f->s, "r", id, NULL, &d, &size),
                     STORE_OK);
    assert_int_equal(size, 0);
    assert_true(blob_is_file(f, "r", &d));
    assert_blob(f, "r", &d, "", 0);

    /* an empty final chunk in another repo */
    assert_int_equal(store_upload_begin(f->s, "s", "", id), STORE_OK);
    body_init(&b, &m, "", 0, 0, -1);
    assert_int_equal(store_upload_finish(f->s, "s", id, &b, &d, &size),
                     STORE_OK);
    assert_int_equal(size, 0);
    assert_blob(f, "s", &d, "", 0);
    assert_int_equal(count_files(f, "blobs"), 1);

    /* sha512 of nothing */
    digest_of(DIGEST_SHA512, "", 0, &d512);
    assert_int_equal(store_upload_begin(f->s, "r", "", id), STORE_OK);
    assert_int_equal(store_upload_finish(f->s, "r", id, NULL, &d512, &size),
                     STORE_OK);
    assert_blob(f, "r", &d512, "", 0);
    assert_int_equal(count_files(f, "uploads"), 0);
}

static void test_same_content_two_repos(void **state)
{
    struct fixture *f = *state;
    const size_t n = 4000;
    unsigned char *data = pattern(n, 7);
    char id1[UPLOAD_ID_LEN + 1], id2[UPLOAD_ID_LEN + 1];
    struct digest d;
    long long size = -1;

    digest_of(DIGEST_SHA256, data, n, &d);
    /* both sessions in flight at once */
    assert_int_equal(store_upload_begin(f->s, "one", "", id1), STORE_OK);
    assert_int_equal(store_upload_begin(f->s, "two", "", id2), STORE_OK);
    assert_int_equal(append(f, "one", id1, 0, data, 1000, &size), STORE_OK);
    assert_int_equal(append(f, "two", id2, 0, data, 3000, &size), STORE_OK);
    assert_int_equal(append(f, "one", id1, 1000, data + 1000, 3000, &size),
                     STORE_OK);
    assert_int_equal(append(f, "two", id2, 3000, data + 3000, 1000, &size),
                     STORE_OK);
    assert_int_equal(store_upload_finish(f->s, "two", id2, NULL, &d, &size),
                     STORE_OK);
    assert_int_equal(store_upload_finish(f->s, "one", id1, NULL, &d, &size),
                     STORE_OK);
    assert_int_equal(size, (long long)n);

    assert_blob(f, "one", &d, data, n);
    assert_blob(f, "two", &d, data, n);
    assert_int_equal(count_files(f, "blobs"), 1);
    assert_int_equal(count_files(f, "uploads"), 0);

    /* the same content again in a repo that has it: still one link */
    put_blob(f, "one", data, n, &d);
    assert_int_equal(count_files(f, "blobs"), 1);
    assert_int_equal(count_files(f, "uploads"), 0);
    assert_int_equal(store_blob_delete(f->s, "one", &d, NULL), STORE_OK);
    assert_no_blob(f, "one", &d);
    assert_true(blob_file_exists(f, &d));
    assert_int_equal(store_blob_delete(f->s, "two", &d, NULL), STORE_OK);
    assert_false(blob_file_exists(f, &d));
    free(data);
}

static void test_blob_delete(void **state)
{
    struct fixture *f = *state;
    static const char data[] = "delete me twice";
    const size_t n = sizeof(data) - 1;
    struct digest d, other;

    put_blob(f, "x/a", data, n, &d);
    put_blob(f, "x/b", data, n, &d);
    assert_true(blob_file_exists(f, &d));

    /* not linked there, or unknown */
    assert_int_equal(store_blob_delete(f->s, "x/c", &d, NULL), STORE_NOTFOUND);
    digest_of(DIGEST_SHA256, "nope", 4, &other);
    assert_int_equal(store_blob_delete(f->s, "x/a", &other, NULL),
                     STORE_NOTFOUND);

    assert_int_equal(store_blob_delete(f->s, "x/a", &d, NULL), STORE_OK);
    assert_no_blob(f, "x/a", &d);
    assert_blob(f, "x/b", &d, data, n);
    assert_true(blob_file_exists(f, &d));
    assert_int_equal(store_blob_delete(f->s, "x/a", &d, NULL), STORE_NOTFOUND);

    /* the last link takes the file with it */
    assert_int_equal(store_blob_delete(f->s, "x/b", &d, NULL), STORE_OK);
    assert_no_blob(f, "x/b", &d);
    assert_false(blob_file_exists(f, &d));
    assert_int_equal(store_blob_delete(f->s, "x/b", &d, NULL), STORE_NOTFOUND);
    assert_int_equal(count_files(f, "blobs"), 0);

    /* and the content can come back */
    put_blob(f, "x/a", data, n, &d);
    assert_blob(f, "x/a", &d, data, n);
    assert_no_blob(f, "x/b", &d);
}

/* Blobs up to inline_max live in LMDB: no file, same behaviour. */
static void test_inline_blobs(void **state)
{
    static const struct store_options inl = {
        .map_size = MAP_SIZE, .flags = 0, .inline_max = 4096};
    struct fixture *f = *state;
    unsigned char *small = pattern(4096, 1), *big = pattern(4097, 2);
    struct digest ds, db, de;
    struct store_blob *b = NULL;
    long long size = -1;

    store_close(f->s);
    assert_int_equal(store_open(f->root, &inl, &f->s), STORE_OK);
    put_blob(f, "r", small, 4096, &ds);
    put_blob(f, "r", big, 4097, &db);
    put_blob(f, "r", "", 0, &de);
    assert_int_equal(count_files(f, "blobs"), 1); /* only the big one */
    assert_int_equal(count_files(f, "uploads"), 0);

    /* the handle holds the bytes: no file, and the same reads */
    assert_false(blob_is_file(f, "r", &ds));
    assert_blob(f, "r", &ds, small, 4096);
    assert_true(blob_is_file(f, "r", &db));
    assert_blob(f, "r", &db, big, 4097);
    assert_false(blob_is_file(f, "r", &de));
    assert_blob(f, "r", &de, "", 0);

    /* an open handle outlives the deletion of its blob */
    assert_int_equal(store_blob_open(f->s, "r", &ds, 0, &b), STORE_OK);
    assert_int_equal(store_blob_delete(f->s, "r", &ds, NULL), STORE_OK);
    assert_no_blob(f, "r", &ds);
    {
        unsigned char *got = read_blob(b, 4096);

        assert_memory_equal(got, small, 4096);
        free(got);
    }
    store_blob_close(b);
    put_blob(f, "r", small, 4096, &ds);

    /* shared by two repositories, mounted, deleted link by link */
    put_blob(f, "s", small, 4096, &ds);
    assert_int_equal(store_blob_mount(f->s, "t", "r", &ds, &size), STORE_OK);
    assert_int_equal(store_blob_delete(f->s, "r", &ds, NULL), STORE_OK);
    assert_no_blob(f, "r", &ds);
    assert_int_equal(store_blob_delete(f->s, "s", &ds, NULL), STORE_OK);
    assert_blob(f, "t", &ds, small, 4096);
    assert_int_equal(store_blob_delete(f->s, "t", &ds, NULL), STORE_OK);
    assert_no_blob(f, "t", &ds);
    /* and back again at once */
    put_blob(f, "t", small, 4096, &ds);
    assert_blob(f, "t", &ds, small, 4096);
    free(small);
    free(big);
}

static void test_blob_mount(void **state)
{
    struct fixture *f = *state;
    static const char data[] = "mount me";
    const size_t n = sizeof(data) - 1;
    struct digest d, other;
    long long size = -7;

    put_blob(f, "src", data, n, &d);
    /* from a repository that lacks it, or of an unknown digest */
    assert_int_equal(store_blob_mount(f->s, "dst", "elsewhere", &d, &size),
                     STORE_NOTFOUND);
    digest_of(DIGEST_SHA256, "unknown", 7, &other);
    assert_int_equal(store_blob_mount(f->s, "dst", "src", &other, &size),
                     STORE_NOTFOUND);
    assert_int_equal(size, -7);
    assert_no_blob(f, "dst", &d);

    assert_int_equal(store_blob_mount(f->s, "dst", "src", &d, &size), STORE_OK);
    assert_int_equal(size, (long long)n);
    assert_blob(f, "dst", &d, data, n);
    assert_blob(f, "src", &d, data, n);
    assert_int_equal(count_files(f, "blobs"), 1);
    /* again, and into the repository it came from: no extra link */
    assert_int_equal(store_blob_mount(f->s, "dst", "src", &d, &size), STORE_OK);
    assert_int_equal(store_blob_mount(f->s, "src", "src", &d, &size), STORE_OK);
    /* a chain: mount from the mounted copy */
    assert_int_equal(store_blob_mount(f->s, "third", "dst", &d, &size),
                     STORE_OK);

    /* the links are independent; the file goes with the last one */
    assert_int_equal(store_blob_delete(f->s, "src", &d, NULL), STORE_OK);
    assert_no_blob(f, "src", &d);
    assert_blob(f, "dst", &d, data, n);
    assert_int_equal(store_blob_mount(f->s, "again", "src", &d, &size),
                     STORE_NOTFOUND);
    assert_int_equal(store_blob_delete(f->s, "dst", &d, NULL), STORE_OK);
    assert_true(blob_file_exists(f, &d));
    assert_int_equal(store_blob_delete(f->s, "third", &d, NULL), STORE_OK);
    assert_false(blob_file_exists(f, &d));
}

static void test_reopen(void **state)
{
    struct fixture *f = *state;
    const size_t n = 3000;
    unsigned char *blob = pattern(n, 8), *up = pattern(n, 9);
    char id[UPLOAD_ID_LEN + 1];
    struct digest db, du;
    long long size = -1;

    put_blob(f, "keep", blob, n, &db);
    digest_of(DIGEST_SHA256, up, n, &du);
    assert_int_equal(store_upload_begin(f->s, "keep", "", id), STORE_OK);
    assert_int_equal(append(f, "keep", id, 0, up, 1234, &size), STORE_OK);

    store_close(f->s);
    f->s = NULL;
    assert_int_equal(store_open(f->root, &file_blobs, &f->s), STORE_OK);

    assert_blob(f, "keep", &db, blob, n);
    assert_int_equal(store_upload_status(f->s, "keep", id, &size), STORE_OK);
    assert_int_equal(size, 1234);
    assert_int_equal(append(f, "keep", id, 1234, up + 1234, 1000, &size),
                     STORE_OK);

    /* once more between chunks, then finish from the saved hash state */
    store_close(f->s);
    f->s = NULL;
    assert_int_equal(store_open(f->root, &file_blobs, &f->s), STORE_OK);
    assert_int_equal(append(f, "keep", id, 2234, up + 2234, n - 2234, &size),
                     STORE_OK);
    store_close(f->s);
    f->s = NULL;
    assert_int_equal(store_open(f->root, &file_blobs, &f->s), STORE_OK);
    assert_int_equal(store_upload_finish(f->s, "keep", id, NULL, &du, &size),
                     STORE_OK);
    assert_int_equal(size, (long long)n);
    assert_blob(f, "keep", &du, up, n);
    assert_blob(f, "keep", &db, blob, n);
    free(blob);
    free(up);
}

/* Overwrite the saved hash state of session id with garbage. */
static void spoil_hash_state(struct fixture *f, const char *id)
{
    unsigned char rec[1024];
    uint16_t repo_len, state_len, owner_len;
    MDB_txn *txn;
    MDB_val key, val;

    assert_int_equal(mdb_txn_begin(f->s->uenv, NULL, 0, &txn), 0);
    key.mv_data = (void *)id;
    key.mv_size = strlen(id);
    assert_int_equal(mdb_get(txn, f->s->uploads, &key, &val), 0);
    assert_true(val.mv_size >= 20 && val.mv_size <= sizeof(rec));
    memcpy(rec, val.mv_data, val.mv_size);
    memcpy(&repo_len, rec + 16, 2);
    memcpy(&state_len, rec + 18, 2);
    memcpy(&owner_len, rec + 20, 2);
    assert_true(state_len >= 4);
    memcpy(rec + 24 + repo_len + owner_len, "XXXX", 4); /* the magic */
    val.mv_data = rec;
    assert_int_equal(mdb_put(txn, f->s->uploads, &key, &val, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
}

/* A state hasher_load() refuses costs a re-hash, not a failed upload. */
static void test_unusable_hash_state(void **state)
{
    struct fixture *f = *state;
    const size_t n = 900;
    unsigned char *data = pattern(n, 10);
    char id[UPLOAD_ID_LEN + 1];
    struct store_body b;
    struct mem_body m;
    struct digest d, wrong;
    long long size = -1;

    digest_of(DIGEST_SHA256, data, n, &d);
    assert_int_equal(store_upload_begin(f->s, "r", "", id), STORE_OK);
    assert_int_equal(append(f, "r", id, 0, data, 300, &size), STORE_OK);
    spoil_hash_state(f, id);
    assert_int_equal(append(f, "r", id, 300, data + 300, 300, &size), STORE_OK);
    body_init(&b, &m, data + 600, n - 600, -1, -1);
    assert_int_equal(store_upload_finish(f->s, "r", id, &b, &d, &size),
                     STORE_OK);
    assert_int_equal(size, (long long)n);
    assert_blob(f, "r", &d, data, n);

    /* and the re-hash still catches a wrong digest */
    assert_int_equal(store_upload_begin(f->s, "r", "", id), STORE_OK);
    assert_int_equal(append(f, "r", id, 0, data, 300, &size), STORE_OK);
    spoil_hash_state(f, id);
    digest_of(DIGEST_SHA256, data, 299, &wrong);
    assert_int_equal(store_upload_finish(f->s, "r", id, NULL, &wrong, &size),
                     STORE_DIGEST_MISMATCH);
    assert_no_blob(f, "r", &wrong);
    free(data);
}

/* Append garbage to uploads/<id>, as a crash in the middle of a chunk. */
static void add_tail(struct fixture *f, const char *id, size_t n)
{
    char path[PATH_MAX];
    unsigned char *junk = pattern(n, 99);
    int fd;

    upload_file(f, id, path, sizeof(path));
    fd = open(path, O_WRONLY | O_APPEND);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, junk, n), (ssize_t)n);
    close(fd);
    free(junk);
}

static void test_crash_tail(void **state)
{
    struct fixture *f = *state;
    const size_t n = 1500;
    unsigned char *data = pattern(n, 11);
    char id[UPLOAD_ID_LEN + 1];
    struct digest d;
    long long size = -1;

    digest_of(DIGEST_SHA256, data, n, &d);
    assert_int_equal(store_upload_begin(f->s, "r", "", id), STORE_OK);
    assert_int_equal(append(f, "r", id, 0, data, 500, &size), STORE_OK);
    add_tail(f, id, 333);
    assert_int_equal(upload_file_size(f, id), 833);
    /* the record is what counts */
    assert_int_equal(store_upload_status(f->s, "r", id, &size), STORE_OK);
    assert_int_equal(size, 500);
    assert_int_equal(append(f, "r", id, 500, data + 500, 500, &size), STORE_OK);
    assert_int_equal(size, 1000);
    assert_int_equal(upload_file_size(f, id), 1000);

    /* a tail before a finish without a body */
    assert_int_equal(append(f, "r", id, 1000, data + 1000, 500, &size),
                     STORE_OK);
    add_tail(f, id, 7);
    assert_int_equal(store_upload_finish(f->s, "r", id, NULL, &d, &size),
                     STORE_OK);
    assert_int_equal(size, (long long)n);
    assert_blob(f, "r", &d, data, n);

    /* and a tail on a session with nothing recorded yet */
    assert_int_equal(store_upload_begin(f->s, "r", "", id), STORE_OK);
    add_tail(f, id, 64);
    assert_int_equal(append(f, "r", id, 0, data, 10, &size), STORE_OK);
    digest_of(DIGEST_SHA256, data, 10, &d);
    assert_int_equal(store_upload_finish(f->s, "r", id, NULL, &d, &size),
                     STORE_OK);
    assert_int_equal(size, 10);
    assert_blob(f, "r", &d, data, 10);
    free(data);
}

/* A file shorter than the record says is an I/O error, not silent loss. */
static void test_upload_file_lost(void **state)
{
    struct fixture *f = *state;
    char id[UPLOAD_ID_LEN + 1], path[PATH_MAX];
    long long size = -1;

    assert_int_equal(store_upload_begin(f->s, "r", "", id), STORE_OK);
    assert_int_equal(append(f, "r", id, 0, "0123456789", 10, &size), STORE_OK);
    upload_file(f, id, path, sizeof(path));
    assert_int_equal(truncate(path, 4), 0);
    assert_int_equal(append(f, "r", id, 10, "x", 1, &size), STORE_CORRUPT);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(append(f, "r", id, 10, "x", 1, &size), STORE_NOTFOUND);
}

static void test_upload_busy(void **state)
{
    struct fixture *f = *state;
    char id[UPLOAD_ID_LEN + 1], path[PATH_MAX];
    struct digest d;
    long long size = -1;
    int fd;

    digest_of(DIGEST_SHA256, "abcdef", 6, &d);
    assert_int_equal(store_upload_begin(f->s, "r", "", id), STORE_OK);
    assert_int_equal(append(f, "r", id, 0, "abc", 3, &size), STORE_OK);

    /* another "request" holds the session */
    upload_file(f, id, path, sizeof(path));
    fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), 0);
    size = -7;
    assert_int_equal(append(f, "r", id, 3, "def", 3, &size), STORE_BUSY);
    assert_int_equal(store_upload_finish(f->s, "r", id, NULL, &d, &size),
                     STORE_BUSY);
    assert_int_equal(store_upload_cancel(f->s, "r", id), STORE_BUSY);
    assert_int_equal(size, -7);
    /* status takes no lock */
    assert_int_equal(store_upload_status(f->s, "r", id, &size), STORE_OK);
    assert_int_equal(size, 3);
    close(fd);

    assert_int_equal(append(f, "r", id, 3, "def", 3, &size), STORE_OK);
    assert_int_equal(store_upload_finish(f->s, "r", id, NULL, &d, &size),
                     STORE_OK);
    assert_blob(f, "r", &d, "abcdef", 6);
}

/* Many chunks, short reads, and a body larger than the store's buffer. */
static void test_many_chunks(void **state)
{
    struct fixture *f = *state;
    const size_t n = 600 * 1024 + 5;
    unsigned char *data = pattern(n, 12);
    char id[UPLOAD_ID_LEN + 1];
    struct store_body b;
    struct mem_body m;
    struct digest d;
    long long size = 0;
    size_t off = 0, k = 1;

    digest_of(DIGEST_SHA256, data, n, &d);
    assert_int_equal(store_upload_begin(f->s, "big", "", id), STORE_OK);
    /* 1, 2, 3, ... byte chunks for the first few KiB */
    while (off + k < 4096) {
        assert_int_equal(
            append(f, "big", id, (long long)off, data + off, k, &size),
            STORE_OK);
        off += k++;
        assert_int_equal(size, (long long)off);
    }
    /* one chunk over 256 KiB, in reads of up to 4099 bytes */
    body_init(&b, &m, data + off, 300 * 1024, 300 * 1024, -1);
    m.max_read = 4099;
    assert_int_equal(
        store_upload_append(f->s, "big", id, (long long)off, &b, &size),
        STORE_OK);
    off += 300 * 1024;
    assert_int_equal(size, (long long)off);
    /* the rest as the final chunk, length unknown */
    body_init(&b, &m, data + off, n - off, -1, -1);
    m.max_read = 65536;
    assert_int_equal(store_upload_finish(f->s, "big", id, &b, &d, &size),
                     STORE_OK);
    assert_int_equal(size, (long long)n);
    assert_blob(f, "big", &d, data, n);
    free(data);
}

/* A blob file lost between unlink and commit comes back with the content. */
static void test_blob_file_lost(void **state)
{
    struct fixture *f = *state;
    static const char data[] = "precious";
    char path[PATH_MAX];
    struct digest d;

    put_blob(f, "a", data, sizeof(data) - 1, &d);
    assert_int_equal(store_blob_path(f->s, &d, path, sizeof(path), NULL),
                     STORE_OK);
    assert_int_equal(unlink(path), 0);
    assert_no_blob(f, "a", &d);
    put_blob(f, "b", data, sizeof(data) - 1, &d);
    assert_blob(f, "a", &d, data, sizeof(data) - 1);
    assert_blob(f, "b", &d, data, sizeof(data) - 1);
    /* deleting with the file already gone is not an error */
    assert_int_equal(store_blob_delete(f->s, "a", &d, NULL), STORE_OK);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(store_blob_delete(f->s, "b", &d, NULL), STORE_OK);
    assert_int_equal(count_files(f, "blobs"), 0);
}

static void test_upload_purge(void **state)
{
    struct fixture *f = *state;
    char id[UPLOAD_ID_LEN + 1], locked[UPLOAD_ID_LEN + 1];
    char path[PATH_MAX], orphan[PATH_MAX], other[PATH_MAX];
    struct timeval old[2] = {{1000000000, 0}, {1000000000, 0}};
    long long size;
    int n = -1, fd;

    assert_int_equal(store_upload_begin(f->s, "r", "", id), STORE_OK);
    assert_int_equal(store_upload_begin(f->s, "r", "", locked), STORE_OK);
    /* an old file with an id's name and no session; an old stranger */
    snprintf(orphan, sizeof(orphan), "%s/uploads/%s", f->root,
             "11111111-2222-4333-8444-555555555555");
    snprintf(other, sizeof(other), "%s/uploads/%s", f->root, "README");
    fd = open(orphan, O_WRONLY | O_CREAT, 0644);
    assert_true(fd >= 0);
    close(fd);
    fd = open(other, O_WRONLY | O_CREAT, 0644);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(utimes(orphan, old), 0);
    assert_int_equal(utimes(other, old), 0);

    /* fresh sessions are kept; the orphan goes */
    assert_int_equal(store_upload_purge(f->s, 3600, &n), STORE_OK);
    assert_int_equal(n, 1);
    assert_int_equal(access(orphan, F_OK), -1);
    assert_int_equal(access(other, F_OK), 0);
    assert_int_equal(store_upload_status(f->s, "r", id, &size), STORE_OK);
    assert_int_equal(store_upload_status(f->s, "r", locked, &size), STORE_OK);

    /* a negative age makes every session stale; a session in use stays */
    upload_file(f, locked, path, sizeof(path));
    fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), 0);
    n = -1;
    assert_int_equal(store_upload_purge(f->s, -10, &n), STORE_OK);
    assert_int_equal(n, 1);
    assert_int_equal(store_upload_status(f->s, "r", id, &size), STORE_NOTFOUND);
    assert_int_equal(upload_file_size(f, id), -1);
    assert_int_equal(store_upload_status(f->s, "r", locked, &size), STORE_OK);
    close(fd);
    assert_int_equal(store_upload_purge(f->s, -10, &n), STORE_OK);
    assert_int_equal(n, 1);
    assert_int_equal(store_upload_status(f->s, "r", locked, &size),
                     STORE_NOTFOUND);
    assert_int_equal(access(other, F_OK), 0);
}

static void test_open_bad_root(void **state)
{
    struct fixture *f = *state;
    static char marker_obj;
    struct store *const marker = (struct store *)(void *)&marker_obj;
    struct store *s = marker; /* must stay untouched on failure */
    char path[PATH_MAX];
    int fd;

    /* a regular file as root */
    snprintf(path, sizeof(path), "%s/plain", f->root);
    fd = open(path, O_WRONLY | O_CREAT, 0644);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(store_open(path, &file_blobs, &s), STORE_IO);
    assert_ptr_equal(s, marker);

    /* a regular file where a subdirectory should be */
    snprintf(path, sizeof(path), "%s/half", f->root);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(path, sizeof(path), "%s/half/uploads", f->root);
    fd = open(path, O_WRONLY | O_CREAT, 0644);
    assert_true(fd >= 0);
    close(fd);
    snprintf(path, sizeof(path), "%s/half", f->root);
    assert_int_equal(store_open(path, &file_blobs, &s), STORE_IO);
    assert_ptr_equal(s, marker);

    /* a relative root */
    assert_int_equal(store_open("relative/root", &file_blobs, &s), STORE_IO);
    assert_ptr_equal(s, marker);

    store_close(NULL);
}

static void test_strerror(void **state)
{
    static const int codes[] = {
        STORE_OK,
        STORE_NOTFOUND,
        STORE_DIGEST_MISMATCH,
        STORE_SIZE_MISMATCH,
        STORE_CORRUPT,
        STORE_FULL,
        STORE_IO,
        STORE_RANGE,
        STORE_SHORT,
        STORE_ABORTED,
        STORE_BUSY,
        STORE_TOOBIG,
        STORE_BLOB_MISSING,
        STORE_MANIFEST_MISSING,
        STORE_VERSION,
        STORE_READONLY,
        STORE_IN_USE,
        STORE_LOCKED,
        STORE_OWNER_SESSIONS,
        STORE_REPO_SESSIONS,
        STORE_TAG_FIXED,
    };
    const char *unknown = store_strerror(-1000);
    size_t i, j;

    assert_non_null(unknown);
    assert_string_equal(store_strerror(1), unknown);
    for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        const char *msg = store_strerror(codes[i]);

        assert_non_null(msg);
        assert_true(msg[0] != '\0');
        if (!strcmp(msg, unknown))
            fail_msg("store code %d has no name", codes[i]);
        for (j = 0; j < i; j++)
            assert_string_not_equal(msg, store_strerror(codes[j]));
    }
}

/* Set the format record of the store at root to v, or remove it (NULL). */
static void set_format(const char *root, const char *v)
{
    char path[PATH_MAX];
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_val key = {6, (void *)"format"}, val;

    snprintf(path, sizeof(path), "%s/meta", root);
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_set_maxdbs(env, 16), 0);
    assert_int_equal(mdb_env_set_mapsize(env, MAP_SIZE), 0);
    assert_int_equal(mdb_env_open(env, path, 0, 0640), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, "info", 0, &dbi), 0);
    if (v) {
        val.mv_data = (void *)v;
        val.mv_size = strlen(v);
        assert_int_equal(mdb_put(txn, dbi, &key, &val, 0), 0);
    } else {
        assert_int_equal(mdb_del(txn, dbi, &key, NULL), 0);
    }
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
}

/* The format record of an open store, as a string ("" when none). */
static void get_format(struct store *s, char *out, size_t len)
{
    MDB_txn *txn;
    MDB_val key = {6, (void *)"format"}, val;

    out[0] = '\0';
    assert_int_equal(mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn), 0);
    if (mdb_get(txn, s->info, &key, &val) == 0) {
        assert_true(val.mv_size < len);
        memcpy(out, val.mv_data, val.mv_size);
        out[val.mv_size] = '\0';
    }
    mdb_txn_abort(txn);
}

/*
 * The root records its format: a newer one is refused, by read-only opens
 * too, and a record that is not a number is corruption. (Upgrades from
 * older formats: test_store_manifest.c.)
 */
static void test_format(void **state)
{
    static const struct store_options ro = {
        .map_size = MAP_SIZE, .flags = STORE_RDONLY, .inline_max = -1};
    static char marker_obj;
    struct store *const marker = (void *)&marker_obj;
    struct fixture *f = *state;
    struct store *s = marker;
    char v[16], want[16];
    struct digest d;

    snprintf(want, sizeof(want), "%u", STORE_FORMAT);
    get_format(f->s, v, sizeof(v));
    assert_string_equal(v, want);
    put_blob(f, "r", "kept", 4, &d);
    store_close(f->s);
    f->s = NULL;

    set_format(f->root, "99");
    assert_int_equal(store_open(f->root, &file_blobs, &s), STORE_VERSION);
    assert_int_equal(store_open(f->root, &ro, &s), STORE_VERSION);
    assert_ptr_equal(s, marker);
    set_format(f->root, "1x");
    assert_int_equal(store_open(f->root, &file_blobs, &s), STORE_CORRUPT);
    assert_int_equal(store_open(f->root, &ro, &s), STORE_CORRUPT);
    assert_ptr_equal(s, marker);

    set_format(f->root, want);
    assert_int_equal(store_open(f->root, &ro, &f->s), STORE_OK);
    assert_blob(f, "r", &d, "kept", 4);
}

/* In a child process, store "more" as a blob of repo: 0 if that worked. */
static int put_blob_elsewhere(const char *root, const char *repo)
{
    struct store *s = NULL;
    char id[UPLOAD_ID_LEN + 1];
    struct store_body b;
    struct mem_body m;
    struct digest d;
    long long size;
    int status;
    pid_t pid = fork();

    if (pid == 0) {
        /* another process: LMDB wants one open per process */
        digest_of(DIGEST_SHA256, "more", 4, &d);
        body_init(&b, &m, "more", 4, 4, -1);
        _exit(store_open(root, &file_blobs, &s) ||
              store_upload_begin(s, repo, "", id) ||
              store_upload_finish(s, repo, id, &b, &d, &size));
    }
    assert_true(pid > 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/*
 * STORE_RDONLY reads what a writer has stored, while a writer has it
 * open, and changes nothing: every write is STORE_READONLY, nothing is
 * created, and sessions that cannot be read are left as they are.
 */
static void test_rdonly(void **state)
{
    static const struct store_options ro = {
        .map_size = MAP_SIZE, .flags = STORE_RDONLY, .inline_max = -1};
    struct fixture *f = *state;
    char id[UPLOAD_ID_LEN + 1], id2[UPLOAD_ID_LEN + 1], path[PATH_MAX];
    struct store *r = NULL;
    struct store_body b;
    struct mem_body m;
    struct digest d, d2;
    long long size = -1;
    int n = -1, fd;

    put_blob(f, "r", "data", 4, &d);
    digest_of(DIGEST_SHA256, "more", 4, &d2);
    assert_int_equal(store_upload_begin(f->s, "r", "", id), STORE_OK);
    assert_int_equal(append(f, "r", id, 0, "ab", 2, &size), STORE_OK);
    store_close(f->s); /* one open per process (lmdb.h) */
    f->s = NULL;

    assert_int_equal(store_open(f->root, &ro, &r), STORE_OK);
    {
        struct store_blob *blob = NULL;

        assert_int_equal(store_blob_open(r, "r", &d, 0, &blob), STORE_OK);
        assert_int_equal(store_blob_size(blob), 4);
        store_blob_close(blob);
    }
    assert_int_equal(store_repo_exists(r, "r"), STORE_OK);
    assert_int_equal(store_upload_status(r, "r", id, &size), STORE_OK);
    assert_int_equal(size, 2);
    /* what a writer adds meanwhile, the reader's next call sees */
    assert_int_equal(store_repo_exists(r, "s"), STORE_NOTFOUND);
    assert_int_equal(put_blob_elsewhere(f->root, "s"), 0);
    assert_int_equal(store_repo_exists(r, "s"), STORE_OK);

    assert_int_equal(store_upload_begin(r, "r", "", id2), STORE_READONLY);
    body_init(&b, &m, "cd", 2, 2, -1);
    assert_int_equal(store_upload_append(r, "r", id, 2, &b, &size),
                     STORE_READONLY);
    assert_int_equal(store_upload_finish(r, "r", id, NULL, &d, &size),
                     STORE_READONLY);
    assert_int_equal(store_upload_cancel(r, "r", id), STORE_READONLY);
    assert_int_equal(store_upload_purge(r, 0, &n), STORE_READONLY);
    assert_int_equal(n, -1);
    assert_int_equal(store_blob_delete(r, "r", &d, NULL), STORE_READONLY);
    assert_int_equal(store_blob_mount(r, "t", "r", &d, &size), STORE_READONLY);
    assert_int_equal(store_repo_exists(r, "t"), STORE_NOTFOUND);
    store_close(r);
    /* the session is as it was */
    assert_int_equal(upload_file_size(f, id), 2);

    /* sessions that cannot be read: a reader does without them */
    snprintf(path, sizeof(path), "%s/sessions/data.mdb", f->root);
    fd = open(path, O_WRONLY | O_TRUNC);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "not a database", 14), 14);
    close(fd);
    assert_int_equal(store_open(f->root, &ro, &r), STORE_OK);
    assert_int_equal(store_upload_status(r, "r", id, &size), STORE_NOTFOUND);
    {
        struct store_blob *blob = NULL;

        assert_int_equal(store_blob_open(r, "s", &d2, 0, &blob), STORE_OK);
        store_blob_close(blob);
    }
    store_close(r);
    {
        struct stat st;

        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_size, 14);
    }
    /* a writer starts them afresh */
    assert_int_equal(store_open(f->root, &file_blobs, &f->s), STORE_OK);
    assert_int_equal(store_upload_status(f->s, "r", id, &size), STORE_NOTFOUND);

    /* a root without a store: nothing is made */
    snprintf(path, sizeof(path), "%s/empty", f->root);
    assert_int_equal(mkdir(path, 0755), 0);
    r = NULL;
    assert_int_equal(store_open(path, &ro, &r), STORE_NOTFOUND);
    assert_null(r);
    assert_int_equal(rmdir(path), 0); /* still empty */
}

/* Maintenance mode is a flag in the store that every open sees. */
static void test_maintenance(void **state)
{
    static const struct store_options ro = {
        .map_size = MAP_SIZE, .flags = STORE_RDONLY, .inline_max = -1};
    struct fixture *f = *state;
    struct store *r = NULL;
    int on = -1;

    assert_int_equal(store_maintenance(f->s, &on), STORE_OK);
    assert_int_equal(on, 0);
    assert_int_equal(store_set_maintenance(f->s, 1), STORE_OK);
    assert_int_equal(store_maintenance(f->s, &on), STORE_OK);
    assert_int_equal(on, 1);
    assert_int_equal(store_set_maintenance(f->s, 1), STORE_OK); /* again */
    store_close(f->s);
    f->s = NULL;
    assert_int_equal(store_open(f->root, &ro, &r), STORE_OK);
    assert_int_equal(store_maintenance(r, &on), STORE_OK);
    assert_int_equal(on, 1);
    assert_int_equal(store_set_maintenance(r, 0), STORE_READONLY);
    store_close(r);
    assert_int_equal(store_open(f->root, &file_blobs, &f->s), STORE_OK);
    assert_int_equal(store_set_maintenance(f->s, 0), STORE_OK);
    assert_int_equal(store_set_maintenance(f->s, 0), STORE_OK);
    assert_int_equal(store_maintenance(f->s, &on), STORE_OK);
    assert_int_equal(on, 0);
}

/*
 * store_health(): the map's use within its most, the root's disk, and the
 * maintenance flag, read by a read-only open too.
 */
static void test_health(void **state)
{
    static const struct store_options ro = {
        .map_size = MAP_SIZE, .flags = STORE_RDONLY, .inline_max = -1};
    struct fixture *f = *state;
    struct store_health h;
    struct store *r = NULL;

    assert_int_equal(store_health(f->s, &h), STORE_OK);
    assert_int_equal(h.maintenance, 0);
    assert_true(h.map_used > 0);
    assert_true(h.map_used < h.map_max);
    assert_true(h.map_max >= MAP_SIZE); /* map_size_max 0: map_size */
    assert_true(h.disk_size > 0);
    assert_true(h.disk_free >= 0 && h.disk_free <= h.disk_size);
    assert_int_equal(store_set_maintenance(f->s, 1), STORE_OK);
    assert_int_equal(store_health(f->s, &h), STORE_OK);
    assert_int_equal(h.maintenance, 1);
    assert_int_equal(store_open(f->root, &ro, &r), STORE_OK);
    assert_int_equal(store_health(r, &h), STORE_OK);
    assert_int_equal(h.maintenance, 1);
    store_close(r);
}

/* Open f's store again with opt (teardown closes it). */
static void reopen_with(struct fixture *f, const struct store_options *opt)
{
    store_close(f->s);
    f->s = NULL;
    assert_int_equal(store_open(f->root, opt, &f->s), STORE_OK);
}

/*
 * The limits of open sessions per owner and per repository: a session
 * counts from its begin until its finish, cancel, digest mismatch or
 * purge, and the counts outlive the process.
 */
static void test_session_limits(void **state)
{
    static const struct store_options lim = {.map_size = MAP_SIZE,
                                             .inline_max = -1,
                                             .sessions_per_owner = 3,
                                             .sessions_per_repo = 5};
    static const char data[] = "a layer";
    struct fixture *f = *state;
    char a[4][UPLOAD_ID_LEN + 1], b[3][UPLOAD_ID_LEN + 1];
    struct digest d, wrong;
    long long size = -1;
    int i, n = -1;

    reopen_with(f, &lim);
    for (i = 0; i < 3; i++)
        assert_int_equal(store_upload_begin(f->s, "r", "alice", a[i]),
                         STORE_OK);
    assert_int_equal(store_upload_begin(f->s, "r", "alice", a[3]),
                     STORE_OWNER_SESSIONS);
    assert_int_equal(store_upload_begin(f->s, "s", "alice", a[3]),
                     STORE_OWNER_SESSIONS);
    /* anonymous is an owner of its own; r is full at 5, s is not */
    assert_int_equal(store_upload_begin(f->s, "r", "", b[0]), STORE_OK);
    assert_int_equal(store_upload_begin(f->s, "r", "bob", b[1]), STORE_OK);
    assert_int_equal(store_upload_begin(f->s, "r", "carol", b[2]),
                     STORE_REPO_SESSIONS);
    assert_int_equal(store_upload_begin(f->s, "s", "carol", b[2]), STORE_OK);
    /* a refused session leaves no file */
    assert_int_equal(count_files(f, "uploads"), 6);

    /* cancel, finish and a digest mismatch each make room for one */
    assert_int_equal(store_upload_cancel(f->s, "r", a[0]), STORE_OK);
    assert_int_equal(store_upload_begin(f->s, "r", "alice", a[0]), STORE_OK);
    digest_of(DIGEST_SHA256, data, sizeof(data) - 1, &d);
    assert_int_equal(append(f, "r", a[1], 0, data, sizeof(data) - 1, &size),
                     STORE_OK);
    assert_int_equal(store_upload_finish(f->s, "r", a[1], NULL, &d, &size),
                     STORE_OK);
    assert_int_equal(store_upload_begin(f->s, "r", "alice", a[1]), STORE_OK);
    digest_of(DIGEST_SHA256, "other", 5, &wrong);
    assert_int_equal(store_upload_finish(f->s, "r", a[2], NULL, &wrong, &size),
                     STORE_DIGEST_MISMATCH);
    assert_int_equal(store_upload_begin(f->s, "r", "alice", a[2]), STORE_OK);
    assert_int_equal(store_upload_begin(f->s, "r", "alice", a[3]),
                     STORE_OWNER_SESSIONS);

    /* the counts are on disk */
    reopen_with(f, &lim);
    assert_int_equal(store_upload_begin(f->s, "s", "alice", a[3]),
                     STORE_OWNER_SESSIONS);

    /* the purge takes them out */
    assert_int_equal(store_upload_purge(f->s, -10, &n), STORE_OK);
    assert_int_equal(n, 6);
    for (i = 0; i < 3; i++)
        assert_int_equal(store_upload_begin(f->s, "r", "alice", a[i]),
                         STORE_OK);
    assert_int_equal(store_upload_begin(f->s, "r", "bob", b[0]), STORE_OK);
    assert_int_equal(store_upload_begin(f->s, "r", "bob", b[1]), STORE_OK);
    assert_int_equal(store_upload_begin(f->s, "r", "bob", b[2]),
                     STORE_REPO_SESSIONS);
}

/*
 * Write the record a finishing request writes before its commit
 * (REC_DONE, store/upload.c): session id of repo, of owner, checked to
 * be blob d of size bytes.
 */
static void mark_done(struct fixture *f, const char *repo, const char *id,
                      const struct digest *d, long long size)
{
    unsigned char rec[512];
    char dstr[DIGEST_STR_MAX];
    uint64_t sz = (uint64_t)size;
    int64_t created = 0; /* long ago: the purge would take it */
    uint16_t repo_len = (uint16_t)strlen(repo), state_len, owner_len = 0;
    uint16_t flags = 1; /* REC_DONE */
    MDB_txn *txn;
    MDB_val key, val;

    digest_format(d, dstr);
    state_len = (uint16_t)strlen(dstr);
    memcpy(rec, &sz, 8);
    memcpy(rec + 8, &created, 8);
    memcpy(rec + 16, &repo_len, 2);
    memcpy(rec + 18, &state_len, 2);
    memcpy(rec + 20, &owner_len, 2);
    memcpy(rec + 22, &flags, 2);
    memcpy(rec + 24, repo, repo_len);
    memcpy(rec + 24 + repo_len, dstr, state_len);
    assert_int_equal(mdb_txn_begin(f->s->uenv, NULL, 0, &txn), 0);
    key.mv_data = (void *)id;
    key.mv_size = strlen(id);
    val.mv_data = rec;
    val.mv_size = 24u + repo_len + state_len;
    assert_int_equal(mdb_put(txn, f->s->uploads, &key, &val, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
}

/*
 * A worker killed while it finished a session: after it checked the
 * content (and maybe after the commit), the status and a PUT with the
 * digest agree that the session is done; once the blob is gone, they
 * agree that it is unknown.
 */
static void test_finish_killed(void **state)
{
    struct fixture *f = *state;
    const size_t n = 5000;
    unsigned char *data = pattern(n, 21);
    char id[UPLOAD_ID_LEN + 1], path[PATH_MAX];
    struct digest d, wrong;
    long long size = -1;

    digest_of(DIGEST_SHA256, data, n, &d);
    digest_of(DIGEST_SHA256, data, n - 1, &wrong);

    /* killed after the commit: the file is a blob now */
    assert_int_equal(store_upload_begin(f->s, "r", "", id), STORE_OK);
    assert_int_equal(append(f, "r", id, 0, data, 100, &size), STORE_OK);
    assert_int_equal(append(f, "r", id, 100, data + 100, n - 100, &size),
                     STORE_OK);
    assert_int_equal(store_upload_finish(f->s, "r", id, NULL, &d, &size),
                     STORE_OK);
    mark_done(f, "r", id, &d, (long long)n);
    size = -1;
    assert_int_equal(store_upload_status(f->s, "r", id, &size), STORE_OK);
    assert_int_equal(size, (long long)n);
    assert_int_equal(append(f, "r", id, -1, "x", 1, &size), STORE_RANGE);
    size = -1;
    assert_int_equal(store_upload_finish(f->s, "r", id, NULL, &d, &size),
                     STORE_OK);
    assert_int_equal(size, (long long)n);
    assert_int_equal(store_upload_status(f->s, "r", id, &size), STORE_NOTFOUND);
    assert_blob(f, "r", &d, data, n);

    /* killed between the mark and the commit: the file is there */
    assert_int_equal(store_blob_delete(f->s, "r", &d, NULL), STORE_OK);
    assert_int_equal(store_upload_begin(f->s, "r", "", id), STORE_OK);
    assert_int_equal(append(f, "r", id, 0, data, n, &size), STORE_OK);
    mark_done(f, "r", id, &d, (long long)n);
    assert_int_equal(store_upload_status(f->s, "r", id, &size), STORE_OK);
    assert_int_equal(size, (long long)n);
    /* another digest is a mismatch, which drops the session */
    assert_int_equal(store_upload_finish(f->s, "r", id, NULL, &wrong, &size),
                     STORE_DIGEST_MISMATCH);
    assert_int_equal(store_upload_begin(f->s, "r", "", id), STORE_OK);
    assert_int_equal(append(f, "r", id, 0, data, n, &size), STORE_OK);
    mark_done(f, "r", id, &d, (long long)n);
    size = -1;
    assert_int_equal(store_upload_finish(f->s, "r", id, NULL, &d, &size),
                     STORE_OK);
    assert_int_equal(size, (long long)n);
    assert_blob(f, "r", &d, data, n);
    assert_int_equal(count_files(f, "uploads"), 0);

    /* done, and the blob deleted since: unknown to both */
    assert_int_equal(store_upload_begin(f->s, "r", "", id), STORE_OK);
    mark_done(f, "r", id, &d, (long long)n);
    upload_file(f, id, path, sizeof(path));
    assert_int_equal(unlink(path), 0);
    assert_int_equal(store_blob_delete(f->s, "r", &d, NULL), STORE_OK);
    assert_int_equal(store_upload_status(f->s, "r", id, &size), STORE_NOTFOUND);
    assert_int_equal(store_upload_finish(f->s, "r", id, NULL, &d, &size),
                     STORE_NOTFOUND);
    free(data);
}

/* The shared mark of durable commits (store/durable.c), and the last
 * transaction of the store's environment. */
static uint64_t synced_mark(const char *root)
{
    char path[PATH_MAX];
    uint64_t v = 0;
    int fd;

    snprintf(path, sizeof(path), "%s/meta/synced", root);
    fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(read(fd, &v, sizeof(v)), sizeof(v));
    close(fd);
    return v;
}

static uint64_t last_txn(struct store *s)
{
    MDB_envinfo info;

    assert_int_equal(mdb_env_info(s->env, &info), 0);
    return info.me_last_txnid;
}

/*
 * sync = full: once a write returns, the shared mark names its commit,
 * whichever process flushed it; a mark above the environment's last
 * transaction (an environment restored under an old file) goes back to
 * 0 at open; sync = data keeps no mark.
 */
static void test_durable(void **state)
{
    static const struct store_options data = {
        .map_size = MAP_SIZE, .flags = STORE_SYNC_DATA, .inline_max = -1};
    struct fixture *f = *state;
    char path[PATH_MAX];
    uint64_t big = UINT64_MAX / 2;
    int i, fd, st;
    pid_t pid[3];

    assert_int_equal(store_set_maintenance(f->s, 1), STORE_OK);
    assert_true(last_txn(f->s) > 0);
    assert_int_equal(synced_mark(f->root), last_txn(f->s));

    /* three processes, each with its store, each write durable */
    for (i = 0; i < 3; i++) {
        pid[i] = fork();
        assert_true(pid[i] >= 0);
        if (pid[i] == 0) {
            struct store *c = NULL;
            int n, bad = 0;

            if (store_open(f->root, &file_blobs, &c) != STORE_OK)
                _exit(2);
            for (n = 0; n < 40; n++) {
                if (store_set_maintenance(c, n % 2) != STORE_OK)
                    bad = 1;
                /* this write is covered, by whoever flushed; the two
                 * others may each have one commit on the way (the last
                 * transaction read first: the mark only grows) */
                else {
                    uint64_t last = last_txn(c);

                    if (synced_mark(f->root) + 2 < last)
                        bad = 1;
                }
            }
            store_close(c);
            _exit(bad);
        }
    }
    for (i = 0; i < 3; i++) {
        assert_int_equal(waitpid(pid[i], &st, 0), pid[i]);
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 0);
    }
    assert_int_equal(store_set_maintenance(f->s, 0), STORE_OK);
    assert_int_equal(synced_mark(f->root), last_txn(f->s));

    store_close(f->s);
    f->s = NULL;
    snprintf(path, sizeof(path), "%s/meta/synced", f->root);
    fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, &big, sizeof(big)), sizeof(big));
    close(fd);
    assert_int_equal(store_open(f->root, &file_blobs, &f->s), STORE_OK);
    assert_true(synced_mark(f->root) <= last_txn(f->s));
    assert_int_equal(store_set_maintenance(f->s, 1), STORE_OK);
    assert_int_equal(synced_mark(f->root), last_txn(f->s));
    store_close(f->s);
    f->s = NULL;

    unlink(path);
    assert_int_equal(store_open(f->root, &data, &f->s), STORE_OK);
    assert_int_equal(store_set_maintenance(f->s, 0), STORE_OK);
    assert_int_equal(access(path, F_OK), -1);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_upload_round_trip),
        T(test_blob_open_and_path),
        T(test_finish_wrong_digest),
        T(test_append_wrong_start),
        T(test_append_aborted),
        T(test_append_length_mismatch),
        T(test_upload_other_repo),
        T(test_upload_cancel),
        T(test_finish_sha512),
        T(test_empty_blob),
        T(test_same_content_two_repos),
        T(test_blob_delete),
        T(test_blob_mount),
        T(test_inline_blobs),
        T(test_reopen),
        T(test_unusable_hash_state),
        T(test_crash_tail),
        T(test_upload_file_lost),
        T(test_upload_busy),
        T(test_many_chunks),
        T(test_blob_file_lost),
        T(test_upload_purge),
        T(test_open_bad_root),
        T(test_format),
        T(test_rdonly),
        T(test_maintenance),
        T(test_health),
        T(test_session_limits),
        T(test_finish_killed),
        T(test_durable),
        cmocka_unit_test(test_strerror),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
