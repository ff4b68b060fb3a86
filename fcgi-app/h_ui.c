#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fcgi-app/handlers.h"
#include "fcgi-app/response.h"
#include "util/log.h"
#include "util/xalloc.h"

/*
 * The web catalog's data: a small JSON API under /v2/_berth/ui/ (the
 * distribution spec's shape of an extension, /v2/_<ext>/, which no
 * repository name can take), so that every front server sends it to
 * berth with the login of /v2. The page itself (ui/) is static files
 * the front server sends from the same origin. README, "The web
 * catalog", gives the JSON.
 *
 * The answers are built with jansson: they are small (a page of
 * repositories or tags), and descriptors of referrers and the platforms
 * of an index come from stored JSON that needs no rewriting by hand.
 */

#define UI_N_DEFAULT 100
#define UI_N_MAX     1000

/* A positive return of a walk's callback: the page is full, stop. */
#define UI_STOP 1

/* Read ?n= into *n (UI_N_DEFAULT when absent, at most UI_N_MAX). */
static enum oci_err n_param(struct req *r, long *n)
{
    char s[32], *end;
    int rc = req_query(r, "n", s, sizeof(s));

    *n = UI_N_DEFAULT;
    if (rc == 0)
        return OCI_OK;
    if (rc == 1) {
        errno = 0;
        *n = strtol(s, &end, 10);
        if (s[0] && !*end && !errno && *n >= 1) {
            if (*n > UI_N_MAX)
                *n = UI_N_MAX;
            return OCI_OK;
        }
    }
    return req_fail(r, OCI_PAGINATION_INVALID, "n must be a positive integer");
}

/*
 * Read ?last= into last (size len), "" when absent; valid(last) must hold
 * for one that is not empty.
 */
static enum oci_err last_param(struct req *r, char *last, size_t len,
                               int (*valid)(const char *, size_t))
{
    int rc = req_query(r, "last", last, len);

    if (rc == 0)
        last[0] = '\0';
    if (rc < 0 || (rc == 1 && last[0] && !valid(last, strlen(last))))
        return req_fail(r, OCI_PAGINATION_INVALID, "'last' is not valid here");
    return OCI_OK;
}

/* Send o (stolen) as the answer. */
static enum oci_err send_json(struct req *r, json_t *o)
{
    char *s = json_dumps(o, JSON_COMPACT);
    enum oci_err err;

    json_decref(o);
    if (!s)
        return req_fail(r, OCI_INTERNAL, "the answer cannot be encoded");
    err = resp_send(r, 200, "application/json", s, (long long)strlen(s));
    free(s);
    return err;
}

/* The user the page shows, "" when anonymous. */
static const char *user_of(struct req *r)
{
    const char *u = req_param(r, "REMOTE_USER");

    return u ? u : "";
}

/* --- the repositories --- */

struct repo_page {
    const struct auth_policy *policy; /* r->policy */
    const char *user;                 /* REMOTE_USER, looked up once */
    const char *q;                    /* lowercased */
    size_t qlen;
    long n, count; /* the page's size; the names in it */
    char (*names)[NAME_MAX_LEN + 1];
};

/* a key of the catalog: see store_catalog_list() */
static int repo_match(void *ctx, const char *s, size_t len)
{
    struct repo_page *p = ctx;
    char name[NAME_MAX_LEN + 1];

    if (len >= sizeof(name) || (p->qlen && !memmem(s, len, p->q, p->qlen)))
        return STORE_LIST_SKIP;
    memcpy(name, s, len);
    name[len] = '\0';
    /* as h_search.c: req_may() without a look-up of REMOTE_USER per name */
    if (auth_check(p->policy, p->user, name, AUTH_PULL) != AUTH_OK)
        return STORE_LIST_SKIP;
    memcpy(p->names[p->count++], name, len + 1);
    return STORE_OK;
}

/*
 * GET /v2/_berth/ui/repositories?q=&n=&last=: the repositories of the
 * catalog whose names hold q that the client may pull, after last, at
 * most n, in byte order, each with its tag count and bytes
 * (store_repo_stat). "next" is the last name when more follow.
 */
enum oci_err h_ui_repos_get(struct req *r)
{
    char q[NAME_MAX_LEN + 1], last[NAME_MAX_LEN + 1];
    struct store_repo_info ri;
    struct repo_page p;
    json_t *o, *list;
    enum oci_err err;
    long long bytes;
    long i;
    int rc, more;

    memset(&p, 0, sizeof(p));
    if (query_term(r, q, &p.qlen))
        return r->err;
    if (n_param(r, &p.n) || last_param(r, last, sizeof(last), name_valid))
        return r->err;
    p.policy = r->policy;
    p.user = req_param(r, "REMOTE_USER");
    p.q = q;
    /* one more than the page: whether it is there says if more follow */
    p.names = xcalloc((size_t)p.n + 1, sizeof(*p.names));
    rc = store_catalog_list(r->store, last[0] ? last : NULL, p.n + 1,
                            repo_match, &p, &more);
    if (rc) {
        err = req_fail_store(r, rc);
        goto out;
    }
    more = p.count > p.n;
    if (more)
        p.count = p.n;
    list = json_array();
    for (i = 0; i < p.count; i++) {
        rc = store_repo_stat(r->store, p.names[i], &ri, &bytes);
        if (rc == STORE_NOTFOUND)
            continue; /* deleted since the walk */
        if (rc) {
            json_decref(list);
            err = req_fail_store(r, rc);
            goto out;
        }
        json_array_append_new(
            list, json_pack("{s:s, s:I, s:I}", "name", p.names[i], "tags",
                            (json_int_t)ri.tags, "bytes", (json_int_t)bytes));
    }
    o = json_pack("{s:s, s:o, s:s?}", "user", user_of(r), "repositories", list,
                  "next", more ? p.names[p.count - 1] : NULL);
    err = o ? send_json(r, o)
            : req_fail(r, OCI_INTERNAL, "the answer cannot be built");
out:
    free(p.names);
    return err;
}

/* --- the tags of a repository --- */

struct tag_page {
    const char *last; /* "": from the start */
    long n, count;    /* the page's size (one more is asked); its tags */
    struct store_tag_info *tags;
};

static int tag_add(void *ctx, const struct store_tag_info *ti)
{
    struct tag_page *p = ctx;

    if (p->last[0] && strcmp(ti->tag, p->last) <= 0)
        return STORE_OK;
    p->tags[p->count++] = *ti;
    return p->count > p->n ? UI_STOP : STORE_OK;
}

/* Whether media type mt is one of an index (a multi-platform image). */
static int is_index(const char *mt)
{
    return !strcmp(mt, "application/vnd.oci.image.index.v1+json") ||
           !strcmp(mt, "application/vnd.docker.distribution.manifest.list.v2"
                       "+json");
}

/*
 * The platforms an index lists: [{"os","architecture","variant"?,
 * "digest"}], from its stored body; an empty array for what is no index
 * or cannot be read as one.
 */
static json_t *platforms(struct req *r, const struct store_tag_info *ti)
{
    json_t *out = json_array(), *doc, *ms, *m, *pf;
    struct store_manifest_info info;
    struct buf body;
    size_t i;

    if (!is_index(ti->media_type))
        return out;
    buf_init(&body, r->cfg->max_manifest_size);
    if (store_manifest_get(r->store, r->name, NULL, &ti->digest, &body,
                           &info) ||
        !body.len)
        goto release;
    doc = json_loadb(body.ptr, body.len, 0, NULL);
    ms = json_object_get(doc, "manifests");
    json_array_foreach(ms, i, m)
    {
        pf = json_object_get(m, "platform");
        if (!json_is_object(pf))
            continue;
        json_array_append_new(
            out, json_pack("{s:O?, s:O?, s:O*, s:O?}", "os",
                           json_object_get(pf, "os"), "architecture",
                           json_object_get(pf, "architecture"), "variant",
                           json_object_get(pf, "variant"), "digest",
                           json_object_get(m, "digest")));
    }
    json_decref(doc);
release:
    buf_release(&body);
    return out;
}

/* a referrer's descriptor JSON: see store_referrers() */
static int referrer_add(void *ctx, const char *s, size_t len)
{
    json_t *d = json_loadb(s, len, 0, NULL);

    if (d)
        json_array_append_new(ctx, d);
    return STORE_OK;
}

/*
 * GET /v2/_berth/ui/repositories/<name>/tags?n=&last=: the tags of
 * <name> after last, at most n, each with what store_tags_walk() says of
 * it, the platforms if it names an index, and the referrers of its
 * manifest; "delete" says whether the client may delete a tag (its right
 * and config "delete"); "next" is the last tag when more follow.
 */
enum oci_err h_ui_tags_get(struct req *r)
{
    char dstr[DIGEST_STR_MAX], last[TAG_MAX_LEN + 1];
    json_t *o, *list, *refs;
    struct tag_page p;
    enum oci_err err;
    long i;
    int rc;

    memset(&p, 0, sizeof(p));
    if (n_param(r, &p.n) || last_param(r, last, sizeof(last), tag_valid))
        return r->err;
    p.last = last;
    p.tags = xcalloc((size_t)p.n + 1, sizeof(*p.tags));
    rc = store_tags_walk(r->store, r->name, tag_add, &p);
    if (rc == STORE_NOTFOUND) {
        err = req_fail(r, OCI_NAME_UNKNOWN, "'%s'", r->name);
        goto out;
    }
    if (rc && rc != UI_STOP) {
        err = req_fail_store(r, rc);
        goto out;
    }
    list = json_array();
    for (i = 0; i < p.count && i < p.n; i++) {
        const struct store_tag_info *ti = &p.tags[i];

        refs = json_array();
        rc = store_referrers(r->store, r->name, &ti->digest, NULL, referrer_add,
                             refs);
        if (rc) {
            json_decref(refs);
            json_decref(list);
            err = req_fail_store(r, rc);
            goto out;
        }
        digest_format(&ti->digest, dstr);
        json_array_append_new(
            list,
            json_pack("{s:s, s:s, s:s, s:I, s:I, s:o, s:o}", "tag", ti->tag,
                      "digest", dstr, "media_type", ti->media_type, "size",
                      (json_int_t)ti->size, "pushed", (json_int_t)ti->pushed,
                      "platforms", platforms(r, ti), "referrers", refs));
    }
    o = json_pack(
        "{s:s, s:s, s:b, s:o, s:s?}", "user", user_of(r), "name", r->name,
        "delete", r->cfg->delete_enabled && req_may(r, r->name, AUTH_DELETE),
        "tags", list, "next", p.count > p.n ? p.tags[p.n - 1].tag : NULL);
    err = o ? send_json(r, o)
            : req_fail(r, OCI_INTERNAL, "the answer cannot be built");
out:
    free(p.tags);
    return err;
}
