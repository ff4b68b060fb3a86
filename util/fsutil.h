#ifndef BERTH_UTIL_FSUTIL_H
#define BERTH_UTIL_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

#include "util/digest.h"

/*
 * Small file-system helpers. Each returns 0, or -1 with errno set and
 * nothing logged: the caller knows what the path means and logs it.
 */

/* Write all of buf at offset off, retrying short writes and EINTR. */
int pwrite_all(int fd, const void *buf, size_t len, long long off);

/*
 * Copy what is left of fd in to fd out (from its offset 0) until in's
 * end, in chunks of a MiB, hashing each into h when h is not NULL, and
 * starting each chunk on its way to the disk (sync_file_range) so that
 * the caller's fsync waits for the last one only. *copied is the bytes
 * copied, also on failure; *read_failed says which side failed (1: a
 * read of in, 0: a write to out).
 */
int fd_copy(int in, int out, struct hasher *h, long long *copied,
            int *read_failed);

/* mkdir -p with mode for the directories it creates. */
int mkdir_p(const char *path, mode_t mode);

/* fsync() the directory that holds path, so a rename() in it is durable. */
int fsync_parent(const char *path);

/* Fill buf with n bytes from the kernel's CSPRNG. */
int random_bytes(void *buf, size_t n);

#endif
