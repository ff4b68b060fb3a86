/* tests/unit/test_gc.c: store_gc() (store/gc.c), a fresh store per test */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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
#include <unistd.h>

#include <cmocka.h>

#include "store/store_private.h"
#include "tests/unit/store_fixture.h"
#include "util/fsutil.h"

static long long fake_now;

static long long fake_clock(void)
{
    return fake_now;
}

/* A fixture whose store runs on the fake clock. */
static int gc_setup(void **state)
{
    struct fixture *f;

    if (setup(state))
        return -1;
    f = *state;
    fake_now = 1700000000;
    f->s->clock = fake_clock;
    return 0;
}

/* What the reports said, one line each: "kind repo what bytes". */
struct seen {
    char text[65536];
    int n;
    long long batches;
    void (*between)(struct seen *sn); /* called after each batch */
    struct fixture *f;
    void *arg;
};

static void on_report(void *ctx, const struct store_gc_event *e)
{
    static const char *const kinds[] = {"tag",    "manifest", "link",   "blob",
                                        "orphan", "trash",    "session"};
    struct seen *sn = ctx;
    size_t at = strlen(sn->text);

    snprintf(sn->text + at, sizeof(sn->text) - at, "%s %s %.19s %lld\n",
             kinds[e->kind], e->repo ? e->repo : "-", e->what, e->bytes);
    sn->n++;
}

static void on_progress(void *ctx, long long done, long long total)
{
    struct seen *sn = ctx;

    assert_true(done <= total);
    sn->batches++;
    if (sn->between)
        sn->between(sn);
}

static struct store_gc_options opts(struct seen *sn, long long grace)
{
    struct store_gc_options o;

    memset(&o, 0, sizeof(o));
    o.grace = grace;
    o.untagged_ttl = -1;
    o.upload_ttl = 7 * 86400;
    o.report = on_report;
    o.progress = on_progress;
    o.ctx = sn;
    return o;
}

static int has_file(struct fixture *f, const struct digest *d)
{
    char path[PATH_MAX];

    assert_int_equal(store_blob_path(f->s, d, path, sizeof(path), NULL),
                     STORE_OK);
    return access(path, F_OK) == 0;
}

static int linked(struct fixture *f, const char *repo, const struct digest *d)
{
    struct store_blob *b = NULL;
    int rc = store_blob_open(f->s, repo, d, 0, &b);

    store_blob_close(b);
    assert_true(rc == STORE_OK || rc == STORE_NOTFOUND);
    return rc == STORE_OK;
}

static const char cfg_data[] = "{\"architecture\":\"amd64\",\"os\":\"linux\"}";

/*
 * An image of cfg and layers: its layers given as blobs of repo (made
 * before), with a salt that makes it distinct.
 */
static void image(struct tm *t, const struct digest *cfg, size_t cfgsize,
                  const struct digest *layers, const size_t *sizes, int n,
                  int salt)
{
    char c[DIGEST_STR_MAX], l[DIGEST_STR_MAX], list[4096] = "";
    size_t at = 0;
    int i;

    digest_format(cfg, c);
    for (i = 0; i < n; i++) {
        digest_format(&layers[i], l);
        at += (size_t)snprintf(list + at, sizeof(list) - at,
                               "%s{\"mediaType\":\"application/"
                               "vnd.oci.image.layer.v1.tar\",\"digest\":\"%s\","
                               "\"size\":%zu}",
                               i ? "," : "", l, sizes[i]);
    }
    snprintf(t->body, sizeof(t->body),
             "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{"
             "\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
             "\"digest\":\"%s\",\"size\":%zu},\"layers\":[%s],"
             "\"annotations\":{\"salt\":\"%d\"}}",
             MT_OCI_MANIFEST, c, cfgsize, list, salt);
    tm_parse(t);
}

/*
 * Two images that share a layer; one is deleted: GC takes exactly what
 * only it used, files included, and the other image stays whole.
 */
static void test_shared_layers(void **state)
{
    struct fixture *f = *state;
    unsigned char *shared = pattern(5000, 1), *own = pattern(6000, 2);
    struct digest cfg, layers[2], d1[1];
    size_t sizes[2] = {5000, 6000};
    struct store_gc_stats st;
    struct store_gc_options o;
    struct seen sn;
    struct tm a, b;

    memset(&sn, 0, sizeof(sn));
    put_blob(f, "r", cfg_data, strlen(cfg_data), &cfg);
    put_blob(f, "r", shared, 5000, &layers[0]);
    put_blob(f, "r", own, 6000, &layers[1]);
    image(&a, &cfg, strlen(cfg_data), layers, sizes, 2, 1);
    d1[0] = layers[0];
    image(&b, &cfg, strlen(cfg_data), d1, sizes, 1, 2);
    assert_int_equal(put_manifest(f, "r", "a", &a, NULL), STORE_OK);
    assert_int_equal(put_manifest(f, "r", "b", &b, NULL), STORE_OK);

    /* nothing to take while both are there, even at grace 0 */
    o = opts(&sn, 0);
    assert_int_equal(store_gc(f->s, &o, &st), STORE_OK);
    assert_int_equal(sn.n, 0);

    assert_int_equal(store_manifest_delete(f->s, "r", &a.d, NULL), STORE_OK);
    /* within the grace period nothing goes */
    o = opts(&sn, 3600);
    assert_int_equal(store_gc(f->s, &o, &st), STORE_OK);
    assert_int_equal(st.links + st.blobs, 0);
    assert_true(has_file(f, &layers[1]));

    fake_now += 3601;
    assert_int_equal(store_gc(f->s, &o, &st), STORE_OK);
    assert_int_equal(st.links, 1);
    assert_int_equal(st.blobs, 1);
    assert_int_equal(st.bytes, 6000);
    assert_false(has_file(f, &layers[1]));
    assert_false(linked(f, "r", &layers[1]));
    assert_true(has_file(f, &layers[0]));
    assert_true(linked(f, "r", &cfg));
    {
        struct store_manifest_info info;

        assert_int_equal(store_manifest_get(f->s, "r", "b", NULL, NULL, &info),
                         STORE_OK);
    }
    /* again: nothing left to take */
    assert_int_equal(store_gc(f->s, &o, &st), STORE_OK);
    assert_int_equal(st.links + st.blobs + st.orphans, 0);
    tm_release(&a);
    tm_release(&b);
    free(shared);
    free(own);
}

/* The same content in two repositories: a blob goes with its last link. */
static void test_last_link(void **state)
{
    struct fixture *f = *state;
    unsigned char *data = pattern(4000, 3);
    struct store_gc_stats st;
    struct store_gc_options o;
    struct seen sn;
    struct digest d;

    memset(&sn, 0, sizeof(sn));
    put_blob(f, "a", data, 4000, &d);
    put_blob(f, "b", data, 4000, &d);
    fake_now += STORE_ASK_HOLD; /* an upload holds it that long */
    o = opts(&sn, 5);
    assert_int_equal(store_gc(f->s, &o, &st), STORE_OK);
    assert_int_equal(st.links, 2);
    assert_int_equal(st.blobs, 1);
    assert_int_equal(st.bytes, 4000);
    assert_false(has_file(f, &d));
    assert_int_equal(store_repo_exists(f->s, "a"), STORE_NOTFOUND);
    free(data);
}

/* A client's upload holds a blob a minute, even with a grace of 0. */
static void test_ask_holds(void **state)
{
    struct fixture *f = *state;
    struct store_gc_stats st;
    struct store_gc_options o;
    struct seen sn;
    struct digest d;

    memset(&sn, 0, sizeof(sn));
    put_blob(f, "r", "abc", 3, &d);
    fake_now += STORE_ASK_HOLD - 1;
    o = opts(&sn, 0);
    assert_int_equal(store_gc(f->s, &o, &st), STORE_OK);
    assert_int_equal(st.links, 0);
    fake_now += 1;
    assert_int_equal(store_gc(f->s, &o, &st), STORE_OK);
    assert_int_equal(st.links, 1);
}

/* A GET or HEAD (STORE_BLOB_TOUCH) starts the grace again. */
static void test_touch_protects(void **state)
{
    struct fixture *f = *state;
    struct store_blob *b = NULL;
    struct store_gc_stats st;
    struct store_gc_options o;
    struct seen sn;
    struct digest d;

    memset(&sn, 0, sizeof(sn));
    put_blob(f, "r", "abc", 3, &d);
    fake_now += 3000;
    assert_int_equal(store_blob_open(f->s, "r", &d, STORE_BLOB_TOUCH, &b),
                     STORE_OK);
    store_blob_close(b);
    fake_now += 1000;
    o = opts(&sn, 3600);
    assert_int_equal(store_gc(f->s, &o, &st), STORE_OK);
    assert_int_equal(st.links, 0);
    fake_now += 3000;
    assert_int_equal(store_gc(f->s, &o, &st), STORE_OK);
    assert_int_equal(st.links, 1);
}

/*
 * A blob's grace starts again when the last manifest that used it goes: a
 * client that saw it while the manifest was there may be pushing one that
 * uses it.
 */
static void test_grace_from_delete(void **state)
{
    struct fixture *f = *state;
    struct digest cfg;
    struct store_gc_stats st;
    struct store_gc_options o;
    struct seen sn;
    struct tm t;

    memset(&sn, 0, sizeof(sn));
    put_blob(f, "r", cfg_data, strlen(cfg_data), &cfg);
    tm_image(&t, &cfg, (long long)strlen(cfg_data), NULL, NULL, 1);
    assert_int_equal(put_manifest(f, "r", "v1", &t, NULL), STORE_OK);
    fake_now += 30 * 86400; /* pushed a month ago */
    assert_int_equal(store_manifest_delete(f->s, "r", &t.d, NULL), STORE_OK);
    o = opts(&sn, 86400);
    assert_int_equal(store_gc(f->s, &o, &st), STORE_OK);
    assert_int_equal(st.links, 0);
    fake_now += 86401;
    assert_int_equal(store_gc(f->s, &o, &st), STORE_OK);
    assert_int_equal(st.links, 1);
    tm_release(&t);
}

/* Between two batches of the sweep, a push uses two blobs that were to go. */
static void push_between(struct seen *sn)
{
    struct tm *t = sn->arg;

    if (sn->batches == 1)
        assert_int_equal(put_manifest(sn->f, "r", "late", t, NULL), STORE_OK);
}

static int by_hex(const void *a, const void *b)
{
    return strcmp(((const struct digest *)a)->hex,
                  ((const struct digest *)b)->hex);
}

static void test_push_during_sweep(void **state)
{
    struct fixture *f = *state;
    struct digest d[300], cfg, layer;
    struct store_gc_stats st;
    struct store_gc_options o;
    struct seen sn;
    struct tm late;
    char data[32];
    size_t size = 9;
    int i;

    memset(&sn, 0, sizeof(sn));
    for (i = 0; i < 300; i++) {
        snprintf(data, sizeof(data), "blob %4d", i); /* 9 bytes each */
        put_blob(f, "r", data, 9, &d[i]);
    }
    /* the two that sort last are swept in the second batch */
    qsort(d, 300, sizeof(d[0]), by_hex);
    cfg = d[298];
    layer = d[299];
    image(&late, &cfg, 9, &layer, &size, 1, 9);
    sn.between = push_between;
    sn.f = f;
    sn.arg = &late;
    o = opts(&sn, 0);
    fake_now += STORE_ASK_HOLD;
    assert_int_equal(store_gc(f->s, &o, &st), STORE_OK);
    assert_true(sn.batches >= 2);
    assert_int_equal(st.links, 298);
    assert_true(linked(f, "r", &cfg));
    assert_true(linked(f, "r", &layer));
    assert_false(linked(f, "r", &d[0]));
    {
        struct store_manifest_info info;

        assert_int_equal(
            store_manifest_get(f->s, "r", "late", NULL, NULL, &info), STORE_OK);
    }
    tm_release(&late);
}

/* untagged_ttl: untagged manifests nothing keeps go; the rest stay. */
static void test_untagged(void **state)
{
    struct fixture *f = *state;
    struct digest cfg;
    struct store_gc_stats st;
    struct store_gc_options o;
    struct seen sn;
    struct tm tagged, loose, child, other, idx, sig, deadsig;

    memset(&sn, 0, sizeof(sn));
    put_blob(f, "r", cfg_data, strlen(cfg_data), &cfg);
    tm_image(&tagged, &cfg, (long long)strlen(cfg_data), NULL, NULL, 1);
    tm_image(&loose, &cfg, (long long)strlen(cfg_data), NULL, NULL, 2);
    tm_image(&child, &cfg, (long long)strlen(cfg_data), NULL, NULL, 3);
    tm_image(&other, &cfg, (long long)strlen(cfg_data), NULL, NULL, 4);
    tm_index(&idx, &child, &other);
    tm_image(&sig, &cfg, (long long)strlen(cfg_data), &tagged,
             "application/x.sig", 5);
    tm_image(&deadsig, &cfg, (long long)strlen(cfg_data), &loose,
             "application/x.sig", 6);
    assert_int_equal(put_manifest(f, "r", "t", &tagged, NULL), STORE_OK);
    assert_int_equal(put_manifest(f, "r", NULL, &loose, NULL), STORE_OK);
    assert_int_equal(put_manifest(f, "r", NULL, &child, NULL), STORE_OK);
    assert_int_equal(put_manifest(f, "r", NULL, &other, NULL), STORE_OK);
    assert_int_equal(put_manifest(f, "r", "i", &idx, NULL), STORE_OK);
    assert_int_equal(put_manifest(f, "r", NULL, &sig, NULL), STORE_OK);
    assert_int_equal(put_manifest(f, "r", NULL, &deadsig, NULL), STORE_OK);

    fake_now += 100;
    o = opts(&sn, 0);
    o.untagged_ttl = 1000; /* not old enough yet */
    assert_int_equal(store_gc(f->s, &o, &st), STORE_OK);
    assert_int_equal(st.manifests, 0);
    fake_now += 1000;
    /* the index goes: its children then go, in a later pass */
    assert_int_equal(store_tag_delete(f->s, "r", "i"), STORE_OK);
    assert_int_equal(store_gc(f->s, &o, &st), STORE_OK);
    /* loose, its referrer, the index and both its children */
    assert_int_equal(st.manifests, 5);
    {
        struct store_manifest_info info;

        assert_int_equal(store_manifest_get(f->s, "r", "t", NULL, NULL, &info),
                         STORE_OK);
        assert_int_equal(
            store_manifest_get(f->s, "r", NULL, &sig.d, NULL, &info), STORE_OK);
        assert_int_equal(
            store_manifest_get(f->s, "r", NULL, &loose.d, NULL, &info),
            STORE_NOTFOUND);
        assert_int_equal(
            store_manifest_get(f->s, "r", NULL, &child.d, NULL, &info),
            STORE_NOTFOUND);
    }
    /* the config stays: tagged and sig use it */
    assert_true(linked(f, "r", &cfg));
    tm_release(&tagged);
    tm_release(&loose);
    tm_release(&child);
    tm_release(&other);
    tm_release(&idx);
    tm_release(&sig);
    tm_release(&deadsig);
}

/*
 * A manifest the GC removes releases its blobs then: at grace 0 they go
 * in the same run, and a dry run says so; with a grace, in a run after it.
 */
static void test_released_by_gc(void **state)
{
    struct fixture *f = *state;
    struct digest cfg, layer;
    struct store_gc_stats st;
    struct store_gc_options o;
    struct seen sn;
    size_t size = 5;
    struct tm a, b;
    const char *repo;
    int grace;

    for (grace = 0; grace <= 100; grace += 100) {
        repo = grace ? "s" : "r";
        memset(&sn, 0, sizeof(sn));
        put_blob(f, repo, cfg_data, strlen(cfg_data), &cfg);
        put_blob(f, repo, "layer", 5, &layer);
        image(&a, &cfg, strlen(cfg_data), &layer, &size, 1, grace + 1);
        tm_image(&b, &cfg, (long long)strlen(cfg_data), NULL, NULL, grace + 2);
        assert_int_equal(put_manifest(f, repo, "a", &a, NULL), STORE_OK);
        assert_int_equal(put_manifest(f, repo, "b", &b, NULL), STORE_OK);
        fake_now += STORE_ASK_HOLD + 200;
        assert_int_equal(store_tag_delete(f->s, repo, "a"), STORE_OK);
        o = opts(&sn, grace);
        o.untagged_ttl = 0;
        o.dry_run = 1;
        assert_int_equal(store_gc(f->s, &o, &st), STORE_OK);
        assert_int_equal(st.manifests, 1);
        assert_int_equal(st.links, grace ? 0 : 1); /* the layer: b uses cfg */
        o.dry_run = 0;
        assert_int_equal(store_gc(f->s, &o, &st), STORE_OK);
        assert_int_equal(st.manifests, 1);
        assert_int_equal(st.links, grace ? 0 : 1);
        assert_int_equal(linked(f, repo, &layer), grace != 0);
        assert_true(linked(f, repo, &cfg));
        if (grace) {
            fake_now += grace + 1;
            assert_int_equal(store_gc(f->s, &o, &st), STORE_OK);
            assert_int_equal(st.links, 1);
            assert_false(linked(f, repo, &layer));
        }
        tm_release(&a);
        tm_release(&b);
    }
}

/* Retention: drop what the callback says; a tag set again stays. */
static int drop_old(void *ctx, const char *repo,
                    const struct store_gc_tag *tags, size_t n, long long now,
                    unsigned char *drop, char (*why)[STORE_WHY_MAX])
{
    size_t i;

    (void)ctx;
    (void)repo;
    for (i = 0; i < n; i++) {
        drop[i] = tags[i].pushed < now - 500;
        if (drop[i])
            snprintf(why[i], STORE_WHY_MAX, "pushed %llds ago",
                     now - tags[i].pushed);
    }
    return 0;
}

static void test_retention(void **state)
{
    struct fixture *f = *state;
    struct digest cfg;
    struct store_gc_stats st;
    struct store_gc_options o;
    struct seen sn;
    struct store_manifest_info info;
    struct tm a, b;

    memset(&sn, 0, sizeof(sn));
    put_blob(f, "r", cfg_data, strlen(cfg_data), &cfg);
    tm_image(&a, &cfg, (long long)strlen(cfg_data), NULL, NULL, 1);
    tm_image(&b, &cfg, (long long)strlen(cfg_data), NULL, NULL, 2);
    assert_int_equal(put_manifest(f, "r", "old", &a, NULL), STORE_OK);
    fake_now += 1000;
    assert_int_equal(put_manifest(f, "r", "new", &b, NULL), STORE_OK);
    /*
     * a grace longer than a's age: the rules decided, and a manifest they
     * untag goes now (the next run would see it untagged, and keep it)
     */
    o = opts(&sn, 2000);
    o.retain = drop_old;
    o.dry_run = 1;
    assert_int_equal(store_gc(f->s, &o, &st), STORE_OK);
    assert_int_equal(st.tags, 1);
    assert_non_null(strstr(sn.text, "tag r old"));
    /* dry, the manifest the tag leaves is shown too */
    assert_int_equal(st.manifests, 1);
    o.dry_run = 0;
    /* untagged manifests stay, but not one the rules untagged now */
    assert_int_equal(store_gc(f->s, &o, &st), STORE_OK);
    assert_int_equal(st.tags, 1);
    assert_int_equal(st.manifests, 1); /* a */
    assert_int_equal(store_manifest_get(f->s, "r", "old", NULL, NULL, &info),
                     STORE_NOTFOUND);
    assert_int_equal(store_manifest_get(f->s, "r", "new", NULL, NULL, &info),
                     STORE_OK);
    tm_release(&a);
    tm_release(&b);
}

/*
 * Crash leftovers: a file in blobs/ without a record goes after grace; a
 * file in trash/ without a record goes; one whose record is there goes
 * back; empty fan-out directories go.
 */
static void test_leftovers(void **state)
{
    struct fixture *f = *state;
    unsigned char *data = pattern(3000, 4);
    char path[PATH_MAX], trash[PATH_MAX + 64];
    struct store_gc_stats st;
    struct store_gc_options o;
    struct timeval old[2] = {{1000, 0}, {1000, 0}};
    struct seen sn;
    struct digest orphan, kept;
    int fd;

    memset(&sn, 0, sizeof(sn));
    /* an orphan: the content of a blob, without its record */
    digest_of(DIGEST_SHA256, data, 3000, &orphan);
    assert_int_equal(store_blob_path(f->s, &orphan, path, sizeof(path), NULL),
                     STORE_OK);
    *strrchr(path, '/') = '\0';
    assert_int_equal(mkdir_p(path, 0755), 0);
    assert_int_equal(store_blob_path(f->s, &orphan, path, sizeof(path), NULL),
                     STORE_OK);
    fd = open(path, O_WRONLY | O_CREAT, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, 3000), 3000);
    close(fd);
    /* a blob whose file a crash left in trash/ */
    put_blob(f, "r", data + 1, 2000, &kept);
    assert_int_equal(store_blob_path(f->s, &kept, path, sizeof(path), NULL),
                     STORE_OK);
    snprintf(trash, sizeof(trash), "%s/trash/sha256-%s", f->root, kept.hex);
    assert_int_equal(rename(path, trash), 0);
    /* and one without a record */
    snprintf(trash, sizeof(trash), "%s/trash/sha256-%s", f->root, orphan.hex);
    fd = open(trash, O_WRONLY | O_CREAT, 0644);
    assert_true(fd >= 0);
    close(fd);

    o = opts(&sn, 3600);
    /* the orphan is new: it may be an upload's, committing */
    assert_int_equal(store_gc(f->s, &o, &st), STORE_OK);
    assert_int_equal(st.orphans, 0);
    assert_int_equal(st.trash, 1);
    assert_true(has_file(f, &kept)); /* put back */
    assert_true(linked(f, "r", &kept));
    assert_int_equal(store_blob_path(f->s, &orphan, path, sizeof(path), NULL),
                     STORE_OK);
    assert_int_equal(utimes(path, old), 0);
    assert_int_equal(store_gc(f->s, &o, &st), STORE_OK);
    assert_int_equal(st.orphans, 1);
    assert_int_equal(st.bytes, 3000);
    assert_false(has_file(f, &orphan));
    *strrchr(path, '/') = '\0';
    assert_int_equal(access(path, F_OK), -1); /* its directory too */
    assert_int_equal(errno, ENOENT);
    free(data);
}

/* One GC at a time; a dry run changes nothing; the end is recorded. */
static void test_lock_dry_last(void **state)
{
    struct fixture *f = *state;
    char path[PATH_MAX];
    struct store_gc_stats st;
    struct store_gc_options o;
    struct seen sn;
    struct digest d;
    long long when = -1;
    int fd;

    memset(&sn, 0, sizeof(sn));
    put_blob(f, "r", "x", 1, &d);
    fake_now += STORE_ASK_HOLD;
    assert_int_equal(store_gc_last(f->s, &when), STORE_OK);
    assert_int_equal(when, 0);
    o = opts(&sn, 0);
    o.dry_run = 1;
    assert_int_equal(store_gc(f->s, &o, &st), STORE_OK);
    assert_int_equal(st.links, 1);
    assert_true(linked(f, "r", &d));
    assert_int_equal(store_gc_last(f->s, &when), STORE_OK);
    assert_int_equal(when, 0);

    snprintf(path, sizeof(path), "%s/gc.lock", f->root);
    fd = open(path, O_RDWR | O_CREAT, 0644);
    assert_true(fd >= 0);
    assert_int_equal(flock(fd, LOCK_EX), 0);
    o.dry_run = 0;
    /* the lock is flock()'s, per open file: this open is another GC */
    assert_int_equal(store_gc(f->s, &o, &st), STORE_LOCKED);
    close(fd);
    assert_int_equal(store_gc(f->s, &o, &st), STORE_OK);
    assert_false(linked(f, "r", &d));
    assert_int_equal(store_gc_last(f->s, &when), STORE_OK);
    assert_int_equal(when, fake_now);
}

static int gc_teardown(void **state)
{
    return teardown(state);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, gc_setup, gc_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_shared_layers),     T(test_ask_holds),
        T(test_last_link),         T(test_touch_protects),
        T(test_push_during_sweep), T(test_untagged),
        T(test_retention),         T(test_leftovers),
        T(test_grace_from_delete), T(test_lock_dry_last),
        T(test_released_by_gc),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
