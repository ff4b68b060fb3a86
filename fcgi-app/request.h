#ifndef BERTH_FCGI_APP_REQUEST_H
#define BERTH_FCGI_APP_REQUEST_H

#include <fcgiapp.h>

#include "auth/auth.h"
#include "config/conf.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/names.h"
#include "util/ocierr.h"

enum method {
    M_GET = 1 << 0,
    M_HEAD = 1 << 1,
    M_POST = 1 << 2,
    M_PUT = 1 << 3,
    M_PATCH = 1 << 4,
    M_DELETE = 1 << 5,
    M_OTHER = 1 << 6
};

#define REQ_PATH_MAX 2048
#define REQ_REF_MAX  256 /* a digest, tag or upload id */

/*
 * One request. The struct lives as long as the worker; req_reset() clears
 * it between requests.
 *
 * Lifetimes: `query` and every FCGX_GetParam() result are borrowed from
 * libfcgi and die at FCGX_Finish_r() (fcgiapp.h). `path`, `name` and `ref`
 * are copies, decoded, valid until req_reset().
 */
struct req {
    FCGX_Request fcgx;
    struct store *store;              /* the worker's, borrowed */
    const struct config *cfg;         /* borrowed */
    const struct auth_policy *policy; /* borrowed; NULL: allow all */

    unsigned method;         /* one M_* */
    char path[REQ_PATH_MAX]; /* percent-decoded path, no query */
    const char *query;       /* raw query string, "" when none */
    char name[NAME_MAX_LEN + 1];
    char ref[REQ_REF_MAX]; /* last path segment: digest, tag or id */

    /* set by req_fail(), rendered by resp_error() */
    enum oci_err err;
    char err_detail[512];
    struct buf err_headers; /* extra header lines for the error reply */

    int headers_sent;
};

void req_init(struct req *r, struct store *s, const struct config *cfg,
              const struct auth_policy *policy);
void req_release(struct req *r);
/* Forget the previous request. */
void req_reset(struct req *r);

/* A CGI parameter ("HTTP_RANGE"), or NULL. Borrowed: see struct req. */
const char *req_param(struct req *r, const char *name);

/*
 * Fill r->method, r->path and r->query from the FastCGI parameters.
 * Return 0, or -1 when the request line cannot be a registry request.
 */
int req_parse(struct req *r);

/*
 * Find query parameter key, percent-decode its value into out (outlen
 * bytes). Return 1 if found, 0 if absent, -1 if it does not fit or is not
 * validly encoded.
 */
int req_query(struct req *r, const char *key, char *out, size_t outlen);

/*
 * The CONTENT_LENGTH of the request: its value, -1 when absent, -2 when
 * malformed.
 */
long long req_content_length(struct req *r);

/*
 * Record a failure for the router to render and return e, so handlers
 * can `return req_fail(r, OCI_BLOB_UNKNOWN, "...")`. Nothing may have
 * been written yet.
 */
enum oci_err req_fail(struct req *r, enum oci_err e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Read the whole request body into b, replacing its content. A body over
 * max bytes (Content-Length says so, or reading finds so) is refused with
 * 413 SIZE_INVALID before or while it is read; a body shorter than its
 * Content-Length, or a client that goes away, with SIZE_INVALID 400.
 */
enum oci_err req_read_body(struct req *r, struct buf *b, size_t max);

/*
 * May the client (REMOTE_USER, or anonymous) do action to repo? On no,
 * record UNAUTHORIZED (with a Basic challenge) or DENIED and return it.
 */
enum oci_err req_authorize(struct req *r, const char *repo,
                           enum auth_action action);

/*
 * End the request: flush the answer and close the connection to the web
 * server (FCGX_Finish_r), which invalidates every FCGX_GetParam() string.
 *
 * What is left of the request body is read and dropped first (up to 64
 * MiB): an error is answered before the body is read (a bad digest, a
 * busy session, a refused login), and some front servers (lighttpd over
 * TLS) reset the client's connection when the application ends a request
 * whose body it did not take, so the client never saw the answer. With
 * the body read to its end, the connection is closed at once instead of
 * libfcgi's shutdown-and-wait for the web server to close first, which
 * cost a round trip of idle worker per request.
 */
void req_finish(struct req *r);

/* The request body as a store_body reading from FCGX's stdin stream. */
void req_body(struct req *r, long long length, struct store_body *out);

/* Percent-decode s[0..len) into out (outlen bytes, NUL-terminated). */
int url_decode(const char *s, size_t len, char *out, size_t outlen);

#endif
