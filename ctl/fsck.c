#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "ctl/ctl.h"
#include "ctl/out.h"
#include "store/store.h"

/*
 * berthctl fsck: check the store (store_fsck()), and with --repair set
 * right what can be set right. Each problem is a line as it is found (or
 * an entry of the JSON document), then the summary. The exit status is 1
 * while problems remain.
 */

struct fsck_run {
    struct ctl *c;
    struct out_progress p;
    json_t *list; /* --json: the problems */
};

static const char *const kind_names[] = {
    [STORE_FSCK_BLOB_MISSING] = "blob-missing",
    [STORE_FSCK_BLOB_CORRUPT] = "blob-corrupt",
    [STORE_FSCK_ORPHAN] = "orphan",
    [STORE_FSCK_STRAY] = "stray",
    [STORE_FSCK_TRASH] = "trash",
    [STORE_FSCK_DANGLING] = "dangling",
    [STORE_FSCK_BROKEN] = "broken",
    [STORE_FSCK_COUNT] = "count",
    [STORE_FSCK_UPLOAD] = "upload",
};

static void report(void *ctx, const struct store_fsck_event *e)
{
    struct fsck_run *r = ctx;
    json_t *o;

    if (r->list) {
        o = json_pack("{s:s, s:s, s:s, s:b}", "kind", kind_names[e->kind],
                      "what", e->what, "detail", e->detail, "repaired",
                      e->repaired);
        if (e->repo)
            json_object_set_new(o, "repository", json_string(e->repo));
        json_array_append_new(r->list, o);
        return;
    }
    /* problems are what fsck is for: -q keeps them */
    out_progress_end(&r->p);
    printf("%s: %s%s%s: %s%s\n", kind_names[e->kind], e->repo ? e->repo : "",
           e->repo ? " " : "", e->what, e->detail,
           e->repaired ? " (repaired)" : "");
    fflush(stdout);
}

static void progress(void *ctx, long long done, long long total)
{
    struct fsck_run *r = ctx;

    out_progress(&r->p, done, total);
}

int cmd_fsck(struct ctl *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"repair", no_argument, NULL, 'r'},
        {NULL, 0, NULL, 0},
    };
    struct store_fsck_options o;
    struct store_fsck_stats st;
    struct fsck_run r;
    double t0;
    char size[OUT_SIZE_MAX];
    long long left;
    double secs;
    int opt, rc, status;

    memset(&o, 0, sizeof(o));
    memset(&r, 0, sizeof(r));
    r.c = c;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (opt != 'r')
            return ctl_usage(c, NULL);
        o.repair = 1;
    }
    if (optind != argc)
        return ctl_usage(c, "fsck takes no arguments");
    /* a check only reads: a read-only store is enough */
    status = ctl_open(c, o.repair);
    if (status)
        return status;
    o.report = report;
    o.progress = progress;
    o.ctx = &r;
    if (c->json)
        r.list = json_array();
    out_progress_init(&r.p, c->progress, "checking blobs");
    t0 = out_clock();
    rc = store_fsck(c->s, &o, &st);
    secs = out_clock() - t0;
    out_progress_end(&r.p);
    if (rc) {
        json_decref(r.list);
        return ctl_store_error(rc, "check the store at '%s'", c->cfg.root);
    }
    left = st.problems - st.repaired;
    if (c->json) {
        if (out_json(json_pack(
                "{s:b, s:o, s:I, s:I, s:I, s:I, s:I, s:f}", "repair", o.repair,
                "problems", r.list, "blobs", (json_int_t)st.blobs, "bytes",
                (json_int_t)st.bytes, "manifests", (json_int_t)st.manifests,
                "found", (json_int_t)st.problems, "repaired",
                (json_int_t)st.repaired, "seconds", secs)))
            return CTL_UNUSABLE;
        return left ? CTL_REFUSED : CTL_OK;
    }
    out_size(st.bytes, size);
    printf("checked %lld blob%s (%s) and %lld manifest%s in %.1f s: ", st.blobs,
           st.blobs == 1 ? "" : "s", size, st.manifests,
           st.manifests == 1 ? "" : "s", secs);
    if (!st.problems)
        printf("the store is clean\n");
    else if (!left)
        printf("%lld problem%s, all repaired\n", st.problems,
               st.problems == 1 ? "" : "s");
    else
        printf("%lld problem%s, %lld repaired, %lld left%s\n", st.problems,
               st.problems == 1 ? "" : "s", st.repaired, left,
               o.repair ? ""
                        : " (berthctl fsck --repair sets right what it can)");
    return left ? CTL_REFUSED : CTL_OK;
}
