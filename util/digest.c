#include "config.h"

/* see digest.h: the low-level contexts are used on purpose */
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include <errno.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <openssl/opensslv.h>
#include <openssl/sha.h>

#include "util/digest.h"
#include "util/xalloc.h"

/*
 * digest      ::= algorithm ":" encoded
 * algorithm   ::= algorithm-component (algorithm-separator
 *                 algorithm-component)*
 * algorithm-component ::= [a-z0-9]+
 * algorithm-separator ::= [+._-]
 * encoded     ::= [a-zA-Z0-9=_-]+
 * (image-spec descriptor.md). For the registered algorithms the encoded
 * part must be lowercase hex of the exact length.
 */
static int alg_component_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static int encoded_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '=' || c == '_' || c == '-';
}

static int well_formed(const char *s, size_t len, size_t *colon)
{
    size_t i = 0;
    int need_component = 1;

    for (; i < len && s[i] != ':'; i++) {
        if (alg_component_char(s[i]))
            need_component = 0;
        else if (!need_component && strchr("+._-", s[i]) && s[i])
            need_component = 1;
        else
            return 0;
    }
    if (i == len || need_component || i + 1 == len)
        return 0;
    *colon = i;
    for (i++; i < len; i++) {
        if (!encoded_char(s[i]))
            return 0;
    }
    return 1;
}

int digest_parse(struct digest *out, const char *s, size_t len)
{
    enum digest_alg alg;
    size_t colon, hexlen, i;
    const char *hex;

    if (!well_formed(s, len, &colon))
        return DIGEST_MALFORMED;
    if (colon == 6 && !memcmp(s, "sha256", 6)) {
        alg = DIGEST_SHA256;
        hexlen = 64;
    } else if (colon == 6 && !memcmp(s, "sha512", 6)) {
        alg = DIGEST_SHA512;
        hexlen = 128;
    } else {
        return DIGEST_UNSUPPORTED;
    }
    hex = s + colon + 1;
    if (len - colon - 1 != hexlen)
        return DIGEST_MALFORMED;
    for (i = 0; i < hexlen; i++) {
        if (!((hex[i] >= '0' && hex[i] <= '9') ||
              (hex[i] >= 'a' && hex[i] <= 'f')))
            return DIGEST_MALFORMED;
    }
    out->alg = alg;
    memcpy(out->hex, hex, hexlen);
    out->hex[hexlen] = '\0';
    return DIGEST_OK;
}

const char *digest_alg_name(enum digest_alg alg)
{
    return alg == DIGEST_SHA512 ? "sha512" : "sha256";
}

void digest_format(const struct digest *d, char *buf)
{
    size_t n = strlen(digest_alg_name(d->alg));

    memcpy(buf, digest_alg_name(d->alg), n);
    buf[n] = ':';
    memcpy(buf + n + 1, d->hex, strlen(d->hex) + 1);
}

int digest_equal(const struct digest *a, const struct digest *b)
{
    return a->alg == b->alg && !strcmp(a->hex, b->hex);
}

void hex_encode(const unsigned char *in, size_t n, char *out)
{
    static const char xd[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < n; i++) {
        out[2 * i] = xd[in[i] >> 4];
        out[2 * i + 1] = xd[in[i] & 15];
    }
    out[2 * n] = '\0';
}

void hasher_init(struct hasher *h, enum digest_alg alg)
{
    memset(h, 0, sizeof(*h));
    h->alg = alg;
    if (alg == DIGEST_SHA512)
        SHA512_Init(&h->u.s512);
    else
        SHA256_Init(&h->u.s256);
}

void hasher_update(struct hasher *h, const void *data, size_t len)
{
    if (h->alg == DIGEST_SHA512)
        SHA512_Update(&h->u.s512, data, len);
    else
        SHA256_Update(&h->u.s256, data, len);
}

void hasher_final(struct hasher *h, struct digest *out)
{
    unsigned char sum[SHA512_DIGEST_LENGTH];

    out->alg = h->alg;
    if (h->alg == DIGEST_SHA512) {
        SHA512_Final(sum, &h->u.s512);
        hex_encode(sum, SHA512_DIGEST_LENGTH, out->hex);
    } else {
        SHA256_Final(sum, &h->u.s256);
        hex_encode(sum, SHA256_DIGEST_LENGTH, out->hex);
    }
}

/* The header of a saved state: what must match for the bytes to be valid. */
struct state_hdr {
    char magic[4];
    uint32_t alg;
    uint32_t ctx_size;
    uint32_t openssl_major;
};

static size_t ctx_size(enum digest_alg alg)
{
    return alg == DIGEST_SHA512 ? sizeof(SHA512_CTX) : sizeof(SHA256_CTX);
}

size_t hasher_save(const struct hasher *h, void *buf)
{
    struct state_hdr hdr;

    BUG_ON(sizeof(hdr) + ctx_size(h->alg) > HASHER_STATE_MAX);
    memcpy(hdr.magic, "BHS1", 4);
    hdr.alg = (uint32_t)h->alg;
    hdr.ctx_size = (uint32_t)ctx_size(h->alg);
    hdr.openssl_major = (uint32_t)(OPENSSL_VERSION_NUMBER >> 28);
    memcpy(buf, &hdr, sizeof(hdr));
    memcpy((char *)buf + sizeof(hdr), &h->u, hdr.ctx_size);
    return sizeof(hdr) + hdr.ctx_size;
}

int hasher_load(struct hasher *h, const void *buf, size_t len)
{
    struct state_hdr hdr;

    if (len < sizeof(hdr))
        return -1;
    memcpy(&hdr, buf, sizeof(hdr));
    if (memcmp(hdr.magic, "BHS1", 4) ||
        (hdr.alg != DIGEST_SHA256 && hdr.alg != DIGEST_SHA512) ||
        hdr.ctx_size != ctx_size((enum digest_alg)hdr.alg) ||
        hdr.openssl_major != (uint32_t)(OPENSSL_VERSION_NUMBER >> 28) ||
        len != sizeof(hdr) + hdr.ctx_size)
        return -1;
    memset(h, 0, sizeof(*h));
    h->alg = (enum digest_alg)hdr.alg;
    memcpy(&h->u, (const char *)buf + sizeof(hdr), hdr.ctx_size);
    return 0;
}

#define HASH_CHUNK (256 * 1024)

int hasher_update_fd(struct hasher *h, int fd, long long len)
{
    char *chunk = xmalloc(HASH_CHUNK);
    long long off = 0;
    int rc = 0;

    while (off < len) {
        size_t want = len - off < HASH_CHUNK ? (size_t)(len - off) : HASH_CHUNK;
        ssize_t n = pread(fd, chunk, want, (off_t)off);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = EIO;
            rc = -1;
            break;
        }
        hasher_update(h, chunk, (size_t)n);
        off += n;
    }
    free(chunk);
    return rc;
}
