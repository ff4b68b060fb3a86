#include "config.h"

#include <string.h>

#include "fcgi-app/handlers.h"
#include "fcgi-app/response.h"
#include "fcgi-app/router.h"
#include "util/log.h"
#include "util/xalloc.h"

struct route {
    enum route_kind kind;
    unsigned methods;
    enum auth_action action; /* what the client must be allowed */
    enum oci_err (*handle)(struct req *r);
};

static const struct route routes[] = {
    {ROUTE_BASE, M_GET | M_HEAD, AUTH_LOGIN, h_base},    /* end-1 */
    {ROUTE_BLOB, M_GET | M_HEAD, AUTH_PULL, h_blob_get}, /* end-2 */
    {ROUTE_BLOB, M_DELETE, AUTH_DELETE, h_blob_delete},  /* end-10 */
    {ROUTE_UPLOADS, M_POST, AUTH_PUSH, h_upload_start},  /* end-4a/4b/11 */
    {ROUTE_UPLOAD, M_PATCH, AUTH_PUSH, h_upload_patch},  /* end-5 */
    {ROUTE_UPLOAD, M_PUT, AUTH_PUSH, h_upload_put},      /* end-6 */
    {ROUTE_UPLOAD, M_GET, AUTH_PUSH, h_upload_status},   /* end-13 */
    {ROUTE_UPLOAD, M_DELETE, AUTH_PUSH, h_upload_cancel},
    {ROUTE_MANIFEST, M_GET | M_HEAD, AUTH_PULL, h_manifest_get}, /* end-3 */
    {ROUTE_MANIFEST, M_PUT, AUTH_PUSH, h_manifest_put},          /* end-7 */
    {ROUTE_MANIFEST, M_DELETE, AUTH_DELETE, h_manifest_delete},  /* end-9 */
    {ROUTE_TAGS, M_GET, AUTH_PULL, h_tags_list}, /* end-8a, end-8b */
    {ROUTE_CATALOG, M_GET, AUTH_CATALOG, h_catalog},
    {ROUTE_REFERRERS, M_GET, AUTH_PULL, h_referrers}, /* end-12a, end-12b */
};

/* If s[0..*len) ends with "/<suffix>", drop that and return 1. */
static int strip_suffix(const char *s, size_t *len, const char *suffix)
{
    size_t n = strlen(suffix);

    if (*len < n || memcmp(s + *len - n, suffix, n))
        return 0;
    *len -= n;
    return 1;
}

static int set_name(struct req *r, const char *s, size_t len)
{
    if (!name_valid(s, len))
        return -1;
    memcpy(r->name, s, len);
    r->name[len] = '\0';
    return 0;
}

enum route_kind router_match(struct req *r)
{
    const char *rest, *slash;
    enum route_kind kind;
    size_t pre, last;

    if (!strcmp(r->path, "/v2") || !strcmp(r->path, "/v2/"))
        return ROUTE_BASE;
    if (strncmp(r->path, "/v2/", 4))
        return ROUTE_NONE;
    /* keep a leading '/' in rest so that "/v2/blobs/x" has an empty name */
    rest = r->path + 3;
    if (!strcmp(rest, "/_catalog"))
        return ROUTE_CATALOG;

    pre = strlen(rest);
    if (strip_suffix(rest, &pre, "/tags/list")) {
        kind = ROUTE_TAGS;
        goto name;
    }
    slash = strrchr(rest, '/');
    pre = (size_t)(slash - rest);
    last = strlen(slash + 1);
    if (last >= sizeof(r->ref))
        return ROUTE_NONE;
    memcpy(r->ref, slash + 1, last + 1);
    if (strip_suffix(rest, &pre, "/blobs/uploads"))
        kind = ROUTE_UPLOAD;
    else if (strip_suffix(rest, &pre, "/blobs"))
        kind = ROUTE_BLOB;
    else if (strip_suffix(rest, &pre, "/manifests"))
        kind = ROUTE_MANIFEST;
    else if (strip_suffix(rest, &pre, "/referrers"))
        kind = ROUTE_REFERRERS;
    else
        return ROUTE_NONE;
    if (kind == ROUTE_UPLOAD && !r->ref[0])
        kind = ROUTE_UPLOADS;
    /* "/v2/<name>/blobs/uploads" without the final slash */
    if (kind == ROUTE_BLOB && !strcmp(r->ref, "uploads") &&
        r->method == M_POST) {
        kind = ROUTE_UPLOADS;
        r->ref[0] = '\0';
    }
name:
    /* rest[0] is the '/' after "/v2" */
    if (set_name(r, rest + 1, pre ? pre - 1 : 0))
        return ROUTE_BAD_NAME;
    return kind;
}

static enum oci_err route(struct req *r)
{
    enum route_kind kind;
    int known = 0;
    size_t i;

    if (req_parse(r))
        return req_fail(r, OCI_NOT_FOUND, "malformed request path");
    kind = router_match(r);
    if (kind == ROUTE_NONE)
        return req_fail(r, OCI_NOT_FOUND, "'%s'", r->path);
    if (kind == ROUTE_BAD_NAME)
        return req_fail(r, OCI_NAME_INVALID,
                        "repository names are lowercase [a-z0-9] components "
                        "joined by '.', '_', '__', '-' or '/', at most %d "
                        "characters",
                        NAME_MAX_LEN);
    for (i = 0; i < ARRAY_SIZE(routes); i++) {
        if (routes[i].kind != kind)
            continue;
        known = 1;
        if (!(routes[i].methods & r->method))
            continue;
        if (req_authorize(r, r->name[0] ? r->name : NULL, routes[i].action))
            return r->err;
        return routes[i].handle(r);
    }
    if (known)
        return req_fail(r, OCI_METHOD_INVALID, "%s is not allowed on '%s'",
                        req_param(r, "REQUEST_METHOD"), r->path);
    return req_fail(r, OCI_NOT_FOUND, "'%s'", r->path);
}

void router_dispatch(struct req *r)
{
    enum oci_err err = route(r);

    log_debug("%s '%s': %s %s", req_param(r, "REQUEST_METHOD"), r->path,
              err == OCI_OK ? "ok" : oci_err_desc(err)->code, r->err_detail);
    if (err != OCI_OK) {
        r->err = err;
        resp_error(r);
    }
}
