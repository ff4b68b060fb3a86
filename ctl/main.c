#include "config.h"

#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "config/conf.h"
#include "store/store.h"
#include "util/log.h"
#include "util/xalloc.h"

/* The commands, in the order of --help. */
static const struct command commands[] = {
    {"ls", "ls [REPO]", "the repositories, or the tags of REPO", cmd_ls},
    {"du", "du [REPO...]", "bytes per repository: total, and unique", cmd_du},
    {"rm", "rm [--yes] REF...",
     "untag REPO:TAG, delete REPO@DIGEST, or all of REPO", cmd_rm},
    {"gc", "gc [--dry-run] [--grace DURATION]",
     "collect garbage now: what nothing reachable uses", cmd_gc},
    {"log", "log [--user U] [--repo R] [--since T] [--limit N]",
     "the audit log: pushes, deletions, refused requests", cmd_log},
    {"events",
     "events [--dead] [--retry ID|--retry-all] [--drop ID|--drop-all] "
     "[--hook NAME]",
     "the webhooks: each hook's progress, its dead letters", cmd_events},
    {"fsck", "fsck [--repair]", "check the store; repair what can be set right",
     cmd_fsck},
    {"readonly", "readonly [on|off]",
     "maintenance mode: print it, or turn it on or off", cmd_readonly},
    {"upgrade", "upgrade", "bring the storage root to this berth's format",
     cmd_upgrade},
    {"backup", "backup [--link] DEST",
     "copy the store, online, to DEST (incremental)", cmd_backup},
    {"restore", "restore [--link] SRC ROOT",
     "make the storage root ROOT from the backup in SRC", cmd_restore},
    {"export", "export REF... DIR",
     "write images and their referrers to the OCI layout DIR", cmd_export},
    {"import-oci", "import-oci [--repo REPO] DIR",
     "import the images of the OCI layout DIR", cmd_import_oci},
    {"import-registry", "import-registry [--dry-run] [--link] DIR",
     "import a reference registry's storage under DIR", cmd_import_registry},
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
    size_t i;

    fprintf(f,
            "usage: berthctl [-c FILE] [--json] [-q] COMMAND [ARGS]\n"
            "\n"
            "  -c, --config FILE   configuration (default %s)\n"
            "      --json          one JSON document on stdout instead of "
            "text\n"
            "  -q, --quiet         no progress display, only the summary "
            "line and errors\n"
            "  -h, --help          print this and exit\n"
            "  -V, --version       print the version and exit\n"
            "\n"
            "commands:\n",
            config_default_path);
    for (i = 0; i < N_COMMANDS; i++)
        /* a usage too long for its column gets a line of its own */
        if (strlen(commands[i].usage) > 20)
            fprintf(f, "  %s\n  %-20s %s\n", commands[i].usage, "",
                    commands[i].help);
        else
            fprintf(f, "  %-20s %s\n", commands[i].usage, commands[i].help);
    fprintf(
        f,
        "\n"
        "REF is REPO:TAG, REPO@DIGEST or REPO. Exit status: 0 done, "
        "1 refused or not\n"
        "found (fsck: problems left), 2 usage, 3 the configuration or "
        "the store\ncannot be used, 4 another garbage collection (or backup) "
        "is running.\n");
}

void ctl_error(const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fprintf(stderr, "berthctl: %s\n", msg);
}

int ctl_usage(const struct ctl *c, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    if (fmt) {
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        fprintf(stderr, "berthctl: %s\n", msg);
    }
    fprintf(stderr, "usage: berthctl %s\n", c->cmd->usage);
    return CTL_USAGE;
}

int ctl_store_error(int rc, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fprintf(stderr, "berthctl: cannot %s: %s\n", msg, store_strerror(rc));
    if (rc == STORE_NOTFOUND || rc == STORE_IN_USE)
        return CTL_REFUSED;
    return rc == STORE_LOCKED ? CTL_LOCKED : CTL_UNUSABLE;
}

/*
 * Point stderr at /dev/null; returns what restore_stderr() needs, or -1
 * if it could not (stderr is then as it was).
 */
static int quiet_stderr(void)
{
    int saved, fd;

    fflush(stderr);
    saved = dup(STDERR_FILENO);
    fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (saved < 0 || fd < 0 || dup2(fd, STDERR_FILENO) < 0) {
        if (saved >= 0)
            close(saved);
        saved = -1;
    }
    if (fd >= 0)
        close(fd);
    return saved;
}

static void restore_stderr(int saved)
{
    if (saved < 0)
        return;
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
}

/*
 * Open the store at root as o says; on failure, say so after what the
 * store logged.
 */
static int open_store(const struct ctl *c, const struct store_options *o,
                      struct store **out)
{
    struct passwd *pw;
    char uid[32];
    int rc = store_open(c->cfg.root, o, out);

    if (rc == STORE_OK) {
        /* what berthctl changes is the Unix user's in the audit log */
        pw = getpwuid(getuid());
        snprintf(uid, sizeof(uid), "uid %ld", (long)getuid());
        store_set_actor(*out, pw ? pw->pw_name : uid, "local");
        return CTL_OK;
    }
    /* STORE_VERSION: the store's line said which way, and what to do */
    ctl_error("cannot open the store at '%s' (config '%s'): %s", c->cfg.root,
              c->cfg.file,
              rc == STORE_VERSION ? "its format is not this berth's"
                                  : store_strerror(rc));
    return CTL_UNUSABLE;
}

int ctl_config(struct ctl *c)
{
    char err[PATH_MAX + 256];

    if (config_load(c->config, &c->cfg, err, sizeof(err))) {
        ctl_error("%s", err);
        return CTL_UNUSABLE;
    }
    log_level = c->cfg.log_level;
    if (c->quiet && log_level > LOG_LVL_WARN)
        log_level = LOG_LVL_WARN;
    return CTL_OK;
}

int ctl_open(struct ctl *c, int write)
{
    struct store_options o, ro;
    int saved, probe;

    if (ctl_config(c))
        return CTL_UNUSABLE;
    config_store_options(&c->cfg, &o);
    ro = o;
    ro.flags |= STORE_RDONLY;
    o.flags |= c->open_flags;
    /*
     * A read-only open first, without the store's lines: it tells a root
     * that holds no store (which a read-write open would make, at a
     * mistyped path) and one of an older format (which the read-write
     * open upgrades, so the read-only open's advice to upgrade is noise).
     */
    saved = quiet_stderr();
    probe = store_open(c->cfg.root, &ro, &c->s);
    restore_stderr(saved);
    if (probe == STORE_NOTFOUND) {
        ctl_error("no store at '%s', the root that '%s' names", c->cfg.root,
                  c->cfg.file);
        return CTL_UNUSABLE;
    }
    if (!write)
        return probe == STORE_OK ? CTL_OK : open_store(c, &ro, &c->s);
    store_close(c->s);
    c->s = NULL;
    if (open_store(c, &o, &c->s))
        return CTL_UNUSABLE;
    c->upgraded = probe != STORE_OK;
    return CTL_OK;
}

static int parse_options(int argc, char **argv, struct ctl *c)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"json", no_argument, NULL, 'j'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int o;

    /* "+": the options end at the command, whose own follow it */
    while ((o = getopt_long(argc, argv, "+c:qhV", longopts, NULL)) != -1) {
        switch (o) {
        case 'c':
            c->config = optarg;
            break;
        case 'j':
            c->json = 1;
            break;
        case 'q':
            c->quiet = 1;
            break;
        case 'h':
            usage(stdout);
            return 1;
        case 'V':
            printf("berthctl %s\n", PACKAGE_VERSION);
            return 1;
        default:
            usage(stderr);
            return -1;
        }
    }
    return 0;
}

/* Whether args holds -h or --help before a "--". */
static int wants_help(int argc, char **argv)
{
    int i;

    for (i = 1; i < argc && strcmp(argv[i], "--"); i++)
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
            return 1;
    return 0;
}

/* An option of berthctl's own among args (before a "--"), or NULL. */
static const char *misplaced(int argc, char **argv)
{
    static const char *const global[] = {
        "-c", "--config", "--json", "-q", "--quiet", "-V", "--version"};
    size_t j, len;
    int i;

    for (i = 1; i < argc && strcmp(argv[i], "--"); i++)
        for (j = 0; j < sizeof(global) / sizeof(global[0]); j++) {
            len = strlen(global[j]);
            if (!strncmp(argv[i], global[j], len) &&
                (!argv[i][len] || (global[j][1] == '-' && argv[i][len] == '=')))
                return global[j];
        }
    return NULL;
}

int main(int argc, char **argv)
{
    struct ctl c;
    const char *opt;
    char name[64];
    char **args;
    size_t i;
    int rc, nargs;

    /* jansson's allocations, as berth's own, cannot fail (xalloc.h) */
    json_set_alloc_funcs(xmalloc, free);
    memset(&c, 0, sizeof(c));
    c.config = config_default_path;
    rc = parse_options(argc, argv, &c);
    if (rc)
        return rc < 0 ? CTL_USAGE : CTL_OK;
    if (optind == argc) {
        usage(stderr);
        return CTL_USAGE;
    }
    for (i = 0; i < N_COMMANDS && strcmp(commands[i].name, argv[optind]); i++)
        ;
    if (i == N_COMMANDS) {
        ctl_error("'%s' is not a command; see 'berthctl --help'", argv[optind]);
        return CTL_USAGE;
    }
    c.cmd = &commands[i];
    c.progress = !c.json && !c.quiet && isatty(STDERR_FILENO);
    args = argv + optind;
    nargs = argc - optind;
    if (wants_help(nargs, args)) {
        printf("usage: berthctl %s\n\n%s\n", c.cmd->usage, c.cmd->help);
        return CTL_OK;
    }
    opt = misplaced(nargs, args);
    if (opt)
        return ctl_usage(&c, "%s goes before the command: berthctl %s %s ...",
                         opt, opt, c.cmd->name);
    /* the command's getopt_long() names it in its messages */
    snprintf(name, sizeof(name), "berthctl %s", c.cmd->name);
    args[0] = name;
    optind = 0; /* glibc: start getopt_long() afresh */
    rc = c.cmd->fn(&c, nargs, args);
    store_close(c.s);
    if (fflush(stdout) || ferror(stdout)) {
        ctl_error("cannot write the output: %m");
        return CTL_UNUSABLE;
    }
    return rc;
}
