#include "config.h"

#include <string.h>

#include "fcgi-app/handlers.h"
#include "fcgi-app/response.h"

/* GET /v2/  (end-1): the API is here and this client may use it */
enum oci_err h_base(struct req *r)
{
    resp_head(r, 200, "application/json", 2, NULL);
    if (r->method == M_GET)
        FCGX_PutS("{}", r->fcgx.out);
    return OCI_OK;
}

enum oci_err h_store_fail(struct req *r, int rc)
{
    switch (rc) {
    case STORE_FULL:
        return req_fail(r, OCI_STORAGE_FULL, "%s", store_strerror(rc));
    case STORE_BUSY:
        /* another request holds the session: the client may try again */
        buf_adds(&r->err_headers, "Retry-After: 1\r\n");
        return req_fail(r, OCI_TOOMANYREQUESTS, "%s", store_strerror(rc));
    case STORE_SHORT:
        return req_fail(r, OCI_SIZE_INVALID, "%s", store_strerror(rc));
    case STORE_ABORTED:
        return req_fail(r, OCI_BLOB_UPLOAD_INVALID, "%s", store_strerror(rc));
    default:
        return req_fail(r, OCI_INTERNAL, "%s", store_strerror(rc));
    }
}

enum oci_err h_parse_digest(struct req *r, const char *s, struct digest *d)
{
    int rc = digest_parse(d, s, strlen(s));

    if (rc == DIGEST_UNSUPPORTED)
        return req_fail(r, OCI_DIGEST_INVALID,
                        "unsupported digest algorithm in '%s'", s);
    if (rc)
        return req_fail(r, OCI_DIGEST_INVALID, "malformed digest '%s'", s);
    return OCI_OK;
}
