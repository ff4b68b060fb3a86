#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "util/manifest.h"
#include "util/xalloc.h"

/*
 * The checks follow image-spec manifest.md, image-index.md and
 * descriptor.md, and docker manifest-v2-2.md. What a registry cannot check
 * without the content (that a config is a config) is left alone; what it
 * must check to keep its promises (that every descriptor names a digest
 * it can look up, with a size) is checked here, before anything is
 * stored.
 */

struct parse {
    char *err;
    size_t errlen;
};

__attribute__((format(printf, 2, 3))) static int fail(struct parse *p,
                                                      const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(p->err, p->errlen, fmt, ap);
    va_end(ap);
    return MANIFEST_INVALID;
}

/* Copy "type/subtype" of a Content-Type, without parameters or blanks. */
static void bare_type(const char *ct, char *out, size_t outlen)
{
    size_t n;

    while (*ct == ' ' || *ct == '\t')
        ct++;
    n = strcspn(ct, "; \t");
    if (n >= outlen)
        n = 0; /* too long to be one we know */
    memcpy(out, ct, n);
    out[n] = '\0';
}

static int is_schema1(const char *mt)
{
    return !strcmp(mt, MT_DOCKER_SCHEMA1) ||
           !strcmp(mt, MT_DOCKER_SCHEMA1_SIGNED);
}

/* An optional string member: NULL if absent, -1 (failed) if not a string. */
static int opt_string(struct parse *p, json_t *obj, const char *key,
                      const char *where, const char **out)
{
    json_t *v = json_object_get(obj, key);

    *out = NULL;
    if (!v)
        return 0;
    if (!json_is_string(v))
        return fail(p, "%s: '%s' must be a string", where, key);
    *out = json_string_value(v);
    return 0;
}

static int check_annotations(struct parse *p, json_t *obj, const char *where)
{
    json_t *a = json_object_get(obj, "annotations"), *v;
    const char *k;

    if (!a)
        return 0;
    if (!json_is_object(a))
        return fail(p, "%s: 'annotations' must be an object", where);
    json_object_foreach(a, k, v)
    {
        if (!json_is_string(v))
            return fail(p, "%s: annotation '%s' must be a string", where, k);
    }
    return 0;
}

/*
 * Check descriptor d (descriptor.md) and, when ref is not NULL, fill it.
 * *has_urls says whether it lists urls (a layer fetched from elsewhere).
 */
static int descriptor(struct parse *p, json_t *d, const char *where,
                      struct manifest_ref *ref, int *has_urls)
{
    const char *mt, *dg, *at;
    json_t *size, *urls;
    struct digest dig;
    int rc;

    if (!json_is_object(d))
        return fail(p, "%s must be a descriptor object", where);
    if (opt_string(p, d, "mediaType", where, &mt) ||
        opt_string(p, d, "digest", where, &dg) ||
        opt_string(p, d, "artifactType", where, &at))
        return MANIFEST_INVALID;
    if (!mt || !*mt)
        return fail(p, "%s has no mediaType", where);
    if (strlen(mt) >= MEDIA_TYPE_MAX)
        return fail(p, "%s: mediaType is too long", where);
    if (!dg)
        return fail(p, "%s has no digest", where);
    rc = digest_parse(&dig, dg, strlen(dg));
    if (rc == DIGEST_UNSUPPORTED)
        return fail(p, "%s: unsupported digest algorithm in '%s'", where, dg);
    if (rc)
        return fail(p, "%s: malformed digest '%s'", where, dg);
    size = json_object_get(d, "size");
    if (!json_is_integer(size) || json_integer_value(size) < 0)
        return fail(p, "%s: 'size' must be a non-negative integer", where);
    urls = json_object_get(d, "urls");
    if (urls && !json_is_array(urls))
        return fail(p, "%s: 'urls' must be an array", where);
    if (check_annotations(p, d, where))
        return MANIFEST_INVALID;
    if (has_urls)
        *has_urls = urls && json_array_size(urls) > 0;
    if (ref) {
        ref->digest = dig;
        ref->size = (long long)json_integer_value(size);
    }
    return 0;
}

static void add_ref(struct manifest_ref **arr, size_t *n,
                    const struct manifest_ref *r)
{
    *arr = xrealloc(*arr, (*n + 1) * sizeof(**arr));
    (*arr)[(*n)++] = *r;
}

static int image_manifest(struct parse *p, json_t *root, struct manifest *m)
{
    json_t *config = json_object_get(root, "config");
    json_t *layers = json_object_get(root, "layers"), *l;
    struct manifest_ref ref;
    char where[64];
    size_t i;
    int urls;

    if (!config)
        return fail(p, "an image manifest needs a 'config' descriptor");
    if (descriptor(p, config, "config", &ref, NULL))
        return MANIFEST_INVALID;
    add_ref(&m->blobs, &m->nblobs, &ref);
    if (!m->artifact_type[0])
        snprintf(m->artifact_type, sizeof(m->artifact_type), "%s",
                 json_string_value(json_object_get(config, "mediaType")));
    if (!json_is_array(layers))
        return fail(p, "an image manifest needs a 'layers' array");
    json_array_foreach(layers, i, l)
    {
        snprintf(where, sizeof(where), "layers[%zu]", i);
        if (descriptor(p, l, where, &ref, &urls))
            return MANIFEST_INVALID;
        /* a foreign layer lives at its urls, not in the registry */
        if (!urls)
            add_ref(&m->blobs, &m->nblobs, &ref);
    }
    return 0;
}

static int image_index(struct parse *p, json_t *root, struct manifest *m)
{
    json_t *manifests = json_object_get(root, "manifests"), *e;
    struct manifest_ref ref;
    char where[64];
    size_t i;

    if (!json_is_array(manifests))
        return fail(p, "an index needs a 'manifests' array");
    json_array_foreach(manifests, i, e)
    {
        snprintf(where, sizeof(where), "manifests[%zu]", i);
        if (descriptor(p, e, where, &ref, NULL))
            return MANIFEST_INVALID;
        if (json_object_get(e, "platform") &&
            !json_is_object(json_object_get(e, "platform")))
            return fail(p, "%s: 'platform' must be an object", where);
        add_ref(&m->children, &m->nchildren, &ref);
    }
    return 0;
}

/* Decide the media type from the body's field and the Content-Type. */
static int media_type(struct parse *p, json_t *root, const char *content_type,
                      struct manifest *m)
{
    char ct[MEDIA_TYPE_MAX] = "";
    const char *field;

    if (opt_string(p, root, "mediaType", "manifest", &field))
        return MANIFEST_INVALID;
    if (content_type)
        bare_type(content_type, ct, sizeof(ct));
    if (field && strlen(field) >= MEDIA_TYPE_MAX)
        return fail(p, "mediaType is too long");
    if (field && ct[0] && strcmp(field, ct))
        return fail(p,
                    "mediaType '%s' does not match the Content-Type '%s' "
                    "it was pushed with",
                    field, ct);
    snprintf(m->media_type, sizeof(m->media_type), "%s", field ? field : ct);
    return 0;
}

/* m->description from the annotations object ann (see manifest.h) */
static void describe(json_t *ann, char *out, size_t size)
{
    json_t *v = json_object_get(ann, "org.opencontainers.image.description");
    const char *s;
    size_t n;

    if (!json_is_string(v) || !json_string_length(v))
        v = json_object_get(ann, "org.opencontainers.image.title");
    out[0] = '\0';
    if (!json_is_string(v))
        return;
    s = json_string_value(v);
    n = json_string_length(v); /* no NUL: the parser refuses \u0000 */
    if (n >= size) {
        n = size - 1;
        /* not into a UTF-8 sequence: back to the byte that starts one */
        while (n && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(out, s, n);
    out[n] = '\0';
}

int manifest_parse(const char *body, size_t len, const char *content_type,
                   struct manifest *out, char *err, size_t errlen)
{
    struct parse p = {err, errlen};
    struct manifest m;
    json_error_t jerr;
    json_t *root, *sv, *subject, *ann;
    const char *at;
    int rc = MANIFEST_INVALID;

    memset(&m, 0, sizeof(m));
    err[0] = '\0';
    root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        fail(&p, "not valid JSON: %s at line %d, column %d", jerr.text,
             jerr.line, jerr.column);
        goto out;
    }
    if (!json_is_object(root)) {
        fail(&p, "a manifest is a JSON object");
        goto out;
    }
    if (media_type(&p, root, content_type, &m))
        goto out;
    sv = json_object_get(root, "schemaVersion");
    if (is_schema1(m.media_type) ||
        (json_is_integer(sv) && json_integer_value(sv) == 1)) {
        fail(&p, "Docker schema1 manifests are not supported: push the "
                 "image as Docker schema2 or OCI");
        goto out;
    }
    if (!json_is_integer(sv) || json_integer_value(sv) != 2) {
        fail(&p, "'schemaVersion' must be 2");
        goto out;
    }
    if (opt_string(&p, root, "artifactType", "manifest", &at) ||
        check_annotations(&p, root, "manifest"))
        goto out;
    if (at && strlen(at) >= MEDIA_TYPE_MAX) {
        fail(&p, "artifactType is too long");
        goto out;
    }
    snprintf(m.artifact_type, sizeof(m.artifact_type), "%s", at ? at : "");

    if (!strcmp(m.media_type, MT_OCI_MANIFEST) ||
        !strcmp(m.media_type, MT_DOCKER_MANIFEST)) {
        m.kind = MANIFEST_IMAGE;
        if (image_manifest(&p, root, &m))
            goto out;
    } else if (!strcmp(m.media_type, MT_OCI_INDEX) ||
               !strcmp(m.media_type, MT_DOCKER_LIST)) {
        m.kind = MANIFEST_INDEX;
        if (image_index(&p, root, &m))
            goto out;
    } else if (!m.media_type[0]) {
        fail(&p, "the manifest has no mediaType and was pushed without a "
                 "Content-Type");
        goto out;
    } else {
        fail(&p, "unsupported manifest media type '%s'", m.media_type);
        goto out;
    }

    subject = json_object_get(root, "subject");
    if (subject) {
        struct manifest_ref ref;

        if (descriptor(&p, subject, "subject", &ref, NULL))
            goto out;
        m.has_subject = 1;
        m.subject = ref.digest;
    }
    ann = json_object_get(root, "annotations");
    if (ann && json_object_size(ann)) {
        m.annotations = json_dumps(ann, JSON_COMPACT | JSON_ENSURE_ASCII);
        describe(ann, m.description, sizeof(m.description));
    }
    *out = m;
    memset(&m, 0, sizeof(m)); /* now owned by *out */
    rc = MANIFEST_OK;
out:
    manifest_release(&m);
    json_decref(root);
    return rc;
}

void manifest_release(struct manifest *m)
{
    free(m->blobs);
    free(m->children);
    free(m->annotations); /* from json_dumps(): free() */
    m->blobs = m->children = NULL;
    m->annotations = NULL;
    m->nblobs = m->nchildren = 0;
}

char *manifest_descriptor_json(const struct manifest *m, const struct digest *d,
                               long long size)
{
    char dstr[DIGEST_STR_MAX];
    json_t *root, *ann = NULL;
    char *s;

    digest_format(d, dstr);
    if (m->annotations)
        ann = json_loads(m->annotations, 0, NULL);
    /* "s*" drops a NULL artifactType; "o*" steals ann and drops a NULL */
    root = json_pack("{s:s, s:I, s:s, s:s*, s:o*}", "mediaType", m->media_type,
                     "size", (json_int_t)size, "digest", dstr, "artifactType",
                     m->artifact_type[0] ? m->artifact_type : NULL,
                     "annotations", ann);
    BUG_ON(!root);
    s = json_dumps(root, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(root);
    BUG_ON(!s);
    return s;
}
