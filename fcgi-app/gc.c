#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "fcgi-app/gc.h"
#include "fcgi-app/metrics.h"
#include "retention/retention.h"
#include "util/log.h"

/* The longest a worker goes without a look at the schedule. */
#define LOOK_EVERY 60

static long long look_every(const struct config *cfg)
{
    return cfg->gc_interval < LOOK_EVERY ? cfg->gc_interval : LOOK_EVERY;
}

void gc_schedule_init(struct gc_schedule *g, const struct config *cfg)
{
    g->cfg = cfg;
    /* workers started together look at different moments */
    g->next_look = (long long)time(NULL) + (getpid() % look_every(cfg)) + 1;
}

int gc_schedule_timeout(const struct gc_schedule *g)
{
    long long wait;

    if (g->cfg->gc_interval == CONFIG_OFF)
        return -1;
    wait = g->next_look - (long long)time(NULL);
    if (wait < 0)
        wait = 0;
    return wait > INT_MAX / 1000 ? INT_MAX : (int)(wait * 1000);
}

/*
 * Whether no GC holds the lock now. The GC process takes it itself; two
 * workers that both find it free start two, and one of them finds it
 * taken and ends at once.
 */
static int lock_free(const struct config *cfg)
{
    char path[PATH_MAX];
    int fd, free_now;

    if (snprintf(path, sizeof(path), "%s/gc.lock", cfg->root) >=
        (int)sizeof(path))
        return 0;
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return 0;
    free_now = flock(fd, LOCK_EX | LOCK_NB) == 0;
    close(fd); /* drops it again */
    return free_now;
}

/* Start "berth-fcgi -c FILE --gc" as a child that nobody waits for. */
static void spawn_gc(const struct config *cfg)
{
    pid_t pid;

    /* the worker does not wait for its children: the kernel reaps them */
    signal(SIGCHLD, SIG_IGN);
    pid = fork();
    if (pid < 0) {
        log_err("cannot fork a garbage collection: %s", strerror(errno));
        return;
    }
    if (pid > 0) {
        log_debug("started garbage collection %ld", (long)pid);
        return;
    }
    /* the child: what the worker blocked stays blocked across exec */
    {
        sigset_t none;

        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGCHLD, SIG_DFL);
        execl("/proc/self/exe", "berth-fcgi", "-c", cfg->file, "--gc",
              (char *)NULL);
        log_err("cannot run '/proc/self/exe --gc': %s", strerror(errno));
        _exit(1);
    }
}

void gc_schedule_check(struct gc_schedule *g, struct store *s)
{
    long long now = (long long)time(NULL), last;

    if (g->cfg->gc_interval == CONFIG_OFF || now < g->next_look)
        return;
    g->next_look = now + look_every(g->cfg);
    if (store_gc_last(s, &last))
        return; /* logged */
    if (now - last < g->cfg->gc_interval || !lock_free(g->cfg))
        return;
    spawn_gc(g->cfg);
}

int gc_run(const struct config *cfg)
{
    struct store_gc_options o;
    struct store_options so;
    struct store_gc_stats st;
    struct config_gc_rules *rules = NULL;
    struct store *s = NULL;
    struct timeval t0, t1;
    char err[PATH_MAX + 256];
    int rc;

    log_level = cfg->log_level;
    if (config_gc_options(cfg, &o, &rules, err, sizeof(err))) {
        log_err("garbage collection: %s", err);
        return 1;
    }
    config_store_options(cfg, &so);
    if (store_open(cfg->root, &so, &s)) {
        config_gc_rules_free(rules);
        return 1; /* logged */
    }
    gettimeofday(&t0, NULL);
    rc = store_gc(s, &o, &st);
    gettimeofday(&t1, NULL);
    store_close(s);
    config_gc_rules_free(rules);
    if (rc == STORE_LOCKED) {
        log_debug("garbage collection: %s", store_strerror(rc));
        return 0;
    }
    if (rc) {
        log_err("garbage collection of '%s' failed: %s", cfg->root,
                store_strerror(rc));
        return 1;
    }
    if (cfg->metrics && !metrics_open(cfg->root))
        metrics_gc(st.bytes);
    log_info("garbage collection: %lld tags, %lld manifests, %lld links, "
             "%lld blobs, %lld orphan files, %lld trash files, %lld upload "
             "sessions; %lld bytes freed in %.1fs",
             st.tags, st.manifests, st.links, st.blobs, st.orphans, st.trash,
             st.sessions, st.bytes,
             (double)(t1.tv_sec - t0.tv_sec) +
                 (double)(t1.tv_usec - t0.tv_usec) / 1e6);
    return 0;
}
