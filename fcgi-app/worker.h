#ifndef BERTH_FCGI_APP_WORKER_H
#define BERTH_FCGI_APP_WORKER_H

#include <signal.h>

#include "auth/auth.h"
#include "config/conf.h"

/*
 * A worker: one single-threaded process that opens the store and serves
 * requests from the listen socket, one at a time, until SIGTERM or
 * SIGINT. SIGHUP makes it read the access file again.
 */

/*
 * Install the handler for SIGTERM and SIGINT, which sets
 * worker_stopping, and for SIGHUP, which sets worker_reload, and block
 * those signals: a worker takes them only while it waits for a
 * connection (worker.c), the supervisor with sigtimedwait() or while it
 * waits for a new worker (prefork.c). Call once, before any fork.
 */
void worker_signals(void);

/* Set when a stop signal came. */
extern volatile sig_atomic_t worker_stopping;

/* Set when SIGHUP came; whoever acts on it clears it. */
extern volatile sig_atomic_t worker_reload;

/*
 * Open the store of cfg (after fork(), as LMDB wants), drop stale upload
 * sessions, and serve listen_fd until a stop signal; requests in flight
 * are finished first. Return the exit status: 0, or 1 when the store or
 * the socket cannot be used (logged). The log level is cfg's.
 *
 * ready_fd, unless -1, is the end of a pipe to write one byte to, and
 * close, when the store is open and the worker is about to take
 * requests (prefork.c waits for it).
 *
 * The access rules are those of cfg->access (none when it is ""), which
 * the worker reads when it starts and again when the file changes: it
 * looks at the file's stat() at most once a second, between requests,
 * and a changed file is in force for the next request. policy, the rules
 * of the caller (who read the same file before), stays in force while
 * the worker cannot read the file; a file that does not read is logged
 * once per change. SIGHUP reads it at once, changed or not.
 */
int worker_run(int listen_fd, const struct config *cfg,
               const struct auth_policy *policy, int ready_fd);

/*
 * Serve listen_fd without a configuration: berth could not start, for
 * why (one line, which the caller has logged). Every request gets 503
 * UNAVAILABLE with why in its message, so that the registry's users see
 * what is wrong and a web server that spawns berth does not respawn it
 * twice a second. When the file config_path changes (its stat(), looked
 * at once a second) or SIGHUP comes, the process starts again: it
 * execs argv, and the listen socket stays open across unless it is
 * close-on-exec. Returns 0 on a stop signal, 1 when the socket cannot be
 * used or the exec fails (logged).
 */
int worker_unavailable(int listen_fd, const char *why, const char *config_path,
                       char *const argv[]);

#endif
