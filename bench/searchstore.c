/*
 * bench/searchstore.c: a store of many repositories for docker search's
 * figures (bench/search.sh). Built by search.sh with the build's
 * libberth.a.
 *
 *   searchstore fill ROOT REPOS
 *
 * fills the storage root ROOT (a new one) with REPOS repositories, each
 * with one tagged image manifest, through the store's functions as
 * berth's endpoints use them: the config blob is uploaded to the first
 * (store_upload_begin, store_upload_finish), mounted into each other one
 * (store_blob_mount), and a manifest naming it, with a description
 * annotation that every repository gets, is put with a tag
 * (store_manifest_put). Names are "team<i % 100>/<word>-<i>", the words
 * taken in turn from a short list, so that a query can match one, 1 in
 * 100, 1 in 8 or every repository. Put ROOT on a tmpfs: each of those is
 * a commit, and 2 * REPOS flushes on a disk take minutes.
 *
 *   searchstore walk ROOT Q RUNS
 *
 * times RUNS walks of the catalog as GET /v1/search makes them
 * (store_catalog_walk, a substring test of each name and description)
 * for query Q, and
 * prints `metric` lines: the matches, and p50 and p99 of the walk in
 * milliseconds, of the wall clock and of the process's CPU time (on a
 * busy machine the two differ by the time others had the CPU). The rule check
 * of each match and the JSON are not in it; search.sh times whole requests
 * through lighttpd for those.
 */
#define _GNU_SOURCE
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/store.h"
#include "util/digest.h"
#include "util/manifest.h"

#define MT_CONFIG "application/vnd.oci.image.config.v1+json"

static const char *const words[] = {"api",   "web",  "db",    "cache",
                                    "queue", "auth", "proxy", "worker"};

static const struct store_options options = {
    .map_size = (size_t)1 << 30,
    .flags = STORE_SYNC_DATA,
    .inline_max = STORE_INLINE_MAX_DEFAULT,
};

struct mem {
    const char *p;
    size_t len, off;
};

static long mem_read(void *ctx, char *buf, size_t len)
{
    struct mem *m = ctx;

    if (len > m->len - m->off)
        len = m->len - m->off;
    memcpy(buf, m->p + m->off, len);
    m->off += len;
    return (long)len;
}

static int fail(const char *what, const char *repo, int rc)
{
    fprintf(stderr, "searchstore: %s '%s': %s\n", what, repo,
            store_strerror(rc));
    return 1;
}

static long arg(const char *s, long min)
{
    char *end;
    long v = strtol(s, &end, 10);

    if (*s == '\0' || *end != '\0' || v < min || v > 100000000) {
        fprintf(stderr, "searchstore: '%s' is not a count of at least %ld\n", s,
                min);
        exit(2);
    }
    return v;
}

static void name_of(long i, char *out, size_t len)
{
    snprintf(out, len, "team%ld/%s-%ld", i % 100,
             words[(unsigned long)i % (sizeof(words) / sizeof(words[0]))], i);
}

static int fill(const char *root, long repos)
{
    static const char config[] =
        "{\"architecture\":\"amd64\",\"os\":\"linux\"}";
    char body[512], dstr[DIGEST_STR_MAX], first[64], repo[64], id[64], err[256];
    struct store_manifest mf;
    struct digest cd, md, missing;
    struct manifest m;
    struct store_body sb;
    struct store *s;
    struct hasher h;
    struct mem mem = {config, sizeof(config) - 1, 0};
    long long size;
    int len, rc;
    long i;

    rc = store_open(root, &options, &s);
    if (rc)
        return fail("cannot open", root, rc);
    hasher_init(&h, DIGEST_SHA256);
    hasher_update(&h, config, sizeof(config) - 1);
    hasher_final(&h, &cd);
    digest_format(&cd, dstr);
    len = snprintf(body, sizeof(body),
                   "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":"
                   "{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu},"
                   "\"layers\":[],\"annotations\":{"
                   "\"org.opencontainers.image.description\":"
                   "\"A service image of the search benchmark\"}}",
                   MT_OCI_MANIFEST, MT_CONFIG, dstr, sizeof(config) - 1);
    hasher_init(&h, DIGEST_SHA256);
    hasher_update(&h, body, (size_t)len);
    hasher_final(&h, &md);
    if (manifest_parse(body, (size_t)len, NULL, &m, err, sizeof(err))) {
        fprintf(stderr, "searchstore: the manifest is refused: %s\n", err);
        store_close(s);
        return 1;
    }
    mf.digest = &md;
    mf.body = body;
    mf.len = (size_t)len;
    mf.m = &m;
    mf.referrer = NULL;
    name_of(0, first, sizeof(first));
    rc = store_upload_begin(s, first, "bench", id);
    sb.read = mem_read;
    sb.ctx = &mem;
    sb.length = (long long)mem.len;
    if (!rc)
        rc = store_upload_finish(s, first, id, &sb, &cd, &size);
    if (rc) {
        fail("cannot upload the config to", first, rc);
        goto out;
    }
    for (i = 0; i < repos; i++) {
        name_of(i, repo, sizeof(repo));
        if (i && (rc = store_blob_mount(s, repo, first, &cd, &size)) != 0) {
            fail("cannot mount the config into", repo, rc);
            goto out;
        }
        rc = store_manifest_put(s, repo, "latest", &mf, &missing);
        if (rc) {
            fail("cannot put the manifest in", repo, rc);
            goto out;
        }
    }
    printf("metric repos %ld\n", repos);
out:
    manifest_release(&m);
    store_close(s);
    return rc ? 1 : 0;
}

struct walk {
    const char *q;
    size_t qlen;
    long matches;
};

/* what h_search.c's match() does before the rule check */
static int match(void *ctx, const char *s, size_t len, const char *desc,
                 size_t dlen)
{
    struct walk *w = ctx;
    char d[MANIFEST_DESC_MAX];

    if (dlen >= sizeof(d))
        dlen = sizeof(d) - 1;
    memcpy(d, desc, dlen);
    d[dlen] = '\0';
    if (!w->qlen || memmem(s, len, w->q, w->qlen) || strcasestr(d, w->q))
        w->matches++;
    return STORE_OK;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static double now_ms(clockid_t clk)
{
    struct timespec ts;

    clock_gettime(clk, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int walk(const char *root, const char *q, long runs)
{
    struct store_options o = options;
    struct store *s;
    struct walk w;
    double *ms = calloc((size_t)runs, sizeof(*ms)), t, c;
    double *cpu = calloc((size_t)runs, sizeof(*cpu));
    int rc = 0;
    long i;

    o.flags |= STORE_RDONLY;
    if (!ms || !cpu || (rc = store_open(root, &o, &s)) != 0) {
        free(ms);
        free(cpu);
        return rc ? fail("cannot open", root, rc) : 1;
    }
    for (i = 0; i < runs; i++) {
        w.q = q;
        w.qlen = strlen(q);
        w.matches = 0;
        t = now_ms(CLOCK_MONOTONIC);
        c = now_ms(CLOCK_PROCESS_CPUTIME_ID);
        rc = store_catalog_walk(s, match, &w);
        ms[i] = now_ms(CLOCK_MONOTONIC) - t;
        cpu[i] = now_ms(CLOCK_PROCESS_CPUTIME_ID) - c;
        if (rc) {
            fail("cannot walk the catalog of", root, rc);
            break;
        }
    }
    if (!rc) {
        qsort(ms, (size_t)runs, sizeof(*ms), cmp_double);
        printf("metric walk_matches %ld\n", w.matches);
        printf("metric walk_p50_ms %.2f\n", ms[runs / 2]);
        printf("metric walk_p99_ms %.2f\n", ms[(runs * 99) / 100]);
        qsort(cpu, (size_t)runs, sizeof(*cpu), cmp_double);
        printf("metric walk_cpu_p50_ms %.2f\n", cpu[runs / 2]);
        printf("metric walk_cpu_p99_ms %.2f\n", cpu[(runs * 99) / 100]);
    }
    free(ms);
    free(cpu);
    store_close(s);
    return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && !strcmp(argv[1], "fill"))
        return fill(argv[2], arg(argv[3], 1));
    if (argc == 5 && !strcmp(argv[1], "walk"))
        return walk(argv[2], argv[3], arg(argv[4], 1));
    fprintf(stderr, "usage: searchstore fill ROOT REPOS\n"
                    "       searchstore walk ROOT Q RUNS\n");
    return 2;
}
