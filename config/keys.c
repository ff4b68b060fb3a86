#include "config.h"

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "config/conf.h"
#include "config/keys.h"
#include "util/xalloc.h"

#define FIELD(f)                                                               \
    .offset = offsetof(struct config, f),                                      \
    .size = sizeof(((struct config *)0)->f)

/* the longest string a char[] field of struct config holds */
#define LEN_MAX(f) (sizeof(((struct config *)0)->f) - 1)

/*
 * The store names files below root (blobs/<alg>/<xx>/<hex>, meta/...):
 * a root must leave them this much room in a PATH_MAX buffer.
 */
#define ROOT_RESERVE 256

static const struct config_enum_value log_levels[] = {
    {"error", LOG_LVL_ERR},
    {"warn", LOG_LVL_WARN},
    {"info", LOG_LVL_INFO},
    {"debug", LOG_LVL_DEBUG},
    {NULL, 0},
};

static const struct config_enum_value offloads[] = {
    {"none", OFFLOAD_NONE},
    {"x-sendfile", OFFLOAD_XSENDFILE},
    {"x-accel-redirect", OFFLOAD_XACCEL},
    {NULL, 0},
};

static const struct config_enum_value on_off[] = {
    {"on", 1}, {"off", 0}, {NULL, 0}};

static const struct config_enum_value syncs[] = {
    {"full", 0}, {"data", 1}, {NULL, 0}};

const struct config_key config_keys[] = {
    {
        .name = "root",
        .type = CONFIG_PATH,
        FIELD(root),
        .max = PATH_MAX - 1 - ROOT_RESERVE,
        .def = NULL,
        .doc = "the storage root, an absolute path on a local file system",
    },
    {
        .name = "map_size",
        .type = CONFIG_SIZE,
        FIELD(map_size),
        .min = 1 << 20,
        .max = SIZE_MAX,
        .def = "1G",
        .doc = "size of the LMDB map the metadata starts with (K, M, G, T)",
    },
    {
        .name = "map_size_max",
        .type = CONFIG_SIZE,
        FIELD(map_size_max),
        .min = 1 << 20,
        .max = SIZE_MAX,
        .def = "64G",
        .doc = "the map grows by doubling up to this, the most the "
               "metadata may take",
    },
    {
        .name = "max_manifest_size",
        .type = CONFIG_SIZE,
        FIELD(max_manifest_size),
        .min = 1 << 10,
        .max = 256 << 20,
        .def = "4M",
        .doc = "largest manifest accepted (K, M, G, T: powers of 1024)",
    },
    {
        .name = "log_level",
        .type = CONFIG_ENUM,
        FIELD(log_level),
        .values = log_levels,
        .def = "info",
        .doc = "error | warn | info | debug",
    },
    {
        .name = "offload",
        .type = CONFIG_ENUM,
        FIELD(offload),
        .values = offloads,
        .def = "none",
        .doc = "who sends blob files: none (berth) | x-sendfile | "
               "x-accel-redirect",
    },
    {
        .name = "offload_prefix",
        .type = CONFIG_URI_PREFIX,
        FIELD(offload_prefix),
        .max = LEN_MAX(offload_prefix),
        .def = "/_berth_blobs",
        .doc = "URI prefix of nginx's internal blob location, for "
               "x-accel-redirect",
    },
    {
        .name = "delete",
        .type = CONFIG_ENUM,
        FIELD(delete_enabled),
        .values = on_off,
        .def = "on",
        .doc = "on | off: allow DELETE of blobs and manifests",
    },
    {
        .name = "metrics",
        .type = CONFIG_ENUM,
        FIELD(metrics),
        .values = on_off,
        .def = "off",
        .doc = "on | off: serve Prometheus metrics at /metrics (catalog right)",
    },
    {
        .name = "upload_ttl",
        .type = CONFIG_DURATION,
        FIELD(upload_ttl),
        .min = 60,
        .max = LLONG_MAX,
        .def = "7d",
        .doc = "unfinished upload sessions older than this are dropped "
               "(s, m, h, d)",
    },
    {
        .name = "body_timeout",
        .type = CONFIG_DURATION,
        FIELD(body_timeout),
        .min = 1,
        .max = 86400,
        .def = "1m",
        .doc = "a body idle this long, or an answer not taken, ends the "
               "request (s, m, h)",
    },
    {
        .name = "upload_sessions_per_user",
        .type = CONFIG_COUNT,
        FIELD(upload_sessions_per_user),
        .min = 0,
        .max = 1000000000,
        .def = "1000",
        .doc = "most upload sessions a user (anonymous is one) may have "
               "open; 0: no limit",
    },
    {
        .name = "upload_sessions_per_repo",
        .type = CONFIG_COUNT,
        FIELD(upload_sessions_per_repo),
        .min = 0,
        .max = 1000000000,
        .def = "5000",
        .doc = "most upload sessions open in one repository; 0: no limit",
    },
    {
        .name = "upload_sessions_map_size",
        .type = CONFIG_SIZE,
        FIELD(upload_sessions_map_size),
        .min = 1 << 20,
        .max = SIZE_MAX,
        .def = "1G",
        .doc = "most the upload sessions' LMDB map may grow to",
    },
    {
        .name = "sync",
        .type = CONFIG_ENUM,
        FIELD(sync_data),
        .values = syncs,
        .def = "full",
        .doc = "full | data: whether a commit waits for LMDB's meta page too",
    },
    {
        .name = "access",
        .type = CONFIG_PATH,
        FIELD(access),
        .max = LEN_MAX(access),
        .def = "",
        .doc = "an access file: who may pull, push, delete; empty: the front "
               "server decides",
    },
    {
        .name = "auth_realm",
        .type = CONFIG_REALM,
        FIELD(auth_realm),
        .max = LEN_MAX(auth_realm),
        .def = "berth",
        .doc = "the realm of berth's own 401 challenges",
    },
    {
        .name = "gc_grace",
        .type = CONFIG_DURATION,
        FIELD(gc_grace),
        .min = 0,
        .max = LLONG_MAX,
        .def = "1d",
        .doc = "how long an unreachable blob or manifest stays before GC "
               "removes it",
    },
    {
        .name = "gc_interval",
        .type = CONFIG_DURATION_OFF,
        FIELD(gc_interval),
        .min = 1,
        .max = LLONG_MAX,
        .def = "1h",
        .doc = "how often berth runs garbage collection; off: only berthctl "
               "gc does",
    },
    {
        .name = "untagged_ttl",
        .type = CONFIG_DURATION_OFF,
        FIELD(untagged_ttl),
        .min = 0,
        .max = LLONG_MAX,
        .def = "off",
        .doc = "GC removes untagged manifests older than this; off: keeps "
               "them",
    },
    {
        .name = "retention",
        .type = CONFIG_PATH,
        FIELD(retention),
        .max = LEN_MAX(retention),
        .def = "",
        .doc = "a retention rules file (tags GC drops per repository); "
               "empty: none",
    },
    {
        .name = "policy",
        .type = CONFIG_PATH,
        FIELD(policy),
        .max = LEN_MAX(policy),
        .def = "",
        .doc = "a policy file: byte quotas of namespaces, immutable tags; "
               "empty: none",
    },
    {
        .name = "mirror",
        .type = CONFIG_PATH,
        FIELD(mirror),
        .max = LEN_MAX(mirror),
        .def = "",
        .doc = "a mirror rules file: the pull-through cache's upstreams; "
               "empty: none",
    },
    {
        .name = "audit",
        .type = CONFIG_ENUM,
        FIELD(audit),
        .values = on_off,
        .def = "on",
        .doc = "on | off: keep an audit log of pushes, deletions, refused "
               "requests",
    },
    {
        .name = "audit_retention",
        .type = CONFIG_DURATION_OFF,
        FIELD(audit_retention),
        .min = 60,
        .max = LLONG_MAX,
        .def = "90d",
        .doc = "audit log entries older than this go; off: no age limit "
               "(s, m, h, d)",
    },
    {
        .name = "audit_max_entries",
        .type = CONFIG_COUNT,
        FIELD(audit_max_entries),
        .min = 0,
        .max = 1000000000,
        .def = "1000000",
        .doc = "the audit log keeps the newest this many entries; 0: no "
               "limit",
    },
    {
        .name = "webhooks",
        .type = CONFIG_PATH,
        FIELD(webhooks),
        .max = LEN_MAX(webhooks),
        .def = "",
        .doc = "a webhooks file: receivers of push, tag, delete (and pull) "
               "events; empty: none",
    },
    {
        .name = "webhooks_pulls",
        .type = CONFIG_ENUM,
        FIELD(webhooks_pulls),
        .values = on_off,
        .def = "off",
        .doc = "on | off: record manifest pulls for the webhooks (a commit "
               "per pull)",
    },
};

const size_t config_nkeys = ARRAY_SIZE(config_keys);
