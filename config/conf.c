#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/conf.h"
#include "config/keys.h"
#include "config/paths.h"
#include "store/store.h"
#include "util/fsutil.h"
#include "util/scaled.h"
#include "util/xalloc.h"

const char config_default_path[] = CONFIG_SYSCONFDIR "/berth/berth.conf";

/* berth.conf's units (util/scaled.h); durations have no weeks */
static const struct scaled_unit size_units[] = {
    {"Tt", 1ULL << 40}, {"Gg", 1ULL << 30}, {"Mm", 1ULL << 20},
    {"Kk", 1ULL << 10}, {NULL, 0},
};

static const struct scaled_unit duration_units[] = {
    {"d", 86400}, {"h", 3600}, {"m", 60}, {"s", 1}, {NULL, 0},
};

static const struct scaled_unit no_units[] = {{NULL, 0}};

int config_parse_size(const char *s, size_t *out)
{
    unsigned long long v;

    if (scaled_parse(s, size_units, SIZE_MAX, &v))
        return -1;
    *out = (size_t)v;
    return 0;
}

int config_parse_duration(const char *s, long long *out)
{
    unsigned long long v;

    if (scaled_parse(s, duration_units, LLONG_MAX, &v))
        return -1;
    *out = (long long)v;
    return 0;
}

static char *trim(char *s)
{
    char *e;

    while (isspace((unsigned char)*s))
        s++;
    e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

static const struct config_key *find_key(const char *name)
{
    size_t i;

    for (i = 0; i < config_nkeys; i++)
        if (!strcmp(config_keys[i].name, name))
            return &config_keys[i];
    return NULL;
}

/* A string key whose default is "" may be set to "", meaning "none". */
static int may_be_empty(const struct config_key *k)
{
    return k->def && !k->def[0];
}

static int string_ok(const struct config_key *k, const char *v, size_t len)
{
    if (len > k->max)
        return 0;
    if (!len && may_be_empty(k))
        return 1;
    switch (k->type) {
    case CONFIG_PATH:
    case CONFIG_URI_PREFIX:
        return v[0] == '/';
    case CONFIG_REALM:
        return len && !strpbrk(v, "\"\\");
    default:
        return 0;
    }
}

/* Set k's field in c to v; return 0, or -1 if v is not a value of k. */
static int set_value(struct config *c, const struct config_key *k,
                     const char *v)
{
    char *field = (char *)c + k->offset;
    const struct config_enum_value *e;
    unsigned long long n;
    size_t len, size;
    long long secs;

    switch (k->type) {
    case CONFIG_SIZE:
        BUG_ON(k->size != sizeof(size_t));
        if (config_parse_size(v, &size) || size < k->min || size > k->max)
            return -1;
        memcpy(field, &size, sizeof(size));
        return 0;
    case CONFIG_DURATION:
    case CONFIG_DURATION_OFF:
        BUG_ON(k->size != sizeof(long long));
        if (k->type == CONFIG_DURATION_OFF && !strcmp(v, "off")) {
            secs = CONFIG_OFF;
            memcpy(field, &secs, sizeof(secs));
            return 0;
        }
        if (config_parse_duration(v, &secs) ||
            (unsigned long long)secs < k->min ||
            (unsigned long long)secs > k->max)
            return -1;
        memcpy(field, &secs, sizeof(secs));
        return 0;
    case CONFIG_COUNT:
        BUG_ON(k->size != sizeof(long long));
        if (scaled_parse(v, no_units, k->max, &n) || n < k->min)
            return -1;
        secs = (long long)n;
        memcpy(field, &secs, sizeof(secs));
        return 0;
    case CONFIG_ENUM:
        /* an enum field, written as the int gcc and clang make it */
        BUG_ON(k->size != sizeof(int));
        for (e = k->values; e->name; e++) {
            if (!strcmp(v, e->name)) {
                memcpy(field, &e->value, sizeof(e->value));
                return 0;
            }
        }
        return -1;
    case CONFIG_PATH:
    case CONFIG_URI_PREFIX:
    case CONFIG_REALM:
        BUG_ON(k->max >= k->size);
        len = strlen(v);
        if (!string_ok(k, v, len))
            return -1;
        memcpy(field, v, len + 1);
        return 0;
    }
    BUG_ON("unknown config_type");
    return -1;
}

/* What a value of k looks like, for "<key> must be <this>". */
static void describe(const struct config_key *k, char *buf, size_t len)
{
    const struct scaled_unit *units =
        k->type == CONFIG_SIZE ? size_units : duration_units;
    const char *what = k->type == CONFIG_SIZE ? "size" : "duration";
    const char *off = k->type == CONFIG_DURATION_OFF ? ", or off" : "";
    unsigned long long top = k->type == CONFIG_SIZE ? SIZE_MAX : LLONG_MAX;
    const struct config_enum_value *e;
    char lo[32], hi[32];
    size_t n = 0;

    switch (k->type) {
    case CONFIG_SIZE:
    case CONFIG_DURATION:
    case CONFIG_DURATION_OFF:
        scaled_format(k->min, units, lo, sizeof(lo));
        scaled_format(k->max, units, hi, sizeof(hi));
        if (k->max == top)
            snprintf(buf, len, "a %s of at least %s%s", what, lo, off);
        else
            snprintf(buf, len, "a %s from %s to %s%s", what, lo, hi, off);
        return;
    case CONFIG_COUNT:
        snprintf(buf, len, "a number from %llu to %llu", k->min, k->max);
        return;
    case CONFIG_ENUM:
        buf[0] = '\0';
        for (e = k->values; e->name && n < len; e++)
            n += (size_t)snprintf(buf + n, len - n, "%s%s",
                                  e == k->values ? ""
                                  : e[1].name    ? ", "
                                                 : " or ",
                                  e->name);
        return;
    case CONFIG_PATH:
        snprintf(buf, len, "an absolute path of at most %llu bytes%s", k->max,
                 may_be_empty(k) ? ", or empty" : "");
        return;
    case CONFIG_URI_PREFIX:
        snprintf(buf, len, "a URI path starting with '/', at most %llu bytes",
                 k->max);
        return;
    case CONFIG_REALM:
        snprintf(buf, len, "1 to %llu characters without '\"' or '\\'", k->max);
        return;
    }
}

static void set_defaults(struct config *c)
{
    size_t i;

    memset(c, 0, sizeof(*c));
    for (i = 0; i < config_nkeys; i++)
        if (config_keys[i].def)
            BUG_ON(set_value(c, &config_keys[i], config_keys[i].def));
}

/* Apply one "key = value" line; return 0, or -1 with err written. */
static int apply_line(struct config *c, int *set_on, const char *path,
                      int lineno, const char *key, const char *value, char *err,
                      size_t errlen)
{
    const struct config_key *k = find_key(key);
    char want[256];

    if (!k) {
        snprintf(err, errlen, "%s:%d: unknown key '%s'", path, lineno, key);
        return -1;
    }
    /* a second line for a key is a mistake (which one was meant?) */
    if (set_on[k - config_keys]) {
        snprintf(err, errlen, "%s:%d: '%s' is set again (first set on line %d)",
                 path, lineno, k->name, set_on[k - config_keys]);
        return -1;
    }
    if (set_value(c, k, value)) {
        describe(k, want, sizeof(want));
        snprintf(err, errlen, "%s:%d: %s must be %s", path, lineno, k->name,
                 want);
        return -1;
    }
    set_on[k - config_keys] = lineno;
    return 0;
}

/* Whether every key without a default is set; if not, say so in err. */
static int required_set(const int *set_on, const char *path, char *err,
                        size_t errlen)
{
    size_t i;

    for (i = 0; i < config_nkeys; i++) {
        if (!config_keys[i].def && !set_on[i]) {
            snprintf(err, errlen, "%s: no '%s' is set (%s)", path,
                     config_keys[i].name, config_keys[i].doc);
            return 0;
        }
    }
    return 1;
}

int config_load(const char *path, struct config *out, char *err, size_t errlen)
{
    struct config c;
    char line[4096];
    int *set_on; /* the line each key was set on, 0 if none */
    int lineno = 0, rc = -1;
    FILE *f;

    set_defaults(&c);
    if (strlen(path) >= sizeof(c.file)) {
        snprintf(err, errlen, "config file name is too long");
        return -1;
    }
    memcpy(c.file, path, strlen(path) + 1);

    f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "cannot open config '%s': %s", path,
                 strerror(errno));
        return -1;
    }
    set_on = xcalloc(config_nkeys, sizeof(*set_on));
    while (fgets(line, sizeof(line), f)) {
        char *p, *eq;

        lineno++;
        if (!strchr(line, '\n') && !feof(f)) {
            snprintf(err, errlen, "%s:%d: line too long", path, lineno);
            goto out;
        }
        p = strchr(line, '#');
        if (p)
            *p = '\0';
        p = trim(line);
        if (!*p)
            continue;
        eq = strchr(p, '=');
        if (!eq) {
            snprintf(err, errlen, "%s:%d: expected 'key = value'", path,
                     lineno);
            goto out;
        }
        *eq = '\0';
        if (apply_line(&c, set_on, path, lineno, trim(p), trim(eq + 1), err,
                       errlen))
            goto out;
    }
    if (ferror(f)) {
        snprintf(err, errlen, "cannot read config '%s': %s", path,
                 strerror(errno));
        goto out;
    }
    if (!required_set(set_on, path, err, errlen))
        goto out;
    /* the webhooks' outbox is the audit log (hooks/hooks.h) */
    if (c.webhooks[0] && !c.audit) {
        snprintf(err, errlen,
                 "%s: webhooks needs audit = on: the audit log is the "
                 "webhooks' outbox",
                 path);
        goto out;
    }
    *out = c;
    rc = 0;
out:
    free(set_on);
    fclose(f);
    return rc;
}

/* Write k's value in c as a config file would give it. */
static void format_value(const struct config *c, const struct config_key *k,
                         char *buf, size_t len)
{
    const char *field = (const char *)c + k->offset;
    const struct config_enum_value *e;
    long long secs;
    size_t size;
    int v;

    switch (k->type) {
    case CONFIG_SIZE:
        memcpy(&size, field, sizeof(size));
        scaled_format(size, size_units, buf, len);
        return;
    case CONFIG_DURATION:
    case CONFIG_DURATION_OFF:
        memcpy(&secs, field, sizeof(secs));
        if (k->type == CONFIG_DURATION_OFF && secs == CONFIG_OFF)
            snprintf(buf, len, "off");
        else
            scaled_format((unsigned long long)secs, duration_units, buf, len);
        return;
    case CONFIG_COUNT:
        memcpy(&secs, field, sizeof(secs));
        snprintf(buf, len, "%lld", secs);
        return;
    case CONFIG_ENUM:
        memcpy(&v, field, sizeof(v));
        for (e = k->values; e->name && e->value != v; e++)
            ;
        BUG_ON(!e->name); /* not a value config_load() could have set */
        snprintf(buf, len, "%s", e->name);
        return;
    case CONFIG_PATH:
    case CONFIG_URI_PREFIX:
    case CONFIG_REALM:
        snprintf(buf, len, "%.*s", (int)strnlen(field, k->size), field);
        return;
    }
    BUG_ON("unknown config_type");
}

void config_print(const struct config *cfg, FILE *f)
{
    char value[PATH_MAX];
    size_t i;

    for (i = 0; i < config_nkeys; i++) {
        format_value(cfg, &config_keys[i], value, sizeof(value));
        /* "key =" alone for an empty value: no space at the line's end */
        fprintf(f, "%s# %s\n%s =%s%s\n", i ? "\n" : "", config_keys[i].doc,
                config_keys[i].name, value[0] ? " " : "", value);
    }
}

void config_store_options(const struct config *cfg, struct store_options *out)
{
    memset(out, 0, sizeof(*out));
    out->map_size = cfg->map_size;
    out->flags = cfg->sync_data ? STORE_SYNC_DATA : 0;
    out->inline_max = STORE_INLINE_MAX_DEFAULT;
    out->map_size_max = cfg->map_size_max;
    out->sessions_map_size = cfg->upload_sessions_map_size;
    out->sessions_per_owner = cfg->upload_sessions_per_user;
    out->sessions_per_repo = cfg->upload_sessions_per_repo;
    out->audit = cfg->audit;
    out->audit_retention =
        cfg->audit_retention == CONFIG_OFF ? 0 : cfg->audit_retention;
    out->audit_max = cfg->audit_max_entries;
}

int config_check_root(const struct config *cfg, char *err, size_t errlen)
{
    char probe[PATH_MAX + 64];
    struct stat st;
    int fd;

    if (mkdir_p(cfg->root, 0755) || stat(cfg->root, &st)) {
        snprintf(err, errlen, "%s: storage root '%s': %s", cfg->file, cfg->root,
                 strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: storage root '%s' is not a directory",
                 cfg->file, cfg->root);
        return -1;
    }
    snprintf(probe, sizeof(probe), "%s/.berth-write-test.%ld", cfg->root,
             (long)getpid());
    fd = open(probe, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "%s: storage root '%s' is not writable: %s",
                 cfg->file, cfg->root, strerror(errno));
        return -1;
    }
    close(fd);
    unlink(probe);
    return 0;
}
