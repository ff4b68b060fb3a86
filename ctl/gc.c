#include "config.h"

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "ctl/ctl.h"
#include "ctl/out.h"
#include "retention/retention.h"
#include "store/store.h"

/*
 * berthctl gc: one garbage collection now, with the options of the
 * configuration (config_gc_options(): gc_grace, untagged_ttl, upload_ttl,
 * the retention rules), --grace instead of gc_grace, and --dry-run. Each
 * removal is a line as it happens (or an entry of the JSON document),
 * then the summary.
 */

struct gc_run {
    struct ctl *c;
    int dry;
    struct out_progress p;
    json_t *list; /* --json: the removals */
};

static const char *const kind_names[] = {
    [STORE_GC_TAG] = "tag",          [STORE_GC_MANIFEST] = "manifest",
    [STORE_GC_LINK] = "link",        [STORE_GC_BLOB] = "blob",
    [STORE_GC_ORPHAN] = "orphan",    [STORE_GC_TRASH] = "trash",
    [STORE_GC_SESSION] = "sessions",
};

/* One removal: "removed the tag team/app:0.9 (older than 30d)". */
static void say_event(const struct gc_run *r, const struct store_gc_event *e)
{
    const char *verb = r->dry ? "would remove" : "removed";
    char size[OUT_SIZE_MAX];

    out_size(e->bytes, size);
    switch (e->kind) {
    case STORE_GC_TAG:
        printf("%s the tag %s:%s (%s)\n", verb, e->repo, e->what,
               e->why ? e->why : "the retention rules");
        break;
    case STORE_GC_MANIFEST:
        printf("%s the manifest %s@%s (%s)\n", verb, e->repo, e->what,
               e->why ? e->why : "unreachable");
        break;
    case STORE_GC_LINK:
        printf("%s the link of %s to the blob %s (no manifest uses it)\n", verb,
               e->repo, e->what);
        break;
    case STORE_GC_BLOB:
        printf("%s the blob %s (%s, no repository links it)\n", verb, e->what,
               size);
        break;
    case STORE_GC_ORPHAN:
        printf("%s the file blobs/%s (%s, without a record)\n", verb, e->what,
               size);
        break;
    case STORE_GC_TRASH:
        printf("%s the file trash/%s (%s, left by a crash)\n", verb, e->what,
               size);
        break;
    case STORE_GC_SESSION:
        printf("%s %s upload session%s (older than upload_ttl)\n", verb,
               e->what, strcmp(e->what, "1") ? "s" : "");
        break;
    }
}

static void report(void *ctx, const struct store_gc_event *e)
{
    struct gc_run *r = ctx;
    json_t *o;

    if (r->list) {
        o = json_pack("{s:s, s:s, s:I, s:I}", "kind", kind_names[e->kind],
                      "what", e->what, "count", (json_int_t)e->count, "bytes",
                      (json_int_t)e->bytes);
        if (e->repo)
            json_object_set_new(o, "repository", json_string(e->repo));
        if (e->why)
            json_object_set_new(o, "why", json_string(e->why));
        json_array_append_new(r->list, o);
        return;
    }
    if (r->c->quiet)
        return;
    out_progress_end(&r->p); /* the line starts clean; progress redraws */
    say_event(r, e);
    fflush(stdout);
}

static void progress(void *ctx, long long done, long long total)
{
    struct gc_run *r = ctx;

    out_progress(&r->p, done, total);
}

static const char *plural(long long n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

/* "removed 2 tags, ...: 1.0 MiB freed in 0.3 s" */
static void say_summary(const struct gc_run *r, const struct store_gc_stats *st,
                        double secs)
{
    char size[OUT_SIZE_MAX];

    out_size(st->bytes, size);
    printf("%s %lld %s, %lld %s, %lld blob %s, %lld %s, %lld orphan %s, "
           "%lld trash %s, %lld upload %s: %s%s %s in %.1f s\n",
           r->dry ? "would remove" : "removed", st->tags,
           plural(st->tags, "tag", "tags"), st->manifests,
           plural(st->manifests, "manifest", "manifests"), st->links,
           plural(st->links, "link", "links"), st->blobs,
           plural(st->blobs, "blob", "blobs"), st->orphans,
           plural(st->orphans, "file", "files"), st->trash,
           plural(st->trash, "file", "files"), st->sessions,
           plural(st->sessions, "session", "sessions"),
           r->dry ? "at least " : "", size, r->dry ? "would be freed" : "freed",
           secs);
}

static int say_json(struct gc_run *r, const struct store_gc_options *o,
                    const struct store_gc_stats *st, double secs)
{
    json_t *doc = json_pack(
        "{s:b, s:I, s:o, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I}, s:I, s:f}",
        "dry_run", r->dry, "grace", (json_int_t)o->grace, "removed", r->list,
        "counts", "tags", (json_int_t)st->tags, "manifests",
        (json_int_t)st->manifests, "links", (json_int_t)st->links, "blobs",
        (json_int_t)st->blobs, "orphans", (json_int_t)st->orphans, "trash",
        (json_int_t)st->trash, "sessions", (json_int_t)st->sessions, "freed",
        (json_int_t)st->bytes, "seconds", secs);

    r->list = NULL; /* the document took it */
    return out_json(doc) ? CTL_UNUSABLE : CTL_OK;
}

int cmd_gc(struct ctl *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"dry-run", no_argument, NULL, 'n'},
        {"grace", required_argument, NULL, 'g'},
        {NULL, 0, NULL, 0},
    };
    char err[PATH_MAX + 256];
    struct store_gc_options o;
    struct store_gc_stats st;
    struct config_gc_rules *rules;
    struct gc_run r;
    double t0;
    long long grace = -1;
    double secs;
    int opt, rc, status;

    memset(&r, 0, sizeof(r));
    r.c = c;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (opt == 'n')
            r.dry = 1;
        else if (opt == 'g' && !config_parse_duration(optarg, &grace))
            ;
        else if (opt == 'g')
            return ctl_usage(c,
                             "--grace takes a duration (90s, 30m, 2h, "
                             "7d), not '%s'",
                             optarg);
        else
            return ctl_usage(c, NULL);
    }
    if (optind != argc)
        return ctl_usage(c, "gc takes no arguments");
    /* a dry run changes nothing: a read-only store is enough */
    status = ctl_open(c, !r.dry);
    if (status)
        return status;
    if (config_gc_options(&c->cfg, &o, &rules, err, sizeof(err))) {
        ctl_error("%s", err);
        return CTL_UNUSABLE;
    }
    if (grace >= 0)
        o.grace = grace;
    o.dry_run = r.dry;
    o.report = report;
    o.progress = progress;
    o.ctx = &r;
    if (c->json)
        r.list = json_array();
    out_progress_init(&r.p, c->progress,
                      r.dry ? "looking for garbage" : "collecting garbage");
    t0 = out_clock();
    rc = store_gc(c->s, &o, &st);
    secs = out_clock() - t0;
    out_progress_end(&r.p);
    config_gc_rules_free(rules);
    if (rc) {
        json_decref(r.list);
        return ctl_store_error(rc, "collect garbage in '%s'", c->cfg.root);
    }
    if (c->json)
        return say_json(&r, &o, &st, secs);
    say_summary(&r, &st, secs);
    return CTL_OK;
}
