#ifndef BERTH_UPSTREAM_UPSTREAM_H
#define BERTH_UPSTREAM_UPSTREAM_H

#include <stddef.h>

#include "mirror/mirror.h"
#include "util/buf.h"
#include "util/digest.h"
#include "util/manifest.h"

/*
 * A client of one upstream registry (mirror/mirror.h) over libcurl, for
 * the pull-through cache: manifests by tag or digest, and blobs streamed
 * to a callback. It logs in as docker does: a 401 with a Bearer challenge
 * (realm, service, scope) gets a token from the realm, with the
 * upstream's credentials as Basic if it has some, and the token is kept
 * until it expires; a Basic challenge gets the credentials. It connects
 * within the upstream's timeout, gives up on an answer that stalls that
 * long, verifies TLS (the upstream's ca= or the system's CAs), and takes
 * proxies from the environment as libcurl does (https_proxy, no_proxy).
 * Knows nothing of the store or of FastCGI.
 *
 * A struct upstream is not thread-safe: one per worker (it keeps one
 * connection open between requests, and the tokens).
 */

struct upstream; /* opaque */

#define UPSTREAM_OK       0
#define UPSTREAM_NOTFOUND (-1) /* 404: the upstream has no such thing */
#define UPSTREAM_DOWN     (-2) /* cannot connect, stalled, 5xx, 429 */
#define UPSTREAM_DENIED   (-3) /* 401 or 403 after the login */
#define UPSTREAM_BAD      (-4) /* a malformed, short or too long answer */
#define UPSTREAM_ABORTED  (-5) /* the caller's callback stopped it */
#define UPSTREAM_TLS      (-6) /* its certificate fails ca= or the system CAs */

const char *upstream_strerror(int rc);

/*
 * A client of u (whose strings are copied): NULL, with a reason in err,
 * when its credentials file cannot be read or libcurl fails to start.
 * Free with upstream_free(), which accepts NULL.
 */
struct upstream *upstream_new(const struct mirror_upstream *u, char *err,
                              size_t errlen);
void upstream_free(struct upstream *c);

/* Whether c was made from an upstream rule equal to u (a reload). */
int upstream_is(const struct upstream *c, const struct mirror_upstream *u);

/*
 * Whether c's credentials file or ca file is no longer the one c began
 * with (written since, replaced or gone): a client made again reads the
 * new password or certificates, with no restart. 0 for a client with
 * neither.
 */
int upstream_changed(const struct upstream *c);

/* What the upstream said of an answer's head. */
struct upstream_answer {
    int status;                  /* HTTP status, 0: none */
    long long length;            /* Content-Length, -1: none */
    char ctype[MEDIA_TYPE_MAX];  /* Content-Type, "" when none */
    char digest[DIGEST_STR_MAX]; /* Docker-Content-Digest, or "" */
};

/*
 * GET (body not NULL: the manifest into body, at most body->max bytes,
 * else UPSTREAM_BAD) or HEAD (body NULL) manifest ref (tag or digest) of
 * repository remote. On UPSTREAM_OK *a has the head of the 200.
 */
int upstream_manifest(struct upstream *c, const char *remote, const char *ref,
                      struct buf *body, struct upstream_answer *a);

/*
 * The blob callbacks: start is called once with the head of the 200 (a
 * redirect followed), before any data; data with each piece of the body.
 * Either returns 0 to go on, or nonzero to stop the transfer
 * (UPSTREAM_ABORTED).
 */
typedef int upstream_start_fn(void *ctx, const struct upstream_answer *a);
typedef int upstream_data_fn(void *ctx, const char *data, size_t len);

/*
 * GET blob d of repository remote, streamed to the callbacks. Returns
 * UPSTREAM_OK when the whole body (as long as its Content-Length said)
 * went to data; the caller still checks the digest.
 */
int upstream_blob(struct upstream *c, const char *remote,
                  const struct digest *d, upstream_start_fn *start,
                  upstream_data_fn *data, void *ctx);

/*
 * HEAD blob d of repository remote: on UPSTREAM_OK *a has the head of the
 * 200 (its length -1 when the upstream gave none). Nothing is fetched.
 */
int upstream_blob_head(struct upstream *c, const char *remote,
                       const struct digest *d, struct upstream_answer *a);

#endif
