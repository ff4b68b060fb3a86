#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fcgi-app/gc.h"
#include "fcgi-app/hooks.h"
#include "fcgi-app/handlers.h"
#include "fcgi-app/metrics.h"
#include "fcgi-app/request.h"
#include "fcgi-app/response.h"
#include "fcgi-app/router.h"
#include "fcgi-app/worker.h"
#include "store/store.h"
#include "util/log.h"

volatile sig_atomic_t worker_stopping;
volatile sig_atomic_t worker_reload;

static void on_signal(int sig)
{
    if (sig == SIGHUP)
        worker_reload = 1;
    else
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
    sa.sa_handler = on_signal;
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
 * A rules file as this worker has it: the access file, the policy file.
 * A worker reads the file itself when it starts, and again when the file
 * changes: the rules of whoever started it are only the fallback, for a
 * file that cannot be read. Whether it changed is told by stat(), at most
 * once a second, between requests; a rename over it changes the inode,
 * an edit in place the size or the times. A file whose times are as
 * recent as the time stamps' granularity could change again without a
 * new time stamp (git's "racily clean" index entries): it is read again
 * at each look until it is older than that.
 */
struct file_id {
    int err; /* stat()'s errno, 0 when it worked */
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime, ctime;
};

/* Read the rules of path into *out, or -1 with a reason in err. */
typedef int rules_load_fn(const char *path, void **out, char *err,
                          size_t errlen);

struct rules_watch {
    const char *path;       /* NULL: no such file */
    const char *what;       /* "access rules", for the log */
    rules_load_fn *load;    /* reads it */
    void (*free)(void *);   /* frees what load read */
    const void *fallback;   /* the starter's, borrowed */
    void *own;              /* read here; NULL: the fallback */
    struct file_id id;      /* the file when last read */
    int racy;               /* id may not show a change yet */
    int failed;             /* the last read failed */
    struct timespec looked; /* CLOCK_MONOTONIC */
};

/* Seconds within which a file's time stamp may not move on a change. */
#define RACY_SECONDS 2

static void file_id_get(const char *path, struct file_id *id)
{
    struct stat st;

    memset(id, 0, sizeof(*id));
    if (stat(path, &st)) {
        id->err = errno;
        return;
    }
    id->dev = st.st_dev;
    id->ino = st.st_ino;
    id->size = st.st_size;
    id->mtime = st.st_mtim;
    id->ctime = st.st_ctim;
}

static int ts_eq(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

static int file_id_eq(const struct file_id *a, const struct file_id *b)
{
    return a->err == b->err && a->dev == b->dev && a->ino == b->ino &&
           a->size == b->size && ts_eq(&a->mtime, &b->mtime) &&
           ts_eq(&a->ctime, &b->ctime);
}

static int file_id_racy(const struct file_id *id)
{
    struct timespec now;

    clock_gettime(CLOCK_REALTIME, &now);
    return !id->err && (id->mtime.tv_sec >= now.tv_sec - RACY_SECONDS ||
                        id->ctime.tv_sec >= now.tv_sec - RACY_SECONDS);
}

/*
 * Read the file again. A file that cannot be read leaves the rules in
 * force; that is logged once, not at each look: when the file changed,
 * when told to, or when the read before worked.
 */
static void rules_read(struct rules_watch *w, int tell)
{
    char err[PATH_MAX + 256];
    void *p;

    if (w->load(w->path, &p, err, sizeof(err))) {
        if (tell || !w->failed)
            log_err("%s; the %s in force stay", err, w->what);
        w->failed = 1;
        return;
    }
    if (tell || w->failed)
        log_info("read the %s again from '%s'", w->what, w->path);
    w->free(w->own);
    w->own = p;
    w->failed = 0;
}

/* Watch path ("" for none) from now on. */
static void rules_init(struct rules_watch *w, const char *path,
                       const char *what, rules_load_fn *load,
                       void (*free_fn)(void *), const void *fallback)
{
    memset(w, 0, sizeof(*w));
    w->what = what;
    w->load = load;
    w->free = free_fn;
    w->fallback = fallback;
    if (!path[0])
        return;
    w->path = path;
    clock_gettime(CLOCK_MONOTONIC, &w->looked);
    file_id_get(w->path, &w->id);
    w->racy = file_id_racy(&w->id);
    rules_read(w, 0);
}

/*
 * Read the file again if it changed; look at most once a second, unless
 * now (SIGHUP), which reads it whether it changed or not.
 */
static void rules_check(struct rules_watch *w, int now)
{
    struct timespec t;
    struct file_id id;
    long long ms;
    int changed;

    if (!w->path)
        return;
    clock_gettime(CLOCK_MONOTONIC, &t);
    ms = (long long)(t.tv_sec - w->looked.tv_sec) * 1000 +
         (t.tv_nsec - w->looked.tv_nsec) / 1000000;
    if (!now && ms < 1000)
        return;
    w->looked = t;
    file_id_get(w->path, &id);
    changed = !file_id_eq(&id, &w->id);
    if (!changed && !w->racy && !now)
        return;
    w->id = id;
    w->racy = file_id_racy(&id);
    rules_read(w, changed || now);
}

static const void *rules_get(const struct rules_watch *w)
{
    return w->own ? w->own : w->fallback;
}

static void rules_release(struct rules_watch *w)
{
    w->free(w->own);
    w->own = NULL;
}

/* store_tag_fixed_fn: the immutable tags of the policy the worker has now */
static int tag_fixed(void *ctx, const char *repo, const char *tag)
{
    return policy_immutable(rules_get(ctx), repo, tag);
}

/* The two rules files, as rules_load_fn and their free functions. */
static int access_load(const char *path, void **out, char *err, size_t len)
{
    struct auth_policy *p;

    if (auth_policy_load(path, &p, err, len))
        return -1;
    *out = p;
    return 0;
}

static void access_free(void *p)
{
    auth_policy_free(p);
}

static int policy_load_any(const char *path, void **out, char *err, size_t len)
{
    struct policy *p;

    if (policy_load(path, &p, err, len))
        return -1;
    *out = p;
    return 0;
}

static void policy_free_any(void *p)
{
    policy_free(p);
}

static int mirror_load_any(const char *path, void **out, char *err, size_t len)
{
    struct mirror *m;

    if (mirror_load(path, &m, err, len))
        return -1;
    *out = m;
    return 0;
}

static void mirror_free_any(void *p)
{
    mirror_free(p);
}

/* What a worker watches. */
struct watches {
    struct rules_watch access, policy, mirror;
};

/*
 * Make listen_fd non-blocking (its flags before in *fl) and put in *idle
 * the signal mask to wait with: the stop signals and SIGHUP come in.
 */
static int wait_setup(int listen_fd, sigset_t *idle, int *fl)
{
    sigprocmask(SIG_BLOCK, NULL, idle);
    sigdelset(idle, SIGTERM);
    sigdelset(idle, SIGINT);
    sigdelset(idle, SIGHUP);
    *fl = fcntl(listen_fd, F_GETFL);
    if (*fl < 0 || fcntl(listen_fd, F_SETFL, *fl | O_NONBLOCK) < 0) {
        log_err("cannot use the listen socket (fd %d): %s", listen_fd,
                strerror(errno));
        return -1;
    }
    return 0;
}

/*
 * How often a worker that serves requests drops the upload sessions that
 * outlived upload_ttl (it does at its start too; so does every GC run).
 * Their counts against the limits per user and repository go with them.
 */
#define PURGE_EVERY 600

static void purge_sessions(struct store *st, const struct config *cfg,
                           time_t *next)
{
    time_t now = time(NULL);
    int n = 0;

    if (now < *next)
        return;
    *next = now + PURGE_EVERY;
    if (store_upload_purge(st, cfg->upload_ttl, &n) == STORE_OK && n)
        log_info("dropped %d upload sessions older than %llds", n,
                 cfg->upload_ttl);
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
 * a plain "check the flag, then accept()" loop has. SIGHUP, the same
 * way, reads the access and policy files between requests.
 *
 * The listen socket is non-blocking, so when several workers wake for
 * one connection the losers get EAGAIN from accept() and go back to
 * ppoll() instead of blocking with the signals masked.
 */
static int serve(int listen_fd, struct store *st, const struct config *cfg,
                 struct watches *ws)
{
    struct pollfd pfd = {.fd = listen_fd, .events = POLLIN};
    time_t purge_next = time(NULL) + PURGE_EVERY; /* worker_run() purged */
    struct gc_schedule gc;
    struct hooks_watch hw;
    struct timespec wait;
    sigset_t idle;
    struct req r;
    int rc, fl, ms;

    if (wait_setup(listen_fd, &idle, &fl))
        return -1;
    if (req_open(&r, listen_fd, st, cfg, rules_get(&ws->access)))
        return -1;
    gc_schedule_init(&gc, cfg);
    hooks_watch_init(&hw, cfg, st);
    hooks_watch_check(&hw);
    while (!worker_stopping) {
        if (worker_reload) {
            worker_reload = 0;
            rules_check(&ws->access, 1);
            rules_check(&ws->policy, 1);
            rules_check(&ws->mirror, 1);
        }
        /* an idle worker wakes to look at the GC schedule too */
        ms = gc_schedule_timeout(&gc);
        /* and to look that the webhooks' sender runs */
        if (hooks_watch_timeout(&hw) >= 0 &&
            (ms < 0 || hooks_watch_timeout(&hw) < ms))
            ms = hooks_watch_timeout(&hw);
        wait.tv_sec = ms / 1000;
        wait.tv_nsec = (long)(ms % 1000) * 1000000;
        rc = ppoll(&pfd, 1, ms < 0 ? NULL : &wait, &idle);
        if (rc < 0 && errno != EINTR) {
            log_err("cannot wait for connections: %s", strerror(errno));
            break;
        }
        if (rc == 0) {
            gc_schedule_check(&gc, st);
            hooks_watch_check(&hw);
        }
        if (rc <= 0)
            continue; /* a signal: the loop condition decides */
        rc = req_accept(&r);
        if (rc == -EAGAIN || rc == -EWOULDBLOCK || rc == -EINTR)
            continue; /* another worker took it */
        if (rc < 0)
            break; /* logged */
        rules_check(&ws->access, 0);
        rules_check(&ws->policy, 0);
        rules_check(&ws->mirror, 0);
        r.policy = rules_get(&ws->access);
        r.rules = rules_get(&ws->policy);
        r.mirror = rules_get(&ws->mirror);
        router_dispatch(&r);
        req_finish(&r);
        store_trim(st);
        gc_schedule_check(&gc, st);
        hooks_watch_check(&hw);
        purge_sessions(st, cfg, &purge_next);
    }
    hooks_watch_release(&hw);
    req_close(&r);
    return 0;
}

int worker_run(int listen_fd, const struct config *cfg,
               const struct auth_policy *policy, int ready_fd)
{
    struct store_options opt;
    struct watches ws;
    struct store *st = NULL;
    int rc, purged = 0;

    log_level = cfg->log_level;
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
    rules_init(&ws.access, cfg->access, "access rules", access_load,
               access_free, policy);
    /* berth-fcgi read it before: a worker that cannot has no fallback */
    rules_init(&ws.policy, cfg->policy, "policy rules", policy_load_any,
               policy_free_any, NULL);
    rules_init(&ws.mirror, cfg->mirror, "mirror rules", mirror_load_any,
               mirror_free_any, NULL);
    /* the store holds immutable tags in the transactions that would move
     * or remove them: no push or delete at the same moment gets past */
    store_set_tag_guard(st, tag_fixed, &ws.policy);
    /*
     * Without the file the registry serves on, and /metrics answers 500.
     * Before the worker says it is ready: one that is still opening it
     * when the next worker starts waits for connections behind it, and
     * the kernel then gives the first one nearly every connection.
     */
    if (cfg->metrics)
        metrics_open(cfg->root);
    log_debug("worker ready");
    if (ready_fd >= 0) {
        /* the one who waits sees the end of the pipe if this fails */
        if (write(ready_fd, "", 1) != 1)
            log_err("cannot say that the worker is ready: %s", strerror(errno));
        close(ready_fd);
    }
    rc = serve(listen_fd, st, cfg, &ws);
    metrics_close();
    rules_release(&ws.access);
    rules_release(&ws.policy);
    rules_release(&ws.mirror);
    mirror_clients_free();
    store_close(st);
    return rc ? 1 : 0;
}

int worker_unavailable(int listen_fd, const char *why, const char *config_path,
                       char *const argv[])
{
    /* no store, no rules, no settings: nothing but the error is sent */
    static const struct config none;
    struct pollfd pfd = {listen_fd, POLLIN, 0};
    struct timespec second = {1, 0};
    struct file_id was, now;
    struct req r;
    sigset_t idle;
    int fl, rc;

    if (wait_setup(listen_fd, &idle, &fl))
        return 1;
    if (req_open(&r, listen_fd, NULL, &none, NULL))
        return 1;
    file_id_get(config_path, &was);
    while (!worker_stopping) {
        file_id_get(config_path, &now);
        if (worker_reload || !file_id_eq(&was, &now)) {
            log_info("config '%s' changed: starting again", config_path);
            req_close(&r);
            if (fcntl(listen_fd, F_SETFL, fl) < 0)
                log_err("cannot reset the listen socket: %s", strerror(errno));
            execv("/proc/self/exe", argv);
            log_err("cannot start again: %s", strerror(errno));
            return 1;
        }
        rc = ppoll(&pfd, 1, &second, &idle);
        if (rc < 0 && errno != EINTR) {
            log_err("cannot wait for connections: %s", strerror(errno));
            break;
        }
        if (rc <= 0)
            continue;
        rc = req_accept(&r);
        if (rc == -EAGAIN || rc == -EWOULDBLOCK || rc == -EINTR)
            continue;
        if (rc < 0)
            break; /* logged */
        req_fail(&r, OCI_UNAVAILABLE, "berth cannot serve: %s", why);
        if (resp_error(&r))
            log_debug("the error answer did not go out");
        req_finish(&r);
    }
    req_close(&r);
    return 0;
}
