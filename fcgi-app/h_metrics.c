#include "config.h"

#include "fcgi-app/handlers.h"
#include "fcgi-app/metrics.h"
#include "fcgi-app/response.h"
#include "util/log.h"

/* The exposition of every series there can be fits with room to spare. */
#define METRICS_BODY_MAX (4 << 20)

/*
 * GET /metrics: Prometheus's scrape. The router has checked "metrics =
 * on" and the right; the counters are those of every process of the
 * storage root, the store's numbers are read now.
 */
enum oci_err h_metrics_get(struct req *r)
{
    struct store_stats st;
    enum oci_err err;
    struct buf b;
    int rc;

    rc = store_stats(r->store, &st);
    if (rc)
        return req_fail_store(r, rc);
    buf_init(&b, METRICS_BODY_MAX);
    if (metrics_render(&b, &st)) {
        buf_release(&b);
        return req_fail(r, OCI_INTERNAL, "the metrics could not be rendered");
    }
    err = resp_send(r, 200, "text/plain; version=0.0.4; charset=utf-8",
                    buf_str(&b), (long long)b.len);
    buf_release(&b);
    return err;
}
