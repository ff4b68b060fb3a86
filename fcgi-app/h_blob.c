#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fcgi-app/handlers.h"
#include "fcgi-app/response.h"
#include "util/log.h"
#include "util/range.h"

/*
 * Hand the file to the web server: it answers GET (and Range) from the
 * file with sendfile(2). lighttpd and Apache mod_xsendfile take the
 * absolute path; nginx takes a URI of an `internal` location that maps
 * onto <root>/blobs/.
 */
static enum oci_err offload(struct req *r, const struct digest *d,
                            struct buf *h)
{
    char path[PATH_MAX];
    size_t rel;

    if (store_blob_path(r->store, d, path, sizeof(path), &rel))
        return req_fail(r, OCI_INTERNAL, "blob path too long");
    if (r->cfg->offload == OFFLOAD_XSENDFILE)
        buf_addf(h, "X-Sendfile: %s\r\n", path);
    else
        buf_addf(h, "X-Accel-Redirect: %s/%s\r\n", r->cfg->offload_prefix,
                 path + rel);
    resp_head(r, 200, "application/octet-stream", -1, buf_str(h));
    return OCI_OK;
}

/* The largest blob kept in the database (store_options.inline_max). */
#define INLINE_GET_MAX ((size_t)1 << 20)

/* GET/HEAD /v2/<name>/blobs/<digest>  (end-2) */
enum oci_err h_blob_get(struct req *r)
{
    char dstr[DIGEST_STR_MAX], line[64];
    long long size, start = 0, len;
    struct buf h, data;
    struct digest d;
    int fd = -1, rc, rk, inlined = 0, send_file;
    enum oci_err err = OCI_OK;

    if (h_parse_digest(r, r->ref, &d))
        return r->err;
    rc = store_blob_stat(r->store, r->name, &d, &size, &inlined);
    if (rc == STORE_NOTFOUND)
        return req_fail(r, OCI_BLOB_UNKNOWN, "%s", r->ref);
    if (rc)
        return h_store_fail(r, rc);
    /* the web server sends files; a blob kept in the database has none */
    send_file =
        r->method == M_GET && r->cfg->offload != OFFLOAD_NONE && !inlined;
    buf_init(&data, INLINE_GET_MAX);
    if (r->method == M_GET && !send_file) {
        rc = store_blob_open(r->store, r->name, &d, &fd, &size, &data);
        if (rc == STORE_NOTFOUND)
            return req_fail(r, OCI_BLOB_UNKNOWN, "%s", r->ref);
        if (rc)
            return h_store_fail(r, rc);
    }

    digest_format(&d, dstr);
    buf_init(&h, 8192);
    /* blobs never change: let clients and proxies cache them */
    buf_addf(&h,
             "Docker-Content-Digest: %s\r\nETag: \"%s\"\r\n"
             "Accept-Ranges: bytes\r\n"
             "Cache-Control: max-age=31536000\r\n",
             dstr, dstr);
    len = size;
    rk = range_parse(req_param(r, "HTTP_RANGE"), size, &start, &len);
    if (rk == RANGE_UNSATISFIABLE) {
        snprintf(line, sizeof(line), "Content-Range: bytes */%lld\r\n", size);
        buf_adds(&r->err_headers, line);
        err = req_fail(r, OCI_BLOB_RANGE, "blob has %lld bytes", size);
        goto out;
    }
    /* the web server serves the Range itself, as for a static file */
    if (send_file) {
        err = offload(r, &d, &h);
        goto out;
    }
    if (rk == RANGE_OK)
        buf_addf(&h, "Content-Range: bytes %lld-%lld/%lld\r\n", start,
                 start + len - 1, size);
    if (resp_head(r, rk == RANGE_OK ? 206 : 200, "application/octet-stream",
                  len, buf_str(&h)) == 0 &&
        r->method == M_GET) {
        if (fd >= 0)
            resp_send_fd(r, fd, start, len);
        else if (len > 0)
            FCGX_PutStr(data.ptr + start, (int)len, r->fcgx.out);
    }
out:
    buf_release(&h);
    buf_release(&data);
    if (fd >= 0)
        close(fd);
    return err;
}

/* DELETE /v2/<name>/blobs/<digest>  (end-10) */
enum oci_err h_blob_delete(struct req *r)
{
    struct digest d;
    int rc;

    if (!r->cfg->delete_enabled)
        return req_fail(r, OCI_UNSUPPORTED, "deletion is disabled");
    if (h_parse_digest(r, r->ref, &d))
        return r->err;
    rc = store_blob_delete(r->store, r->name, &d);
    if (rc == STORE_NOTFOUND)
        return req_fail(r, OCI_BLOB_UNKNOWN, "%s", r->ref);
    if (rc)
        return h_store_fail(r, rc);
    resp_head(r, 202, NULL, 0, NULL);
    return OCI_OK;
}
