#ifndef BERTH_CONFIG_CONF_H
#define BERTH_CONFIG_CONF_H

#include <limits.h>
#include <stddef.h>

#include "util/log.h"

/*
 * The responder's configuration file: "key = value" lines, '#' starts a
 * comment, blank lines are ignored. Sizes take K, M, G or T (powers of
 * 1024). Keys:
 *
 *   root              storage root, an absolute path (required)
 *   map_size          LMDB map size                      (default 1G)
 *   max_manifest_size largest manifest accepted           (default 4M)
 *   log_level         error | warn | info | debug         (default info)
 *   offload           none | x-sendfile | x-accel-redirect (default none)
 *   offload_prefix    URI prefix of nginx's internal blob location, for
 *                     x-accel-redirect                    (default
 *                     /_berth_blobs)
 *   delete            on | off: allow DELETE of blobs and manifests
 *                     (default on)
 *   upload_ttl        seconds after which an unfinished upload session
 *                     is dropped; s, m, h or d suffix   (default 7d)
 *   sync              full | data: when a commit returns, LMDB's data and
 *                     meta page are on disk (full), or its data only:
 *                     half the flushes, never a damaged database, but a
 *                     power loss may undo the last commit (default data)
 *   access            an access file (auth/auth.h): who may pull, push,
 *                     delete; none: the front server alone decides
 *   auth_realm        the realm of berth's 401 challenges  (default
 *                     berth)
 */
enum offload { OFFLOAD_NONE, OFFLOAD_XSENDFILE, OFFLOAD_XACCEL };

struct config {
    char file[PATH_MAX]; /* the file it was read from */
    char root[PATH_MAX];
    size_t map_size;
    size_t max_manifest_size;
    enum log_level log_level;
    enum offload offload;
    char offload_prefix[256];
    int delete_enabled;
    long long upload_ttl;  /* seconds */
    int sync_data;         /* sync = data */
    char access[PATH_MAX]; /* "" when there is no access file */
    char auth_realm[128];
};

/*
 * Read path into *out. Return 0, or -1 with a one-line message in err
 * (errlen bytes) that names the file, the line and the problem.
 */
int config_load(const char *path, struct config *out, char *err, size_t errlen);

/*
 * Check that cfg->root is (or can be made) a writable directory. Return 0,
 * or -1 with a one-line message in err naming the config file.
 */
int config_check_root(const struct config *cfg, char *err, size_t errlen);

/* Parse "512", "64K", "1G"... Return 0, or -1 if malformed or too big. */
int config_parse_size(const char *s, size_t *out);

/* Parse "90", "90s", "15m", "12h", "7d" into seconds. Return 0 or -1. */
int config_parse_duration(const char *s, long long *out);

#endif
