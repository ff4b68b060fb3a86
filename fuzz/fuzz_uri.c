/*
 * The request target as berth-fcgi takes it apart (fcgi-app/uri.h,
 * fcgi-app/router.h): uri_split() of REQUEST_URI into the decoded path
 * and the raw query, uri_query() for the parameters the handlers read,
 * and router_match() of the path with each method. The corpus is the
 * targets of tests/unit/test_uri.c and the paths of test_router.c.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fcgi-app/router.h"
#include "fcgi-app/uri.h"
#include "fuzz/fuzz.h"

/* the query parameters the handlers ask for */
static const char *const keys[] = {"n",    "last",         "digest", "mount",
                                   "from", "artifactType", ""};

static const unsigned methods[] = {M_GET,   M_HEAD,   M_POST, M_PUT,
                                   M_PATCH, M_DELETE, M_OTHER};

static void check_match(const struct route_match *m)
{
    if (!memchr(m->name, '\0', sizeof(m->name)) ||
        !memchr(m->ref, '\0', sizeof(m->ref)))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *uri = fuzz_string(data, size);
    char path[REQ_PATH_MAX], value[REQ_REF_MAX], small[4];
    const char *query;
    struct route_match m;
    enum oci_err err;
    size_t i;
    int rc;

    if (uri_split(uri, path, sizeof(path), &query))
        goto out;
    if (!memchr(path, '\0', sizeof(path)) || path[0] != '/' || !query)
        abort();
    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        rc = uri_query(query, keys[i], value, sizeof(value));
        if (rc < -1 || rc > 1 ||
            (rc == 1 && !memchr(value, '\0', sizeof(value))))
            abort();
        /* a value that does not fit must be told, not cut */
        rc = uri_query(query, keys[i], small, sizeof(small));
        if (rc == 1 && !memchr(small, '\0', sizeof(small)))
            abort();
    }
    for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        err = router_match(path, methods[i], &m);
        if (err == OCI_OK)
            check_match(&m);
        else if (err != OCI_NOT_FOUND && err != OCI_NAME_INVALID)
            abort();
    }
out:
    free(uri);
    return 0;
}
