#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz/fuzz.h"

char *fuzz_string(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);

    if (!s)
        abort();
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

const char *fuzz_file(const uint8_t *data, size_t size)
{
    static char name[64];
    static int fd = -1;
    size_t done = 0;
    ssize_t n;

    if (fd < 0) {
        fd = memfd_create("berth-fuzz", MFD_CLOEXEC);
        if (fd < 0) {
            perror("memfd_create");
            abort();
        }
        snprintf(name, sizeof(name), "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0)) {
        perror("ftruncate");
        abort();
    }
    while (done < size) {
        n = pwrite(fd, data + done, size - done, (off_t)done);
        if (n <= 0) {
            perror("pwrite");
            abort();
        }
        done += (size_t)n;
    }
    return name;
}
