#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl.h"
#include "ctl/out.h"
#include "store/store.h"
#include "util/xalloc.h"

/*
 * berthctl ls: the repositories with their counts, or the tags of one
 * with what each names. The walks run in a read transaction, so what they
 * find is collected first and printed after.
 */

struct repos {
    struct store_repo_info *r;
    size_t n, cap;
};

static int add_repo(void *ctx, const struct store_repo_info *ri)
{
    struct repos *rs = ctx;

    if (rs->n == rs->cap) {
        rs->cap = rs->cap ? 2 * rs->cap : 64;
        rs->r = xrealloc(rs->r, rs->cap * sizeof(*rs->r));
    }
    rs->r[rs->n++] = *ri;
    return STORE_OK;
}

struct tags {
    struct store_tag_info *t;
    size_t n, cap;
};

static int add_tag(void *ctx, const struct store_tag_info *ti)
{
    struct tags *ts = ctx;

    if (ts->n == ts->cap) {
        ts->cap = ts->cap ? 2 * ts->cap : 64;
        ts->t = xrealloc(ts->t, ts->cap * sizeof(*ts->t));
    }
    ts->t[ts->n++] = *ti;
    return STORE_OK;
}

int ls_repos(struct store *s, struct store_repo_info **out, size_t *n)
{
    struct repos rs = {NULL, 0, 0};
    int rc = store_repos_walk(s, add_repo, &rs);

    if (rc) {
        free(rs.r);
        return rc;
    }
    *out = rs.r;
    *n = rs.n;
    return STORE_OK;
}

static int list_repos(struct ctl *c)
{
    struct repos rs = {NULL, 0, 0};
    json_t *list;
    size_t i;
    int w = (int)strlen("REPOSITORY"), rc;

    rc = ls_repos(c->s, &rs.r, &rs.n);
    if (rc)
        return ctl_store_error(rc, "list the repositories");
    if (c->json) {
        list = json_array();
        for (i = 0; i < rs.n; i++)
            json_array_append_new(
                list,
                json_pack("{s:s, s:I, s:I, s:I, s:b}", "name", rs.r[i].name,
                          "tags", (json_int_t)rs.r[i].tags, "manifests",
                          (json_int_t)rs.r[i].manifests, "blobs",
                          (json_int_t)rs.r[i].links, "listed", rs.r[i].listed));
        free(rs.r);
        return out_json(json_pack("{s:o}", "repositories", list)) ? CTL_UNUSABLE
                                                                  : CTL_OK;
    }
    for (i = 0; i < rs.n; i++)
        if ((int)strlen(rs.r[i].name) > w)
            w = (int)strlen(rs.r[i].name);
    if (rs.n)
        printf("%-*s  %6s  %9s\n", w, "REPOSITORY", "TAGS", "MANIFESTS");
    for (i = 0; i < rs.n; i++)
        printf("%-*s  %6lld  %9lld\n", w, rs.r[i].name, rs.r[i].tags,
               rs.r[i].manifests);
    free(rs.r);
    return CTL_OK;
}

static int list_tags(struct ctl *c, const char *repo)
{
    char dstr[DIGEST_STR_MAX], size[OUT_SIZE_MAX], when[OUT_TIME_MAX];
    struct tags ts = {NULL, 0, 0};
    json_t *list;
    size_t i;
    int w = (int)strlen("TAG"), dw = (int)strlen("DIGEST"), rc;

    rc = store_tags_walk(c->s, repo, add_tag, &ts);
    if (rc) {
        free(ts.t);
        if (rc == STORE_NOTFOUND) {
            ctl_error("no repository '%s'", repo);
            return CTL_REFUSED;
        }
        return ctl_store_error(rc, "list the tags of '%s'", repo);
    }
    if (c->json) {
        list = json_array();
        for (i = 0; i < ts.n; i++) {
            digest_format(&ts.t[i].digest, dstr);
            out_time(ts.t[i].pushed, when);
            json_array_append_new(
                list,
                json_pack("{s:s, s:s, s:s, s:I, s:s}", "tag", ts.t[i].tag,
                          "digest", dstr, "media_type", ts.t[i].media_type,
                          "size", (json_int_t)ts.t[i].size, "pushed", when));
        }
        free(ts.t);
        return out_json(
                   json_pack("{s:s, s:o}", "repository", repo, "tags", list))
                   ? CTL_UNUSABLE
                   : CTL_OK;
    }
    for (i = 0; i < ts.n; i++) {
        digest_format(&ts.t[i].digest, dstr);
        if ((int)strlen(ts.t[i].tag) > w)
            w = (int)strlen(ts.t[i].tag);
        if ((int)strlen(dstr) > dw)
            dw = (int)strlen(dstr);
    }
    if (ts.n)
        printf("%-*s  %-*s  %10s  %s\n", w, "TAG", dw, "DIGEST", "SIZE",
               "PUSHED");
    for (i = 0; i < ts.n; i++) {
        digest_format(&ts.t[i].digest, dstr);
        out_size(ts.t[i].size, size);
        out_time(ts.t[i].pushed, when);
        printf("%-*s  %-*s  %10s  %s\n", w, ts.t[i].tag, dw, dstr, size, when);
    }
    free(ts.t);
    return CTL_OK;
}

int cmd_ls(struct ctl *c, int argc, char **argv)
{
    static const struct option none[] = {{NULL, 0, NULL, 0}};
    const char *repo;
    int rc;

    if (getopt_long(argc, argv, "", none, NULL) != -1)
        return ctl_usage(c, NULL);
    if (argc - optind > 1)
        return ctl_usage(c, "ls takes one repository at most");
    repo = argv[optind];
    if (repo && !name_valid(repo, strlen(repo)))
        return ctl_usage(c, "invalid repository name '%s'", repo);
    rc = ctl_open(c, 0);
    if (rc)
        return rc;
    return repo ? list_tags(c, repo) : list_repos(c);
}
