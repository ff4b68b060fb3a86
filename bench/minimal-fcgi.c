/*
 * bench/minimal-fcgi.c: the ceilings of a FastCGI responder behind the
 * same nginx as berth. Each process answers every request with the same
 * two bytes; before that it stores the request body, if there is one, as
 * berth stores an upload but without hashing it: read through libfcgi
 * into a 1 MiB aligned buffer, written with O_DIRECT to a file in DIR,
 * fdatasync, unlink. So its request rate is the ceiling for manifest
 * GET and HEAD, and its CPU per GiB of body is the copy cost of an
 * upload.
 *
 *   minimal-fcgi N SOCKET DIR
 *
 * runs N such processes on the unix socket SOCKET. Built and run by
 * bench/bench.sh.
 */
#define _GNU_SOURCE
#include <fcgiapp.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define BUF   (1 << 20)
#define BLOCK 4096

/* Store the request body in DIR; 0 or -1. */
static int store_body(FCGX_Request *r, const char *dir, char *buf)
{
    char path[4096];
    off_t off = 0;
    int fd, n, fill, rc = 0;

    snprintf(path, sizeof(path), "%s/body.%ld", dir, (long)getpid());
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_DIRECT, 0600);
    if (fd < 0)
        return -1;
    do {
        fill = 0;
        while (fill < BUF &&
               (n = FCGX_GetStr(buf + fill, BUF - fill, r->in)) > 0)
            fill += n;
        if (fill % BLOCK) /* the tail: O_DIRECT writes whole blocks only */
            fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_DIRECT);
        if (fill && pwrite(fd, buf, (size_t)fill, off) != fill)
            rc = -1;
        off += fill;
    } while (fill == BUF && rc == 0);
    if (off && fdatasync(fd))
        rc = -1;
    close(fd);
    unlink(path);
    return rc;
}

int main(int argc, char **argv)
{
    FCGX_Request r;
    char *buf;
    int fd, i, n;

    if (argc != 4)
        return fprintf(stderr, "usage: minimal-fcgi N SOCKET DIR\n"), 2;
    n = atoi(argv[1]);
    FCGX_Init();
    fd = FCGX_OpenSocket(argv[2], 128);
    if (fd < 0)
        return 1;
    for (i = 1; i < n; i++) {
        if (fork() == 0) {
            prctl(PR_SET_PDEATHSIG, SIGTERM); /* go when the first goes */
            break;
        }
    }
    if (posix_memalign((void **)&buf, BLOCK, BUF))
        return 1;
    FCGX_InitRequest(&r, fd, 0);
    while (FCGX_Accept_r(&r) >= 0) {
        const char *len = FCGX_GetParam("CONTENT_LENGTH", r.envp);

        if (len && atoll(len) > 0 && store_body(&r, argv[3], buf))
            FCGX_PutS("Status: 500 Internal Server Error\r\n"
                      "Content-Type: text/plain\r\n"
                      "Content-Length: 5\r\n\r\nerror",
                      r.out);
        else
            FCGX_PutS("Status: 200 OK\r\nContent-Type: text/plain\r\n"
                      "Content-Length: 2\r\n\r\nok",
                      r.out);
        /* close without libfcgi's linger, as berth does once it has read
         * the whole request: otherwise this ceiling is lower than berth */
        FCGX_Detach(&r);
        FCGX_Finish_r(&r);
    }
    while (wait(NULL) > 0)
        ;
    return 0;
}
