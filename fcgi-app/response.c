#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

int resp_head(struct req *r, int status, const char *ctype, long long clen,
              const char *extra)
{
    FCGX_Stream *out = r->fcgx.out;

    BUG_ON(r->headers_sent);
    r->headers_sent = 1;
    FCGX_FPrintF(out,
                 "Status: %d %s\r\n"
                 "Docker-Distribution-Api-Version: registry/2.0\r\n",
                 status, reason(status));
    if (ctype)
        FCGX_FPrintF(out, "Content-Type: %s\r\n", ctype);
    if (clen >= 0)
        FCGX_FPrintF(out, "Content-Length: %lld\r\n", clen);
    if (extra)
        FCGX_PutS(extra, out);
    FCGX_PutS("\r\n", out);
    if (FCGX_GetError(out)) {
        log_warn("cannot send response head: the web server went away");
        return -1;
    }
    return 0;
}

#define SEND_CHUNK (64 * 1024)

int resp_send_fd(struct req *r, int fd, long long off, long long len)
{
    char *chunk = xmalloc(SEND_CHUNK);
    int rc = 0;

    while (len > 0) {
        size_t want = len < SEND_CHUNK ? (size_t)len : SEND_CHUNK;
        ssize_t n = pread(fd, chunk, want, (off_t)off);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            log_err("cannot read blob at offset %lld: %s", off,
                    n ? strerror(errno) : "file is shorter than recorded");
            rc = -1;
            break;
        }
        if (FCGX_PutStr(chunk, (int)n, r->fcgx.out) != n) {
            log_debug("client went away during a blob download");
            rc = -1;
            break;
        }
        off += n;
        len -= n;
    }
    free(chunk);
    return rc;
}

int resp_error(struct req *r)
{
    const struct oci_err_desc *d = oci_err_desc(r->err);
    json_t *root, *detail;
    char *body;
    int rc = -1;

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
    if (resp_head(r, d->http_status, "application/json",
                  (long long)strlen(body), buf_str(&r->err_headers)) == 0) {
        if (r->method == M_HEAD) /* the head says how long it would be */
            rc = 0;
        else if (FCGX_PutS(body, r->fcgx.out) >= 0)
            rc = 0;
    }
    free(body); /* json_dumps() result is ours to free() */
out:
    json_decref(root);
    return rc;
}
