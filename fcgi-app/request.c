#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include <fcgiapp.h>

#include "fcgi-app/metrics.h"
#include "fcgi-app/request.h"
#include "fcgi-app/response.h"
#include "fcgi-app/uri.h"
#include "config/conf.h"
#include "util/log.h"
#include "util/xalloc.h"

/* Header lines of one answer: far more than any answer of berth's has. */
#define HEADERS_MAX 4096

int req_open(struct req *r, int listen_fd, struct store *s,
             const struct config *cfg, const struct auth_policy *policy)
{
    memset(r, 0, sizeof(*r));
    r->store = s;
    r->cfg = cfg;
    r->policy = policy;
    r->query = "";
    buf_init(&r->headers, HEADERS_MAX);
    buf_init(&r->err_headers, HEADERS_MAX);
    if (FCGX_Init()) {
        log_err("cannot initialise libfcgi");
        return -1;
    }
    r->fcgx = xcalloc(1, sizeof(*r->fcgx));
    /* FAIL_ACCEPT_ON_INTR: a signal ends the wait in accept() */
    if (FCGX_InitRequest(r->fcgx, listen_fd, FCGI_FAIL_ACCEPT_ON_INTR)) {
        log_err("cannot initialise a FastCGI request");
        req_close(r);
        return -1;
    }
    return 0;
}

void req_close(struct req *r)
{
    if (r->fcgx) {
        FCGX_Free(r->fcgx, 1);
        free(r->fcgx);
        r->fcgx = NULL;
    }
    buf_release(&r->headers);
    buf_release(&r->err_headers);
}

static long long now_us(void);

/* Forget the previous request. */
static void reset(struct req *r)
{
    r->started_us = now_us();
    r->status = 0;
    r->bytes_in = 0;
    r->bytes_out = 0;
    r->method = 0;
    r->path[0] = '\0';
    r->query = "";
    r->name[0] = '\0';
    r->ref[0] = '\0';
    r->err = OCI_OK;
    r->err_detail[0] = '\0';
    r->refusal_noted = 0;
    buf_reset(&r->headers);
    buf_reset(&r->err_headers);
    r->headers_overflow = 0;
    r->err_headers_overflow = 0;
    r->headers_sent = 0;
}

/* Reads of the connection wait ms milliseconds at most, writes too. */
static void set_timeout(struct req *r, long long ms)
{
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};

    if (setsockopt(r->fcgx->ipcFd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
        setsockopt(r->fcgx->ipcFd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)))
        log_warn("cannot set the timeouts of a FastCGI connection: %s",
                 strerror(errno));
}

int req_accept(struct req *r)
{
    int rc = FCGX_Accept_r(r->fcgx);

    if (rc < 0) {
        if (rc != -EAGAIN && rc != -EWOULDBLOCK && rc != -EINTR)
            log_err("FastCGI accept failed: %s", strerror(-rc));
        return rc;
    }
    reset(r);
    /*
     * A client that stalls holds its worker body_timeout at most: a read
     * of the body, or a write of the answer the web server does not
     * take, that waits longer fails, and libfcgi reports the stream
     * broken.
     */
    set_timeout(r, r->cfg->body_timeout * 1000);
    return 0;
}

int req_listen(const char *addr)
{
    if (FCGX_Init())
        return -1;
    return FCGX_OpenSocket(addr, 128);
}

int req_fd0_listens(void)
{
    return FCGX_Init() == 0 && !FCGX_IsCGI();
}

const char *req_param(struct req *r, const char *name)
{
    return FCGX_GetParam(name, r->fcgx->envp);
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

    for (i = 0; m && i < ARRAY_SIZE(methods); i++) {
        if (!strcmp(m, methods[i].name))
            return methods[i].bit;
    }
    return M_OTHER;
}

int req_parse(struct req *r)
{
    /* whatever this request changes is the client's in the audit log */
    if (r->store)
        store_set_actor(r->store, req_param(r, "REMOTE_USER"),
                        req_param(r, "REMOTE_ADDR"));
    r->method = parse_method(req_param(r, "REQUEST_METHOD"));
    return uri_split(req_param(r, "REQUEST_URI"), r->path, sizeof(r->path),
                     &r->query);
}

int req_query(struct req *r, const char *key, char *out, size_t outlen)
{
    return uri_query(r->query, key, out, outlen);
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

static void audit_note(struct req *r, const char *event, const char *repo,
                       const char *note);

enum oci_err req_fail(struct req *r, enum oci_err e, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(r->err_detail, sizeof(r->err_detail), fmt, ap);
    va_end(ap);
    r->err = e;
    /* the push rules' refusals (quotas, immutable tags), with the reason */
    if (e == OCI_DENIED && !r->refusal_noted)
        audit_note(r, "denied", r->name[0] ? r->name : NULL, r->err_detail);
    return e;
}

static int timed_out(FCGX_Stream *in)
{
    return FCGX_GetError(in) == EAGAIN || FCGX_GetError(in) == EWOULDBLOCK;
}

static long read_fcgx(void *ctx, char *buf, size_t len)
{
    struct req *r = ctx;
    FCGX_Stream *in = r->fcgx->in;
    int n;

    if (len > 1 << 20)
        len = 1 << 20;
    n = FCGX_GetStr(buf, (int)len, in);
    /*
     * libfcgi reports a connection closed or aborted by the web server,
     * and a read that timed out (set_timeouts), as a stream error, and
     * the clean end of the body as a short read.
     */
    if (n < 0 || FCGX_GetError(in))
        return -1;
    r->bytes_in += n;
    return n;
}

enum oci_err req_read_body(struct req *r, struct buf *b, size_t max)
{
    long long cl = req_content_length(r);
    char chunk[16384];
    long n;

    BUG_ON(b->max < max);
    buf_reset(b);
    if (cl == -2)
        return req_fail(r, OCI_SIZE_INVALID, "malformed Content-Length");
    if (cl > (long long)max)
        return req_fail(r, OCI_TOO_LARGE,
                        "the body has %lld bytes, the limit is %zu", cl, max);
    while ((n = read_fcgx(r, chunk, sizeof(chunk))) > 0) {
        if ((size_t)n > max - b->len || buf_add(b, chunk, (size_t)n))
            return req_fail(r, OCI_TOO_LARGE,
                            "the body is over the limit of %zu bytes", max);
    }
    if (n < 0 || (cl >= 0 && (long long)b->len != cl))
        return req_fail(r, OCI_SIZE_INVALID,
                        "the body ended after %zu of %lld bytes", b->len, cl);
    return OCI_OK;
}

/*
 * The end of a request's body. What the client has sent of a body the
 * handler left unread is read and dropped, so that the web server passes
 * the whole request and then the answer: lighttpd, when berth answers
 * before it has passed all of a body, closes the client's connection (or
 * resets its HTTP/2 stream) while it still sends, and a client that does
 * not read an answer before it has sent its request (curl) never sees it.
 * But a refused request must not hold the worker for its client: its body
 * is read only while it comes without a pause of REFUSED_IDLE_MS, for
 * REFUSED_MS in all; an answered one for as long as each read takes less
 * than body_timeout, up to DRAIN_MAX bytes. What is left then stays
 * unread: libfcgi shuts berth's side down after the answer and reads on
 * until the web server, which has all of the answer, closes its side.
 */
#define DRAIN_MAX       ((long long)64 << 20)
#define REFUSED_IDLE_MS 100
#define REFUSED_MS      1000

static long long now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static long long now_ms(void)
{
    return now_us() / 1000;
}

/* The access line being written: text, and what it holds. */
struct line {
    char s[4 * REQ_PATH_MAX + 1024]; /* a path of escapes fits */
    size_t n;
};

static void line_addf(struct line *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void line_addf(struct line *l, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(l->s + l->n, sizeof(l->s) - l->n, fmt, ap);
    va_end(ap);
    if (n > 0)
        l->n = l->n + (size_t)n < sizeof(l->s) ? l->n + (size_t)n
                                               : sizeof(l->s) - 1;
}

/*
 * Append " key=value" in logfmt: the value bare when it is printable
 * characters other than space, '"' and '=', else quoted, with '"' and
 * '\\' escaped and other bytes as \xNN.
 */
static void logfmt(struct line *l, const char *key, const char *value)
{
    const unsigned char *p;
    int bare = *value != '\0';

    for (p = (const unsigned char *)value; *p && bare; p++)
        bare = *p > ' ' && *p < 0x7f && *p != '"' && *p != '=';
    if (bare) {
        line_addf(l, " %s=%s", key, value);
        return;
    }
    line_addf(l, " %s=\"", key);
    for (p = (const unsigned char *)value; *p; p++) {
        if (*p == '"' || *p == '\\')
            line_addf(l, "\\%c", *p);
        else if (*p < ' ' || *p >= 0x7f)
            line_addf(l, "\\x%02x", *p);
        else
            line_addf(l, "%c", *p);
    }
    line_addf(l, "\"");
}

/*
 * One line per request at info level, in logfmt (key=value, as log tools
 * read it): method, path, status (0: no answer was sent), the body bytes
 * read and written by berth (an offloaded blob's bytes are the web
 * server's), the duration, the user (REMOTE_USER, "" when anonymous) and
 * the client's address.
 */
static void access_line(struct req *r, long long duration_us)
{
    static const char *const names[] = {"GET", "HEAD",  "POST",
                                        "PUT", "PATCH", "DELETE"};
    const char *method = req_param(r, "REQUEST_METHOD");
    const char *user = req_param(r, "REMOTE_USER");
    const char *addr = req_param(r, "REMOTE_ADDR");
    struct line line, *l = &line;
    size_t i;

    if (log_level < LOG_LVL_INFO)
        return;
    for (i = 0; i < ARRAY_SIZE(names); i++)
        if (r->method == 1u << i)
            method = names[i];
    l->n = 0;
    l->s[0] = '\0';
    line_addf(l, "access");
    logfmt(l, "method", method ? method : "");
    logfmt(l, "path", r->path);
    line_addf(l, " status=%d bytes_in=%lld bytes_out=%lld duration_ms=%lld",
              r->status, r->bytes_in, r->bytes_out, duration_us / 1000);
    logfmt(l, "user", user ? user : "");
    logfmt(l, "addr", addr ? addr : "");
    log_info("%s", l->s);
}

void req_finish(struct req *r)
{
    FCGX_Stream *in = r->fcgx->in;
    int refused = r->err != OCI_OK;
    long long total = 0, end = now_ms() + REFUSED_MS, duration_us;
    char chunk[16384];
    long n = 1;

    if (timed_out(in)) /* the handler's read of the body */
        log_info("a request body sent nothing for body_timeout (%llds): "
                 "ending the request",
                 r->cfg->body_timeout);
    else if (refused && !FCGX_HasSeenEOF(in))
        set_timeout(r, REFUSED_IDLE_MS);
    while (total <= DRAIN_MAX && (!refused || now_ms() < end) &&
           (n = read_fcgx(r, chunk, sizeof(chunk))) > 0)
        total += n;
    /*
     * Nothing unread, or a refused request: close without lingering (a
     * web server that passes a slow body on as it comes, Apache's, would
     * keep the linger going as long as its client trickles).
     */
    if (n == 0 || refused)
        FCGX_Detach(r->fcgx);
    if (n != 0)
        log_debug("left the rest of the request body unread");
    duration_us = now_us() - r->started_us;
    access_line(r, duration_us);
    FCGX_Finish_r(r->fcgx);
    metrics_count(r->route, r->method, r->status, r->bytes_in, r->bytes_out,
                  duration_us);
}

int req_may(struct req *r, const char *repo, enum auth_action action)
{
    return auth_check(r->policy, req_param(r, "REMOTE_USER"), repo, action) ==
           AUTH_OK;
}

/*
 * A refused request in the audit log, once. A failure to record it
 * changes no answer.
 */
static void audit_note(struct req *r, const char *event, const char *repo,
                       const char *note)
{
    int rc;

    if (!r->store || r->refusal_noted)
        return;
    r->refusal_noted = 1;
    rc = store_audit_note(r->store, event, repo, r->ref, note);
    if (rc)
        log_warn("cannot record a refused request in the audit log: %s",
                 store_strerror(rc));
}

/* What the access rules refused: the action wanted goes in the note. */
static void audit_refused(struct req *r, const char *event, const char *repo,
                          enum auth_action action)
{
    const char *what = action == AUTH_PULL     ? "pull"
                       : action == AUTH_PUSH   ? "push"
                       : action == AUTH_DELETE ? "delete"
                       : action == AUTH_LOGIN  ? "login"
                                               : "catalog";

    audit_note(r, event, repo, what);
}

enum oci_err req_authorize(struct req *r, const char *repo,
                           enum auth_action action)
{
    const char *user = req_param(r, "REMOTE_USER");
    enum auth_result res = auth_check(r->policy, user, repo, action);

    /*
     * Every client asks /v2/ anonymously first and logs in when it is
     * challenged: that challenge is the protocol's, not a refusal.
     */
    if (res == AUTH_NEED_LOGIN && action != AUTH_LOGIN)
        audit_refused(r, "login-refused", repo, action);
    else if (res != AUTH_OK && res != AUTH_NEED_LOGIN)
        audit_refused(r, "denied", repo, action);
    switch (res) {
    case AUTH_OK:
        return OCI_OK;
    case AUTH_NEED_LOGIN:
        resp_error_header(r, "WWW-Authenticate: Basic realm=\"%s\"",
                          r->cfg->auth_realm);
        return req_fail(r, OCI_UNAUTHORIZED, "log in to %s",
                        repo ? repo : "this registry");
    default:
        return req_fail(r, OCI_DENIED, "'%s' may not do that to %s", user,
                        repo ? repo : "this registry");
    }
}

enum oci_err req_fail_store(struct req *r, int rc)
{
    switch (rc) {
    case STORE_FULL:
        return req_fail(r, OCI_STORAGE_FULL, "%s", store_strerror(rc));
    case STORE_BUSY:
        /* another request holds the session: the client may try again */
        resp_error_header(r, "Retry-After: 1");
        return req_fail(r, OCI_TOOMANYREQUESTS, "%s", store_strerror(rc));
    case STORE_SHORT:
        return req_fail(r, OCI_SIZE_INVALID, "%s", store_strerror(rc));
    case STORE_ABORTED:
        return req_fail(r, OCI_BLOB_UPLOAD_INVALID, "%s", store_strerror(rc));
    default:
        return req_fail(r, OCI_INTERNAL, "%s", store_strerror(rc));
    }
}

enum oci_err req_digest(struct req *r, const char *s, struct digest *d)
{
    int rc = digest_parse(d, s, strlen(s));

    if (rc == DIGEST_UNSUPPORTED)
        return req_fail(r, OCI_DIGEST_INVALID,
                        "unsupported digest algorithm in '%s'", s);
    if (rc)
        return req_fail(r, OCI_DIGEST_INVALID, "malformed digest '%s'", s);
    return OCI_OK;
}

void req_body(struct req *r, long long length, struct store_body *out)
{
    out->read = read_fcgx;
    out->ctx = r;
    out->length = length;
}
