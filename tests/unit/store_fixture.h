/* tests/unit/store_fixture.h: a fresh store per test, and bodies in memory */
#ifndef BERTH_TESTS_UNIT_STORE_FIXTURE_H
#define BERTH_TESTS_UNIT_STORE_FIXTURE_H

#include <stddef.h>

#include "store/store.h"
#include "util/manifest.h"

#define MAP_SIZE ((size_t)16 << 20)

/* store_open() options of the fixture: every blob a file */
extern const struct store_options file_blobs;

/* A store in a new directory under /tmp, removed again by teardown(). */
struct fixture {
    char root[64];
    struct store *s;
};

/* cmocka setup and teardown functions that make and remove a fixture. */
int setup(void **state);
int teardown(void **state);

/* A request body in memory, read in pieces (store_read_fn). */
struct mem_body {
    const unsigned char *data;
    size_t len;
    size_t off;
    size_t max_read;   /* at most this many bytes per call */
    long long fail_at; /* return -1 once off reaches this; -1: never */
    int calls_after_end;
};

long mem_read(void *ctx, char *buf, size_t len);

/*
 * A body over data[0..len) read in pieces of at most 7 bytes, announcing
 * `announced` bytes (-1: unknown), failing at fail_at (-1: never).
 */
void body_init(struct store_body *b, struct mem_body *m, const void *data,
               size_t len, long long announced, long long fail_at);

/* n deterministic bytes, different for each seed; free() them. */
unsigned char *pattern(size_t n, unsigned seed);

void digest_of(enum digest_alg alg, const void *data, size_t len,
               struct digest *out);

/* Append data[0..len) to upload id at start (store_upload_append). */
int append(struct fixture *f, const char *repo, const char *id, long long start,
           const void *data, size_t len, long long *size);

/* Upload data as one blob of repo (asserting success); its digest in *d. */
void put_blob(struct fixture *f, const char *repo, const void *data, size_t len,
              struct digest *d);

/* A manifest made for a test: its body, parse and digest. */
struct tm {
    char body[8192];
    size_t len;
    struct manifest m;
    struct digest d;
    char dstr[DIGEST_STR_MAX];
    char *referrer;
};

/* Parse t->body into t (a test's own manifests are always valid). */
void tm_parse(struct tm *t);

/*
 * An image manifest with config cfg (size csize), an optional subject and
 * artifactType, and a salt that makes each one distinct.
 */
void tm_image(struct tm *t, const struct digest *cfg, long long csize,
              const struct tm *subject, const char *atype, int salt);

/* An index of a and b. */
void tm_index(struct tm *t, const struct tm *a, const struct tm *b);

void tm_release(struct tm *t);

/* store_manifest_put() of t into repo under tag (NULL: by digest). */
int put_manifest(struct fixture *f, const char *repo, const char *tag,
                 struct tm *t, struct digest *missing);

#endif
