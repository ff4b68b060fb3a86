/*
 * tests/unit/test_store_usage.c: store_ns_usage(), the bytes of each
 * namespace, as links, mounts, manifests and deletes change them, and as
 * store_ns_rebuild() and the upgrade from format 2 count them again.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store/store_private.h"
#include "tests/unit/store_fixture.h"

static long long used(struct fixture *f, const char *ns)
{
    long long u = -1;

    assert_int_equal(store_ns_usage(f->s, ns, NULL, &u, NULL), STORE_OK);
    return u;
}

static int holds(struct fixture *f, const char *ns, const struct digest *d)
{
    long long u;
    int h = -1;

    assert_int_equal(store_ns_usage(f->s, ns, d, &u, &h), STORE_OK);
    return h;
}

/* The namespaces the tests look at, and what each holds now. */
static const char *const spaces[] = {"",        "team/",   "team/x",
                                     "team/y",  "team/y/", "other/",
                                     "other/z", "nobody/", "nobody"};
#define NSPACES (sizeof(spaces) / sizeof(spaces[0]))

static void snapshot(struct fixture *f, long long *out)
{
    size_t i;

    for (i = 0; i < NSPACES; i++)
        out[i] = used(f, spaces[i]);
}

/*
 * Blob a (100 bytes) in team/x and team/y, b (50) in team/y, a mounted
 * into other/z, and a manifest in team/x whose config is a.
 */
static void populate(struct fixture *f, struct digest *a, struct digest *b,
                     struct tm *t)
{
    unsigned char *pa = pattern(100, 1), *pb = pattern(50, 2);
    long long size;

    put_blob(f, "team/x", pa, 100, a);
    put_blob(f, "team/y", pa, 100, a);
    put_blob(f, "team/y", pb, 50, b);
    assert_int_equal(store_blob_mount(f->s, "other/z", "team/x", a, &size),
                     STORE_OK);
    tm_image(t, a, 100, NULL, NULL, 1);
    assert_int_equal(put_manifest(f, "team/x", "v1", t, NULL), STORE_OK);
    free(pa);
    free(pb);
}

static void test_counts(void **state)
{
    struct fixture *f = *state;
    struct digest a, b;
    struct tm t;
    long long m, size;

    assert_int_equal(used(f, ""), 0);
    assert_int_equal(used(f, "team/"), 0);
    assert_int_equal(holds(f, "team/", NULL), 0);
    populate(f, &a, &b, &t);
    m = (long long)t.len;
    /* each blob once per namespace; manifests by their records */
    assert_int_equal(used(f, "team/x"), 100 + m);
    assert_int_equal(used(f, "team/y"), 150);
    assert_int_equal(used(f, "team/"), 150 + m);
    assert_int_equal(used(f, "other/"), 100);
    assert_int_equal(used(f, "other/z"), 100);
    assert_int_equal(used(f, ""), 150 + m);
    assert_int_equal(used(f, "team/y/"), 0);
    assert_int_equal(holds(f, "team/", &a), 1);
    assert_int_equal(holds(f, "team/", &b), 1);
    assert_int_equal(holds(f, "other/", &b), 0);
    assert_int_equal(holds(f, "team/x", &b), 0);
    assert_int_equal(holds(f, "team/y", &b), 1);
    assert_int_equal(holds(f, "", &b), 1);

    /* the same manifest again, and a link again, change nothing */
    assert_int_equal(put_manifest(f, "team/x", "v2", &t, NULL), STORE_OK);
    assert_int_equal(store_blob_mount(f->s, "team/y", "team/x", &a, &size),
                     STORE_OK);
    assert_int_equal(used(f, "team/"), 150 + m);

    /* b's last link goes: from team/y, team/ and the store */
    assert_int_equal(store_blob_delete(f->s, "team/y", &b, NULL), STORE_OK);
    assert_int_equal(used(f, "team/y"), 100);
    assert_int_equal(used(f, "team/"), 100 + m);
    assert_int_equal(used(f, ""), 100 + m);
    assert_int_equal(holds(f, "", &b), 0);
    /* a stays in team/ while team/x links it */
    assert_int_equal(store_blob_delete(f->s, "team/y", &a, NULL), STORE_OK);
    assert_int_equal(used(f, "team/"), 100 + m);
    assert_int_equal(holds(f, "team/", &a), 1);

    assert_int_equal(store_manifest_delete(f->s, "team/x", &t.d, NULL),
                     STORE_OK);
    assert_int_equal(used(f, "team/x"), 100);
    assert_int_equal(used(f, ""), 100);
    assert_int_equal(store_blob_delete(f->s, "team/x", &a, NULL), STORE_OK);
    assert_int_equal(used(f, "team/"), 0);
    assert_int_equal(holds(f, "team/", &a), 0);
    assert_int_equal(used(f, ""), 100); /* other/z */
    assert_int_equal(store_repo_delete(f->s, "other/z", NULL, NULL), STORE_OK);
    assert_int_equal(used(f, ""), 0);
    assert_int_equal(used(f, "other/"), 0);
    tm_release(&t);
}

static void test_rebuild(void **state)
{
    struct fixture *f = *state;
    long long before[NSPACES], after[NSPACES];
    struct digest a, b;
    MDB_txn *txn;
    struct tm t;
    size_t i;

    populate(f, &a, &b, &t);
    snapshot(f, before);
    assert_int_equal(store_txn_begin(f->s, 0, &txn), STORE_OK);
    assert_int_equal(store_txn_end(f->s, txn, store_ns_rebuild(f->s, txn)),
                     STORE_OK);
    snapshot(f, after);
    for (i = 0; i < NSPACES; i++)
        assert_int_equal(after[i], before[i]);

    /* a format 2 root has no counts: the first open counts them */
    assert_int_equal(store_txn_begin(f->s, 0, &txn), STORE_OK);
    assert_int_equal(mdb_drop(txn, f->s->usage, 0), 0);
    assert_int_equal(mdb_drop(txn, f->s->nslinks, 0), 0);
    assert_int_equal(store_info_put(f->s, txn, "format", 2), STORE_OK);
    assert_int_equal(store_txn_end(f->s, txn, STORE_OK), STORE_OK);
    assert_int_equal(used(f, "team/"), 0);
    store_close(f->s);
    assert_int_equal(store_open(f->root, &file_blobs, &f->s), STORE_OK);
    snapshot(f, after);
    for (i = 0; i < NSPACES; i++)
        assert_int_equal(after[i], before[i]);
    assert_int_equal(holds(f, "team/", &b), 1);
    tm_release(&t);
}

struct found {
    int n, repaired;
    char ns[64];
};

static void on_problem(void *ctx, const struct store_fsck_event *e)
{
    struct found *fo = ctx;

    if (e->kind != STORE_FSCK_COUNT || strcmp(e->what, "namespace usage"))
        return;
    fo->n++;
    fo->repaired += e->repaired;
    snprintf(fo->ns, sizeof(fo->ns), "%s", e->repo ? e->repo : "*");
}

/* fsck finds a namespace count that went wrong; --repair sets it right. */
static void test_fsck(void **state)
{
    struct fixture *f = *state;
    long long before[NSPACES], after[NSPACES];
    struct store_fsck_options o;
    struct found fo;
    struct digest a, b;
    MDB_txn *txn;
    MDB_val key = {7, (void *)"team/y/"}, val;
    int64_t wrong = 12345;
    struct tm t;
    size_t i;

    populate(f, &a, &b, &t);
    snapshot(f, before);
    memset(&o, 0, sizeof(o));
    memset(&fo, 0, sizeof(fo));
    o.report = on_problem;
    o.ctx = &fo;
    assert_int_equal(store_fsck(f->s, &o, NULL), STORE_OK);
    assert_int_equal(fo.n, 0); /* all as counted */

    val.mv_size = sizeof(wrong);
    val.mv_data = &wrong;
    assert_int_equal(store_txn_begin(f->s, 0, &txn), STORE_OK);
    assert_int_equal(mdb_put(txn, f->s->usage, &key, &val, 0), 0);
    assert_int_equal(store_txn_end(f->s, txn, STORE_OK), STORE_OK);
    assert_int_equal(used(f, "team/y/"), 12345);
    assert_int_equal(store_fsck(f->s, &o, NULL), STORE_OK);
    assert_int_equal(fo.n, 1);
    assert_int_equal(fo.repaired, 0);
    assert_string_equal(fo.ns, "team/y/");
    assert_int_equal(used(f, "team/y/"), 12345); /* a check changes nothing */

    o.repair = 1;
    memset(&fo, 0, sizeof(fo));
    assert_int_equal(store_fsck(f->s, &o, NULL), STORE_OK);
    assert_int_equal(fo.n, 1);
    assert_int_equal(fo.repaired, 1);
    snapshot(f, after);
    for (i = 0; i < NSPACES; i++)
        assert_int_equal(after[i], before[i]);
    tm_release(&t);
}

/* store_repo_stat(): a repository's counts and bytes, for the web catalog */
static void test_repo_stat(void **state)
{
    struct fixture *f = *state;
    struct store_repo_info ri;
    struct digest a, b;
    long long bytes = -1;
    struct tm t;

    assert_int_equal(store_repo_stat(f->s, "team/x", &ri, &bytes),
                     STORE_NOTFOUND);
    assert_int_equal(bytes, -1); /* written only on STORE_OK */
    populate(f, &a, &b, &t);
    assert_int_equal(put_manifest(f, "team/x", "v2", &t, NULL), STORE_OK);
    assert_int_equal(store_repo_stat(f->s, "team/x", &ri, &bytes), STORE_OK);
    assert_string_equal(ri.name, "team/x");
    assert_int_equal(ri.tags, 2);
    assert_int_equal(ri.manifests, 1);
    assert_int_equal(ri.links, 1);
    assert_true(ri.listed);
    assert_int_equal(bytes, used(f, "team/x"));
    assert_int_equal(bytes, 100 + (long long)t.len);
    /* a repository of blobs only: no tags, its bytes counted */
    assert_int_equal(store_repo_stat(f->s, "team/y", &ri, &bytes), STORE_OK);
    assert_int_equal(ri.tags, 0);
    assert_int_equal(ri.links, 2);
    assert_int_equal(bytes, 150);
    /* a namespace is no repository */
    assert_int_equal(store_repo_stat(f->s, "team/", &ri, &bytes),
                     STORE_NOTFOUND);
    tm_release(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_counts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rebuild, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fsck, setup, teardown),
        cmocka_unit_test_setup_teardown(test_repo_stat, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
