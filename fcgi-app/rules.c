#include "config.h"

#include <stdio.h>
#include <string.h>

#include "fcgi-app/handlers.h"
#include "util/scaled.h"

/*
 * The push rules of the policy file (policy/policy.h): quotas of
 * namespaces, checked before a push writes, and immutable tags. The
 * counts are the store's (store_ns_usage): reading them before the write
 * makes a quota soft by what pushes in parallel add at the same moment.
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

/* The manifest tag of r->name names: *found 1 and *d, or *found 0. */
static void tag_target(struct req *r, const char *tag, struct digest *d,
                       int *found)
{
    struct store_manifest_info info;

    *found = store_manifest_get(r->store, r->name, tag, NULL, NULL, &info) ==
             STORE_OK;
    if (*found)
        *d = info.digest;
}

enum oci_err immutable_check(struct req *r, const char *tag,
                             const struct digest *to)
{
    char dstr[DIGEST_STR_MAX];
    struct digest now;
    int found;

    if (!policy_immutable(r->rules, r->name, tag))
        return OCI_OK;
    tag_target(r, tag, &now, &found);
    if (!found || (to && digest_equal(&now, to)))
        return OCI_OK; /* a first push, or the same manifest again */
    digest_format(&now, dstr);
    return req_fail(r, OCI_DENIED,
                    "tag '%s' of '%s' is immutable: it names '%s' for good%s",
                    tag, r->name, dstr,
                    to ? "; push it under another tag" : "");
}

struct tags_of {
    struct req *r;
    char tag[TAG_MAX_LEN + 1]; /* the first immutable one */
};

static int each_tag(void *ctx, const char *s, size_t len)
{
    struct tags_of *t = ctx;

    if (len > TAG_MAX_LEN)
        return STORE_OK;
    memcpy(t->tag, s, len);
    t->tag[len] = '\0';
    if (policy_immutable(t->r->rules, t->r->name, t->tag))
        return STORE_TOOBIG; /* found: stop the walk */
    t->tag[0] = '\0';
    return STORE_OK;
}

enum oci_err immutable_check_manifest(struct req *r, const struct digest *d)
{
    struct tags_of t = {r, ""};
    int rc;

    if (!r->rules)
        return OCI_OK;
    rc = store_manifest_tags(r->store, r->name, d, each_tag, &t);
    if (rc && rc != STORE_TOOBIG)
        return req_fail_store(r, rc);
    if (!t.tag[0])
        return OCI_OK;
    return req_fail(r, OCI_DENIED,
                    "immutable tag '%s' of '%s' names this manifest", t.tag,
                    r->name);
}
