#ifndef BERTH_UTIL_OCIERR_H
#define BERTH_UTIL_OCIERR_H

/*
 * The error codes of the distribution spec (oci-distribution-spec.md,
 * "Error Codes", code-1 .. code-14), plus UNKNOWN for server faults (the
 * code the Go distribution registry and the docker client use for 5xx),
 * and two codes of the Docker Registry HTTP API V2 that the OCI table
 * lacks (docker-registry-api-v2.md, "Errors").
 * Each has a spec message and the HTTP status berth answers with.
 */
enum oci_err {
    OCI_OK = 0,
    OCI_BLOB_UNKNOWN,          /* code-1 */
    OCI_BLOB_UPLOAD_INVALID,   /* code-2 */
    OCI_BLOB_UPLOAD_UNKNOWN,   /* code-3 */
    OCI_DIGEST_INVALID,        /* code-4 */
    OCI_MANIFEST_BLOB_UNKNOWN, /* code-5 */
    OCI_MANIFEST_INVALID,      /* code-6 */
    OCI_MANIFEST_UNKNOWN,      /* code-7 */
    OCI_NAME_INVALID,          /* code-8 */
    OCI_NAME_UNKNOWN,          /* code-9 */
    OCI_SIZE_INVALID,          /* code-10 */
    OCI_UNAUTHORIZED,          /* code-11 */
    OCI_DENIED,                /* code-12 */
    OCI_UNSUPPORTED,           /* code-13 */
    OCI_TOOMANYREQUESTS,       /* code-14 */
    /* codes of the Docker Registry HTTP API V2 that clients know too */
    OCI_TAG_INVALID,        /* TAG_INVALID, 400 */
    OCI_PAGINATION_INVALID, /* PAGINATION_NUMBER_INVALID, 400 */
    OCI_UNAVAILABLE,        /* UNAVAILABLE, 503: berth cannot serve */
    /* same codes, other statuses */
    OCI_RANGE_INVALID,  /* BLOB_UPLOAD_INVALID, 416: chunk out of order */
    OCI_NOT_FOUND,      /* UNSUPPORTED, 404: no such endpoint */
    OCI_METHOD_INVALID, /* UNSUPPORTED, 405: endpoint exists, not method */
    OCI_TOO_LARGE,      /* SIZE_INVALID, 413: over a configured limit */
    OCI_IN_USE,         /* DENIED, 405: a manifest references it (zot) */
    OCI_BLOB_RANGE,     /* SIZE_INVALID, 416: Range outside the blob */
    OCI_INTERNAL,       /* UNKNOWN, 500 */
    OCI_STORAGE_FULL,   /* UNKNOWN, 507: disk or LMDB map full */
    /*
     * Not an answer: one that had started was cut short (the web server
     * went away, or a blob file could not be read), so nothing can be
     * rendered any more (499, nginx's "client closed request", for logs)
     */
    OCI_GONE,
    OCI_ERR_COUNT
};

struct oci_err_desc {
    const char *code;    /* "BLOB_UNKNOWN" */
    const char *message; /* the spec's description */
    int http_status;
};

/* Never NULL: an out-of-range value describes OCI_INTERNAL. */
const struct oci_err_desc *oci_err_desc(enum oci_err e);

#endif
