#ifndef BERTH_FCGI_APP_GC_H
#define BERTH_FCGI_APP_GC_H

#include "config/conf.h"
#include "store/store.h"

/*
 * berth-fcgi's own garbage collection: every gc_interval one process runs
 * store_gc() with the configuration's options. The workers take turns to
 * look whether it is due (between requests, and when idle); the one that
 * finds it due and the GC lock free starts berth-fcgi again as a child,
 * in --gc mode, which collects and exits: a worker is away from its
 * requests for the moment of a fork and an exec, and the GC process,
 * whatever becomes of it, takes nothing of the worker's with it.
 */

struct gc_schedule {
    const struct config *cfg; /* borrowed */
    long long next_look;      /* when to look again */
};

void gc_schedule_init(struct gc_schedule *g, const struct config *cfg);

/*
 * How many milliseconds an idle worker may sleep before it should call
 * gc_schedule_check(): -1 (forever) when gc_interval is off.
 */
int gc_schedule_timeout(const struct gc_schedule *g);

/*
 * Look whether a GC is due (at most once a minute, or once every
 * gc_interval when that is shorter), and if so start one. Logs failures;
 * a worker goes on serving whatever comes of it.
 */
void gc_schedule_check(struct gc_schedule *g, struct store *s);

/*
 * berth-fcgi --gc: one garbage collection of the store of cfg, logged in
 * one line at info level. Returns the exit status: 0 (collected, or
 * another GC holds the lock), 1 (the store or the retention file cannot
 * be used; logged).
 */
int gc_run(const struct config *cfg);

#endif
