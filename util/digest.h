#ifndef BERTH_UTIL_DIGEST_H
#define BERTH_UTIL_DIGEST_H

#include <stddef.h>

#include <openssl/sha.h>

/*
 * Content digests, "<algorithm>:<lowercase hex>" (image-spec descriptor.md,
 * "Digests"). sha256 and sha512 are registered; anything else that has the
 * digest grammar is well-formed but unsupported.
 */
enum digest_alg { DIGEST_SHA256 = 1, DIGEST_SHA512 = 2 };

#define DIGEST_HEX_MAX 128
/* "sha512:" + 128 hex + NUL */
#define DIGEST_STR_MAX (7 + DIGEST_HEX_MAX + 1)

struct digest {
    enum digest_alg alg;
    char hex[DIGEST_HEX_MAX + 1]; /* NUL-terminated, lowercase */
};

#define DIGEST_OK          0
#define DIGEST_MALFORMED   (-1) /* not "<alg>:<encoded>" per the grammar */
#define DIGEST_UNSUPPORTED (-2) /* well-formed, but not sha256 or sha512 */

/* Parse s[0..len); return DIGEST_OK and fill *out, or a negative code. */
int digest_parse(struct digest *out, const char *s, size_t len);

/* Write "sha256:<hex>" into buf, which has room for DIGEST_STR_MAX. */
void digest_format(const struct digest *d, char *buf);

int digest_equal(const struct digest *a, const struct digest *b);

/* "sha256" or "sha512". */
const char *digest_alg_name(enum digest_alg alg);

/*
 * An incremental hash whose state can be saved and restored, so that a
 * chunked upload never has to re-read what earlier chunks wrote.
 *
 * OpenSSL 3 offers no documented way to serialise an EVP_MD_CTX, so this
 * uses the low-level SHA256_CTX/SHA512_CTX. They are deprecated in 3.0 but
 * present, run the same assembly (SHA-NI, AVX2) as EVP, and are plain
 * structs. A saved state records the struct size and the OpenSSL major
 * version; hasher_load() refuses a state from another build, and the
 * caller then re-hashes the data from the start.
 */
struct hasher {
    enum digest_alg alg;
    union {
        SHA256_CTX s256;
        SHA512_CTX s512;
    } u;
};

void hasher_init(struct hasher *h, enum digest_alg alg);
void hasher_update(struct hasher *h, const void *data, size_t len);
/* Finish into *out; h must be re-initialised before further use. */
void hasher_final(struct hasher *h, struct digest *out);

#define HASHER_STATE_MAX (16 + sizeof(SHA512_CTX))
/* Serialise h into buf (HASHER_STATE_MAX bytes); return the length used. */
size_t hasher_save(const struct hasher *h, void *buf);
/* Restore from hasher_save() output; return 0, or -1 if not usable here. */
int hasher_load(struct hasher *h, const void *buf, size_t len);

/*
 * Hash the first `len` bytes of the open file fd (from offset 0) into
 * h, which the caller has initialised. Return 0, or -1 with errno set
 * (a file shorter than len gives EIO).
 */
int hasher_update_fd(struct hasher *h, int fd, long long len);

/* Lowercase hex of n bytes into out (2n + 1 bytes). */
void hex_encode(const unsigned char *in, size_t n, char *out);

#endif
