#include "config.h"

#include <string.h>

#include "fcgi-app/handlers.h"
#include "fcgi-app/response.h"
#include "fcgi-app/router.h"
#include "util/log.h"
#include "util/xalloc.h"

/*
 * The endpoints' paths, tried in order; the first whose shape fits
 * decides. A pattern is a literal with at most one {name}, the repository
 * (which may hold '/'), and at most one {ref} at its end, the last path
 * segment (which may be empty). Rows whose methods are not 0 are tried
 * for those methods only.
 */
static const struct pattern {
    const char *path;
    unsigned methods;
    enum route_kind kind;
} patterns[] = {
    {"/v2", 0, ROUTE_BASE},
    {"/v2/", 0, ROUTE_BASE}, /* end-1 */
    {"/v2/_catalog", 0, ROUTE_CATALOG},
    /* the web catalog's JSON (h_ui.c): an extension, /v2/_<ext>/ */
    {"/v2/_berth/ui/repositories", 0, ROUTE_UI_REPOS},
    {"/v2/_berth/ui/repositories/{name}/tags", 0, ROUTE_UI_TAGS},
    {"/v2/{name}/tags/list", 0, ROUTE_TAGS},         /* end-8a, end-8b */
    {"/v2/{name}/blobs/uploads/", 0, ROUTE_UPLOADS}, /* end-4a, 4b, 11 */
    {"/v2/{name}/blobs/uploads", M_POST, ROUTE_UPLOADS},
    {"/v2/{name}/blobs/uploads/{ref}", 0, ROUTE_UPLOAD}, /* end-5, 6, 13 */
    {"/v2/{name}/blobs/{ref}", 0, ROUTE_BLOB},           /* end-2, end-10 */
    {"/v2/{name}/manifests/{ref}", 0, ROUTE_MANIFEST},   /* end-3, 7, 9 */
    {"/v2/{name}/referrers/{ref}", 0, ROUTE_REFERRERS},  /* end-12a, 12b */
    {"/livez", 0, ROUTE_LIVEZ},                          /* health probes */
    {"/readyz", 0, ROUTE_READYZ},
    /* docker's registry v1 search API, for docker search */
    {"/v1/_ping", 0, ROUTE_V1_PING},
    {"/v1/search", 0, ROUTE_V1_SEARCH},
    {"/metrics", 0, ROUTE_METRICS},
};

/*
 * The handler of each endpoint and method, the right it needs, and
 * whether it writes: maintenance mode (store_maintenance()) turns the
 * rows that write away.
 */
enum effect { READS, WRITES };

/*
 * The right of the health probes: none. Load balancers and systemd have
 * no login, so the router does not ask auth_check() for these rows.
 */
#define NO_AUTH 0

static const struct route {
    enum route_kind kind;
    unsigned methods;
    enum auth_action action;
    enum effect effect;
    enum oci_err (*handle)(struct req *r);
} routes[] = {
    {ROUTE_BASE, M_GET | M_HEAD, AUTH_LOGIN, READS, h_base_get}, /* end-1 */
    {ROUTE_BLOB, M_GET | M_HEAD, AUTH_PULL, READS, h_blob_get},  /* end-2 */
    {ROUTE_BLOB, M_DELETE, AUTH_DELETE, WRITES, h_blob_delete},  /* end-10 */
    /* end-4a, end-4b, end-11 */
    {ROUTE_UPLOADS, M_POST, AUTH_PUSH, WRITES, h_upload_start},
    {ROUTE_UPLOAD, M_PATCH, AUTH_PUSH, WRITES, h_upload_patch}, /* end-5 */
    {ROUTE_UPLOAD, M_PUT, AUTH_PUSH, WRITES, h_upload_put},     /* end-6 */
    {ROUTE_UPLOAD, M_GET, AUTH_PUSH, READS, h_upload_status},   /* end-13 */
    {ROUTE_UPLOAD, M_DELETE, AUTH_PUSH, WRITES, h_upload_cancel},
    /* end-3, end-7, end-9 */
    {ROUTE_MANIFEST, M_GET | M_HEAD, AUTH_PULL, READS, h_manifest_get},
    {ROUTE_MANIFEST, M_PUT, AUTH_PUSH, WRITES, h_manifest_put},
    {ROUTE_MANIFEST, M_DELETE, AUTH_DELETE, WRITES, h_manifest_delete},
    {ROUTE_TAGS, M_GET, AUTH_PULL, READS, h_tags_list}, /* end-8a, end-8b */
    {ROUTE_CATALOG, M_GET, AUTH_CATALOG, READS, h_catalog_list},
    /* end-12a, end-12b */
    {ROUTE_REFERRERS, M_GET, AUTH_PULL, READS, h_referrers_list},
    /* the health probes: no right asked, see NO_AUTH */
    {ROUTE_LIVEZ, M_GET | M_HEAD, NO_AUTH, READS, h_livez_get},
    {ROUTE_READYZ, M_GET | M_HEAD, NO_AUTH, READS, h_readyz_get},
    /* docker's registry v1 search API: it lists what the catalog would */
    {ROUTE_V1_PING, M_GET | M_HEAD, AUTH_LOGIN, READS, h_ping_get},
    {ROUTE_V1_SEARCH, M_GET, AUTH_CATALOG, READS, h_search_get},
    /* who may list the catalog, which sees the whole registry, may read
       its metrics */
    {ROUTE_METRICS, M_GET, AUTH_CATALOG, READS, h_metrics_get},
    /* the web catalog: any login; it lists what the client may pull */
    {ROUTE_UI_REPOS, M_GET, AUTH_LOGIN, READS, h_ui_repos_get},
    {ROUTE_UI_TAGS, M_GET, AUTH_PULL, READS, h_ui_tags_get},
};

#define NAME_VAR "{name}"
#define REF_VAR  "{ref}"

/* Whether s[0..len) ends with suffix[0..n). */
static int ends_with(const char *s, size_t len, const char *suffix, size_t n)
{
    return len >= n && !memcmp(s + len - n, suffix, n);
}

/*
 * Match path against one pattern: 1 on a match of its shape, with the
 * parts in *m (the name not yet checked), else 0.
 */
static int match_one(const struct pattern *p, const char *path,
                     struct route_match *m)
{
    const char *var = strstr(p->path, NAME_VAR);
    size_t plen = strlen(p->path), len = strlen(path), lit, mid;
    const char *tail;
    int has_ref = ends_with(p->path, plen, REF_VAR, sizeof(REF_VAR) - 1);

    if (has_ref)
        plen -= sizeof(REF_VAR) - 1;
    if (has_ref) {
        const char *slash = strrchr(path, '/');
        size_t rlen = strlen(slash + 1);

        if (rlen >= sizeof(m->ref))
            return 0;
        memcpy(m->ref, slash + 1, rlen + 1);
        len -= rlen; /* the path up to and with its last '/' */
    } else {
        m->ref[0] = '\0';
    }
    if (!var) {
        m->name[0] = '\0';
        return len == plen && !memcmp(path, p->path, len);
    }
    /*
     * {name} is preceded by a '/', which the name's part of the path
     * shares with what comes before it: "/v2/blobs/x" is a blob path with
     * an empty (invalid) name, not an unknown path.
     */
    lit = (size_t)(var - p->path) - 1;
    tail = var + sizeof(NAME_VAR) - 1;
    mid = plen - (size_t)(tail - p->path);
    if (len < lit + mid || memcmp(path, p->path, lit) ||
        !ends_with(path, len, tail, mid))
        return 0;
    len -= lit + mid; /* "/<name>" */
    if (len > sizeof(m->name)) {
        m->name[0] = '\0'; /* too long to be valid */
        return 1;
    }
    if (len)
        memcpy(m->name, path + lit + 1, len - 1);
    m->name[len ? len - 1 : 0] = '\0';
    return 1;
}

enum oci_err router_match(const char *path, unsigned method,
                          struct route_match *m)
{
    struct route_match got;
    size_t i;

    for (i = 0; i < ARRAY_SIZE(patterns); i++) {
        if (patterns[i].methods && !(patterns[i].methods & method))
            continue;
        if (!match_one(&patterns[i], path, &got))
            continue;
        if (strstr(patterns[i].path, NAME_VAR) &&
            !name_valid(got.name, strlen(got.name)))
            return OCI_NAME_INVALID;
        got.kind = patterns[i].kind;
        *m = got;
        return OCI_OK;
    }
    return OCI_NOT_FOUND;
}

/* In maintenance mode the registry takes no writes. */
static enum oci_err writable(struct req *r)
{
    int on, rc = store_maintenance(r->store, &on);

    if (rc)
        return req_fail_store(r, rc);
    if (on)
        return req_fail(r, OCI_UNSUPPORTED,
                        "the registry is read-only for maintenance");
    return OCI_OK;
}

static enum oci_err route(struct req *r)
{
    struct route_match m;
    enum oci_err err;
    int known = 0;
    size_t i;

    if (req_parse(r))
        return req_fail(r, OCI_NOT_FOUND, "malformed request path");
    err = router_match(r->path, r->method, &m);
    if (err == OCI_NAME_INVALID)
        return req_fail(r, err,
                        "repository names are lowercase [a-z0-9] components "
                        "joined by '.', '_', '__', '-' or '/', at most %d "
                        "characters",
                        NAME_MAX_LEN);
    if (err)
        return req_fail(r, err, "'%s'", r->path);
    memcpy(r->name, m.name, sizeof(r->name));
    memcpy(r->ref, m.ref, sizeof(r->ref));
    r->route = (int)m.kind;
    /* config "metrics = off", the default: no such endpoint, login or not */
    if (m.kind == ROUTE_METRICS && !r->cfg->metrics)
        return req_fail(r, OCI_NOT_FOUND, "'%s'", r->path);
    for (i = 0; i < ARRAY_SIZE(routes); i++) {
        if (routes[i].kind != m.kind)
            continue;
        known = 1;
        if (!(routes[i].methods & r->method))
            continue;
        /* the health probes are open to anyone: no access rules apply */
        if (routes[i].action != NO_AUTH &&
            req_authorize(r, r->name[0] ? r->name : NULL, routes[i].action))
            return r->err;
        if (routes[i].effect == WRITES && writable(r))
            return r->err;
        /* a cache of an upstream is read-only to clients (code-13) */
        if (routes[i].effect == WRITES && r->name[0] && mirror_of(r, NULL))
            return req_fail(r, OCI_UNSUPPORTED,
                            "'%s' is a cache of an upstream registry: it "
                            "cannot be pushed to or deleted from",
                            r->name);
        /* config "delete = off" turns the delete endpoints off */
        if (routes[i].action == AUTH_DELETE && !r->cfg->delete_enabled)
            return req_fail(r, OCI_UNSUPPORTED, "deletion is disabled");
        return routes[i].handle(r);
    }
    if (known)
        return req_fail(r, OCI_METHOD_INVALID, "%s is not allowed on '%s'",
                        req_param(r, "REQUEST_METHOD"), r->path);
    return req_fail(r, OCI_NOT_FOUND, "'%s'", r->path);
}

void router_dispatch(struct req *r)
{
    enum oci_err err;

    r->route = ROUTE_NONE;
    err = route(r);

    log_debug("%s '%s': %s %s", req_param(r, "REQUEST_METHOD"), r->path,
              err == OCI_OK ? "ok" : oci_err_desc(err)->code, r->err_detail);
    if (err == OCI_OK || err == OCI_GONE)
        return;
    r->err = err;
    if (resp_error(r))
        log_debug("the error answer did not go out");
}
