#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/fsutil.h"
#include "util/xalloc.h"

#define COPY_CHUNK (1024 * 1024)

int pwrite_all(int fd, const void *buf, size_t len, long long off)
{
    const char *p = buf;

    while (len) {
        ssize_t n = pwrite(fd, p, len, (off_t)off);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        off += n;
        len -= (size_t)n;
    }
    return 0;
}

int fd_copy(int in, int out, struct hasher *h, long long *copied,
            int *read_failed)
{
    char *buf = xmalloc(COPY_CHUNK);
    ssize_t n;
    int rc = 0;

    *copied = 0;
    for (;;) {
        n = read(in, buf, COPY_CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            *read_failed = 1;
            rc = n < 0 ? -1 : 0;
            break;
        }
        if (h)
            hasher_update(h, buf, (size_t)n);
        if (pwrite_all(out, buf, (size_t)n, *copied)) {
            *read_failed = 0;
            rc = -1;
            break;
        }
        sync_file_range(out, *copied, n, SYNC_FILE_RANGE_WRITE);
        *copied += n;
    }
    free(buf);
    return rc;
}

int mkdir_p(const char *path, mode_t mode)
{
    char tmp[PATH_MAX];
    size_t len = strlen(path);
    char *p;

    if (len == 0 || len >= sizeof(tmp)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(tmp, path, len + 1);
    for (p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, mode) && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(tmp, mode) && errno != EEXIST)
        return -1;
    return 0;
}

int fsync_parent(const char *path)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    size_t len = slash ? (size_t)(slash - path) : 0;
    int fd, rc, err;

    if (len == 0 || len >= sizeof(dir)) {
        errno = EINVAL;
        return -1;
    }
    memcpy(dir, path, len);
    dir[len] = '\0';
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    rc = fsync(fd);
    err = errno;
    close(fd);
    errno = err;
    return rc;
}

int random_bytes(void *buf, size_t n)
{
    char *p = buf;

    while (n) {
        ssize_t got = getrandom(p, n, 0);

        if (got < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += got;
        n -= (size_t)got;
    }
    return 0;
}
