#include "config.h"

#include <string.h>

#include "fcgi-app/uri.h"

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/*
 * Percent-decode s[0..len) into out (outlen bytes, NUL-terminated). A
 * '+' stays a '+': registry clients encode spaces, which no name, tag or
 * digest has, as %20. NUL is refused, so the result is a C string.
 */
static int url_decode(const char *s, size_t len, char *out, size_t outlen)
{
    size_t i, o = 0;

    for (i = 0; i < len; i++) {
        char c = s[i];

        if (c == '%') {
            int hi, lo;

            if (len - i < 3)
                return -1;
            hi = hexval(s[i + 1]);
            lo = hexval(s[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        if (c == '\0' || o + 1 >= outlen)
            return -1;
        out[o++] = c;
    }
    if (outlen == 0)
        return -1;
    out[o] = '\0';
    return 0;
}

int uri_split(const char *uri, char *path, size_t pathlen, const char **query)
{
    const char *q;
    size_t plen;

    if (!uri || uri[0] != '/')
        return -1;
    q = strchr(uri, '?');
    plen = q ? (size_t)(q - uri) : strlen(uri);
    *query = q ? q + 1 : "";
    return url_decode(uri, plen, path, pathlen);
}

int uri_query(const char *query, const char *key, char *out, size_t outlen)
{
    size_t klen = strlen(key);
    const char *p = query;

    while (*p) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);

        if (len > klen && !memcmp(p, key, klen) && p[klen] == '=')
            return url_decode(p + klen + 1, len - klen - 1, out, outlen) ? -1
                                                                         : 1;
        if (len == klen && !memcmp(p, key, klen)) {
            if (outlen == 0)
                return -1;
            out[0] = '\0';
            return 1;
        }
        p += len;
        if (*p == '&')
            p++;
    }
    return 0;
}
