#ifndef BERTH_FCGI_APP_PREFORK_H
#define BERTH_FCGI_APP_PREFORK_H

#include "auth/auth.h"
#include "config/conf.h"

/*
 * Start n workers on listen_fd (worker_run()), start again any that
 * dies, and on a stop signal pass it on and wait until every worker has
 * finished its request and exited. Call after worker_signals(). Return
 * the exit status: 0, or 1 when workers could not be started.
 *
 * On SIGHUP, read cfg->file and its access file again; if both are
 * valid, replace the workers one by one with workers that use them, each
 * new one taking requests before an old one is told to finish (SIGTERM:
 * it finishes its request in flight). Invalid ones are logged, and the
 * workers serve on with what they have. cfg and policy are borrowed
 * until prefork_run() returns.
 */
int prefork_run(int listen_fd, int n, const struct config *cfg,
                const struct auth_policy *policy);

#endif
