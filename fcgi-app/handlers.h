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

enum oci_err h_blob_get(struct req *r);
enum oci_err h_blob_delete(struct req *r);

enum oci_err h_manifest_get(struct req *r);
enum oci_err h_manifest_put(struct req *r);
enum oci_err h_manifest_delete(struct req *r);

enum oci_err h_tags_list(struct req *r);
enum oci_err h_catalog_list(struct req *r);
enum oci_err h_referrers_list(struct req *r);

/*
 * The push rules of r->rules (policy/policy.h), for the handlers; each
 * returns OCI_OK, or records 403 DENIED saying why (or another error of
 * the store) and returns it.
 *
 * quota_check: a push adds need bytes to r->name, blob d (NULL: not
 * known yet), which needs nothing in a namespace that holds it already.
 * immutable_check: tag of r->name is to name manifest to (NULL: to be
 * deleted). immutable_check_manifest: manifest d of r->name is to be
 * deleted, with the tags that name it.
 */
enum oci_err quota_check(struct req *r, const struct digest *d, long long need);
enum oci_err immutable_check(struct req *r, const char *tag,
                             const struct digest *to);
enum oci_err immutable_check_manifest(struct req *r, const struct digest *d);

enum oci_err h_upload_start(struct req *r);
enum oci_err h_upload_patch(struct req *r);
enum oci_err h_upload_put(struct req *r);
enum oci_err h_upload_status(struct req *r);
enum oci_err h_upload_cancel(struct req *r);

#endif
