/* tests/unit/test_digest.c: util/digest.h (parse, format, hasher) */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/digest.h"
#include "util/fsutil.h"

#define SHA256_EMPTY                                                           \
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define SHA256_ABC                                                             \
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define SHA512_EMPTY                                                           \
    "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"         \
    "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"
#define SHA512_ABC                                                             \
    "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"         \
    "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"

/* a string literal and its length, embedded NULs included */
#define S(lit) lit, sizeof(lit) - 1

static const struct {
    const char *in;
    size_t len;
    int rc;
    enum digest_alg alg; /* when rc == DIGEST_OK */
} parse_cases[] = {
    {S("sha256:" SHA256_EMPTY), DIGEST_OK, DIGEST_SHA256},
    {S("sha256:" SHA256_ABC), DIGEST_OK, DIGEST_SHA256},
    {S("sha512:" SHA512_EMPTY), DIGEST_OK, DIGEST_SHA512},
    {S("sha512:" SHA512_ABC), DIGEST_OK, DIGEST_SHA512},
    /* wrong length for the algorithm */
    {S("sha256:e3b0"), DIGEST_MALFORMED, 0},
    {S("sha256:" SHA256_EMPTY "0"), DIGEST_MALFORMED, 0},
    {S("sha512:" SHA256_EMPTY), DIGEST_MALFORMED, 0},
    {S("sha256:" SHA512_EMPTY), DIGEST_MALFORMED, 0},
    /* the registered algorithms want lowercase hex */
    {S("sha256:"
       "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"),
     DIGEST_MALFORMED, 0},
    {S("sha256:"
       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85G"),
     DIGEST_MALFORMED, 0},
    {S("sha256:"
       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85_"),
     DIGEST_MALFORMED, 0},
    /* no colon, nothing after it, nothing at all */
    {S("sha256" SHA256_EMPTY), DIGEST_MALFORMED, 0},
    {S("sha256:"), DIGEST_MALFORMED, 0},
    {S("sha256"), DIGEST_MALFORMED, 0},
    {S(""), DIGEST_MALFORMED, 0},
    {S(":"), DIGEST_MALFORMED, 0},
    /* well-formed, but not sha256 or sha512 */
    {S("md5:d41d8cd98f00b204e9800998ecf8427e"), DIGEST_UNSUPPORTED, 0},
    {S("blake3:"
       "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"),
     DIGEST_UNSUPPORTED, 0},
    {S("sha384:abc"), DIGEST_UNSUPPORTED, 0},
    {S("multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8"),
     DIGEST_UNSUPPORTED, 0},
    {S("a.b_c-d:x=Y_z-"), DIGEST_UNSUPPORTED, 0},
    /* algorithm grammar broken */
    {S("SHA256:" SHA256_EMPTY), DIGEST_MALFORMED, 0},
    {S("SHA256:.."), DIGEST_MALFORMED, 0},
    {S("sha256::"), DIGEST_MALFORMED, 0},
    {S("sha256::" SHA256_EMPTY), DIGEST_MALFORMED, 0},
    {S(":abc"), DIGEST_MALFORMED, 0},
    {S("a+:x"), DIGEST_MALFORMED, 0},
    {S("+a:x"), DIGEST_MALFORMED, 0},
    {S("a++b:x"), DIGEST_MALFORMED, 0},
    {S("a b:x"), DIGEST_MALFORMED, 0},
    {S("md5:a/b"), DIGEST_MALFORMED, 0},
    {S("md5:a.b"), DIGEST_MALFORMED, 0},
    /* an embedded NUL, seen because of the explicit length */
    {S("sha256:" SHA256_EMPTY "\0"), DIGEST_MALFORMED, 0},
    {S("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85"
       "\0"),
     DIGEST_MALFORMED, 0},
    {S("sha\0256:" SHA256_EMPTY), DIGEST_MALFORMED, 0},
    {S("\0sha256:" SHA256_EMPTY), DIGEST_MALFORMED, 0},
    {S("md5\0:abc"), DIGEST_MALFORMED, 0},
    {S("md5:ab\0c"), DIGEST_MALFORMED, 0},
};

static void test_parse_table(void **state)
{
    size_t i;

    for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
        struct digest d;
        int rc;

        memset(&d, 0x5a, sizeof(d));
        rc = digest_parse(&d, parse_cases[i].in, parse_cases[i].len);
        if (rc != parse_cases[i].rc)
            fail_msg("case %zu '%.*s': got %d, want %d", i,
                     (int)parse_cases[i].len, parse_cases[i].in, rc,
                     parse_cases[i].rc);
        if (rc == DIGEST_OK) {
            const char *colon = strchr(parse_cases[i].in, ':');

            assert_int_equal(d.alg, parse_cases[i].alg);
            assert_string_equal(d.hex, colon + 1);
        }
    }
}

/* Only s[0..len) is read: a valid digest followed by junk is cut by len. */
static void test_parse_explicit_len(void **state)
{
    static const char in[] = "sha256:" SHA256_ABC "trailing junk";
    struct digest d;

    assert_int_equal(digest_parse(&d, in, 7 + 64), DIGEST_OK);
    assert_string_equal(d.hex, SHA256_ABC);
    assert_int_equal(digest_parse(&d, in, 7 + 63), DIGEST_MALFORMED);
    assert_int_equal(digest_parse(&d, in, 7 + 65), DIGEST_MALFORMED);
    assert_int_equal(digest_parse(&d, in, 6), DIGEST_MALFORMED);
    assert_int_equal(digest_parse(&d, in, 7), DIGEST_MALFORMED);
}

static void test_format_round_trip(void **state)
{
    static const char *const in[] = {
        "sha256:" SHA256_EMPTY,
        "sha256:" SHA256_ABC,
        "sha512:" SHA512_EMPTY,
        "sha512:" SHA512_ABC,
    };
    size_t i;

    for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
        char buf[DIGEST_STR_MAX];
        struct digest d, d2;

        assert_int_equal(digest_parse(&d, in[i], strlen(in[i])), DIGEST_OK);
        memset(buf, 'x', sizeof(buf));
        digest_format(&d, buf);
        assert_string_equal(buf, in[i]);
        assert_true(strlen(buf) < DIGEST_STR_MAX);
        assert_int_equal(digest_parse(&d2, buf, strlen(buf)), DIGEST_OK);
        assert_true(digest_equal(&d, &d2));
    }
    assert_string_equal(digest_alg_name(DIGEST_SHA256), "sha256");
    assert_string_equal(digest_alg_name(DIGEST_SHA512), "sha512");
}

static void test_equal(void **state)
{
    struct digest a, b, c, e;
    static const char s256[] = "sha256:" SHA256_EMPTY;
    static const char s256b[] = "sha256:" SHA256_ABC;
    static const char s512[] = "sha512:" SHA512_EMPTY;

    assert_int_equal(digest_parse(&a, s256, strlen(s256)), DIGEST_OK);
    assert_int_equal(digest_parse(&b, s256, strlen(s256)), DIGEST_OK);
    assert_int_equal(digest_parse(&c, s256b, strlen(s256b)), DIGEST_OK);
    assert_int_equal(digest_parse(&e, s512, strlen(s512)), DIGEST_OK);
    assert_true(digest_equal(&a, &b));
    assert_true(digest_equal(&a, &a));
    assert_false(digest_equal(&a, &c));
    assert_false(digest_equal(&a, &e));
    /* same hex, another algorithm */
    b.alg = DIGEST_SHA512;
    assert_false(digest_equal(&a, &b));
}

static void test_hex_encode(void **state)
{
    static const unsigned char in[] = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xff};
    char out[2 * sizeof(in) + 1];

    hex_encode(in, sizeof(in), out);
    assert_string_equal(out, "00017f80abff");
    hex_encode(in, 0, out);
    assert_string_equal(out, "");
}

static const struct {
    enum digest_alg alg;
    const char *data;
    const char *hex;
} vectors[] = {
    {DIGEST_SHA256, "", SHA256_EMPTY},
    {DIGEST_SHA256, "abc", SHA256_ABC},
    {DIGEST_SHA512, "", SHA512_EMPTY},
    {DIGEST_SHA512, "abc", SHA512_ABC},
    /* FIPS 180-2 two-block message */
    {DIGEST_SHA256, "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
};

static void test_hasher_vectors(void **state)
{
    size_t i;

    for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        struct hasher h;
        struct digest d;

        hasher_init(&h, vectors[i].alg);
        hasher_update(&h, vectors[i].data, strlen(vectors[i].data));
        hasher_final(&h, &d);
        assert_int_equal(d.alg, vectors[i].alg);
        assert_string_equal(d.hex, vectors[i].hex);
    }
}

/* A deterministic buffer of n bytes with every byte value present. */
static unsigned char *pattern(size_t n)
{
    unsigned char *p = malloc(n ? n : 1);
    size_t i;

    assert_non_null(p);
    for (i = 0; i < n; i++)
        p[i] = (unsigned char)((i * 131u + (i >> 8)) & 0xff);
    return p;
}

static void one_shot(enum digest_alg alg, const void *data, size_t n,
                     struct digest *out)
{
    struct hasher h;

    hasher_init(&h, alg);
    hasher_update(&h, data, n);
    hasher_final(&h, out);
}

static void test_hasher_incremental(void **state)
{
    static const size_t pieces[] = {1, 3, 7, 63, 64, 65, 127, 129, 1000};
    static const enum digest_alg algs[] = {DIGEST_SHA256, DIGEST_SHA512};
    const size_t n = 10007;
    unsigned char *data = pattern(n);
    size_t a, p;

    for (a = 0; a < 2; a++) {
        struct digest want;

        one_shot(algs[a], data, n, &want);
        for (p = 0; p < sizeof(pieces) / sizeof(pieces[0]); p++) {
            struct hasher h;
            struct digest got;
            size_t off = 0;

            hasher_init(&h, algs[a]);
            while (off < n) {
                size_t k = n - off < pieces[p] ? n - off : pieces[p];

                hasher_update(&h, data + off, k);
                hasher_update(&h, data + off, 0); /* empty updates are no-ops */
                off += k;
            }
            hasher_final(&h, &got);
            assert_true(digest_equal(&got, &want));
        }
    }
    free(data);
}

static void test_hasher_save_load(void **state)
{
    static const enum digest_alg algs[] = {DIGEST_SHA256, DIGEST_SHA512};
    static const size_t cuts[] = {0, 1, 63, 64, 100, 127, 128, 4096};
    const size_t n = 4096;
    unsigned char *data = pattern(n);
    size_t a, c;

    for (a = 0; a < 2; a++) {
        struct digest want;

        one_shot(algs[a], data, n, &want);
        for (c = 0; c < sizeof(cuts) / sizeof(cuts[0]); c++) {
            unsigned char buf[HASHER_STATE_MAX];
            struct hasher h, h2;
            struct digest got;
            size_t len;

            hasher_init(&h, algs[a]);
            hasher_update(&h, data, cuts[c]);
            len = hasher_save(&h, buf);
            assert_true(len > 0 && len <= HASHER_STATE_MAX);
            /* the original is poisoned: only the saved bytes carry state */
            memset(&h, 0xa5, sizeof(h));
            memset(&h2, 0x5a, sizeof(h2));
            assert_int_equal(hasher_load(&h2, buf, len), 0);
            assert_int_equal(h2.alg, algs[a]);
            hasher_update(&h2, data + cuts[c], n - cuts[c]);
            hasher_final(&h2, &got);
            assert_true(digest_equal(&got, &want));
        }
    }
    free(data);
}

static void test_hasher_load_rejects(void **state)
{
    unsigned char good[HASHER_STATE_MAX], buf[HASHER_STATE_MAX + 16];
    struct hasher h;
    size_t len, i;
    uint32_t v;

    hasher_init(&h, DIGEST_SHA256);
    hasher_update(&h, "abc", 3);
    len = hasher_save(&h, good);

    /* truncated: every shorter length */
    for (i = 0; i < len; i++) {
        memcpy(buf, good, len);
        assert_int_equal(hasher_load(&h, buf, i), -1);
    }
    /* longer than saved */
    memcpy(buf, good, len);
    buf[len] = 0;
    assert_int_equal(hasher_load(&h, buf, len + 1), -1);
    /* wrong magic */
    memcpy(buf, good, len);
    buf[0] ^= 0x20;
    assert_int_equal(hasher_load(&h, buf, len), -1);
    memcpy(buf, good, len);
    memcpy(buf, "BHS2", 4);
    assert_int_equal(hasher_load(&h, buf, len), -1);
    /* unknown algorithm (the uint32 after the magic) */
    memcpy(buf, good, len);
    v = 3;
    memcpy(buf + 4, &v, 4);
    assert_int_equal(hasher_load(&h, buf, len), -1);
    v = 0;
    memcpy(buf + 4, &v, 4);
    assert_int_equal(hasher_load(&h, buf, len), -1);
    /* sha512 claimed over a sha256-sized context */
    memcpy(buf, good, len);
    v = DIGEST_SHA512;
    memcpy(buf + 4, &v, 4);
    assert_int_equal(hasher_load(&h, buf, len), -1);
    /* context size garbled */
    memcpy(buf, good, len);
    buf[8] ^= 0x01;
    assert_int_equal(hasher_load(&h, buf, len), -1);
    /* another OpenSSL major version */
    memcpy(buf, good, len);
    buf[12] ^= 0x01;
    assert_int_equal(hasher_load(&h, buf, len), -1);
    /* all garbage */
    memset(buf, 0xff, sizeof(buf));
    assert_int_equal(hasher_load(&h, buf, len), -1);
    memset(buf, 0, sizeof(buf));
    assert_int_equal(hasher_load(&h, buf, len), -1);
    /* and the untouched state still loads */
    assert_int_equal(hasher_load(&h, good, len), 0);
}

/* A temp file holding data[0..n); return its fd. */
static int temp_file(const void *data, size_t n)
{
    char path[] = "/tmp/berth-test-digest-XXXXXX";
    int fd = mkstemp(path);

    assert_true(fd >= 0);
    unlink(path);
    assert_int_equal(write(fd, data, n), (ssize_t)n);
    return fd;
}

static void test_hasher_update_fd(void **state)
{
    /* larger than the 256 KiB read chunk, and not a multiple of it */
    const size_t n = 600 * 1024 + 13;
    unsigned char *data = pattern(n);
    struct digest want, got;
    struct hasher h;
    int fd = temp_file(data, n);

    /* reads from offset 0 whatever the file offset is (at the end now) */
    one_shot(DIGEST_SHA256, data, n, &want);
    hasher_init(&h, DIGEST_SHA256);
    assert_int_equal(hasher_update_fd(&h, fd, (long long)n), 0);
    hasher_final(&h, &got);
    assert_true(digest_equal(&got, &want));

    /* a prefix only */
    one_shot(DIGEST_SHA512, data, 1000, &want);
    hasher_init(&h, DIGEST_SHA512);
    assert_int_equal(hasher_update_fd(&h, fd, 1000), 0);
    hasher_final(&h, &got);
    assert_true(digest_equal(&got, &want));

    /* zero bytes hashes nothing */
    hasher_init(&h, DIGEST_SHA256);
    assert_int_equal(hasher_update_fd(&h, fd, 0), 0);
    hasher_final(&h, &got);
    assert_string_equal(got.hex, SHA256_EMPTY);

    /* continuing a hasher that already holds data */
    one_shot(DIGEST_SHA256, data, 10, &want);
    hasher_init(&h, DIGEST_SHA256);
    hasher_update(&h, data, 3);
    {
        int fd2 = temp_file(data + 3, 7);

        assert_int_equal(hasher_update_fd(&h, fd2, 7), 0);
        close(fd2);
    }
    hasher_final(&h, &got);
    assert_true(digest_equal(&got, &want));

    /* the file is shorter than asked */
    hasher_init(&h, DIGEST_SHA256);
    errno = 0;
    assert_int_equal(hasher_update_fd(&h, fd, (long long)n + 1), -1);
    assert_int_equal(errno, EIO);

    close(fd);

    /* an empty file, one byte asked */
    fd = temp_file("", 0);
    hasher_init(&h, DIGEST_SHA256);
    errno = 0;
    assert_int_equal(hasher_update_fd(&h, fd, 1), -1);
    assert_int_equal(errno, EIO);
    close(fd);

    /* a closed descriptor: -1 with the system's errno */
    hasher_init(&h, DIGEST_SHA256);
    errno = 0;
    assert_int_equal(hasher_update_fd(&h, fd, 1), -1);
    assert_int_equal(errno, EBADF);
    free(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_table),
        cmocka_unit_test(test_parse_explicit_len),
        cmocka_unit_test(test_format_round_trip),
        cmocka_unit_test(test_equal),
        cmocka_unit_test(test_hex_encode),
        cmocka_unit_test(test_hasher_vectors),
        cmocka_unit_test(test_hasher_incremental),
        cmocka_unit_test(test_hasher_save_load),
        cmocka_unit_test(test_hasher_load_rejects),
        cmocka_unit_test(test_hasher_update_fd),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
