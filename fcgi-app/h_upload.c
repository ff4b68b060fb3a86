#include "config.h"

#include <stdio.h>
#include <string.h>

#include "fcgi-app/handlers.h"
#include "fcgi-app/response.h"
#include "util/log.h"
#include "util/range.h"

/*
 * Blob uploads (oci-distribution-spec.md, "Pushing blobs"). Session state
 * is in the store, so each request may land on any worker.
 */

/* resp_header() or resp_error_header() */
typedef void add_header_fn(struct req *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Location, Range and Docker-Upload-UUID of a session with size bytes. */
static void session_headers(struct req *r, add_header_fn *add, const char *id,
                            long long size)
{
    add(r, "Location: /v2/%s/blobs/uploads/%s", r->name, id);
    add(r, "Range: 0-%lld", size > 0 ? size - 1 : 0);
    add(r, "Docker-Upload-UUID: %s", id);
}

static enum oci_err reply_session(struct req *r, int status, const char *id,
                                  long long size)
{
    session_headers(r, resp_header, id, size);
    return resp_send(r, status, NULL, NULL, 0);
}

static enum oci_err reply_blob(struct req *r, const struct digest *d)
{
    char dstr[DIGEST_STR_MAX];

    digest_format(d, dstr);
    resp_header(r, "Location: /v2/%s/blobs/%s", r->name, dstr);
    resp_header(r, "Docker-Content-Digest: %s", dstr);
    return resp_send(r, 201, NULL, NULL, 0);
}

/* Map store errors of an upload session request. */
static enum oci_err upload_fail(struct req *r, const char *id, int rc)
{
    long long size;

    switch (rc) {
    case STORE_NOTFOUND:
        return req_fail(r, OCI_BLOB_UPLOAD_UNKNOWN, "%s", id);
    case STORE_DIGEST_MISMATCH:
        return req_fail(r, OCI_DIGEST_INVALID,
                        "content does not match the digest; the upload "
                        "session was dropped");
    case STORE_RANGE:
        /* tell the client where to resume (end-13 would say the same) */
        if (store_upload_status(r->store, r->name, id, &size) == STORE_OK)
            session_headers(r, resp_error_header, id, size);
        return req_fail(r, OCI_RANGE_INVALID,
                        "chunks must be sent in order, starting where the "
                        "upload ends");
    case STORE_SHORT:
        return req_fail(r, OCI_SIZE_INVALID,
                        "body length does not match Content-Length or "
                        "Content-Range");
    default:
        return req_fail_store(r, rc);
    }
}

/* Map the limits of store_upload_begin() for user ("" when anonymous). */
static enum oci_err limit_fail(struct req *r, const char *user, int rc)
{
    if (rc == STORE_OWNER_SESSIONS && *user)
        return req_fail(r, OCI_TOOMANYREQUESTS,
                        "'%s' has %lld upload sessions open, the most "
                        "upload_sessions_per_user allows: finish or cancel "
                        "some first",
                        user, r->cfg->upload_sessions_per_user);
    if (rc == STORE_OWNER_SESSIONS)
        return req_fail(r, OCI_TOOMANYREQUESTS,
                        "anonymous clients have %lld upload sessions open, "
                        "the most upload_sessions_per_user allows: finish "
                        "or cancel some first",
                        r->cfg->upload_sessions_per_user);
    if (rc == STORE_REPO_SESSIONS)
        return req_fail(r, OCI_TOOMANYREQUESTS,
                        "%s has %lld upload sessions open, the most "
                        "upload_sessions_per_repo allows: finish or cancel "
                        "some first",
                        r->name, r->cfg->upload_sessions_per_repo);
    return req_fail_store(r, rc);
}

/* Return the session id of r->ref, or record BLOB_UPLOAD_UNKNOWN. */
static const char *session_id(struct req *r)
{
    if (!upload_id_valid(r->ref, strlen(r->ref))) {
        req_fail(r, OCI_BLOB_UPLOAD_UNKNOWN, "'%s'", r->ref);
        return NULL;
    }
    return r->ref;
}

/* Read "?<key>=<digest>"; 1 with *d, 0 if absent, -1 recorded error. */
static int query_digest(struct req *r, const char *key, struct digest *d)
{
    char v[DIGEST_STR_MAX + 1];
    int rc = req_query(r, key, v, sizeof(v));

    if (rc == 0)
        return 0;
    if (rc < 0) {
        req_fail(r, OCI_DIGEST_INVALID, "malformed digest in '%s'", key);
        return -1;
    }
    return req_digest(r, v, d) == OCI_OK ? 1 : -1;
}

/*
 * The chunk described by Content-Range and Content-Length: where it says
 * it starts (-1 for "at the end") and how long it is (-1 if unknown).
 */
static enum oci_err chunk_extent(struct req *r, long long *start,
                                 long long *len)
{
    const char *cr = req_param(r, "HTTP_CONTENT_RANGE");
    long long cl = req_content_length(r), first, last;

    if (cl == -2)
        return req_fail(r, OCI_SIZE_INVALID, "malformed Content-Length");
    *start = -1;
    *len = cl;
    if (!cr || !*cr)
        return OCI_OK;
    if (content_range_parse(cr, &first, &last))
        return req_fail(r, OCI_BLOB_UPLOAD_INVALID,
                        "Content-Range must be '<first>-<last>'");
    if (cl >= 0 && cl != last - first + 1)
        return req_fail(r, OCI_SIZE_INVALID,
                        "Content-Range spans %lld bytes, Content-Length "
                        "says %lld",
                        last - first + 1, cl);
    *start = first;
    *len = last - first + 1;
    return OCI_OK;
}

/*
 * POST ...?mount=<digest>&from=<repo>  (end-11); 1 if mounted, -1 with
 * an error recorded (a quota), 0 for a plain session
 */
static int try_mount(struct req *r, const struct digest *d)
{
    char from[NAME_MAX_LEN + 2];
    struct store_blob *b;
    long long size;
    int rc;

    rc = req_query(r, "from", from, sizeof(from));
    if (rc != 1 || !name_valid(from, strlen(from)))
        return 0; /* no usable source: a plain session, as the spec says */
    /* a mount reads from: it must not leak a blob the client cannot pull */
    if (auth_check(r->policy, req_param(r, "REMOTE_USER"), from, AUTH_PULL))
        return 0;
    /* over a quota, a session would only be refused later: say it now */
    if (r->rules && store_blob_open(r->store, from, d, 0, &b) == STORE_OK) {
        size = store_blob_size(b);
        store_blob_close(b);
        if (quota_check(r, d, size))
            return -1;
    }
    rc = store_blob_mount(r->store, r->name, from, d, &size);
    if (rc == STORE_OK)
        return 1;
    if (rc != STORE_NOTFOUND)
        log_warn("cannot mount '%s:%s' from '%s': %s", digest_alg_name(d->alg),
                 d->hex, from, store_strerror(rc));
    return 0;
}

/* POST /v2/<name>/blobs/uploads/  (end-4a, end-4b, end-11) */
enum oci_err h_upload_start(struct req *r)
{
    const char *user = req_param(r, "REMOTE_USER");
    char id[UPLOAD_ID_LEN + 1];
    struct store_body body;
    struct digest d;
    long long size;
    int rc, have;

    have = query_digest(r, "mount", &d);
    if (have < 0)
        return r->err;
    if (have) {
        have = try_mount(r, &d);
        if (have < 0)
            return r->err;
        if (have)
            return reply_blob(r, &d);
    }

    have = query_digest(r, "digest", &d);
    if (have < 0)
        return r->err;
    /* end-4b announces the blob's size: a quota can say no at once */
    if (have && quota_check(r, &d, req_content_length(r)))
        return r->err;
    /* every anonymous client counts as one user */
    rc = store_upload_begin(r->store, r->name, user ? user : "", id);
    if (rc)
        return limit_fail(r, user ? user : "", rc);
    if (!have)
        return reply_session(r, 202, id, 0);

    /* end-4b: the whole blob in this one request */
    req_body(r, req_content_length(r), &body);
    rc = store_upload_finish(r->store, r->name, id, &body, &d, &size);
    if (rc == STORE_OK)
        return reply_blob(r, &d);
    /* a digest mismatch dropped the session already */
    if (rc != STORE_DIGEST_MISMATCH &&
        store_upload_cancel(r->store, r->name, id))
        log_warn("cannot drop upload session '%s' of '%s'", id, r->name);
    return upload_fail(r, id, rc);
}

/*
 * The quota check of a chunk of len bytes (-1: not known) at start (-1:
 * the end) of upload id, of blob d (NULL: not known yet): the upload so
 * far and the chunk are what the blob will need.
 */
static enum oci_err chunk_quota(struct req *r, const char *id,
                                const struct digest *d, long long start,
                                long long len)
{
    long long size = start;
    int rc;

    if (!r->rules)
        return OCI_OK;
    if (size < 0) {
        rc = store_upload_status(r->store, r->name, id, &size);
        if (rc)
            return upload_fail(r, id, rc);
    }
    return quota_check(r, d, size + (len > 0 ? len : 0));
}

/* PATCH /v2/<name>/blobs/uploads/<id>  (end-5) */
enum oci_err h_upload_patch(struct req *r)
{
    struct store_body body;
    long long start, len, size;
    const char *id = session_id(r);
    int rc;

    if (!id || chunk_extent(r, &start, &len) ||
        chunk_quota(r, id, NULL, start, len))
        return r->err;
    req_body(r, len, &body);
    rc = store_upload_append(r->store, r->name, id, start, &body, &size);
    if (rc)
        return upload_fail(r, id, rc);
    return reply_session(r, 202, id, size);
}

/* PUT /v2/<name>/blobs/uploads/<id>?digest=<digest>  (end-6) */
enum oci_err h_upload_put(struct req *r)
{
    struct store_body body;
    long long start, len, size;
    const char *id = session_id(r);
    struct digest d;
    int rc, have;

    if (!id)
        return r->err;
    have = query_digest(r, "digest", &d);
    if (have < 0)
        return r->err;
    if (!have)
        return req_fail(r, OCI_DIGEST_INVALID,
                        "the closing PUT needs ?digest=<digest>");
    if (chunk_extent(r, &start, &len) || chunk_quota(r, id, &d, start, len))
        return r->err;
    req_body(r, len, &body);
    if (start >= 0) {
        /* a final chunk that says where it goes: check it like a PATCH */
        rc = store_upload_append(r->store, r->name, id, start, &body, &size);
        if (rc)
            return upload_fail(r, id, rc);
        rc = store_upload_finish(r->store, r->name, id, NULL, &d, &size);
    } else {
        rc = store_upload_finish(r->store, r->name, id, &body, &d, &size);
    }
    if (rc)
        return upload_fail(r, id, rc);
    return reply_blob(r, &d);
}

/* GET /v2/<name>/blobs/uploads/<id>  (end-13) */
enum oci_err h_upload_status(struct req *r)
{
    const char *id = session_id(r);
    long long size;
    int rc;

    if (!id)
        return r->err;
    rc = store_upload_status(r->store, r->name, id, &size);
    if (rc)
        return upload_fail(r, id, rc);
    return reply_session(r, 204, id, size);
}

/* DELETE /v2/<name>/blobs/uploads/<id>: cancel the session */
enum oci_err h_upload_cancel(struct req *r)
{
    const char *id = session_id(r);
    int rc;

    if (!id)
        return r->err;
    rc = store_upload_cancel(r->store, r->name, id);
    if (rc)
        return upload_fail(r, id, rc);
    return resp_send(r, 204, NULL, NULL, -1);
}
