#include "config.h"

#include <ctype.h>
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#include "util/names.h"

static int alnum_lower(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/*
 * One path component: [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*. Return the
 * length matched from s (stopping at '/' or the end), or 0 on mismatch.
 */
static size_t component(const char *s, size_t len)
{
    size_t i = 0;

    for (;;) {
        size_t start = i;

        while (i < len && alnum_lower(s[i]))
            i++;
        if (i == start)
            return 0; /* empty run: leading, trailing or doubled separator */
        if (i == len || s[i] == '/')
            return i;
        if (s[i] == '.') {
            i++;
        } else if (s[i] == '_') {
            i++;
            if (i < len && s[i] == '_')
                i++;
        } else if (s[i] == '-') {
            while (i < len && s[i] == '-')
                i++;
        } else {
            return 0;
        }
    }
}

int name_valid(const char *s, size_t len)
{
    size_t i = 0, n;

    if (len == 0 || len > NAME_MAX_LEN)
        return 0;
    for (;;) {
        n = component(s + i, len - i);
        if (!n)
            return 0;
        i += n;
        if (i == len)
            return 1;
        i++; /* the '/' */
        if (i == len)
            return 0;
    }
}

static int tag_char(char c)
{
    return alnum_lower(c) || (c >= 'A' && c <= 'Z') || c == '_' || c == '.' ||
           c == '-';
}

int tag_valid(const char *s, size_t len)
{
    size_t i;

    if (len == 0 || len > TAG_MAX_LEN || s[0] == '.' || s[0] == '-')
        return 0;
    for (i = 0; i < len; i++) {
        if (!tag_char(s[i]))
            return 0;
    }
    return 1;
}

int upload_id_valid(const char *s, size_t len)
{
    size_t i;

    if (len != UPLOAD_ID_LEN)
        return 0;
    for (i = 0; i < len; i++) {
        int dash = i == 8 || i == 13 || i == 18 || i == 23;

        if (dash ? s[i] != '-'
                 : !((s[i] >= '0' && s[i] <= '9') ||
                     (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    }
    return 1;
}

/* Characters of names besides shell pattern syntax. */
#define REPO_CHARS "abcdefghijklmnopqrstuvwxyz0123456789._-/"
#define TAG_CHARS                                                              \
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"

int name_pattern_check(const char *p, enum name_pattern_kind kind, char *why,
                       size_t len)
{
    const char *chars = kind == NAME_PATTERN_TAG ? TAG_CHARS : REPO_CHARS;
    const char *what = kind == NAME_PATTERN_TAG ? "tag" : "repository";
    const char *s, *close;

    for (s = p; *s; s++) {
        if (*s == '*' || *s == '?')
            continue;
        if (*s == '[') {
            close = s + 1 + (s[1] == '!' || s[1] == '^');
            if (*close == ']') {
                snprintf(why, len, "bad %s pattern '%s': empty '[]'", what, p);
                return -1;
            }
            close = strchr(close, ']');
            if (!close) {
                snprintf(why, len, "bad %s pattern '%s': '[' without ']'", what,
                         p);
                return -1;
            }
            s = s[1] == '!' || s[1] == '^' ? s + 1 : s;
            while (++s < close) {
                if (!strchr(chars, *s))
                    goto bad_char;
            }
            continue;
        }
        if (!strchr(chars, *s))
            goto bad_char;
    }
    return 0;
bad_char:
    if (isprint((unsigned char)*s))
        snprintf(why, len, "bad %s pattern '%s': no %s name holds '%c'", what,
                 p, what, *s);
    else
        snprintf(why, len, "bad %s pattern '%s': no %s name holds byte 0x%02x",
                 what, p, what, (unsigned char)*s);
    return -1;
}

int name_pattern_match(const char *p, const char *name)
{
    return fnmatch(p, name, 0) == 0;
}
