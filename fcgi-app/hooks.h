#ifndef BERTH_FCGI_APP_HOOKS_H
#define BERTH_FCGI_APP_HOOKS_H

#include "config/conf.h"
#include "store/store.h"

/*
 * The webhooks' sender (hooks/hooks.h): one berth-fcgi process, started
 * as "berth-fcgi -c FILE --hooks" by a worker that finds <root>/hooks.lock
 * free, as a worker starts the GC (fcgi-app/gc.c), and holding an flock()
 * of it while it runs. It reads the audit log after each hook's cursor
 * (store/hooks.c) and delivers with libcurl; a push never waits for it.
 * It ends when no worker holds <root>/hooks.workers any more (each worker
 * holds a shared flock() of it while the webhooks are on), and reads the
 * config and the webhooks file again when they change.
 */

struct hooks_watch {
    const struct config *cfg; /* borrowed */
    int workers_fd;           /* the worker's shared lock, or -1 */
    long long next_look;      /* ms, monotonic: when to look at the lock */
};

/*
 * A worker's part, once the store is open: with webhooks on, take the
 * shared lock and make the config's hooks the store's
 * (store_hooks_sync: a new hook starts at the end of the log); with them
 * off, drop what the store holds for hooks (so the audit log's bounds
 * hold again). Logs failures; the worker serves whatever comes of it.
 */
void hooks_watch_init(struct hooks_watch *w, const struct config *cfg,
                      struct store *s);
void hooks_watch_release(struct hooks_watch *w);

/* How many ms an idle worker may sleep before hooks_watch_check(): -1
 * (forever) without webhooks. */
int hooks_watch_timeout(const struct hooks_watch *w);

/* At most once a second: if the sender's lock is free, start one. */
void hooks_watch_check(struct hooks_watch *w);

/*
 * berth-fcgi --hooks: the sender, until no worker is left (fcgi-app/
 * sender.c, which links libcurl). Returns the exit status: 0 (done, or
 * another sender holds the lock), 1 (the store or the webhooks file cannot
 * be used; logged).
 */
int sender_run(const struct config *cfg);

#endif
