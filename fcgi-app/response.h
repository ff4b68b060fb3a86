#ifndef BERTH_FCGI_APP_RESPONSE_H
#define BERTH_FCGI_APP_RESPONSE_H

#include "fcgi-app/request.h"

/*
 * Answers. A handler adds header lines with resp_header(), then ends with
 * exactly one resp_send() or resp_blob(), whose result it returns; on a
 * failure it calls neither and returns req_fail(...), and the router
 * renders that with resp_error(), the one place that writes errors.
 *
 * Every answer carries `Docker-Distribution-Api-Version: registry/2.0`.
 * The send functions return:
 *   OCI_OK        the whole answer went out;
 *   OCI_INTERNAL  nothing went out, because the header lines added did
 *                 not fit (recorded with req_fail(), so the router
 *                 answers 500 instead);
 *   OCI_GONE      the answer was cut short after it started: the web
 *                 server went away, or a blob could not be read
 *                 (logged); nothing more can be said to this client.
 */

/*
 * Add a header line, printf-style without "\r\n", to the success answer.
 * A line that does not fit is remembered: the send then fails with
 * OCI_INTERNAL rather than answer without it.
 */
void resp_header(struct req *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The same for the error answer, should the request fail (req_fail()). */
void resp_error_header(struct req *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Send the answer: status, the header lines, Content-Type ctype (NULL:
 * none), then len bytes of body. len is also the Content-Length, which a
 * HEAD gets too (the size of the GET's body) without the body; len -1
 * sends neither Content-Length nor body.
 */
enum oci_err resp_send(struct req *r, int status, const char *ctype,
                       const void *body, long long len)
    __attribute__((warn_unused_result));

/*
 * Send blob b: 200 and the whole blob, or, when ranged, 206 and bytes
 * [start, start + len) with a Content-Range. With blob offload configured
 * (cfg->offload) a GET of a blob that has a file is answered with its
 * headers and X-Sendfile or X-Accel-Redirect instead, and the web server
 * sends the file itself, Range included (ranged is then not looked at).
 */
enum oci_err resp_blob(struct req *r, struct store_blob *b, int ranged,
                       long long start, long long len)
    __attribute__((warn_unused_result));

/*
 * An answer whose body is written as it comes: resp_begin() sends the
 * status and header lines with Content-Length len (results as
 * resp_send()'s, nothing of the body), then resp_body() each piece
 * (OCI_GONE when the web server went away). Ending the request short of
 * len bytes cuts the answer: the client sees it fail.
 */
enum oci_err resp_begin(struct req *r, int status, const char *ctype,
                        long long len) __attribute__((warn_unused_result));
enum oci_err resp_body(struct req *r, const void *data, size_t len)
    __attribute__((warn_unused_result));

/*
 * Pass what has been written of the answer on to the web server now,
 * rather than when the request ends: work a handler does after its
 * answer (a pull's record for the webhooks) then does not hold the
 * client back. OCI_GONE: the web server went away.
 */
enum oci_err resp_flush(struct req *r);

/*
 * Render r->err and r->err_detail as the spec's error body,
 * {"errors":[{"code":..,"message":..,"detail":..}]}, with the error
 * header lines. Called by the router only. Return 0, or -1 if the answer
 * had already started or the web server went away (logged).
 */
int resp_error(struct req *r) __attribute__((warn_unused_result));

#endif
