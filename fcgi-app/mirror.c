#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fcgi-app/handlers.h"
#include "fcgi-app/metrics.h"
#include "fcgi-app/response.h"
#include "upstream/upstream.h"
#include "util/log.h"
#include "util/xalloc.h"

/*
 * The pull-through cache (mirror/mirror.h): the manifests and blobs of a
 * repository an upstream serves, fetched when a client first asks for
 * them and kept in the store (store_manifest_put_cached, store_fetch_*).
 * Spec: "Pulling manifests" and "Pulling blobs" (end-2, end-3) as a
 * client of the upstream, and the same endpoints to our clients.
 */

/*
 * The worker's clients of the upstreams, each with its connection and
 * tokens; made when first needed, and again when a reload changed the
 * rule or its credentials file changed.
 */
#define CLIENTS_MAX 16
static struct upstream *clients[CLIENTS_MAX];
static unsigned clients_next;

static struct upstream *client(const struct mirror_upstream *up)
{
    char err[512];
    struct upstream *c;
    size_t i;

    for (i = 0; i < CLIENTS_MAX; i++)
        if (clients[i] && upstream_is(clients[i], up))
            break;
    if (i < CLIENTS_MAX && !upstream_changed(clients[i]))
        return clients[i];
    /* a client whose file cannot be read now stays, to be tried again */
    c = upstream_new(up, err, sizeof(err));
    if (!c) {
        log_err("upstream '%s': %s", up->url, err);
        return NULL;
    }
    if (i == CLIENTS_MAX)
        i = clients_next++ % CLIENTS_MAX;
    upstream_free(clients[i]);
    clients[i] = c;
    return c;
}

const struct mirror_upstream *mirror_of(struct req *r, char *remote)
{
    char scratch[NAME_MAX_LEN + 1];

    return mirror_match(r->mirror, r->name, remote ? remote : scratch);
}

/* An upstream failure rc as the client's error. */
static enum oci_err upstream_fail(struct req *r, int rc, enum oci_err notfound,
                                  const struct mirror_upstream *up)
{
    if (rc == UPSTREAM_NOTFOUND)
        return req_fail(r, notfound, "'%s' in '%s': not at the upstream",
                        r->ref, r->name);
    return req_fail(r, OCI_UNAVAILABLE, "'%s' in '%s': %s (%s)", r->ref,
                    r->name, upstream_strerror(rc), up->url);
}

/*
 * Maintenance mode (berthctl readonly on): the store takes no writes, and
 * the cache's neither. Reads go on: what the cache fetches then goes to
 * the client and is kept nowhere.
 */
static int maintenance(struct req *r)
{
    int on = 0;

    return store_maintenance(r->store, &on) == STORE_OK && on;
}

static enum oci_err send_manifest(struct req *r, const struct digest *d,
                                  const char *ctype, const struct buf *body)
{
    char dstr[DIGEST_STR_MAX];
    enum oci_err err;

    digest_format(d, dstr);
    resp_header(r, "Docker-Content-Digest: %s", dstr);
    resp_header(r, "ETag: \"%s\"", dstr);
    err = resp_send(r, 200, ctype, body->ptr, (long long)body->len);
    if (err == OCI_OK)
        manifest_pulled(r, dstr);
    return err;
}

/* The cached copy, because the upstream failed (rc, logged) or cannot be
 * used (rc 0). */
static enum oci_err send_stale(struct req *r, const char *tag,
                               const struct store_manifest_info *info,
                               const struct buf *body, int rc)
{
    log_info("serving the cached '%s:%s': %s", r->name, tag,
             rc ? upstream_strerror(rc) : "the upstream cannot be used");
    metrics_mirror(METRICS_MIRROR_MANIFEST_STALE, 0);
    return send_manifest(r, &info->digest, info->media_type, body);
}

/*
 * The upstream answered 404 for tag, which the cache names manifest info:
 * deleted there, so gone here too, and unknown to the client. A tag the
 * tag guard holds (immutable) stays, and is served.
 */
static enum oci_err tag_gone(struct req *r, const char *tag,
                             const struct store_manifest_info *info,
                             const struct buf *body)
{
    /* in maintenance it stays, and is checked again after */
    int rc = maintenance(r)
                 ? STORE_OK
                 : store_tag_forget(r->store, r->name, tag, &info->digest);

    if (rc == STORE_TAG_FIXED) {
        log_info("serving the cached '%s:%s': gone at the upstream, "
                 "immutable here",
                 r->name, tag);
        return send_manifest(r, &info->digest, info->media_type, body);
    }
    if (rc && rc != STORE_NOTFOUND)
        log_warn("cannot drop '%s:%s', gone at the upstream: %s", r->name, tag,
                 store_strerror(rc));
    return req_fail(r, OCI_MANIFEST_UNKNOWN,
                    "'%s' in '%s': no longer at the upstream", tag, r->name);
}

/*
 * Fetch manifest ref (tag, or digest d) from the upstream, check it, keep
 * it, and answer with it. *stale, when not NULL, is the cached copy to
 * serve instead should the upstream fail (and to drop, should it have no
 * such tag now).
 */
static enum oci_err fetch_manifest(struct req *r,
                                   const struct mirror_upstream *up,
                                   struct upstream *c, const char *remote,
                                   const char *tag, const struct digest *d,
                                   const struct store_manifest_info *stale,
                                   const struct buf *stale_body)
{
    char ref[DIGEST_STR_MAX], why[512], *referrer = NULL;
    struct upstream_answer a;
    struct store_manifest mf;
    struct digest got, said;
    struct hasher hs;
    struct manifest m;
    struct buf body;
    enum oci_err err;
    int rc;

    if (d)
        digest_format(d, ref);
    buf_init(&body, r->cfg->max_manifest_size);
    rc = upstream_manifest(c, remote, tag ? tag : ref, &body, &a);
    if (rc) {
        buf_release(&body);
        if (stale && rc == UPSTREAM_NOTFOUND)
            return tag_gone(r, tag, stale, stale_body);
        if (stale)
            return send_stale(r, tag, stale, stale_body, rc);
        return upstream_fail(r, rc, OCI_MANIFEST_UNKNOWN, up);
    }
    hasher_init(&hs, d ? d->alg : DIGEST_SHA256);
    hasher_update(&hs, body.ptr ? body.ptr : "", body.len);
    hasher_final(&hs, &got);
    /* by digest it must be that one; by tag, what the upstream says */
    if ((d && !digest_equal(&got, d)) ||
        (!d && a.digest[0] &&
         (digest_parse(&said, a.digest, strlen(a.digest)) ||
          (said.alg == got.alg && !digest_equal(&said, &got))))) {
        err = req_fail(r, OCI_UNAVAILABLE,
                       "the upstream's manifest '%s' of '%s' has another "
                       "digest",
                       r->ref, remote);
        goto out;
    }
    memset(&m, 0, sizeof(m));
    if (manifest_parse(body.ptr ? body.ptr : "", body.len, a.ctype, &m, why,
                       sizeof(why))) {
        err = req_fail(r, OCI_UNAVAILABLE,
                       "the upstream's manifest '%s' of '%s': %s", r->ref,
                       remote, why);
        goto release;
    }
    if (m.has_subject)
        referrer = manifest_descriptor_json(&m, &got, (long long)body.len);
    mf.digest = &got;
    mf.body = body.ptr ? body.ptr : "";
    mf.len = body.len;
    mf.m = &m;
    mf.referrer = referrer;
    rc = maintenance(r)
             ? STORE_OK
             : store_manifest_put_cached(r->store, r->name, tag, &mf);
    if (rc) {
        err = req_fail_store(r, rc);
        goto release;
    }
    metrics_mirror(METRICS_MIRROR_MANIFEST_NEW, 0);
    err = send_manifest(r, &got, m.media_type, &body);
release:
    free(referrer);
    manifest_release(&m);
out:
    buf_release(&body);
    return err;
}

enum oci_err mirror_manifest_get(struct req *r,
                                 const struct mirror_upstream *up,
                                 const char *remote, const char *tag,
                                 const struct digest *d)
{
    struct store_manifest_info info;
    struct upstream_answer a;
    struct upstream *c;
    struct digest said;
    struct buf body;
    enum oci_err err;
    int rc, urc;

    buf_init(&body, (size_t)256 << 20);
    rc = store_manifest_get(r->store, r->name, tag, d, &body, &info);
    if (rc && rc != STORE_NOTFOUND) {
        buf_release(&body);
        return req_fail_store(r, rc);
    }
    /* by digest, or by a tag checked lately: the cached copy */
    if (rc == STORE_OK &&
        (!tag || (long long)time(NULL) - info.tagged < up->revalidate)) {
        err = send_manifest(r, &info.digest, info.media_type, &body);
        goto out;
    }
    c = client(up);
    if (!c && rc == STORE_OK) {
        err = send_stale(r, tag, &info, &body, 0);
        goto out;
    }
    if (!c) {
        err = req_fail(r, OCI_UNAVAILABLE, "upstream '%s' cannot be used",
                       up->url);
        goto out;
    }
    if (rc == STORE_NOTFOUND) {
        err = fetch_manifest(r, up, c, remote, tag, d, NULL, NULL);
        goto out;
    }
    /* a tag to check again: a HEAD says whether it moved */
    urc = upstream_manifest(c, remote, tag, NULL, &a);
    if (urc == UPSTREAM_OK && a.digest[0] &&
        !digest_parse(&said, a.digest, strlen(a.digest)) &&
        digest_equal(&said, &info.digest)) {
        rc = maintenance(r)
                 ? STORE_OK
                 : store_tag_confirm(r->store, r->name, tag, &info.digest);
        if (rc && rc != STORE_NOTFOUND)
            log_warn("cannot note the check of '%s:%s': %s", r->name, tag,
                     store_strerror(rc));
        metrics_mirror(METRICS_MIRROR_MANIFEST_SAME, 0);
        err = send_manifest(r, &info.digest, info.media_type, &body);
    } else if (urc == UPSTREAM_NOTFOUND) {
        err = tag_gone(r, tag, &info, &body);
    } else if (urc != UPSTREAM_OK) {
        /* down, slow, refused: the cached copy is what there is */
        err = send_stale(r, tag, &info, &body, urc);
    } else {
        err = fetch_manifest(r, up, c, remote, tag, NULL, &info, &body);
    }
out:
    buf_release(&body);
    return err;
}

enum oci_err mirror_blob_head(struct req *r, const struct mirror_upstream *up,
                              const char *remote, const struct digest *d,
                              long long *size)
{
    struct upstream_answer a;
    struct upstream *c;
    struct digest said;
    int urc;

    *size = -1;
    c = client(up);
    if (!c)
        return req_fail(r, OCI_UNAVAILABLE, "upstream '%s' cannot be used",
                        up->url);
    urc = upstream_blob_head(c, remote, d, &a);
    if (urc == UPSTREAM_NOTFOUND || urc == UPSTREAM_DOWN)
        return upstream_fail(r, urc, OCI_BLOB_UNKNOWN, up);
    /*
     * No length, another digest, or a refusal (a redirect signed for GETs
     * only): the fetch a GET makes decides, and checks what it gets.
     */
    if (urc == UPSTREAM_OK && a.length >= 0 &&
        (!a.digest[0] || (!digest_parse(&said, a.digest, strlen(a.digest)) &&
                          digest_equal(&said, d))))
        *size = a.length;
    return OCI_OK;
}

/* A blob's fetch while a client waits for it. */
struct pull {
    struct req *r;
    struct store_fetch *f;
    const struct digest *d;
    int stream;       /* the answer goes out while it is fetched */
    int streaming;    /* its head went out */
    int client_gone;  /* the client's end failed: fetch on for the others */
    int rc;           /* a STORE_* failure of the fetch */
    long long length; /* the upstream's Content-Length, -1: none */
    long long sent;   /* of the body, to the client */
};

static int pull_start(void *ctx, const struct upstream_answer *a)
{
    struct pull *p = ctx;
    char dstr[DIGEST_STR_MAX];

    p->length = a->length;
    if (a->length >= 0)
        store_fetch_expect(p->f, a->length);
    /* without a length, or empty, the stored blob is served after */
    if (!p->stream || a->length <= 0)
        return 0;
    digest_format(p->d, dstr);
    resp_header(p->r, "Docker-Content-Digest: %s", dstr);
    resp_header(p->r, "ETag: \"%s\"", dstr);
    resp_header(p->r, "Accept-Ranges: bytes");
    if (resp_begin(p->r, 200, "application/octet-stream", a->length) != OCI_OK)
        p->client_gone = 1;
    p->streaming = 1;
    return 0;
}

static int pull_data(void *ctx, const char *data, size_t len)
{
    struct pull *p = ctx;
    long long room;
    size_t n;

    p->rc = store_fetch_write(p->f, data, len);
    if (p->rc)
        return 1;
    if (!p->streaming || p->client_gone)
        return 0;
    /*
     * The last byte waits for the digest: a client never gets a whole
     * body that is not the blob, only one cut short.
     */
    room = p->length - 1 - p->sent;
    n = room < (long long)len ? (size_t)room : len;
    if (n && resp_body(p->r, data, n) != OCI_OK)
        p->client_gone = 1;
    p->sent += (long long)n;
    return 0;
}

/*
 * The rest of the blob (what was held back), once its digest is checked:
 * from the fetched file, before the commit flushes it.
 */
static enum oci_err send_rest(struct pull *p)
{
    char chunk[64 << 10];
    enum oci_err err = OCI_OK;
    long n;

    while (err == OCI_OK && p->sent < p->length) {
        n = store_fetch_read(p->f, p->sent, chunk, sizeof(chunk));
        if (n <= 0)
            return OCI_GONE;
        err = resp_body(p->r, chunk, (size_t)n);
        p->sent += n;
    }
    return err;
}

/* A blob passed from the upstream to the client and kept nowhere. */
struct pass {
    struct req *r;
    const struct digest *d;
    struct hasher h;
    long long length, got;
    int started;      /* the answer's head went out */
    int client_gone;  /* the client's end failed */
    enum oci_err err; /* the head could not go out (recorded) */
    char last;        /* the blob's last byte, held back */
};

static int pass_start(void *ctx, const struct upstream_answer *a)
{
    struct pass *p = ctx;
    char dstr[DIGEST_STR_MAX];
    enum oci_err err;

    p->length = a->length;
    if (a->length < 0)
        return 1; /* no length: nothing to stream with */
    if (a->length == 0)
        return 0; /* answered once checked */
    digest_format(p->d, dstr);
    resp_header(p->r, "Docker-Content-Digest: %s", dstr);
    resp_header(p->r, "ETag: \"%s\"", dstr);
    err = resp_begin(p->r, 200, "application/octet-stream", a->length);
    if (err == OCI_INTERNAL) {
        p->err = err;
        return 1;
    }
    p->started = 1;
    p->client_gone = err != OCI_OK;
    return p->client_gone;
}

static int pass_data(void *ctx, const char *data, size_t len)
{
    struct pass *p = ctx;
    size_t n = len;

    if (p->length < 0 || p->got + (long long)len > p->length)
        return 1;
    hasher_update(&p->h, data, len);
    p->got += (long long)len;
    if (!p->started)
        return 0;
    /* the last byte waits for the digest, as in pull_data() */
    if (len && p->got == p->length) {
        p->last = data[len - 1];
        n--;
    }
    if (n && resp_body(p->r, data, n) != OCI_OK) {
        p->client_gone = 1;
        return 1;
    }
    return 0;
}

/*
 * Blob d, in maintenance mode: streamed from the upstream to the client,
 * its last byte once its digest is right, and kept nowhere. *done as
 * mirror_blob_fetch()'s.
 */
static enum oci_err pass_blob(struct req *r, const struct mirror_upstream *up,
                              const char *remote, const struct digest *d,
                              int *done)
{
    char dstr[DIGEST_STR_MAX];
    struct upstream *c;
    struct digest got;
    struct pass p;
    int urc, right;

    digest_format(d, dstr);
    /* a HEAD the upstream's HEAD could not answer (mirror_blob_head) */
    if (r->method == M_HEAD)
        return req_fail(r, OCI_UNAVAILABLE,
                        "'%s' is not cached, and the registry is read-only "
                        "for maintenance",
                        dstr);
    c = client(up);
    if (!c)
        return req_fail(r, OCI_UNAVAILABLE, "upstream '%s' cannot be used",
                        up->url);
    memset(&p, 0, sizeof(p));
    p.r = r;
    p.d = d;
    p.length = -1;
    p.err = OCI_OK;
    hasher_init(&p.h, d->alg);
    urc = upstream_blob(c, remote, d, pass_start, pass_data, &p);
    hasher_final(&p.h, &got);
    right = urc == UPSTREAM_OK && p.got == p.length && digest_equal(&got, d);
    *done = p.started;
    if (p.started && (!right || p.client_gone)) {
        if (!p.client_gone)
            log_warn("passing '%s' from '%s' on failed: %s", dstr, up->url,
                     urc ? upstream_strerror(urc) : "another digest or size");
        return OCI_GONE; /* cut short: the client sees it failed */
    }
    if (p.started)
        return resp_body(r, &p.last, 1);
    if (p.err)
        return p.err;
    if (right) { /* empty */
        *done = 1;
        resp_header(r, "Docker-Content-Digest: %s", dstr);
        resp_header(r, "ETag: \"%s\"", dstr);
        return resp_send(r, 200, "application/octet-stream", NULL, 0);
    }
    if (urc == UPSTREAM_OK || urc == UPSTREAM_ABORTED)
        return req_fail(r, OCI_UNAVAILABLE,
                        "the upstream's blob '%s' has no length or is not "
                        "what it should be, and the registry is read-only "
                        "for maintenance",
                        dstr);
    return upstream_fail(r, urc, OCI_BLOB_UNKNOWN, up);
}

/* How long a worker waits for another's fetch of the same blob. */
#define FETCH_WAIT_MS (30LL * 60 * 1000)

/*
 * How long a follower of another worker's fetch (follow()) goes on while
 * that fetch makes no progress: the longest stall the fetcher's upstream
 * may have (the rule's timeout), and a margin for its commit.
 */
static long long stall_ms(const struct mirror_upstream *up)
{
    long long ms = (up->timeout + 60) * 1000;

    return ms < FETCH_WAIT_MS ? ms : FETCH_WAIT_MS;
}

static long long now_ms(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void pause_ms(long ms)
{
    struct timespec t = {0, ms * 1000000L};

    nanosleep(&t, NULL);
}

/* What follow() found, when it did not answer. */
enum follow_end {
    FOLLOW_ANSWERED, /* the answer is the result (*done) */
    FOLLOW_STORED,   /* the store has the blob now: served as stored */
    FOLLOW_WAIT,     /* wait for the lock, as a HEAD does */
};

/*
 * Blob d, which another worker fetches (its lock is held): followed, its
 * bytes sent as that worker writes them (store_fetch_follow), so that the
 * client gets its answer at once rather than after the whole fetch (and
 * the web server does not give up on a long one). The head goes out once
 * the fetcher knows the length; the last byte once the fetch made the
 * blob of the very file read; a fetch that fails or stalls cuts the
 * answer short. A blob without a length, or kept in LMDB, or a fetch that
 * ended before the head, is not followed: FOLLOW_WAIT or FOLLOW_STORED.
 */
static enum follow_end follow(struct req *r, const struct mirror_upstream *up,
                              const struct digest *d, enum oci_err *err)
{
    const size_t chunk = (size_t)256 << 10;
    char dstr[DIGEST_STR_MAX];
    long long length, sent = 0, seen = 0, moved, got, now;
    struct store_follow *f = NULL;
    unsigned char *buf;
    int rc, state, unflushed = 0;
    long n;

    rc = store_fetch_follow(r->store, r->name, d, &f);
    if (rc == STORE_FETCH_PRESENT)
        return FOLLOW_STORED;
    if (rc == STORE_NOTFOUND)
        return FOLLOW_WAIT; /* it ended: the lock says what to do */
    if (rc) {
        *err = req_fail_store(r, rc);
        return FOLLOW_ANSWERED;
    }
    /* the length, once the upstream answered the fetcher */
    moved = now_ms();
    for (;;) {
        store_follow_read(f, 0, NULL, 0, &state);
        length = store_follow_length(f);
        if (state != STORE_FOLLOW_RUNNING || length >= 0 ||
            now_ms() - moved > stall_ms(up))
            break;
        pause_ms(20);
    }
    if (state == STORE_FOLLOW_DONE || state == STORE_FOLLOW_FAILED ||
        length <= 0 || store_blob_inlined(r->store, length)) {
        store_follow_close(f);
        return state == STORE_FOLLOW_DONE ? FOLLOW_STORED : FOLLOW_WAIT;
    }
    digest_format(d, dstr);
    resp_header(r, "Docker-Content-Digest: %s", dstr);
    resp_header(r, "ETag: \"%s\"", dstr);
    resp_header(r, "Accept-Ranges: bytes");
    *err = resp_begin(r, 200, "application/octet-stream", length);
    buf = *err == OCI_OK ? xmalloc(chunk) : NULL;
    moved = now_ms();
    while (*err == OCI_OK && sent < length) {
        n = store_follow_read(f, sent, buf, chunk, &state);
        if (n < 0) {
            *err = OCI_GONE;
        } else if (n > 0) {
            *err = resp_body(r, buf, (size_t)n);
            sent += n;
            moved = now_ms();
            unflushed = 1;
        } else if (state == STORE_FOLLOW_FAILED) {
            log_warn("the fetch of '%s' that '%s' followed failed", dstr,
                     r->name);
            *err = OCI_GONE;
        } else if (state == STORE_FOLLOW_DONE) {
            log_err("the fetch of '%s' ended short of its length", dstr);
            *err = OCI_GONE;
        } else {
            /* what came goes out while the next bytes are awaited */
            if (unflushed)
                *err = resp_flush(r);
            unflushed = 0;
            now = now_ms();
            got = store_follow_got(f);
            if (got > seen) {
                seen = got;
                moved = now;
            }
            if (*err == OCI_OK && now - moved > stall_ms(up)) {
                log_warn("the fetch of '%s' that '%s' followed stalled", dstr,
                         r->name);
                *err = OCI_GONE;
            }
            if (*err == OCI_OK)
                pause_ms(20);
        }
    }
    free(buf);
    store_follow_close(f);
    return FOLLOW_ANSWERED;
}

enum oci_err mirror_blob_fetch(struct req *r, const struct mirror_upstream *up,
                               const char *remote, const struct digest *d,
                               int stream, int *done)
{
    char dstr[DIGEST_STR_MAX];
    enum oci_err err = OCI_OK;
    struct upstream *c;
    struct pull p;
    long long got;
    int rc, urc;

    *done = 0;
    if (maintenance(r))
        return pass_blob(r, up, remote, d, done);
    /* a streamed answer follows another worker's fetch (follow()) */
    rc = store_fetch_begin(r->store, r->name, d, stream ? 0 : FETCH_WAIT_MS,
                           &p.f);
    if (rc == STORE_LOCKED && stream) {
        switch (follow(r, up, d, &err)) {
        case FOLLOW_ANSWERED:
            *done = 1;
            return err;
        case FOLLOW_STORED:
            return OCI_OK;
        case FOLLOW_WAIT:
            break;
        }
        rc = store_fetch_begin(r->store, r->name, d, FETCH_WAIT_MS, &p.f);
    }
    if (rc == STORE_FETCH_PRESENT)
        return OCI_OK; /* another worker fetched it: served as stored */
    if (rc == STORE_LOCKED)
        return req_fail(r, OCI_UNAVAILABLE, "'%s' is still being fetched",
                        r->ref);
    if (rc)
        return req_fail_store(r, rc);
    c = client(up);
    if (!c) {
        store_fetch_abort(p.f);
        return req_fail(r, OCI_UNAVAILABLE, "upstream '%s' cannot be used",
                        up->url);
    }
    p.r = r;
    p.d = d;
    p.stream = stream;
    p.streaming = p.client_gone = 0;
    p.rc = STORE_OK;
    p.length = -1;
    p.sent = 0;
    urc = upstream_blob(c, remote, d, pull_start, pull_data, &p);
    digest_format(d, dstr);
    if (urc) {
        metrics_mirror(METRICS_MIRROR_BLOB_FAILED, 0);
        store_fetch_abort(p.f);
        if (urc == UPSTREAM_ABORTED)
            log_warn("fetch of '%s' from '%s' stopped: %s", dstr, up->url,
                     store_strerror(p.rc));
        *done = p.streaming;
        if (p.streaming)
            return OCI_GONE; /* cut short: the client sees it failed */
        if (urc == UPSTREAM_ABORTED)
            return req_fail(r, OCI_UNAVAILABLE,
                            "the upstream's blob '%s' is not what it should "
                            "be",
                            dstr);
        return upstream_fail(r, urc, OCI_BLOB_UNKNOWN, up);
    }
    /* a streaming client gets its last bytes once the digest is right */
    rc = store_fetch_verify(p.f);
    if (rc == STORE_OK && p.streaming && !p.client_gone)
        err = send_rest(&p);
    got = store_fetch_got(p.f);
    rc = store_fetch_commit(p.f); /* a wrong one: says why, and drops it */
    metrics_mirror(rc ? METRICS_MIRROR_BLOB_FAILED : METRICS_MIRROR_BLOB_STORED,
                   rc ? 0 : got);
    if (rc) {
        log_warn("fetched '%s' of '%s' from '%s' is not kept: %s", dstr, remote,
                 up->url, store_strerror(rc));
        *done = p.streaming;
        if (p.streaming)
            return OCI_GONE;
        if (rc == STORE_DIGEST_MISMATCH || rc == STORE_SIZE_MISMATCH)
            return req_fail(r, OCI_UNAVAILABLE,
                            "the upstream's blob '%s' has another digest or "
                            "size",
                            dstr);
        return req_fail_store(r, rc);
    }
    *done = p.streaming;
    if (!p.streaming)
        return OCI_OK;
    return p.client_gone ? OCI_GONE : err;
}

void mirror_clients_free(void)
{
    size_t i;

    for (i = 0; i < CLIENTS_MAX; i++) {
        upstream_free(clients[i]);
        clients[i] = NULL;
    }
}
