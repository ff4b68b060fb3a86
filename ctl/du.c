#include "config.h"

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl.h"
#include "ctl/out.h"
#include "policy/policy.h"
#include "store/store.h"
#include "util/xalloc.h"

/*
 * berthctl du: the bytes of each repository, total and unique, then of
 * the store. Each figure is one read transaction of its own: with pushes
 * going on, the repositories' figures and the store's may be of moments
 * a little apart. With a policy file, a line for each quota: the bytes
 * its namespace holds (store_ns_usage), against its limit.
 */

struct usage_row {
    const char *name;
    struct store_usage u;
};

struct quota_row {
    const struct policy_quota *q; /* lives as long as the policy */
    long long used;
};

static void print_quotas(const struct quota_row *rows, size_t n)
{
    char used[OUT_SIZE_MAX], limit[OUT_SIZE_MAX];
    int w = (int)strlen("QUOTA");
    size_t i;

    for (i = 0; i < n; i++)
        if ((int)strlen(rows[i].q->pattern) > w)
            w = (int)strlen(rows[i].q->pattern);
    if (n)
        printf("%-*s  %10s  %10s  %4s\n", w, "QUOTA", "USED", "LIMIT", "USE");
    for (i = 0; i < n; i++) {
        out_size(rows[i].used, used);
        out_size(rows[i].q->limit, limit);
        printf("%-*s  %10s  %10s  %3lld%%\n", w, rows[i].q->pattern, used,
               limit,
               rows[i].q->limit ? rows[i].used * 100 / rows[i].q->limit : 100);
    }
}

static json_t *quotas_json(const struct quota_row *rows, size_t n)
{
    json_t *list = json_array();
    size_t i;

    for (i = 0; i < n; i++)
        json_array_append_new(list, json_pack("{s:s, s:I, s:I}", "pattern",
                                              rows[i].q->pattern, "used",
                                              (json_int_t)rows[i].used, "limit",
                                              (json_int_t)rows[i].q->limit));
    return list;
}

/*
 * The quotas of the policy file of c's config, with their usage, into
 * *rows (*n of them) and *p. Returns a CTL_* status.
 */
static int quotas(struct ctl *c, struct policy **p, struct quota_row **rows,
                  size_t *n)
{
    const struct policy_quota *q;
    char err[PATH_MAX + 256];
    size_t i = 0;
    int rc;

    *p = NULL;
    *rows = NULL;
    *n = 0;
    if (!c->cfg.policy[0])
        return CTL_OK;
    if (policy_load(c->cfg.policy, p, err, sizeof(err))) {
        ctl_error("%s", err);
        return CTL_UNUSABLE;
    }
    while ((q = policy_quota_next(*p, NULL, &i))) {
        *rows = xrealloc(*rows, (*n + 1) * sizeof(**rows));
        (*rows)[*n].q = q;
        rc = store_ns_usage(c->s, q->ns, NULL, &(*rows)[*n].used, NULL);
        if (rc)
            return ctl_store_error(rc, "measure the quotas");
        (*n)++;
    }
    return CTL_OK;
}

static void print_text(const struct usage_row *rows, size_t n,
                       const struct store_usage *all)
{
    char total[OUT_SIZE_MAX], unique[OUT_SIZE_MAX];
    int w = (int)strlen("REPOSITORY");
    size_t i;

    for (i = 0; i < n; i++)
        if ((int)strlen(rows[i].name) > w)
            w = (int)strlen(rows[i].name);
    if (n)
        printf("%-*s  %10s  %10s\n", w, "REPOSITORY", "TOTAL", "UNIQUE");
    for (i = 0; i < n; i++) {
        out_size(rows[i].u.total, total);
        out_size(rows[i].u.unique, unique);
        printf("%-*s  %10s  %10s\n", w, rows[i].name, total, unique);
    }
    out_size(all->total, total);
    printf("the store: %s in %lld blob%s and %lld manifest%s\n", total,
           all->blobs, all->blobs == 1 ? "" : "s", all->manifests,
           all->manifests == 1 ? "" : "s");
}

static int print_json(const struct usage_row *rows, size_t n,
                      const struct store_usage *all, json_t *quotas)
{
    json_t *list = json_array();
    size_t i;

    for (i = 0; i < n; i++)
        json_array_append_new(
            list, json_pack("{s:s, s:I, s:I, s:I, s:I}", "name", rows[i].name,
                            "total", (json_int_t)rows[i].u.total, "unique",
                            (json_int_t)rows[i].u.unique, "blobs",
                            (json_int_t)rows[i].u.blobs, "manifests",
                            (json_int_t)rows[i].u.manifests));
    return out_json(json_pack("{s:o, s:{s:I, s:I, s:I}, s:o}", "repositories",
                              list, "store", "total", (json_int_t)all->total,
                              "blobs", (json_int_t)all->blobs, "manifests",
                              (json_int_t)all->manifests, "quotas", quotas))
               ? CTL_UNUSABLE
               : CTL_OK;
}

int cmd_du(struct ctl *c, int argc, char **argv)
{
    static const struct option none[] = {{NULL, 0, NULL, 0}};
    struct store_repo_info *all = NULL;
    struct usage_row *rows;
    struct quota_row *qrows = NULL;
    struct policy *policy = NULL;
    struct out_progress p;
    struct store_usage total;
    size_t i, n = 0, nrows = 0, nq = 0;
    int rc, status = CTL_OK;

    if (getopt_long(argc, argv, "", none, NULL) != -1)
        return ctl_usage(c, NULL);
    for (i = optind; i < (size_t)argc; i++)
        if (!name_valid(argv[i], strlen(argv[i])))
            return ctl_usage(c, "invalid repository name '%s'", argv[i]);
    rc = ctl_open(c, 0);
    if (rc)
        return rc;
    if (optind == argc) {
        rc = ls_repos(c->s, &all, &n);
        if (rc)
            return ctl_store_error(rc, "list the repositories");
    } else {
        n = (size_t)(argc - optind);
    }
    rows = xcalloc(n ? n : 1, sizeof(*rows));
    out_progress_init(&p, c->progress, "measuring");
    for (i = 0; i < n; i++) {
        const char *name = all ? all[i].name : argv[optind + i];

        rc = store_repo_usage(c->s, name, &rows[nrows].u);
        out_progress(&p, (long long)i + 1, (long long)n);
        if (rc == STORE_NOTFOUND && all)
            continue; /* deleted since the walk */
        if (rc == STORE_NOTFOUND) {
            out_progress_end(&p);
            ctl_error("no repository '%s'", name);
            status = CTL_REFUSED;
            continue;
        }
        if (rc)
            break;
        rows[nrows++].name = name;
    }
    out_progress_end(&p);
    if (rc == STORE_OK || rc == STORE_NOTFOUND)
        rc = store_usage(c->s, &total);
    if (rc) {
        status = ctl_store_error(rc, "measure the store");
        goto out;
    }
    rc = quotas(c, &policy, &qrows, &nq);
    if (rc) {
        status = rc;
        goto out;
    }
    if (c->json) {
        if (print_json(rows, nrows, &total, quotas_json(qrows, nq)))
            status = CTL_UNUSABLE;
    } else {
        print_text(rows, nrows, &total);
        print_quotas(qrows, nq);
    }
out:
    free(qrows);
    policy_free(policy);
    free(rows);
    free(all);
    return status;
}
