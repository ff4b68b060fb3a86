#include "config.h"

#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/auth.h"
#include "config/conf.h"
#include "fcgi-app/gc.h"
#include "fcgi-app/hooks.h"
#include "hooks/hooks.h"
#include "fcgi-app/prefork.h"
#include "fcgi-app/request.h"
#include "fcgi-app/worker.h"
#include "util/log.h"

#define MAX_WORKERS 256

struct options {
    const char *config;
    const char *listen; /* NULL: the listen socket is fd 0 */
    int workers;        /* 0: the default for the mode */
    int check_only;
    int print;     /* -T: print the configuration */
    int gc;        /* --gc: collect garbage once and exit */
    int hooks;     /* --hooks: the webhooks' sender (fcgi-app/hooks.h) */
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
            "  -T, --print-config  check it, print every key's value "
            "(defaults too)\n"
            "                      as a config file, and exit\n"
            "      --gc            collect garbage once, as the workers do "
            "every\n"
            "                      gc_interval, and exit\n"
            "      --hooks         deliver the webhooks' events, as a worker "
            "starts it\n"
            "                      to, until no worker is left\n"
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
        {"print-config", no_argument, NULL, 'T'},
        {"gc", no_argument, NULL, 'G'},
        {"hooks", no_argument, NULL, 'H'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    char *end;
    long n;
    int c;

    memset(o, 0, sizeof(*o));
    o->config = config_default_path;
    while ((c = getopt_long(argc, argv, "c:l:w:tThV", longopts, NULL)) != -1) {
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
        case 'T':
            o->check_only = o->print = 1;
            break;
        case 'G':
            o->gc = 1;
            break;
        case 'H':
            o->hooks = 1;
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
 * Open the socket to serve: --listen's, systemd's (fd 3), or the one the
 * web server or spawn-fcgi passed as fd 0. Returns it, or -1 (said).
 */
static int listen_socket(const struct options *o)
{
    int fd;

    if (o->listen) {
        fd = req_listen(o->listen);
        if (fd < 0)
            fprintf(stderr, "berth-fcgi: cannot listen on '%s'\n", o->listen);
        return fd;
    }
    if (o->activated) {
        fcntl(3, F_SETFD, FD_CLOEXEC); /* SD_LISTEN_FDS_START */
        return 3;
    }
    if (!req_fd0_listens()) {
        fprintf(stderr,
                "berth-fcgi: fd 0 is not a FastCGI socket: start me from "
                "the web server or spawn-fcgi, or give --listen\n");
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct auth_policy *policy = NULL;
    char err[PATH_MAX + 256];
    struct config cfg;
    struct options o;
    int listen_fd, rc, broken;

    if (parse_options(argc, argv, &o))
        return 2;
    /*
     * A bad access or policy file stops the start as a bad config does;
     * the workers read them again when they change, and keep the rules
     * in force while they do not read.
     */
    broken = config_load(o.config, &cfg, err, sizeof(err)) ||
             config_check_root(&cfg, err, sizeof(err));
    if (!broken && cfg.access[0] &&
        auth_policy_load(cfg.access, &policy, err, sizeof(err))) {
        size_t len = strlen(err);

        snprintf(err + len, sizeof(err) - len, " (config '%s')", cfg.file);
        broken = 1;
    }
    /* the workers read the policy file themselves: here it is checked */
    if (!broken && cfg.policy[0] &&
        policy_check(cfg.policy, err, sizeof(err))) {
        size_t len = strlen(err);

        snprintf(err + len, sizeof(err) - len, " (config '%s')", cfg.file);
        broken = 1;
    }
    /* and so is the pull-through cache's rules file */
    if (!broken && cfg.mirror[0] &&
        mirror_check(cfg.mirror, err, sizeof(err))) {
        size_t len = strlen(err);

        snprintf(err + len, sizeof(err) - len, " (config '%s')", cfg.file);
        broken = 1;
    }
    /* the sender reads the webhooks file itself: here it is checked */
    if (!broken && cfg.webhooks[0] &&
        hooks_check(cfg.webhooks, err, sizeof(err))) {
        size_t len = strlen(err);

        snprintf(err + len, sizeof(err) - len, " (config '%s')", cfg.file);
        broken = 1;
    }
    /*
     * Serving fd 0 (a web server or spawn-fcgi started it), berth serves
     * the error instead of exiting, which a web server would answer with
     * a respawn twice a second; with --listen or under systemd it says it
     * and exits, and whoever started it sees that.
     */
    if (broken &&
        (o.gc || o.hooks || o.check_only || o.listen || o.activated)) {
        fprintf(stderr, "berth-fcgi: %s\n", err);
        return 1;
    }
    if (!broken)
        log_level = cfg.log_level;
    if (o.gc) {
        auth_policy_free(policy);
        return gc_run(&cfg);
    }
    if (o.hooks) {
        auth_policy_free(policy);
        return sender_run(&cfg);
    }
    if (o.check_only) {
        auth_policy_free(policy);
        if (!o.print) {
            printf("berth-fcgi: config '%s' is valid\n", cfg.file);
            return 0;
        }
        printf("# berth-fcgi %s: the configuration read from '%s'\n\n",
               PACKAGE_VERSION, cfg.file);
        config_print(&cfg, stdout);
        return fflush(stdout) || ferror(stdout) ? 1 : 0;
    }
    listen_fd = listen_socket(&o);
    if (listen_fd < 0) {
        if (broken)
            fprintf(stderr, "berth-fcgi: %s\n", err);
        auth_policy_free(policy);
        return 1;
    }
    worker_signals();
    if (broken) {
        /*
         * Said once, then every request says it: a web server that spawns
         * berth would respawn it twice a second if it exited.
         */
        log_err("%s: every request gets 503 until the config is fixed", err);
        return worker_unavailable(listen_fd, err, o.config, argv);
    }
    log_info("berth %s serving '%s' with %d worker%s", PACKAGE_VERSION,
             cfg.root, o.workers, o.workers == 1 ? "" : "s");
    if (o.workers == 1 && !o.listen && !o.activated)
        rc = worker_run(listen_fd, &cfg, policy, -1);
    else
        rc = prefork_run(listen_fd, o.workers, &cfg, policy);
    auth_policy_free(policy);
    return rc;
}
