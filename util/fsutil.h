#ifndef BERTH_UTIL_FSUTIL_H
#define BERTH_UTIL_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Small file-system helpers. Each returns 0, or -1 with errno set and
 * nothing logged: the caller knows what the path means and logs it.
 */

/* Write all of buf at offset off, retrying short writes and EINTR. */
int pwrite_all(int fd, const void *buf, size_t len, long long off);

/* mkdir -p with mode for the directories it creates. */
int mkdir_p(const char *path, mode_t mode);

/* fsync() the directory that holds path, so a rename() in it is durable. */
int fsync_parent(const char *path);

/* Fill buf with n bytes from the kernel's CSPRNG. */
int random_bytes(void *buf, size_t n);

#endif
