#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcgiapp.h>
#include <jansson.h>

#include "fcgi-app/response.h"
#include "util/log.h"
#include "util/xalloc.h"

static const char *reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 206:
        return "Partial Content";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 413:
        return "Payload Too Large";
    case 416:
        return "Range Not Satisfiable";
    case 429:
        return "Too Many Requests";
    case 503:
        return "Service Unavailable";
    case 507:
        return "Insufficient Storage";
    default:
        return "Internal Server Error";
    }
}

/* Append a header line and its "\r\n" to b, or set *overflow. */
__attribute__((format(printf, 3, 0))) static void
add_line(struct buf *b, int *overflow, const char *fmt, va_list ap)
{
    /* the whole set is dropped then, so a half line does no harm */
    if (buf_vaddf(b, fmt, ap) || buf_adds(b, "\r\n"))
        *overflow = 1;
}

void resp_header(struct req *r, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    add_line(&r->headers, &r->headers_overflow, fmt, ap);
    va_end(ap);
}

void resp_error_header(struct req *r, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    add_line(&r->err_headers, &r->err_headers_overflow, fmt, ap);
    va_end(ap);
}

/* Whether the web server has gone away: writes to it failed. */
static int gone(struct req *r)
{
    return FCGX_GetError(r->fcgx->out) != 0;
}

/*
 * Write the CGI head: Status, the API version header, Content-Type and
 * Content-Length when given (ctype NULL, clen < 0 to omit), then the
 * lines in extra. Return 0, or -1 if the web server is gone.
 */
static int send_head(struct req *r, int status, const char *ctype,
                     long long clen, const struct buf *extra)
{
    FCGX_Stream *out = r->fcgx->out;

    BUG_ON(r->headers_sent);
    r->headers_sent = 1;
    r->status = status;
    FCGX_FPrintF(out,
                 "Status: %d %s\r\n"
                 "Docker-Distribution-Api-Version: registry/2.0\r\n",
                 status, reason(status));
    if (ctype)
        FCGX_FPrintF(out, "Content-Type: %s\r\n", ctype);
    if (clen >= 0)
        FCGX_FPrintF(out, "Content-Length: %lld\r\n", clen);
    FCGX_PutStr(buf_str(extra), (int)extra->len, out);
    FCGX_PutS("\r\n", out);
    if (gone(r)) {
        log_warn("cannot send response head: the web server went away");
        return -1;
    }
    return 0;
}

static enum oci_err check_headers(struct req *r)
{
    if (r->headers_overflow)
        return req_fail(r, OCI_INTERNAL,
                        "the response headers are over %zu bytes",
                        r->headers.max);
    return OCI_OK;
}

/* Send len bytes of data as (part of) the body. */
static enum oci_err send_body(struct req *r, const void *data, size_t len)
{
    const char *p = data;

    /* FCGX_PutStr takes an int */
    while (len > 0) {
        int n = len > INT_MAX ? INT_MAX : (int)len;

        if (FCGX_PutStr(p, n, r->fcgx->out) != n || gone(r)) {
            log_debug("client went away during the body");
            return OCI_GONE;
        }
        p += n;
        len -= (size_t)n;
        r->bytes_out += n;
    }
    return OCI_OK;
}

enum oci_err resp_send(struct req *r, int status, const char *ctype,
                       const void *body, long long len)
{
    if (check_headers(r))
        return r->err;
    if (send_head(r, status, ctype, len, &r->headers))
        return OCI_GONE;
    if (r->method == M_HEAD || len <= 0)
        return OCI_OK;
    return send_body(r, body, (size_t)len);
}

enum oci_err resp_begin(struct req *r, int status, const char *ctype,
                        long long len)
{
    if (check_headers(r))
        return r->err;
    if (send_head(r, status, ctype, len, &r->headers))
        return OCI_GONE;
    return OCI_OK;
}

enum oci_err resp_body(struct req *r, const void *data, size_t len)
{
    return send_body(r, data, len);
}

enum oci_err resp_flush(struct req *r)
{
    return FCGX_FFlush(r->fcgx->out) < 0 ? OCI_GONE : OCI_OK;
}

#define SEND_CHUNK (64 * 1024)

/* Stream bytes [off, off + len) of b as the body. */
static enum oci_err send_blob(struct req *r, struct store_blob *b,
                              long long off, long long len)
{
    char *chunk = xmalloc(SEND_CHUNK);
    enum oci_err err = OCI_OK;

    while (len > 0 && err == OCI_OK) {
        size_t want = len < SEND_CHUNK ? (size_t)len : SEND_CHUNK;
        long n = store_blob_read(b, off, chunk, want);

        /* the head is out: a blob that cannot be read cuts the body */
        if (n <= 0) {
            err = OCI_GONE;
            break;
        }
        err = send_body(r, chunk, (size_t)n);
        off += n;
        len -= n;
    }
    free(chunk);
    return err;
}

/*
 * Hand the file to the web server: it answers the GET (and Range) from
 * the file with sendfile(2). lighttpd and Apache mod_xsendfile take the
 * absolute path; nginx takes a URI of an `internal` location that maps
 * onto <root>/blobs/.
 */
static enum oci_err offload(struct req *r, const char *path, size_t rel)
{
    if (r->cfg->offload == OFFLOAD_XSENDFILE)
        resp_header(r, "X-Sendfile: %s", path);
    else
        resp_header(r, "X-Accel-Redirect: %s/%s", r->cfg->offload_prefix,
                    path + rel);
    return resp_send(r, 200, "application/octet-stream", NULL, -1);
}

enum oci_err resp_blob(struct req *r, struct store_blob *b, int ranged,
                       long long start, long long len)
{
    const char *path;
    enum oci_err err;
    size_t rel;

    if (r->method == M_GET && r->cfg->offload != OFFLOAD_NONE &&
        (path = store_blob_file(b, &rel)))
        return offload(r, path, rel);
    if (ranged)
        resp_header(r, "Content-Range: bytes %lld-%lld/%lld", start,
                    start + len - 1, store_blob_size(b));
    err = check_headers(r);
    if (err)
        return err;
    if (send_head(r, ranged ? 206 : 200, "application/octet-stream", len,
                  &r->headers))
        return OCI_GONE;
    if (r->method == M_HEAD)
        return OCI_OK;
    return send_blob(r, b, start, len);
}

int resp_error(struct req *r)
{
    const struct oci_err_desc *d;
    json_t *root, *detail;
    char *body;
    int rc = -1;

    if (r->err_headers_overflow) {
        log_err("the headers of a '%s' answer are over %zu bytes",
                oci_err_desc(r->err)->code, r->err_headers.max);
        buf_reset(&r->err_headers);
        r->err = OCI_INTERNAL;
    }
    d = oci_err_desc(r->err);
    if (r->headers_sent) {
        log_warn("cannot report '%s' (%s): response already started", d->code,
                 r->err_detail);
        return -1;
    }
    if (d->http_status >= 500)
        log_err("%s '%s': %d %s", req_param(r, "REQUEST_METHOD"), r->path,
                d->http_status, r->err_detail);
    /*
     * "o*" steals the detail (even when packing fails, jansson >= 2.11)
     * and drops the key when it is NULL: no detail, or one that is not
     * UTF-8, which json_string() refuses.
     */
    detail = r->err_detail[0] ? json_string(r->err_detail) : NULL;
    root = json_pack("{s:[{s:s, s:s, s:o*}]}", "errors", "code", d->code,
                     "message", d->message, "detail", detail);
    if (!root)
        return -1;
    body = json_dumps(root, JSON_COMPACT);
    if (!body)
        goto out;
    if (send_head(r, d->http_status, "application/json",
                  (long long)strlen(body), &r->err_headers) == 0) {
        /* a HEAD's head says how long the body would be */
        if (r->method == M_HEAD || send_body(r, body, strlen(body)) == OCI_OK)
            rc = 0;
    }
    free(body); /* json_dumps() result is ours to free() */
out:
    json_decref(root);
    return rc;
}
