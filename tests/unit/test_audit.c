/* tests/unit/test_audit.c: the audit log (store/audit.c), a fresh store per
 * test, on a fake clock */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store/store_private.h"
#include "tests/unit/store_fixture.h"

static long long fake_now;

static long long fake_clock(void)
{
    return fake_now;
}

/* The fixture's store, with the audit log on, no bounds, alice acting. */
static int audit_setup(void **state)
{
    struct fixture *f;

    if (setup(state))
        return -1;
    f = *state;
    fake_now = 1700000000;
    f->s->clock = fake_clock;
    f->s->audit_on = 1;
    store_set_actor(f->s, "alice", "192.0.2.1");
    return 0;
}

/* The entries a query selects, a line each: "event user addr repo ref
 * digest old note", with "-" for an empty field. */
struct seen {
    char text[16384];
    int n;
    long long last_us;
};

static const char *dash(const char *s)
{
    return s[0] ? s : "-";
}

static int on_entry(void *ctx, const struct store_audit_entry *e)
{
    struct seen *sn = ctx;
    size_t at = strlen(sn->text);

    /* oldest first, never two at one time */
    assert_true(e->time_us > sn->last_us);
    sn->last_us = e->time_us;
    snprintf(sn->text + at, sizeof(sn->text) - at, "%s %s %s %s %s %s %s %s\n",
             e->event, dash(e->user), dash(e->addr), dash(e->repo),
             dash(e->ref), dash(e->digest), dash(e->old), dash(e->note));
    sn->n++;
    return STORE_OK;
}

static void walk(struct fixture *f, const struct store_audit_query *q,
                 struct seen *sn)
{
    static const struct store_audit_query all;

    memset(sn, 0, sizeof(*sn));
    assert_int_equal(store_audit_walk(f->s, q ? q : &all, on_entry, sn),
                     STORE_OK);
}

/* An image of repo with a config blob of its own: salt makes it unique. */
static void image(struct fixture *f, const char *repo, int salt, struct tm *t)
{
    char cfg[32];
    struct digest d;

    snprintf(cfg, sizeof(cfg), "{\"salt\":%d}", salt);
    put_blob(f, repo, cfg, strlen(cfg), &d);
    tm_image(t, &d, (long long)strlen(cfg), NULL, NULL, salt);
}

/*
 * Each change that commits has its entry: a push, a push that moves the
 * tag (old), a tag delete, a manifest delete (with its tags), a blob
 * delete. Uploads have none.
 */
static void test_changes(void **state)
{
    struct fixture *f = *state;
    struct tm a, b;
    struct digest cfg;
    char want[4096], c[DIGEST_STR_MAX];
    struct seen sn;

    image(f, "team/app", 1, &a);
    image(f, "team/app", 2, &b);
    cfg = a.m.blobs[0].digest;
    walk(f, NULL, &sn);
    assert_int_equal(sn.n, 0); /* uploads are not recorded */

    assert_int_equal(put_manifest(f, "team/app", "v1", &a, NULL), STORE_OK);
    store_set_actor(f->s, "bob", "192.0.2.2");
    assert_int_equal(put_manifest(f, "team/app", "v1", &b, NULL), STORE_OK);
    assert_int_equal(put_manifest(f, "team/app", "v2", &b, NULL), STORE_OK);
    assert_int_equal(put_manifest(f, "team/app", NULL, &a, NULL), STORE_OK);
    assert_int_equal(store_tag_delete(f->s, "team/app", "v1"), STORE_OK);
    assert_int_equal(store_manifest_delete(f->s, "team/app", &b.d, NULL),
                     STORE_OK);
    assert_int_equal(store_manifest_delete(f->s, "team/app", &a.d, NULL),
                     STORE_OK);
    assert_int_equal(store_blob_delete(f->s, "team/app", &cfg, NULL), STORE_OK);
    digest_format(&cfg, c);
    snprintf(want, sizeof(want),
             "push alice 192.0.2.1 team/app v1 %s - -\n"
             "push bob 192.0.2.2 team/app v1 %s %s -\n"
             "push bob 192.0.2.2 team/app v2 %s - -\n"
             "push bob 192.0.2.2 team/app %s %s - -\n"
             "tag-delete bob 192.0.2.2 team/app v1 %s - -\n"
             "tag-delete bob 192.0.2.2 team/app v2 %s - -\n"
             "manifest-delete bob 192.0.2.2 team/app %s %s - -\n"
             "manifest-delete bob 192.0.2.2 team/app %s %s - -\n"
             "blob-delete bob 192.0.2.2 team/app %s %s - -\n",
             a.dstr, b.dstr, a.dstr, b.dstr, a.dstr, a.dstr, b.dstr, b.dstr,
             b.dstr, b.dstr, a.dstr, a.dstr, c, c);
    walk(f, NULL, &sn);
    assert_string_equal(sn.text, want);
    tm_release(&a);
    tm_release(&b);
}

static int hold_v1(void *ctx, const char *repo, const char *tag)
{
    (void)ctx;
    (void)repo;
    return !strcmp(tag, "v1");
}

/* A write that is refused or fails leaves no entry. */
static void test_refused_writes(void **state)
{
    struct fixture *f = *state;
    struct tm a, b, lost, idx;
    struct digest missing, user, nothing;
    struct seen sn;

    image(f, "r", 1, &a);
    image(f, "r", 2, &b);
    assert_int_equal(put_manifest(f, "r", "v1", &a, NULL), STORE_OK);
    assert_int_equal(put_manifest(f, "r", NULL, &b, NULL), STORE_OK);
    tm_index(&idx, &a, &b);
    assert_int_equal(put_manifest(f, "r", "all", &idx, NULL), STORE_OK);
    walk(f, NULL, &sn);
    assert_int_equal(sn.n, 3);

    /* a blob that is not there */
    digest_of(DIGEST_SHA256, "nope", 4, &nothing);
    tm_image(&lost, &nothing, 4, NULL, NULL, 3);
    assert_int_equal(put_manifest(f, "r", "v3", &lost, &missing),
                     STORE_BLOB_MISSING);
    /* a guarded tag: neither moved nor deleted */
    store_set_tag_guard(f->s, hold_v1, NULL);
    assert_int_equal(put_manifest(f, "r", "v1", &b, &missing), STORE_TAG_FIXED);
    assert_int_equal(store_tag_delete(f->s, "r", "v1"), STORE_TAG_FIXED);
    store_set_tag_guard(f->s, NULL, NULL);
    /* listed by an index: in use */
    assert_int_equal(store_manifest_delete(f->s, "r", &b.d, &user),
                     STORE_IN_USE);
    assert_int_equal(store_blob_delete(f->s, "r", &b.m.blobs[0].digest, &user),
                     STORE_IN_USE);
    /* not there */
    assert_int_equal(store_tag_delete(f->s, "r", "v9"), STORE_NOTFOUND);
    assert_int_equal(store_manifest_delete(f->s, "r", &nothing, NULL),
                     STORE_NOTFOUND);
    walk(f, NULL, &sn);
    assert_int_equal(sn.n, 3);
    tm_release(&a);
    tm_release(&b);
    tm_release(&lost);
    tm_release(&idx);
}

/* At most audit_max entries, the newest: each append removes a few. */
static void test_prune_count(void **state)
{
    struct fixture *f = *state;
    char note[16];
    struct seen sn;
    long long n = -1;
    int i;

    for (i = 0; i < 30; i++) {
        fake_now++; /* a process records 20 refusals a second at most */
        snprintf(note, sizeof(note), "n%d", i);
        assert_int_equal(store_audit_note(f->s, "denied", "r", "x", note),
                         STORE_OK);
    }
    f->s->audit_max = 10;
    /* 30 there: the next append takes 4 of the 21 too many */
    assert_int_equal(store_audit_note(f->s, "denied", "r", "x", "n30"),
                     STORE_OK);
    walk(f, NULL, &sn);
    assert_int_equal(sn.n, 27);
    assert_non_null(strstr(sn.text, " n4\n"));
    assert_null(strstr(sn.text, " n3\n"));
    /* the rest goes at once (a GC does it) */
    assert_int_equal(store_audit_prune(f->s, 0, &n), STORE_OK);
    assert_int_equal(n, 17);
    walk(f, NULL, &sn);
    assert_int_equal(sn.n, 10);
    assert_true(strncmp(sn.text, "denied alice 192.0.2.1 r x - - n21\n",
                        strlen("denied alice 192.0.2.1 r x - - n21\n")) == 0);
    /* and appends keep it there */
    for (i = 0; i < 20; i++) {
        fake_now++;
        assert_int_equal(store_audit_note(f->s, "denied", "r", "x", "more"),
                         STORE_OK);
    }
    walk(f, NULL, &sn);
    assert_int_equal(sn.n, 10);
    assert_null(strstr(sn.text, " n30\n"));
}

/* A process records 20 refusals a second; the count of the others is in
 * the next one's note. */
static void test_note_bound(void **state)
{
    struct fixture *f = *state;
    struct seen sn;
    int i;

    for (i = 0; i < 25; i++)
        assert_int_equal(store_audit_note(f->s, "denied", "r", NULL, "push"),
                         STORE_OK);
    walk(f, NULL, &sn);
    assert_int_equal(sn.n, 20);
    fake_now++;
    assert_int_equal(store_audit_note(f->s, "denied", "r", NULL, "pull"),
                     STORE_OK);
    assert_int_equal(store_audit_note(f->s, "denied", "r", NULL, "pull"),
                     STORE_OK);
    walk(f, NULL, &sn);
    assert_int_equal(sn.n, 22);
    assert_non_null(strstr(sn.text, " pull (and 5 more not recorded)\n"
                                    "denied alice 192.0.2.1 r - - - pull\n"));
}

/* Entries older than audit_retention go. */
static void test_prune_age(void **state)
{
    struct fixture *f = *state;
    struct seen sn;
    long long n = -1;
    int i;

    f->s->audit_retention = 3600;
    for (i = 0; i < 8; i++)
        assert_int_equal(store_audit_note(f->s, "denied", "r", NULL, "old"),
                         STORE_OK);
    fake_now += 3600; /* not older than the retention yet */
    assert_int_equal(store_audit_note(f->s, "denied", "r", NULL, "new"),
                     STORE_OK);
    walk(f, NULL, &sn);
    assert_int_equal(sn.n, 9);
    fake_now += 1;
    assert_int_equal(store_audit_note(f->s, "denied", "r", NULL, "new"),
                     STORE_OK);
    walk(f, NULL, &sn);
    assert_int_equal(sn.n, 6); /* 4 of the 8 old ones went */
    assert_int_equal(store_audit_prune(f->s, 0, &n), STORE_OK);
    assert_int_equal(n, 4);
    walk(f, NULL, &sn);
    assert_string_equal(sn.text, "denied alice 192.0.2.1 r - - - new\n"
                                 "denied alice 192.0.2.1 r - - - new\n");
    /* a GC prunes too, and records nothing itself */
    fake_now += 7200;
    {
        struct store_gc_options o;

        memset(&o, 0, sizeof(o));
        o.untagged_ttl = -1;
        o.upload_ttl = 86400;
        assert_int_equal(store_gc(f->s, &o, NULL), STORE_OK);
    }
    walk(f, NULL, &sn);
    assert_int_equal(sn.n, 0);
}

/* --user, --repo, --since and --limit, alone and together. */
static void test_query(void **state)
{
    static const struct {
        const char *user, *repo;
        long long since_s, limit;
        const char *want; /* the notes, in order */
    } rows[] = {
        {NULL, NULL, 0, 0, "0 1 2 3 4 5 "},
        {"alice", NULL, 0, 0, "0 2 4 "},
        {"", NULL, 0, 0, "5 "},
        {NULL, "b", 0, 0, "1 3 5 "},
        {"alice", "a", 0, 0, "0 2 4 "},
        {"bob", "a", 0, 0, ""},
        {NULL, NULL, 1700000002, 0, "2 3 4 5 "},
        {NULL, NULL, 1700000009, 0, ""},
        {NULL, NULL, 0, 2, "4 5 "},
        {NULL, NULL, 0, 100, "0 1 2 3 4 5 "},
        {"alice", NULL, 0, 2, "2 4 "},
        {NULL, NULL, 1700000004, 4, "4 5 "},
        {"bob", NULL, 1700000002, 1, "3 "},
    };
    struct fixture *f = *state;
    struct store_audit_query q;
    char note[8], got[64];
    struct seen sn;
    size_t i;
    int j;

    for (j = 0; j < 6; j++) {
        fake_now = 1700000000 + j;
        store_set_actor(f->s, j == 5 ? NULL : j % 2 ? "bob" : "alice", "::1");
        snprintf(note, sizeof(note), "%d", j);
        assert_int_equal(
            store_audit_note(f->s, "denied", j % 2 ? "b" : "a", NULL, note),
            STORE_OK);
    }
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char *p, *line;

        memset(&q, 0, sizeof(q));
        q.user = rows[i].user;
        q.repo = rows[i].repo;
        q.since_us = rows[i].since_s * 1000000LL;
        q.limit = rows[i].limit;
        walk(f, &q, &sn);
        got[0] = '\0';
        for (line = sn.text; (p = strchr(line, '\n')); line = p + 1) {
            const char *sp = p;

            while (sp > line && sp[-1] != ' ')
                sp--;
            snprintf(got + strlen(got), sizeof(got) - strlen(got), "%.*s ",
                     (int)(p - sp), sp);
        }
        if (strcmp(got, rows[i].want))
            fail_msg("row %zu: got '%s', want '%s'", i, got, rows[i].want);
    }
}

/* What fn does runs outside the walk's transactions: it may write, and
 * what it adds is not walked. */
static int note_each(void *ctx, const struct store_audit_entry *e)
{
    struct fixture *f = ctx;

    (void)e;
    fake_now++;
    return store_audit_note(f->s, "denied", "again", NULL, NULL);
}

/* More entries than one batch of the walk reads, with and without a
 * limit, and an fn that writes. */
static void test_walk_batches(void **state)
{
    struct fixture *f = *state;
    struct store_audit_query q;
    char note[16];
    struct seen sn;
    int i;

    for (i = 0; i < 700; i++) {
        fake_now++;
        snprintf(note, sizeof(note), "n%d", i);
        assert_int_equal(store_audit_note(f->s, "denied", "r", NULL, note),
                         STORE_OK);
    }
    walk(f, NULL, &sn);
    assert_int_equal(sn.n, 700);
    memset(&q, 0, sizeof(q));
    q.limit = 600;
    walk(f, &q, &sn);
    assert_int_equal(sn.n, 600);
    assert_true(strncmp(sn.text, "denied alice 192.0.2.1 r - - - n100\n",
                        strlen("denied alice 192.0.2.1 r - - - n100\n")) == 0);
    q.limit = 0;
    assert_int_equal(store_audit_walk(f->s, &q, note_each, f), STORE_OK);
    q.repo = "again";
    walk(f, &q, &sn);
    assert_int_equal(sn.n, 700);
}

/* A clock that steps back: entries stay in order, at the last time. */
static void test_clock_back(void **state)
{
    struct fixture *f = *state;
    struct seen sn;

    assert_int_equal(store_audit_note(f->s, "denied", "r", NULL, "a"),
                     STORE_OK);
    fake_now -= 100;
    assert_int_equal(store_audit_note(f->s, "denied", "r", NULL, "b"),
                     STORE_OK);
    walk(f, NULL, &sn); /* on_entry checks the order */
    assert_string_equal(sn.text, "denied alice 192.0.2.1 r - - - a\n"
                                 "denied alice 192.0.2.1 r - - - b\n");
}

/* The GC's removals are the user "gc"'s, with the reason. */
static void test_gc_entries(void **state)
{
    struct fixture *f = *state;
    struct store_gc_options o;
    struct seen sn;
    struct tm a;
    char want[1024], c[DIGEST_STR_MAX];

    image(f, "r", 1, &a);
    digest_format(&a.m.blobs[0].digest, c);
    assert_int_equal(put_manifest(f, "r", NULL, &a, NULL), STORE_OK);
    fake_now += 10;
    memset(&o, 0, sizeof(o));
    o.untagged_ttl = 0;
    o.upload_ttl = 86400;
    assert_int_equal(store_gc(f->s, &o, NULL), STORE_OK);
    snprintf(want, sizeof(want),
             "push alice 192.0.2.1 r %s %s - -\n"
             "manifest-delete gc local r %s %s - "
             "untagged for longer than untagged_ttl\n"
             "blob-delete gc local r %s %s - -\n",
             a.dstr, a.dstr, a.dstr, a.dstr, c, c);
    walk(f, NULL, &sn);
    assert_string_equal(sn.text, want);
    /* the actor is the caller's again */
    assert_int_equal(store_audit_note(f->s, "denied", "r", NULL, NULL),
                     STORE_OK);
    walk(f, NULL, &sn);
    assert_non_null(strstr(sn.text, "denied alice 192.0.2.1 r - - - -\n"));
    tm_release(&a);
}

/* A repository's deletion: its start, then what it removes. */
static void test_repo_delete(void **state)
{
    struct fixture *f = *state;
    struct seen sn;
    struct tm a;

    image(f, "r", 1, &a);
    assert_int_equal(put_manifest(f, "r", "v1", &a, NULL), STORE_OK);
    assert_int_equal(store_repo_delete(f->s, "r", NULL, NULL), STORE_OK);
    walk(f, NULL, &sn);
    assert_int_equal(sn.n, 5);
    assert_non_null(strstr(sn.text, "\nrepo-delete alice 192.0.2.1 r - - - -\n"
                                    "tag-delete alice 192.0.2.1 r v1 "));
    assert_non_null(strstr(sn.text, "\nmanifest-delete alice"));
    assert_non_null(strstr(sn.text, "\nblob-delete alice"));
    tm_release(&a);
}

/* audit = off: nothing is recorded. */
static void test_off(void **state)
{
    struct fixture *f = *state;
    struct seen sn;
    struct tm a;

    f->s->audit_on = 0;
    image(f, "r", 1, &a);
    assert_int_equal(put_manifest(f, "r", "v1", &a, NULL), STORE_OK);
    assert_int_equal(store_audit_note(f->s, "denied", "r", NULL, NULL),
                     STORE_OK);
    walk(f, NULL, &sn);
    assert_int_equal(sn.n, 0);
    tm_release(&a);
}

/* A read-only open sees the log; fields are cut to their maximum. */
static void test_read_only(void **state)
{
    static const struct store_options ro = {
        .map_size = MAP_SIZE, .flags = STORE_RDONLY, .inline_max = -1};
    static const struct store_audit_query all;
    struct fixture *f = *state;
    char user[300];
    struct seen sn;

    memset(user, 'u', sizeof(user) - 1);
    user[sizeof(user) - 1] = '\0';
    store_set_actor(f->s, user, "192.0.2.1");
    assert_int_equal(store_audit_note(f->s, "denied", "r", NULL, NULL),
                     STORE_OK);
    /* LMDB: one open of an environment per process at a time */
    store_close(f->s);
    f->s = NULL;
    assert_int_equal(store_open(f->root, &ro, &f->s), STORE_OK);
    memset(&sn, 0, sizeof(sn));
    assert_int_equal(store_audit_walk(f->s, &all, on_entry, &sn), STORE_OK);
    assert_int_equal(sn.n, 1);
    assert_int_equal(strchr(sn.text, ' ') - sn.text,
                     (long)strlen("denied ") - 1);
    assert_int_equal(strchr(sn.text + 7, ' ') - (sn.text + 7),
                     STORE_AUDIT_USER_MAX);
    assert_int_equal(store_audit_note(f->s, "denied", "r", NULL, NULL),
                     STORE_READONLY);
}

/* --- the webhooks' state (store/hooks.c) --- */

/* n refusals, each a second after the last, noted "<tag><i>" */
static void notes(struct fixture *f, const char *tag, int n)
{
    char note[32];
    int i;

    for (i = 0; i < n; i++) {
        fake_now++;
        snprintf(note, sizeof(note), "%s%d", tag, i);
        assert_int_equal(store_audit_note(f->s, "denied", "r", "x", note),
                         STORE_OK);
    }
}

struct hook_seen {
    char text[1024];
    int n;
};

static int on_hook(void *ctx, const struct store_hook_info *h)
{
    struct hook_seen *hs = ctx;
    size_t at = strlen(hs->text);

    snprintf(hs->text + at, sizeof(hs->text) - at, "%s %lld %lld\n", h->name,
             h->backlog, h->dead);
    hs->n++;
    return STORE_OK;
}

/* A new hook starts at the log's end; cursors move on, never back; the
 * hold is the least; a hook dropped from the list takes its state along */
static void test_hook_cursors(void **state)
{
    static const char *const ab[] = {"a", "b"}, *const a[] = {"a"};
    struct fixture *f = *state;
    struct store_audit_copy c;
    struct hook_seen hs;
    long long cur = -1, last, hold, first;

    notes(f, "old", 3);
    assert_int_equal(store_audit_last(f->s, &last), STORE_OK);
    assert_int_equal(store_hook_cursor(f->s, "a", &cur), STORE_NOTFOUND);
    assert_int_equal(store_hooks_sync(f->s, ab, 2), STORE_OK);
    assert_int_equal(store_hook_cursor(f->s, "a", &cur), STORE_OK);
    assert_int_equal(cur, last);
    assert_int_equal(store_audit_next(f->s, cur, &c), STORE_NOTFOUND);
    notes(f, "new", 3);
    assert_int_equal(store_audit_next(f->s, cur, &c), STORE_OK);
    assert_string_equal(c.e.note, "new0");
    first = c.e.time_us;
    assert_int_equal(store_audit_next(f->s, first, &c), STORE_OK);
    assert_string_equal(c.e.note, "new1");
    assert_int_equal(store_hook_advance(f->s, "a", c.e.time_us), STORE_OK);
    assert_int_equal(store_hook_advance(f->s, "a", first), STORE_OK);
    assert_int_equal(store_hook_cursor(f->s, "a", &cur), STORE_OK);
    assert_int_equal(cur, c.e.time_us);
    memset(&hs, 0, sizeof(hs));
    assert_int_equal(store_hooks_walk(f->s, on_hook, &hs, &hold), STORE_OK);
    assert_string_equal(hs.text, "a 1 0\nb 3 0\n");
    assert_int_equal(hold, last);
    /* syncing again changes no cursor */
    assert_int_equal(store_hooks_sync(f->s, ab, 2), STORE_OK);
    assert_int_equal(store_hook_cursor(f->s, "a", &cur), STORE_OK);
    assert_int_equal(cur, c.e.time_us);
    assert_int_equal(store_hooks_sync(f->s, a, 1), STORE_OK);
    assert_int_equal(store_hook_advance(f->s, "b", first), STORE_NOTFOUND);
    memset(&hs, 0, sizeof(hs));
    assert_int_equal(store_hooks_walk(f->s, on_hook, &hs, &hold), STORE_OK);
    assert_string_equal(hs.text, "a 1 0\n");
    assert_int_equal(hold, cur);
    assert_int_equal(store_hooks_sync(f->s, NULL, 0), STORE_OK);
    assert_int_equal(store_hooks_walk(f->s, on_hook, &hs, &hold), STORE_OK);
    assert_int_equal(hold, LLONG_MAX);
}

/* Pruning stops at the hold: nothing a hook has not passed goes */
static void test_hook_hold_prune(void **state)
{
    static const char *const a[] = {"a"};
    struct fixture *f = *state;
    struct store_audit_copy c;
    struct seen sn;
    long long n = -1, at = 0;
    int i;

    assert_int_equal(store_hooks_sync(f->s, a, 1), STORE_OK);
    f->s->audit_max = 5;
    notes(f, "n", 20);
    walk(f, NULL, &sn);
    assert_int_equal(sn.n, 20);
    assert_int_equal(store_audit_prune(f->s, 0, &n), STORE_OK);
    assert_int_equal(n, 0);
    /* passed the 10 first: they may go, the others stay */
    for (i = 0; i < 10; i++) {
        assert_int_equal(store_audit_next(f->s, at, &c), STORE_OK);
        at = c.e.time_us;
    }
    assert_int_equal(store_hook_advance(f->s, "a", at), STORE_OK);
    assert_int_equal(store_audit_prune(f->s, 0, &n), STORE_OK);
    assert_int_equal(n, 10);
    walk(f, NULL, &sn);
    assert_int_equal(sn.n, 10);
    assert_true(!strncmp(sn.text, "denied alice 192.0.2.1 r x - - n10\n",
                         strlen("denied alice 192.0.2.1 r x - - n10\n")));
    /* all passed: the bound holds again, at each append */
    assert_int_equal(store_audit_last(f->s, &at), STORE_OK);
    assert_int_equal(store_hook_advance(f->s, "a", at), STORE_OK);
    notes(f, "m", 3);
    walk(f, NULL, &sn);
    assert_int_equal(sn.n, 5);
}

struct dead_seen {
    char text[2048];
    int n;
    long long ids[8];
};

static int on_dead(void *ctx, const struct store_hook_dead *d)
{
    struct dead_seen *ds = ctx;
    size_t at = strlen(ds->text);

    snprintf(ds->text + at, sizeof(ds->text) - at, "%s %s %lld %d %s\n",
             d->hook, d->e.note, d->attempts, d->queued, d->why);
    if (ds->n < 8)
        ds->ids[ds->n] = d->e.time_us;
    ds->n++;
    return STORE_OK;
}

static void dead(struct fixture *f, const char *name, int queued,
                 struct dead_seen *ds)
{
    memset(ds, 0, sizeof(*ds));
    assert_int_equal(store_hook_dead_walk(f->s, name, queued, on_dead, ds),
                     STORE_OK);
}

/* Dead letters keep a copy of their entry, move the cursor, are queued
 * again, removed and dropped */
static void test_hook_dead_letters(void **state)
{
    static const char *const ab[] = {"a", "b"}, *const b[] = {"b"};
    struct fixture *f = *state;
    struct store_audit_copy c1, c2;
    struct dead_seen ds;
    long long cur, n = 0;

    assert_int_equal(store_hooks_sync(f->s, ab, 2), STORE_OK);
    notes(f, "n", 2);
    assert_int_equal(store_audit_next(f->s, 0, &c1), STORE_OK);
    assert_int_equal(store_audit_next(f->s, c1.e.time_us, &c2), STORE_OK);
    assert_int_equal(store_hook_dead_add(f->s, "a", &c1.e, 9, "HTTP 500"),
                     STORE_OK);
    assert_int_equal(store_hook_dead_add(f->s, "a", &c2.e, 3, "timeout"),
                     STORE_OK);
    assert_int_equal(store_hook_dead_add(f->s, "b", &c2.e, 1, "refused"),
                     STORE_OK);
    assert_int_equal(store_hook_dead_add(f->s, "zz", &c2.e, 1, "x"),
                     STORE_NOTFOUND);
    assert_int_equal(store_hook_cursor(f->s, "a", &cur), STORE_OK);
    assert_int_equal(cur, c2.e.time_us);
    /* the log may drop the entries: the letters have copies */
    f->s->audit_max = 1;
    assert_int_equal(store_audit_prune(f->s, 0, &n), STORE_OK);
    assert_int_equal(n, 1);
    dead(f, NULL, 0, &ds);
    assert_string_equal(ds.text, "a n0 9 0 HTTP 500\na n1 3 0 timeout\n"
                                 "b n1 1 0 refused\n");
    dead(f, "a", 1, &ds);
    assert_int_equal(ds.n, 0);
    assert_int_equal(store_hook_dead_retry(f->s, "a", c2.e.time_us, &n),
                     STORE_OK);
    assert_int_equal(n, 1);
    assert_int_equal(store_hook_dead_retry(f->s, "a", 12345, &n),
                     STORE_NOTFOUND);
    dead(f, NULL, 1, &ds);
    assert_string_equal(ds.text, "a n1 3 1 timeout\n");
    assert_int_equal(store_hook_dead_retry(f->s, NULL, 0, &n), STORE_OK);
    assert_int_equal(n, 2);
    dead(f, NULL, 1, &ds);
    assert_int_equal(ds.n, 3);
    /* failed again: not queued any more */
    assert_int_equal(store_hook_dead_add(f->s, "a", &c1.e, 10, "HTTP 502"),
                     STORE_OK);
    assert_int_equal(store_hook_dead_del(f->s, "a", c2.e.time_us), STORE_OK);
    assert_int_equal(store_hook_dead_del(f->s, "a", c2.e.time_us),
                     STORE_NOTFOUND);
    dead(f, "a", 0, &ds);
    assert_string_equal(ds.text, "a n0 10 0 HTTP 502\n");
    /* dropped for good, but not one queued again (b's) */
    assert_int_equal(store_hook_dead_add(f->s, "a", &c2.e, 4, "HTTP 404"),
                     STORE_OK);
    assert_int_equal(store_hook_dead_drop(f->s, "a", c1.e.time_us, &n),
                     STORE_OK);
    assert_int_equal(n, 1);
    assert_int_equal(store_hook_dead_drop(f->s, "a", c1.e.time_us, &n),
                     STORE_NOTFOUND);
    assert_int_equal(store_hook_dead_drop(f->s, NULL, 0, &n), STORE_OK);
    assert_int_equal(n, 1);
    dead(f, NULL, 0, &ds);
    assert_string_equal(ds.text, "b n1 1 1 refused\n");
    assert_int_equal(store_hook_dead_drop(f->s, NULL, 0, &n), STORE_NOTFOUND);
    assert_int_equal(store_hooks_sync(f->s, b, 1), STORE_OK);
    dead(f, NULL, 0, &ds);
    assert_string_equal(ds.text, "b n1 1 1 refused\n");
}

/* A pull is an entry of its own, when the log is on */
static void test_pull(void **state)
{
    struct fixture *f = *state;
    struct seen sn;

    assert_int_equal(store_audit_pull(f->s, "r", "v1", "sha256:ab"), STORE_OK);
    walk(f, NULL, &sn);
    assert_string_equal(sn.text, "pull alice 192.0.2.1 r v1 sha256:ab - -\n");
    f->s->audit_on = 0;
    assert_int_equal(store_audit_pull(f->s, "r", "v1", "sha256:ab"), STORE_OK);
    walk(f, NULL, &sn);
    assert_int_equal(sn.n, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_changes, audit_setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_writes, audit_setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_prune_count, audit_setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_prune_age, audit_setup, teardown),
        cmocka_unit_test_setup_teardown(test_note_bound, audit_setup, teardown),
        cmocka_unit_test_setup_teardown(test_query, audit_setup, teardown),
        cmocka_unit_test_setup_teardown(test_walk_batches, audit_setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_clock_back, audit_setup, teardown),
        cmocka_unit_test_setup_teardown(test_gc_entries, audit_setup, teardown),
        cmocka_unit_test_setup_teardown(test_repo_delete, audit_setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_off, audit_setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_only, audit_setup, teardown),
        cmocka_unit_test_setup_teardown(test_hook_cursors, audit_setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_hook_hold_prune, audit_setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_hook_dead_letters, audit_setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_pull, audit_setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
