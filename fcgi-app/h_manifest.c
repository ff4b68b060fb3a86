#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fcgi-app/handlers.h"
#include "fcgi-app/response.h"
#include "util/log.h"

/*
 * Manifests (oci-distribution-spec.md, "Pulling manifests", "Pushing
 * Manifests", "Deleting tags", "Deleting Manifests"). A <reference> is a
 * digest when it has a ':' (tags cannot), else a tag.
 */

/* The largest manifest a GET may have to return, whatever the config says
 * now: the most max_manifest_size may ever have allowed. */
#define MANIFEST_GET_MAX ((size_t)256 << 20)

struct ref {
    const char *tag; /* NULL when by digest */
    struct digest d; /* when by digest */
};

/*
 * The reference of a manifest request. One that is no valid tag is
 * TAG_INVALID for a PUT (put), which would make it one; for GET, HEAD and
 * DELETE no manifest has it: MANIFEST_UNKNOWN, as the OCI conformance
 * suite wants.
 */
static enum oci_err parse_ref(struct req *r, struct ref *ref, int put)
{
    memset(ref, 0, sizeof(*ref));
    if (strchr(r->ref, ':'))
        return req_digest(r, r->ref, &ref->d);
    if (tag_valid(r->ref, strlen(r->ref))) {
        ref->tag = r->ref;
        return OCI_OK;
    }
    if (!put)
        return req_fail(r, OCI_MANIFEST_UNKNOWN,
                        "'%s' in '%s': no tag has that name", r->ref, r->name);
    return req_fail(r, OCI_TAG_INVALID,
                    "'%s': tags are [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}", r->ref);
}

/* Map a store error of a manifest request. */
static enum oci_err manifest_fail(struct req *r, int rc)
{
    if (rc == STORE_NOTFOUND)
        return req_fail(r, OCI_MANIFEST_UNKNOWN, "'%s' in '%s'", r->ref,
                        r->name);
    return req_fail_store(r, rc);
}

/* GET/HEAD /v2/<name>/manifests/<reference>  (end-3) */
enum oci_err h_manifest_get(struct req *r)
{
    struct store_manifest_info info;
    char dstr[DIGEST_STR_MAX], remote[NAME_MAX_LEN + 1];
    const struct mirror_upstream *up;
    struct buf body;
    struct ref ref;
    enum oci_err err;
    int rc;

    if (parse_ref(r, &ref, 0))
        return r->err;
    if ((up = mirror_of(r, remote)))
        return mirror_manifest_get(r, up, remote, ref.tag,
                                   ref.tag ? NULL : &ref.d);
    buf_init(&body, MANIFEST_GET_MAX);
    rc = store_manifest_get(r->store, r->name, ref.tag, ref.tag ? NULL : &ref.d,
                            r->method == M_GET ? &body : NULL, &info);
    if (rc) {
        buf_release(&body);
        return manifest_fail(r, rc);
    }
    digest_format(&info.digest, dstr);
    resp_header(r, "Docker-Content-Digest: %s", dstr);
    resp_header(r, "ETag: \"%s\"", dstr);
    err = resp_send(r, 200, info.media_type, body.ptr, info.size);
    buf_release(&body);
    if (err == OCI_OK)
        manifest_pulled(r, dstr);
    return err;
}

void manifest_pulled(struct req *r, const char *dstr)
{
    /* a pull for the webhooks (hooks/hooks.h) */
    if (r->cfg->webhooks[0] && r->cfg->webhooks_pulls &&
        resp_flush(r) == OCI_OK &&
        store_audit_pull(r->store, r->name, r->ref, dstr))
        log_debug("pull of '%s' in '%s' not recorded", r->ref, r->name);
}

/* The digest of body in the algorithm of want (sha256 for a tag). */
static void hash_body(const struct buf *body, enum digest_alg alg,
                      struct digest *out)
{
    struct hasher hs;

    hasher_init(&hs, alg);
    hasher_update(&hs, body->ptr, body->len);
    hasher_final(&hs, out);
}

static enum oci_err put_fail(struct req *r, int rc, const struct digest *miss)
{
    char dstr[DIGEST_STR_MAX];

    digest_format(miss, dstr);
    switch (rc) {
    case STORE_BLOB_MISSING:
        return req_fail(r, OCI_MANIFEST_BLOB_UNKNOWN,
                        "blob '%s' is not in '%s': push it first", dstr,
                        r->name);
    case STORE_MANIFEST_MISSING:
        return req_fail(r, OCI_MANIFEST_UNKNOWN,
                        "manifest '%s' is not in '%s': push it before the "
                        "index that lists it",
                        dstr, r->name);
    case STORE_SIZE_MISMATCH:
        return req_fail(r, OCI_MANIFEST_INVALID,
                        "the descriptor of '%s' has a size other than its "
                        "content's",
                        dstr);
    case STORE_TAG_FIXED: /* the worker's tag guard: an immutable tag */
        return req_fail(r, OCI_DENIED,
                        "tag '%s' of '%s' is immutable: it names '%s' for "
                        "good; push it under another tag",
                        r->ref, r->name, dstr);
    default:
        return req_fail_store(r, rc);
    }
}

/*
 * A manifest of len bytes needs them in each namespace of a quota, unless
 * the repository has it already; its blobs are there before it.
 */
static enum oci_err manifest_quota(struct req *r, const struct digest *d,
                                   long long len)
{
    struct store_manifest_info info;

    if (!r->rules ||
        store_manifest_get(r->store, r->name, NULL, d, NULL, &info) == STORE_OK)
        return OCI_OK;
    return quota_check(r, NULL, len);
}

/* PUT /v2/<name>/manifests/<reference>  (end-7) */
enum oci_err h_manifest_put(struct req *r)
{
    char dstr[DIGEST_STR_MAX], why[512];
    struct store_manifest mf;
    struct digest got, missing;
    struct manifest m;
    struct buf body;
    struct ref ref;
    enum oci_err err = OCI_OK;
    char *referrer = NULL;
    int rc;

    if (parse_ref(r, &ref, 1))
        return r->err;
    buf_init(&body, r->cfg->max_manifest_size);
    if (req_read_body(r, &body, r->cfg->max_manifest_size)) {
        err = r->err;
        goto out;
    }
    memset(&m, 0, sizeof(m));
    if (manifest_parse(body.ptr ? body.ptr : "", body.len,
                       req_param(r, "CONTENT_TYPE"), &m, why, sizeof(why))) {
        err = req_fail(r, OCI_MANIFEST_INVALID, "%s", why);
        goto out;
    }
    hash_body(&body, ref.tag ? DIGEST_SHA256 : ref.d.alg, &got);
    if (!ref.tag && !digest_equal(&got, &ref.d)) {
        digest_format(&got, dstr);
        err = req_fail(r, OCI_DIGEST_INVALID,
                       "the manifest's digest is '%s', not '%s'", dstr, r->ref);
        goto release;
    }
    if (m.has_subject)
        referrer = manifest_descriptor_json(&m, &got, (long long)body.len);
    if (manifest_quota(r, &got, (long long)body.len)) {
        err = r->err;
        goto release;
    }
    mf.digest = &got;
    mf.body = body.ptr ? body.ptr : "";
    mf.len = body.len;
    mf.m = &m;
    mf.referrer = referrer;
    rc = store_manifest_put(r->store, r->name, ref.tag, &mf, &missing);
    if (rc) {
        err = put_fail(r, rc, &missing);
        goto release;
    }
    digest_format(&got, dstr);
    resp_header(r, "Location: /v2/%s/manifests/%s", r->name, dstr);
    resp_header(r, "Docker-Content-Digest: %s", dstr);
    if (m.has_subject) {
        /* "Pushing Manifests with Subject": the referrers API has it */
        digest_format(&m.subject, dstr);
        resp_header(r, "OCI-Subject: %s", dstr);
    }
    err = resp_send(r, 201, NULL, NULL, 0);
release:
    free(referrer);
    manifest_release(&m);
out:
    buf_release(&body);
    return err;
}

/* DELETE /v2/<name>/manifests/<reference>  (end-9) */
enum oci_err h_manifest_delete(struct req *r)
{
    char ustr[DIGEST_STR_MAX];
    struct digest user;
    struct ref ref;
    int rc;

    if (parse_ref(r, &ref, 0))
        return r->err;
    if (ref.tag)
        rc = store_tag_delete(r->store, r->name, ref.tag);
    else
        rc = store_manifest_delete(r->store, r->name, &ref.d, &user);
    if (rc == STORE_TAG_FIXED && ref.tag) /* the worker's tag guard */
        return req_fail(r, OCI_DENIED, "tag '%s' of '%s' is immutable", r->ref,
                        r->name);
    if (rc == STORE_TAG_FIXED)
        return req_fail(r, OCI_DENIED,
                        "an immutable tag of '%s' names manifest '%s'", r->name,
                        r->ref);
    if (rc == STORE_IN_USE) {
        digest_format(&user, ustr);
        return req_fail(r, OCI_IN_USE,
                        "manifest '%s' is listed by index '%s' of '%s': "
                        "delete the index first",
                        r->ref, ustr, r->name);
    }
    if (rc)
        return manifest_fail(r, rc);
    return resp_send(r, 202, NULL, NULL, 0);
}
