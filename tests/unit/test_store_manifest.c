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
#include <sys/time.h>

#include <cmocka.h>

#include "store/store_private.h"
#include "tests/unit/store_fixture.h"
#include "util/manifest.h"

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

/* collect(), leaving "a" out */
static int skip_a(void *ctx, const char *s, size_t len)
{
    if (len == 1 && s[0] == 'a')
        return STORE_LIST_SKIP;
    return collect(ctx, s, len);
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
    assert_int_equal(put_manifest(f, "a/b", "v1", &t, NULL), STORE_OK);
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
    assert_int_equal(put_manifest(f, "a/b", "v1", &t, NULL), STORE_OK);
    assert_int_equal(put_manifest(f, "a/b", NULL, &t, NULL), STORE_OK);
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
    assert_int_equal(put_manifest(f, "a/b", "v1", &t, &missing),
                     STORE_BLOB_MISSING);
    assert_true(digest_equal(&missing, &cfg));
    /* refused: no tag, no manifest, no repository */
    assert_int_equal(get_rc(f, "a/b", "v1", NULL), STORE_NOTFOUND);
    assert_int_equal(store_repo_exists(f->s, "a/b"), STORE_NOTFOUND);
    assert_string_equal(catalog(f, NULL, 100, &more), "");

    /* in another repository only: still missing here */
    config_blob(f, "x/y", &other);
    assert_int_equal(put_manifest(f, "a/b", "v1", &t, &missing),
                     STORE_BLOB_MISSING);

    /* a descriptor that claims another size */
    config_blob(f, "a/b", &cfg);
    tm_image(&u, &cfg, 999, NULL, NULL, 2);
    assert_int_equal(put_manifest(f, "a/b", "v1", &u, &missing),
                     STORE_SIZE_MISMATCH);

    /* an index with one child present and one not */
    assert_int_equal(put_manifest(f, "a/b", NULL, &t, NULL), STORE_OK);
    tm_release(&u);
    tm_image(&u, &cfg, (long long)strlen(cfg_data), NULL, NULL, 3);
    tm_index(&idx, &t, &u);
    assert_int_equal(put_manifest(f, "a/b", "multi", &idx, &missing),
                     STORE_MANIFEST_MISSING);
    digest_format(&missing, m);
    digest_format(&u.d, d);
    assert_string_equal(m, d);
    assert_int_equal(put_manifest(f, "a/b", NULL, &u, NULL), STORE_OK);
    assert_int_equal(put_manifest(f, "a/b", "multi", &idx, NULL), STORE_OK);
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
    assert_int_equal(put_manifest(f, "r", "a", &t, NULL), STORE_OK);
    assert_int_equal(put_manifest(f, "r", "b", &t, NULL), STORE_OK);
    assert_int_equal(put_manifest(f, "r", "c", &t, NULL), STORE_OK);
    /* move c to u */
    assert_int_equal(put_manifest(f, "r", "c", &u, NULL), STORE_OK);
    assert_manifest(f, "r", "c", &u);
    /* delete tag a: t stays, and so does b */
    assert_int_equal(store_tag_delete(f->s, "r", "a"), STORE_OK);
    assert_int_equal(store_tag_delete(f->s, "r", "a"), STORE_NOTFOUND);
    assert_int_equal(get_rc(f, "r", "a", NULL), STORE_NOTFOUND);
    assert_manifest(f, "r", NULL, &t);
    assert_manifest(f, "r", "b", &t);
    /* delete t: b goes with it, c (moved) stays */
    assert_int_equal(store_manifest_delete(f->s, "r", &t.d, NULL), STORE_OK);
    assert_int_equal(store_manifest_delete(f->s, "r", &t.d, NULL),
                     STORE_NOTFOUND);
    assert_int_equal(get_rc(f, "r", NULL, &t.d), STORE_NOTFOUND);
    assert_int_equal(get_rc(f, "r", "b", NULL), STORE_NOTFOUND);
    assert_manifest(f, "r", "c", &u);
    assert_string_equal(tags(f, "r", NULL, 100, &more), "c");
    /* push t again at once */
    assert_int_equal(put_manifest(f, "r", "b", &t, NULL), STORE_OK);
    assert_manifest(f, "r", "b", &t);
    assert_string_equal(tags(f, "r", NULL, 100, &more), "b,c");
    tm_release(&u);
    tm_release(&t);
}

/* store_tag_fixed_fn of the tests: tags that begin with "v1" are held */
static int v1_fixed(void *ctx, const char *repo, const char *tag)
{
    (void)repo;
    ++*(int *)ctx;
    return !strncmp(tag, "v1", 2);
}

/*
 * The tag guard: a held tag is set once, then never moved or removed, by
 * a push, a tag delete, a manifest delete or a repository delete; other
 * tags go on as before, and without the guard so does everything.
 */
static void test_tag_guard(void **state)
{
    struct fixture *f = *state;
    struct digest cfg, missing;
    struct tm t, u;
    int asked = 0, more;

    config_blob(f, "r", &cfg);
    tm_image(&t, &cfg, (long long)strlen(cfg_data), NULL, NULL, 1);
    tm_image(&u, &cfg, (long long)strlen(cfg_data), NULL, NULL, 2);
    store_set_tag_guard(f->s, v1_fixed, &asked);
    assert_int_equal(put_manifest(f, "r", "v1", &t, NULL), STORE_OK);
    assert_int_equal(put_manifest(f, "r", "v1", &t, NULL),
                     STORE_OK); /* again */
    assert_int_equal(put_manifest(f, "r", "v1", &u, &missing), STORE_TAG_FIXED);
    assert_true(digest_equal(&missing, &t.d)); /* what the tag names */
    assert_manifest(f, "r", "v1", &t);
    assert_int_equal(get_rc(f, "r", NULL, &u.d), STORE_NOTFOUND); /* none */
    assert_true(asked > 0);
    assert_int_equal(store_tag_delete(f->s, "r", "v1"), STORE_TAG_FIXED);
    assert_int_equal(store_manifest_delete(f->s, "r", &t.d, NULL),
                     STORE_TAG_FIXED);
    assert_int_equal(store_repo_delete(f->s, "r", NULL, NULL), STORE_TAG_FIXED);
    assert_manifest(f, "r", "v1", &t);
    /* other tags move and go */
    assert_int_equal(put_manifest(f, "r", "latest", &t, NULL), STORE_OK);
    assert_int_equal(put_manifest(f, "r", "latest", &u, NULL), STORE_OK);
    assert_int_equal(store_tag_delete(f->s, "r", "latest"), STORE_OK);
    assert_string_equal(tags(f, "r", NULL, 100, &more), "v1");
    /* without the guard, v1 moves */
    store_set_tag_guard(f->s, NULL, NULL);
    assert_int_equal(put_manifest(f, "r", "v1", &u, NULL), STORE_OK);
    assert_manifest(f, "r", "v1", &u);
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
        assert_int_equal(put_manifest(f, "p", tag, &t, NULL), STORE_OK);
    }
    assert_int_equal(put_manifest(f, "p/q", "zz", &t, NULL), STORE_OK);
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
    /* what the callback leaves out does not count toward n */
    {
        static struct list l;

        memset(&l, 0, sizeof(l));
        assert_int_equal(store_catalog_list(f->s, NULL, 1, skip_a, &l, &more),
                         STORE_OK);
        assert_string_equal(l.s, "b");
        assert_int_equal(more, 1);
        memset(&l, 0, sizeof(l));
        assert_int_equal(store_catalog_list(f->s, "b", 1, skip_a, &l, &more),
                         STORE_OK);
        assert_string_equal(l.s, "c/d");
        assert_int_equal(more, 0);
    }

    /* b gets a manifest, then loses it: b leaves the catalog */
    tm_image(&t, &cfg, (long long)strlen(cfg_data), NULL, NULL, 1);
    assert_int_equal(put_manifest(f, "b", "x", &t, NULL), STORE_OK);
    assert_int_equal(store_manifest_delete(f->s, "b", &t.d, NULL), STORE_OK);
    assert_string_equal(catalog(f, NULL, 100, &more), "a,c/d");
    /* but is still known: it has a blob */
    assert_int_equal(store_repo_exists(f->s, "b"), STORE_OK);
    /* a new blob brings it back */
    put_blob(f, "b", "new", 3, &d);
    assert_string_equal(catalog(f, NULL, 100, &more), "a,b,c/d");
    /* with nothing left it is gone */
    assert_int_equal(store_blob_delete(f->s, "b", &cfg, NULL), STORE_OK);
    assert_int_equal(store_blob_delete(f->s, "b", &d, NULL), STORE_OK);
    assert_int_equal(store_repo_exists(f->s, "b"), STORE_NOTFOUND);
    assert_string_equal(catalog(f, NULL, 100, &more), "a,c/d");
    tm_release(&t);
}

/* store_catalog_walk() into "name=description;..." */
static int describe_one(void *ctx, const char *name, size_t len,
                        const char *desc, size_t dlen)
{
    struct list *l = ctx;
    size_t at = strlen(l->s);

    if (at + len + dlen + 3 > sizeof(l->s))
        return STORE_TOOBIG;
    snprintf(l->s + at, sizeof(l->s) - at, "%.*s=%.*s;", (int)len, name,
             (int)dlen, desc);
    return 0;
}

static const char *descriptions(struct fixture *f)
{
    static struct list l;

    memset(&l, 0, sizeof(l));
    assert_int_equal(store_catalog_walk(f->s, describe_one, &l), STORE_OK);
    return l.s;
}

/* An image of config cfg with the annotations ann (a JSON object). */
static void tm_annotated(struct tm *t, const struct digest *cfg,
                         const char *ann)
{
    char c[DIGEST_STR_MAX];

    digest_format(cfg, c);
    snprintf(t->body, sizeof(t->body),
             "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{"
             "\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
             "\"digest\":\"%s\",\"size\":%zu},\"layers\":[],"
             "\"annotations\":%s}",
             MT_OCI_MANIFEST, c, strlen(cfg_data), ann);
    tm_parse(t);
}

static void test_catalog_descriptions(void **state)
{
    struct fixture *f = *state;
    struct digest cfg, d;
    struct tm desc, plain, title, untagged;

    config_blob(f, "a", &cfg);
    config_blob(f, "b", &cfg);
    assert_string_equal(descriptions(f), "a=;b=;");
    tm_annotated(&desc, &cfg,
                 "{\"org.opencontainers.image.description\":\"Hello\"}");
    tm_annotated(&plain, &cfg, "{\"k\":\"v\"}");
    tm_annotated(&title, &cfg, "{\"org.opencontainers.image.title\":\"T\"}");
    tm_annotated(&untagged, &cfg,
                 "{\"org.opencontainers.image.description\":\"By digest\"}");

    /* a tagged push with a description describes the repository */
    assert_int_equal(put_manifest(f, "a", "v1", &desc, NULL), STORE_OK);
    assert_string_equal(descriptions(f), "a=Hello;b=;");
    /* one without leaves it, as does one by digest, and a new blob */
    assert_int_equal(put_manifest(f, "a", "v2", &plain, NULL), STORE_OK);
    assert_int_equal(put_manifest(f, "a", NULL, &untagged, NULL), STORE_OK);
    put_blob(f, "a", "more", 4, &d);
    assert_string_equal(descriptions(f), "a=Hello;b=;");
    /* a later tagged push with a title replaces it */
    assert_int_equal(put_manifest(f, "a", "v3", &title, NULL), STORE_OK);
    assert_string_equal(descriptions(f), "a=T;b=;");
    /* the key-only listing is unchanged */
    {
        int more;

        assert_string_equal(catalog(f, NULL, 100, &more), "a,b");
    }
    /* a repository that leaves the catalog comes back without one */
    assert_int_equal(store_repo_delete(f->s, "a", NULL, NULL), STORE_OK);
    put_blob(f, "a", "new", 3, &d);
    assert_string_equal(descriptions(f), "a=;b=;");
    tm_release(&desc);
    tm_release(&plain);
    tm_release(&title);
    tm_release(&untagged);
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
    assert_int_equal(put_manifest(f, "r", NULL, &sbom, NULL), STORE_OK);
    assert_int_equal(put_manifest(f, "r", NULL, &sig, NULL), STORE_OK);

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

    assert_int_equal(store_manifest_delete(f->s, "r", &sbom.d, NULL), STORE_OK);
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
    assert_int_equal(put_manifest(f, "r", "v", &t, NULL), STORE_OK);
    buf_init(&b, 10);
    assert_int_equal(store_manifest_get(f->s, "r", "v", NULL, &b, &info),
                     STORE_TOOBIG);
    buf_release(&b);
    tm_release(&t);
}

/* The LMDB map fills up: STORE_FULL, and what was stored stays intact. */
static void test_map_full(void **state)
{
    static const struct store_options tiny = {
        .map_size = (size_t)1 << 20, .flags = 0, .inline_max = -1};
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
    assert_int_equal(put_manifest(f, "r", "first", &t, NULL), STORE_OK);
    tm_release(&t);
    for (i = 1; i < 100000 && rc == STORE_OK; i++) {
        snprintf(tag, sizeof(tag), "t%d", i);
        tm_image(&t, &cfg, (long long)strlen(cfg_data), NULL, NULL, i);
        rc = put_manifest(f, "r", tag, &t, NULL);
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

/* Put tagged manifests t0, t1... into r until one fails; their count. */
static int fill_tags(struct fixture *f, const struct digest *cfg, int max,
                     int *rc)
{
    char tag[32];
    struct tm t;
    int i;

    *rc = STORE_OK;
    for (i = 0; i < max && *rc == STORE_OK; i++) {
        snprintf(tag, sizeof(tag), "t%d", i);
        tm_image(&t, cfg, (long long)strlen(cfg_data), NULL, NULL, i);
        *rc = put_manifest(f, "r", tag, &t, NULL);
        tm_release(&t);
    }
    return *rc == STORE_OK ? i : i - 1;
}

/* The map in use of env, in bytes. */
static size_t map_of(MDB_env *env)
{
    MDB_envinfo info;

    assert_int_equal(mdb_env_info(env, &info), 0);
    return info.me_mapsize;
}

/*
 * A map that fills grows, up to map_size_max: what fits in a 1M map goes
 * many times over in one that may grow to 64M, and a store that reopens
 * (another process) reads it all; at the most, STORE_FULL.
 */
static void test_map_grows(void **state)
{
    static const struct store_options grows = {.map_size = (size_t)1 << 20,
                                               .inline_max = -1,
                                               .map_size_max = (size_t)64
                                                               << 20};
    static const struct store_options capped = {.map_size = (size_t)1 << 20,
                                                .inline_max = -1,
                                                .map_size_max = (size_t)2
                                                                << 20};
    struct fixture *f = *state;
    struct store *other;
    struct digest cfg;
    char root[PATH_MAX];
    int n, rc;

    snprintf(root, sizeof(root), "%s/grows", f->root);
    assert_int_equal(store_open(root, &grows, &other), STORE_OK);
    store_close(f->s);
    f->s = other; /* teardown closes it */
    config_blob(f, "r", &cfg);
    n = fill_tags(f, &cfg, 4000, &rc);
    assert_int_equal(rc, STORE_OK);
    assert_int_equal(n, 4000);
    assert_true(map_of(f->s->env) > (size_t)2 << 20);
    assert_true(map_of(f->s->env) <= (size_t)64 << 20);
    /* opened again with the small map: LMDB maps what is there */
    store_close(f->s);
    f->s = NULL;
    assert_int_equal(store_open(root, &grows, &f->s), STORE_OK);
    assert_int_equal(get_rc(f, "r", "t3999", NULL), STORE_OK);
    assert_int_equal(fill_tags(f, &cfg, 10, &rc), 10);

    snprintf(root, sizeof(root), "%s/capped", f->root);
    assert_int_equal(store_open(root, &capped, &other), STORE_OK);
    store_close(f->s);
    f->s = other;
    config_blob(f, "r", &cfg);
    n = fill_tags(f, &cfg, 100000, &rc);
    assert_int_equal(rc, STORE_FULL);
    assert_true(n > 0);
    assert_int_equal(map_of(f->s->env), (size_t)2 << 20);
}

/* --- format 2: what references what, times, the upgrade --- */

static long long fake_now = 1700000000;

static long long fake_clock(void)
{
    return fake_now;
}

/* Deletes are refused while a manifest of the repository uses the thing. */
static void test_in_use(void **state)
{
    struct fixture *f = *state;
    struct digest cfg, user;
    struct tm a, b, idx;

    config_blob(f, "r", &cfg);
    tm_image(&a, &cfg, (long long)strlen(cfg_data), NULL, NULL, 1);
    tm_image(&b, &cfg, (long long)strlen(cfg_data), NULL, NULL, 2);
    tm_index(&idx, &a, &b);
    assert_int_equal(put_manifest(f, "r", NULL, &a, NULL), STORE_OK);
    assert_int_equal(put_manifest(f, "r", NULL, &b, NULL), STORE_OK);
    assert_int_equal(put_manifest(f, "r", "multi", &idx, NULL), STORE_OK);

    memset(&user, 0, sizeof(user));
    assert_int_equal(store_blob_delete(f->s, "r", &cfg, &user), STORE_IN_USE);
    assert_true(digest_equal(&user, &a.d) || digest_equal(&user, &b.d));
    assert_int_equal(store_manifest_delete(f->s, "r", &a.d, &user),
                     STORE_IN_USE);
    assert_true(digest_equal(&user, &idx.d));
    /* a used blob's digest is not a manifest: unknown, not in use */
    assert_int_equal(store_manifest_delete(f->s, "r", &cfg, &user),
                     STORE_NOTFOUND);
    /* the same digests in another repository are not in use there */
    config_blob(f, "s", &cfg);
    assert_int_equal(store_blob_delete(f->s, "s", &cfg, &user), STORE_OK);

    /* the index goes, then its children, then the blob they used */
    assert_int_equal(store_manifest_delete(f->s, "r", &idx.d, &user), STORE_OK);
    assert_int_equal(store_manifest_delete(f->s, "r", &a.d, &user), STORE_OK);
    assert_int_equal(store_blob_delete(f->s, "r", &cfg, &user), STORE_IN_USE);
    assert_true(digest_equal(&user, &b.d));
    assert_int_equal(store_manifest_delete(f->s, "r", &b.d, NULL), STORE_OK);
    assert_int_equal(store_blob_delete(f->s, "r", &cfg, NULL), STORE_OK);
    /* pushed again at once, and in use again */
    config_blob(f, "r", &cfg);
    assert_int_equal(put_manifest(f, "r", "a", &a, NULL), STORE_OK);
    assert_int_equal(store_blob_delete(f->s, "r", &cfg, NULL), STORE_IN_USE);
    tm_release(&idx);
    tm_release(&b);
    tm_release(&a);
}

/* A repository without manifests and tags is unknown to the tags list. */
static void test_emptied_repo(void **state)
{
    struct fixture *f = *state;
    struct digest cfg;
    struct tm t;
    int more;

    config_blob(f, "r", &cfg);
    tm_image(&t, &cfg, (long long)strlen(cfg_data), NULL, NULL, 1);
    assert_int_equal(put_manifest(f, "r", "v1", &t, NULL), STORE_OK);
    assert_string_equal(tags(f, "r", NULL, 10, &more), "v1");
    assert_int_equal(store_manifest_delete(f->s, "r", &t.d, NULL), STORE_OK);
    /* the config blob is still linked, until GC */
    assert_int_equal(store_repo_exists(f->s, "r"), STORE_OK);
    assert_int_equal(store_tags_list(f->s, "r", NULL, 10, collect, NULL, &more),
                     STORE_NOTFOUND);
    assert_string_equal(catalog(f, NULL, 10, &more), "");
    tm_release(&t);
}

/* The link record of repo to d. */
static struct link_rec link_of(struct fixture *f, const char *repo,
                               const struct digest *d)
{
    char kbuf[LINK_KEY_MAX];
    struct link_rec rec;
    MDB_txn *txn;
    MDB_val key, val;

    store_link_key(kbuf, repo, d, &key);
    assert_int_equal(mdb_txn_begin(f->s->env, NULL, MDB_RDONLY, &txn), 0);
    assert_int_equal(mdb_get(txn, f->s->links, &key, &val), 0);
    assert_int_equal(val.mv_size, sizeof(rec));
    memcpy(&rec, val.mv_data, sizeof(rec));
    mdb_txn_abort(txn);
    return rec;
}

/*
 * The two times of a link: a client's ask (an upload, a mount, a GET or
 * HEAD while no manifest uses the blob; written at most every few
 * seconds), cleared once a manifest uses it; and its release, when it is
 * made or the last manifest that used it goes.
 */
static void test_ask_release(void **state)
{
    struct fixture *f = *state;
    struct store_blob *b = NULL;
    struct digest cfg;
    struct tm t;
    long long t0 = 1700000000;

    f->s->clock = fake_clock;
    fake_now = t0;
    config_blob(f, "r", &cfg);
    assert_int_equal(link_of(f, "r", &cfg).asked, t0);
    assert_int_equal(link_of(f, "r", &cfg).released, t0);
    fake_now += 3; /* within the slack: not written again */
    assert_int_equal(store_blob_open(f->s, "r", &cfg, STORE_BLOB_TOUCH, &b),
                     STORE_OK);
    store_blob_close(b);
    assert_int_equal(link_of(f, "r", &cfg).asked, t0);
    fake_now += 100; /* no flag: a read */
    assert_int_equal(store_blob_open(f->s, "r", &cfg, 0, &b), STORE_OK);
    store_blob_close(b);
    assert_int_equal(link_of(f, "r", &cfg).asked, t0);
    assert_int_equal(store_blob_open(f->s, "r", &cfg, STORE_BLOB_TOUCH, &b),
                     STORE_OK);
    store_blob_close(b);
    assert_int_equal(link_of(f, "r", &cfg).asked, fake_now);
    /* a mount, an upload of the same content: asks too */
    fake_now += 1000;
    assert_int_equal(store_blob_mount(f->s, "r", "r", &cfg, &(long long){0}),
                     STORE_OK);
    assert_int_equal(link_of(f, "r", &cfg).asked, fake_now);
    fake_now += 1000;
    config_blob(f, "r", &cfg);
    assert_int_equal(link_of(f, "r", &cfg).asked, fake_now);
    assert_int_equal(link_of(f, "r", &cfg).released, t0);
    /* a manifest uses it: the ask is over, and asking writes nothing */
    tm_image(&t, &cfg, (long long)strlen(cfg_data), NULL, NULL, 1);
    assert_int_equal(put_manifest(f, "r", "v1", &t, NULL), STORE_OK);
    assert_int_equal(link_of(f, "r", &cfg).asked, 0);
    fake_now += 1000;
    assert_int_equal(store_blob_open(f->s, "r", &cfg, STORE_BLOB_TOUCH, &b),
                     STORE_OK);
    store_blob_close(b);
    assert_int_equal(link_of(f, "r", &cfg).asked, 0);
    /* the manifest goes: the blob is released */
    fake_now += 1000;
    assert_int_equal(store_manifest_delete(f->s, "r", &t.d, NULL), STORE_OK);
    assert_int_equal(link_of(f, "r", &cfg).released, fake_now);
    assert_int_equal(link_of(f, "r", &cfg).asked, 0);
    tm_release(&t);
}

/*
 * Give every entry of dbi a value of cut bytes fewer, taken from offset
 * at: the values of format 1, from format 2's. The entries are read first
 * and written after, so that no cursor walks what changes.
 */
static void shrink_values(MDB_txn *txn, MDB_dbi dbi, size_t at, size_t cut)
{
    MDB_cursor *cur;
    MDB_val key, val;
    char *keys[64], *vals[64];
    size_t klen[64], vlen[64], n = 0, i;
    int rc;

    assert_int_equal(mdb_cursor_open(txn, dbi, &cur), 0);
    for (rc = mdb_cursor_get(cur, &key, &val, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
        assert_true(n < 64 && val.mv_size >= at + cut);
        keys[n] = malloc(key.mv_size);
        vals[n] = malloc(val.mv_size);
        memcpy(keys[n], key.mv_data, key.mv_size);
        memcpy(vals[n], val.mv_data, at);
        memcpy(vals[n] + at, (char *)val.mv_data + at + cut,
               val.mv_size - at - cut);
        klen[n] = key.mv_size;
        vlen[n++] = val.mv_size - cut;
    }
    mdb_cursor_close(cur);
    for (i = 0; i < n; i++) {
        key.mv_data = keys[i];
        key.mv_size = klen[i];
        val.mv_data = vals[i];
        val.mv_size = vlen[i];
        assert_int_equal(mdb_put(txn, dbi, &key, &val, 0), 0);
        free(keys[i]);
        free(vals[i]);
    }
}

/* Rewrite the format 2 store at root as format 1 would have written it. */
static void downgrade(const char *root)
{
    char path[PATH_MAX];
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi links, tags, manifests, usedby, info;
    MDB_val fmt = {6, (void *)"format"}, one = {1, (void *)"1"};

    snprintf(path, sizeof(path), "%s/meta", root);
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_set_maxdbs(env, 16), 0);
    assert_int_equal(mdb_env_set_mapsize(env, MAP_SIZE), 0);
    assert_int_equal(mdb_env_open(env, path, 0, 0640), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, "links", 0, &links), 0);
    assert_int_equal(mdb_dbi_open(txn, "tags", 0, &tags), 0);
    assert_int_equal(mdb_dbi_open(txn, "manifests", 0, &manifests), 0);
    assert_int_equal(mdb_dbi_open(txn, "usedby", MDB_DUPSORT, &usedby), 0);
    assert_int_equal(mdb_dbi_open(txn, "info", 0, &info), 0);
    shrink_values(txn, links, 0, sizeof(struct link_rec)); /* empty */
    shrink_values(txn, tags, 0, 8);                /* tags the digest alone */
    shrink_values(txn, manifests, 16, 8);          /* headers had no pushed */
    assert_int_equal(mdb_drop(txn, usedby, 1), 0); /* and no usedby */
    assert_int_equal(mdb_put(txn, info, &fmt, &one, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
}

/*
 * A format 1 root: refused by a read-only open, which names the upgrade;
 * a read-write open upgrades it, and everything reads as before, with
 * the upgrade's time as the time of everything and usedby rebuilt.
 */
static void test_upgrade_from_1(void **state)
{
    static const struct store_options ro = {
        .map_size = MAP_SIZE, .flags = STORE_RDONLY, .inline_max = -1};
    struct fixture *f = *state;
    struct digest cfg, user;
    struct store *r = NULL;
    struct tm a, b, idx;
    struct timeval tv;
    long long before;
    int more;

    config_blob(f, "r", &cfg);
    tm_image(&a, &cfg, (long long)strlen(cfg_data), NULL, NULL, 1);
    tm_image(&b, &cfg, (long long)strlen(cfg_data), &a, "application/x.sig", 2);
    tm_index(&idx, &a, &b);
    assert_int_equal(put_manifest(f, "r", "a", &a, NULL), STORE_OK);
    assert_int_equal(put_manifest(f, "r", NULL, &b, NULL), STORE_OK);
    assert_int_equal(put_manifest(f, "r", "multi", &idx, NULL), STORE_OK);
    store_close(f->s);
    f->s = NULL;
    downgrade(f->root);
    gettimeofday(&tv, NULL);
    before = tv.tv_sec - 1; /* time() is the coarse clock, a tick behind */

    assert_int_equal(store_open(f->root, &ro, &r), STORE_VERSION);
    assert_null(r);
    assert_int_equal(store_open(f->root, &file_blobs, &f->s), STORE_OK);
    assert_manifest(f, "r", "a", &a);
    assert_manifest(f, "r", NULL, &b);
    assert_manifest(f, "r", "multi", &idx);
    assert_string_equal(tags(f, "r", NULL, 10, &more), "a,multi");
    assert_int_equal(store_blob_delete(f->s, "r", &cfg, &user), STORE_IN_USE);
    assert_int_equal(store_manifest_delete(f->s, "r", &a.d, &user),
                     STORE_IN_USE);
    assert_true(digest_equal(&user, &idx.d));
    /* what format 1 did not record is the time of the upgrade */
    gettimeofday(&tv, NULL);
    assert_in_range(link_of(f, "r", &cfg).released, before, tv.tv_sec);
    assert_int_equal(link_of(f, "r", &cfg).asked, 0);
    store_close(f->s);
    /* and once is enough: read-only opens take it now */
    f->s = NULL;
    assert_int_equal(store_open(f->root, &ro, &f->s), STORE_OK);
    assert_manifest(f, "r", "multi", &idx);
    tm_release(&idx);
    tm_release(&b);
    tm_release(&a);
}

/* --- inventory --- */

static int count_repo(void *ctx, const struct store_repo_info *ri)
{
    char *out = ctx;
    char line[512];

    snprintf(line, sizeof(line), "%s%s:%lld/%lld/%lld%s", out[0] ? "," : "",
             ri->name, ri->tags, ri->manifests, ri->links,
             ri->listed ? "" : "(unlisted)");
    strcat(out, line);
    return STORE_OK;
}

static int tag_line(void *ctx, const struct store_tag_info *ti)
{
    char *out = ctx;
    char line[512], d[DIGEST_STR_MAX];

    digest_format(&ti->digest, d);
    snprintf(line, sizeof(line), "%s%s=%.19s %lld @%lld", out[0] ? "," : "",
             ti->tag, d, ti->size, ti->pushed);
    strcat(out, line);
    return STORE_OK;
}

static void test_inventory(void **state)
{
    struct fixture *f = *state;
    char out[4096] = "", want[1024];
    struct store_usage u;
    struct digest cfg, layer;
    struct tm a, b, idx;

    f->s->clock = fake_clock;
    fake_now = 1700000000;
    config_blob(f, "r", &cfg);
    config_blob(f, "s", &cfg);
    put_blob(f, "r", "a layer of 17 byte", 18, &layer);
    tm_image(&a, &cfg, (long long)strlen(cfg_data), NULL, NULL, 1);
    tm_image(&b, &cfg, (long long)strlen(cfg_data), NULL, NULL, 2);
    tm_index(&idx, &a, &b);
    assert_int_equal(put_manifest(f, "r", "a", &a, NULL), STORE_OK);
    fake_now += 10;
    assert_int_equal(put_manifest(f, "r", "b", &b, NULL), STORE_OK);
    assert_int_equal(put_manifest(f, "r", "multi", &idx, NULL), STORE_OK);

    assert_int_equal(store_repos_walk(f->s, count_repo, out), STORE_OK);
    assert_string_equal(out, "r:3/3/2,s:0/0/1");

    out[0] = '\0';
    assert_int_equal(store_tags_walk(f->s, "r", tag_line, out), STORE_OK);
    /* a: itself and its config; multi: itself, a, b and the config once */
    snprintf(want, sizeof(want),
             "a=%.19s %zu @1700000000,b=%.19s %zu @1700000010,"
             "multi=%.19s %zu @1700000010",
             a.dstr, a.len + strlen(cfg_data), b.dstr, b.len + strlen(cfg_data),
             idx.dstr, idx.len + a.len + b.len + strlen(cfg_data));
    assert_string_equal(out, want);
    out[0] = '\0';
    assert_int_equal(store_tags_walk(f->s, "s", tag_line, out), STORE_OK);
    assert_string_equal(out, "");
    assert_int_equal(store_tags_walk(f->s, "nope", tag_line, out),
                     STORE_NOTFOUND);

    /* r links the config (shared with s) and the layer (its own) */
    assert_int_equal(store_repo_usage(f->s, "r", &u), STORE_OK);
    assert_int_equal(u.blobs, 2);
    assert_int_equal(u.manifests, 3);
    assert_int_equal(
        u.total, (long long)(strlen(cfg_data) + 18 + a.len + b.len + idx.len));
    assert_int_equal(u.unique, (long long)(18 + a.len + b.len + idx.len));
    assert_int_equal(store_repo_usage(f->s, "nope", &u), STORE_NOTFOUND);
    assert_int_equal(store_usage(f->s, &u), STORE_OK);
    assert_int_equal(u.blobs, 2);
    assert_int_equal(u.total, u.unique);
    tm_release(&idx);
    tm_release(&b);
    tm_release(&a);
}

static void count_progress(void *ctx, long long done, long long total)
{
    long long *calls = ctx;

    assert_true(done <= total);
    (*calls)++;
}

/*
 * Deleting a repository: everything of it, over many transactions, an
 * index before what it lists; a blob another repository links stays.
 */
static void test_repo_delete(void **state)
{
    struct fixture *f = *state;
    struct digest cfg;
    struct tm t, idx, first;
    char tag[32], out[256] = "";
    long long calls = 0;
    struct store_blob *b = NULL;
    int i, more;

    config_blob(f, "r", &cfg);
    config_blob(f, "keep", &cfg);
    tm_image(&first, &cfg, (long long)strlen(cfg_data), NULL, NULL, 0);
    assert_int_equal(put_manifest(f, "r", "first", &first, NULL), STORE_OK);
    for (i = 1; i < 600; i++) {
        snprintf(tag, sizeof(tag), "t%d", i);
        tm_image(&t, &cfg, (long long)strlen(cfg_data), NULL, NULL, i);
        assert_int_equal(put_manifest(f, "r", tag, &t, NULL), STORE_OK);
        if (i == 599)
            tm_index(&idx, &first, &t);
        tm_release(&t);
    }
    assert_int_equal(put_manifest(f, "r", "multi", &idx, NULL), STORE_OK);
    assert_int_equal(store_repo_delete(f->s, "r", count_progress, &calls),
                     STORE_OK);
    assert_true(calls > 3); /* many transactions */
    assert_int_equal(store_repo_exists(f->s, "r"), STORE_NOTFOUND);
    assert_string_equal(catalog(f, NULL, 10, &more), "keep");
    assert_int_equal(store_repos_walk(f->s, count_repo, out), STORE_OK);
    assert_string_equal(out, "keep:0/0/1");
    assert_int_equal(store_blob_open(f->s, "keep", &cfg, 0, &b), STORE_OK);
    store_blob_close(b);
    assert_int_equal(store_repo_delete(f->s, "r", NULL, NULL), STORE_NOTFOUND);
    /* and the last link of a blob takes the blob */
    assert_int_equal(store_repo_delete(f->s, "keep", NULL, NULL), STORE_OK);
    assert_int_equal(store_usage(f->s, &(struct store_usage){0}), STORE_OK);
    {
        struct store_usage u;

        assert_int_equal(store_usage(f->s, &u), STORE_OK);
        assert_int_equal(u.blobs + u.manifests, 0);
    }
    tm_release(&idx);
    tm_release(&first);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_put_get),         T(test_missing_references),
        T(test_tags_and_delete), T(test_tag_guard),
        T(test_tag_pages),       T(test_catalog),
    T(test_catalog_descriptions),
        T(test_referrers),       T(test_get_too_big),
        T(test_map_full),        T(test_map_grows),
        T(test_in_use),          T(test_emptied_repo),
        T(test_ask_release),     T(test_upgrade_from_1),
        T(test_inventory),       T(test_repo_delete),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
