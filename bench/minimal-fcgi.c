/*
 * bench/minimal-fcgi.c: the request-rate ceiling of a FastCGI responder
 * behind the same nginx as berth. Each process answers every request
 * with the same two bytes; `minimal-fcgi N` on fd 0 (spawn-fcgi) or with
 * a socket path runs N such processes. Built and run by bench/bench.sh.
 */
#include <fcgiapp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    FCGX_Request r;
    int fd = 0, i, n = argc > 1 ? atoi(argv[1]) : 1;

    FCGX_Init();
    if (argc > 2)
        fd = FCGX_OpenSocket(argv[2], 128);
    if (fd < 0)
        return 1;
    for (i = 1; i < n; i++) {
        if (fork() == 0) {
            prctl(PR_SET_PDEATHSIG, SIGTERM); /* go when the first goes */
            break;
        }
    }
    FCGX_InitRequest(&r, fd, 0);
    while (FCGX_Accept_r(&r) >= 0) {
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
