/*
 * tests/unit/test_config.c: config/conf.h. Sizes and durations are tables
 * here; config files are cases under data/config/{valid,invalid}, each a
 * directory with an input and its expect or error (data/config/README).
 * Adding a case needs no C.
 */
#include "config.h"

#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/conf.h"
#include "config/keys.h"
#include "store/store.h"
#include "tests/unit/cases.h"

/* --- config_parse_size, config_parse_duration --- */

static const struct {
    const char *in;
    int rc;
    unsigned long long want;
} size_cases[] = {
    {"0", 0, 0},
    {"512", 0, 512},
    {"64K", 0, 64ULL << 10},
    {"64k", 0, 64ULL << 10},
    {"1M", 0, 1ULL << 20},
    {"3m", 0, 3ULL << 20},
    {"1G", 0, 1ULL << 30},
    {"2g", 0, 2ULL << 30},
    {"1T", 0, 1ULL << 40},
    {"1t", 0, 1ULL << 40},
    {"007", 0, 7},
    {"18446744073709551615", 0, 18446744073709551615ULL},
    {"16777215T", 0, 16777215ULL << 40},
    {"", -1, 0},
    {"K", -1, 0},
    {"-1", -1, 0},
    {"+1", -1, 0},
    {" 1", -1, 0},
    {"1 ", -1, 0},
    {"1 K", -1, 0},
    {"1KB", -1, 0},
    {"1KK", -1, 0},
    {"1.5M", -1, 0},
    {"1X", -1, 0},
    {"1P", -1, 0},
    {"0x10", -1, 0},
    {"18446744073709551616", -1, 0}, /* 2^64 */
    {"16777216T", -1, 0},            /* 2^64 again */
    {"99999999999999999999999", -1, 0},
};

static void test_parse_size_table(void **state)
{
    size_t i;

    assert_true(sizeof(size_t) == 8); /* the table assumes LP64 */
    for (i = 0; i < sizeof(size_cases) / sizeof(size_cases[0]); i++) {
        size_t out = 12345;
        int rc = config_parse_size(size_cases[i].in, &out);

        if (rc != size_cases[i].rc)
            fail_msg("size case %zu '%s': got %d, want %d", i, size_cases[i].in,
                     rc, size_cases[i].rc);
        if (rc == 0)
            assert_int_equal(out, size_cases[i].want);
        else
            assert_int_equal(out, 12345);
    }
}

static const struct {
    const char *in;
    int rc;
    long long want;
} duration_cases[] = {
    {"0", 0, 0},
    {"90", 0, 90},
    {"90s", 0, 90},
    {"15m", 0, 900},
    {"12h", 0, 43200},
    {"7d", 0, 604800},
    {"9223372036854775807", 0, 9223372036854775807LL},
    {"106751991167300d", 0, 106751991167300LL * 86400},
    {"", -1, 0},
    {"d", -1, 0},
    {"1w", -1, 0},
    {"1dd", -1, 0},
    {"1D", -1, 0},
    {"1 d", -1, 0},
    {"-1", -1, 0},
    {"1.5h", -1, 0},
    {"9223372036854775808", -1, 0},
    {"106751991167301d", -1, 0},
    {"99999999999999999999999", -1, 0},
};

static void test_parse_duration_table(void **state)
{
    size_t i;

    for (i = 0; i < sizeof(duration_cases) / sizeof(duration_cases[0]); i++) {
        long long out = 12345;
        int rc = config_parse_duration(duration_cases[i].in, &out);

        if (rc != duration_cases[i].rc)
            fail_msg("duration case %zu '%s': got %d, want %d", i,
                     duration_cases[i].in, rc, duration_cases[i].rc);
        if (rc == 0)
            assert_int_equal(out, duration_cases[i].want);
        else
            assert_int_equal(out, 12345);
    }
}

/* --- config_load, config_check_root: a fresh directory per test --- */

struct fixture {
    char dir[64];
    char path[128]; /* <dir>/berth.conf */
};

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw)
{
    return remove(path);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    if (!f)
        return -1;
    snprintf(f->dir, sizeof(f->dir), "%s", "/tmp/berth-test-conf-XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    snprintf(f->path, sizeof(f->path), "%s/berth.conf", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    chmod(f->dir, 0700);
    nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");

    assert_non_null(fp);
    assert_int_equal(fputs(text, fp) >= 0, 1);
    assert_int_equal(fclose(fp), 0);
}

/* Write text as the config and load it; return config_load's rc. */
static int load(struct fixture *f, const char *text, struct config *c,
                char *err, size_t errlen)
{
    write_file(f->path, text);
    err[0] = '\0';
    return config_load(f->path, c, err, errlen);
}

static void assert_contains(const char *hay, const char *needle)
{
    if (!strstr(hay, needle))
        fail_msg("'%s' does not contain '%s'", hay, needle);
}

/*
 * The fields in C terms. The cases under data/config see a config through
 * config_print(), which cannot tell if a name and a value were swapped
 * both ways (delete = on setting delete_enabled to 0): these two can.
 */
static void test_load_defaults(void **state)
{
    struct fixture *f = *state;
    struct config c;
    char err[512];

    assert_int_equal(load(f, "root = /srv/berth\n", &c, err, sizeof(err)), 0);
    assert_string_equal(c.file, f->path);
    assert_string_equal(c.root, "/srv/berth");
    assert_int_equal(c.map_size, (size_t)1 << 30);
    assert_int_equal(c.max_manifest_size, (size_t)4 << 20);
    assert_int_equal(c.log_level, LOG_LVL_INFO);
    assert_int_equal(c.offload, OFFLOAD_NONE);
    assert_string_equal(c.offload_prefix, "/_berth_blobs");
    assert_int_equal(c.delete_enabled, 1);
    assert_int_equal(c.upload_ttl, 7 * 86400);
}

static void test_load_every_key(void **state)
{
    struct fixture *f = *state;
    struct config c;
    char err[512];

    assert_int_equal(load(f,
                          "root = /var/lib/berth\n"
                          "map_size = 2G\n"
                          "max_manifest_size = 1M\n"
                          "log_level = debug\n"
                          "offload = x-accel-redirect\n"
                          "offload_prefix = /internal/blobs\n"
                          "delete = off\n"
                          "upload_ttl = 12h\n"
                          "sync = full\n"
                          "access = /etc/berth/access.conf\n"
                          "auth_realm = my registry\n",
                          &c, err, sizeof(err)),
                     0);
    assert_string_equal(c.root, "/var/lib/berth");
    assert_int_equal(c.map_size, (size_t)2 << 30);
    assert_int_equal(c.max_manifest_size, (size_t)1 << 20);
    assert_int_equal(c.log_level, LOG_LVL_DEBUG);
    assert_int_equal(c.offload, OFFLOAD_XACCEL);
    assert_string_equal(c.offload_prefix, "/internal/blobs");
    assert_int_equal(c.delete_enabled, 0);
    assert_int_equal(c.upload_ttl, 12 * 3600);
    assert_int_equal(c.sync_data, 0);
    assert_string_equal(c.access, "/etc/berth/access.conf");
    assert_string_equal(c.auth_realm, "my registry");

    /* the other values of the enumerations */
    assert_int_equal(load(f,
                          "root=/r\noffload=x-sendfile\ndelete=on\n"
                          "log_level=error\n",
                          &c, err, sizeof(err)),
                     0);
    assert_int_equal(c.offload, OFFLOAD_XSENDFILE);
    assert_int_equal(c.delete_enabled, 1);
    assert_int_equal(c.log_level, LOG_LVL_ERR);
    assert_int_equal(load(f, "root=/r\noffload=none\nlog_level=warn\n", &c, err,
                          sizeof(err)),
                     0);
    assert_int_equal(c.offload, OFFLOAD_NONE);
    assert_int_equal(c.log_level, LOG_LVL_WARN);
    assert_int_equal(c.sync_data, 0); /* the default: full */
    assert_string_equal(c.access, "");
    assert_string_equal(c.auth_realm, "berth");

    /* the limits of the ranges are accepted */
    assert_int_equal(load(f,
                          "root=/r\nmap_size=1M\nmax_manifest_size=1K\n"
                          "upload_ttl=60\n",
                          &c, err, sizeof(err)),
                     0);
    assert_int_equal(c.map_size, (size_t)1 << 20);
    assert_int_equal(c.max_manifest_size, 1024);
    assert_int_equal(c.upload_ttl, 60);
    assert_int_equal(load(f, "root=/r\nmax_manifest_size=256M\nupload_ttl=1m\n",
                          &c, err, sizeof(err)),
                     0);
    assert_int_equal(c.max_manifest_size, (size_t)256 << 20);
    assert_int_equal(c.upload_ttl, 60);

    /* a key set twice is refused, naming both lines */
    assert_int_equal(load(f, "root=/a\n\nroot=/b\n", &c, err, sizeof(err)), -1);
    assert_contains(err, f->path);
    assert_contains(err, ":3: 'root' is set again (first set on line 1)");
}

/* The garbage collector's keys in C terms: "off" is CONFIG_OFF. */
static void test_load_gc_keys(void **state)
{
    struct fixture *f = *state;
    struct config c;
    char err[512];

    assert_int_equal(load(f, "root = /r\n", &c, err, sizeof(err)), 0);
    assert_int_equal(c.gc_grace, 86400);
    assert_int_equal(c.gc_interval, 3600);
    assert_int_equal(c.untagged_ttl, CONFIG_OFF);
    assert_string_equal(c.retention, "");

    assert_int_equal(load(f,
                          "root = /r\ngc_grace = 0\ngc_interval = off\n"
                          "untagged_ttl = 30d\n"
                          "retention = /etc/berth/retention.conf\n",
                          &c, err, sizeof(err)),
                     0);
    assert_int_equal(c.gc_grace, 0);
    assert_int_equal(c.gc_interval, CONFIG_OFF);
    assert_int_equal(c.untagged_ttl, 30 * 86400);
    assert_string_equal(c.retention, "/etc/berth/retention.conf");

    /* 0 is a duration, not "off" */
    assert_int_equal(
        load(f, "root = /r\nuntagged_ttl = 0\n", &c, err, sizeof(err)), 0);
    assert_int_equal(c.untagged_ttl, 0);
}

/* The messages of every refused file are in data/config/invalid. */
static void test_load_failure_keeps_out(void **state)
{
    struct fixture *f = *state;
    struct config c;
    char err[512];

    memset(&c, 0x5a, sizeof(c));
    assert_int_equal(load(f, "root = /srv/x\n# comment\nfrobnicate = yes\n", &c,
                          err, sizeof(err)),
                     -1);
    assert_contains(err, f->path);
    /* *out is only written on success */
    assert_int_equal(c.map_size, 0x5a5a5a5a5a5a5a5aULL);
}

static void test_load_missing_file(void **state)
{
    struct fixture *f = *state;
    struct config c;
    char path[256], err[512];

    snprintf(path, sizeof(path), "%s/no-such.conf", f->dir);
    assert_int_equal(config_load(path, &c, err, sizeof(err)), -1);
    assert_contains(err, path);
    assert_contains(err, "No such file");

    /* a directory is not a config file */
    assert_int_equal(config_load(f->dir, &c, err, sizeof(err)), -1);
    assert_contains(err, f->dir);

    /* a small err buffer is truncated, not overrun */
    assert_int_equal(config_load(path, &c, err, 8), -1);
    assert_int_equal(strlen(err), 7);
}

static void test_check_root(void **state)
{
    struct fixture *f = *state;
    struct config c;
    char text[512], root[256], err[1024];
    struct stat st;

    /* a root that does not exist yet is created, parents too */
    snprintf(root, sizeof(root), "%s/store/deep", f->dir);
    snprintf(text, sizeof(text), "root = %s\n", root);
    assert_int_equal(load(f, text, &c, err, sizeof(err)), 0);
    assert_int_equal(config_check_root(&c, err, sizeof(err)), 0);
    assert_int_equal(stat(root, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    /* and checking again is fine; the probe file is gone */
    assert_int_equal(config_check_root(&c, err, sizeof(err)), 0);
    assert_int_equal(rmdir(root), 0);

    /* a regular file as root */
    snprintf(root, sizeof(root), "%s/plain", f->dir);
    write_file(root, "not a directory\n");
    snprintf(text, sizeof(text), "root = %s\n", root);
    assert_int_equal(load(f, text, &c, err, sizeof(err)), 0);
    err[0] = '\0';
    assert_int_equal(config_check_root(&c, err, sizeof(err)), -1);
    assert_contains(err, f->path);
    assert_contains(err, root);

    /* a root below a regular file */
    snprintf(root, sizeof(root), "%s/plain/sub", f->dir);
    snprintf(text, sizeof(text), "root = %s\n", root);
    assert_int_equal(load(f, text, &c, err, sizeof(err)), 0);
    err[0] = '\0';
    assert_int_equal(config_check_root(&c, err, sizeof(err)), -1);
    assert_contains(err, f->path);
    assert_contains(err, root);

    /* a directory that is not writable (root can write anywhere) */
    if (geteuid() != 0) {
        snprintf(root, sizeof(root), "%s/ro", f->dir);
        assert_int_equal(mkdir(root, 0555), 0);
        snprintf(text, sizeof(text), "root = %s\n", root);
        assert_int_equal(load(f, text, &c, err, sizeof(err)), 0);
        err[0] = '\0';
        assert_int_equal(config_check_root(&c, err, sizeof(err)), -1);
        assert_contains(err, f->path);
        assert_contains(err, "writable");
    }
}

/* config_print(c) as a malloc'd string */
static char *print_config(const struct config *c)
{
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);

    assert_non_null(mem);
    config_print(c, mem);
    assert_int_equal(ferror(mem), 0);
    assert_int_equal(fclose(mem), 0);
    return text;
}

/* Every key's field is the same in a and b. */
static void assert_same_config(const struct config *a, const struct config *b)
{
    size_t i;

    for (i = 0; i < config_nkeys; i++) {
        const struct config_key *k = &config_keys[i];

        if (memcmp((const char *)a + k->offset, (const char *)b + k->offset,
                   k->size))
            fail_msg("'%s' differs after a round trip", k->name);
    }
}

/*
 * Print c, load what was printed, print that: the same config and the
 * same text. Return the text (caller frees).
 */
static char *round_trip(struct fixture *f, const struct config *c)
{
    struct config again;
    char err[512], *text = print_config(c), *text2;

    write_file(f->path, text);
    if (config_load(f->path, &again, err, sizeof(err)))
        fail_msg("config_print's output does not load: %s\n%s", err, text);
    assert_same_config(c, &again);
    text2 = print_config(&again);
    assert_string_equal(text2, text);
    free(text2);
    return text;
}

static void test_print_defaults(void **state)
{
    struct fixture *f = *state;
    struct config c;
    char err[512], line[512], *text;
    size_t i;

    assert_int_equal(load(f, "root = /r\n", &c, err, sizeof(err)), 0);
    text = round_trip(f, &c);
    /* each default is written as the table gives it, below its doc */
    for (i = 0; i < config_nkeys; i++) {
        const struct config_key *k = &config_keys[i];

        if (!k->def)
            snprintf(line, sizeof(line), "# %s\n%s = /r\n", k->doc, k->name);
        else
            snprintf(line, sizeof(line), "# %s\n%s =%s%s\n", k->doc, k->name,
                     k->def[0] ? " " : "", k->def);
        if (!strstr(text, line))
            fail_msg("no '%s' in:\n%s", line, text);
    }
    free(text);
}

static void test_print_every_key(void **state)
{
    struct fixture *f = *state;
    struct config c;
    char err[512], *text;

    assert_int_equal(load(f,
                          "root = /var/lib/berth\n"
                          "map_size = 1536M\n"
                          "max_manifest_size = 1500\n"
                          "log_level = debug\n"
                          "offload = x-accel-redirect\n"
                          "offload_prefix = /internal/blobs\n"
                          "delete = off\n"
                          "upload_ttl = 36h\n"
                          "sync = full\n"
                          "access = /etc/berth/access.conf\n"
                          "auth_realm = my registry\n",
                          &c, err, sizeof(err)),
                     0);
    text = round_trip(f, &c);
    /* numbers in the largest unit that divides them */
    assert_non_null(strstr(text, "\nmap_size = 1536M\n"));
    assert_non_null(strstr(text, "\nmax_manifest_size = 1500\n"));
    assert_non_null(strstr(text, "\nupload_ttl = 36h\n"));
    assert_non_null(strstr(text, "\nauth_realm = my registry\n"));
    free(text);

    assert_int_equal(load(f, "root = /r\nmap_size = 1025K\nupload_ttl = 61\n",
                          &c, err, sizeof(err)),
                     0);
    text = round_trip(f, &c);
    assert_non_null(strstr(text, "\nmap_size = 1025K\n"));
    assert_non_null(strstr(text, "\nupload_ttl = 61s\n"));
    free(text);
}

/* The rows are what the parser and config_print() take them to be. */
static void test_key_table(void **state)
{
    const struct config_enum_value *e, *e2;
    size_t i, j;

    assert_true(config_nkeys > 0);
    for (i = 0; i < config_nkeys; i++) {
        const struct config_key *k = &config_keys[i];

        if (!k->name[0] ||
            k->name[strspn(k->name, "abcdefghijklmnopqrstuvwxyz_")])
            fail_msg("key '%s': not a lowercase name", k->name);
        for (j = 0; j < i; j++)
            if (!strcmp(k->name, config_keys[j].name))
                fail_msg("key '%s' has two rows", k->name);
        /* config_print writes "# <doc>": one line of 80 columns at most */
        if (!k->doc[0] || strchr(k->doc, '\n') || strlen(k->doc) > 78)
            fail_msg("key '%s': doc is not one line of 78 bytes", k->name);
        if (k->type != CONFIG_ENUM)
            continue;
        if (!k->values || !k->values[0].name || !k->values[1].name)
            fail_msg("key '%s': fewer than two values", k->name);
        for (e = k->values; e->name; e++) {
            /* the doc is where a user reads the choices */
            if (!strstr(k->doc, e->name))
                fail_msg("key '%s': doc does not name '%s'", k->name, e->name);
            for (e2 = k->values; e2 < e; e2++)
                if (!strcmp(e->name, e2->name) || e->value == e2->value)
                    fail_msg("key '%s': '%s' twice", k->name, e->name);
        }
    }
}

/* --- the cases under data/config (README there) --- */

#define DATA TEST_SRCDIR "/data/config"

/* Every "key = value" line of expect is a line of config_print's text. */
static void check_expect(const char *name, const char *text, char *expect)
{
    char want[8192], *line, *save = NULL;

    for (line = strtok_r(expect, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '#')
            continue;
        snprintf(want, sizeof(want), "\n%s\n", line);
        if (!strstr(text, want))
            fail_msg("%s: no line '%s' in:\n%s", name, line, text);
    }
}

/* The message with "<dir>/" taken off, as the error files write it. */
static const char *relative_error(struct fixture *f, const char *name,
                                  const char *err)
{
    size_t n = strlen(f->dir);

    if (strncmp(err, f->dir, n) || err[n] != '/')
        fail_msg("%s: error '%s' does not start with the file", name, err);
    return err + n + 1;
}

struct run {
    struct fixture *f;
    const char *kind;
};

static void run_case(void *ctx, const char *dir, const char *name)
{
    struct run *run = ctx;
    struct fixture *f = run->f;
    const char *kind = run->kind;
    char err[1024], *input, *want, *text;
    struct config c;
    int rc;

    input = case_file(dir, "input", NULL);
    if (!input)
        fail_msg("%s: no input", dir);
    write_file(f->path, input);
    err[0] = '\0';
    rc = config_load(f->path, &c, err, sizeof(err));
    if (!strcmp(kind, "valid")) {
        if (rc)
            fail_msg("%s: refused: %s", name, err);
        want = case_file(dir, "expect", NULL);
        if (!want)
            fail_msg("%s: no expect", dir);
        text = round_trip(f, &c);
        check_expect(name, text, want);
        free(text);
    } else {
        if (!rc)
            fail_msg("%s: accepted", name);
        want = case_file(dir, "error", NULL);
        if (!want)
            fail_msg("%s: no error", dir);
        want[strcspn(want, "\n")] = '\0';
        if (strcmp(relative_error(f, name, err), want))
            fail_msg("%s: error '%s', expected '%s'", name,
                     relative_error(f, name, err), want);
    }
    free(want);
    free(input);
}

static void run_dir(struct fixture *f, const char *kind)
{
    struct run run = {f, kind};

    cases_run(DATA, kind, 10, run_case, &run);
}

static void test_valid(void **state)
{
    run_dir(*state, "valid");
}

static void test_invalid(void **state)
{
    run_dir(*state, "invalid");
}

/*
 * --- conf/berth.conf, the README and man/berth.conf.5 name every key, as
 * the table does ---
 */

#define TOP_SRCDIR TEST_SRCDIR "/../.."

static const struct config_key *key_named(const char *name, size_t len)
{
    size_t i;

    for (i = 0; i < config_nkeys; i++)
        if (strlen(config_keys[i].name) == len &&
            !memcmp(config_keys[i].name, name, len))
            return &config_keys[i];
    return NULL;
}

/* Every key has a "key = value" or "#key = value" line, and only keys. */
static void test_berth_conf_keys(void **state)
{
    char *text = case_file(TOP_SRCDIR "/conf", "berth.conf", NULL), *line, *p;
    const struct config_key *k;
    char *rest = text, err[512];
    int *seen = calloc(config_nkeys, sizeof(*seen));
    struct config c;
    size_t i, n;

    assert_non_null(text);
    assert_non_null(seen);
    while ((line = strsep(&rest, "\n"))) {
        p = line[0] == '#' ? line + 1 : line; /* "#   x-sendfile" is prose */
        n = strspn(p, "abcdefghijklmnopqrstuvwxyz_");
        if (!n || p[n + strspn(p + n, " \t")] != '=')
            continue;
        k = key_named(p, n);
        if (!k)
            fail_msg("conf/berth.conf: '%.*s' is not a key", (int)n, p);
        seen[k - config_keys] = 1;
    }
    for (i = 0; i < config_nkeys; i++)
        if (!seen[i])
            fail_msg("conf/berth.conf: no '%s = ' or '#%s = ' line",
                     config_keys[i].name, config_keys[i].name);
    /* and what it sets is valid */
    if (config_load(TOP_SRCDIR "/conf/berth.conf", &c, err, sizeof(err)))
        fail_msg("%s", err);
    free(seen);
    free(text);
}

/*
 * The README's list, in the Configuration section: a heading line
 * "    key   default   what it sets", then "    <key> <default> <text>"
 * lines up to a blank line. A default of "(required)" is a key without
 * one, "(none)" an empty one.
 */
static void test_readme_keys(void **state)
{
    char *text = case_file(TOP_SRCDIR, "README", NULL), *line, *rest = text;
    int *seen = calloc(config_nkeys, sizeof(*seen)), in_list = 0;
    char key[64], def[256];
    const struct config_key *k;
    const char *want;
    size_t i;

    assert_non_null(text);
    assert_non_null(seen);
    while ((line = strsep(&rest, "\n"))) {
        if (!in_list) {
            in_list = sscanf(line, "    %63s %255s", key, def) == 2 &&
                      !strcmp(key, "key") && !strcmp(def, "default");
            continue;
        }
        if (sscanf(line, "    %63s %255s", key, def) != 2)
            break;
        k = key_named(key, strlen(key));
        if (!k)
            fail_msg("README: '%s' is not a key", key);
        if (seen[k - config_keys]++)
            fail_msg("README: '%s' is listed twice", key);
        want = !k->def ? "(required)" : !k->def[0] ? "(none)" : k->def;
        if (strcmp(def, want))
            fail_msg("README: '%s' defaults to '%s' (config/keys.c), not '%s'",
                     key, want, def);
    }
    if (!in_list)
        fail_msg("README: no list of keys (a line '    key   default ...')");
    for (i = 0; i < config_nkeys; i++)
        if (!seen[i])
            fail_msg("README: '%s' is not in the list of keys",
                     config_keys[i].name);
    free(seen);
    free(text);
}

/*
 * The default a line of man/berth.conf.5 gives: "Required..." is a key
 * without one, "Default: empty..." an empty one, "Default: \fBVALUE\fR..."
 * VALUE. Return it in buf, or NULL (*none set) if line gives none.
 */
static const char *man_default(const char *line, char *buf, size_t len,
                               int *none)
{
    const char *v, *end;

    *none = 0;
    if (!strncmp(line, "Required", 8)) {
        *none = 1;
        return NULL;
    }
    if (strncmp(line, "Default: ", 9))
        return NULL;
    if (!strncmp(line + 9, "empty", 5)) {
        buf[0] = '\0';
        return buf;
    }
    if (strncmp(line + 9, "\\fB", 3))
        return NULL;
    v = line + 12;
    end = strstr(v, "\\fR");
    if (!end || (size_t)(end - v) >= len)
        return NULL;
    memcpy(buf, v, (size_t)(end - v));
    buf[end - v] = '\0';
    return buf;
}

/*
 * man/berth.conf.5, in its section KEYS: an entry per key, a ".TP" line
 * then ".B <key>" (lists inside .RS/.RE are not entries), and in each
 * entry a line that gives the default (man_default), which is the
 * table's.
 */
static void test_man_page_keys(void **state)
{
    char *text = case_file(TOP_SRCDIR "/man", "berth.conf.5", NULL);
    int *seen = calloc(config_nkeys, sizeof(*seen));
    int in_keys = 0, depth = 0, tp = 0, none;
    const struct config_key *k = NULL;
    char *line, *rest = text, buf[256];
    const char *def, *want;
    size_t i, n;

    assert_non_null(text);
    assert_non_null(seen);
    while ((line = strsep(&rest, "\n"))) {
        if (!strncmp(line, ".SH ", 4)) {
            if (in_keys)
                break;
            in_keys = !strcmp(line, ".SH KEYS");
            continue;
        }
        if (!in_keys)
            continue;
        if (!strcmp(line, ".RS") || !strncmp(line, ".RS ", 4))
            depth++;
        else if (!strcmp(line, ".RE") && depth > 0)
            depth--;
        if (depth)
            continue;
        if (tp && !strncmp(line, ".B ", 3)) {
            n = strspn(line + 3, "abcdefghijklmnopqrstuvwxyz_");
            if (line[3 + n])
                fail_msg("man/berth.conf.5: '%s' is not a key", line + 3);
            k = key_named(line + 3, n);
            if (!k)
                fail_msg("man/berth.conf.5: '%s' is not a key", line + 3);
            if (seen[k - config_keys]++)
                fail_msg("man/berth.conf.5: '%s' has two entries", k->name);
        } else if (!strcmp(line, ".TP") || !strncmp(line, ".SS ", 4)) {
            if (k && seen[k - config_keys] == 1)
                fail_msg("man/berth.conf.5: '%s' gives no default (a line "
                         "'Default: \\fBVALUE\\fR.', 'Default: empty' or "
                         "'Required')",
                         k->name);
            k = NULL;
        } else if (k && seen[k - config_keys] == 1) {
            def = man_default(line, buf, sizeof(buf), &none);
            if (def || none) {
                want = !k->def ? "(required)" : !k->def[0] ? "(empty)" : k->def;
                if (!def)
                    def = "(required)";
                else if (!def[0])
                    def = "(empty)";
                if (strcmp(def, want))
                    fail_msg("man/berth.conf.5: '%s' defaults to '%s' "
                             "(config/keys.c), not '%s'",
                             k->name, want, def);
                seen[k - config_keys]++; /* the default is read */
            }
        }
        tp = !strcmp(line, ".TP");
    }
    if (!in_keys)
        fail_msg("man/berth.conf.5: no section KEYS");
    if (k && seen[k - config_keys] == 1)
        fail_msg("man/berth.conf.5: '%s' gives no default", k->name);
    for (i = 0; i < config_nkeys; i++)
        if (!seen[i])
            fail_msg("man/berth.conf.5: '%s' has no entry under KEYS",
                     config_keys[i].name);
    free(seen);
    free(text);
}

static void test_store_options(void **state)
{
    struct fixture *f = *state;
    struct store_options opt;
    struct config c;
    char err[512];

    assert_int_equal(load(f, "root = /r\n", &c, err, sizeof(err)), 0);
    memset(&opt, 0x5a, sizeof(opt));
    config_store_options(&c, &opt);
    assert_int_equal(opt.map_size, (size_t)1 << 30);
    assert_int_equal(opt.flags, 0); /* sync = full */
    assert_int_equal(opt.inline_max, STORE_INLINE_MAX_DEFAULT);

    assert_int_equal(load(f, "root = /r\nmap_size = 3M\nsync = data\n", &c, err,
                          sizeof(err)),
                     0);
    config_store_options(&c, &opt);
    assert_int_equal(opt.map_size, (size_t)3 << 20);
    assert_int_equal(opt.flags, STORE_SYNC_DATA);
    assert_int_equal(opt.inline_max, STORE_INLINE_MAX_DEFAULT);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_size_table),
        cmocka_unit_test(test_parse_duration_table),
        cmocka_unit_test(test_key_table),
        T(test_load_defaults),
        T(test_load_every_key),
        T(test_load_gc_keys),
        T(test_load_failure_keeps_out),
        T(test_valid),
        T(test_invalid),
        T(test_load_missing_file),
        T(test_check_root),
        T(test_store_options),
        T(test_print_defaults),
        T(test_print_every_key),
        cmocka_unit_test(test_berth_conf_keys),
        cmocka_unit_test(test_readme_keys),
        cmocka_unit_test(test_man_page_keys),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
