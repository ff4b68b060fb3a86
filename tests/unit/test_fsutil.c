/*
 * tests/unit/test_fsutil.c: util/fsutil.h's fd_copy, which backups and
 * imports copy blob files with: every byte, the hash of them, and which
 * side failed.
 */
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

#include "util/fsutil.h"

/* a temporary file holding len bytes of a pattern, open for reading */
static int pattern_file(char *path, size_t len)
{
    unsigned char *b = malloc(len ? len : 1);
    size_t i;
    int fd;

    assert_non_null(b);
    for (i = 0; i < len; i++)
        b[i] = (unsigned char)(i * 7 + i / 4096);
    strcpy(path, "/tmp/berth-test-fsutil-XXXXXX");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(pwrite_all(fd, b, len, 0), 0);
    free(b);
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    return fd;
}

/* copy len bytes, more than one chunk and not a whole one, and a hash */
static void copy_of(size_t len)
{
    char src[64], dst[64];
    struct hasher h;
    struct digest want, got;
    long long copied;
    int in = pattern_file(src, len), out, read_failed;
    unsigned char *a = malloc(len + 1), *b = malloc(len + 1);

    assert_non_null(a);
    assert_non_null(b);
    strcpy(dst, "/tmp/berth-test-fsutil-XXXXXX");
    out = mkstemp(dst);
    assert_true(out >= 0);
    hasher_init(&h, DIGEST_SHA256);
    assert_int_equal(fd_copy(in, out, &h, &copied, &read_failed), 0);
    hasher_final(&h, &got);
    assert_int_equal(copied, (long long)len);
    assert_int_equal(pread(in, a, len + 1, 0), (ssize_t)len);
    assert_int_equal(pread(out, b, len + 1, 0), (ssize_t)len);
    assert_memory_equal(a, b, len);
    hasher_init(&h, DIGEST_SHA256);
    hasher_update(&h, a, len);
    hasher_final(&h, &want);
    assert_true(digest_equal(&want, &got));
    close(in);
    close(out);
    unlink(src);
    unlink(dst);
    free(a);
    free(b);
}

static void test_copy(void **state)
{
    (void)state;
    copy_of(0);
    copy_of(1);
    copy_of((3u << 20) + 12345);
}

static void test_failures(void **state)
{
    char src[64];
    long long copied;
    int in = pattern_file(src, 100), out, read_failed = -1;

    (void)state;
    /* a write that fails: out is open for reading only */
    out = open(src, O_RDONLY);
    assert_true(out >= 0);
    assert_int_equal(fd_copy(in, out, NULL, &copied, &read_failed), -1);
    assert_int_equal(errno, EBADF);
    assert_int_equal(read_failed, 0);
    assert_int_equal(copied, 0);
    close(out);
    /* a read that fails: in is a directory */
    close(in);
    in = open("/tmp", O_RDONLY | O_DIRECTORY);
    assert_true(in >= 0);
    out = open(src, O_WRONLY);
    assert_int_equal(fd_copy(in, out, NULL, &copied, &read_failed), -1);
    assert_int_equal(errno, EISDIR);
    assert_int_equal(read_failed, 1);
    close(in);
    close(out);
    unlink(src);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_copy),
        cmocka_unit_test(test_failures),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
