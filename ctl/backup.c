#include "config.h"

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "ctl/out.h"
#include "store/store.h"
#include "util/log.h"

/*
 * berthctl backup DEST and berthctl restore SRC ROOT (store_backup(),
 * store_restore()): one summary line, or a JSON document, at the end, and
 * the blob files done of all on a terminal meanwhile.
 */

static void progress(void *ctx, long long done, long long total)
{
    out_progress(ctx, done, total);
}

/* The summary of both commands. */
static int summary(const struct ctl *c, const char *verb, const char *dir,
                   const struct store_backup_stats *st, double secs)
{
    char copied[OUT_SIZE_MAX], linked[OUT_SIZE_MAX], there[OUT_SIZE_MAX];
    char meta[OUT_SIZE_MAX], removed[OUT_SIZE_MAX];

    if (c->json)
        return out_json(json_pack(
                   "{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
                   "s:I, s:f}",
                   "command", verb, "directory", dir, "blobs",
                   (json_int_t)st->blobs, "copied", (json_int_t)st->copied,
                   "linked", (json_int_t)st->linked, "present",
                   (json_int_t)st->present, "bytes_copied",
                   (json_int_t)st->bytes_copied, "bytes_linked",
                   (json_int_t)st->bytes_linked, "bytes_present",
                   (json_int_t)st->bytes_present, "removed",
                   (json_int_t)st->pruned, "bytes_removed",
                   (json_int_t)st->bytes_pruned, "meta_bytes",
                   (json_int_t)st->meta_bytes, "seconds", secs))
                   ? CTL_UNUSABLE
                   : CTL_OK;
    out_size(st->bytes_copied, copied);
    out_size(st->bytes_linked, linked);
    out_size(st->bytes_present, there);
    out_size(st->meta_bytes, meta);
    out_size(st->bytes_pruned, removed);
    printf("%s %lld blob%s (%s copied, %s linked, %s already there) and the "
           "metadata (%s) in %.1f s",
           strcmp(verb, "backup") ? "restored" : "backed up", st->blobs,
           st->blobs == 1 ? "" : "s", copied, linked, there, meta, secs);
    if (st->pruned)
        printf("; removed %lld file%s (%s) it no longer references", st->pruned,
               st->pruned == 1 ? "" : "s", removed);
    putchar('\n');
    return CTL_OK;
}

/* --link, and the number of arguments that must follow. */
static int read_args(struct ctl *c, int argc, char **argv, int nargs,
                     int *link_ok)
{
    static const struct option opts[] = {
        {"link", no_argument, NULL, 'l'},
        {NULL, 0, NULL, 0},
    };
    int opt;

    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (opt != 'l')
            return ctl_usage(c, NULL);
        *link_ok = 1;
    }
    if (argc - optind != nargs)
        return ctl_usage(c, "%s takes %s", c->cmd->name,
                         nargs == 1 ? "one directory" : "two directories");
    return CTL_OK;
}

int cmd_backup(struct ctl *c, int argc, char **argv)
{
    struct store_backup_options o;
    struct store_backup_stats st;
    struct out_progress p;
    double t0;
    const char *dest;
    int rc;

    memset(&o, 0, sizeof(o));
    rc = read_args(c, argc, argv, 1, &o.link);
    if (rc)
        return rc;
    dest = argv[optind];
    /* a backup only reads the store */
    rc = ctl_open(c, 0);
    if (rc)
        return rc;
    out_progress_init(&p, c->progress, "copying blobs");
    o.progress = progress;
    o.ctx = &p;
    t0 = out_clock();
    rc = store_backup(c->s, dest, &o, &st);
    out_progress_end(&p);
    if (rc)
        return ctl_store_error(rc, "back up the store at '%s' to '%s'",
                               c->cfg.root, dest);
    return summary(c, "backup", dest, &st, out_clock() - t0);
}

int cmd_restore(struct ctl *c, int argc, char **argv)
{
    struct store_backup_options o;
    struct store_backup_stats st;
    struct store_options so;
    struct out_progress p;
    double t0;
    char root[PATH_MAX], cwd[PATH_MAX];
    const char *src;
    int rc;

    memset(&o, 0, sizeof(o));
    rc = read_args(c, argc, argv, 2, &o.link);
    if (rc)
        return rc;
    src = argv[optind];
    /* the store's options come from the configuration, the root not */
    if (ctl_config(c))
        return CTL_UNUSABLE;
    config_store_options(&c->cfg, &so);
    if (argv[optind + 1][0] == '/')
        snprintf(root, sizeof(root), "%s", argv[optind + 1]);
    else if (!getcwd(cwd, sizeof(cwd)) ||
             snprintf(root, sizeof(root), "%s/%s", cwd, argv[optind + 1]) >=
                 (int)sizeof(root))
        return ctl_usage(c, "cannot make '%s' an absolute path",
                         argv[optind + 1]);
    out_progress_init(&p, c->progress, "copying blobs");
    o.progress = progress;
    o.ctx = &p;
    t0 = out_clock();
    rc = store_restore(src, root, &so, &o, &st);
    out_progress_end(&p);
    if (rc)
        return ctl_store_error(rc, "restore '%s' into '%s'", src, root);
    return summary(c, "restore", root, &st, out_clock() - t0);
}
