#ifndef BERTH_CTL_CTL_H
#define BERTH_CTL_CTL_H

#include "config/conf.h"

/*
 * berthctl, the administration tool: main.c reads the options before the
 * command, finds the command in its table and runs it; each command is
 * cmd_<name>() in ctl/<name>.c (or a file of its group), which reads
 * its own arguments, opens the store with ctl_open(), and returns the
 * exit status.
 *
 * Adding a command: its file (and the file in Makefile.am's
 * berthctl_SOURCES), its declaration below, and its row in main.c's
 * table.
 */

/* The exit statuses (berthctl(8), EXIT STATUS). */
#define CTL_OK       0
#define CTL_REFUSED  1 /* something refused or not found */
#define CTL_USAGE    2 /* an unknown command or option, a bad argument */
#define CTL_UNUSABLE 3 /* the configuration or the store cannot be used */
#define CTL_LOCKED   4 /* gc, backup: another GC or backup is running */

struct store;
struct command;

/* One run of berthctl: its options, and its store once opened. */
struct ctl {
    const struct command *cmd;
    const char *config; /* -c, or config_default_path */
    int json;           /* --json */
    int quiet;          /* -q */
    int progress;       /* show progress: stderr is a terminal, no --json, -q */
    struct config cfg;  /* read by ctl_open() */
    struct store *s;    /* opened by ctl_open(); closed by main() */
    /*
     * STORE_* flags ctl_open() adds to the configuration's: a command
     * that writes much and can write it all again (import-registry)
     * commits with STORE_SYNC_DATA, and flushes once at the end
     */
    unsigned open_flags;
    /*
     * ctl_open() for writing found the storage root of
     * another format, and the read-write open brought it to this build's
     */
    int upgraded;
};

/*
 * A command: argv[0] is "berthctl <name>" (for getopt_long()'s messages;
 * optind is reset), the arguments follow. It returns a CTL_* status.
 */
typedef int command_fn(struct ctl *c, int argc, char **argv);

struct command {
    const char *name;
    const char *usage; /* "rm [--yes] REF..." */
    const char *help;  /* one line for --help */
    command_fn *fn;
};

command_fn cmd_ls, cmd_du, cmd_rm, cmd_gc, cmd_fsck, cmd_readonly, cmd_upgrade,
    cmd_backup, cmd_restore;
command_fn cmd_log;    /* ctl/log.c */
command_fn cmd_events; /* ctl/events.c */
/* ctl/oci.c */
command_fn cmd_export, cmd_import_oci;
command_fn cmd_import_registry; /* ctl/import.c */

struct store_repo_info;

/*
 * Every repository the store knows (store_repos_walk()), in byte order of
 * name: *n of them in *out, which the caller free()s. Returns the codes of
 * store_repos_walk(). (ctl/ls.c)
 */
int ls_repos(struct store *s, struct store_repo_info **out, size_t *n);

/*
 * Read the configuration into c->cfg and set the log level from it (-q
 * keeps it at warnings). Returns CTL_OK, or CTL_UNUSABLE after saying why.
 * A command that opens no store of the configuration's (restore) calls it
 * alone.
 */
int ctl_config(struct ctl *c);

/*
 * Read the configuration and open its store, read-write if write is
 * non-zero, else STORE_RDONLY. A read-write open never makes a store
 * where there is none. Returns CTL_OK, or CTL_UNUSABLE after saying why.
 */
int ctl_open(struct ctl *c, int write);

/* "berthctl: <message>" on stderr. */
void ctl_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * "berthctl: <message>" (when fmt is not NULL) and the command's usage
 * line on stderr; returns CTL_USAGE.
 */
int ctl_usage(const struct ctl *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * After a store call failed with rc: say so ("berthctl: cannot <what>:
 * <reason>"), and return the exit status it means: CTL_REFUSED for
 * STORE_NOTFOUND and STORE_IN_USE, CTL_LOCKED for STORE_LOCKED (another
 * GC or a backup), otherwise CTL_UNUSABLE (the store has logged the details).
 */
int ctl_store_error(int rc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
