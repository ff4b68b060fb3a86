#ifndef BERTH_FCGI_APP_RESPONSE_H
#define BERTH_FCGI_APP_RESPONSE_H

#include "fcgi-app/request.h"

/*
 * Write the CGI response head: Status, the API version header, then
 * Content-Type and Content-Length when given (ctype NULL, clen < 0 to
 * omit), then `extra`, zero or more complete "Name: value\r\n" lines.
 * Return 0, or -1 if the web server is gone (logged).
 */
int resp_head(struct req *r, int status, const char *ctype, long long clen,
              const char *extra);

/*
 * Stream len bytes of fd from offset off as the body. Return 0, or -1 on
 * a read or client error (the response is then cut short; logged).
 */
int resp_send_fd(struct req *r, int fd, long long off, long long len);

/*
 * Render r->err and r->err_detail as the spec's error body,
 * {"errors":[{"code":..,"message":..,"detail":..}]}, with r->err_headers.
 * The only place that writes an error: handlers call req_fail() and
 * return. Return 0, or -1 if headers had already gone out (logged).
 */
int resp_error(struct req *r);

#endif
