#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fcgi-app/handlers.h"
#include "fcgi-app/response.h"
#include "util/log.h"
#include "util/xalloc.h"

/*
 * The listings: tags (end-8a, end-8b), the catalog, and referrers
 * (end-12a, end-12b). Each is a walk of one LMDB cursor (store/), written
 * out as JSON here. Names and tags need no JSON escaping: their grammars
 * (util/names.h) allow no character that would.
 */

/* The most entries one page holds; asking for more gets this many and a
 * Link to the rest, as "Listing Tags" allows. */
#define PAGE_MAX 10000

struct page {
    struct buf out;
    char last[NAME_MAX_LEN + 1]; /* the last entry listed */
    long count;
};

static int add_entry(void *ctx, const char *s, size_t len)
{
    struct page *p = ctx;

    if (buf_adds(&p->out, p->count ? ",\"" : "\"") ||
        buf_add(&p->out, s, len) || buf_adds(&p->out, "\""))
        return STORE_TOOBIG;
    if (len >= sizeof(p->last))
        len = sizeof(p->last) - 1;
    memcpy(p->last, s, len);
    p->last[len] = '\0';
    p->count++;
    return 0;
}

/* What tells the tags list and the catalog apart. */
struct listing {
    size_t entry_max;                   /* the longest entry, in bytes */
    int (*valid)(const char *, size_t); /* which ?last= is valid */
    enum oci_err bad_last;              /* the error for one that is not */
    int (*walk)(struct req *r, const char *last, long n, struct page *p,
                int *more); /* a store_*_list() */
};

/*
 * Read ?n= and ?last= into *n (PAGE_MAX when absent) and last (NULL when
 * absent or empty); l->valid(last) must hold.
 */
static enum oci_err page_params(struct req *r, const struct listing *l, long *n,
                                char *last, size_t lastlen, const char **lastp)
{
    char v[32], *end;
    int rc;

    *n = PAGE_MAX;
    rc = req_query(r, "n", v, sizeof(v));
    if (rc < 0)
        return req_fail(r, OCI_PAGINATION_INVALID, "n is not a number");
    if (rc == 1) {
        errno = 0;
        *n = strtol(v, &end, 10);
        if (!v[0] || *end || errno || *n < 0)
            return req_fail(r, OCI_PAGINATION_INVALID,
                            "n must be a non-negative integer, not '%s'", v);
        if (*n > PAGE_MAX)
            *n = PAGE_MAX;
    }
    *lastp = NULL;
    rc = req_query(r, "last", last, lastlen);
    if (rc < 0 || (rc == 1 && !l->valid(last, strlen(last))))
        return req_fail(r, l->bad_last, "'last' is not valid here");
    if (rc == 1 && last[0])
        *lastp = last;
    return OCI_OK;
}

/* Finish a page: the JSON tail, a Link when more follow, and the reply. */
static enum oci_err send_page(struct req *r, struct page *p, int more,
                              const char *link_path, long n)
{
    if (buf_adds(&p->out, "]}"))
        return req_fail(r, OCI_INTERNAL, "the page is over %zu bytes",
                        p->out.max);
    if (more && p->count)
        resp_header(r, "Link: <%s?n=%ld&last=%s>; rel=\"next\"", link_path, n,
                    p->last);
    return resp_send(r, 200, "application/json", p->out.ptr,
                     (long long)p->out.len);
}

/* Map a store error of a listing; STORE_TOOBIG is an answer over its cap. */
static enum oci_err list_fail(struct req *r, int rc, size_t max)
{
    if (rc == STORE_NOTFOUND)
        return req_fail(r, OCI_NAME_UNKNOWN, "'%s'", r->name);
    if (rc == STORE_TOOBIG)
        return req_fail(r, OCI_INTERNAL, "the answer is over %zu bytes", max);
    return req_fail_store(r, rc);
}

/*
 * Answer with one page of listing l: JSON that starts with head and ends
 * with "]}", and a Link to link_path for the next page. The buffer has
 * room for PAGE_MAX entries.
 */
static enum oci_err list_page(struct req *r, const struct listing *l,
                              const char *head, const char *link_path)
{
    char last[NAME_MAX_LEN + 2];
    const char *lastp;
    enum oci_err err;
    struct page p;
    long n;
    int rc, more = 0;

    if (page_params(r, l, &n, last, sizeof(last), &lastp))
        return r->err;
    memset(&p, 0, sizeof(p));
    buf_init(&p.out, (size_t)PAGE_MAX * (l->entry_max + 3) + 1024);
    BUG_ON(buf_adds(&p.out, head));
    rc = l->walk(r, lastp, n, &p, &more);
    if (rc)
        err = list_fail(r, rc, p.out.max);
    else
        err = send_page(r, &p, more, link_path, n);
    buf_release(&p.out);
    return err;
}

static int walk_tags(struct req *r, const char *last, long n, struct page *p,
                     int *more)
{
    return store_tags_list(r->store, r->name, last, n, add_entry, p, more);
}

/*
 * A catalog entry, if the client may pull it: the catalog lists exactly
 * the repositories the client may pull, whatever rule let it list.
 */
struct catalog_page {
    struct page *p;
    struct req *r;
};

static int add_pullable(void *ctx, const char *s, size_t len)
{
    struct catalog_page *c = ctx;
    char name[NAME_MAX_LEN + 1];

    if (len >= sizeof(name))
        return STORE_LIST_SKIP; /* no valid name is this long */
    memcpy(name, s, len);
    name[len] = '\0';
    if (!req_may(c->r, name, AUTH_PULL))
        return STORE_LIST_SKIP;
    return add_entry(c->p, s, len);
}

static int walk_catalog(struct req *r, const char *last, long n, struct page *p,
                        int *more)
{
    struct catalog_page c = {p, r};

    return store_catalog_list(r->store, last, n, add_pullable, &c, more);
}

/* GET /v2/<name>/tags/list[?n=<int>&last=<tag>]  (end-8a, end-8b) */
enum oci_err h_tags_list(struct req *r)
{
    static const struct listing tags = {TAG_MAX_LEN, tag_valid, OCI_TAG_INVALID,
                                        walk_tags};
    char head[NAME_MAX_LEN + 32], path[NAME_MAX_LEN + 32];

    snprintf(head, sizeof(head), "{\"name\":\"%s\",\"tags\":[", r->name);
    snprintf(path, sizeof(path), "/v2/%s/tags/list", r->name);
    return list_page(r, &tags, head, path);
}

/* GET /v2/_catalog[?n=<int>&last=<name>] */
enum oci_err h_catalog_list(struct req *r)
{
    static const struct listing catalog = {NAME_MAX_LEN, name_valid,
                                           OCI_NAME_INVALID, walk_catalog};

    return list_page(r, &catalog, "{\"repositories\":[", "/v2/_catalog");
}

struct referrers {
    struct buf out;
    int count;
};

static int add_referrer(void *ctx, const char *s, size_t len)
{
    struct referrers *rf = ctx;

    if ((rf->count && buf_adds(&rf->out, ",")) || buf_add(&rf->out, s, len))
        return STORE_TOOBIG;
    rf->count++;
    return 0;
}

#define REFERRERS_MAX ((size_t)64 << 20)

/* GET /v2/<name>/referrers/<digest>[?artifactType=<type>]  (end-12a, 12b) */
enum oci_err h_referrers_list(struct req *r)
{
    char atype[MEDIA_TYPE_MAX];
    struct referrers rf;
    struct digest d;
    enum oci_err err;
    int rc, filter;

    if (req_digest(r, r->ref, &d))
        return r->err;
    filter = req_query(r, "artifactType", atype, sizeof(atype));
    if (filter < 0)
        return req_fail(r, OCI_UNSUPPORTED, "artifactType is not valid");
    if (filter && !atype[0])
        filter = 0;
    memset(&rf, 0, sizeof(rf));
    buf_init(&rf.out, REFERRERS_MAX);
    BUG_ON(buf_adds(&rf.out,
                    "{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_INDEX
                    "\",\"manifests\":["));
    /* an unknown repository or digest has no referrers: an empty index */
    rc = store_referrers(r->store, r->name, &d, filter ? atype : NULL,
                         add_referrer, &rf);
    if (rc == STORE_OK && buf_adds(&rf.out, "]}"))
        rc = STORE_TOOBIG;
    if (rc) {
        err = list_fail(r, rc, rf.out.max);
    } else {
        if (filter)
            resp_header(r, "OCI-Filters-Applied: artifactType");
        err =
            resp_send(r, 200, MT_OCI_INDEX, rf.out.ptr, (long long)rf.out.len);
    }
    buf_release(&rf.out);
    return err;
}
