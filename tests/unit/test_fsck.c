/* tests/unit/test_fsck.c: store_fsck() (store/fsck.c), a fresh store each */
#include "config.h"

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
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/store_private.h"
#include "tests/unit/store_fixture.h"
#include "util/fsutil.h"

/* The problems reported, one line each: "kind repaired what". */
struct found {
    char text[16384];
};

static void on_problem(void *ctx, const struct store_fsck_event *e)
{
    static const char *const kinds[] = {"missing", "corrupt", "orphan",
                                        "stray",   "trash",   "dangling",
                                        "broken",  "count",   "upload"};
    struct found *fd = ctx;
    size_t at = strlen(fd->text);

    snprintf(fd->text + at, sizeof(fd->text) - at, "%s%s %s\n", kinds[e->kind],
             e->repaired ? "+" : "", e->repo ? e->repo : "-");
}

/* Run fsck; the stats, and the problems in fd. */
static struct store_fsck_stats fsck(struct fixture *f, int repair,
                                    struct found *fd)
{
    struct store_fsck_options o = {repair, on_problem, NULL, fd};
    struct store_fsck_stats st;

    memset(fd, 0, sizeof(*fd));
    assert_int_equal(store_fsck(f->s, &o, &st), STORE_OK);
    return st;
}

static const char cfg_data[] = "{\"architecture\":\"amd64\",\"os\":\"linux\"}";

/* A repository with an image and its config: the store is clean. */
static void make_image(struct fixture *f, const char *repo, struct tm *t,
                       struct digest *cfg)
{
    put_blob(f, repo, cfg_data, strlen(cfg_data), cfg);
    tm_image(t, cfg, (long long)strlen(cfg_data), NULL, NULL, 1);
    assert_int_equal(put_manifest(f, repo, "v1", t, NULL), STORE_OK);
}

static void blob_file(struct fixture *f, const struct digest *d, char *path)
{
    assert_int_equal(store_blob_path(f->s, d, path, PATH_MAX, NULL), STORE_OK);
}

static void test_clean(void **state)
{
    struct fixture *f = *state;
    struct store_fsck_stats st;
    struct found fd;
    struct digest cfg;
    struct tm t;

    /* several repositories: each walk of the records visits them in turn */
    make_image(f, "r", &t, &cfg);
    tm_release(&t);
    make_image(f, "a", &t, &cfg);
    tm_release(&t);
    make_image(f, "z/z", &t, &cfg);
    put_blob(f, "b", "only a blob", 11, &cfg);
    st = fsck(f, 0, &fd);
    assert_string_equal(fd.text, "");
    assert_int_equal(st.problems, 0);
    assert_int_equal(st.blobs, 2);
    assert_int_equal(st.manifests, 3);
    assert_int_equal(st.bytes, (long long)strlen(cfg_data) + 11);
    tm_release(&t);
}

/*
 * Content: corrupt and missing are reported, never "repaired"; repair
 * moves a corrupt file aside, and a push of either blob mends it.
 */
static void test_content(void **state)
{
    struct fixture *f = *state;
    unsigned char *data = pattern(3000, 1);
    char path[PATH_MAX];
    struct store_fsck_stats st;
    struct found fd;
    struct digest a, b;
    int fdesc;

    put_blob(f, "r", data, 3000, &a);
    put_blob(f, "r", data + 1, 2000, &b);
    blob_file(f, &a, path);
    fdesc = open(path, O_WRONLY);
    assert_true(fdesc >= 0);
    assert_int_equal(pwrite(fdesc, "X", 1, 100), 1);
    close(fdesc);
    blob_file(f, &b, path);
    assert_int_equal(unlink(path), 0);
    st = fsck(f, 1, &fd);
    assert_int_equal(st.problems, 2);
    assert_int_equal(st.repaired, 0);
    assert_non_null(strstr(fd.text, "corrupt -"));
    assert_non_null(strstr(fd.text, "missing -"));
    /* the corrupt file went aside, and is not served */
    snprintf(path, sizeof(path), "%s/damaged/sha256-%s", f->s->root, a.hex);
    assert_int_equal(access(path, F_OK), 0);
    {
        struct store_blob *sb = NULL;

        assert_int_equal(store_blob_open(f->s, "r", &a, 0, &sb),
                         STORE_NOTFOUND);
    }
    st = fsck(f, 0, &fd);
    assert_int_equal(st.problems, 2);
    assert_null(strstr(fd.text, "corrupt -"));
    /* a push of each puts the content back */
    put_blob(f, "r", data, 3000, &a);
    put_blob(f, "r", data + 1, 2000, &b);
    st = fsck(f, 0, &fd);
    assert_string_equal(fd.text, "");
    assert_int_equal(st.problems, 0);
    free(data);
}

/* A clock a minute and a bit ahead. */
static long long minute_on(void)
{
    struct timeval tv;

    gettimeofday(&tv, NULL);
    return (long long)tv.tv_sec + 61;
}

/* Files without records, and in trash/: removed (or put back) by repair. */
static void test_files(void **state)
{
    struct fixture *f = *state;
    unsigned char *data = pattern(1000, 2);
    char path[PATH_MAX], trash[PATH_MAX + 64];
    struct store_fsck_stats st;
    struct found fd;
    struct digest orphan, kept;
    int fdesc;

    digest_of(DIGEST_SHA256, data, 1000, &orphan);
    blob_file(f, &orphan, path);
    *strrchr(path, '/') = '\0';
    assert_int_equal(mkdir_p(path, 0755), 0);
    blob_file(f, &orphan, path);
    fdesc = open(path, O_WRONLY | O_CREAT, 0644);
    assert_true(fdesc >= 0);
    assert_int_equal(write(fdesc, data, 1000), 1000);
    close(fdesc);
    *strrchr(path, '/') = '\0';
    strcat(path, "/not-a-blob");
    fdesc = open(path, O_WRONLY | O_CREAT, 0644);
    close(fdesc);
    put_blob(f, "r", data + 10, 900, &kept);
    blob_file(f, &kept, path);
    snprintf(trash, sizeof(trash), "%s/trash/sha256-%s", f->root, kept.hex);
    assert_int_equal(rename(path, trash), 0);

    /* just moved: a transaction at work may have moved it */
    st = fsck(f, 0, &fd);
    assert_int_equal(st.problems, 2);
    assert_null(strstr(fd.text, "trash"));
    /*
     * A minute on, it is a crash's; the kept blob's file, in trash/, is
     * not reported missing as well
     */
    f->s->clock = minute_on;
    st = fsck(f, 0, &fd);
    assert_int_equal(st.problems, 3);
    assert_null(strstr(fd.text, "missing"));
    assert_non_null(strstr(fd.text, "orphan -"));
    assert_non_null(strstr(fd.text, "stray -"));
    assert_non_null(strstr(fd.text, "trash -"));
    st = fsck(f, 1, &fd);
    assert_non_null(strstr(fd.text, "orphan+ -"));
    assert_non_null(strstr(fd.text, "trash+ -"));
    blob_file(f, &orphan, path);
    assert_int_equal(access(path, F_OK), -1);
    blob_file(f, &kept, path);
    assert_int_equal(access(path, F_OK), 0); /* put back */
    /* what is left: the stray file */
    st = fsck(f, 1, &fd);
    assert_int_equal(st.problems, 1);
    assert_non_null(strstr(fd.text, "stray -"));
    free(data);
}

/* Delete the entry key of database name, raw, behind the store's back. */
static void raw_del(struct fixture *f, MDB_dbi dbi, const void *k, size_t klen)
{
    MDB_txn *txn;
    MDB_val key = {klen, (void *)k};

    assert_int_equal(mdb_txn_begin(f->s->env, NULL, 0, &txn), 0);
    assert_int_equal(mdb_del(txn, dbi, &key, NULL), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
}

/* Records that name what is gone, and counts that are off. */
static void test_records(void **state)
{
    struct fixture *f = *state;
    char kbuf[LINK_KEY_MAX], dstr[DIGEST_STR_MAX];
    struct store_fsck_stats st;
    struct found fd;
    struct digest cfg, loose;
    struct tm t;
    MDB_val key;

    make_image(f, "r", &t, &cfg);
    put_blob(f, "r", "loose", 5, &loose);
    /* the manifest record goes: its tag, mtags and usedby entries dangle */
    store_link_key(kbuf, "r", &t.d, &key);
    raw_del(f, f->s->manifests, key.mv_data, key.mv_size);
    /* the loose blob's record goes: its link dangles, and r counts wrong */
    digest_format(&loose, dstr);
    raw_del(f, f->s->blobs, dstr, strlen(dstr));

    st = fsck(f, 0, &fd);
    assert_true(st.problems >= 4);
    assert_int_equal(st.repaired, 0);
    assert_non_null(strstr(fd.text, "dangling r"));
    assert_non_null(strstr(fd.text, "count r"));
    /* all of it, and the loose blob's file, an orphan now */
    st = fsck(f, 1, &fd);
    assert_int_equal(st.repaired, st.problems);
    assert_non_null(strstr(fd.text, "orphan+ -"));
    st = fsck(f, 0, &fd);
    assert_string_equal(fd.text, "");
    /* the store works on */
    assert_int_equal(put_manifest(f, "r", "v1", &t, NULL), STORE_OK);
    st = fsck(f, 0, &fd);
    assert_string_equal(fd.text, "");
    tm_release(&t);
}

/* A manifest whose blob is not in its repository is broken. */
static void test_broken(void **state)
{
    struct fixture *f = *state;
    char kbuf[LINK_KEY_MAX];
    struct store_fsck_stats st;
    struct found fd;
    struct digest cfg;
    struct tm t;
    MDB_val key;

    make_image(f, "r", &t, &cfg);
    store_link_key(kbuf, "r", &cfg, &key);
    raw_del(f, f->s->links, key.mv_data, key.mv_size);
    st = fsck(f, 1, &fd);
    assert_non_null(strstr(fd.text, "broken r"));
    st = fsck(f, 1, &fd);
    assert_non_null(strstr(fd.text, "broken r")); /* not repaired */
    assert_true(st.problems > st.repaired);
    tm_release(&t);
}

/* An upload session whose data file is gone: repair drops it. */
static void test_uploads(void **state)
{
    struct fixture *f = *state;
    char id[UPLOAD_ID_LEN + 1], path[PATH_MAX];
    struct store_fsck_stats st;
    struct found fd;
    long long size;

    assert_int_equal(store_upload_begin(f->s, "r", "", id), STORE_OK);
    snprintf(path, sizeof(path), "%s/uploads/%s", f->root, id);
    assert_int_equal(unlink(path), 0);
    st = fsck(f, 0, &fd);
    assert_int_equal(st.problems, 1);
    assert_non_null(strstr(fd.text, "upload -"));
    st = fsck(f, 1, &fd);
    assert_int_equal(st.repaired, 1);
    assert_int_equal(store_upload_status(f->s, "r", id, &size), STORE_NOTFOUND);
    st = fsck(f, 0, &fd);
    assert_int_equal(st.problems, 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_clean),   T(test_content), T(test_files),
        T(test_records), T(test_broken),  T(test_uploads),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
