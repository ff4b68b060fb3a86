#include "config.h"

#include "util/ocierr.h"

static const struct oci_err_desc descs[OCI_ERR_COUNT] = {
    [OCI_OK] = {"", "", 200},
    [OCI_BLOB_UNKNOWN] = {"BLOB_UNKNOWN", "blob unknown to registry", 404},
    [OCI_BLOB_UPLOAD_INVALID] = {"BLOB_UPLOAD_INVALID", "blob upload invalid",
                                 400},
    [OCI_BLOB_UPLOAD_UNKNOWN] = {"BLOB_UPLOAD_UNKNOWN",
                                 "blob upload unknown to registry", 404},
    [OCI_DIGEST_INVALID] = {"DIGEST_INVALID",
                            "provided digest did not match uploaded content",
                            400},
    [OCI_MANIFEST_BLOB_UNKNOWN] =
        {"MANIFEST_BLOB_UNKNOWN",
         "manifest references a manifest or blob unknown to registry", 404},
    [OCI_MANIFEST_INVALID] = {"MANIFEST_INVALID", "manifest invalid", 400},
    [OCI_MANIFEST_UNKNOWN] = {"MANIFEST_UNKNOWN",
                              "manifest unknown to registry", 404},
    [OCI_NAME_INVALID] = {"NAME_INVALID", "invalid repository name", 400},
    [OCI_NAME_UNKNOWN] = {"NAME_UNKNOWN",
                          "repository name not known to registry", 404},
    [OCI_SIZE_INVALID] = {"SIZE_INVALID",
                          "provided length did not match content length", 400},
    [OCI_UNAUTHORIZED] = {"UNAUTHORIZED", "authentication required", 401},
    [OCI_DENIED] = {"DENIED", "requested access to the resource is denied",
                    403},
    [OCI_UNSUPPORTED] = {"UNSUPPORTED", "the operation is unsupported", 405},
    [OCI_TOOMANYREQUESTS] = {"TOOMANYREQUESTS", "too many requests", 429},
    [OCI_TAG_INVALID] = {"TAG_INVALID", "invalid tag", 400},
    [OCI_PAGINATION_INVALID] = {"PAGINATION_NUMBER_INVALID",
                                "invalid number of results requested", 400},
    [OCI_UNAVAILABLE] = {"UNAVAILABLE", "service unavailable", 503},
    [OCI_RANGE_INVALID] = {"BLOB_UPLOAD_INVALID",
                           "blob upload invalid: chunk out of order", 416},
    [OCI_NOT_FOUND] = {"UNSUPPORTED", "no such endpoint", 404},
    [OCI_METHOD_INVALID] = {"UNSUPPORTED",
                            "the operation is unsupported: method not allowed",
                            405},
    [OCI_TOO_LARGE] = {"SIZE_INVALID", "content exceeds the size limit", 413},
    [OCI_IN_USE] = {"DENIED", "a manifest of the repository references it",
                    405},
    [OCI_BLOB_RANGE] = {"SIZE_INVALID", "requested range not satisfiable", 416},
    [OCI_INTERNAL] = {"UNKNOWN", "internal server error", 500},
    [OCI_STORAGE_FULL] = {"UNKNOWN", "insufficient storage", 507},
    [OCI_GONE] = {"UNKNOWN", "the client went away", 499},
};

const struct oci_err_desc *oci_err_desc(enum oci_err e)
{
    if ((unsigned)e >= OCI_ERR_COUNT || !descs[e].code)
        e = OCI_INTERNAL;
    return &descs[e];
}
