/*
 * tests/unit/test_store_manifest.c: manifests, tags, the catalog and
 * referrers in store/ (store/manifest.c, store/repo.c), a fresh store per
 * test.
 */
#include "config.h"

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store/store.h"
#include "tests/unit/store_fixture.h"
#include "util/manifest.h"

/* A manifest made for a test: its body, parse and digest. */
struct tm {
    char body[8192];
    size_t len;
    struct manifest m;
    struct digest d;
    char dstr[DIGEST_STR_MAX];
    char *referrer;
};

static void tm_parse(struct tm *t)
{
    char why[256];

    t->len = strlen(t->body);
    memset(&t->m, 0, sizeof(t->m));
    if (manifest_parse(t->body, t->len, NULL, &t->m, why, sizeof(why)))
        fail_msg("test manifest refused: %s", why);
    digest_of(DIGEST_SHA256, t->body, t->len, &t->d);
    digest_format(&t->d, t->dstr);
    t->referrer = t->m.has_subject ? manifest_descriptor_json(&t->m, &t->d,
                                                              (long long)t->len)
                                   : NULL;
}

/*
 * An image manifest with config cfg (size csize), an optional subject and
 * artifactType, and a salt that makes each one distinct.
 */
static void tm_image(struct tm *t, const struct digest *cfg, long long csize,
                     const struct tm *subject, const char *atype, int salt)
{
    char c[DIGEST_STR_MAX], subj[512] = "", at[300] = "";

    digest_format(cfg, c);
    if (subject)
        snprintf(subj, sizeof(subj),
                 ",\"subject\":{\"mediaType\":\"%s\",\"digest\":\"%s\","
                 "\"size\":%zu}",
                 MT_OCI_MANIFEST, subject->dstr, subject->len);
    if (atype)
        snprintf(at, sizeof(at), ",\"artifactType\":\"%s\"", atype);
    snprintf(t->body, sizeof(t->body),
             "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{"
             "\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
             "\"digest\":\"%s\",\"size\":%lld},\"layers\":[],"
             "\"annotations\":{\"salt\":\"%d\"}%s%s}",
             MT_OCI_MANIFEST, c, csize, salt, subj, at);
    tm_parse(t);
}

static void tm_index(struct tm *t, const struct tm *a, const struct tm *b)
{
    snprintf(t->body, sizeof(t->body),
             "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"manifests\":["
             "{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu},"
             "{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu}]}",
             MT_OCI_INDEX, MT_OCI_MANIFEST, a->dstr, a->len, MT_OCI_MANIFEST,
             b->dstr, b->len);
    tm_parse(t);
}

static void tm_release(struct tm *t)
{
    manifest_release(&t->m);
    free(t->referrer);
    t->referrer = NULL;
}

static int put(struct fixture *f, const char *repo, const char *tag,
               struct tm *t, struct digest *missing)
{
    struct store_manifest mf = {&t->d, t->body, t->len, &t->m, t->referrer};
    struct digest dummy;

    return store_manifest_put(f->s, repo, tag, &mf, missing ? missing : &dummy);
}

/* Assert that repo serves t under tag (or by digest when tag is NULL). */
static void assert_manifest(struct fixture *f, const char *repo,
                            const char *tag, const struct tm *t)
{
    struct store_manifest_info info;
    struct buf b;

    buf_init(&b, 1 << 20);
    assert_int_equal(
        store_manifest_get(f->s, repo, tag, tag ? NULL : &t->d, &b, &info),
        STORE_OK);
    assert_int_equal(b.len, t->len);
    assert_memory_equal(b.ptr, t->body, t->len);
    assert_true(digest_equal(&info.digest, &t->d));
    assert_int_equal(info.size, (long long)t->len);
    assert_string_equal(info.media_type, t->m.media_type);
    buf_release(&b);
}

static int get_rc(struct fixture *f, const char *repo, const char *tag,
                  const struct digest *d)
{
    struct store_manifest_info info;

    return store_manifest_get(f->s, repo, tag, tag ? NULL : d, NULL, &info);
}

/* --- listings into a string "a,b,c" --- */

struct list {
    char s[65536];
    int n;
};

static int collect(void *ctx, const char *s, size_t len)
{
    struct list *l = ctx;
    size_t at = strlen(l->s);

    if (at + len + 2 > sizeof(l->s))
        return STORE_TOOBIG;
    if (l->n++)
        l->s[at++] = ',';
    memcpy(l->s + at, s, len);
    l->s[at + len] = '\0';
    return 0;
}

static const char *tags(struct fixture *f, const char *repo, const char *last,
                        long n, int *more)
{
    static struct list l;

    memset(&l, 0, sizeof(l));
    assert_int_equal(store_tags_list(f->s, repo, last, n, collect, &l, more),
                     STORE_OK);
    return l.s;
}

static const char *catalog(struct fixture *f, const char *last, long n,
                           int *more)
{
    static struct list l;

    memset(&l, 0, sizeof(l));
    assert_int_equal(store_catalog_list(f->s, last, n, collect, &l, more),
                     STORE_OK);
    return l.s;
}

/* --- tests --- */

static const char cfg_data[] = "{\"architecture\":\"amd64\",\"os\":\"linux\"}";

/* Put the config blob into repo; its digest in *cfg. */
static void config_blob(struct fixture *f, const char *repo, struct digest *cfg)
{
    put_blob(f, repo, cfg_data, strlen(cfg_data), cfg);
}

static void test_put_get(void **state)
{
    struct fixture *f = *state;
    struct digest cfg;
    struct tm t;
    int more;

    config_blob(f, "a/b", &cfg);
    tm_image(&t, &cfg, (long long)strlen(cfg_data), NULL, NULL, 1);
    assert_int_equal(put(f, "a/b", "v1", &t, NULL), STORE_OK);
    assert_manifest(f, "a/b", "v1", &t);
    assert_manifest(f, "a/b", NULL, &t);
    assert_int_equal(get_rc(f, "a/b", "v2", NULL), STORE_NOTFOUND);
    /* a body buffer too small for it: STORE_TOOBIG, the buffer as it was */
    {
        struct store_manifest_info info;
        struct buf small;

        buf_init(&small, 16);
        assert_int_equal(buf_adds(&small, "before"), 0);
        memset(&info, 0x5a, sizeof(info));
        assert_int_equal(
            store_manifest_get(f->s, "a/b", "v1", NULL, &small, &info),
            STORE_TOOBIG);
        assert_string_equal(buf_str(&small), "before");
        assert_int_equal(info.size, 0x5a5a5a5a5a5a5a5aLL);
        buf_release(&small);
    }
    assert_int_equal(get_rc(f, "a/c", "v1", NULL), STORE_NOTFOUND);
    assert_int_equal(get_rc(f, "a/c", NULL, &t.d), STORE_NOTFOUND);
    /* again, and by digest only: same record, nothing doubles */
    assert_int_equal(put(f, "a/b", "v1", &t, NULL), STORE_OK);
    assert_int_equal(put(f, "a/b", NULL, &t, NULL), STORE_OK);
    assert_string_equal(tags(f, "a/b", NULL, 100, &more), "v1");
    assert_int_equal(more, 0);
    tm_release(&t);
}

static void test_missing_references(void **state)
{
    struct fixture *f = *state;
    struct digest cfg, missing, other;
    struct tm t, u, idx;
    char m[DIGEST_STR_MAX], d[DIGEST_STR_MAX];
    int more;

    digest_of(DIGEST_SHA256, cfg_data, strlen(cfg_data), &cfg);
    tm_image(&t, &cfg, (long long)strlen(cfg_data), NULL, NULL, 1);
    assert_int_equal(put(f, "a/b", "v1", &t, &missing), STORE_BLOB_MISSING);
    assert_true(digest_equal(&missing, &cfg));
    /* refused: no tag, no manifest, no repository */
    assert_int_equal(get_rc(f, "a/b", "v1", NULL), STORE_NOTFOUND);
    assert_int_equal(store_repo_exists(f->s, "a/b"), STORE_NOTFOUND);
    assert_string_equal(catalog(f, NULL, 100, &more), "");

    /* in another repository only: still missing here */
    config_blob(f, "x/y", &other);
    assert_int_equal(put(f, "a/b", "v1", &t, &missing), STORE_BLOB_MISSING);

    /* a descriptor that claims another size */
    config_blob(f, "a/b", &cfg);
    tm_image(&u, &cfg, 999, NULL, NULL, 2);
    assert_int_equal(put(f, "a/b", "v1", &u, &missing), STORE_SIZE_MISMATCH);

    /* an index with one child present and one not */
    assert_int_equal(put(f, "a/b", NULL, &t, NULL), STORE_OK);
    tm_release(&u);
    tm_image(&u, &cfg, (long long)strlen(cfg_data), NULL, NULL, 3);
    tm_index(&idx, &t, &u);
    assert_int_equal(put(f, "a/b", "multi", &idx, &missing),
                     STORE_MANIFEST_MISSING);
    digest_format(&missing, m);
    digest_format(&u.d, d);
    assert_string_equal(m, d);
    assert_int_equal(put(f, "a/b", NULL, &u, NULL), STORE_OK);
    assert_int_equal(put(f, "a/b", "multi", &idx, NULL), STORE_OK);
    assert_manifest(f, "a/b", "multi", &idx);
    tm_release(&idx);
    tm_release(&u);
    tm_release(&t);
}

static void test_tags_and_delete(void **state)
{
    struct fixture *f = *state;
    struct digest cfg;
    struct tm t, u;
    int more;

    config_blob(f, "r", &cfg);
    tm_image(&t, &cfg, (long long)strlen(cfg_data), NULL, NULL, 1);
    tm_image(&u, &cfg, (long long)strlen(cfg_data), NULL, NULL, 2);
    assert_int_equal(put(f, "r", "a", &t, NULL), STORE_OK);
    assert_int_equal(put(f, "r", "b", &t, NULL), STORE_OK);
    assert_int_equal(put(f, "r", "c", &t, NULL), STORE_OK);
    /* move c to u */
    assert_int_equal(put(f, "r", "c", &u, NULL), STORE_OK);
    assert_manifest(f, "r", "c", &u);
    /* delete tag a: t stays, and so does b */
    assert_int_equal(store_tag_delete(f->s, "r", "a"), STORE_OK);
    assert_int_equal(store_tag_delete(f->s, "r", "a"), STORE_NOTFOUND);
    assert_int_equal(get_rc(f, "r", "a", NULL), STORE_NOTFOUND);
    assert_manifest(f, "r", NULL, &t);
    assert_manifest(f, "r", "b", &t);
    /* delete t: b goes with it, c (moved) stays */
    assert_int_equal(store_manifest_delete(f->s, "r", &t.d), STORE_OK);
    assert_int_equal(store_manifest_delete(f->s, "r", &t.d), STORE_NOTFOUND);
    assert_int_equal(get_rc(f, "r", NULL, &t.d), STORE_NOTFOUND);
    assert_int_equal(get_rc(f, "r", "b", NULL), STORE_NOTFOUND);
    assert_manifest(f, "r", "c", &u);
    assert_string_equal(tags(f, "r", NULL, 100, &more), "c");
    /* push t again at once */
    assert_int_equal(put(f, "r", "b", &t, NULL), STORE_OK);
    assert_manifest(f, "r", "b", &t);
    assert_string_equal(tags(f, "r", NULL, 100, &more), "b,c");
    tm_release(&u);
    tm_release(&t);
}

static void test_tag_pages(void **state)
{
    struct fixture *f = *state;
    struct digest cfg;
    char tag[16];
    struct tm t;
    int i, more;

    config_blob(f, "p", &cfg);
    config_blob(f, "p/q", &cfg); /* a repo whose name extends "p" */
    tm_image(&t, &cfg, (long long)strlen(cfg_data), NULL, NULL, 1);
    for (i = 24; i >= 0; i--) {
        snprintf(tag, sizeof(tag), "t%02d", i);
        assert_int_equal(put(f, "p", tag, &t, NULL), STORE_OK);
    }
    assert_int_equal(put(f, "p/q", "zz", &t, NULL), STORE_OK);
    assert_string_equal(tags(f, "p", NULL, 3, &more), "t00,t01,t02");
    assert_int_equal(more, 1);
    assert_string_equal(tags(f, "p", "t02", 3, &more), "t03,t04,t05");
    assert_string_equal(tags(f, "p", "t225", 2, &more), "t23,t24");
    assert_int_equal(more, 0);
    assert_string_equal(tags(f, "p", "t24", 5, &more), "");
    assert_int_equal(more, 0);
    assert_string_equal(tags(f, "p", NULL, 0, &more), "");
    assert_int_equal(more, 1);
    assert_string_equal(tags(f, "p", "t20", 100, &more), "t21,t22,t23,t24");
    assert_string_equal(tags(f, "p/q", NULL, 100, &more), "zz");
    more = 7;
    assert_int_equal(
        store_tags_list(f->s, "nope", NULL, 10, collect, NULL, &more),
        STORE_NOTFOUND);
    assert_int_equal(more, 7); /* written only on success */
    /* a listing fn that refuses ends the walk with its code */
    {
        struct list l;

        memset(&l, 0, sizeof(l));
        memset(l.s, 'x', sizeof(l.s) - 2); /* room for nothing more */
        assert_int_equal(
            store_tags_list(f->s, "p", NULL, 10, collect, &l, &more),
            STORE_TOOBIG);
        assert_int_equal(more, 7);
    }
    tm_release(&t);
}

static void test_catalog(void **state)
{
    struct fixture *f = *state;
    struct digest cfg, d;
    struct tm t;
    int more;

    config_blob(f, "b", &cfg);
    config_blob(f, "a", &cfg);
    config_blob(f, "c/d", &cfg);
    assert_string_equal(catalog(f, NULL, 100, &more), "a,b,c/d");
    assert_string_equal(catalog(f, NULL, 2, &more), "a,b");
    assert_int_equal(more, 1);
    assert_string_equal(catalog(f, "b", 2, &more), "c/d");
    assert_int_equal(more, 0);

    /* b gets a manifest, then loses it: b leaves the catalog */
    tm_image(&t, &cfg, (long long)strlen(cfg_data), NULL, NULL, 1);
    assert_int_equal(put(f, "b", "x", &t, NULL), STORE_OK);
    assert_int_equal(store_manifest_delete(f->s, "b", &t.d), STORE_OK);
    assert_string_equal(catalog(f, NULL, 100, &more), "a,c/d");
    /* but is still known: it has a blob */
    assert_int_equal(store_repo_exists(f->s, "b"), STORE_OK);
    /* a new blob brings it back */
    put_blob(f, "b", "new", 3, &d);
    assert_string_equal(catalog(f, NULL, 100, &more), "a,b,c/d");
    /* with nothing left it is gone */
    assert_int_equal(store_blob_delete(f->s, "b", &cfg), STORE_OK);
    assert_int_equal(store_blob_delete(f->s, "b", &d), STORE_OK);
    assert_int_equal(store_repo_exists(f->s, "b"), STORE_NOTFOUND);
    assert_string_equal(catalog(f, NULL, 100, &more), "a,c/d");
    tm_release(&t);
}

static void test_referrers(void **state)
{
    struct fixture *f = *state;
    struct digest cfg;
    struct tm subj, sbom, sig;
    struct list l;

    config_blob(f, "r", &cfg);
    tm_image(&subj, &cfg, (long long)strlen(cfg_data), NULL, NULL, 1);
    tm_image(&sbom, &cfg, (long long)strlen(cfg_data), &subj,
             "application/x.sbom", 2);
    tm_image(&sig, &cfg, (long long)strlen(cfg_data), &subj, NULL, 3);
    /* referrers first, subject later: allowed */
    assert_int_equal(put(f, "r", NULL, &sbom, NULL), STORE_OK);
    assert_int_equal(put(f, "r", NULL, &sig, NULL), STORE_OK);

    memset(&l, 0, sizeof(l));
    assert_int_equal(store_referrers(f->s, "r", &subj.d, NULL, collect, &l),
                     STORE_OK);
    assert_int_equal(l.n, 2);
    assert_non_null(strstr(l.s, sbom.dstr));
    assert_non_null(strstr(l.s, sig.dstr));
    assert_non_null(strstr(l.s, "\"artifactType\":\"application/x.sbom\""));

    memset(&l, 0, sizeof(l));
    assert_int_equal(
        store_referrers(f->s, "r", &subj.d, "application/x.sbom", collect, &l),
        STORE_OK);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.s, sbom.referrer);

    memset(&l, 0, sizeof(l));
    assert_int_equal(store_referrers(f->s, "other", &subj.d, NULL, collect, &l),
                     STORE_OK);
    assert_int_equal(l.n, 0);

    assert_int_equal(store_manifest_delete(f->s, "r", &sbom.d), STORE_OK);
    memset(&l, 0, sizeof(l));
    assert_int_equal(store_referrers(f->s, "r", &subj.d, NULL, collect, &l),
                     STORE_OK);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.s, sig.referrer);
    tm_release(&sig);
    tm_release(&sbom);
    tm_release(&subj);
}

static void test_get_too_big(void **state)
{
    struct fixture *f = *state;
    struct store_manifest_info info;
    struct digest cfg;
    struct buf b;
    struct tm t;

    config_blob(f, "r", &cfg);
    tm_image(&t, &cfg, (long long)strlen(cfg_data), NULL, NULL, 1);
    assert_int_equal(put(f, "r", "v", &t, NULL), STORE_OK);
    buf_init(&b, 10);
    assert_int_equal(store_manifest_get(f->s, "r", "v", NULL, &b, &info),
                     STORE_TOOBIG);
    buf_release(&b);
    tm_release(&t);
}

/* The LMDB map fills up: STORE_FULL, and what was stored stays intact. */
static void test_map_full(void **state)
{
    static const struct store_options tiny = {(size_t)1 << 20, 0, -1};
    struct fixture *f = *state;
    struct store *small;
    struct digest cfg;
    char root[PATH_MAX], tag[32];
    struct tm t;
    int i, rc = STORE_OK;

    (void)f;
    snprintf(root, sizeof(root), "%s/small", f->root);
    assert_int_equal(store_open(root, &tiny, &small), STORE_OK);
    store_close(f->s);
    f->s = small; /* teardown closes it */
    config_blob(f, "r", &cfg);
    tm_image(&t, &cfg, (long long)strlen(cfg_data), NULL, NULL, 0);
    assert_int_equal(put(f, "r", "first", &t, NULL), STORE_OK);
    tm_release(&t);
    for (i = 1; i < 100000 && rc == STORE_OK; i++) {
        snprintf(tag, sizeof(tag), "t%d", i);
        tm_image(&t, &cfg, (long long)strlen(cfg_data), NULL, NULL, i);
        rc = put(f, "r", tag, &t, NULL);
        tm_release(&t);
    }
    assert_int_equal(rc, STORE_FULL);
    assert_int_equal(get_rc(f, "r", tag, NULL), STORE_NOTFOUND);
    tm_image(&t, &cfg, (long long)strlen(cfg_data), NULL, NULL, 0);
    assert_manifest(f, "r", "first", &t);
    /* deleting makes room again */
    assert_int_equal(store_tag_delete(f->s, "r", "t1"), STORE_OK);
    tm_release(&t);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_put_get),         T(test_missing_references),
        T(test_tags_and_delete), T(test_tag_pages),
        T(test_catalog),         T(test_referrers),
        T(test_get_too_big),     T(test_map_full),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
