#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>

#include "fcgi-app/request.h"
#include "fcgi-app/router.h"
#include "fcgi-app/worker.h"
#include "store/store.h"
#include "util/log.h"

volatile sig_atomic_t worker_stopping;

static void on_stop(int sig)
{
    (void)sig;
    worker_stopping = 1;
}

void worker_signals(void)
{
    static const int sigs[] = {SIGTERM, SIGINT, SIGHUP};
    struct sigaction sa;
    sigset_t set;
    size_t i;

    /* no SA_RESTART: a blocked accept() or waitpid() returns on SIGTERM */
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigemptyset(&set);
    for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
        sigaction(sigs[i], &sa, NULL);
        sigaddset(&set, sigs[i]);
    }
    signal(SIGPIPE, SIG_IGN);
    sigprocmask(SIG_BLOCK, &set, NULL);
}

/*
 * The accept loop.
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
    if (req_open(&r, listen_fd, st, cfg, policy))
        return -1;
    while (!worker_stopping) {
        rc = ppoll(&pfd, 1, NULL, &idle);
        if (rc < 0 && errno != EINTR) {
            log_err("cannot wait for connections: %s", strerror(errno));
            break;
        }
        if (rc <= 0)
            continue; /* a signal: the loop condition decides */
        rc = req_accept(&r);
        if (rc == -EAGAIN || rc == -EWOULDBLOCK || rc == -EINTR)
            continue; /* another worker took it */
        if (rc < 0)
            break; /* logged */
        router_dispatch(&r);
        req_finish(&r);
        store_trim(st);
    }
    req_close(&r);
    return 0;
}

int worker_run(int listen_fd, const struct config *cfg,
               const struct auth_policy *policy)
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
    rc = serve(listen_fd, st, cfg, policy);
    store_close(st);
    return rc ? 1 : 0;
}
