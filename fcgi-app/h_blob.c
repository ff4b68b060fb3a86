#include "config.h"

#include "fcgi-app/handlers.h"
#include "fcgi-app/response.h"
#include "util/range.h"

/* GET/HEAD /v2/<name>/blobs/<digest>  (end-2) */
enum oci_err h_blob_get(struct req *r)
{
    char dstr[DIGEST_STR_MAX], remote[NAME_MAX_LEN + 1];
    const struct mirror_upstream *up;
    long long size = -1, start = 0, len;
    struct store_blob *b = NULL;
    struct digest d;
    enum oci_err err;
    int rc, rk;

    if (req_digest(r, r->ref, &d))
        return r->err;
    /*
     * A client that asks may be about to push a manifest that uses it; a
     * GET of the cache's moves the blob in its eviction order.
     */
    up = mirror_of(r, remote);
    rc = store_blob_open(r->store, r->name, &d,
                         STORE_BLOB_TOUCH |
                             (up && r->method == M_GET ? STORE_BLOB_PULL : 0),
                         &b);
    /* the cache's, asked with a HEAD: the upstream's size, nothing kept */
    if (rc == STORE_NOTFOUND && up && r->method == M_HEAD) {
        err = mirror_blob_head(r, up, remote, &d, &size);
        if (err)
            return err;
    }
    if (rc == STORE_NOTFOUND && up && size < 0) {
        /* the cache's: fetched now, and streamed to a plain GET */
        int done;

        err = mirror_blob_fetch(
            r, up, remote, &d,
            r->method == M_GET && !req_param(r, "HTTP_RANGE"), &done);
        if (done || err)
            return err;
        rc = store_blob_open(r->store, r->name, &d, 0, &b);
    }
    if (rc == STORE_NOTFOUND && size < 0)
        return req_fail(r, OCI_BLOB_UNKNOWN, "%s", r->ref);
    if (rc && rc != STORE_NOTFOUND)
        return req_fail_store(r, rc);
    if (b)
        size = store_blob_size(b);
    len = size;
    rk = range_parse(req_param(r, "HTTP_RANGE"), size, &start, &len);
    if (rk == RANGE_UNSATISFIABLE) {
        resp_error_header(r, "Content-Range: bytes */%lld", size);
        err = req_fail(r, OCI_BLOB_RANGE, "blob has %lld bytes", size);
        goto close;
    }
    digest_format(&d, dstr);
    resp_header(r, "Docker-Content-Digest: %s", dstr);
    resp_header(r, "ETag: \"%s\"", dstr);
    resp_header(r, "Accept-Ranges: bytes");
    /* blobs never change: let clients and proxies cache them */
    resp_header(r, "Cache-Control: max-age=31536000");
    if (b) {
        err = resp_blob(r, b, rk == RANGE_OK, start, len);
        goto close;
    }
    if (rk == RANGE_OK)
        resp_header(r, "Content-Range: bytes %lld-%lld/%lld", start,
                    start + len - 1, size);
    err = resp_send(r, rk == RANGE_OK ? 206 : 200, "application/octet-stream",
                    NULL, len);
close:
    store_blob_close(b);
    return err;
}

/* DELETE /v2/<name>/blobs/<digest>  (end-10) */
enum oci_err h_blob_delete(struct req *r)
{
    char ustr[DIGEST_STR_MAX];
    struct digest d, user;
    int rc;

    if (req_digest(r, r->ref, &d))
        return r->err;
    rc = store_blob_delete(r->store, r->name, &d, &user);
    if (rc == STORE_NOTFOUND)
        return req_fail(r, OCI_BLOB_UNKNOWN, "%s", r->ref);
    if (rc == STORE_IN_USE) {
        digest_format(&user, ustr);
        return req_fail(r, OCI_IN_USE,
                        "blob '%s' is referenced by manifest '%s' of '%s': "
                        "delete that first",
                        r->ref, ustr, r->name);
    }
    if (rc)
        return req_fail_store(r, rc);
    return resp_send(r, 202, NULL, NULL, 0);
}
