#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "ctl/out.h"
#include "store/store.h"
#include "util/digest.h"
#include "util/manifest.h"
#include "util/names.h"
#include "util/xalloc.h"

/*
 * berthctl import-registry [--dry-run] [--link] DIR: the storage of a
 * reference registry (distribution's registry:2, Debian's docker-registry)
 * under DIR/docker/registry/v2 made part of the store:
 *
 *   blobs/<alg>/<h2>/<hex>/data                       every blob's bytes
 *   repositories/<name>/_layers/<alg>/<hex>/link      a blob of the repo
 *   repositories/<name>/_manifests/revisions/<alg>/<hex>/link
 *   repositories/<name>/_manifests/tags/<tag>/current/link
 *   repositories/<name>/_uploads/                     (left alone)
 *
 * A link file holds "<alg>:<hex>", the name of its directory; a repository
 * is a directory that holds _layers or _manifests (names nest: a/b/c).
 *
 * Repository by repository: its layers (store_blob_ingest(), which checks
 * each blob's bytes against its digest), then its manifests (the bytes
 * are blobs too, checked here) with store_manifest_put(), an index after
 * the manifests it lists and one with a subject last, then its tags. What
 * the registry's crashes leave broken (a link to blob data that is
 * missing or empty, a link file of garbage, a manifest whose layers are
 * missing, a tag of a manifest that is skipped) is skipped, each named
 * on stderr: it is never imported as if whole. Everything that is there
 * already is left as it is, so an import that was interrupted is
 * finished by running it again.
 */

#define LINK_MAX_BYTES 256
#define EMPTY_SHA256                                                           \
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static const char *const algs[] = {"sha256", "sha512"};

struct counts {
    long long repos, manifests, tags, blobs;
    long long copied, linked, present;
    long long bytes_copied, bytes_linked, bytes_present;
    long long skipped;
};

struct imp {
    struct ctl *c;
    int dry;
    unsigned flags; /* STORE_INGEST_LINK */
    char v2[PATH_MAX];
    struct out_progress p;
    json_t *skips; /* --json: what was skipped */
    struct counts n;
    /*
     * --dry-run: the blobs counted, so that each counts its bytes once (a
     * hash table of seen_cap slots, nseen of them used)
     */
    char **seen;
    size_t nseen, seen_cap;
};

/* A manifest revision of a repository. */
struct rev {
    struct digest d;
    char *body;
    size_t len;
    struct manifest m;
    int state; /* REV_* */
};

#define REV_PENDING 0
#define REV_PUT     1
#define REV_SKIPPED 2

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = xmalloc(n);

    memcpy(p, s, n);
    return p;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A list of names, sorted. */
struct names {
    char **v;
    size_t n, cap;
};

static void names_add(struct names *l, const char *s)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
    }
    l->v[l->n++] = dup_str(s);
}

static void names_release(struct names *l)
{
    size_t i;

    for (i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof(*l));
}

/*
 * The entries of directory path but "." and "..", sorted, into *l. A
 * directory that is not there is empty; -1 with errno for another failure.
 */
static int list_dir(const char *path, struct names *l)
{
    struct dirent *de;
    DIR *d;

    memset(l, 0, sizeof(*l));
    d = opendir(path);
    if (!d)
        return errno == ENOENT || errno == ENOTDIR ? 0 : -1;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            names_add(l, de->d_name);
    closedir(d);
    if (l->n)
        qsort(l->v, l->n, sizeof(*l->v), cmp_str);
    return 0;
}

/*
 * fmt into buf, which has PATH_MAX bytes: 0, or -1 (said) when the path
 * does not fit.
 */
static int pathf(char *buf, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int pathf(char *buf, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, PATH_MAX, fmt, ap);
    va_end(ap);
    if (n >= 0 && n < PATH_MAX)
        return 0;
    ctl_error("a path of the tree is too long: '%.64s...'", buf);
    return -1;
}

/* Whether path is a directory; a symbolic link is not one unless follow. */
static int is_dir(const char *path, int follow)
{
    struct stat st;

    return (follow ? stat(path, &st) : lstat(path, &st)) == 0 &&
           S_ISDIR(st.st_mode);
}

/*
 * Something of repo skipped: a line on stderr, and with --json an entry.
 * sep: '@' (what is a digest), ':' (a tag), or 0 (a file of the tree;
 * the repository itself when what is "").
 */
static void skip(struct imp *m, const char *repo, const char *kind, char sep,
                 const char *what, const char *why)
{
    m->n.skipped++;
    out_progress_end(&m->p);
    if (sep)
        fprintf(stderr, "berthctl: %s the %s %s%c%s: %s\n",
                m->dry ? "would skip" : "skipped", kind, repo, sep, what, why);
    else if (!what[0])
        fprintf(stderr, "berthctl: %s the %s '%s': %s\n",
                m->dry ? "would skip" : "skipped", kind, repo, why);
    else
        fprintf(stderr, "berthctl: %s the %s '%s' of %s: %s\n",
                m->dry ? "would skip" : "skipped", kind, what, repo, why);
    if (m->skips)
        json_array_append_new(
            m->skips, json_pack("{s:s, s:s, s:s, s:s}", "repository", repo,
                                "kind", kind, "what", what, "why", why));
}

/*
 * Read the link file at path, which must name alg:hex; into *d.
 * Returns 0, -1 (no link file) or -2 (it holds something else).
 */
static int read_link(const char *path, const char *alg, const char *hex,
                     struct digest *d)
{
    char buf[LINK_MAX_BYTES + 1], want[DIGEST_STR_MAX + 8];
    ssize_t n;
    int fd;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    do
        n = read(fd, buf, LINK_MAX_BYTES);
    while (n < 0 && errno == EINTR);
    close(fd);
    if (n <= 0)
        return -2;
    buf[n] = '\0';
    if (hex) {
        snprintf(want, sizeof(want), "%s:%s", alg, hex);
        if (strcmp(buf, want))
            return -2;
    }
    return digest_parse(d, buf, (size_t)n) == DIGEST_OK ? 0 : -2;
}

/* v2/blobs/<alg>/<h2>/<hex>/data of d, into buf (PATH_MAX). */
static int data_path(const struct imp *m, const struct digest *d, char *buf)
{
    return pathf(buf, "%s/blobs/%s/%.2s/%s/data", m->v2,
                 digest_alg_name(d->alg), d->hex, d->hex);
}

/* The first 8 hex digits of hex as a number: a hash of a digest. */
static size_t hex_hash(const char *hex)
{
    size_t v = 0;
    int i;

    for (i = 0; i < 8 && hex[i]; i++)
        v = v * 16 + (size_t)(hex[i] <= '9' ? hex[i] - '0' : hex[i] - 'a' + 10);
    return v;
}

static int is_empty_digest(const struct digest *d)
{
    return d->alg == DIGEST_SHA256 && !strcmp(d->hex, EMPTY_SHA256);
}

/* --dry-run: whether blob d was counted already; it is from now on. */
static int seen_before(struct imp *m, const struct digest *d)
{
    size_t i, h = 0;

    /* open addressing over a table kept at most half full */
    if (2 * (m->nseen + 1) > m->seen_cap) {
        char **old = m->seen;
        size_t n = m->seen_cap;

        m->seen_cap = n ? 2 * n : 1024;
        m->seen = xcalloc(m->seen_cap, sizeof(*m->seen));
        m->nseen = 0;
        for (i = 0; i < n; i++)
            if (old[i]) {
                for (h = hex_hash(old[i]) % m->seen_cap; m->seen[h];
                     h = (h + 1) % m->seen_cap)
                    ;
                m->seen[h] = old[i];
                m->nseen++;
            }
        free(old);
    }
    for (h = hex_hash(d->hex) % m->seen_cap; m->seen[h];
         h = (h + 1) % m->seen_cap)
        if (!strcmp(m->seen[h], d->hex))
            return 1;
    m->seen[h] = dup_str(d->hex);
    m->nseen++;
    return 0;
}

static int has_digest(const struct digest *v, size_t n, const struct digest *d)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (digest_equal(&v[i], d))
            return 1;
    return 0;
}

/* Layers imported a batch at a time: one write transaction for each. */
#define BATCH 32

struct batch {
    struct store_ingest_file v[BATCH];
    char path[BATCH][PATH_MAX];
    size_t n;
};

/* A layer imported, or found there: counted, and into *have. */
static void imported(struct imp *m, const struct digest *d,
                     enum store_ingest_how how, long long size,
                     struct digest **have, size_t *nhave)
{
    m->n.blobs++;
    if (how == STORE_INGEST_COPIED) {
        m->n.copied++;
        m->n.bytes_copied += size;
    } else if (how == STORE_INGEST_LINKED) {
        m->n.linked++;
        m->n.bytes_linked += size;
    } else {
        m->n.present++;
        m->n.bytes_present += size;
    }
    *have = xrealloc(*have, (*nhave + 1) * sizeof(**have));
    (*have)[(*nhave)++] = *d;
}

/* Import the layers of b into repo, and empty it. */
static int flush_batch(struct imp *m, const char *repo, struct batch *b,
                       struct digest **have, size_t *nhave)
{
    char dstr[DIGEST_STR_MAX];
    size_t i;
    int rc;

    if (!b->n)
        return CTL_OK;
    rc = store_blobs_ingest(m->c->s, repo, b->v, b->n, m->flags);
    if (rc)
        return ctl_store_error(rc, "import the layers of '%s'", repo);
    for (i = 0; i < b->n; i++) {
        const struct store_ingest_file *f = &b->v[i];

        digest_format(&f->d, dstr);
        if (f->rc == STORE_DIGEST_MISMATCH) {
            skip(m, repo, "layer", '@', dstr,
                 "its blob data does not match its digest");
        } else if (f->rc == STORE_NOTFOUND) {
            skip(m, repo, "layer", '@', dstr, "its blob data is missing");
        } else if (f->rc) {
            return ctl_store_error(f->rc, "import '%s' of '%s'", dstr, repo);
        } else {
            imported(m, &f->d, f->out.how, f->out.size, have, nhave);
        }
    }
    b->n = 0;
    return CTL_OK;
}

/*
 * The layers of repo (dir: its directory): each blob it links into the
 * store. The digests imported go in *have (for --dry-run's checks).
 * Returns CTL_OK, or a status after a failure of the store.
 */
static int import_layers(struct imp *m, const char *repo, const char *dir,
                         struct digest **have, size_t *nhave)
{
    char path[PATH_MAX], data[PATH_MAX], dstr[DIGEST_STR_MAX];
    struct batch *b = xcalloc(1, sizeof(*b));
    struct digest d;
    struct names l;
    struct stat st;
    size_t a, i;
    int rc = CTL_OK, r;

    memset(&l, 0, sizeof(l));
    for (a = 0; a < sizeof(algs) / sizeof(algs[0]) && !rc; a++) {
        if (pathf(path, "%s/_layers/%s", dir, algs[a])) {
            rc = CTL_UNUSABLE;
            break;
        }
        if (list_dir(path, &l)) {
            ctl_error("cannot read '%s': %s", path, strerror(errno));
            rc = CTL_UNUSABLE;
            break;
        }
        for (i = 0; i < l.n && !rc; i++) {
            if (pathf(path, "%s/_layers/%s/%s/link", dir, algs[a], l.v[i])) {
                rc = CTL_UNUSABLE;
                break;
            }
            r = read_link(path, algs[a], l.v[i], &d);
            if (r) {
                skip(m, repo, "layer link", 0, path + strlen(m->v2) + 1,
                     r == -1 ? "no link file" : "the link file holds garbage");
                continue;
            }
            digest_format(&d, dstr);
            if (data_path(m, &d, data)) {
                rc = CTL_UNUSABLE;
                break;
            }
            if (stat(data, &st)) {
                if (errno == ENOENT || errno == ENOTDIR) {
                    skip(m, repo, "layer", '@', dstr,
                         "its blob data is missing");
                    continue;
                }
                ctl_error("cannot read '%s': %s", data, strerror(errno));
                rc = CTL_UNUSABLE;
                break;
            }
            if (st.st_size == 0 && !is_empty_digest(&d)) {
                skip(m, repo, "layer", '@', dstr, "its blob data is empty");
                continue;
            }
            if (m->dry) {
                long long used;
                int holds = 0;

                /* the store has it (a record or two to read): not read */
                r = store_ns_usage(m->c->s, "", &d, &used, &holds);
                if (r) {
                    rc = ctl_store_error(r, "look up '%s'", dstr);
                    break;
                }
                if (holds || seen_before(m, &d))
                    imported(m, &d, STORE_INGEST_PRESENT, (long long)st.st_size,
                             have, nhave);
                else
                    imported(m, &d, STORE_INGEST_COPIED, (long long)st.st_size,
                             have, nhave);
                continue;
            }
            memcpy(b->path[b->n], data, sizeof(data));
            b->v[b->n].d = d;
            b->v[b->n].path = b->path[b->n];
            if (++b->n == BATCH)
                rc = flush_batch(m, repo, b, have, nhave);
        }
        names_release(&l);
    }
    if (!rc)
        rc = flush_batch(m, repo, b, have, nhave);
    names_release(&l);
    free(b);
    return rc;
}

/*
 * Read the bytes of manifest revision r (its digest set) from its blob,
 * check them and parse them. Returns 0, -1 with why (len bytes) when
 * they are not whole, or -2 (said) when they cannot be read.
 */
static int read_rev(struct imp *m, struct rev *r, char *why, size_t len)
{
    char path[PATH_MAX], alt[256];
    struct hasher h;
    struct digest got;
    struct stat st;
    size_t off = 0;
    ssize_t n;
    int fd;

    if (data_path(m, &r->d, path))
        return -2;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && (errno == ENOENT || errno == ENOTDIR)) {
        snprintf(why, len, "its blob data is missing");
        return -1;
    }
    if (fd < 0 || fstat(fd, &st)) {
        ctl_error("cannot read '%s': %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -2;
    }
    if (st.st_size == 0 ||
        (unsigned long long)st.st_size > m->c->cfg.max_manifest_size) {
        snprintf(why, len,
                 st.st_size ? "its blob data is over max_manifest_size"
                            : "its blob data is empty");
        close(fd);
        return -1;
    }
    r->len = (size_t)st.st_size;
    r->body = xmalloc(r->len + 1);
    while (off < r->len) {
        n = read(fd, r->body + off, r->len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            ctl_error("cannot read '%s': %s", path, strerror(errno));
            close(fd);
            return -2;
        }
        if (n == 0)
            break;
        off += (size_t)n;
    }
    close(fd);
    r->body[off] = '\0';
    if (off != r->len) {
        snprintf(why, len, "its blob data is shorter than it was");
        return -1;
    }
    hasher_init(&h, r->d.alg);
    hasher_update(&h, r->body, r->len);
    hasher_final(&h, &got);
    if (!digest_equal(&got, &r->d)) {
        snprintf(why, len, "its blob data does not match its digest");
        return -1;
    }
    if (manifest_parse(r->body, r->len, NULL, &r->m, why, len) == 0)
        return 0;
    /*
     * The reference registry keeps no Content-Type: an OCI manifest or
     * index without a mediaType is told by its fields, as it tells them
     * when it serves one (a "manifests" array: an index).
     */
    memset(&r->m, 0, sizeof(r->m));
    if (manifest_parse(r->body, r->len,
                       strstr(r->body, "\"manifests\"") ? MT_OCI_INDEX
                                                        : MT_OCI_MANIFEST,
                       &r->m, alt, sizeof(alt)) == 0)
        return 0;
    memset(&r->m, 0, sizeof(r->m));
    return -1;
}

/* The order of the puts: images, then indexes, then what has a subject. */
static int rank(const struct rev *r)
{
    return (r->m.has_subject ? 2 : 0) + (r->m.kind == MANIFEST_INDEX);
}

static int cmp_rev(const void *a, const void *b)
{
    const struct rev *x = a, *y = b;
    int d = rank(x) - rank(y);

    return d ? d : strcmp(x->d.hex, y->d.hex);
}

static struct rev *find_rev(struct rev *v, size_t n, const struct digest *d)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (digest_equal(&v[i].d, d))
            return &v[i];
    return NULL;
}

/*
 * --dry-run's store_manifest_put(): every blob among the layers to be
 * imported, every child put. STORE_OK or the code the put would return.
 */
static int dry_put(const struct rev *r, const struct digest *have, size_t nhave,
                   struct rev *revs, size_t nrevs, struct digest *missing)
{
    const struct rev *c;
    size_t i;

    for (i = 0; i < r->m.nblobs; i++)
        if (!has_digest(have, nhave, &r->m.blobs[i].digest)) {
            *missing = r->m.blobs[i].digest;
            return STORE_BLOB_MISSING;
        }
    for (i = 0; i < r->m.nchildren; i++) {
        c = find_rev(revs, nrevs, &r->m.children[i].digest);
        if (!c || c->state != REV_PUT) {
            *missing = r->m.children[i].digest;
            return STORE_MANIFEST_MISSING;
        }
    }
    return STORE_OK;
}

/* Put revision r (and tag, if not NULL) into repo, or (dry) check it. */
static int put_rev(struct imp *m, const char *repo, const char *tag,
                   const struct rev *r, const struct digest *have, size_t nhave,
                   struct rev *revs, size_t nrevs, struct digest *missing)
{
    struct store_manifest mf;
    char *referrer = NULL;
    int rc;

    if (m->dry)
        return tag ? STORE_OK : dry_put(r, have, nhave, revs, nrevs, missing);
    /* there already (an earlier run): a put again would move its time */
    if (!tag) {
        struct store_manifest_info info;

        rc = store_manifest_get(m->c->s, repo, NULL, &r->d, NULL, &info);
        if (rc != STORE_NOTFOUND)
            return rc;
    }
    if (r->m.has_subject)
        referrer = manifest_descriptor_json(&r->m, &r->d, (long long)r->len);
    mf.digest = &r->d;
    mf.body = r->body;
    mf.len = r->len;
    mf.m = &r->m;
    mf.referrer = referrer;
    rc = store_manifest_put(m->c->s, repo, tag, &mf, missing);
    free(referrer);
    return rc;
}

/*
 * The manifest revisions of repo, into *revs (*nrevs): read, checked and
 * put in order. Returns CTL_OK, or a status after a failure of the store.
 */
static int import_manifests(struct imp *m, const char *repo, const char *dir,
                            const struct digest *have, size_t nhave,
                            struct rev **revs, size_t *nrevs)
{
    char path[PATH_MAX], dstr[DIGEST_STR_MAX], mstr[DIGEST_STR_MAX];
    char why[512];
    struct digest d, missing;
    struct names l;
    struct rev *r, *v = NULL;
    size_t a, i, n = 0, pending;
    int rc, progress;

    for (a = 0; a < sizeof(algs) / sizeof(algs[0]); a++) {
        /* what is read so far is the caller's to free, on failure too */
        *revs = v;
        *nrevs = n;
        if (pathf(path, "%s/_manifests/revisions/%s", dir, algs[a]))
            return CTL_UNUSABLE;
        if (list_dir(path, &l)) {
            ctl_error("cannot read '%s': %s", path, strerror(errno));
            return CTL_UNUSABLE;
        }
        for (i = 0; i < l.n; i++) {
            if (pathf(path, "%s/_manifests/revisions/%s/%s/link", dir, algs[a],
                      l.v[i]))
                continue; /* said */
            rc = read_link(path, algs[a], l.v[i], &d);
            if (rc) {
                skip(m, repo, "manifest link", 0, path + strlen(m->v2) + 1,
                     rc == -1 ? "no link file" : "the link file holds garbage");
                continue;
            }
            v = xrealloc(v, (n + 1) * sizeof(*v));
            r = &v[n++];
            memset(r, 0, sizeof(*r));
            r->d = d;
            rc = read_rev(m, r, why, sizeof(why));
            if (rc == -2) {
                names_release(&l);
                *revs = v;
                *nrevs = n;
                return CTL_UNUSABLE;
            }
            if (rc) {
                digest_format(&d, dstr);
                skip(m, repo, "manifest", '@', dstr, why);
                r->state = REV_SKIPPED;
            }
        }
        names_release(&l);
    }
    if (n)
        qsort(v, n, sizeof(*v), cmp_rev);
    *revs = v;
    *nrevs = n;
    /* an index whose child comes later in the order waits a pass */
    do {
        progress = 0;
        pending = 0;
        for (i = 0; i < n; i++) {
            r = &v[i];
            if (r->state != REV_PENDING)
                continue;
            rc = put_rev(m, repo, NULL, r, have, nhave, v, n, &missing);
            if (rc == STORE_OK) {
                r->state = REV_PUT;
                m->n.manifests++;
                progress = 1;
                continue;
            }
            digest_format(&r->d, dstr);
            digest_format(&missing, mstr);
            if (rc == STORE_MANIFEST_MISSING && find_rev(v, n, &missing) &&
                find_rev(v, n, &missing)->state == REV_PENDING) {
                pending++;
                continue;
            }
            if (rc == STORE_BLOB_MISSING || rc == STORE_MANIFEST_MISSING ||
                rc == STORE_SIZE_MISMATCH) {
                snprintf(
                    why, sizeof(why), "%s %s %s",
                    rc == STORE_SIZE_MISMATCH  ? "the size of"
                    : rc == STORE_BLOB_MISSING ? "it references the blob"
                                               : "it references the manifest",
                    mstr,
                    rc == STORE_SIZE_MISMATCH ? "differs from its descriptor's"
                                              : "that is not imported");
                skip(m, repo, "manifest", '@', dstr, why);
                r->state = REV_SKIPPED;
                continue;
            }
            return ctl_store_error(rc, "import the manifest '%s' of '%s'", dstr,
                                   repo);
        }
    } while (pending && progress);
    for (i = 0; i < n; i++)
        if (v[i].state == REV_PENDING) {
            digest_format(&v[i].d, dstr);
            skip(m, repo, "manifest", '@', dstr,
                 "it references a manifest that is not imported");
            v[i].state = REV_SKIPPED;
        }
    return CTL_OK;
}

/* The tags of repo, each pointed at its manifest. */
static int import_tags(struct imp *m, const char *repo, const char *dir,
                       struct rev *revs, size_t nrevs)
{
    struct store_manifest_info info;
    char path[PATH_MAX], dstr[DIGEST_STR_MAX];
    struct digest d, missing;
    struct names l;
    struct rev *r;
    size_t i;
    int rc = CTL_OK;

    if (pathf(path, "%s/_manifests/tags", dir))
        return CTL_UNUSABLE;
    if (list_dir(path, &l)) {
        ctl_error("cannot read '%s': %s", path, strerror(errno));
        return CTL_UNUSABLE;
    }
    for (i = 0; i < l.n; i++) {
        if (!tag_valid(l.v[i], strlen(l.v[i]))) {
            skip(m, repo, "tag", ':', l.v[i], "not a valid tag");
            continue;
        }
        if (pathf(path, "%s/_manifests/tags/%s/current/link", dir, l.v[i]))
            continue; /* said */
        rc = read_link(path, NULL, NULL, &d);
        if (rc) {
            skip(m, repo, "tag", ':', l.v[i],
                 rc == -1 ? "no link file" : "the link file holds garbage");
            rc = CTL_OK;
            continue;
        }
        digest_format(&d, dstr);
        r = find_rev(revs, nrevs, &d);
        if (!r || r->state != REV_PUT) {
            char why[DIGEST_STR_MAX + 64];

            snprintf(why, sizeof(why), "it names the manifest %s, %s", dstr,
                     r ? "which is skipped"
                       : "which is not among its revisions");
            skip(m, repo, "tag", ':', l.v[i], why);
            continue;
        }
        rc = m->dry
                 ? STORE_NOTFOUND
                 : store_manifest_get(m->c->s, repo, l.v[i], NULL, NULL, &info);
        if (rc == STORE_OK && !digest_equal(&info.digest, &d)) {
            /* pushed to berth meanwhile: the newer push stays */
            char why[DIGEST_STR_MAX + 64], istr[DIGEST_STR_MAX];

            digest_format(&info.digest, istr);
            snprintf(why, sizeof(why),
                     "berth's tag names the manifest %s, left as it is", istr);
            skip(m, repo, "tag", ':', l.v[i], why);
            rc = CTL_OK;
            continue;
        }
        if (rc == STORE_NOTFOUND)
            rc = put_rev(m, repo, l.v[i], r, NULL, 0, revs, nrevs, &missing);
        if (rc) {
            rc = ctl_store_error(rc, "tag '%s' of '%s'", l.v[i], repo);
            break;
        }
        m->n.tags++;
    }
    names_release(&l);
    return rc;
}

static int import_repo(struct imp *m, const char *repo)
{
    char dir[PATH_MAX];
    struct digest *have = NULL;
    struct rev *revs = NULL;
    size_t nhave = 0, nrevs = 0, i;
    long long before = m->n.blobs + m->n.manifests;
    int rc;

    if (!name_valid(repo, strlen(repo))) {
        skip(m, repo, "repository", 0, "", "not a valid repository name");
        return CTL_OK;
    }
    if (pathf(dir, "%s/repositories/%s", m->v2, repo))
        return CTL_UNUSABLE;
    rc = import_layers(m, repo, dir, &have, &nhave);
    if (rc == CTL_OK)
        rc = import_manifests(m, repo, dir, have, nhave, &revs, &nrevs);
    if (rc == CTL_OK)
        rc = import_tags(m, repo, dir, revs, nrevs);
    if (rc == CTL_OK && m->n.blobs + m->n.manifests > before)
        m->n.repos++;
    for (i = 0; i < nrevs; i++) {
        free(revs[i].body);
        manifest_release(&revs[i].m);
    }
    free(revs);
    free(have);
    return rc;
}

/*
 * The repositories below repositories/<rel> (rel "" at the top) into l:
 * a directory that holds _layers or _manifests is one, and may hold more.
 */
static int find_repos(const struct imp *m, const char *rel, struct names *l)
{
    char path[PATH_MAX], sub[PATH_MAX];
    struct names ents;
    size_t i;
    int rc = 0, repo = 0;

    if (pathf(path, "%s/repositories%s%s", m->v2, rel[0] ? "/" : "", rel))
        return -1;
    if (list_dir(path, &ents)) {
        ctl_error("cannot read '%s': %s", path, strerror(errno));
        return -1;
    }
    for (i = 0; i < ents.n && !rc; i++) {
        if (!strcmp(ents.v[i], "_layers") || !strcmp(ents.v[i], "_manifests"))
            repo = 1;
        if (ents.v[i][0] == '_' || ents.v[i][0] == '.')
            continue;
        if (pathf(sub, "%s/%s", path, ents.v[i]) || !is_dir(sub, 0))
            continue;
        if (pathf(sub, "%s%s%s", rel, rel[0] ? "/" : "", ents.v[i]))
            continue;
        rc = find_repos(m, sub, l);
    }
    if (repo && rel[0])
        names_add(l, rel);
    names_release(&ents);
    return rc;
}

static const char *plural(long long n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

static int summary(struct imp *m, const char *dir, double secs)
{
    const struct counts *n = &m->n;
    char copied[OUT_SIZE_MAX], linked[OUT_SIZE_MAX], there[OUT_SIZE_MAX];
    json_t *doc;

    if (m->c->json) {
        doc = json_pack(
            "{s:s, s:s, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
            "s:I, s:o, s:f}",
            "command", "import-registry", "directory", dir, "dry_run", m->dry,
            "repositories", (json_int_t)n->repos, "manifests",
            (json_int_t)n->manifests, "tags", (json_int_t)n->tags, "blobs",
            (json_int_t)n->blobs, "copied", (json_int_t)n->copied, "linked",
            (json_int_t)n->linked, "present", (json_int_t)n->present,
            "bytes_copied", (json_int_t)n->bytes_copied, "bytes_linked",
            (json_int_t)n->bytes_linked, "bytes_present",
            (json_int_t)n->bytes_present, "skipped", m->skips, "seconds", secs);
        m->skips = NULL; /* the document took it */
        return out_json(doc) ? CTL_UNUSABLE : CTL_OK;
    }
    out_size(n->bytes_copied, copied);
    out_size(n->bytes_linked, linked);
    out_size(n->bytes_present, there);
    if (m->dry)
        printf("would import %lld %s, %lld %s, %lld %s and %lld blob %s "
               "(%s to copy; %s there already); would skip %lld broken "
               "%s\n",
               n->repos, plural(n->repos, "repository", "repositories"),
               n->manifests, plural(n->manifests, "manifest", "manifests"),
               n->tags, plural(n->tags, "tag", "tags"), n->blobs,
               plural(n->blobs, "link", "links"), copied, there, n->skipped,
               plural(n->skipped, "part", "parts"));
    else
        printf("imported %lld %s, %lld %s, %lld %s and %lld blob %s (%lld "
               "copied: %s, %lld linked: %s, %lld already there: %s) in "
               "%.1f s; skipped %lld broken %s\n",
               n->repos, plural(n->repos, "repository", "repositories"),
               n->manifests, plural(n->manifests, "manifest", "manifests"),
               n->tags, plural(n->tags, "tag", "tags"), n->blobs,
               plural(n->blobs, "link", "links"), n->copied, copied, n->linked,
               linked, n->present, there, secs, n->skipped,
               plural(n->skipped, "part", "parts"));
    return CTL_OK;
}

int cmd_import_registry(struct ctl *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"dry-run", no_argument, NULL, 'n'},
        {"link", no_argument, NULL, 'l'},
        {NULL, 0, NULL, 0},
    };
    struct names repos;
    double t0;
    struct imp m;
    const char *dir;
    size_t i;
    int opt, rc;

    memset(&m, 0, sizeof(m));
    m.c = c;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (opt == 'n')
            m.dry = 1;
        else if (opt == 'l')
            m.flags |= STORE_INGEST_LINK;
        else
            return ctl_usage(c, NULL);
    }
    if (argc - optind != 1)
        return ctl_usage(c, "import-registry takes one directory");
    dir = argv[optind];
    if (pathf(m.v2, "%s/docker/registry/v2/repositories", dir))
        return CTL_USAGE;
    if (!is_dir(m.v2, 1)) {
        ctl_error("no registry storage in '%s': '%s' is not a directory", dir,
                  m.v2);
        return CTL_REFUSED;
    }
    m.v2[strlen(m.v2) - strlen("/repositories")] = '\0';
    /*
     * A dry run changes nothing: a read-only store is enough. An import
     * commits without the flush of LMDB's meta page (a power loss undoes
     * at most the last commit, which the next run makes again) and
     * flushes once at the end: a commit each costs that flush.
     */
    c->open_flags = STORE_SYNC_DATA;
    rc = ctl_open(c, !m.dry);
    if (rc)
        return rc;
    if (c->json)
        m.skips = json_array();
    t0 = out_clock();
    memset(&repos, 0, sizeof(repos));
    if (find_repos(&m, "", &repos)) {
        rc = CTL_UNUSABLE;
        goto out;
    }
    if (repos.n)
        qsort(repos.v, repos.n, sizeof(*repos.v), cmp_str);
    out_progress_init(&m.p, c->progress,
                      m.dry ? "looking at repositories"
                            : "importing repositories");
    for (i = 0; i < repos.n && !rc; i++) {
        out_progress(&m.p, (long long)i, (long long)repos.n);
        rc = import_repo(&m, repos.v[i]);
    }
    out_progress_end(&m.p);
    if (!m.dry) {
        int frc = store_flush(c->s);

        if (frc && rc == CTL_OK)
            rc = ctl_store_error(frc, "flush the store at '%s'", c->cfg.root);
    }
    if (rc == CTL_OK)
        rc = summary(&m, dir, out_clock() - t0);
out:
    names_release(&repos);
    for (i = 0; i < m.seen_cap; i++)
        free(m.seen[i]);
    free(m.seen);
    json_decref(m.skips);
    return rc;
}
