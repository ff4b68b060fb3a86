#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "ctl/ctl.h"
#include "ctl/out.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/digest.h"
#include "util/fsutil.h"
#include "util/manifest.h"
#include "util/names.h"
#include "util/xalloc.h"

/*
 * berthctl export REF... DIR and berthctl import-oci [--repo REPO] DIR:
 * images to and from an OCI image layout (image-spec image-layout.md), the
 * directory that skopeo (oci:DIR:TAG), oras and containerd read and write,
 * to carry images where no network goes.
 *
 * The layout: DIR/oci-layout, DIR/index.json (an image index whose
 * entries name the images), DIR/blobs/<alg>/<hex> (every manifest,
 * config and layer, named by its digest).
 *
 * Names in index.json. Each exported tag is an entry with two
 * annotations: io.containerd.image.name, the full name REPO:TAG (what
 * containerd writes, and what import-oci reads the repository from), and
 * org.opencontainers.image.ref.name, what skopeo's oci:DIR:TAG selects:
 * TAG, unless another entry of the layout has the same tag (another
 * repository's, or a foreign entry whose ref.name is TAG), and then the
 * full name REPO:TAG for every entry of that tag. The rule is applied to
 * the whole index.json after each export, so that a tag that becomes
 * ambiguous with a later export into the same DIR changes its ref.name
 * (entries of other tools are left alone unless their ref.name is one the
 * rule would write).
 *
 * Referrers (manifests with a subject: signatures, SBOMs) are entries of
 * index.json as well, without ref.name, as oras keeps them: a tool finds
 * them without reading every blob, and skopeo, which selects by ref.name,
 * passes over them. Their io.containerd.image.name is REPO@DIGEST, and so
 * is that of an image exported as REPO@DIGEST.
 */

#define ANN_REF_NAME   "org.opencontainers.image.ref.name"
#define ANN_IMAGE_NAME "io.containerd.image.name"
#define LAYOUT_VERSION "1.0.0"
#define INDEX_MAX      ((size_t)64 << 20) /* the most of index.json we read */
#define DEPTH_MAX                                                              \
    8 /* indexes in indexes, referrers of                                      \
         referrers */
#define COPY_CHUNK ((size_t)1 << 20)
/* "REPO@sha512:..." */
#define IMAGE_NAME_MAX (NAME_MAX_LEN + 1 + DIGEST_STR_MAX)

/*
 * A set of strings, for walks that meet the same object more than once:
 * the keys of a JSON object (jansson's hash table; berthctl's jansson
 * allocates with xmalloc). The keys are digests and names, ASCII. Starts
 * zeroed.
 */
struct strset {
    json_t *keys;
};

static int strset_has(const struct strset *set, const char *k)
{
    return set->keys && json_object_get(set->keys, k);
}

/* Add k; 1 if it was not there, 0 if it was. */
static int strset_add(struct strset *set, const char *k)
{
    if (!set->keys)
        set->keys = json_object();
    if (json_object_get(set->keys, k))
        return 0;
    json_object_set_new(set->keys, k, json_null());
    return 1;
}

static void strset_release(struct strset *set)
{
    json_decref(set->keys);
    set->keys = NULL;
}

/* DIR/blobs/<alg>/<hex>; -1 (said) if it does not fit. */
static int blob_path(char *buf, size_t len, const char *dir,
                     const struct digest *d)
{
    if (snprintf(buf, len, "%s/blobs/%s/%s", dir, digest_alg_name(d->alg),
                 d->hex) >= (int)len) {
        ctl_error("the path of a blob in '%s' is too long", dir);
        return -1;
    }
    return 0;
}

/*
 * Read the file path, of at most max bytes, into b (reset first). 0, or
 * -1 with errno set: EFBIG for a larger file.
 */
static int read_file(const char *path, size_t max, struct buf *b)
{
    char chunk[65536];
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC), err;

    if (fd < 0)
        return -1;
    buf_reset(b);
    for (;;) {
        n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (b->len + (size_t)n > max || buf_add(b, chunk, (size_t)n)) {
            errno = EFBIG;
            n = -1;
            break;
        }
    }
    err = errno;
    close(fd);
    errno = err;
    return n < 0 ? -1 : 0;
}

/*
 * Write data to path for good: into a temporary file beside it, flushed,
 * then renamed over it, and its directory flushed. 0, or -1 (said).
 */
static int write_atomic(const char *path, const char *data, size_t len)
{
    char tmp[PATH_MAX];
    int fd;

    if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >=
        (int)sizeof(tmp)) {
        ctl_error("the path '%s' is too long", path);
        return -1;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        goto fail;
    if (pwrite_all(fd, data, len, 0) || fsync(fd)) {
        close(fd);
        goto unlink_tmp;
    }
    if (close(fd) || rename(tmp, path))
        goto unlink_tmp;
    if (fsync_parent(path))
        goto fail;
    return 0;
unlink_tmp:
    ctl_error("cannot write '%s': %s", path, strerror(errno));
    unlink(tmp);
    return -1;
fail:
    ctl_error("cannot write '%s': %s", path, strerror(errno));
    return -1;
}

/*
 * Check DIR/oci-layout: 1 if it is missing, 0 if it is an OCI layout's,
 * -1 (said) if it is something else.
 */
static int check_layout_file(const char *dir)
{
    char path[PATH_MAX];
    json_error_t jerr;
    json_t *root, *v;
    int rc = 0;

    snprintf(path, sizeof(path), "%s/oci-layout", dir);
    root = json_load_file(path, 0, &jerr);
    if (!root && access(path, F_OK) && errno == ENOENT)
        return 1;
    if (!root) {
        ctl_error("'%s' is not an OCI layout: %s", path, jerr.text);
        return -1;
    }
    v = json_object_get(root, "imageLayoutVersion");
    if (!json_is_string(v)) {
        ctl_error("'%s' is not an OCI layout: it has no imageLayoutVersion",
                  path);
        rc = -1;
    }
    json_decref(root);
    return rc;
}

/* The index.json of dir, or when it has none a new one; NULL (said). */
static json_t *load_index(const char *dir, int missing_ok)
{
    char path[PATH_MAX];
    struct buf b;
    json_error_t jerr;
    json_t *root = NULL;

    snprintf(path, sizeof(path), "%s/index.json", dir);
    buf_init(&b, INDEX_MAX);
    if (read_file(path, INDEX_MAX, &b)) {
        if (errno == ENOENT && missing_ok)
            root = json_pack("{s:i, s:s, s:[]}", "schemaVersion", 2,
                             "mediaType", MT_OCI_INDEX, "manifests");
        else
            ctl_error("cannot read '%s': %s", path, strerror(errno));
        goto out;
    }
    root = json_loadb(buf_str(&b), b.len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        ctl_error("'%s' is not valid JSON: %s at line %d, column %d", path,
                  jerr.text, jerr.line, jerr.column);
        goto out;
    }
    if (!json_is_object(root) ||
        !json_is_array(json_object_get(root, "manifests"))) {
        ctl_error("'%s' is not an image index: it has no 'manifests' array",
                  path);
        json_decref(root);
        root = NULL;
    }
out:
    buf_release(&b);
    return root;
}

/* The string annotation key of descriptor desc, or NULL. */
static const char *annotation(json_t *desc, const char *key)
{
    return json_string_value(
        json_object_get(json_object_get(desc, "annotations"), key));
}

/* === export === */

/* A file of the layout to write: a manifest's bytes, or a blob's. */
struct xobj {
    struct digest d;
    long long size;
    char repo[NAME_MAX_LEN + 1]; /* a repository that links the blob */
    char *body;                  /* a manifest's bytes; NULL for a blob */
};

struct exporter {
    struct ctl *c;
    const char *dir;
    struct xobj *o;
    size_t no, co;
    json_t *entries;      /* the descriptors to merge into index.json */
    struct strset walked; /* REPO@DIGEST of the manifests walked */
    struct strset files;  /* the digests of o[] */
    long long manifests;
    struct buf body;
    /* what was written */
    long long written, present, bytes_written, bytes_present;
};

static void add_obj(struct exporter *ex, const char *repo,
                    const struct digest *d, long long size, const char *body,
                    size_t len)
{
    char dstr[DIGEST_STR_MAX];
    struct xobj *o;

    digest_format(d, dstr);
    if (!strset_add(&ex->files, dstr))
        return;
    if (ex->no == ex->co) {
        ex->co = ex->co ? 2 * ex->co : 64;
        ex->o = xrealloc(ex->o, ex->co * sizeof(*ex->o));
    }
    o = &ex->o[ex->no++];
    memset(o, 0, sizeof(*o));
    o->d = *d;
    o->size = size;
    snprintf(o->repo, sizeof(o->repo), "%s", repo);
    if (body) {
        o->body = xmalloc(len + 1);
        memcpy(o->body, body, len);
    }
}

/* The descriptor of an index.json entry named name. */
static void add_entry(struct exporter *ex, const char *name,
                      const struct store_manifest_info *info)
{
    char dstr[DIGEST_STR_MAX];

    digest_format(&info->digest, dstr);
    json_array_append_new(ex->entries,
                          json_pack("{s:s, s:s, s:I, s:{s:s}}", "mediaType",
                                    info->media_type, "digest", dstr, "size",
                                    (json_int_t)info->size, "annotations",
                                    ANN_IMAGE_NAME, name));
}

struct strlist {
    char **v;
    size_t n, cap;
};

static int add_referrer(void *ctx, const char *s, size_t len)
{
    struct strlist *l = ctx;
    char *p = xmalloc(len + 1);

    memcpy(p, s, len);
    p[len] = '\0';
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 8;
        l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
    }
    l->v[l->n++] = p;
    return STORE_OK;
}

static void strlist_release(struct strlist *l)
{
    size_t i;

    for (i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
}

static int walk(struct exporter *ex, const char *repo, const struct digest *d,
                int depth);

/*
 * The referrers of manifest d of repo: an entry each, and what they
 * reference.
 */
static int walk_referrers(struct exporter *ex, const char *repo,
                          const struct digest *d, int depth)
{
    char name[IMAGE_NAME_MAX], dstr[DIGEST_STR_MAX];
    struct strlist l = {NULL, 0, 0};
    struct digest rd;
    json_t *desc, *ann;
    const char *ds;
    size_t i;
    int rc;

    rc = store_referrers(ex->c->s, repo, d, NULL, add_referrer, &l);
    if (rc) {
        digest_format(d, dstr);
        rc = ctl_store_error(rc, "list the referrers of '%s@%s'", repo, dstr);
        goto out;
    }
    for (i = 0; i < l.n && !rc; i++) {
        desc = json_loads(l.v[i], 0, NULL);
        ds = json_string_value(json_object_get(desc, "digest"));
        if (!ds || digest_parse(&rd, ds, strlen(ds))) {
            json_decref(desc);
            ctl_error("a referrer of '%s' has a bad descriptor", repo);
            rc = CTL_UNUSABLE;
            break;
        }
        snprintf(name, sizeof(name), "%s@%s", repo, ds);
        if (!strset_has(&ex->walked, name)) {
            ann = json_object_get(desc, "annotations");
            if (!json_is_object(ann)) {
                ann = json_object();
                json_object_set_new(desc, "annotations", ann);
            }
            json_object_set_new(ann, ANN_IMAGE_NAME, json_string(name));
            json_array_append(ex->entries, desc);
            rc = walk(ex, repo, &rd, depth + 1);
        }
        json_decref(desc);
    }
out:
    strlist_release(&l);
    return rc;
}

/*
 * Manifest d of repo, and all it brings: its blobs, the manifests it
 * lists, its referrers and theirs. A CTL_* status.
 */
static int walk(struct exporter *ex, const char *repo, const struct digest *d,
                int depth)
{
    char key[IMAGE_NAME_MAX], dstr[DIGEST_STR_MAX], err[512];
    struct store_manifest_info info;
    struct manifest m;
    size_t i;
    int rc;

    digest_format(d, dstr);
    snprintf(key, sizeof(key), "%s@%s", repo, dstr);
    if (!strset_add(&ex->walked, key))
        return CTL_OK;
    if (depth > DEPTH_MAX) {
        ctl_error("'%s' is deeper than %d manifests below a REF", key,
                  DEPTH_MAX);
        return CTL_REFUSED;
    }
    rc = store_manifest_get(ex->c->s, repo, NULL, d, &ex->body, &info);
    if (rc)
        return ctl_store_error(rc, "read the manifest '%s'", key);
    memset(&m, 0, sizeof(m));
    if (manifest_parse(buf_str(&ex->body), ex->body.len, info.media_type, &m,
                       err, sizeof(err))) {
        ctl_error("cannot read the manifest '%s': %s", key, err);
        return CTL_UNUSABLE;
    }
    add_obj(ex, repo, d, (long long)ex->body.len, buf_str(&ex->body),
            ex->body.len);
    ex->manifests++;
    for (i = 0; i < m.nblobs; i++)
        add_obj(ex, repo, &m.blobs[i].digest, m.blobs[i].size, NULL, 0);
    for (i = 0; i < m.nchildren && !rc; i++)
        rc = walk(ex, repo, &m.children[i].digest, depth + 1);
    manifest_release(&m);
    return rc ? rc : walk_referrers(ex, repo, d, depth);
}

struct tags {
    char (*t)[TAG_MAX_LEN + 1];
    size_t n, cap;
};

static int add_tag(void *ctx, const struct store_tag_info *ti)
{
    struct tags *ts = ctx;

    if (ts->n == ts->cap) {
        ts->cap = ts->cap ? 2 * ts->cap : 64;
        ts->t = xrealloc(ts->t, ts->cap * sizeof(*ts->t));
    }
    memcpy(ts->t[ts->n++], ti->tag, sizeof(ti->tag));
    return STORE_OK;
}

/* Tag tag of repo: its entry and its manifests. */
static int plan_tag(struct exporter *ex, const char *repo, const char *tag)
{
    char name[IMAGE_NAME_MAX];
    struct store_manifest_info info;
    int rc = store_manifest_get(ex->c->s, repo, tag, NULL, NULL, &info);

    if (rc == STORE_NOTFOUND) {
        ctl_error("no tag '%s' in '%s'", tag, repo);
        return CTL_REFUSED;
    }
    if (rc)
        return ctl_store_error(rc, "read '%s:%s'", repo, tag);
    snprintf(name, sizeof(name), "%s:%s", repo, tag);
    add_entry(ex, name, &info);
    return walk(ex, repo, &info.digest, 0);
}

static int plan_ref(struct exporter *ex, const char *arg)
{
    char err[512], name[IMAGE_NAME_MAX], dstr[DIGEST_STR_MAX];
    struct store_manifest_info info;
    struct tags ts = {NULL, 0, 0};
    struct ref r;
    size_t i;
    int rc;

    if (ref_parse(arg, &r, err, sizeof(err)))
        return ctl_usage(ex->c, "%s", err);
    switch (r.kind) {
    case REF_TAG:
        return plan_tag(ex, r.repo, r.tag);
    case REF_DIGEST:
        rc = store_manifest_get(ex->c->s, r.repo, NULL, &r.digest, NULL, &info);
        if (rc == STORE_NOTFOUND) {
            ctl_error("no manifest '%s' (a blob is exported with its "
                      "manifest)",
                      arg);
            return CTL_REFUSED;
        }
        if (rc)
            return ctl_store_error(rc, "read '%s'", arg);
        digest_format(&r.digest, dstr);
        snprintf(name, sizeof(name), "%s@%s", r.repo, dstr);
        add_entry(ex, name, &info);
        return walk(ex, r.repo, &r.digest, 0);
    default:
        rc = store_tags_walk(ex->c->s, r.repo, add_tag, &ts);
        if (rc == STORE_NOTFOUND) {
            ctl_error("no repository '%s'", r.repo);
            rc = CTL_REFUSED;
        } else if (rc) {
            rc = ctl_store_error(rc, "list the tags of '%s'", r.repo);
        } else if (!ts.n) {
            ctl_error("'%s' has no tags: name its manifests as REPO@DIGEST",
                      r.repo);
            rc = CTL_REFUSED;
        }
        for (i = 0; i < ts.n && !rc; i++)
            rc = plan_tag(ex, r.repo, ts.t[i]);
        free(ts.t);
        return rc;
    }
}

/*
 * Write o into DIR/blobs unless a file of its size is there: a temporary
 * file in DIR, checked against the digest as it is written, flushed and
 * renamed into place.
 */
static int write_obj(struct exporter *ex, const struct xobj *o, char *chunk)
{
    char path[PATH_MAX], tmp[PATH_MAX], dstr[DIGEST_STR_MAX];
    struct store_blob *b = NULL;
    struct hasher h;
    struct digest got;
    struct stat st;
    long long off = 0;
    long n;
    int fd, rc = CTL_UNUSABLE;

    if (blob_path(path, sizeof(path), ex->dir, &o->d))
        return CTL_USAGE;
    if (!stat(path, &st) && S_ISREG(st.st_mode) && st.st_size == o->size) {
        ex->present++;
        ex->bytes_present += o->size;
        return CTL_OK;
    }
    digest_format(&o->d, dstr);
    snprintf(tmp, sizeof(tmp), "%s/.tmp-%s.%ld", ex->dir, o->d.hex,
             (long)getpid());
    if (!o->body) {
        rc = store_blob_open(ex->c->s, o->repo, &o->d, 0, &b);
        if (rc)
            return ctl_store_error(rc, "read the blob '%s@%s'", o->repo, dstr);
        rc = CTL_UNUSABLE;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        ctl_error("cannot create '%s': %s", tmp, strerror(errno));
        goto close_blob;
    }
    hasher_init(&h, o->d.alg);
    if (o->body) {
        hasher_update(&h, o->body, (size_t)o->size);
        if (pwrite_all(fd, o->body, (size_t)o->size, 0))
            goto write_fail;
        off = o->size;
    } else {
        while ((n = store_blob_read(b, off, chunk, COPY_CHUNK)) > 0) {
            hasher_update(&h, chunk, (size_t)n);
            if (pwrite_all(fd, chunk, (size_t)n, off))
                goto write_fail;
            off += n;
        }
        if (n < 0) {
            ctl_error("cannot read the blob '%s@%s' (see the log above)",
                      o->repo, dstr);
            goto close_fd;
        }
    }
    hasher_final(&h, &got);
    if (off != o->size || !digest_equal(&got, &o->d)) {
        ctl_error("the blob '%s@%s' in the store is not what its digest and "
                  "size say: run berthctl fsck",
                  o->repo, dstr);
        goto close_fd;
    }
    if (fsync(fd))
        goto write_fail;
    if (close(fd)) {
        fd = -1;
        goto write_fail;
    }
    fd = -1;
    if (rename(tmp, path)) {
        ctl_error("cannot rename '%s' to '%s': %s", tmp, path, strerror(errno));
        goto close_fd;
    }
    ex->written++;
    ex->bytes_written += o->size;
    rc = CTL_OK;
    goto close_blob;
write_fail:
    ctl_error("cannot write '%s': %s", tmp, strerror(errno));
close_fd:
    if (fd >= 0)
        close(fd);
    unlink(tmp);
close_blob:
    store_blob_close(b);
    return rc;
}

/* The tag of image name s, when it is REPO:TAG; else NULL. */
static const char *name_tag(const char *s)
{
    const char *colon = strrchr(s, ':'), *slash = strrchr(s, '/');

    if (strchr(s, '@') || !colon || (slash && slash > colon))
        return NULL;
    return colon + 1;
}

/*
 * The tag entry e has, for the rule at the top of this file: of an entry
 * named REPO:TAG, TAG; of one without io.containerd.image.name, its
 * ref.name; else NULL.
 */
static const char *entry_tag(json_t *e)
{
    const char *name = annotation(e, ANN_IMAGE_NAME);

    return name ? name_tag(name) : annotation(e, ANN_REF_NAME);
}

/*
 * Set the ref.name of each entry named REPO:TAG: TAG, or REPO:TAG when
 * another entry has that tag too (the rule at the top of this file). An
 * entry whose ref.name is neither is left alone.
 */
static void name_refs(json_t *list)
{
    json_t *count = json_object(), *e;
    const char *name, *tag, *ref;
    size_t i;

    json_array_foreach(list, i, e)
    {
        tag = entry_tag(e);
        if (tag)
            json_object_set_new(
                count, tag,
                json_integer(json_integer_value(json_object_get(count, tag)) +
                             1));
    }
    json_array_foreach(list, i, e)
    {
        name = annotation(e, ANN_IMAGE_NAME);
        tag = name ? name_tag(name) : NULL;
        ref = annotation(e, ANN_REF_NAME);
        if (!tag || (ref && strcmp(ref, tag) && strcmp(ref, name)))
            continue;
        json_object_set_new(
            json_object_get(e, "annotations"), ANN_REF_NAME,
            json_string(json_integer_value(json_object_get(count, tag)) > 1
                            ? name
                            : tag));
    }
    json_decref(count);
}

/*
 * Merge entries into index: an entry of the same io.containerd.image.name
 * is replaced, the others stay; then name_refs().
 */
static void merge_entries(json_t *index, json_t *entries)
{
    json_t *list = json_object_get(index, "manifests"), *e, *at, *where;
    const char *name;
    size_t i;

    where = json_object(); /* name -> position in list */
    json_array_foreach(list, i, e)
    {
        name = annotation(e, ANN_IMAGE_NAME);
        if (name)
            json_object_set_new(where, name, json_integer((json_int_t)i));
    }
    json_array_foreach(entries, i, e)
    {
        name = annotation(e, ANN_IMAGE_NAME);
        at = json_object_get(where, name);
        if (at) {
            json_array_set(list, (size_t)json_integer_value(at), e);
        } else {
            json_object_set_new(
                where, name, json_integer((json_int_t)json_array_size(list)));
            json_array_append(list, e);
        }
    }
    json_decref(where);
    name_refs(list);
}

/* Flush DIR/blobs/<alg>, DIR/blobs and DIR: the renames into them. */
static int flush_dirs(const char *dir)
{
    static const char *const algs[] = {"sha256", "sha512"};
    char path[PATH_MAX];
    size_t i;

    for (i = 0; i < 2; i++) {
        snprintf(path, sizeof(path), "%s/blobs/%s/x", dir, algs[i]);
        if (fsync_parent(path) && errno != ENOENT)
            goto fail;
    }
    snprintf(path, sizeof(path), "%s/blobs/x", dir);
    if (!fsync_parent(path)) {
        snprintf(path, sizeof(path), "%s/blobs", dir);
        if (!fsync_parent(path))
            return 0;
    }
fail:
    ctl_error("cannot flush the directories of '%s': %s", dir, strerror(errno));
    return -1;
}

static int export_summary(const struct exporter *ex, size_t images, double secs)
{
    char wrote[OUT_SIZE_MAX], there[OUT_SIZE_MAX];

    if (ex->c->json)
        return out_json(json_pack(
                   "{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f}",
                   "command", "export", "directory", ex->dir, "images",
                   (json_int_t)images, "manifests", (json_int_t)ex->manifests,
                   "blobs", (json_int_t)ex->no, "written",
                   (json_int_t)ex->written, "present", (json_int_t)ex->present,
                   "bytes_written", (json_int_t)ex->bytes_written,
                   "bytes_present", (json_int_t)ex->bytes_present, "seconds",
                   secs))
                   ? CTL_UNUSABLE
                   : CTL_OK;
    out_size(ex->bytes_written, wrote);
    out_size(ex->bytes_present, there);
    printf("exported %zu image%s (%lld manifest%s) to '%s': %zu blob%s, %s "
           "written, %s already there, in %.1f s\n",
           images, images == 1 ? "" : "s", ex->manifests,
           ex->manifests == 1 ? "" : "s", ex->dir, ex->no,
           ex->no == 1 ? "" : "s", wrote, there, secs);
    return CTL_OK;
}

int cmd_export(struct ctl *c, int argc, char **argv)
{
    static const struct option none[] = {{NULL, 0, NULL, 0}};
    static const char layout[] =
        "{\"imageLayoutVersion\":\"" LAYOUT_VERSION "\"}\n";
    char path[PATH_MAX], *chunk = NULL, *text;
    struct out_progress p;
    struct exporter ex;
    double t0;
    json_t *index = NULL;
    size_t i;
    int rc, nrefs, missing;

    if (getopt_long(argc, argv, "", none, NULL) != -1)
        return ctl_usage(c, NULL);
    nrefs = argc - optind - 1;
    if (nrefs < 1)
        return ctl_usage(c, "export takes a REF or more, then a directory");
    memset(&ex, 0, sizeof(ex));
    ex.c = c;
    ex.dir = argv[argc - 1];
    if (strlen(ex.dir) > PATH_MAX - 300)
        return ctl_usage(c, "the directory '%s' is too long a path", ex.dir);
    /* an export only reads the store */
    rc = ctl_open(c, 0);
    if (rc)
        return rc;
    t0 = out_clock();
    missing = check_layout_file(ex.dir);
    if (missing < 0)
        return CTL_REFUSED;
    index = load_index(ex.dir, 1);
    if (!index)
        return CTL_REFUSED;
    ex.entries = json_array();
    buf_init(&ex.body, c->cfg.max_manifest_size);
    for (i = 0; i < (size_t)nrefs && !rc; i++)
        rc = plan_ref(&ex, argv[optind + i]);
    if (rc)
        goto out;
    snprintf(path, sizeof(path), "%s/blobs/sha256", ex.dir);
    if (mkdir_p(path, 0755)) {
        ctl_error("cannot make '%s': %s", path, strerror(errno));
        rc = CTL_UNUSABLE;
        goto out;
    }
    for (i = 0; i < ex.no; i++)
        if (ex.o[i].d.alg != DIGEST_SHA256) {
            snprintf(path, sizeof(path), "%s/blobs/sha512", ex.dir);
            if (mkdir_p(path, 0755)) {
                ctl_error("cannot make '%s': %s", path, strerror(errno));
                rc = CTL_UNUSABLE;
                goto out;
            }
            break;
        }
    chunk = xmalloc(COPY_CHUNK);
    out_progress_init(&p, c->progress, "writing blobs");
    for (i = 0; i < ex.no && !rc; i++) {
        rc = write_obj(&ex, &ex.o[i], chunk);
        out_progress(&p, (long long)i + 1, (long long)ex.no);
    }
    out_progress_end(&p);
    if (rc)
        goto out;
    /* the blobs for good before the index that names them */
    if (flush_dirs(ex.dir)) {
        rc = CTL_UNUSABLE;
        goto out;
    }
    snprintf(path, sizeof(path), "%s/oci-layout", ex.dir);
    if (missing && write_atomic(path, layout, strlen(layout))) {
        rc = CTL_UNUSABLE;
        goto out;
    }
    merge_entries(index, ex.entries);
    text = json_dumps(index, JSON_INDENT(2));
    snprintf(path, sizeof(path), "%s/index.json", ex.dir);
    rc =
        !text || write_atomic(path, text, strlen(text)) ? CTL_UNUSABLE : CTL_OK;
    free(text);
    if (!rc)
        rc = export_summary(&ex, json_array_size(ex.entries), out_clock() - t0);
out:
    for (i = 0; i < ex.no; i++)
        free(ex.o[i].body);
    free(ex.o);
    free(chunk);
    strset_release(&ex.walked);
    strset_release(&ex.files);
    buf_release(&ex.body);
    json_decref(ex.entries);
    json_decref(index);
    return rc;
}

/* === import-oci === */

/* A manifest of an image in the layout, read and checked. */
struct node {
    struct digest d;
    struct buf body;
    struct manifest m;
};

/* What one entry of index.json brings: its manifests and blobs. */
struct image {
    const char *label; /* for messages: "REPO:TAG", "entry 3 (DIGEST)" */
    struct node *n;    /* children before what lists them */
    size_t nn, cn;
    struct manifest_ref *b;
    size_t nb, cb;
    struct strset seen;
};

/* A manifest imported into a repository (for referrers without a name). */
struct placed {
    char repo[NAME_MAX_LEN + 1];
    struct digest d;
};

struct import {
    struct ctl *c;
    const char *dir;
    struct placed *pl;
    size_t npl, cpl;
    struct out_progress p;
    json_t *holders; /* digest -> a repository that links the blob */
    long long images, skipped, ignored, manifests, tags;
    /* blobs: uploaded, linked already, mounted from another repository */
    long long uploaded, present, mounted, bytes_uploaded, bytes_present;
};

static void image_release(struct image *img)
{
    size_t i;

    for (i = 0; i < img->nn; i++) {
        buf_release(&img->n[i].body);
        manifest_release(&img->n[i].m);
    }
    free(img->n);
    free(img->b);
    strset_release(&img->seen);
}

/*
 * Read manifest d (size bytes, of media type mt, NULL if not known) of
 * the layout into *n, checked against its digest and size and parsed.
 * 0, or -1 (said, naming the digest and the file).
 */
static int read_manifest(const struct import *im, const struct image *img,
                         const struct digest *d, long long size, const char *mt,
                         struct node *n)
{
    char path[PATH_MAX], dstr[DIGEST_STR_MAX], err[512];
    struct hasher h;
    struct digest got;

    digest_format(d, dstr);
    if (blob_path(path, sizeof(path), im->dir, d))
        return -1;
    memset(n, 0, sizeof(*n));
    n->d = *d;
    buf_init(&n->body, im->c->cfg.max_manifest_size);
    if (read_file(path, im->c->cfg.max_manifest_size, &n->body)) {
        ctl_error("%s: cannot read the manifest %s ('%s'): %s", img->label,
                  dstr, path,
                  errno == EFBIG ? "over max_manifest_size" : strerror(errno));
        goto fail;
    }
    hasher_init(&h, d->alg);
    hasher_update(&h, n->body.ptr ? n->body.ptr : "", n->body.len);
    hasher_final(&h, &got);
    if (!digest_equal(&got, d) || (long long)n->body.len != size) {
        ctl_error("%s: the manifest %s ('%s') does not match its digest and "
                  "size",
                  img->label, dstr, path);
        goto fail;
    }
    if (manifest_parse(buf_str(&n->body), n->body.len, mt, &n->m, err,
                       sizeof(err))) {
        ctl_error("%s: the manifest %s ('%s') cannot be imported: %s",
                  img->label, dstr, path, err);
        goto fail;
    }
    return 0;
fail:
    buf_release(&n->body);
    return -1;
}

/* The mediaType an index (body) gives its child d, or NULL. */
static char *child_type(const struct buf *body, const struct digest *d,
                        char *out)
{
    char dstr[DIGEST_STR_MAX];
    json_t *root = json_loadb(buf_str(body), body->len, 0, NULL), *e;
    const char *ds, *mt;
    size_t i;
    char *rc = NULL;

    digest_format(d, dstr);
    json_array_foreach(json_object_get(root, "manifests"), i, e)
    {
        ds = json_string_value(json_object_get(e, "digest"));
        mt = json_string_value(json_object_get(e, "mediaType"));
        if (ds && mt && !strcmp(ds, dstr) && strlen(mt) < MEDIA_TYPE_MAX) {
            memcpy(out, mt, strlen(mt) + 1);
            rc = out;
            break;
        }
    }
    json_decref(root);
    return rc;
}

/*
 * Read manifest d of the layout and all it references into img,
 * checking each: manifests against their digests, blob files against
 * their sizes (their digests are checked as they are uploaded). 0, or -1
 * (said).
 */
static int collect(struct import *im, struct image *img, const struct digest *d,
                   long long size, const char *mt, int depth)
{
    char dstr[DIGEST_STR_MAX + 2], path[PATH_MAX], ctype[MEDIA_TYPE_MAX];
    struct manifest_ref *r;
    struct node n;
    struct stat st;
    size_t i;

    digest_format(d, dstr);
    if (!strset_add(&img->seen, dstr))
        return 0;
    if (depth > DEPTH_MAX) {
        ctl_error("%s: manifests nest deeper than %d", img->label, DEPTH_MAX);
        return -1;
    }
    if (read_manifest(im, img, d, size, mt, &n))
        return -1;
    for (i = 0; i < n.m.nblobs; i++) {
        r = &n.m.blobs[i];
        dstr[0] = 'b';
        dstr[1] = ':';
        digest_format(&r->digest, dstr + 2);
        if (!strset_add(&img->seen, dstr))
            continue;
        if (blob_path(path, sizeof(path), im->dir, &r->digest))
            goto fail;
        if (stat(path, &st) || !S_ISREG(st.st_mode)) {
            ctl_error("%s: the blob %s is missing ('%s')", img->label, dstr + 2,
                      path);
            goto fail;
        }
        if (st.st_size != r->size) {
            ctl_error("%s: the blob %s ('%s') has %lld bytes, its descriptor "
                      "says %lld",
                      img->label, dstr + 2, path, (long long)st.st_size,
                      r->size);
            goto fail;
        }
        if (img->nb == img->cb) {
            img->cb = img->cb ? 2 * img->cb : 16;
            img->b = xrealloc(img->b, img->cb * sizeof(*img->b));
        }
        img->b[img->nb++] = *r;
    }
    for (i = 0; i < n.m.nchildren; i++)
        if (collect(im, img, &n.m.children[i].digest, n.m.children[i].size,
                    child_type(&n.body, &n.m.children[i].digest, ctype),
                    depth + 1))
            goto fail;
    if (img->nn == img->cn) {
        img->cn = img->cn ? 2 * img->cn : 8;
        img->n = xrealloc(img->n, img->cn * sizeof(*img->n));
    }
    img->n[img->nn++] = n;
    return 0;
fail:
    buf_release(&n.body);
    manifest_release(&n.m);
    return -1;
}

static long read_fd(void *ctx, char *buf, size_t len)
{
    ssize_t n;

    do
        n = read(*(int *)ctx, buf, len);
    while (n < 0 && errno == EINTR);
    return n < 0 ? -1 : (long)n;
}

/*
 * Upload blob r of the layout into repo. CTL_OK, CTL_REFUSED (the file
 * is not the blob: said), CTL_UNUSABLE (the store failed: said).
 */
static int upload(struct import *im, const struct image *img, const char *repo,
                  const struct manifest_ref *r)
{
    char path[PATH_MAX], dstr[DIGEST_STR_MAX], id[UPLOAD_ID_LEN + 1];
    struct store_body body;
    long long size;
    int fd, rc;

    digest_format(&r->digest, dstr);
    if (blob_path(path, sizeof(path), im->dir, &r->digest))
        return CTL_REFUSED;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        ctl_error("%s: cannot read the blob %s ('%s'): %s", img->label, dstr,
                  path, strerror(errno));
        return CTL_REFUSED;
    }
    rc = store_upload_begin(im->c->s, repo, "berthctl", id);
    if (rc) {
        close(fd);
        ctl_store_error(rc, "start an upload to '%s'", repo);
        return CTL_UNUSABLE;
    }
    body.read = read_fd;
    body.ctx = &fd;
    body.length = r->size;
    rc = store_upload_finish(im->c->s, repo, id, &body, &r->digest, &size);
    close(fd);
    if (rc == STORE_OK) {
        im->uploaded++;
        im->bytes_uploaded += size;
        return CTL_OK;
    }
    if (rc != STORE_DIGEST_MISMATCH)
        store_upload_cancel(im->c->s, repo, id);
    switch (rc) {
    case STORE_DIGEST_MISMATCH:
        ctl_error("%s: the blob %s ('%s') does not match its digest",
                  img->label, dstr, path);
        return CTL_REFUSED;
    case STORE_SHORT:
        ctl_error("%s: the blob %s ('%s') changed size while it was read",
                  img->label, dstr, path);
        return CTL_REFUSED;
    case STORE_ABORTED:
        ctl_error("%s: cannot read the blob %s ('%s'): %s", img->label, dstr,
                  path, strerror(errno));
        return CTL_REFUSED;
    default:
        ctl_store_error(rc, "store the blob %s in '%s'", dstr, repo);
        return CTL_UNUSABLE;
    }
}

static void place(struct import *im, const char *repo, const struct digest *d)
{
    if (im->npl == im->cpl) {
        im->cpl = im->cpl ? 2 * im->cpl : 16;
        im->pl = xrealloc(im->pl, im->cpl * sizeof(*im->pl));
    }
    snprintf(im->pl[im->npl].repo, sizeof(im->pl[im->npl].repo), "%s", repo);
    im->pl[im->npl++].d = *d;
}

/*
 * Put what img holds into repo: the blobs the repository does not link
 * (if one fails, the links made for img go again, and nothing of it
 * stays), then the manifests it lacks, children first, then the tag.
 * CTL_OK, CTL_REFUSED (the layout is broken: said), CTL_UNUSABLE (the
 * store failed: said).
 */
static int push(struct import *im, struct image *img, const char *repo,
                const char *tag)
{
    char dstr[DIGEST_STR_MAX];
    struct store_manifest_info info;
    struct store_manifest mf;
    struct store_blob *b;
    struct digest missing;
    struct node *root = &img->n[img->nn - 1], *n;
    size_t *added = xcalloc(img->nb + 1, sizeof(*added)), nadded = 0, i;
    const char *from;
    long long size;
    char *referrer;
    int rc = CTL_OK, src, have, tagged;

    out_progress_init(&im->p, im->c->progress, img->label);
    for (i = 0; i < img->nb && !rc; i++) {
        out_progress(&im->p, (long long)i, (long long)img->nb);
        b = NULL; /* written only on STORE_OK */
        src = store_blob_open(im->c->s, repo, &img->b[i].digest, 0, &b);
        store_blob_close(b);
        digest_format(&img->b[i].digest, dstr);
        if (src == STORE_OK) {
            im->present++;
            im->bytes_present += img->b[i].size;
            if (!json_object_get(im->holders, dstr))
                json_object_set_new(im->holders, dstr, json_string(repo));
            continue;
        }
        if (src != STORE_NOTFOUND) {
            rc = ctl_store_error(src, "read the blobs of '%s'", repo);
            break;
        }
        /* a blob this import put in another repository is mounted */
        from = json_string_value(json_object_get(im->holders, dstr));
        if (from && store_blob_mount(im->c->s, repo, from, &img->b[i].digest,
                                     &size) == STORE_OK) {
            im->mounted++;
            im->bytes_present += img->b[i].size;
            added[nadded++] = i;
            continue;
        }
        rc = upload(im, img, repo, &img->b[i]);
        if (!rc) {
            added[nadded++] = i;
            json_object_set_new(im->holders, dstr, json_string(repo));
        }
    }
    out_progress_end(&im->p);
    if (rc) {
        /* nothing of a broken image stays */
        for (i = 0; i < nadded; i++)
            store_blob_delete(im->c->s, repo, &img->b[added[i]].digest, NULL);
        goto out;
    }
    for (i = 0; i < img->nn && !rc; i++) {
        n = &img->n[i];
        tagged = n == root && tag;
        have = store_manifest_get(im->c->s, repo, NULL, &n->d, NULL, &info);
        if (have && have != STORE_NOTFOUND) {
            rc = ctl_store_error(have, "read the manifests of '%s'", repo);
            break;
        }
        if (!have && (!tagged || (store_manifest_get(im->c->s, repo, tag, NULL,
                                                     NULL, &info) == STORE_OK &&
                                  digest_equal(&info.digest, &n->d))))
            continue; /* there already (and tagged) */
        referrer =
            n->m.has_subject
                ? manifest_descriptor_json(&n->m, &n->d, (long long)n->body.len)
                : NULL;
        mf.digest = &n->d;
        mf.body = buf_str(&n->body);
        mf.len = n->body.len;
        mf.m = &n->m;
        mf.referrer = referrer;
        src = store_manifest_put(im->c->s, repo, tagged ? tag : NULL, &mf,
                                 &missing);
        free(referrer);
        if (src) {
            digest_format(&n->d, dstr);
            ctl_store_error(src, "store the manifest %s in '%s'", dstr, repo);
            rc = CTL_UNUSABLE;
            break;
        }
        im->manifests += have == STORE_NOTFOUND;
        im->tags += tagged;
    }
    if (!rc) {
        for (i = 0; i < img->nn; i++)
            place(im, repo, &img->n[i].d);
        im->images++;
    }
out:
    free(added);
    return rc;
}

/*
 * Import the image whose root is descriptor (d, size, mt) of the layout
 * into repo, tagged tag (or NULL). CTL_OK, CTL_REFUSED (skipped),
 * CTL_UNUSABLE.
 */
static int import_image(struct import *im, const char *label, const char *repo,
                        const char *tag, const struct digest *d, long long size,
                        const char *mt)
{
    struct image img;
    int rc = CTL_REFUSED;

    memset(&img, 0, sizeof(img));
    img.label = label;
    if (!collect(im, &img, d, size, mt, 0))
        rc = push(im, &img, repo, tag);
    image_release(&img);
    return rc;
}

/* An index.json entry, as read. */
struct entry {
    size_t i;
    char label[IMAGE_NAME_MAX + 64];
    struct digest d;
    long long size;
    char mt[MEDIA_TYPE_MAX];
    char repo[NAME_MAX_LEN + 1];
    char tag[TAG_MAX_LEN + 1];
    int named;             /* repo is set */
    struct digest subject; /* of an unnamed referrer */
};

static int image_type(const char *mt)
{
    return !strcmp(mt, MT_OCI_MANIFEST) || !strcmp(mt, MT_OCI_INDEX) ||
           !strcmp(mt, MT_DOCKER_MANIFEST) || !strcmp(mt, MT_DOCKER_LIST);
}

/*
 * Read entry e of index.json into *out, naming it: from
 * io.containerd.image.name, else from --repo (repo) and ref.name. 0 (a
 * manifest to import), 1 (not an image: ignored), -1 (said).
 */
static int read_entry(json_t *e, size_t i, const char *repo, struct entry *out)
{
    const char *ds = json_string_value(json_object_get(e, "digest"));
    const char *mt = json_string_value(json_object_get(e, "mediaType"));
    const char *name = annotation(e, ANN_IMAGE_NAME);
    const char *ref = annotation(e, ANN_REF_NAME);
    json_t *size = json_object_get(e, "size");
    char err[512];
    struct ref r;

    memset(out, 0, sizeof(*out));
    out->i = i;
    snprintf(out->label, sizeof(out->label), "index.json entry %zu (%s)", i,
             ds ? ds : "no digest");
    if (!ds || digest_parse(&out->d, ds, strlen(ds)) || !mt ||
        !json_is_integer(size) || json_integer_value(size) < 0) {
        ctl_error("%s: not a descriptor of a supported digest", out->label);
        return -1;
    }
    if (!image_type(mt))
        return 1;
    snprintf(out->mt, sizeof(out->mt), "%s", mt);
    out->size = (long long)json_integer_value(size);
    if (name) {
        if (ref_parse(name, &r, err, sizeof(err))) {
            ctl_error("%s: %s: %s", out->label, ANN_IMAGE_NAME, err);
            return -1;
        }
        if (r.kind == REF_DIGEST && !digest_equal(&r.digest, &out->d)) {
            ctl_error("%s: its name '%s' has another digest", out->label, name);
            return -1;
        }
        memcpy(out->repo, r.repo, sizeof(r.repo));
        if (r.kind == REF_TAG)
            memcpy(out->tag, r.tag, sizeof(r.tag));
        else if (r.kind == REF_REPO && ref && tag_valid(ref, strlen(ref)))
            snprintf(out->tag, sizeof(out->tag), "%s", ref);
        out->named = 1;
    } else if (repo) {
        if (ref && !tag_valid(ref, strlen(ref))) {
            ctl_error("%s: its %s '%s' is not a valid tag", out->label,
                      ANN_REF_NAME, ref);
            return -1;
        }
        snprintf(out->repo, sizeof(out->repo), "%s", repo);
        snprintf(out->tag, sizeof(out->tag), "%s", ref ? ref : "");
        out->named = 1;
    }
    if (out->named)
        snprintf(out->label, sizeof(out->label), "%s%s%s", out->repo,
                 out->tag[0] ? ":" : "@", out->tag[0] ? out->tag : ds);
    return 0;
}

/*
 * An entry without a name: a referrer goes where its subject went; else
 * it is refused. 0 (it waits for its subject), -1 (said).
 */
static int unnamed(struct import *im, struct entry *e)
{
    struct image img;
    struct node n;
    int rc = -1;

    memset(&img, 0, sizeof(img));
    img.label = e->label;
    if (read_manifest(im, &img, &e->d, e->size, e->mt, &n))
        return -1;
    if (n.m.has_subject) {
        e->subject = n.m.subject;
        rc = 0;
    } else {
        ctl_error("%s has no name (%s): give --repo", e->label, ANN_IMAGE_NAME);
    }
    buf_release(&n.body);
    manifest_release(&n.m);
    return rc;
}

static int import_summary(const struct import *im, double secs)
{
    char up[OUT_SIZE_MAX], there[OUT_SIZE_MAX];

    if (im->c->json)
        return out_json(json_pack(
                   "{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
                   "s:I, s:f}",
                   "command", "import-oci", "directory", im->dir, "images",
                   (json_int_t)im->images, "skipped", (json_int_t)im->skipped,
                   "ignored", (json_int_t)im->ignored, "manifests",
                   (json_int_t)im->manifests, "tags", (json_int_t)im->tags,
                   "uploaded", (json_int_t)im->uploaded, "present",
                   (json_int_t)im->present, "mounted", (json_int_t)im->mounted,
                   "bytes_uploaded", (json_int_t)im->bytes_uploaded,
                   "bytes_present", (json_int_t)im->bytes_present, "seconds",
                   secs))
                   ? CTL_UNUSABLE
                   : CTL_OK;
    out_size(im->bytes_uploaded, up);
    out_size(im->bytes_present, there);
    printf("imported %lld image%s from '%s' (%lld manifest%s and %lld tag%s "
           "new, %lld blob%s: %s uploaded, %s already there) in %.1f s",
           im->images, im->images == 1 ? "" : "s", im->dir, im->manifests,
           im->manifests == 1 ? "" : "s", im->tags, im->tags == 1 ? "" : "s",
           im->uploaded + im->present + im->mounted,
           im->uploaded + im->present + im->mounted == 1 ? "" : "s", up, there,
           secs);
    if (im->skipped)
        printf("; %lld skipped", im->skipped);
    printf("\n");
    return CTL_OK;
}

int cmd_import_oci(struct ctl *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"repo", required_argument, NULL, 'r'},
        {NULL, 0, NULL, 0},
    };
    char dstr[DIGEST_STR_MAX], label[IMAGE_NAME_MAX + 64];
    char to[NAME_MAX_LEN + 1];
    const char *repo = NULL;
    struct entry *es = NULL;
    struct import im;
    double t0;
    json_t *index = NULL, *e;
    size_t i, j, n = 0;
    int opt, rc = CTL_OK, irc, progress, hit;

    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (opt != 'r')
            return ctl_usage(c, NULL);
        repo = optarg;
    }
    if (argc - optind != 1)
        return ctl_usage(c, "import-oci takes one directory");
    if (repo && !name_valid(repo, strlen(repo)))
        return ctl_usage(c, "invalid repository name '%s'", repo);
    memset(&im, 0, sizeof(im));
    im.c = c;
    im.dir = argv[optind];
    if (strlen(im.dir) > PATH_MAX - 300)
        return ctl_usage(c, "the directory '%s' is too long a path", im.dir);
    rc = ctl_open(c, 1);
    if (rc)
        return rc;
    t0 = out_clock();
    irc = check_layout_file(im.dir);
    if (irc) {
        if (irc > 0 && access(im.dir, F_OK) == 0)
            ctl_error("'%s' is not an OCI layout: no oci-layout file", im.dir);
        else if (irc > 0)
            ctl_error("cannot read '%s': %s", im.dir, strerror(errno));
        return CTL_REFUSED;
    }
    index = load_index(im.dir, 0);
    if (!index)
        return CTL_REFUSED;
    im.holders = json_object();
    es = xcalloc(json_array_size(json_object_get(index, "manifests")) + 1,
                 sizeof(*es));
    json_array_foreach(json_object_get(index, "manifests"), i, e)
    {
        irc = read_entry(e, i, repo, &es[n]);
        if (irc > 0) {
            im.ignored++;
            continue;
        }
        if (irc < 0 || (!es[n].named && unnamed(&im, &es[n]))) {
            im.skipped++;
            continue;
        }
        n++;
    }
    for (i = 0; i < n && rc != CTL_UNUSABLE; i++) {
        if (!es[i].named)
            continue;
        irc = import_image(&im, es[i].label, es[i].repo,
                           es[i].tag[0] ? es[i].tag : NULL, &es[i].d,
                           es[i].size, es[i].mt);
        if (irc == CTL_UNUSABLE)
            rc = irc;
        else if (irc)
            im.skipped++;
        es[i].named = 2; /* done */
    }
    /* referrers without a name go where their subjects went, repeatedly */
    for (progress = 1; progress && rc != CTL_UNUSABLE;) {
        progress = 0;
        for (i = 0; i < n && rc != CTL_UNUSABLE; i++) {
            if (es[i].named)
                continue;
            hit = 0;
            for (j = 0; j < im.npl && rc != CTL_UNUSABLE; j++) {
                if (!digest_equal(&im.pl[j].d, &es[i].subject))
                    continue;
                hit = 1;
                /* import_image() adds to im.pl, which may move */
                memcpy(to, im.pl[j].repo, sizeof(to));
                digest_format(&es[i].d, dstr);
                snprintf(label, sizeof(label), "%s@%s", to, dstr);
                irc = import_image(&im, label, to, NULL, &es[i].d, es[i].size,
                                   es[i].mt);
                if (irc == CTL_UNUSABLE)
                    rc = irc;
                else if (irc)
                    im.skipped++;
            }
            if (hit) {
                es[i].named = 2;
                progress = 1;
            }
        }
    }
    for (i = 0; i < n && rc != CTL_UNUSABLE; i++)
        if (!es[i].named) {
            digest_format(&es[i].subject, dstr);
            ctl_error("%s has no name, and its subject %s is not among the "
                      "images imported: give --repo",
                      es[i].label, dstr);
            im.skipped++;
        }
    if (rc != CTL_UNUSABLE) {
        rc = import_summary(&im, out_clock() - t0);
        if (!rc && im.skipped)
            rc = CTL_REFUSED;
    }
    free(es);
    free(im.pl);
    json_decref(im.holders);
    json_decref(index);
    return rc;
}
