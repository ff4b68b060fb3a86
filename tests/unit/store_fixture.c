/* tests/unit/store_fixture.c: see store_fixture.h */
#include "config.h"

#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "tests/unit/store_fixture.h"
#include "util/manifest.h"

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw)
{
    return remove(path);
}

/* every blob a file: the tests look at them */
const struct store_options file_blobs = {
    .map_size = MAP_SIZE, .flags = 0, .inline_max = -1};

int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    if (!f)
        return -1;
    snprintf(f->root, sizeof(f->root), "%s", "/tmp/berth-test-store-XXXXXX");
    if (!mkdtemp(f->root) ||
        store_open(f->root, &file_blobs, &f->s) != STORE_OK) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

int teardown(void **state)
{
    struct fixture *f = *state;

    store_close(f->s);
    nftw(f->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

long mem_read(void *ctx, char *buf, size_t len)
{
    struct mem_body *m = ctx;
    size_t n = m->len - m->off;

    if (m->fail_at >= 0 && (long long)m->off >= m->fail_at)
        return -1;
    if (n == 0) {
        m->calls_after_end++;
        return 0;
    }
    if (n > len)
        n = len;
    if (n > m->max_read)
        n = m->max_read;
    if (m->fail_at >= 0 && (long long)(m->off + n) > m->fail_at)
        n = (size_t)(m->fail_at - (long long)m->off);
    memcpy(buf, m->data + m->off, n);
    m->off += n;
    return (long)n;
}

/*
 * A body over data[0..len) read in pieces of at most 7 bytes, announcing
 * `announced` bytes (-1: unknown), failing at fail_at (-1: never).
 */
void body_init(struct store_body *b, struct mem_body *m, const void *data,
               size_t len, long long announced, long long fail_at)
{
    memset(m, 0, sizeof(*m));
    m->data = data;
    m->len = len;
    m->max_read = 7;
    m->fail_at = fail_at;
    b->read = mem_read;
    b->ctx = m;
    b->length = announced;
}

/* --- helpers --- */

/* n deterministic bytes, different for each seed. */
unsigned char *pattern(size_t n, unsigned seed)
{
    unsigned char *p = malloc(n ? n : 1);
    uint32_t x = 2463534242u ^ seed;
    size_t i;

    assert_non_null(p);
    for (i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (unsigned char)x;
    }
    return p;
}

void digest_of(enum digest_alg alg, const void *data, size_t len,
               struct digest *out)
{
    struct hasher h;

    hasher_init(&h, alg);
    hasher_update(&h, data, len);
    hasher_final(&h, out);
}

int append(struct fixture *f, const char *repo, const char *id, long long start,
           const void *data, size_t len, long long *size)
{
    struct store_body b;
    struct mem_body m;

    body_init(&b, &m, data, len, (long long)len, -1);
    return store_upload_append(f->s, repo, id, start, &b, size);
}

/* Upload data as one blob of repo; return its digest in *d. */
void put_blob(struct fixture *f, const char *repo, const void *data, size_t len,
              struct digest *d)
{
    char id[UPLOAD_ID_LEN + 1];
    long long size = -1;

    digest_of(DIGEST_SHA256, data, len, d);
    assert_int_equal(store_upload_begin(f->s, repo, "", id), STORE_OK);
    assert_int_equal(append(f, repo, id, 0, data, len, &size), STORE_OK);
    assert_int_equal(size, (long long)len);
    size = -1;
    assert_int_equal(store_upload_finish(f->s, repo, id, NULL, d, &size),
                     STORE_OK);
    assert_int_equal(size, (long long)len);
}

void tm_parse(struct tm *t)
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
void tm_image(struct tm *t, const struct digest *cfg, long long csize,
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

void tm_index(struct tm *t, const struct tm *a, const struct tm *b)
{
    snprintf(t->body, sizeof(t->body),
             "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"manifests\":["
             "{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu},"
             "{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu}]}",
             MT_OCI_INDEX, MT_OCI_MANIFEST, a->dstr, a->len, MT_OCI_MANIFEST,
             b->dstr, b->len);
    tm_parse(t);
}

void tm_release(struct tm *t)
{
    manifest_release(&t->m);
    free(t->referrer);
    t->referrer = NULL;
}

int put_manifest(struct fixture *f, const char *repo, const char *tag,
                 struct tm *t, struct digest *missing)
{
    struct store_manifest mf = {&t->d, t->body, t->len, &t->m, t->referrer};
    struct digest dummy;

    return store_manifest_put(f->s, repo, tag, &mf, missing ? missing : &dummy);
}
