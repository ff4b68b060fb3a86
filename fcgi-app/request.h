#ifndef BERTH_FCGI_APP_REQUEST_H
#define BERTH_FCGI_APP_REQUEST_H

#include "auth/auth.h"
#include "config/conf.h"
#include "mirror/mirror.h"
#include "policy/policy.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/names.h"
#include "util/ocierr.h"

/*
 * The HTTP layer, over libfcgi: request.c reads requests, response.c
 * writes answers, and nothing else touches the FastCGI connection (fcgx
 * below) or includes fcgiapp.h. Handlers see a struct req.
 */

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

struct FCGX_Request; /* libfcgi's: request.c and response.c only */

/*
 * One request. The struct lives as long as the worker: req_open() sets
 * it up, req_accept() fills it with the next request, req_finish() ends
 * that, req_close() frees it.
 *
 * Lifetimes: `query` and every req_param() result are borrowed from
 * libfcgi and die at req_finish(). `path`, `name` and `ref` are copies,
 * decoded, valid until the next req_accept().
 */
struct req {
    struct FCGX_Request *fcgx;        /* private to request.c, response.c */
    struct store *store;              /* the worker's, borrowed */
    const struct config *cfg;         /* borrowed */
    const struct auth_policy *policy; /* borrowed; NULL: allow all */
    const struct policy *rules;       /* borrowed; NULL: no quotas, no
                                         immutable tags */
    const struct mirror *mirror;      /* borrowed; NULL: no pull-through
                                         cache */

    unsigned method;         /* one M_* */
    char path[REQ_PATH_MAX]; /* percent-decoded path, no query */
    const char *query;       /* raw query string, "" when none */
    char name[NAME_MAX_LEN + 1];
    char ref[REQ_REF_MAX]; /* last path segment: digest, tag or id */

    /* set by req_fail(), rendered by resp_error() */
    enum oci_err err;
    char err_detail[512];
    int refusal_noted; /* the audit log has this request's refusal */

    /*
     * Header lines of the answer, "Name: value\r\n" each: `headers` for a
     * success (resp_header()), `err_headers` for an error
     * (resp_error_header()). A line that does not fit sets the overflow
     * flag, and the answer becomes a 500 (response.h).
     */
    struct buf headers, err_headers;
    int headers_overflow, err_headers_overflow;

    int headers_sent;

    /* for the access line (req_finish) */
    long long started_us; /* when accepted, monotonic */
    int route;            /* enum route_kind the router matched, or
                             ROUTE_NONE (router.h) */
    int status;           /* of the answer sent; 0: none */
    long long bytes_in;   /* of the body, read by berth */
    long long bytes_out;  /* of the answer's body, written by berth */
};

/*
 * Set r up to take requests from listen_fd, with the worker's store,
 * configuration and access policy (all borrowed). Return 0, or -1
 * (logged). Free with req_close().
 */
int req_open(struct req *r, int listen_fd, struct store *s,
             const struct config *cfg, const struct auth_policy *policy);
void req_close(struct req *r);

/*
 * Wait for the next request on r's listen socket and take it: 0 with a
 * new request in r, or a negative errno: -EAGAIN when another worker
 * took the connection first, -EINTR on a signal, others (logged) when
 * accepting is broken.
 */
int req_accept(struct req *r) __attribute__((warn_unused_result));

/*
 * End the request: flush the answer and close the connection to the web
 * server, which invalidates every req_param() string.
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

/*
 * The listen socket, for the process that starts the workers: the
 * FastCGI library is initialised, and then
 * req_listen() opens addr ("/path/to.sock" or "host:port") and returns
 * the socket, or -1; req_fd0_listens() says whether fd 0, as a web server
 * or spawn-fcgi passes it, is a listen socket.
 */
int req_listen(const char *addr);
int req_fd0_listens(void);

/* A CGI parameter ("HTTP_RANGE"), or NULL. Borrowed: see struct req. */
const char *req_param(struct req *r, const char *name);

/*
 * Fill r->method, r->path and r->query from the FastCGI parameters.
 * Return 0, or -1 when the request line cannot be a registry request.
 */
int req_parse(struct req *r) __attribute__((warn_unused_result));

/*
 * Find query parameter key, percent-decode its value into out (outlen
 * bytes). Return 1 if found, 0 if absent, -1 if it does not fit or is not
 * validly encoded (uri_query()).
 */
int req_query(struct req *r, const char *key, char *out, size_t outlen)
    __attribute__((warn_unused_result));

/*
 * The CONTENT_LENGTH of the request: its value, -1 when absent, -2 when
 * malformed.
 */
long long req_content_length(struct req *r);

/*
 * Record a failure for the router to render and return e, so handlers
 * can `return req_fail(r, OCI_BLOB_UNKNOWN, "...")`. Nothing may have
 * been sent yet.
 */
enum oci_err req_fail(struct req *r, enum oci_err e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Read the whole request body into b, replacing its content. A body over
 * max bytes (Content-Length says so, or reading finds so) is refused with
 * 413 SIZE_INVALID before or while it is read; a body shorter than its
 * Content-Length, or a client that goes away, with SIZE_INVALID 400.
 * b->max must be at least max.
 */
enum oci_err req_read_body(struct req *r, struct buf *b, size_t max)
    __attribute__((warn_unused_result));

/*
 * Whether the rules let the client do action to repo, as req_authorize()
 * decides, without answering: 1 or 0.
 */
int req_may(struct req *r, const char *repo, enum auth_action action);

/*
 * May the client (REMOTE_USER, or anonymous) do action to repo? On no,
 * record UNAUTHORIZED (with a Basic challenge) or DENIED and return it.
 */
enum oci_err req_authorize(struct req *r, const char *repo,
                           enum auth_action action)
    __attribute__((warn_unused_result));

/*
 * Record the answer to store error rc where it has no meaning particular
 * to the endpoint (STORE_FULL: 507, STORE_BUSY: 429 with Retry-After,
 * ...; anything unexpected: 500) and return it.
 */
enum oci_err req_fail_store(struct req *r, int rc);

/* Parse digest s into *d; on failure record DIGEST_INVALID and return it. */
enum oci_err req_digest(struct req *r, const char *s, struct digest *d)
    __attribute__((warn_unused_result));

/* The request body as a store_body: length is the announced length. */
void req_body(struct req *r, long long length, struct store_body *out);

#endif
