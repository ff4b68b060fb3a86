#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "auth/auth.h"
#include "config/conf.h"
#include "fcgi-app/request.h"
#include "fcgi-app/router.h"
#include "store/store.h"
#include "util/log.h"
#include "util/xalloc.h"

#define MAX_WORKERS 256

struct options {
    const char *config;
    const char *listen; /* NULL: the listen socket is fd 0 */
    int workers;        /* 0: the default for the mode */
    int check_only;
    int activated; /* systemd passed the listen socket (fd 3) */
};

/*
 * Whether systemd socket activation passed us one listen socket, as fd 3
 * (sd_listen_fds(3): LISTEN_PID is ours and LISTEN_FDS is 1). Read before
 * any fork, and once: the workers inherit the socket, not the question.
 */
static int socket_activated(void)
{
    const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
    char *end;
    long p;

    if (!pid || !fds || strcmp(fds, "1"))
        return 0;
    p = strtol(pid, &end, 10);
    if (*end || p != (long)getpid())
        return 0;
    unsetenv("LISTEN_PID");
    unsetenv("LISTEN_FDS");
    unsetenv("LISTEN_FDNAMES");
    return 1;
}

static volatile sig_atomic_t stopping;

/* The access rules, read once before the workers fork; NULL: none. */
static struct auth_policy *access_policy;

static void on_term(int sig)
{
    (void)sig;
    stopping = 1;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: berth-fcgi [-c FILE] [--listen ADDR] [--workers N] [-t]\n"
            "\n"
            "  -c, --config FILE   configuration (default %s)\n"
            "  -l, --listen ADDR   listen on ADDR (/path/to.sock or "
            "host:port)\n"
            "                      instead of the socket on fd 0 (or the "
            "one systemd\n"
            "                      passes, socket activation)\n"
            "  -w, --workers N     worker processes (default 1 on fd 0, "
            "2 with --listen)\n"
            "  -t, --check-config  check the configuration and exit\n"
            "  -V, --version       print the version and exit\n",
            config_default_path);
}

static int parse_options(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"listen", required_argument, NULL, 'l'},
        {"workers", required_argument, NULL, 'w'},
        {"check-config", no_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    char *end;
    long n;
    int c;

    memset(o, 0, sizeof(*o));
    o->config = config_default_path;
    while ((c = getopt_long(argc, argv, "c:l:w:thV", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            o->config = optarg;
            break;
        case 'l':
            o->listen = optarg;
            break;
        case 'w':
            n = strtol(optarg, &end, 10);
            if (*end || n < 1 || n > MAX_WORKERS) {
                fprintf(stderr, "berth-fcgi: --workers takes 1 to %d\n",
                        MAX_WORKERS);
                return -1;
            }
            o->workers = (int)n;
            break;
        case 't':
            o->check_only = 1;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        case 'V':
            printf("berth-fcgi %s\n", PACKAGE_VERSION);
            exit(0);
        default:
            usage(stderr);
            return -1;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return -1;
    }
    o->activated = !o->listen && socket_activated();
    if (!o->workers)
        o->workers = o->listen || o->activated ? 2 : 1;
    return 0;
}

/*
 * A worker's resident set grows by every page of the database it reads:
 * the pages are shared with the page cache and cost the machine nothing
 * more, but they count in the worker's RSS, and a worker that stores
 * thousands of small blobs reads new pages with each one. So every
 * TRIM_EVERY requests a worker looks at how many file-backed pages it
 * has resident (the third field of /proc/self/statm), and once they have
 * grown by TRIM_SLACK since it last let go, it lets go of the database
 * pages it has mapped (store_release_pages); the few it needs come back
 * at the next request. Its own memory is not touched, and a worker that
 * serves the same manifests over and over never lets go.
 */
#define TRIM_EVERY 4
#define TRIM_SLACK ((long)1 << 20)

struct trim {
    int statm; /* /proc/self/statm, or -1: then no trimming */
    long base; /* file-backed bytes resident after the last release */
    long page;
};

/* The file-backed bytes this process has resident, or -1. */
static long trim_mapped(const struct trim *t)
{
    char buf[128];
    long size, resident, shared;
    ssize_t n = pread(t->statm, buf, sizeof(buf) - 1, 0);

    if (n <= 0)
        return -1;
    buf[n] = '\0';
    if (sscanf(buf, "%ld %ld %ld", &size, &resident, &shared) != 3)
        return -1;
    return shared * t->page;
}

static void trim_init(struct trim *t)
{
    t->page = sysconf(_SC_PAGESIZE);
    t->statm = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    if (t->statm < 0)
        log_debug("no /proc/self/statm (%s): database pages stay mapped",
                  strerror(errno));
    t->base = t->statm < 0 ? -1 : trim_mapped(t);
}

static void trim_check(struct trim *t, struct store *st)
{
    long now;

    if (t->statm < 0 || (now = trim_mapped(t)) < 0)
        return;
    if (now - t->base > TRIM_SLACK) {
        store_release_pages(st);
        t->base = trim_mapped(t);
    }
}

/*
 * The accept loop of one worker.
 *
 * SIGTERM must let the request in flight finish, yet end a worker that
 * waits for one at once. The signals stay blocked all the time except
 * inside ppoll(), which unblocks them atomically: a signal that arrives
 * while a request is handled waits until the worker is idle again, and
 * one that arrives while it is idle ends the wait. There is no window in
 * which the flag is set but the worker goes to sleep in accept(), which
 * a plain "check the flag, then accept()" loop has.
 *
 * The listen socket is non-blocking, so when several workers wake for
 * one connection the losers get EAGAIN from accept() and go back to
 * ppoll() instead of blocking with the signals masked.
 */
static int serve(int listen_fd, struct store *st, const struct config *cfg,
                 const struct auth_policy *policy)
{
    struct pollfd pfd = {.fd = listen_fd, .events = POLLIN};
    sigset_t idle;
    struct req r;
    struct trim trim;
    unsigned served = 0;
    int rc, fl;

    sigprocmask(SIG_BLOCK, NULL, &idle);
    sigdelset(&idle, SIGTERM);
    sigdelset(&idle, SIGINT);
    sigdelset(&idle, SIGHUP);
    fl = fcntl(listen_fd, F_GETFL);
    if (fl < 0 || fcntl(listen_fd, F_SETFL, fl | O_NONBLOCK) < 0) {
        log_err("cannot use the listen socket (fd %d): %s", listen_fd,
                strerror(errno));
        return -1;
    }
    req_init(&r, st, cfg, policy);
    if (FCGX_InitRequest(&r.fcgx, listen_fd, FCGI_FAIL_ACCEPT_ON_INTR)) {
        log_err("cannot initialise a FastCGI request");
        req_release(&r);
        return -1;
    }
    trim_init(&trim);
    while (!stopping) {
        rc = ppoll(&pfd, 1, NULL, &idle);
        if (rc < 0 && errno != EINTR) {
            log_err("cannot wait for connections: %s", strerror(errno));
            break;
        }
        if (rc <= 0)
            continue; /* a signal: the loop condition decides */
        rc = FCGX_Accept_r(&r.fcgx);
        if (rc < 0) {
            if (rc == -EAGAIN || rc == -EWOULDBLOCK || rc == -EINTR)
                continue; /* another worker took it */
            log_err("FastCGI accept failed: %s", strerror(-rc));
            break;
        }
        req_reset(&r);
        router_dispatch(&r);
        req_finish(&r);
        if (++served % TRIM_EVERY == 0)
            trim_check(&trim, st);
    }
    FCGX_Free(&r.fcgx, 1);
    req_release(&r);
    if (trim.statm >= 0)
        close(trim.statm);
    return 0;
}

static int worker(int listen_fd, const struct config *cfg)
{
    struct store_options opt;
    struct store *st = NULL;
    int rc, purged = 0;

    config_store_options(cfg, &opt);
    /* LMDB must be opened after fork(), in the process that uses it */
    if (store_open(cfg->root, &opt, &st)) {
        log_err("cannot open the store at '%s' (config '%s')", cfg->root,
                cfg->file);
        return 1;
    }
    if (store_upload_purge(st, cfg->upload_ttl, &purged) == STORE_OK && purged)
        log_info("dropped %d upload sessions older than %llds", purged,
                 cfg->upload_ttl);
    log_debug("worker ready");
    rc = serve(listen_fd, st, cfg, access_policy);
    store_close(st);
    return rc ? 1 : 0;
}

static pid_t spawn(int listen_fd, const struct config *cfg)
{
    pid_t pid = fork();

    if (pid < 0) {
        log_err("cannot fork a worker: %s", strerror(errno));
        return -1;
    }
    if (pid == 0)
        _exit(worker(listen_fd, cfg));
    return pid;
}

/*
 * Prefork: start n workers, restart any that dies, and on SIGTERM pass it
 * on and wait until every worker has finished its request and exited.
 * The signals stay blocked here and are taken with sigtimedwait(), so
 * none can slip in between a check and a wait.
 */
static int supervise(int listen_fd, const struct config *cfg, int n)
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
        pids[i] = spawn(listen_fd, cfg);
        if (pids[i] < 0) {
            rc = 1;
            stopping = 1;
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
            if (stopping)
                continue;
            if (WIFSIGNALED(status))
                log_err("worker %ld killed by signal %d", (long)pid,
                        WTERMSIG(status));
            else
                log_err("worker %ld exited with status %d", (long)pid,
                        WEXITSTATUS(status));
            /* a worker that cannot start would otherwise spin */
            if (time(NULL) - last_restart < 1)
                sleep(1);
            last_restart = time(NULL);
            pids[i] = spawn(listen_fd, cfg);
            if (pids[i] > 0)
                alive++;
        }
        if (stopping && !told) {
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
            stopping = 1;
            break;
        default:
            break;
        }
    }
    free(pids);
    log_info("stopped");
    return rc;
}

int main(int argc, char **argv)
{
    struct options o;
    struct config cfg;
    struct sigaction sa;
    sigset_t term;
    char err[PATH_MAX + 256];
    int listen_fd = 0;

    if (parse_options(argc, argv, &o))
        return 2;
    if (config_load(o.config, &cfg, err, sizeof(err)) ||
        config_check_root(&cfg, err, sizeof(err))) {
        fprintf(stderr, "berth-fcgi: %s\n", err);
        return 1;
    }
    if (cfg.access[0] &&
        auth_policy_load(cfg.access, &access_policy, err, sizeof(err))) {
        fprintf(stderr, "berth-fcgi: %s (config '%s')\n", err, cfg.file);
        return 1;
    }
    log_level = cfg.log_level;
    if (o.check_only) {
        printf("berth-fcgi: config '%s' is valid\n", cfg.file);
        return 0;
    }
    if (FCGX_Init()) {
        fprintf(stderr, "berth-fcgi: cannot initialise libfcgi\n");
        return 1;
    }
    if (o.listen) {
        listen_fd = FCGX_OpenSocket(o.listen, 128);
        if (listen_fd < 0) {
            fprintf(stderr, "berth-fcgi: cannot listen on '%s'\n", o.listen);
            return 1;
        }
    } else if (o.activated) {
        listen_fd = 3; /* SD_LISTEN_FDS_START */
        fcntl(listen_fd, F_SETFD, FD_CLOEXEC);
    } else if (FCGX_IsCGI()) {
        fprintf(stderr,
                "berth-fcgi: fd 0 is not a FastCGI socket: start me from "
                "the web server or spawn-fcgi, or give --listen\n");
        return 1;
    }

    /* no SA_RESTART: a blocked accept() or waitpid() returns on SIGTERM */
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_term;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    sigaddset(&term, SIGINT);
    sigaddset(&term, SIGHUP);
    sigprocmask(SIG_BLOCK, &term, NULL);

    log_info("berth %s serving '%s' with %d worker%s", PACKAGE_VERSION,
             cfg.root, o.workers, o.workers == 1 ? "" : "s");
    if (o.workers == 1 && !o.listen && !o.activated)
        return worker(listen_fd, &cfg);
    return supervise(listen_fd, &cfg, o.workers);
}
