#ifndef BERTH_FCGI_APP_ROUTER_H
#define BERTH_FCGI_APP_ROUTER_H

#include "fcgi-app/request.h"

/*
 * Which endpoint a path names (oci-distribution-spec.md, "Endpoints");
 * the patterns are rows of a table in router.c.
 */
enum route_kind {
    ROUTE_BASE,      /* /v2/                         end-1 */
    ROUTE_CATALOG,   /* /v2/_catalog */
    ROUTE_BLOB,      /* /v2/<name>/blobs/<digest>    end-2, end-10 */
    ROUTE_UPLOADS,   /* /v2/<name>/blobs/uploads/    end-4a, end-4b, end-11 */
    ROUTE_UPLOAD,    /* .../blobs/uploads/<id>       end-5, end-6, end-13 */
    ROUTE_MANIFEST,  /* /v2/<name>/manifests/<ref>   end-3, end-7, end-9 */
    ROUTE_TAGS,      /* /v2/<name>/tags/list         end-8a, end-8b */
    ROUTE_REFERRERS, /* /v2/<name>/referrers/<digest> end-12a, end-12b */
    ROUTE_LIVEZ,     /* /livez      the health probes, not the spec's */
    ROUTE_READYZ,    /* /readyz */
    ROUTE_V1_PING,   /* /v1/_ping   docker's registry v1 search API */
    ROUTE_V1_SEARCH, /* /v1/search */
    ROUTE_METRICS,   /* /metrics: Prometheus's scrape (fcgi-app/metrics.h) */
    ROUTE_UI_REPOS,  /* /v2/_berth/ui/repositories: the web catalog's data */
    ROUTE_UI_TAGS,   /* /v2/_berth/ui/repositories/<name>/tags */
    ROUTE_NONE       /* no endpoint: for struct req's route only */
};

struct route_match {
    enum route_kind kind;
    char name[NAME_MAX_LEN + 1]; /* the repository; "" when none */
    char ref[REQ_REF_MAX];       /* digest, tag or upload id; "" when none */
};

/*
 * Match path (percent-decoded, without the query) of a request with
 * method (one M_*) against the endpoints. Returns OCI_OK and fills *m,
 * OCI_NOT_FOUND (no endpoint has that path), or OCI_NAME_INVALID (an
 * endpoint's path, with a <name> that is not a valid repository name).
 * *m is written only on OCI_OK. A pure function: no request, no I/O.
 */
enum oci_err router_match(const char *path, unsigned method,
                          struct route_match *m)
    __attribute__((warn_unused_result));

/* Handle one request completely, errors included. */
void router_dispatch(struct req *r);

#endif
