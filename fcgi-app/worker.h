#ifndef BERTH_FCGI_APP_WORKER_H
#define BERTH_FCGI_APP_WORKER_H

#include <signal.h>

#include "auth/auth.h"
#include "config/conf.h"

/*
 * A worker: one single-threaded process that opens the store and serves
 * requests from the listen socket, one at a time, until SIGTERM, SIGINT
 * or SIGHUP.
 */

/*
 * Install the handler for SIGTERM, SIGINT and SIGHUP, which sets
 * worker_stopping, and block those signals: a worker takes them only
 * while it waits for a connection (worker.c), the supervisor only with
 * sigtimedwait() (prefork.c). Call once, before any fork.
 */
void worker_signals(void);

/* Set when a stop signal came. */
extern volatile sig_atomic_t worker_stopping;

/*
 * Open the store of cfg (after fork(), as LMDB wants), drop stale upload
 * sessions, and serve listen_fd until a stop signal; requests in flight
 * are finished first. Return the exit status: 0, or 1 when the store or
 * the socket cannot be used (logged).
 *
 * The access rules are those of cfg->access (none when it is ""), which
 * the worker reads when it starts and again when the file changes: it
 * looks at the file's stat() at most once a second, between requests,
 * and a changed file is in force for the next request. policy, the rules
 * of the caller (who read the same file before), stays in force while
 * the worker cannot read the file; a file that does not read is logged
 * once per change.
 */
int worker_run(int listen_fd, const struct config *cfg,
               const struct auth_policy *policy);

#endif
