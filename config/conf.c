#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/conf.h"
#include "util/fsutil.h"

int config_parse_size(const char *s, size_t *out)
{
    unsigned long long v, mult = 1;
    char *end;

    if (!isdigit((unsigned char)s[0]))
        return -1;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno)
        return -1;
    switch (*end) {
    case 'T':
    case 't':
        mult <<= 10;
        /* fall through */
    case 'G':
    case 'g':
        mult <<= 10;
        /* fall through */
    case 'M':
    case 'm':
        mult <<= 10;
        /* fall through */
    case 'K':
    case 'k':
        mult <<= 10;
        end++;
        break;
    case '\0':
        break;
    default:
        return -1;
    }
    if (*end || v > SIZE_MAX / mult)
        return -1;
    *out = (size_t)(v * mult);
    return 0;
}

int config_parse_duration(const char *s, long long *out)
{
    unsigned long long v;
    long long mult = 1;
    char *end;

    if (!isdigit((unsigned char)s[0]))
        return -1;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno)
        return -1;
    switch (*end) {
    case 'd':
        mult = 86400;
        break;
    case 'h':
        mult = 3600;
        break;
    case 'm':
        mult = 60;
        break;
    case 's':
    case '\0':
        break;
    default:
        return -1;
    }
    if (*end)
        end++;
    if (*end || v > (unsigned long long)(INT64_MAX / mult))
        return -1;
    *out = (long long)v * mult;
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

static int set_string(char *dst, size_t len, const char *v)
{
    size_t n = strlen(v);

    if (n >= len)
        return -1;
    memcpy(dst, v, n + 1);
    return 0;
}

/* Apply one key; return NULL, or a description of what is wrong. */
static const char *apply(struct config *c, const char *k, const char *v)
{
    if (!strcmp(k, "root")) {
        if (v[0] != '/')
            return "root must be an absolute path";
        if (set_string(c->root, sizeof(c->root) - 256, v))
            return "root is too long";
    } else if (!strcmp(k, "map_size")) {
        if (config_parse_size(v, &c->map_size) || c->map_size < (1u << 20))
            return "map_size must be a size of at least 1M";
    } else if (!strcmp(k, "max_manifest_size")) {
        if (config_parse_size(v, &c->max_manifest_size) ||
            c->max_manifest_size < 1024 || c->max_manifest_size > (256u << 20))
            return "max_manifest_size must be a size from 1K to 256M";
    } else if (!strcmp(k, "log_level")) {
        if (log_level_parse(v, &c->log_level))
            return "log_level must be error, warn, info or debug";
    } else if (!strcmp(k, "offload")) {
        if (!strcmp(v, "none"))
            c->offload = OFFLOAD_NONE;
        else if (!strcmp(v, "x-sendfile"))
            c->offload = OFFLOAD_XSENDFILE;
        else if (!strcmp(v, "x-accel-redirect"))
            c->offload = OFFLOAD_XACCEL;
        else
            return "offload must be none, x-sendfile or x-accel-redirect";
    } else if (!strcmp(k, "offload_prefix")) {
        if (v[0] != '/' ||
            set_string(c->offload_prefix, sizeof(c->offload_prefix), v))
            return "offload_prefix must be a URI path starting with '/'";
    } else if (!strcmp(k, "delete")) {
        if (!strcmp(v, "on"))
            c->delete_enabled = 1;
        else if (!strcmp(v, "off"))
            c->delete_enabled = 0;
        else
            return "delete must be on or off";
    } else if (!strcmp(k, "upload_ttl")) {
        if (config_parse_duration(v, &c->upload_ttl) || c->upload_ttl < 60)
            return "upload_ttl must be a duration of at least 60s";
    } else if (!strcmp(k, "sync")) {
        if (!strcmp(v, "full"))
            c->sync_data = 0;
        else if (!strcmp(v, "data"))
            c->sync_data = 1;
        else
            return "sync must be full or data";
    } else if (!strcmp(k, "access")) {
        if (v[0] != '/' || set_string(c->access, sizeof(c->access), v))
            return "access must be an absolute path";
    } else if (!strcmp(k, "auth_realm")) {
        if (!v[0] || strchr(v, '"') || strchr(v, '\\') ||
            set_string(c->auth_realm, sizeof(c->auth_realm), v))
            return "auth_realm must be 1 to 127 characters without '\"' "
                   "or '\\'";
    } else {
        return "unknown key";
    }
    return NULL;
}

int config_load(const char *path, struct config *out, char *err, size_t errlen)
{
    struct config c;
    char line[4096];
    const char *why;
    int lineno = 0, rc = -1;
    FILE *f;

    memset(&c, 0, sizeof(c));
    c.map_size = (size_t)1 << 30;
    c.max_manifest_size = 4u << 20;
    c.log_level = LOG_LVL_INFO;
    c.offload = OFFLOAD_NONE;
    c.delete_enabled = 1;
    c.sync_data = 1;
    c.upload_ttl = 7 * 86400;
    memcpy(c.offload_prefix, "/_berth_blobs", sizeof("/_berth_blobs"));
    memcpy(c.auth_realm, "berth", sizeof("berth"));
    if (set_string(c.file, sizeof(c.file), path)) {
        snprintf(err, errlen, "config file name is too long");
        return -1;
    }

    f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "cannot open config '%s': %s", path,
                 strerror(errno));
        return -1;
    }
    while (fgets(line, sizeof(line), f)) {
        char *p, *eq, *k, *v;

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
        k = trim(p);
        v = trim(eq + 1);
        why = apply(&c, k, v);
        if (why) {
            snprintf(err, errlen, "%s:%d: %s '%s'", path, lineno, why, k);
            goto out;
        }
    }
    if (ferror(f)) {
        snprintf(err, errlen, "cannot read config '%s': %s", path,
                 strerror(errno));
        goto out;
    }
    if (!c.root[0]) {
        snprintf(err, errlen, "%s: no 'root' (the storage root) is set", path);
        goto out;
    }
    *out = c;
    rc = 0;
out:
    fclose(f);
    return rc;
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
