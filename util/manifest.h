#ifndef BERTH_UTIL_MANIFEST_H
#define BERTH_UTIL_MANIFEST_H

#include <stddef.h>

#include "util/digest.h"

/*
 * Manifests as a registry must understand them: which kind a body is,
 * whether it is well-formed, and what it refers to. The body itself is
 * never re-serialised: the registry stores the client's bytes, because
 * the digest is over them.
 *
 * Understood media types (image-spec media-types.md, docker manifest v2-2):
 */
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_INDEX    "application/vnd.oci.image.index.v1+json"
#define MT_DOCKER_MANIFEST                                                     \
    "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_LIST                                                         \
    "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_SCHEMA1 "application/vnd.docker.distribution.manifest.v1+json"
#define MT_DOCKER_SCHEMA1_SIGNED                                               \
    "application/vnd.docker.distribution.manifest.v1+prettyjws"

#define MEDIA_TYPE_MAX    256 /* longest media type accepted, NUL included */
#define MANIFEST_DESC_MAX 256 /* bytes of a description kept, NUL included */

enum manifest_kind {
    MANIFEST_IMAGE = 1, /* OCI image manifest, Docker schema2 manifest */
    MANIFEST_INDEX = 2  /* OCI image index, Docker manifest list */
};

/* A descriptor the registry must hold for the manifest to be accepted. */
struct manifest_ref {
    struct digest digest;
    long long size;
};

/*
 * What manifest_parse() found. Owned by the struct: release it with
 * manifest_release(), which accepts a zeroed struct.
 */
struct manifest {
    enum manifest_kind kind;
    char media_type[MEDIA_TYPE_MAX]; /* what the body is served as */
    /* config and layers that must be blobs of the repository */
    struct manifest_ref *blobs;
    size_t nblobs;
    /* manifests an index lists, which must be in the repository */
    struct manifest_ref *children;
    size_t nchildren;
    int has_subject;
    struct digest subject;
    /*
     * For the referrers API (oci-distribution-spec.md, "Listing
     * Referrers"): artifactType, or for an image manifest without one the
     * config's mediaType; "" when there is none (an index without one).
     */
    char artifact_type[MEDIA_TYPE_MAX];
    char *annotations; /* the annotations object as JSON, or NULL */
    /*
     * For docker search: the annotation org.opencontainers.image.description
     * (annotations.md), or when it is absent or empty
     * org.opencontainers.image.title, cut to MANIFEST_DESC_MAX - 1 bytes
     * between two characters; "" when there is neither.
     */
    char description[MANIFEST_DESC_MAX];
};

#define MANIFEST_OK      0
#define MANIFEST_INVALID (-1) /* not a manifest berth accepts; see err */

/*
 * Parse and check body[0..len), pushed with the Content-Type content_type
 * (NULL if none was sent; parameters after ';' are ignored). The type is
 * the body's mediaType field, or content_type when the body has none;
 * when both are present they must agree. Docker schema1 is refused.
 * Return MANIFEST_OK and fill *out, or MANIFEST_INVALID with a one-line
 * reason in err (errlen bytes), meant for the client.
 */
int manifest_parse(const char *body, size_t len, const char *content_type,
                   struct manifest *out, char *err, size_t errlen);

void manifest_release(struct manifest *m);

/*
 * The descriptor of manifest m, whose bytes have digest d and size size,
 * as one entry of a referrers index: mediaType, size, digest, and
 * artifactType and annotations when m has them. The caller owns the
 * string and must free() it.
 */
char *manifest_descriptor_json(const struct manifest *m, const struct digest *d,
                               long long size);

#endif
