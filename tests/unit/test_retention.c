/*
 * tests/unit/test_retention.c: retention/retention.h. Retention files and
 * what they drop are cases under data/retention/{valid,invalid}, each a
 * directory with rules and tags and the expected drops, or rules and the
 * expected error (data/retention/README). Adding a case needs no C. The
 * C tests here are what a directory cannot say: a NULL file, a missing
 * file, a file too big to keep in the tree, shuffled push times.
 */
#include "config.h"

#include <ctype.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "retention/retention.h"
#include "tests/unit/cases.h"
#include "util/scaled.h"

#define DATA       TEST_SRCDIR "/data/retention"
#define TOP_SRCDIR TEST_SRCDIR "/../.."

/* The cases' "now": the ages in tags files are counted back from it. */
#define NOW 1700000000LL

/* --- a fresh directory per test, with <dir>/retention.conf --- */

struct fixture {
    char dir[64];
    char path[128];
};

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw)
{
    return remove(path);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    if (!f)
        return -1;
    snprintf(f->dir, sizeof(f->dir), "%s", "/tmp/berth-test-retention-XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    snprintf(f->path, sizeof(f->path), "%s/retention.conf", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");

    assert_non_null(fp);
    assert_int_equal(fputs(text, fp) >= 0, 1);
    assert_int_equal(fclose(fp), 0);
}

/* Load text as <dir>/retention.conf; fail the test if it is refused. */
static struct retention *load(struct fixture *f, const char *text)
{
    struct retention *r = NULL;
    char err[512];

    write_file(f->path, text);
    if (retention_load(f->path, &r, err, sizeof(err)))
        fail_msg("refused: %s", err);
    assert_non_null(r);
    return r;
}

/* --- the cases under data/retention (README there) --- */

/* The tags of one repository, in the order of the tags file. */
struct repo_tags {
    char repo[256];
    struct retention_tag *tags;
    size_t n;
};

struct case_tags {
    struct repo_tags *repos;
    size_t n;
};

/* AGE of a tags file: a duration (s m h d w), '-' before it for later. */
static long long parse_age(const char *name, const char *s)
{
    static const struct scaled_unit units[] = {
        {"w", 604800}, {"d", 86400}, {"h", 3600},
        {"m", 60},     {"s", 1},     {NULL, 0},
    };
    unsigned long long v;
    int future = s[0] == '-';

    if (scaled_parse(s + future, units, LLONG_MAX / 2, &v))
        fail_msg("%s: bad age '%s' in tags", name, s);
    return future ? -(long long)v : (long long)v;
}

static struct repo_tags *repo_of(struct case_tags *ct, const char *repo)
{
    size_t i;

    for (i = 0; i < ct->n; i++)
        if (!strcmp(ct->repos[i].repo, repo))
            return &ct->repos[i];
    ct->repos = realloc(ct->repos, (ct->n + 1) * sizeof(*ct->repos));
    assert_non_null(ct->repos);
    memset(&ct->repos[ct->n], 0, sizeof(ct->repos[0]));
    snprintf(ct->repos[ct->n].repo, sizeof(ct->repos[0].repo), "%s", repo);
    return &ct->repos[ct->n++];
}

/* "REPO TAG AGE" lines; '#' lines and blank lines are skipped. */
static void parse_tags(const char *name, char *text, struct case_tags *ct)
{
    char *line, *rest = text, repo[256], tag[256], age[64], extra[2];
    struct repo_tags *rt;

    memset(ct, 0, sizeof(*ct));
    while ((line = strsep(&rest, "\n"))) {
        if (!line[0] || line[0] == '#')
            continue;
        if (sscanf(line, "%255s %255s %63s %1s", repo, tag, age, extra) != 3)
            fail_msg("%s: tags line '%s' is not 'REPO TAG AGE'", name, line);
        rt = repo_of(ct, repo);
        rt->tags = realloc(rt->tags, (rt->n + 1) * sizeof(*rt->tags));
        assert_non_null(rt->tags);
        rt->tags[rt->n].tag = strdup(tag);
        assert_non_null(rt->tags[rt->n].tag);
        rt->tags[rt->n].pushed = NOW - parse_age(name, age);
        rt->n++;
    }
}

static void case_tags_release(struct case_tags *ct)
{
    size_t i, j;

    for (i = 0; i < ct->n; i++) {
        for (j = 0; j < ct->repos[i].n; j++)
            free((char *)ct->repos[i].tags[j].tag);
        free(ct->repos[i].tags);
    }
    free(ct->repos);
}

/* A growing list of lines, sorted before it is compared. */
struct lines {
    char **v;
    size_t n;
};

static void lines_add(struct lines *l, const char *s)
{
    l->v = realloc(l->v, (l->n + 1) * sizeof(*l->v));
    assert_non_null(l->v);
    l->v[l->n] = strdup(s);
    assert_non_null(l->v[l->n]);
    l->n++;
}

static int by_text(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void lines_release(struct lines *l)
{
    size_t i;

    for (i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
}

/* The "REPO TAG" part of a "REPO TAG\treason" line, its length. */
static size_t key_len(const char *line)
{
    return strcspn(line, "\t");
}

static void print_lines(const char *what, const struct lines *l)
{
    size_t i;

    print_message("%s (%zu):\n", what, l->n);
    for (i = 0; i < l->n; i++)
        print_message("  %s\n", l->v[i]);
}

/*
 * got and want hold the same drops; a reason is compared where want
 * gives one.
 */
static void compare_drops(const char *name, struct lines *got,
                          struct lines *want)
{
    size_t i;

    /* qsort(NULL, 0, ...) is undefined */
    if (got->n)
        qsort(got->v, got->n, sizeof(*got->v), by_text);
    if (want->n)
        qsort(want->v, want->n, sizeof(*want->v), by_text);
    for (i = 0; i < got->n && i < want->n; i++) {
        const char *g = got->v[i], *w = want->v[i];
        size_t k = key_len(w);

        if (key_len(g) != k || memcmp(g, w, k))
            break;
        if (w[k] && strcmp(g, w))
            break;
    }
    if (i == got->n && i == want->n)
        return;
    print_lines("dropped", got);
    print_lines("expected", want);
    fail_msg("%s: line %zu differs", name, i + 1);
}

static void run_valid(struct fixture *f, const char *dir, const char *name)
{
    char *rules, *tags, *expect, *line, *rest, text[512];
    char(*why)[RETENTION_WHY_MAX];
    struct lines got = {0}, want = {0};
    struct case_tags ct;
    struct retention *r;
    unsigned char *drop;
    size_t i, j, n;

    rules = case_file(dir, "rules", NULL);
    tags = case_file(dir, "tags", NULL);
    expect = case_file(dir, "expect", NULL);
    if (!rules || !tags || !expect)
        fail_msg("%s: needs rules, tags and expect", dir);
    r = load(f, rules);
    parse_tags(name, tags, &ct);
    for (i = 0; i < ct.n; i++) {
        const struct repo_tags *rt = &ct.repos[i];

        drop = malloc(rt->n + 1);
        why = malloc((rt->n + 1) * sizeof(*why));
        assert_non_null(drop);
        assert_non_null(why);
        memset(drop, 0x5a, rt->n + 1);
        memset(why, 0x5a, (rt->n + 1) * sizeof(*why));
        n = retention_apply(r, rt->repo, rt->tags, rt->n, NOW, drop, why);
        for (j = 0; j < rt->n; j++) {
            if (drop[j] > 1 || (!drop[j] && why[j][0]) ||
                (drop[j] && !why[j][0]))
                fail_msg("%s: %s %s: drop %d, why '%.*s'", name, rt->repo,
                         rt->tags[j].tag, drop[j], RETENTION_WHY_MAX, why[j]);
            if (!memchr(why[j], '\0', sizeof(why[j])))
                fail_msg("%s: a reason is not terminated", name);
            if (!drop[j])
                continue;
            n--;
            snprintf(text, sizeof(text), "%s %s\t%s", rt->repo, rt->tags[j].tag,
                     why[j]);
            lines_add(&got, text);
        }
        assert_int_equal(n, 0); /* the count is what drop says */
        /* nothing is written past n */
        assert_int_equal(drop[rt->n], 0x5a);
        assert_int_equal((unsigned char)why[rt->n][0], 0x5a);
        free(why);
        free(drop);
    }
    rest = expect;
    while ((line = strsep(&rest, "\n")))
        if (line[0] && line[0] != '#')
            lines_add(&want, line);
    compare_drops(name, &got, &want);
    lines_release(&got);
    lines_release(&want);
    case_tags_release(&ct);
    retention_free(r);
    free(expect);
    free(tags);
    free(rules);
}

static void run_invalid(struct fixture *f, const char *dir, const char *name)
{
    static char untouched;
    struct retention *r = (struct retention *)&untouched;
    char *rules, *want, err[1024];
    size_t n = strlen(f->dir);

    rules = case_file(dir, "rules", NULL);
    want = case_file(dir, "error", NULL);
    if (!rules || !want)
        fail_msg("%s: needs rules and error", dir);
    want[strcspn(want, "\n")] = '\0';
    write_file(f->path, rules);
    err[0] = '\0';
    if (!retention_load(f->path, &r, err, sizeof(err)))
        fail_msg("%s: accepted", name);
    assert_ptr_equal(r, &untouched); /* *out is written only on success */
    if (strncmp(err, f->dir, n) || err[n] != '/')
        fail_msg("%s: error '%s' does not start with the file", name, err);
    if (strcmp(err + n + 1, want))
        fail_msg("%s: error '%s', expected '%s'", name, err + n + 1, want);
    free(want);
    free(rules);
}

struct run {
    struct fixture *f;
    int valid;
};

static void run_case(void *ctx, const char *dir, const char *name)
{
    struct run *run = ctx;

    if (run->valid)
        run_valid(run->f, dir, name);
    else
        run_invalid(run->f, dir, name);
}

static void test_valid(void **state)
{
    struct run run = {*state, 1};

    cases_run(DATA, "valid", 10, run_case, &run);
}

static void test_invalid(void **state)
{
    struct run run = {*state, 0};

    cases_run(DATA, "invalid", 10, run_case, &run);
}

/* --- what a directory of cases cannot say --- */

static const struct retention_tag three[] = {
    {"a", NOW - 86400 * 400},
    {"b", NOW - 86400 * 300},
    {"c", NOW},
};

/* Without rules (NULL), everything stays, and why may be NULL. */
static void test_null_keeps_all(void **state)
{
    char why[3][RETENTION_WHY_MAX];
    unsigned char drop[3];

    memset(drop, 1, sizeof(drop));
    memset(why, 'x', sizeof(why));
    assert_int_equal(retention_apply(NULL, "x", three, 3, NOW, drop, why), 0);
    assert_memory_equal(drop, "\0\0\0", 3);
    assert_string_equal(why[0], "");
    assert_string_equal(why[2], "");
    memset(drop, 1, sizeof(drop));
    assert_int_equal(retention_apply(NULL, "x", three, 3, NOW, drop, NULL), 0);
    assert_memory_equal(drop, "\0\0\0", 3);
    /* no tags at all: nothing to write to */
    assert_int_equal(retention_apply(NULL, "x", NULL, 0, NOW, NULL, NULL), 0);
    retention_free(NULL);
}

static void test_why_optional(void **state)
{
    struct retention *r = load(*state, "* keep-last=1\n");
    unsigned char drop[3];

    assert_int_equal(retention_apply(r, "x", three, 3, NOW, drop, NULL), 2);
    assert_memory_equal(drop, "\1\1\0", 3);
    assert_int_equal(retention_apply(r, "x", NULL, 0, NOW, NULL, NULL), 0);
    retention_free(r);
}

/* A long keep-tags list is cut short in a reason, to leave room. */
static void test_long_reason(void **state)
{
    char text[256], want[256], globs[128], why[3][RETENTION_WHY_MAX];
    struct retention *r;
    unsigned char drop[3];

    memset(globs, 'a', 91);
    globs[91] = '\0';
    snprintf(text, sizeof(text), "* keep-last=0 keep-tags=%s,b keep-newer=1s\n",
             globs);
    r = load(*state, text);
    /* a is old and matches nothing, b matches, c is not older than 1s */
    assert_int_equal(retention_apply(r, "x", three, 3, NOW, drop, why), 1);
    assert_memory_equal(drop, "\1\0\0", 3);
    snprintf(want, sizeof(want),
             "not among the newest 0 and not matching %.48s... and pushed "
             "400d ago, over 1s",
             globs);
    assert_string_equal(why[0], want);
    assert_string_equal(why[1], "");
    retention_free(r);
}

/* A push time far from now is old, not an overflow (UBSan checks). */
static void test_extreme_times(void **state)
{
    static const struct retention_tag tags[] = {
        {"min", LLONG_MIN},
        {"max", LLONG_MAX},
        {"zero", 0},
    };
    struct retention *r = load(*state, "* keep-newer=15250284452471w\n");
    char why[3][RETENTION_WHY_MAX];
    unsigned char drop[3];

    assert_int_equal(retention_apply(r, "x", tags, 3, LLONG_MAX, drop, why), 2);
    assert_memory_equal(drop, "\1\0\1", 3);
    assert_string_equal(why[0], "pushed 106751991167300d15h30m7s ago, over "
                                "15250284452471w");
    assert_string_equal(why[2], why[0]);
    assert_int_equal(retention_apply(r, "x", tags, 3, LLONG_MIN, drop, why), 0);
    retention_free(r);
}

/*
 * keep-last over many tags in random order, with runs of equal push
 * times: the kept ones are exactly the newest N by (time, name).
 */
static int newest_first(const void *a, const void *b)
{
    const struct retention_tag *x = a, *y = b;

    if (x->pushed != y->pushed)
        return x->pushed > y->pushed ? -1 : 1;
    return strcmp(y->tag, x->tag);
}

static void test_keep_last_shuffled(void **state)
{
    enum { N = 5000, KEEP = 1234 };
    struct retention_tag *tags = calloc(N, sizeof(*tags)), *sorted;
    char(*names)[16] = calloc(N, sizeof(*names));
    unsigned char *drop = malloc(N);
    struct retention *r;
    unsigned seed = 42;
    size_t i, j;

    assert_non_null(tags);
    assert_non_null(names);
    assert_non_null(drop);
    for (i = 0; i < N; i++) {
        snprintf(names[i], sizeof(names[i]), "t%zu", i);
        tags[i].tag = names[i];
        /* 1 in 7 tags share a push time with others */
        tags[i].pushed = NOW - (long long)(rand_r(&seed) % (N * 10));
        if (i % 7 == 0)
            tags[i].pushed = NOW - 1000;
    }
    r = load(*state, "* keep-last=1234\n");
    assert_int_equal(retention_apply(r, "any/repo", tags, N, NOW, drop, NULL),
                     N - KEEP);
    sorted = malloc(N * sizeof(*sorted));
    assert_non_null(sorted);
    memcpy(sorted, tags, N * sizeof(*sorted));
    qsort(sorted, N, sizeof(*sorted), newest_first);
    for (i = 0; i < N; i++) {
        for (j = 0; tags[j].tag != sorted[i].tag; j++)
            ;
        if (drop[j] != (i >= KEEP))
            fail_msg("%s, newest %zu of %d: drop %d", tags[j].tag, i + 1, N,
                     drop[j]);
    }
    retention_free(r);
    free(sorted);
    free(drop);
    free(names);
    free(tags);
}

static void test_load_missing_file(void **state)
{
    struct fixture *f = *state;
    struct retention *r = NULL;
    char path[256], err[512];

    snprintf(path, sizeof(path), "%s/no-such.conf", f->dir);
    assert_int_equal(retention_load(path, &r, err, sizeof(err)), -1);
    assert_null(r);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "No such file"));
    /* a directory is not a retention file */
    assert_int_equal(retention_load(f->dir, &r, err, sizeof(err)), -1);
    assert_null(r);
    assert_non_null(strstr(err, f->dir));
    /* a small err buffer is truncated, not overrun */
    assert_int_equal(retention_load(path, &r, err, 8), -1);
    assert_int_equal(strlen(err), 7);
}

/* At most 4096 lines of rules; comments and blank lines do not count. */
static void test_too_many_lines(void **state)
{
    struct fixture *f = *state;
    struct retention *r = NULL;
    char err[512], want[256];
    FILE *fp = fopen(f->path, "w");
    int i;

    assert_non_null(fp);
    for (i = 0; i < 4096; i++)
        fprintf(fp, "# repository %d\nr%d keep-last=%d\n\n", i, i, i);
    assert_int_equal(fclose(fp), 0);
    assert_int_equal(retention_load(f->path, &r, err, sizeof(err)), 0);
    retention_free(r);

    fp = fopen(f->path, "a");
    assert_non_null(fp);
    fprintf(fp, "one-more keep-last=1\n");
    assert_int_equal(fclose(fp), 0);
    r = NULL;
    assert_int_equal(retention_load(f->path, &r, err, sizeof(err)), -1);
    assert_null(r);
    snprintf(want, sizeof(want), "%s:12289: more than 4096 lines of rules",
             f->path);
    assert_string_equal(err, want);
}

/* Space runs as one space, no space at the ends; return s. */
static char *squeeze(char *s)
{
    char *in = s, *out = s;

    for (; *in; in++)
        if (!isspace((unsigned char)*in) ||
            (out > s && in[1] && !isspace((unsigned char)in[1])))
            *out++ = isspace((unsigned char)*in) ? ' ' : *in;
    *out = '\0';
    return s;
}

/*
 * conf/retention.conf's rule lines are the README's example, and load; the
 * example does what the README says.
 */
static void test_example_file(void **state)
{
    char *conf = case_file(TOP_SRCDIR "/conf", "retention.conf", NULL);
    char *readme = case_file(TOP_SRCDIR, "README", NULL);
    char *line, *rest, err[512], names[60][8];
    struct retention_tag tags[60];
    struct lines want = {0}, got = {0};
    struct retention *r = NULL;
    unsigned char drop[60];
    size_t i;

    assert_non_null(conf);
    assert_non_null(readme);
    rest = conf;
    while ((line = strsep(&rest, "\n"))) {
        line[strcspn(line, "#")] = '\0';
        if (*squeeze(line))
            lines_add(&got, line);
    }
    rest = strstr(readme, "\n    # repositories    rules\n");
    assert_non_null(rest);
    rest += strlen("\n    # repositories    rules\n");
    while ((line = strsep(&rest, "\n")) && *squeeze(line))
        lines_add(&want, line);
    assert_int_equal(got.n, want.n);
    for (i = 0; i < got.n; i++)
        assert_string_equal(got.v[i], want.v[i]);

    if (retention_load(TOP_SRCDIR "/conf/retention.conf", &r, err, sizeof(err)))
        fail_msg("%s", err);
    for (i = 0; i < 60; i++) {
        snprintf(names[i], sizeof(names[i]), "%s%zu", i % 2 ? "v" : "b", i);
        tags[i].tag = names[i];
        tags[i].pushed = NOW - 86400 * (long long)i;
    }
    /* team-a/: all 60 are younger than 90 days */
    assert_int_equal(
        retention_apply(r, "team-a/app", tags, 60, NOW, drop, NULL), 0);
    /* cache/: the first 8 days */
    assert_int_equal(retention_apply(r, "cache/x", tags, 60, NOW, drop, NULL),
                     52);
    /* anything else: the newest 50 */
    assert_int_equal(
        retention_apply(r, "team-b/app", tags, 60, NOW, drop, NULL), 10);
    retention_free(r);
    lines_release(&got);
    lines_release(&want);
    free(readme);
    free(conf);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_valid),
        T(test_invalid),
        cmocka_unit_test(test_null_keeps_all),
        T(test_why_optional),
        T(test_long_reason),
        T(test_extreme_times),
        T(test_keep_last_shuffled),
        T(test_load_missing_file),
        T(test_too_many_lines),
        cmocka_unit_test(test_example_file),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
