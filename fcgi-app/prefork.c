#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fcgi-app/prefork.h"
#include "fcgi-app/worker.h"
#include "util/log.h"
#include "util/xalloc.h"

static pid_t spawn(int listen_fd, const struct config *cfg,
                   const struct auth_policy *policy)
{
    pid_t pid = fork();

    if (pid < 0) {
        log_err("cannot fork a worker: %s", strerror(errno));
        return -1;
    }
    if (pid == 0)
        _exit(worker_run(listen_fd, cfg, policy));
    return pid;
}

/* A worker ended: say why, unless it was told to. */
static void report(pid_t pid, int status)
{
    if (WIFSIGNALED(status))
        log_err("worker %ld killed by signal %d", (long)pid, WTERMSIG(status));
    else
        log_err("worker %ld exited with status %d", (long)pid,
                WEXITSTATUS(status));
}

/*
 * The signals stay blocked here and are taken with sigtimedwait(), so
 * none can slip in between a check and a wait.
 */
int prefork_run(int listen_fd, int n, const struct config *cfg,
                const struct auth_policy *policy)
{
    pid_t *pids = xcalloc((size_t)n, sizeof(*pids));
    time_t last_restart = 0;
    struct timespec tick = {1, 0};
    int i, alive = 0, status, told = 0, rc = 0;
    sigset_t set;
    pid_t pid;

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGCHLD);
    sigprocmask(SIG_BLOCK, &set, NULL);
    for (i = 0; i < n; i++) {
        pids[i] = spawn(listen_fd, cfg, policy);
        if (pids[i] < 0) {
            rc = 1;
            worker_stopping = 1;
            break;
        }
        alive++;
    }
    for (;;) {
        while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
            for (i = 0; i < n && pids[i] != pid; i++)
                ;
            if (i == n)
                continue;
            pids[i] = 0;
            alive--;
            if (worker_stopping)
                continue;
            report(pid, status);
            /* a worker that cannot start would otherwise spin */
            if (time(NULL) - last_restart < 1)
                sleep(1);
            last_restart = time(NULL);
            pids[i] = spawn(listen_fd, cfg, policy);
            if (pids[i] > 0)
                alive++;
        }
        if (worker_stopping && !told) {
            for (i = 0; i < n; i++)
                if (pids[i] > 0)
                    kill(pids[i], SIGTERM);
            told = 1;
        }
        if (alive == 0)
            break;
        switch (sigtimedwait(&set, NULL, &tick)) {
        case SIGTERM:
        case SIGINT:
        case SIGHUP:
            worker_stopping = 1;
            break;
        default:
            break;
        }
    }
    free(pids);
    log_info("stopped");
    return rc;
}
