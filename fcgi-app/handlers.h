#ifndef BERTH_FCGI_APP_HANDLERS_H
#define BERTH_FCGI_APP_HANDLERS_H

#include "fcgi-app/request.h"
#include "mirror/mirror.h"

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

/*
 * The pull-through cache (fcgi-app/mirror.c). mirror_of(): the upstream
 * rule that serves r->name (r->mirror), with the name there in remote
 * (NAME_MAX_LEN + 1 bytes, or NULL); NULL when r->name is the registry's
 * own.
 */
const struct mirror_upstream *mirror_of(struct req *r, char *remote);
/*
 * Manifest dstr of r->name went out to the client (a GET or a HEAD, tag
 * or digest, local or cached): with webhooks_pulls, a pull for the
 * webhooks, recorded after the answer is flushed, so that the client does
 * not wait for its commit. One that fails is logged by the store and
 * costs the client nothing.
 */
void manifest_pulled(struct req *r, const char *dstr);
/*
 * GET/HEAD of manifest tag (or digest d) of a cached repository: from the
 * store, checked again with a HEAD to the upstream when a tag's copy is
 * older than the rule's revalidate, fetched when missing; a cached copy
 * is served when the upstream fails, but a tag the upstream answers 404
 * for is dropped (store_tag_forget) and MANIFEST_UNKNOWN. In maintenance
 * mode what is fetched is served and not kept, and no tag moves or goes.
 * Answers as a handler does.
 */
enum oci_err mirror_manifest_get(struct req *r,
                                 const struct mirror_upstream *up,
                                 const char *remote, const char *tag,
                                 const struct digest *d);
/*
 * Blob d of a cached repository is not in the store: fetch it (or wait
 * for the worker that fetches it). With stream, the answer (200, the
 * whole blob) goes out while it is fetched, all but its last byte before
 * the digest is checked, whether this worker fetches it or follows
 * another's fetch (store_fetch_follow): then *done is 1 and the result
 * is the handler's (OCI_GONE when the fetch failed or stalled and the
 * answer was cut short). Else
 * OCI_OK means the store has the blob now, to be served as usual, and
 * another result is an error recorded with req_fail(). In maintenance
 * mode nothing is kept: a GET gets the blob streamed from the upstream
 * (200, the whole blob, *done 1), the last byte once its digest is right.
 */
enum oci_err mirror_blob_fetch(struct req *r, const struct mirror_upstream *up,
                               const char *remote, const struct digest *d,
                               int stream, int *done);
/*
 * HEAD of blob d of a cached repository that the store has not: the
 * upstream's HEAD says its size, *size, and nothing is fetched or kept,
 * as distribution's proxy does. OCI_OK with *size -1: the upstream said
 * no length (or another digest, or refused the HEAD), and the caller
 * fetches the blob as for a GET. Another result is an error recorded with
 * req_fail() (BLOB_UNKNOWN when the upstream has no such blob).
 */
enum oci_err mirror_blob_head(struct req *r, const struct mirror_upstream *up,
                              const char *remote, const struct digest *d,
                              long long *size);
/* Free the worker's upstream clients (at its end). */
void mirror_clients_free(void);

enum oci_err h_upload_start(struct req *r);
enum oci_err h_upload_patch(struct req *r);
enum oci_err h_upload_put(struct req *r);
enum oci_err h_upload_status(struct req *r);
enum oci_err h_upload_cancel(struct req *r);

#endif
