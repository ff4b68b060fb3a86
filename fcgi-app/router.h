#ifndef BERTH_FCGI_APP_ROUTER_H
#define BERTH_FCGI_APP_ROUTER_H

#include "fcgi-app/request.h"

/*
 * Which endpoint family a path names (oci-distribution-spec.md,
 * "Endpoints"). router_match() fills r->name and r->ref.
 */
enum route_kind {
    ROUTE_NONE = 0,  /* not a registry path: 404 */
    ROUTE_BASE,      /* /v2/                         end-1 */
    ROUTE_CATALOG,   /* /v2/_catalog */
    ROUTE_BLOB,      /* /v2/<name>/blobs/<digest>    end-2, end-10 */
    ROUTE_UPLOADS,   /* /v2/<name>/blobs/uploads/    end-4a, end-4b, end-11 */
    ROUTE_UPLOAD,    /* .../blobs/uploads/<id>       end-5, end-6, end-13 */
    ROUTE_MANIFEST,  /* /v2/<name>/manifests/<ref>   end-3, end-7, end-9 */
    ROUTE_TAGS,      /* /v2/<name>/tags/list         end-8a, end-8b */
    ROUTE_REFERRERS, /* /v2/<name>/referrers/<digest> end-12a, end-12b */
    ROUTE_BAD_NAME   /* a registry path with an invalid <name> */
};

/* Classify r->path; fills r->name and r->ref for the kinds that have them. */
enum route_kind router_match(struct req *r);

/* Handle one request completely, errors included. */
void router_dispatch(struct req *r);

#endif
