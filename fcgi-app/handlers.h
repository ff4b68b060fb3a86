#ifndef BERTH_FCGI_APP_HANDLERS_H
#define BERTH_FCGI_APP_HANDLERS_H

#include "fcgi-app/request.h"

/*
 * The endpoint handlers, h_<resource>_<verb>, one file per resource. Each
 * either writes a complete success response itself and returns OCI_OK, or
 * writes nothing and returns req_fail(...) for the router to render.
 * r->name is a valid repository name and r->ref the raw last segment.
 */
enum oci_err h_base(struct req *r);

enum oci_err h_blob_get(struct req *r);
enum oci_err h_blob_delete(struct req *r);

enum oci_err h_manifest_get(struct req *r);
enum oci_err h_manifest_put(struct req *r);
enum oci_err h_manifest_delete(struct req *r);

enum oci_err h_tags_list(struct req *r);
enum oci_err h_catalog(struct req *r);
enum oci_err h_referrers(struct req *r);

enum oci_err h_upload_start(struct req *r);
enum oci_err h_upload_patch(struct req *r);
enum oci_err h_upload_put(struct req *r);
enum oci_err h_upload_status(struct req *r);
enum oci_err h_upload_cancel(struct req *r);

/* Parse digest s; on failure record DIGEST_INVALID and return it. */
enum oci_err h_parse_digest(struct req *r, const char *s, struct digest *d);

/* Map a store error that has no endpoint-specific meaning. */
enum oci_err h_store_fail(struct req *r, int rc);

#endif
