#include "config.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fcgi-app/handlers.h"
#include "fcgi-app/response.h"
#include "util/log.h"

/*
 * A store is not ready when its metadata map is this full (percent of
 * map_size_max: the next writes would fail with 507), or when the root's
 * file system has less than DISK_FLOOR bytes free for berth (blob files
 * and upload data would not fit, nor LMDB's growth). A fixed floor rather
 * than a share of the disk: 1% of a large disk is still a lot of room.
 */
#define MAP_FULL_PCT 95
#define DISK_FLOOR   ((long long)64 << 20)

/* The probe's answer: {"status":..} and, when not NULL, "reason". */
static enum oci_err health_send(struct req *r, int status, const char *state,
                                const char *reason)
{
    json_t *root = json_pack("{s:s, s:s*}", "status", state, "reason", reason);
    char *body = root ? json_dumps(root, JSON_COMPACT) : NULL;
    enum oci_err err;

    json_decref(root);
    if (!body)
        return req_fail(r, OCI_INTERNAL, "cannot render the health answer");
    /* a probe wants the state now, never a cache's */
    resp_header(r, "Cache-Control: no-store");
    err =
        resp_send(r, status, "application/json", body, (long long)strlen(body));
    free(body);
    return err;
}

/* GET /livez: the process answers; it asks nothing of the store. */
enum oci_err h_livez_get(struct req *r)
{
    return health_send(r, 200, "ok", NULL);
}

/* GET /readyz: the store is usable for reads and writes. */
enum oci_err h_readyz_get(struct req *r)
{
    struct store_health h;
    char why[160];
    int rc = store_health(r->store, &h);

    if (rc)
        snprintf(why, sizeof(why), "the store cannot be read: %s",
                 store_strerror(rc));
    else if (h.maintenance)
        snprintf(why, sizeof(why), "maintenance mode (read-only)");
    else if (h.map_used >= h.map_max / 100 * MAP_FULL_PCT)
        snprintf(why, sizeof(why),
                 "the metadata map is %zu%% full (%zu of %zu MiB, "
                 "map_size_max)",
                 h.map_used / (h.map_max / 100), h.map_used >> 20,
                 h.map_max >> 20);
    else if (h.disk_free < DISK_FLOOR)
        snprintf(why, sizeof(why),
                 "the disk of the storage root has %lld MiB free (less than "
                 "%lld MiB)",
                 h.disk_free >> 20, DISK_FLOOR >> 20);
    else
        return health_send(r, 200, "ready", NULL);
    log_debug("not ready: %s", why);
    return health_send(r, 503, "not ready", why);
}
