#ifndef BERTH_FCGI_APP_URI_H
#define BERTH_FCGI_APP_URI_H

#include <stddef.h>

/*
 * The request target (RFC 9112 origin-form, "/path?query") as the web
 * server passes it in REQUEST_URI, still percent-encoded. Pure functions
 * of their arguments: no FastCGI, no allocation.
 */

/*
 * Split uri into its path, percent-decoded into path (pathlen bytes,
 * NUL-terminated), and its raw query (*query points into uri after the
 * '?', or at "" when there is none). Return 0, or -1 when uri does not
 * start with '/', has a bad or NUL-producing %-escape in its path, or its
 * path does not fit; path and *query are then unspecified.
 */
int uri_split(const char *uri, char *path, size_t pathlen, const char **query);

/*
 * Find parameter key in query ("a=1&b=2", raw) and percent-decode its
 * value into out (outlen bytes, NUL-terminated); a key without '=' has
 * the value "". The first occurrence counts. Return 1 if found, 0 if
 * absent, -1 if its value does not fit or is not validly encoded (out is
 * then unspecified).
 */
int uri_query(const char *query, const char *key, char *out, size_t outlen);

#endif
