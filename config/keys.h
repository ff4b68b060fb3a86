#ifndef BERTH_CONFIG_KEYS_H
#define BERTH_CONFIG_KEYS_H

#include <stddef.h>

/*
 * The keys of berth.conf, one row each (as lighttpd's config_plugin_keys_t).
 * The parser, the defaults, config_print() and the tests that hold
 * conf/berth.conf, the README and man/berth.conf.5 to the keys all work
 * from config_keys[].
 * Private to config/ and its tests: the rest of berth reads struct config.
 *
 * A new key is a field in struct config, a row in keys.c, a line each in
 * conf/berth.conf and in the README's list, and an entry in
 * man/berth.conf.5; tests/unit/test_config fails until all five agree.
 */

enum config_type {
    CONFIG_PATH,       /* char[]: an absolute path of at most max bytes */
    CONFIG_SIZE,       /* size_t: bytes in min..max, suffix K, M, G or T */
    CONFIG_DURATION,   /* long long: seconds in min..max, suffix s, m, h, d */
    CONFIG_ENUM,       /* an enum or int: the value of one of values[] */
    CONFIG_URI_PREFIX, /* char[]: '/' and more, at most max bytes */
    CONFIG_REALM,      /* char[]: 1 to max bytes, no '"' and no '\\' */
    /* long long: as CONFIG_DURATION, or CONFIG_OFF, written "off" */
    CONFIG_DURATION_OFF,
    CONFIG_COUNT, /* long long: a plain number in min..max, no suffix */
};

struct config_enum_value {
    const char *name;
    int value;
};

struct config_key {
    const char *name;
    enum config_type type;
    size_t offset; /* of the key's field in struct config */
    size_t size;   /* of that field: checked against the type at load */
    /*
     * Sizes and durations: the values allowed ("off" aside). Strings:
     * max is the longest value in bytes, less than size; min is unused.
     */
    unsigned long long min, max;
    const struct config_enum_value *values; /* CONFIG_ENUM: ends at NULL */
    /*
     * The default, written as config_print() writes the value. NULL: the
     * key must be set. "": a string key that may be empty, which then
     * means "none".
     */
    const char *def;
    const char *doc; /* one line without '\n', for config_print() */
};

extern const struct config_key config_keys[];
extern const size_t config_nkeys;

#endif
