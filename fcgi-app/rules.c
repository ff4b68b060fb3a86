#include "config.h"

#include <stdio.h>
#include <string.h>

#include "fcgi-app/handlers.h"
#include "util/scaled.h"

/*
 * The quotas of the policy file (policy/policy.h), checked before a push
 * writes. The counts are the store's (store_ns_usage): reading them before
 * the write makes a quota soft by what pushes in parallel add at the same
 * moment. Immutable tags are the store's to hold (store_set_tag_guard(),
 * set by the worker), in the transaction that would move or remove one.
 */

enum oci_err quota_check(struct req *r, const struct digest *d, long long need)
{
    char limit[SCALED_BYTES_MAX], used[SCALED_BYTES_MAX];
    char more[SCALED_BYTES_MAX];
    const struct policy_quota *q;
    long long u;
    size_t i = 0;
    int rc, holds;

    if (need <= 0)
        return OCI_OK;
    while ((q = policy_quota_next(r->rules, r->name, &i))) {
        rc = store_ns_usage(r->store, q->ns, d, &u, &holds);
        if (rc)
            return req_fail_store(r, rc);
        if ((d && holds) || u + need <= q->limit)
            continue;
        scaled_bytes(q->limit, limit);
        scaled_bytes(u, used);
        scaled_bytes(need, more);
        return req_fail(r, OCI_DENIED,
                        "quota of %s is %s, %s used, this push needs %s more",
                        q->pattern, limit, used, more);
    }
    return OCI_OK;
}
