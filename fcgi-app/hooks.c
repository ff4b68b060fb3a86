#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "fcgi-app/hooks.h"
#include "hooks/hooks.h"
#include "util/log.h"
#include "util/xalloc.h"

/* How often a worker looks whether the sender runs. */
#define LOOK_MS 1000

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Make the store's hooks those of the config (none without webhooks). */
static void sync_hooks(const struct config *cfg, struct store *s)
{
    const char **names = NULL;
    struct hooks *h = NULL;
    char err[PATH_MAX + 256];
    size_t i, n = 0;
    int rc;

    if (cfg->webhooks[0]) {
        if (hooks_load(cfg->webhooks, &h, err, sizeof(err))) {
            /* berth-fcgi checked it: it changed since, the sender says */
            log_warn("%s", err);
            return;
        }
        n = hooks_count(h);
        names = xcalloc(n ? n : 1, sizeof(*names));
        for (i = 0; i < n; i++)
            names[i] = hooks_get(h, i)->name;
    }
    rc = store_hooks_sync(s, names, n);
    if (rc)
        log_err("cannot record the webhooks in '%s': %s", cfg->root,
                store_strerror(rc));
    free(names);
    hooks_free(h);
}

/* Whether a worker knows of hooks it need not: then it syncs. */
static int on_any(void *ctx, const struct store_hook_info *h)
{
    (void)h;
    *(int *)ctx = 1;
    return STORE_OK;
}

static int lock_path(const struct config *cfg, const char *name, char *path)
{
    return snprintf(path, PATH_MAX, "%s/%s", cfg->root, name) < PATH_MAX ? 0
                                                                         : -1;
}

void hooks_watch_init(struct hooks_watch *w, const struct config *cfg,
                      struct store *s)
{
    char path[PATH_MAX];
    int any = 0;

    w->cfg = cfg;
    w->workers_fd = -1;
    w->next_look = 0; /* at once */
    if (!cfg->webhooks[0]) {
        /* a config that had hooks left their hold: the log's bounds
         * would never hold again */
        if (store_hooks_walk(s, on_any, &any, NULL) == STORE_OK && any)
            sync_hooks(cfg, s);
        return;
    }
    sync_hooks(cfg, s);
    if (lock_path(cfg, "hooks.workers", path))
        return;
    w->workers_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (w->workers_fd < 0 || flock(w->workers_fd, LOCK_SH)) {
        log_err("cannot lock '%s': %s", path, strerror(errno));
        if (w->workers_fd >= 0)
            close(w->workers_fd);
        w->workers_fd = -1;
    }
}

void hooks_watch_release(struct hooks_watch *w)
{
    if (w->workers_fd >= 0)
        close(w->workers_fd);
    w->workers_fd = -1;
}

int hooks_watch_timeout(const struct hooks_watch *w)
{
    long long wait;

    if (w->workers_fd < 0)
        return -1;
    wait = w->next_look - now_ms();
    return wait < 0 ? 0 : wait > LOOK_MS ? LOOK_MS : (int)wait;
}

/* Whether no sender holds the lock now (as gc.c's lock_free) */
static int lock_free(const struct config *cfg)
{
    char path[PATH_MAX];
    int fd, free_now;

    if (lock_path(cfg, "hooks.lock", path))
        return 0;
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return 0;
    free_now = flock(fd, LOCK_EX | LOCK_NB) == 0;
    close(fd);
    return free_now;
}

/* Start "berth-fcgi -c FILE --hooks" as a child nobody waits for. */
static void spawn_sender(const struct config *cfg)
{
    sigset_t none;
    pid_t pid;

    signal(SIGCHLD, SIG_IGN); /* the kernel reaps it */
    pid = fork();
    if (pid < 0) {
        log_err("cannot fork the webhooks' sender: %s", strerror(errno));
        return;
    }
    if (pid > 0) {
        log_debug("started the webhooks' sender %ld", (long)pid);
        return;
    }
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGCHLD, SIG_DFL);
    execl("/proc/self/exe", "berth-fcgi", "-c", cfg->file, "--hooks",
          (char *)NULL);
    log_err("cannot run '/proc/self/exe --hooks': %s", strerror(errno));
    _exit(1);
}

void hooks_watch_check(struct hooks_watch *w)
{
    long long now;

    if (w->workers_fd < 0)
        return;
    now = now_ms();
    if (now < w->next_look)
        return;
    w->next_look = now + LOOK_MS;
    if (lock_free(w->cfg))
        spawn_sender(w->cfg);
}
