/* tests/unit/test_backup.c: store_backup() and store_restore() */
#include "config.h"

#include <ftw.h>
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

/* blobs up to this size are kept in LMDB: the backup has both kinds */
static const struct store_options inline_small = {
    .map_size = MAP_SIZE, .flags = 0, .inline_max = 1024};

/* The store, and two directories: a backup, and a root to restore into. */
struct bfix {
    struct fixture f;
    char dest[64], root[64];
    struct digest small, big1, big2, cfg;
    unsigned char *b1, *b2;
    struct tm t;
};

#define BIG 100000

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static const char cfg_data[] = "{\"architecture\":\"amd64\",\"os\":\"linux\"}";
static const char small_data[] = "a small blob, kept in LMDB";

static int bsetup(void **state)
{
    struct bfix *b = calloc(1, sizeof(*b));

    if (!b)
        return -1;
    snprintf(b->f.root, sizeof(b->f.root), "/tmp/berth-test-bk-XXXXXX");
    snprintf(b->dest, sizeof(b->dest), "/tmp/berth-test-bkdest-XXXXXX");
    snprintf(b->root, sizeof(b->root), "/tmp/berth-test-bkroot-XXXXXX");
    if (!mkdtemp(b->f.root) || !mkdtemp(b->dest) || !mkdtemp(b->root) ||
        store_open(b->f.root, &inline_small, &b->f.s) != STORE_OK)
        return -1;
    /* rmdir: a backup makes its directory; restore wants none or empty */
    rmdir(b->dest);
    b->b1 = pattern(BIG, 1);
    b->b2 = pattern(BIG + 7, 2);
    put_blob(&b->f, "team/app", b->b1, BIG, &b->big1);
    put_blob(&b->f, "team/app", b->b2, BIG + 7, &b->big2);
    put_blob(&b->f, "team/app", small_data, strlen(small_data), &b->small);
    put_blob(&b->f, "team/app", cfg_data, strlen(cfg_data), &b->cfg);
    tm_image(&b->t, &b->cfg, (long long)strlen(cfg_data), NULL, NULL, 1);
    if (put_manifest(&b->f, "team/app", "v1", &b->t, NULL) != STORE_OK)
        return -1;
    *state = b;
    return 0;
}

static int bteardown(void **state)
{
    struct bfix *b = *state;

    store_close(b->f.s);
    nftw(b->f.root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    nftw(b->dest, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    nftw(b->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    tm_release(&b->t);
    free(b->b1);
    free(b->b2);
    free(b);
    return 0;
}

static void backup(struct bfix *b, const char *dest, int link_ok,
                   struct store_backup_stats *st)
{
    struct store_backup_options o = {link_ok, NULL, NULL};

    assert_int_equal(store_backup(b->f.s, dest, &o, st), STORE_OK);
}

/* Blob d of repo in s has the bytes data[0..len). */
static void same_blob(struct store *s, const char *repo, const struct digest *d,
                      const void *data, size_t len)
{
    struct store_blob *bl;
    char *got = malloc(len + 1);

    assert_non_null(got);
    assert_int_equal(store_blob_open(s, repo, d, 0, &bl), STORE_OK);
    assert_int_equal(store_blob_size(bl), (long long)len);
    assert_int_equal(store_blob_read(bl, 0, got, len + 1), (long)len);
    assert_memory_equal(got, data, len);
    store_blob_close(bl);
    free(got);
}

/* Restore the backup in b->dest into b->root: what was there is there. */
static void restore_and_check(struct bfix *b, int link_ok, long long nfiles)
{
    struct store_backup_options o = {link_ok, NULL, NULL};
    struct store_fsck_options fo;
    struct store_fsck_stats fst;
    struct store_backup_stats st;
    struct store_manifest_info info;
    struct store *r;
    struct buf body;

    assert_int_equal(store_restore(b->dest, b->root, &inline_small, &o, &st),
                     STORE_OK);
    assert_int_equal(st.blobs, nfiles);
    assert_int_equal(link_ok ? st.linked : st.copied, nfiles);
    assert_int_equal(store_open(b->root, &inline_small, &r), STORE_OK);
    same_blob(r, "team/app", &b->big1, b->b1, BIG);
    same_blob(r, "team/app", &b->big2, b->b2, BIG + 7);
    same_blob(r, "team/app", &b->small, small_data, strlen(small_data));
    same_blob(r, "team/app", &b->cfg, cfg_data, strlen(cfg_data));
    buf_init(&body, 1 << 20);
    assert_int_equal(
        store_manifest_get(r, "team/app", "v1", NULL, &body, &info), STORE_OK);
    assert_int_equal(body.len, b->t.len);
    assert_memory_equal(body.ptr, b->t.body, b->t.len);
    buf_release(&body);
    memset(&fo, 0, sizeof(fo));
    assert_int_equal(store_fsck(r, &fo, &fst), STORE_OK);
    assert_int_equal(fst.problems, 0);
    store_close(r);
}

static void test_backup_restore(void **state)
{
    struct bfix *b = *state;
    struct store_backup_stats st;
    char path[PATH_MAX];
    struct stat sb;

    backup(b, b->dest, 0, &st);
    /* the two big blobs are files; the small and the config inline */
    assert_int_equal(st.blobs, 2);
    assert_int_equal(st.copied, 2);
    assert_int_equal(st.bytes_copied, 2 * BIG + 7);
    assert_int_equal(st.present + st.linked, 0);
    assert_int_equal(st.tries, 1);
    assert_true(st.meta_bytes > 0);
    snprintf(path, sizeof(path), "%s/backup.json", b->dest);
    assert_int_equal(stat(path, &sb), 0);
    snprintf(path, sizeof(path), "%s/meta/data.mdb.tmp", b->dest);
    assert_int_not_equal(stat(path, &sb), 0);
    restore_and_check(b, 0, 2);
}

static void test_incremental(void **state)
{
    struct bfix *b = *state;
    struct store_backup_stats st;
    struct digest d;
    unsigned char *more = pattern(5000, 3);

    backup(b, b->dest, 0, &st);
    backup(b, b->dest, 0, &st);
    assert_int_equal(st.blobs, 2);
    assert_int_equal(st.copied + st.linked, 0);
    assert_int_equal(st.present, 2);
    assert_int_equal(st.bytes_present, 2 * BIG + 7);
    put_blob(&b->f, "team/other", more, 5000, &d);
    backup(b, b->dest, 1, &st);
    assert_int_equal(st.blobs, 3);
    assert_int_equal(st.linked, 1); /* one file system: /tmp */
    assert_int_equal(st.bytes_linked, 5000);
    assert_int_equal(st.present, 2);
    assert_int_equal(st.pruned, 0);
    free(more);
    restore_and_check(b, 1, 3);
}

/*
 * Once the new metadata is in place, the files it does not reference go
 * from dest: a blob deleted since, and a copy's leftover.
 */
static void test_prune(void **state)
{
    struct bfix *b = *state;
    struct store_backup_stats st;
    struct digest d;
    unsigned char *more = pattern(5000, 3);
    char path[PATH_MAX], stray[PATH_MAX];
    FILE *fp;

    put_blob(&b->f, "team/other", more, 5000, &d);
    backup(b, b->dest, 0, &st);
    assert_int_equal(st.blobs, 3);
    assert_int_equal(st.pruned, 0);
    snprintf(path, sizeof(path), "%s/blobs/sha256/%.2s/%s", b->dest, d.hex,
             d.hex);
    assert_int_equal(access(path, F_OK), 0);
    snprintf(stray, sizeof(stray), "%s/blobs/sha256/%.2s/%s.tmp", b->dest,
             b->big1.hex, b->big1.hex);
    fp = fopen(stray, "w");
    assert_non_null(fp);
    fclose(fp);
    assert_int_equal(store_blob_delete(b->f.s, "team/other", &d, NULL),
                     STORE_OK);
    backup(b, b->dest, 0, &st);
    assert_int_equal(st.blobs, 2);
    assert_int_equal(st.present, 2);
    assert_int_equal(st.pruned, 2);
    assert_int_equal(st.bytes_pruned, 5000);
    assert_int_not_equal(access(path, F_OK), 0);
    assert_int_not_equal(access(stray, F_OK), 0);
    free(more);
    restore_and_check(b, 0, 2);
}

/* The restore refuses a root that is not empty, and a missing backup. */
static void test_restore_refuses(void **state)
{
    struct bfix *b = *state;
    struct store_backup_options o = {0, NULL, NULL};
    struct store_backup_stats st;
    char path[PATH_MAX];
    FILE *fp;

    assert_int_equal(store_restore(b->dest, b->root, &inline_small, &o, &st),
                     STORE_NOTFOUND);
    backup(b, b->dest, 0, &st);
    snprintf(path, sizeof(path), "%s/x", b->root);
    fp = fopen(path, "w");
    assert_non_null(fp);
    fclose(fp);
    assert_int_equal(store_restore(b->dest, b->root, &inline_small, &o, &st),
                     STORE_IN_USE);
}

/* What the progress callback does in the middle of a backup. */
struct during {
    struct bfix *b;
    int gc_rc;  /* of a GC tried meanwhile */
    int del_rc; /* of a deletion of big2 made meanwhile */
    int calls;
};

static void gc_during(void *ctx, long long done, long long total)
{
    struct during *d = ctx;
    struct store_gc_options go;

    (void)done;
    (void)total;
    if (d->calls++)
        return;
    memset(&go, 0, sizeof(go));
    go.untagged_ttl = -1;
    d->gc_rc = store_gc(d->b->f.s, &go, NULL);
}

/* A GC during a backup is refused; a backup during a GC too. */
static void test_gc_locked(void **state)
{
    struct bfix *b = *state;
    struct during d = {b, 0, 0, 0};
    struct store_backup_options o = {0, gc_during, &d};
    struct store_backup_stats st;
    int fd;

    assert_int_equal(store_backup(b->f.s, b->dest, &o, &st), STORE_OK);
    assert_int_equal(d.gc_rc, STORE_LOCKED);
    /* the lock is free again afterwards */
    assert_int_equal(store_gc_lock(b->f.s, &fd), STORE_OK);
    o.progress = NULL;
    assert_int_equal(store_backup(b->f.s, b->dest, &o, &st), STORE_LOCKED);
    close(fd);
}

static void delete_during(void *ctx, long long done, long long total)
{
    struct during *d = ctx;

    (void)done;
    (void)total;
    if (d->calls++)
        return;
    d->del_rc = store_blob_delete(d->b->f.s, "team/app", &d->b->big2, NULL);
}

/*
 * A deletion removes a blob file the snapshot references before it is
 * copied: the backup takes a newer snapshot, without that blob.
 */
static void test_deleted_meanwhile(void **state)
{
    struct bfix *b = *state;
    struct during d = {b, 0, 0, 0};
    struct store_backup_options o = {0, delete_during, &d};
    struct store_backup_options plain = {0, NULL, NULL};
    struct store_backup_stats st;
    struct store_blob *bl;
    struct store *r;

    assert_int_equal(store_backup(b->f.s, b->dest, &o, &st), STORE_OK);
    assert_int_equal(d.del_rc, STORE_OK);
    assert_int_equal(st.tries, 2);
    assert_int_equal(st.blobs, 1);
    /* big1, copied by the first pass, is there for the second */
    assert_int_equal(st.copied, 1);
    assert_int_equal(st.present, 1);
    assert_int_equal(
        store_restore(b->dest, b->root, &inline_small, &plain, &st), STORE_OK);
    assert_int_equal(store_open(b->root, &inline_small, &r), STORE_OK);
    same_blob(r, "team/app", &b->big1, b->b1, BIG);
    assert_int_equal(store_blob_open(r, "team/app", &b->big2, 0, &bl),
                     STORE_NOTFOUND);
    store_close(r);
}

/* A backup into the storage root, or below it, is refused. */
static void test_inside_root(void **state)
{
    struct bfix *b = *state;
    struct store_backup_options o = {0, NULL, NULL};
    struct store_backup_stats st;
    char path[PATH_MAX];

    assert_int_equal(store_backup(b->f.s, b->f.root, &o, &st), STORE_IN_USE);
    snprintf(path, sizeof(path), "%s/blobs/../backup", b->f.root);
    assert_int_equal(store_backup(b->f.s, path, &o, &st), STORE_IN_USE);
    snprintf(path, sizeof(path), "%s/backup", b->f.root);
    assert_int_not_equal(access(path, F_OK), 0);
    /* a name that only begins like the root's is not inside it */
    snprintf(path, sizeof(path), "%s-backup", b->f.root);
    assert_int_equal(store_backup(b->f.s, path, &o, &st), STORE_OK);
    nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_backup_restore, bsetup, bteardown),
        cmocka_unit_test_setup_teardown(test_incremental, bsetup, bteardown),
        cmocka_unit_test_setup_teardown(test_inside_root, bsetup, bteardown),
        cmocka_unit_test_setup_teardown(test_prune, bsetup, bteardown),
        cmocka_unit_test_setup_teardown(test_restore_refuses, bsetup,
                                        bteardown),
        cmocka_unit_test_setup_teardown(test_gc_locked, bsetup, bteardown),
        cmocka_unit_test_setup_teardown(test_deleted_meanwhile, bsetup,
                                        bteardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
