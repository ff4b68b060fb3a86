#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fcgi-app/request.h"
#include "util/log.h"

void req_init(struct req *r, struct store *s, const struct config *cfg,
              const struct auth_policy *policy)
{
    memset(r, 0, sizeof(*r));
    r->store = s;
    r->cfg = cfg;
    r->policy = policy;
    buf_init(&r->err_headers, 4096);
}

void req_release(struct req *r)
{
    buf_release(&r->err_headers);
}

void req_reset(struct req *r)
{
    r->method = 0;
    r->path[0] = '\0';
    r->query = "";
    r->name[0] = '\0';
    r->ref[0] = '\0';
    r->err = OCI_OK;
    r->err_detail[0] = '\0';
    buf_reset(&r->err_headers);
    r->headers_sent = 0;
}

const char *req_param(struct req *r, const char *name)
{
    return FCGX_GetParam(name, r->fcgx.envp);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int url_decode(const char *s, size_t len, char *out, size_t outlen)
{
    size_t i, o = 0;

    for (i = 0; i < len; i++) {
        char c = s[i];

        if (c == '%') {
            int hi, lo;

            if (len - i < 3)
                return -1;
            hi = hexval(s[i + 1]);
            lo = hexval(s[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        if (c == '\0' || o + 1 >= outlen)
            return -1;
        out[o++] = c;
    }
    out[o] = '\0';
    return 0;
}

static unsigned parse_method(const char *m)
{
    static const struct {
        const char *name;
        unsigned bit;
    } methods[] = {
        {"GET", M_GET}, {"HEAD", M_HEAD},   {"POST", M_POST},
        {"PUT", M_PUT}, {"PATCH", M_PATCH}, {"DELETE", M_DELETE},
    };
    size_t i;

    for (i = 0; m && i < sizeof(methods) / sizeof(methods[0]); i++) {
        if (!strcmp(m, methods[i].name))
            return methods[i].bit;
    }
    return M_OTHER;
}

int req_parse(struct req *r)
{
    const char *uri = req_param(r, "REQUEST_URI");
    const char *q;
    size_t plen;

    r->method = parse_method(req_param(r, "REQUEST_METHOD"));
    if (!uri || uri[0] != '/')
        return -1;
    q = strchr(uri, '?');
    plen = q ? (size_t)(q - uri) : strlen(uri);
    r->query = q ? q + 1 : "";
    return url_decode(uri, plen, r->path, sizeof(r->path));
}

int req_query(struct req *r, const char *key, char *out, size_t outlen)
{
    size_t klen = strlen(key);
    const char *p = r->query;

    while (*p) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);

        if (len > klen && !memcmp(p, key, klen) && p[klen] == '=')
            return url_decode(p + klen + 1, len - klen - 1, out, outlen) ? -1
                                                                         : 1;
        if (len == klen && !memcmp(p, key, klen)) {
            if (outlen)
                out[0] = '\0';
            return 1;
        }
        p += len;
        if (*p == '&')
            p++;
    }
    return 0;
}

long long req_content_length(struct req *r)
{
    const char *s = req_param(r, "CONTENT_LENGTH");
    long long v;
    char *end;

    if (!s || !*s)
        return -1;
    if (*s < '0' || *s > '9')
        return -2;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || *end)
        return -2;
    return v;
}

enum oci_err req_fail(struct req *r, enum oci_err e, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(r->err_detail, sizeof(r->err_detail), fmt, ap);
    va_end(ap);
    r->err = e;
    return e;
}

static long read_fcgx(void *ctx, char *buf, size_t len)
{
    FCGX_Stream *in = ctx;
    int n;

    if (len > 1 << 20)
        len = 1 << 20;
    n = FCGX_GetStr(buf, (int)len, in);
    /*
     * libfcgi reports a connection closed or aborted by the web server
     * as a stream error, and the clean end of the body as a short read.
     */
    if (n < 0 || FCGX_GetError(in))
        return -1;
    return n;
}

enum oci_err req_read_body(struct req *r, struct buf *b, size_t max)
{
    long long cl = req_content_length(r);
    char chunk[16384];
    long n;

    buf_reset(b);
    if (cl == -2)
        return req_fail(r, OCI_SIZE_INVALID, "malformed Content-Length");
    if (cl > (long long)max)
        return req_fail(r, OCI_TOO_LARGE,
                        "the body has %lld bytes, the "
                        "limit is %zu",
                        cl, max);
    while ((n = read_fcgx(r->fcgx.in, chunk, sizeof(chunk))) > 0) {
        if ((size_t)n > max - b->len)
            return req_fail(r, OCI_TOO_LARGE,
                            "the body is over the limit "
                            "of %zu bytes",
                            max);
        buf_add(b, chunk, (size_t)n); /* b->max is at least max */
    }
    if (n < 0 || (cl >= 0 && (long long)b->len != cl))
        return req_fail(r, OCI_SIZE_INVALID,
                        "the body ended after %zu of "
                        "%lld bytes",
                        b->len, cl);
    return OCI_OK;
}

#define DRAIN_MAX ((long long)64 << 20)

void req_finish(struct req *r)
{
    char chunk[16384];
    long long total = 0;
    long n = 1;

    while (total <= DRAIN_MAX &&
           (n = read_fcgx(r->fcgx.in, chunk, sizeof(chunk))) > 0)
        total += n;
    if (n == 0)
        FCGX_Detach(&r->fcgx); /* nothing unread: close without lingering */
    else
        log_debug("left %s of the request body unread",
                  n < 0 ? "the rest" : "over 64 MiB");
    FCGX_Finish_r(&r->fcgx);
}

enum oci_err req_authorize(struct req *r, const char *repo,
                           enum auth_action action)
{
    const char *user = req_param(r, "REMOTE_USER");

    switch (auth_check(r->policy, user, repo, action)) {
    case AUTH_OK:
        return OCI_OK;
    case AUTH_NEED_LOGIN:
        buf_addf(&r->err_headers, "WWW-Authenticate: Basic realm=\"%s\"\r\n",
                 r->cfg->auth_realm);
        return req_fail(r, OCI_UNAUTHORIZED, "log in to %s",
                        repo ? repo : "this registry");
    default:
        return req_fail(r, OCI_DENIED, "'%s' may not do that to %s", user,
                        repo ? repo : "this registry");
    }
}

void req_body(struct req *r, long long length, struct store_body *out)
{
    out->read = read_fcgx;
    out->ctx = r->fcgx.in;
    out->length = length;
}
