#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fcgi-app/prefork.h"
#include "fcgi-app/worker.h"
#include "hooks/hooks.h"
#include "policy/policy.h"
#include "util/log.h"
#include "util/xalloc.h"

/* How long a new worker may take to open the store at a reload. */
#define START_MAX_SECONDS 30

struct prefork {
    int listen_fd;
    int n;
    pid_t *slots; /* the serving workers; 0: none, to be started */
    pid_t *old;   /* workers told to finish, until they have */
    size_t n_old, old_max;
    /* what workers start with: the caller's, or owned_* after a reload */
    const struct config *cfg;
    const struct auth_policy *policy;
    struct config *owned_cfg;
    struct auth_policy *owned_policy;
    time_t last_restart;
};

/*
 * Start a worker. ready, unless NULL, is a pipe: the worker writes to
 * ready[1] when it takes requests.
 */
static pid_t spawn(struct prefork *p, const struct config *cfg,
                   const struct auth_policy *policy, const int *ready)
{
    pid_t pid = fork();

    if (pid < 0) {
        log_err("cannot fork a worker: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        worker_reload = 0; /* the master's business */
        if (ready)
            close(ready[0]);
        _exit(worker_run(p->listen_fd, cfg, policy, ready ? ready[1] : -1));
    }
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

/* Tell worker pid to finish its request and exit. */
static void retire(struct prefork *p, pid_t pid)
{
    kill(pid, SIGTERM);
    if (p->n_old == p->old_max) {
        p->old_max = p->old_max ? 2 * p->old_max : (size_t)p->n;
        p->old = xrealloc(p->old, p->old_max * sizeof(*p->old));
    }
    p->old[p->n_old++] = pid;
}

/* Reap the workers that ended; a serving one leaves its slot empty. */
static void reap(struct prefork *p)
{
    int i, status;
    size_t j;
    pid_t pid;

    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (i = 0; i < p->n && p->slots[i] != pid; i++)
            ;
        if (i < p->n) {
            p->slots[i] = 0;
            if (!worker_stopping)
                report(pid, status);
            continue;
        }
        for (j = 0; j < p->n_old && p->old[j] != pid; j++)
            ;
        if (j == p->n_old)
            continue;
        p->old[j] = p->old[--p->n_old];
        if (!WIFEXITED(status) || WEXITSTATUS(status))
            report(pid, status);
    }
}

static int alive(const struct prefork *p)
{
    int i, k = (int)p->n_old;

    for (i = 0; i < p->n; i++)
        k += p->slots[i] > 0;
    return k;
}

/* Start workers in empty slots; after the first, one a second at most. */
static void fill(struct prefork *p)
{
    int i;

    for (i = 0; i < p->n; i++) {
        if (p->slots[i] > 0)
            continue;
        /* a worker that cannot start would otherwise spin */
        if (time(NULL) - p->last_restart < 1)
            return;
        p->last_restart = time(NULL);
        p->slots[i] = spawn(p, p->cfg, p->policy, NULL);
        if (p->slots[i] < 0)
            p->slots[i] = 0;
    }
}

/*
 * Wait until the worker at the other end of fd says it takes requests:
 * 1, or 0 if it ended first, took over START_MAX_SECONDS, or a stop
 * signal came. The signals are let in meanwhile; SIGHUP only sets
 * worker_reload, for another reload after this one.
 */
static int wait_ready(int fd)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    struct timespec now, end, left;
    sigset_t idle;
    char c;
    int rc;

    sigprocmask(SIG_BLOCK, NULL, &idle);
    sigdelset(&idle, SIGTERM);
    sigdelset(&idle, SIGINT);
    sigdelset(&idle, SIGHUP);
    clock_gettime(CLOCK_MONOTONIC, &end);
    end.tv_sec += START_MAX_SECONDS;
    while (!worker_stopping) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        left.tv_sec = end.tv_sec - now.tv_sec;
        left.tv_nsec = end.tv_nsec - now.tv_nsec;
        if (left.tv_nsec < 0) {
            left.tv_nsec += 1000000000L;
            left.tv_sec--;
        }
        if (left.tv_sec < 0)
            return 0;
        rc = ppoll(&pfd, 1, &left, &idle);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc < 0)
            log_err("cannot wait for a new worker: %s", strerror(errno));
        if (rc <= 0)
            return 0;
        return read(fd, &c, 1) == 1;
    }
    return 0;
}

/*
 * Start a worker with cfg and policy and wait until it takes requests:
 * its pid in *pid (-1 if it could not be forked), and whether it came
 * up.
 */
static int start_one(struct prefork *p, const struct config *cfg,
                     const struct auth_policy *policy, pid_t *pid)
{
    int ready[2], up = 0;

    *pid = -1;
    if (pipe2(ready, O_CLOEXEC)) {
        log_err("cannot make a pipe: %s", strerror(errno));
        return 0;
    }
    *pid = spawn(p, cfg, policy, ready);
    close(ready[1]);
    if (*pid > 0)
        up = wait_ready(ready[0]);
    close(ready[0]);
    return up;
}

/*
 * SIGHUP: read the configuration, the access and the policy file again,
 * and if they are valid, replace the workers one by one: a new worker takes
 * requests before an old one is told to finish the one it has, so the listen
 * socket always has a worker. The first new worker decides: if it does
 * not come up, the old ones serve on with the old configuration.
 */
static void reload(struct prefork *p)
{
    struct config *cfg = xmalloc(sizeof(*cfg));
    struct auth_policy *policy = NULL;
    char err[PATH_MAX + 256];
    int i, up;
    pid_t pid;

    log_info("SIGHUP: reading '%s' again", p->cfg->file);
    if (config_load(p->cfg->file, cfg, err, sizeof(err)) ||
        config_check_root(cfg, err, sizeof(err)) ||
        (cfg->access[0] &&
         auth_policy_load(cfg->access, &policy, err, sizeof(err))) ||
        (cfg->policy[0] && policy_check(cfg->policy, err, sizeof(err))) ||
        (cfg->webhooks[0] && hooks_check(cfg->webhooks, err, sizeof(err)))) {
        log_err("%s; serving on with the configuration in force", err);
        free(cfg);
        return;
    }
    for (i = 0; i < p->n; i++) {
        up = start_one(p, cfg, policy, &pid);
        if (worker_stopping) {
            if (pid > 0)
                retire(p, pid);
            break;
        }
        if (i == 0 && !up) {
            if (pid > 0)
                retire(p, pid);
            log_err("a worker with the configuration of '%s' did not come "
                    "up; serving on with the configuration in force",
                    cfg->file);
            break;
        }
        if (i == 0) {
            /* from now on the new configuration is the one in force */
            free(p->owned_cfg);
            auth_policy_free(p->owned_policy);
            p->cfg = p->owned_cfg = cfg;
            p->policy = p->owned_policy = policy;
            log_level = cfg->log_level;
        }
        if (!up && pid > 0)
            log_err("new worker %ld did not come up", (long)pid);
        if (p->slots[i] > 0)
            retire(p, p->slots[i]);
        /* one that did not come up is reaped and replaced like any */
        p->slots[i] = pid > 0 ? pid : 0;
    }
    if (i == p->n)
        log_info("serving with the configuration of '%s' in %d new "
                 "worker%s",
                 cfg->file, p->n, p->n == 1 ? "" : "s");
    if (p->cfg != cfg) {
        free(cfg);
        auth_policy_free(policy);
    }
}

/*
 * The signals stay blocked here and are taken with sigtimedwait(), so
 * none can slip in between a check and a wait; wait_ready() lets them in
 * while it waits.
 */
int prefork_run(int listen_fd, int n, const struct config *cfg,
                const struct auth_policy *policy)
{
    struct prefork p = {.listen_fd = listen_fd, .n = n};
    struct timespec tick = {1, 0};
    int i, told = 0, rc = 0;
    size_t j;
    sigset_t set;

    p.slots = xcalloc((size_t)n, sizeof(*p.slots));
    p.cfg = cfg;
    p.policy = policy;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGCHLD);
    sigprocmask(SIG_BLOCK, &set, NULL);
    for (i = 0; i < n; i++) {
        p.slots[i] = spawn(&p, cfg, policy, NULL);
        if (p.slots[i] < 0) {
            p.slots[i] = 0;
            rc = 1;
            worker_stopping = 1;
            break;
        }
    }
    for (;;) {
        reap(&p);
        if (worker_stopping && !told) {
            for (i = 0; i < n; i++)
                if (p.slots[i] > 0)
                    kill(p.slots[i], SIGTERM);
            for (j = 0; j < p.n_old; j++)
                kill(p.old[j], SIGTERM);
            told = 1;
        }
        if (!worker_stopping && worker_reload) {
            worker_reload = 0;
            reload(&p);
            continue;
        }
        if (!worker_stopping)
            fill(&p);
        if (worker_stopping && alive(&p) == 0)
            break;
        switch (sigtimedwait(&set, NULL, &tick)) {
        case SIGTERM:
        case SIGINT:
            worker_stopping = 1;
            break;
        case SIGHUP:
            worker_reload = 1;
            break;
        default:
            break;
        }
    }
    free(p.slots);
    free(p.old);
    free(p.owned_cfg);
    auth_policy_free(p.owned_policy);
    log_info("stopped");
    return rc;
}
