#ifndef BERTH_CONFIG_CONF_H
#define BERTH_CONFIG_CONF_H

#include <limits.h>
#include <stddef.h>
#include <stdio.h>

#include "util/log.h"

struct store_options;

/*
 * berth's configuration file: "key = value" lines; '#' starts a comment
 * (so no value can hold one), blank lines are ignored, space around keys
 * and values is not part of them. Each key may be set once.
 *
 * The keys, their types, limits, defaults and one-line docs are the rows
 * of one table, config/keys.c; conf/berth.conf, the README's list of
 * keys and man/berth.conf.5 are checked against it (tests/unit/test_config).
 */

/*
 * The config file berth-fcgi reads when given none: berth/berth.conf in
 * the sysconfdir of the last configure before the build.
 */
extern const char config_default_path[];

enum offload { OFFLOAD_NONE, OFFLOAD_XSENDFILE, OFFLOAD_XACCEL };

/* a duration that may be "off" holds this when it is */
#define CONFIG_OFF (-1LL)

struct config {
    char file[PATH_MAX]; /* the file it was read from */
    char root[PATH_MAX];
    size_t map_size;
    size_t map_size_max; /* the metadata map grows up to this */
    size_t max_manifest_size;
    enum log_level log_level;
    enum offload offload;
    char offload_prefix[256];
    int delete_enabled;
    int metrics;            /* GET /metrics answers (fcgi-app/metrics.h) */
    long long upload_ttl;   /* seconds */
    long long body_timeout; /* seconds */
    long long upload_sessions_per_user; /* 0: no limit */
    long long upload_sessions_per_repo; /* 0: no limit */
    size_t upload_sessions_map_size;
    int sync_data;         /* sync = data */
    char access[PATH_MAX]; /* "" when there is no access file */
    char auth_realm[128];
    long long gc_grace;       /* seconds an unreachable object stays */
    long long gc_interval;    /* seconds between GC runs, or CONFIG_OFF */
    long long untagged_ttl;   /* seconds, or CONFIG_OFF: keep untagged */
    char retention[PATH_MAX]; /* "" when there are no retention rules */
    char policy[PATH_MAX];    /* "" when there are no quotas, no
                                 immutable tags */
    char mirror[PATH_MAX];    /* "" when there is no pull-through cache */

    /* the audit log (store_audit_walk) */
    int audit;
    long long audit_retention;   /* seconds, or CONFIG_OFF: no age limit */
    long long audit_max_entries; /* 0: no limit */

    /* webhooks (hooks/hooks.h): "" when there are none */
    char webhooks[PATH_MAX];
    int webhooks_pulls; /* pulls are recorded in the audit log */
};

/*
 * Read path into *out: the keys it sets, the defaults for the others.
 * Return 0, or -1 with a one-line message in err (errlen bytes, always
 * terminated) that names the file, the line and the key, as
 * "berth.conf:3: map_size must be a size of at least 1M". *out is
 * written only on success.
 */
int config_load(const char *path, struct config *out, char *err, size_t errlen);

/*
 * Write cfg to f as a config file: every key in the table's order, as a
 * "key = value" line below a "# " line with the key's doc, a blank line
 * between keys. Loading the output gives back cfg (every field but
 * file), if cfg is as config_load() leaves it. Write errors are left in
 * f, for the caller's ferror().
 */
void config_print(const struct config *cfg, FILE *f);

/*
 * Check that cfg->root is (or can be made) a writable directory. Return 0,
 * or -1 with a one-line message in err naming the config file.
 */
int config_check_root(const struct config *cfg, char *err, size_t errlen);

/*
 * The options to open the store with that cfg describes (store_open()):
 * its map sizes, sync mode and limits of upload sessions, and the store's
 * defaults for the rest.
 * Writes all of *out.
 */
void config_store_options(const struct config *cfg, struct store_options *out);

struct store_gc_options;
struct config_gc_rules; /* opaque: the retention and policy rules */

/*
 * The options of store_gc() that cfg describes: gc_grace, untagged_ttl,
 * upload_ttl, and the rules of the retention file as the retain callback
 * (config/gc.c), which never drops a tag the policy file makes
 * immutable; the caller sets the rest (dry_run, report, progress). On 0,
 * *rules holds the loaded rules (NULL without a retention file), which
 * the caller frees with config_gc_rules_free() after the GC. Return 0, or
 * -1 with a one-line message in err naming the file and line.
 */
int config_gc_options(const struct config *cfg, struct store_gc_options *o,
                      struct config_gc_rules **rules, char *err, size_t errlen);
void config_gc_rules_free(struct config_gc_rules *rules);

/*
 * Parse "512", "64K", "1G"... (K, M, G, T or k, m, g, t: powers of 1024).
 * Return 0, or -1 if malformed or too big for a size_t; *out is written
 * only on success.
 */
int config_parse_size(const char *s, size_t *out);

/*
 * Parse "90", "90s", "15m", "12h", "7d" into seconds. Return 0, or -1 if
 * malformed or too big for a long long; *out is written only on success.
 */
int config_parse_duration(const char *s, long long *out);

#endif
