/* tests/unit/test_ingest.c: store_blob_ingest() */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/store_private.h"
#include "tests/unit/store_fixture.h"
#include "util/fsutil.h"

#define BIG (3 * 1024 * 1024 + 17) /* a copy of several reads */

/* Write data[0..len) to <root>/<name>; its path in path (PATH_MAX). */
static void src_file(const struct fixture *f, const char *name,
                     const void *data, size_t len, char *path)
{
    int fd;

    snprintf(path, PATH_MAX, "%s/%s", f->root, name);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
}

/* The whole blob d of repo, compared with data[0..len). */
static void assert_blob(const struct fixture *f, const char *repo,
                        const struct digest *d, const void *data, size_t len)
{
    struct store_blob *b;
    char *got = malloc(len + 1);

    assert_non_null(got);
    assert_int_equal(store_blob_open(f->s, repo, d, 0, &b), STORE_OK);
    assert_int_equal(store_blob_size(b), (long long)len);
    assert_int_equal(store_blob_read(b, 0, got, len + 1), (long)len);
    assert_memory_equal(got, data, len);
    store_blob_close(b);
    free(got);
}

/* How many files <root>/uploads holds. */
static int uploads(const struct fixture *f)
{
    char dir[PATH_MAX];
    struct dirent *de;
    int n = 0;
    DIR *d;

    snprintf(dir, sizeof(dir), "%s/uploads", f->root);
    d = opendir(dir);
    assert_non_null(d);
    while ((de = readdir(d)))
        n += de->d_name[0] != '.';
    closedir(d);
    return n;
}

static void test_copy_then_present(void **state)
{
    struct fixture *f = *state;
    unsigned char *data = pattern(BIG, 1);
    char path[PATH_MAX], blob[PATH_MAX];
    struct store_ingest in;
    struct digest d;
    struct stat a, b;

    digest_of(DIGEST_SHA256, data, BIG, &d);
    src_file(f, "src", data, BIG, path);
    assert_int_equal(store_blob_ingest(f->s, "a/b", &d, path, 0, &in),
                     STORE_OK);
    assert_int_equal(in.how, STORE_INGEST_COPIED);
    assert_int_equal(in.size, BIG);
    assert_blob(f, "a/b", &d, data, BIG);
    /* a copy: another inode, and the source stays */
    assert_int_equal(store_blob_path(f->s, &d, blob, sizeof(blob), NULL),
                     STORE_OK);
    assert_int_equal(stat(path, &a), 0);
    assert_int_equal(stat(blob, &b), 0);
    assert_true(a.st_ino != b.st_ino);
    assert_int_equal(uploads(f), 0);

    /* again, with the source gone: the store has it, nothing is read */
    assert_int_equal(unlink(path), 0);
    memset(&in, 0, sizeof(in));
    assert_int_equal(store_blob_ingest(f->s, "a/b", &d, path, 0, &in),
                     STORE_OK);
    assert_int_equal(in.how, STORE_INGEST_PRESENT);
    assert_int_equal(in.size, BIG);
    /* another repository of the store: linked, still nothing read */
    assert_int_equal(store_blob_ingest(f->s, "c", &d, path, 0, &in), STORE_OK);
    assert_int_equal(in.how, STORE_INGEST_PRESENT);
    assert_blob(f, "c", &d, data, BIG);

    /* a blob file lost from the store is put back from the source */
    assert_int_equal(unlink(blob), 0);
    src_file(f, "src", data, BIG, path);
    assert_int_equal(store_blob_ingest(f->s, "a/b", &d, path, 0, &in),
                     STORE_OK);
    assert_int_equal(in.how, STORE_INGEST_COPIED);
    assert_blob(f, "a/b", &d, data, BIG);
    assert_blob(f, "c", &d, data, BIG);
    free(data);
}

static void test_link(void **state)
{
    struct fixture *f = *state;
    unsigned char *data = pattern(BIG, 2);
    char path[PATH_MAX], blob[PATH_MAX], *slash;
    struct store_ingest in;
    struct digest d;
    struct stat a, b;

    digest_of(DIGEST_SHA256, data, BIG, &d);
    src_file(f, "src", data, BIG, path);
    /* a file a crash left where the blob goes, without a record */
    assert_int_equal(store_blob_path(f->s, &d, blob, sizeof(blob), NULL),
                     STORE_OK);
    slash = strrchr(blob, '/');
    *slash = '\0';
    assert_int_equal(mkdir_p(blob, 0755), 0);
    *slash = '/';
    src_file(f, blob + strlen(f->root) + 1, "left by a crash", 15, blob);
    assert_int_equal(
        store_blob_ingest(f->s, "r", &d, path, STORE_INGEST_LINK, &in),
        STORE_OK);
    assert_int_equal(in.how, STORE_INGEST_LINKED);
    assert_int_equal(store_blob_path(f->s, &d, blob, sizeof(blob), NULL),
                     STORE_OK);
    assert_int_equal(stat(path, &a), 0);
    assert_int_equal(stat(blob, &b), 0);
    assert_true(a.st_ino == b.st_ino);
    assert_int_equal(a.st_nlink, 2);
    assert_blob(f, "r", &d, data, BIG);
    assert_int_equal(uploads(f), 0);
    free(data);
}

/* --link across file systems: a copy then (skipped without a tmpfs). */
static void test_link_elsewhere(void **state)
{
    struct fixture *f = *state;
    unsigned char *data = pattern(BIG, 4);
    char path[] = "/dev/shm/berth-test-ingest-XXXXXX";
    struct store_ingest in;
    struct stat a, b;
    struct digest d;
    int fd;

    fd = mkstemp(path);
    if (fd < 0 || fstat(fd, &a) || stat(f->root, &b) || a.st_dev == b.st_dev) {
        if (fd >= 0) {
            close(fd);
            unlink(path);
        }
        free(data);
        skip();
    }
    assert_int_equal(write(fd, data, BIG), BIG);
    close(fd);
    digest_of(DIGEST_SHA256, data, BIG, &d);
    assert_int_equal(
        store_blob_ingest(f->s, "r", &d, path, STORE_INGEST_LINK, &in),
        STORE_OK);
    assert_int_equal(in.how, STORE_INGEST_COPIED);
    assert_blob(f, "r", &d, data, BIG);
    assert_int_equal(uploads(f), 0);
    unlink(path);
    free(data);
}

/* What is not the digest's stores nothing. */
static const struct {
    const char *what;
    const char *content; /* NULL: no file */
    const char *digest_of;
    int dir; /* the path is a directory */
    int rc;
} bad_cases[] = {
    {"other bytes", "garbage", "the real thing", 0, STORE_DIGEST_MISMATCH},
    {"empty file", "", "the real thing", 0, STORE_DIGEST_MISMATCH},
    {"missing file", NULL, "the real thing", 0, STORE_NOTFOUND},
    {"a directory", NULL, "the real thing", 1, STORE_IO},
    {"empty blob", "", "", 0, STORE_OK},
};

static void test_bad_files(void **state)
{
    struct fixture *f = *state;
    char path[PATH_MAX];
    struct store_ingest in;
    struct store_blob *b;
    struct digest d;
    unsigned flags;
    size_t i;

    for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++)
        for (flags = 0; flags <= STORE_INGEST_LINK; flags++) {
            const char *repo = flags ? "linked" : "copied";

            print_message("%s, flags %u\n", bad_cases[i].what, flags);
            digest_of(DIGEST_SHA256, bad_cases[i].digest_of,
                      strlen(bad_cases[i].digest_of), &d);
            snprintf(path, sizeof(path), "%s/bad", f->root);
            if (bad_cases[i].content)
                src_file(f, "bad", bad_cases[i].content,
                         strlen(bad_cases[i].content), path);
            if (bad_cases[i].dir)
                assert_int_equal(mkdir(path, 0755), 0);
            assert_int_equal(
                store_blob_ingest(f->s, repo, &d, path, flags, &in),
                bad_cases[i].rc);
            b = NULL;
            assert_int_equal(store_blob_open(f->s, repo, &d, 0, &b),
                             bad_cases[i].rc ? STORE_NOTFOUND : STORE_OK);
            store_blob_close(b);
            assert_int_equal(uploads(f), 0);
            assert_int_equal(remove(path) == 0,
                             bad_cases[i].content || bad_cases[i].dir);
        }
}

/* A small blob kept in LMDB: its file is not linked, whatever the flag. */
static void test_inline(void **state)
{
    static const struct store_options small = {
        .map_size = MAP_SIZE, .flags = 0, .inline_max = 1024};
    static const char data[] = "{\"architecture\":\"amd64\",\"os\":\"linux\"}";
    struct fixture *f = *state;
    char path[PATH_MAX], blob[PATH_MAX];
    struct store_ingest in;
    struct digest d;

    store_close(f->s);
    assert_int_equal(store_open(f->root, &small, &f->s), STORE_OK);
    digest_of(DIGEST_SHA256, data, strlen(data), &d);
    src_file(f, "cfg", data, strlen(data), path);
    assert_int_equal(
        store_blob_ingest(f->s, "r", &d, path, STORE_INGEST_LINK, &in),
        STORE_OK);
    assert_int_equal(in.how, STORE_INGEST_COPIED);
    assert_blob(f, "r", &d, data, strlen(data));
    assert_int_equal(store_blob_path(f->s, &d, blob, sizeof(blob), NULL),
                     STORE_OK);
    assert_int_equal(access(blob, F_OK), -1);
    assert_int_equal(uploads(f), 0);
    assert_int_equal(store_blob_ingest(f->s, "r", &d, "/nonexistent", 0, &in),
                     STORE_OK);
    assert_int_equal(in.how, STORE_INGEST_PRESENT);
}

/* Opened with STORE_SYNC_DATA, as berthctl import-registry does. */
static void test_sync_data_flush(void **state)
{
    static const struct store_options data = {
        .map_size = MAP_SIZE, .flags = STORE_SYNC_DATA, .inline_max = -1};
    struct fixture *f = *state;
    unsigned char *bytes = pattern(BIG, 3);
    char path[PATH_MAX];
    struct store_ingest in;
    struct digest d;

    store_close(f->s);
    assert_int_equal(store_open(f->root, &data, &f->s), STORE_OK);
    digest_of(DIGEST_SHA256, bytes, BIG, &d);
    src_file(f, "src", bytes, BIG, path);
    assert_int_equal(store_blob_ingest(f->s, "r", &d, path, 0, &in), STORE_OK);
    assert_int_equal(store_flush(f->s), STORE_OK);
    store_close(f->s);
    assert_int_equal(store_open(f->root, &file_blobs, &f->s), STORE_OK);
    assert_blob(f, "r", &d, bytes, BIG);
    free(bytes);
}

static void test_readonly(void **state)
{
    static const struct store_options ro = {
        .map_size = MAP_SIZE, .flags = STORE_RDONLY, .inline_max = -1};
    struct fixture *f = *state;
    struct store_ingest in;
    struct digest d;

    store_close(f->s);
    assert_int_equal(store_open(f->root, &ro, &f->s), STORE_OK);
    digest_of(DIGEST_SHA256, "x", 1, &d);
    assert_int_equal(store_blob_ingest(f->s, "r", &d, "/nonexistent", 0, &in),
                     STORE_READONLY);
}

/*
 * A batch: files copied, linked and found there, a missing one, one of
 * other bytes; each has its own outcome, and the good ones are blobs.
 */
static void test_batch(void **state)
{
    struct fixture *f = *state;
    unsigned char *big = pattern(BIG, 7), *other = pattern(5000, 8);
    char p_big[PATH_MAX], p_small[PATH_MAX], p_bad[PATH_MAX];
    char p_gone[PATH_MAX];
    struct store_ingest_file v[5];
    struct store_ingest in;
    struct store_blob *b = NULL;
    struct digest d_small;

    src_file(f, "big", big, BIG, p_big);
    src_file(f, "small", "small", 5, p_small);
    src_file(f, "bad", other, 5000, p_bad);
    snprintf(p_gone, sizeof(p_gone), "%s/gone", f->root);
    digest_of(DIGEST_SHA256, "small", 5, &d_small);
    /* small is in the store already, of another repository */
    assert_int_equal(
        store_blob_ingest(f->s, "other/repo", &d_small, p_small, 0, &in),
        STORE_OK);
    memset(v, 0, sizeof(v));
    digest_of(DIGEST_SHA256, big, BIG, &v[0].d);
    v[0].path = p_big;
    v[1].d = d_small;
    v[1].path = p_small;
    digest_of(DIGEST_SHA256, "not these bytes", 15, &v[2].d);
    v[2].path = p_bad;
    digest_of(DIGEST_SHA256, "gone", 4, &v[3].d);
    v[3].path = p_gone;
    v[4] = v[0]; /* twice in one batch */
    assert_int_equal(store_blobs_ingest(f->s, "team/app", v, 5, 0), STORE_OK);
    assert_int_equal(v[0].rc, STORE_OK);
    assert_int_equal(v[0].out.how, STORE_INGEST_COPIED);
    assert_int_equal(v[0].out.size, BIG);
    assert_int_equal(v[1].rc, STORE_OK);
    assert_int_equal(v[1].out.how, STORE_INGEST_PRESENT);
    assert_int_equal(v[2].rc, STORE_DIGEST_MISMATCH);
    assert_int_equal(v[3].rc, STORE_NOTFOUND);
    assert_int_equal(v[4].rc, STORE_OK);
    assert_blob(f, "team/app", &v[0].d, big, BIG);
    assert_blob(f, "team/app", &d_small, "small", 5);
    assert_int_equal(store_blob_open(f->s, "team/app", &v[2].d, 0, &b),
                     STORE_NOTFOUND);
    store_blob_close(b);
    assert_int_equal(uploads(f), 0);
    /* again, linked: all there now */
    assert_int_equal(
        store_blobs_ingest(f->s, "team/app", v, 2, STORE_INGEST_LINK),
        STORE_OK);
    assert_int_equal(v[0].out.how, STORE_INGEST_PRESENT);
    assert_int_equal(v[1].out.how, STORE_INGEST_PRESENT);
    free(big);
    free(other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_copy_then_present, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_link, setup, teardown),
        cmocka_unit_test_setup_teardown(test_link_elsewhere, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sync_data_flush, setup, teardown),
        cmocka_unit_test_setup_teardown(test_readonly, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
