/* tests/unit/test_router.c: router_match() (fcgi-app/router.h) */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fcgi-app/router.h"

#define ANY (M_GET | M_HEAD | M_POST | M_PUT | M_PATCH | M_DELETE)

/*
 * One path, the methods it is tried with, and what router_match() must
 * say: for OCI_OK the endpoint, the repository and the last segment.
 */
static const struct {
    const char *path;
    unsigned methods;
    enum oci_err rc;
    enum route_kind kind;
    const char *name, *ref;
} cases[] = {
    /* end-1 */
    {"/v2/", ANY, OCI_OK, ROUTE_BASE, "", ""},
    {"/v2", ANY, OCI_OK, ROUTE_BASE, "", ""},
    {"/v2/_catalog", ANY, OCI_OK, ROUTE_CATALOG, "", ""},
    /* end-8a, end-8b */
    {"/v2/a/tags/list", ANY, OCI_OK, ROUTE_TAGS, "a", ""},
    {"/v2/a/b/c/tags/list", ANY, OCI_OK, ROUTE_TAGS, "a/b/c", ""},
    {"/v2/a/manifests/tags/list", ANY, OCI_OK, ROUTE_TAGS, "a/manifests", ""},
    /* end-2, end-10 */
    {"/v2/a/blobs/sha256:ab", ANY, OCI_OK, ROUTE_BLOB, "a", "sha256:ab"},
    {"/v2/a/b/blobs/x", ANY, OCI_OK, ROUTE_BLOB, "a/b", "x"},
    {"/v2/a/blobs/", ANY, OCI_OK, ROUTE_BLOB, "a", ""},
    {"/v2/a/blobs/blobs/x", ANY, OCI_OK, ROUTE_BLOB, "a/blobs", "x"},
    {"/v2/a/tags/blobs/x", ANY, OCI_OK, ROUTE_BLOB, "a/tags", "x"},
    /* end-4a, end-4b, end-11: with the slash, or without it for POST */
    {"/v2/a/blobs/uploads/", ANY, OCI_OK, ROUTE_UPLOADS, "a", ""},
    {"/v2/a/b/blobs/uploads/", ANY, OCI_OK, ROUTE_UPLOADS, "a/b", ""},
    {"/v2/a/blobs/uploads", M_POST, OCI_OK, ROUTE_UPLOADS, "a", ""},
    {"/v2/a/blobs/uploads", M_GET | M_HEAD | M_DELETE, OCI_OK, ROUTE_BLOB, "a",
     "uploads"},
    /* end-5, end-6, end-13 */
    {"/v2/a/blobs/uploads/0f0e", ANY, OCI_OK, ROUTE_UPLOAD, "a", "0f0e"},
    {"/v2/x.y/z_w/blobs/uploads/id", ANY, OCI_OK, ROUTE_UPLOAD, "x.y/z_w",
     "id"},
    /* end-3, end-7, end-9 */
    {"/v2/a/manifests/latest", ANY, OCI_OK, ROUTE_MANIFEST, "a", "latest"},
    {"/v2/a/manifests/sha256:ab", ANY, OCI_OK, ROUTE_MANIFEST, "a",
     "sha256:ab"},
    {"/v2/a/manifests/", ANY, OCI_OK, ROUTE_MANIFEST, "a", ""},
    /* end-12a, end-12b */
    {"/v2/a/referrers/sha256:ab", ANY, OCI_OK, ROUTE_REFERRERS, "a",
     "sha256:ab"},
    /* an endpoint's path with a bad name */
    {"/v2/blobs/x", ANY, OCI_NAME_INVALID, 0, NULL, NULL},
    {"/v2//blobs/x", ANY, OCI_NAME_INVALID, 0, NULL, NULL},
    {"/v2/A/blobs/x", ANY, OCI_NAME_INVALID, 0, NULL, NULL},
    {"/v2/a//b/manifests/x", ANY, OCI_NAME_INVALID, 0, NULL, NULL},
    {"/v2/-a/tags/list", ANY, OCI_NAME_INVALID, 0, NULL, NULL},
    {"/v2/a/../b/manifests/x", ANY, OCI_NAME_INVALID, 0, NULL, NULL},
    {"/v2/tags/list", ANY, OCI_NAME_INVALID, 0, NULL, NULL},
    {"/v2/_catalog/blobs/x", ANY, OCI_NAME_INVALID, 0, NULL, NULL},
    /* no endpoint */
    {"/", ANY, OCI_NOT_FOUND, 0, NULL, NULL},
    {"/metrics", ANY, OCI_OK, ROUTE_METRICS, "", ""},
    {"/metrics/", ANY, OCI_NOT_FOUND, 0, NULL, NULL},
    {"/v2/metrics", ANY, OCI_NOT_FOUND, 0, NULL, NULL},
    {"/v1/", ANY, OCI_NOT_FOUND, 0, NULL, NULL},
    {"/v2x", ANY, OCI_NOT_FOUND, 0, NULL, NULL},
    {"/v2//", ANY, OCI_NOT_FOUND, 0, NULL, NULL},
    {"/v2/a", ANY, OCI_NOT_FOUND, 0, NULL, NULL},
    {"/v2/a/", ANY, OCI_NOT_FOUND, 0, NULL, NULL},
    {"/v2/a/b", ANY, OCI_NOT_FOUND, 0, NULL, NULL},
    {"/v2/a/tags", ANY, OCI_NOT_FOUND, 0, NULL, NULL},
    {"/v2/a/tags/list/", ANY, OCI_NOT_FOUND, 0, NULL, NULL},
    {"/v2/a/tags/listx", ANY, OCI_NOT_FOUND, 0, NULL, NULL},
    {"/v2/_catalog/", ANY, OCI_NOT_FOUND, 0, NULL, NULL},
    {"/v2/a/manifests", ANY, OCI_NOT_FOUND, 0, NULL, NULL},
    {"/v2/a/blobs", ANY, OCI_NOT_FOUND, 0, NULL, NULL},
    {"/v2/a/other/x", ANY, OCI_NOT_FOUND, 0, NULL, NULL},
    {"/v2blobs/x", ANY, OCI_NOT_FOUND, 0, NULL, NULL},
    /* the health probes: exactly these two paths, outside /v2 */
    {"/livez", ANY, OCI_OK, ROUTE_LIVEZ, "", ""},
    {"/readyz", ANY, OCI_OK, ROUTE_READYZ, "", ""},
    {"/livezz", ANY, OCI_NOT_FOUND, 0, NULL, NULL},
    {"/livez/", ANY, OCI_NOT_FOUND, 0, NULL, NULL},
    {"/readyz/x", ANY, OCI_NOT_FOUND, 0, NULL, NULL},
    {"/readyzz", ANY, OCI_NOT_FOUND, 0, NULL, NULL},
    {"/v2/livez", ANY, OCI_NOT_FOUND, 0, NULL, NULL},
    {"/v2/readyz", ANY, OCI_NOT_FOUND, 0, NULL, NULL},
    {"/v2/a/livez", ANY, OCI_NOT_FOUND, 0, NULL, NULL},
    /* docker's registry v1 search API */
    {"/v1/_ping", ANY, OCI_OK, ROUTE_V1_PING, "", ""},
    {"/v1/search", ANY, OCI_OK, ROUTE_V1_SEARCH, "", ""},
    {"/v1/search/", ANY, OCI_NOT_FOUND, 0, NULL, NULL},
    {"/v1/", ANY, OCI_NOT_FOUND, 0, NULL, NULL},
    {"/v1/a/tags/list", ANY, OCI_NOT_FOUND, 0, NULL, NULL},
    /* the web catalog's JSON API, an extension of /v2 */
    {"/v2/_berth/ui/repositories", ANY, OCI_OK, ROUTE_UI_REPOS, "", ""},
    {"/v2/_berth/ui/repositories/a/b/tags", ANY, OCI_OK, ROUTE_UI_TAGS, "a/b",
     ""},
    {"/v2/_berth/ui/repositories/tags/tags", ANY, OCI_OK, ROUTE_UI_TAGS, "tags",
     ""},
    {"/v2/_berth/ui/repositories/A/tags", ANY, OCI_NAME_INVALID, 0, NULL, NULL},
    {"/v2/_berth/ui/repositories/", ANY, OCI_NOT_FOUND, 0, NULL, NULL},
    {"/v2/_berth/ui/repositories/a", ANY, OCI_NOT_FOUND, 0, NULL, NULL},
    {"/v2/_berth/ui/x", ANY, OCI_NOT_FOUND, 0, NULL, NULL},
    /* _berth is no repository name */
    {"/v2/_berth/tags/list", ANY, OCI_NAME_INVALID, 0, NULL, NULL},
};

static void test_match_table(void **state)
{
    size_t i;
    unsigned m;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        for (m = M_GET; m <= M_DELETE; m <<= 1) {
            struct route_match got;
            enum oci_err rc;

            if (!(cases[i].methods & m))
                continue;
            memset(&got, 0x5a, sizeof(got));
            rc = router_match(cases[i].path, m, &got);
            if (rc != cases[i].rc)
                fail_msg("case %zu '%s' (method %#x): got %d, want %d", i,
                         cases[i].path, m, rc, cases[i].rc);
            if (rc != OCI_OK) {
                /* *m is written only on success */
                assert_int_equal(((unsigned char *)&got)[0], 0x5a);
                continue;
            }
            if (got.kind != cases[i].kind)
                fail_msg("case %zu '%s': kind %d, want %d", i, cases[i].path,
                         got.kind, cases[i].kind);
            assert_string_equal(got.name, cases[i].name);
            assert_string_equal(got.ref, cases[i].ref);
        }
    }
}

/* Names up to NAME_MAX_LEN, refs below REQ_REF_MAX. */
static void test_match_lengths(void **state)
{
    char path[1024], name[NAME_MAX_LEN + 2], ref[REQ_REF_MAX + 1];
    struct route_match got;

    memset(name, 'a', sizeof(name));
    name[NAME_MAX_LEN] = '\0';
    snprintf(path, sizeof(path), "/v2/%s/tags/list", name);
    assert_int_equal(router_match(path, M_GET, &got), OCI_OK);
    assert_string_equal(got.name, name);
    name[NAME_MAX_LEN] = 'a';
    name[NAME_MAX_LEN + 1] = '\0';
    snprintf(path, sizeof(path), "/v2/%s/tags/list", name);
    assert_int_equal(router_match(path, M_GET, &got), OCI_NAME_INVALID);

    memset(ref, 'r', sizeof(ref));
    ref[REQ_REF_MAX - 1] = '\0';
    snprintf(path, sizeof(path), "/v2/a/manifests/%s", ref);
    assert_int_equal(router_match(path, M_GET, &got), OCI_OK);
    assert_string_equal(got.ref, ref);
    ref[REQ_REF_MAX - 1] = 'r';
    ref[REQ_REF_MAX] = '\0';
    snprintf(path, sizeof(path), "/v2/a/manifests/%s", ref);
    assert_int_equal(router_match(path, M_GET, &got), OCI_NOT_FOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match_table),
        cmocka_unit_test(test_match_lengths),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
