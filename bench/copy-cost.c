/*
 * bench/copy-cost.c: the CPU that moving an upload's bytes costs, apart
 * from hashing them: a child writes SIZE MiB into a Unix stream socket
 * in 32 KiB pieces (as nginx passes a request body on), and the parent
 * reads them READ bytes at a time into a 1 MiB aligned buffer that it
 * writes to FILE with O_DIRECT (as berth stores an upload). Prints the
 * parent's CPU seconds (user + system). Built and run by bench/bench.sh:
 *
 *   copy-cost SIZE-MIB READ-BYTES FILE
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define BUF (1 << 20)
#define PIECE (32 << 10)

static void die(const char *what)
{
    perror(what);
    exit(1);
}

int main(int argc, char **argv)
{
    static char piece[PIECE];
    struct rusage ru;
    long long total, left;
    size_t rsize, fill = 0;
    off_t off = 0;
    char *buf;
    int sv[2], fd;
    pid_t child;

    if (argc != 4)
        return fprintf(stderr, "usage: copy-cost SIZE-MIB READ-BYTES FILE\n"), 2;
    total = atoll(argv[1]) << 20;
    rsize = (size_t)atol(argv[2]);
    if (total <= 0 || rsize == 0 || rsize > BUF || BUF % rsize)
        return fprintf(stderr, "copy-cost: bad size\n"), 2;
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
        die("socketpair");
    child = fork();
    if (child < 0)
        die("fork");
    if (child == 0) {
        close(sv[0]);
        memset(piece, 'x', sizeof(piece));
        for (left = total; left > 0; left -= PIECE)
            if (write(sv[1], piece, PIECE) != PIECE)
                die("write");
        _exit(0);
    }
    close(sv[1]);
    fd = open(argv[3], O_WRONLY | O_CREAT | O_TRUNC | O_DIRECT, 0600);
    if (fd < 0)
        die(argv[3]);
    if (posix_memalign((void **)&buf, 4096, BUF))
        die("posix_memalign");
    for (left = total; left > 0;) {
        ssize_t n = read(sv[0], buf + fill, rsize - fill % rsize);

        if (n <= 0)
            die("read");
        fill += (size_t)n;
        left -= n;
        if (fill == BUF) {
            if (pwrite(fd, buf, BUF, off) != BUF)
                die("pwrite");
            off += BUF;
            fill = 0;
        }
    }
    if (fdatasync(fd))
        die("fdatasync");
    unlink(argv[3]);
    waitpid(child, NULL, 0);
    getrusage(RUSAGE_SELF, &ru);
    printf("%.3f\n", (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                         (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
    return 0;
}
