#ifndef BERTH_FCGI_APP_HANDLERS_H
#define BERTH_FCGI_APP_HANDLERS_H

#include "fcgi-app/request.h"

/*
 * The endpoint handlers, h_<resource>_<verb>, one file per resource. Each
 * either ends with one resp_send() or resp_blob() and returns its result,
 * or sends nothing and returns req_fail(...) for the router to render.
 * r->name is a valid repository name (or "" for endpoints without one)
 * and r->ref the raw last segment. The router has checked that the client
 * may do what the endpoint does, and that deletes are on for the delete
 * endpoints.
 */
enum oci_err h_base_get(struct req *r);

/*
 * The health probes, outside /v2 and open to anyone: /livez answers 200
 * {"status":"ok"} without touching the store; /readyz 200
 * {"status":"ready"}, or 503 {"status":"not ready","reason":".."} when
 * the store cannot be read, is in maintenance mode, or its map or disk
 * is (nearly) full.
 */
enum oci_err h_livez_get(struct req *r);
enum oci_err h_readyz_get(struct req *r);

enum oci_err h_blob_get(struct req *r);
enum oci_err h_blob_delete(struct req *r);

enum oci_err h_manifest_get(struct req *r);
enum oci_err h_manifest_put(struct req *r);
enum oci_err h_manifest_delete(struct req *r);

enum oci_err h_tags_list(struct req *r);
enum oci_err h_catalog_list(struct req *r);
enum oci_err h_referrers_list(struct req *r);

/* docker's registry v1 search API (docker search) */
enum oci_err h_ping_get(struct req *r);
enum oci_err h_search_get(struct req *r);
/*
 * The search term of a listing, the query parameter q (absent: ""),
 * lowercased into q, its length in *len: names are lowercase, so a term
 * matches in any case. A q longer than any name records 400 NAME_INVALID
 * and returns it.
 */
enum oci_err query_term(struct req *r, char q[NAME_MAX_LEN + 1], size_t *len);
/* GET /metrics: the counters of fcgi-app/metrics.h and the store's */
enum oci_err h_metrics_get(struct req *r);

/*
 * The web catalog's JSON API (h_ui.c; the README gives its shapes):
 * GET /v2/_berth/ui/repositories?q=&n=&last= lists the repositories the
 * client may pull, with their tag counts and bytes;
 * GET /v2/_berth/ui/repositories/<name>/tags?n=&last= the tags of one,
 * with digest, media type, size, push time, the platforms of an index
 * and the referrers of the manifest, and whether the client may delete.
 */
enum oci_err h_ui_repos_get(struct req *r);
enum oci_err h_ui_tags_get(struct req *r);

/*
 * The quotas of r->rules (policy/policy.h), for the handlers: a push adds
 * need bytes to r->name, blob d (NULL: not known yet), which needs nothing
 * in a namespace that holds it already. Returns OCI_OK, or records 403
 * DENIED saying why (or another error of the store) and returns it.
 */
enum oci_err quota_check(struct req *r, const struct digest *d, long long need);

enum oci_err h_upload_start(struct req *r);
enum oci_err h_upload_patch(struct req *r);
enum oci_err h_upload_put(struct req *r);
enum oci_err h_upload_status(struct req *r);
enum oci_err h_upload_cancel(struct req *r);

#endif
