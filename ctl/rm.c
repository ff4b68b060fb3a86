#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "ctl/out.h"
#include "store/store.h"
#include "util/xalloc.h"

/*
 * berthctl rm: untag (REPO:TAG), delete a manifest and its tags, or a
 * blob's link (REPO@DIGEST), or a whole repository (REPO). What a live
 * index or manifest of the repository still uses is refused by the store
 * (STORE_IN_USE), which names the user; the space of what nothing uses
 * any more comes back with garbage collection, but for the blobs of a
 * repository deleted whole that no other repository links, which go at
 * once.
 */

/* What became of one REF. */
struct rm_result {
    const char *ref;
    const char *what; /* "tag", "manifest", "blob", "repository", or for
                         a digest not found "manifest or blob" */
    int removed;
    const char *error; /* when not removed: "not found", "in use" */
    char used_by[NAME_MAX_LEN + DIGEST_STR_MAX + 2]; /* REPO@DIGEST */
    struct store_repo_info ri; /* a repository: what it held */
    long long freed;           /* a repository: its unique bytes */
};

static const char *describe(const struct ref *r)
{
    switch (r->kind) {
    case REF_TAG:
        return "the tag";
    case REF_DIGEST:
        return "the manifest (and its tags) or blob";
    default:
        return "the whole repository";
    }
}

/* Ask on the terminal; 1 if the answer is yes. */
static int confirm(char **refs, const struct ref *parsed, int n)
{
    int i;

    fprintf(stderr, "berthctl rm will remove:\n");
    for (i = 0; i < n; i++)
        fprintf(stderr, "  %s %s\n", describe(&parsed[i]), refs[i]);
    return out_ask(n == 1 ? "remove it?" : "remove them?");
}

static void used_by(struct rm_result *res, const char *repo,
                    const struct digest *d)
{
    char dstr[DIGEST_STR_MAX];

    digest_format(d, dstr);
    snprintf(res->used_by, sizeof(res->used_by), "%s@%s", repo, dstr);
}

static void repo_progress(void *ctx, long long done, long long total)
{
    out_progress(ctx, done, total);
}

/*
 * Remove the repository r->repo, whose record is in all (n of them, in
 * byte order, or NULL).
 */
static int rm_repo(struct ctl *c, const struct ref *r,
                   const struct store_repo_info *all, size_t n,
                   struct rm_result *res)
{
    char what[NAME_MAX_LEN + 32];
    struct out_progress p;
    struct store_usage u;
    size_t i;
    int rc;

    res->what = "repository";
    for (i = 0; i < n && strcmp(all[i].name, r->repo); i++)
        ;
    if (i == n)
        return STORE_NOTFOUND;
    res->ri = all[i];
    rc = store_repo_usage(c->s, r->repo, &u);
    if (rc)
        return rc;
    res->freed = u.unique;
    snprintf(what, sizeof(what), "deleting '%s'", r->repo);
    out_progress_init(&p, c->progress, what);
    rc = store_repo_delete(c->s, r->repo, repo_progress, &p);
    out_progress_end(&p);
    return rc;
}

static int rm_one(struct ctl *c, const struct ref *r,
                  const struct store_repo_info *all, size_t n,
                  struct rm_result *res)
{
    struct store_manifest_info info;
    struct digest user;
    int rc;

    switch (r->kind) {
    case REF_TAG:
        res->what = "tag";
        return store_tag_delete(c->s, r->repo, r->tag);
    case REF_DIGEST:
        /*
         * A manifest, or a blob? Asked first: store_manifest_delete()
         * looks for users before it looks for the manifest, and so says
         * STORE_IN_USE of a blob that a manifest uses.
         */
        rc = store_manifest_get(c->s, r->repo, NULL, &r->digest, NULL, &info);
        if (rc && rc != STORE_NOTFOUND)
            return rc;
        if (rc == STORE_OK) {
            res->what = "manifest";
            rc = store_manifest_delete(c->s, r->repo, &r->digest, &user);
            if (rc == STORE_IN_USE)
                used_by(res, r->repo, &user);
            return rc;
        }
        res->what = "blob";
        rc = store_blob_delete(c->s, r->repo, &r->digest, &user);
        if (rc == STORE_IN_USE)
            used_by(res, r->repo, &user);
        if (rc == STORE_NOTFOUND)
            res->what = "manifest or blob";
        return rc;
    default:
        return rm_repo(c, r, all, n, res);
    }
}

/* The line for what was removed. */
static void say_removed(const struct rm_result *res)
{
    char freed[OUT_SIZE_MAX];

    if (!strcmp(res->what, "tag")) {
        printf("untagged %s\n", res->ref);
    } else if (!strcmp(res->what, "manifest")) {
        printf("deleted the manifest %s and its tags\n", res->ref);
    } else if (!strcmp(res->what, "blob")) {
        printf("deleted the blob %s from its repository\n", res->ref);
    } else {
        out_size(res->freed, freed);
        printf("deleted the repository %s: %lld tag%s, %lld manifest%s, "
               "%lld blob%s (%s freed)\n",
               res->ref, res->ri.tags, res->ri.tags == 1 ? "" : "s",
               res->ri.manifests, res->ri.manifests == 1 ? "" : "s",
               res->ri.links, res->ri.links == 1 ? "" : "s", freed);
    }
}

/* The message for what was refused: not found, or in use. */
static void say_refused(const struct rm_result *res)
{
    if (!strcmp(res->error, "not found"))
        ctl_error("no %s '%s'", res->what, res->ref);
    else if (!strcmp(res->what, "manifest"))
        ctl_error("cannot remove '%s': the index '%s' lists it (remove "
                  "the index first)",
                  res->ref, res->used_by);
    else
        ctl_error("cannot remove '%s': the manifest '%s' references it "
                  "(remove the manifest first)",
                  res->ref, res->used_by);
}

static json_t *result_json(const struct rm_result *res)
{
    json_t *o = json_pack("{s:s, s:s, s:b}", "ref", res->ref, "what", res->what,
                          "removed", res->removed);

    if (!res->removed)
        json_object_set_new(o, "error", json_string(res->error));
    if (res->used_by[0])
        json_object_set_new(o, "used_by", json_string(res->used_by));
    if (res->removed && !strcmp(res->what, "repository")) {
        json_object_set_new(o, "tags", json_integer(res->ri.tags));
        json_object_set_new(o, "manifests", json_integer(res->ri.manifests));
        json_object_set_new(o, "blobs", json_integer(res->ri.links));
        json_object_set_new(o, "freed", json_integer(res->freed));
    }
    return o;
}

int cmd_rm(struct ctl *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"yes", no_argument, NULL, 'y'},
        {NULL, 0, NULL, 0},
    };
    char err[NAME_MAX_LEN + 256];
    struct store_repo_info *all = NULL;
    struct rm_result *res;
    struct ref *refs;
    json_t *list = NULL;
    size_t nall = 0;
    int i, n, o, yes = 0, whole = 0, removed = 0, refused = 0;
    int rc = STORE_OK;
    int status = CTL_OK;

    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (o != 'y')
            return ctl_usage(c, NULL);
        yes = 1;
    }
    argv += optind;
    n = argc - optind;
    if (n == 0)
        return ctl_usage(c, "rm needs what to remove");
    refs = xcalloc((size_t)n, sizeof(*refs));
    for (i = 0; i < n; i++) {
        if (ref_parse(argv[i], &refs[i], err, sizeof(err))) {
            free(refs);
            return ctl_usage(c, "%s", err);
        }
        whole |= refs[i].kind == REF_REPO;
    }
    if (!yes && !isatty(STDIN_FILENO)) {
        free(refs);
        return ctl_usage(c, "not on a terminal, rm removes only with --yes");
    }
    status = ctl_open(c, 1);
    if (status) {
        free(refs);
        return status;
    }
    if (!yes && !confirm(argv, refs, n)) {
        free(refs);
        ctl_error("nothing removed");
        return CTL_REFUSED;
    }
    if (whole) {
        rc = ls_repos(c->s, &all, &nall);
        if (rc) {
            free(refs);
            return ctl_store_error(rc, "list the repositories");
        }
    }
    res = xcalloc((size_t)n, sizeof(*res));
    if (c->json)
        list = json_array();
    for (i = 0; i < n; i++) {
        res[i].ref = argv[i];
        rc = rm_one(c, &refs[i], all, nall, &res[i]);
        res[i].removed = rc == STORE_OK;
        if (rc == STORE_OK) {
            removed++;
            if (!c->json && !c->quiet)
                say_removed(&res[i]);
        } else if (rc == STORE_NOTFOUND || rc == STORE_IN_USE) {
            res[i].error = rc == STORE_NOTFOUND ? "not found" : "in use";
            refused++;
            say_refused(&res[i]);
            status = CTL_REFUSED;
        } else {
            status = ctl_store_error(rc, "remove '%s'", argv[i]);
            break; /* the store cannot be used: stop here */
        }
        if (list)
            json_array_append_new(list, result_json(&res[i]));
    }
    if (list) {
        if (out_json(json_pack("{s:o, s:i, s:i}", "results", list, "removed",
                               removed, "refused", refused)))
            status = CTL_UNUSABLE;
    } else {
        printf("removed %d of %d\n", removed, n);
    }
    free(res);
    free(refs);
    free(all);
    return status;
}
