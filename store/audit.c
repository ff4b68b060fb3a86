#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/store_private.h"
#include "util/log.h"
#include "util/xalloc.h"

/*
 * The audit log: one entry per change, appended in the write transaction
 * that makes the change (store_audit_add), so that an abort takes it back
 * with the change. Keys are the time in microseconds, big-endian: the log
 * is in time order, entries append at the end (MDB_APPEND) and go from
 * the front. An entry's time is one microsecond after the last one's when
 * the clock has not moved on since (or stepped back): times are unique,
 * and the order is the order of the commits.
 */

#define KEY_LEN 8
#define NFIELDS 8
_Static_assert(STORE_AUDIT_VALUE_MAX >= NFIELDS * (NAME_MAX_LEN + 1) + 255 + 1,
               "room for every field");
/* each append removes at most this many entries beyond the bounds: more
 * than it adds, so the log comes back within them, at a bounded cost */
#define PRUNE_STEP 4
#define NOTE_MAX   255
/* the refusals a process records a second (store_audit_note) */
#define NOTES_PER_SEC 20
/* the entries store_audit_walk() reads in one transaction */
#define WALK_BATCH 256

static void put_be(unsigned char *p, uint64_t v, int n)
{
    while (n--) {
        p[n] = (unsigned char)(v & 0xff);
        v >>= 8;
    }
}

static uint64_t get_be(const unsigned char *p, int n)
{
    uint64_t v = 0;
    int i;

    for (i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

static long long now_us(const struct store *s)
{
    struct timespec ts;

    if (s->clock)
        return s->clock() * 1000000LL;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

void store_set_actor(struct store *s, const char *user, const char *addr)
{
    snprintf(s->actor_user, sizeof(s->actor_user), "%s", user ? user : "");
    snprintf(s->actor_addr, sizeof(s->actor_addr), "%s", addr ? addr : "");
}

/* Append str (NULL: "") and its NUL to buf at *n, truncated to max. */
static void field(char *buf, size_t *n, const char *str, size_t max)
{
    size_t len = str ? strnlen(str, max) : 0;

    if (len)
        memcpy(buf + *n, str, len);
    buf[*n + len] = '\0';
    *n += len + 1;
}

/*
 * Remove up to step (0: no limit) of the oldest entries beyond the bounds,
 * at time now, within txn; *n (if not NULL) adds how many went.
 */
static int prune(struct store *s, MDB_txn *txn, long long now, long long step,
                 long long *n)
{
    long long cutoff = s->audit_retention > 0
                           ? now - s->audit_retention * 1000000LL
                           : LLONG_MIN;
    MDB_cursor *cur;
    MDB_stat st;
    MDB_val key, val;
    long long done = 0, hold = LLONG_MIN;
    size_t entries;
    int rc;

    rc = mdb_stat(txn, s->audit, &st);
    if (rc)
        return store_map_mdb_rc(rc, "mdb_stat audit");
    entries = st.ms_entries;
    rc = mdb_cursor_open(txn, s->audit, &cur);
    if (rc)
        return store_map_mdb_rc(rc, "mdb_cursor_open audit");
    while ((!step || done < step) &&
           (rc = mdb_cursor_get(cur, &key, &val, MDB_FIRST)) == 0) {
        int over = s->audit_max > 0 && (long long)entries > s->audit_max;

        if (key.mv_size != KEY_LEN) {
            rc = store_corrupt("audit log key in", s->root);
            goto cursor_close;
        }
        if (!over && (long long)get_be(key.mv_data, 8) >= cutoff)
            break;
        /*
         * An entry a webhook has not passed stays, whatever the bounds:
         * the log is their outbox (store/hooks.c). Read once, and only
         * when something would go: an append that prunes nothing pays
         * nothing for it.
         */
        if (hold == LLONG_MIN) {
            rc = store_hooks_hold(s, txn, &hold);
            if (rc)
                goto cursor_close;
        }
        if ((long long)get_be(key.mv_data, 8) > hold)
            break;
        rc = mdb_cursor_del(cur, 0);
        if (rc)
            break;
        entries--;
        done++;
    }
    rc = rc == 0 || rc == MDB_NOTFOUND ? STORE_OK
                                       : store_map_mdb_rc(rc, "prune audit");
cursor_close:
    mdb_cursor_close(cur);
    if (rc == STORE_OK && n)
        *n += done;
    return rc;
}

size_t store_audit_value(const struct store_audit_entry *e, char *vbuf)
{
    size_t n = 0;

    field(vbuf, &n, e->event, NAME_MAX_LEN);
    field(vbuf, &n, e->user, STORE_AUDIT_USER_MAX);
    field(vbuf, &n, e->addr, STORE_AUDIT_ADDR_MAX);
    field(vbuf, &n, e->repo, NAME_MAX_LEN);
    field(vbuf, &n, e->ref, NAME_MAX_LEN);
    field(vbuf, &n, e->digest, NAME_MAX_LEN);
    field(vbuf, &n, e->old, NAME_MAX_LEN);
    field(vbuf, &n, e->note, NOTE_MAX);
    return n;
}

/* The entry of e within txn; e->user and e->addr are the actor's. */
static int append(struct store *s, MDB_txn *txn,
                  const struct store_audit_entry *e)
{
    unsigned char kbuf[KEY_LEN];
    char vbuf[STORE_AUDIT_VALUE_MAX];
    long long t = now_us(s), last_t;
    MDB_cursor *cur;
    MDB_val key, val;
    size_t n;
    int rc;

    rc = mdb_cursor_open(txn, s->audit, &cur);
    if (rc)
        return store_map_mdb_rc(rc, "mdb_cursor_open audit");
    rc = mdb_cursor_get(cur, &key, &val, MDB_LAST);
    mdb_cursor_close(cur);
    if (rc == 0 && key.mv_size == KEY_LEN) {
        last_t = (long long)get_be(key.mv_data, 8);
        if (last_t >= t)
            t = last_t + 1;
    } else if (rc == 0) {
        return store_corrupt("audit log key in", s->root);
    } else if (rc != MDB_NOTFOUND) {
        return store_map_mdb_rc(rc, "mdb_cursor_get audit");
    }
    put_be(kbuf, (uint64_t)t, 8);
    n = store_audit_value(e, vbuf);
    key.mv_data = kbuf;
    key.mv_size = sizeof(kbuf);
    val.mv_data = vbuf;
    val.mv_size = n;
    rc = mdb_put(txn, s->audit, &key, &val, MDB_APPEND);
    if (rc)
        return store_map_mdb_rc(rc, "mdb_put audit");
    return prune(s, txn, t, PRUNE_STEP, NULL);
}

int store_audit_add(struct store *s, MDB_txn *txn, const char *event,
                    const char *repo, const char *ref, const char *digest,
                    const char *old)
{
    struct store_audit_entry e = {.event = event,
                                  .user = s->actor_user,
                                  .addr = s->actor_addr,
                                  .repo = repo,
                                  .ref = ref,
                                  .digest = digest,
                                  .old = old,
                                  .note = s->audit_why};

    if (!s->audit_on || !s->audit)
        return STORE_OK;
    return append(s, txn, &e);
}

int store_audit_note(struct store *s, const char *event, const char *repo,
                     const char *ref, const char *note)
{
    struct store_audit_entry e = {.event = event,
                                  .user = s->actor_user,
                                  .addr = s->actor_addr,
                                  .repo = repo,
                                  .ref = ref,
                                  .note = note};
    char buf[NOTE_MAX + 1];
    long long now = store_now(s);
    MDB_txn *txn;
    int rc;

    if (s->rdonly)
        return STORE_READONLY;
    if (!s->audit_on || !s->audit)
        return STORE_OK;
    /*
     * Anyone can send refused requests: at most NOTES_PER_SEC of them a
     * second cost this process a commit each; the others are counted, in
     * the note of the next one recorded.
     */
    if (now != s->notes_sec) {
        s->notes_sec = now;
        s->notes_n = 0;
    }
    if (s->notes_n >= NOTES_PER_SEC) {
        s->notes_left++;
        return STORE_OK;
    }
    s->notes_n++;
    if (s->notes_left) {
        snprintf(buf, sizeof(buf), "%s (and %lld more not recorded)",
                 note ? note : "", s->notes_left);
        e.note = buf;
    }
    /*
     * The commit's pages are flushed, LMDB's meta page is not (store_txn_end
     * would wait for it): as with sync = data, a power loss may undo the
     * last refusals, never damage the database. (MDB_NOSYNC would spare
     * the flush too, but then a power loss may damage it.)
     */
    rc = store_txn_begin(s, 0, &txn);
    if (rc)
        return rc;
    rc = append(s, txn, &e);
    if (rc) {
        mdb_txn_abort(txn);
        return rc;
    }
    rc = store_txn_commit(txn);
    if (rc == STORE_OK)
        s->notes_left = 0;
    return rc;
}

int store_audit_prune(struct store *s, long long limit, long long *n)
{
    MDB_txn *txn;
    long long done = 0;
    int rc;

    if (s->rdonly)
        return STORE_READONLY;
    if (!s->audit)
        return STORE_OK;
    rc = store_txn_begin(s, 0, &txn);
    if (rc)
        return rc;
    rc = store_txn_end(s, txn, prune(s, txn, now_us(s), limit, &done));
    if (rc == STORE_OK && n)
        *n = done;
    return rc;
}

/* Split the value of an entry into e's strings; -1 if it is not one. */
static int parse(const MDB_val *key, const MDB_val *val,
                 struct store_audit_entry *e)
{
    return store_audit_parse(key, val, e);
}

int store_audit_parse(const MDB_val *key, const MDB_val *val,
                      struct store_audit_entry *e)
{
    const char **f[NFIELDS] = {&e->event, &e->user,   &e->addr, &e->repo,
                               &e->ref,   &e->digest, &e->old,  &e->note};
    const char *p = val->mv_data, *end = p + val->mv_size;
    size_t i;

    if (key->mv_size != KEY_LEN || !val->mv_size || end[-1] != '\0')
        return -1;
    e->time_us = (long long)get_be(key->mv_data, 8);
    for (i = 0; i < NFIELDS; i++) {
        if (p >= end)
            return -1;
        *f[i] = p;
        p += strlen(p) + 1;
    }
    return p == end ? 0 : -1;
}

static int selected(const struct store_audit_query *q,
                    const struct store_audit_entry *e)
{
    return (!q->user || !strcmp(q->user, e->user)) &&
           (!q->repo || !strcmp(q->repo, e->repo));
}

/*
 * The oldest of the newest q->limit entries that q selects, within txn:
 * its time in *from_us, their number (at most q->limit) in *n.
 */
static int limit_start(struct store *s, MDB_txn *txn,
                       const struct store_audit_query *q, long long *from_us,
                       long long *n)
{
    struct store_audit_entry e;
    MDB_cursor *cur;
    MDB_val key, val;
    long long found = 0, at = q->since_us;
    int rc;

    rc = mdb_cursor_open(txn, s->audit, &cur);
    if (rc)
        return store_map_mdb_rc(rc, "mdb_cursor_open audit");
    for (rc = mdb_cursor_get(cur, &key, &val, MDB_LAST); rc == 0;
         rc = mdb_cursor_get(cur, &key, &val, MDB_PREV)) {
        if (parse(&key, &val, &e)) {
            rc = store_corrupt("audit log entry in", s->root);
            goto cursor_close;
        }
        if (e.time_us < q->since_us)
            break;
        if (selected(q, &e)) {
            at = e.time_us;
            if (++found == q->limit)
                break;
        }
    }
    rc = rc == 0 || rc == MDB_NOTFOUND
             ? STORE_OK
             : store_map_mdb_rc(rc, "mdb_cursor_get audit");
    if (rc == STORE_OK) {
        *from_us = at;
        *n = found;
    }
cursor_close:
    mdb_cursor_close(cur);
    return rc;
}

/* Entries copied out of a read transaction: key, value length, value. */
struct held {
    char *buf;
    size_t len, cap;
    int n;
};

static void hold(struct held *h, const MDB_val *key, const MDB_val *val)
{
    size_t need = KEY_LEN + sizeof(size_t) + val->mv_size;

    if (h->len + need > h->cap) {
        h->cap = 2 * (h->len + need);
        h->buf = xrealloc(h->buf, h->cap);
    }
    memcpy(h->buf + h->len, key->mv_data, KEY_LEN);
    memcpy(h->buf + h->len + KEY_LEN, &val->mv_size, sizeof(size_t));
    memcpy(h->buf + h->len + KEY_LEN + sizeof(size_t), val->mv_data,
           val->mv_size);
    h->len += need;
    h->n++;
}

/*
 * Up to WALK_BATCH entries that q selects from time *from_us to until_us
 * (at most left of them when it is not negative), copied into h within
 * one read transaction; *from_us moves past the last entry looked at,
 * *end says whether the walk is over.
 */
static int take_batch(struct store *s, const struct store_audit_query *q,
                      long long *from_us, long long until_us, long long left,
                      struct held *h, int *end)
{
    unsigned char from[KEY_LEN];
    struct store_audit_entry e;
    MDB_cursor *cur;
    MDB_txn *txn;
    MDB_val key, val;
    int rc;

    h->len = 0;
    h->n = 0;
    *end = 0;
    rc = store_txn_begin(s, MDB_RDONLY, &txn);
    if (rc)
        return rc;
    rc = mdb_cursor_open(txn, s->audit, &cur);
    if (rc) {
        rc = store_map_mdb_rc(rc, "mdb_cursor_open audit");
        goto txn_abort;
    }
    put_be(from, (uint64_t)*from_us, 8);
    key.mv_data = from;
    key.mv_size = sizeof(from);
    for (rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);
         rc == 0 && h->n < WALK_BATCH && (left < 0 || h->n < left);
         rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
        if (parse(&key, &val, &e)) {
            rc = store_corrupt("audit log entry in", s->root);
            goto cursor_close;
        }
        if (e.time_us > until_us) {
            rc = MDB_NOTFOUND; /* added since the walk began */
            break;
        }
        *from_us = e.time_us + 1;
        if (selected(q, &e))
            hold(h, &key, &val);
    }
    *end = rc == MDB_NOTFOUND || (left >= 0 && h->n >= left);
    rc = rc == 0 || rc == MDB_NOTFOUND
             ? STORE_OK
             : store_map_mdb_rc(rc, "mdb_cursor_get audit");
cursor_close:
    mdb_cursor_close(cur);
txn_abort:
    mdb_txn_abort(txn);
    return rc;
}

int store_audit_walk(struct store *s, const struct store_audit_query *q,
                     store_audit_fn *fn, void *ctx)
{
    struct held h = {NULL, 0, 0, 0};
    struct store_audit_entry e;
    long long from = q->since_us > 0 ? q->since_us : 0, left = -1, until = 0;
    MDB_cursor *cur;
    MDB_val key, val;
    MDB_txn *txn;
    size_t at;
    int rc, end = 0;

    if (!s->audit)
        return STORE_OK;
    /*
     * The entries there are now, and no later one: an fn that writes
     * (and so adds entries) still comes to an end. With a limit, from the
     * oldest of the newest limit entries on.
     */
    rc = store_txn_begin(s, MDB_RDONLY, &txn);
    if (rc)
        return rc;
    rc = mdb_cursor_open(txn, s->audit, &cur);
    if (rc == 0) {
        rc = mdb_cursor_get(cur, &key, &val, MDB_LAST);
        mdb_cursor_close(cur);
    }
    if (rc == 0 && parse(&key, &val, &e) == 0)
        until = e.time_us;
    else if (rc == 0)
        rc = store_corrupt("audit log entry in", s->root);
    else if (rc == MDB_NOTFOUND)
        end = 1;
    else
        rc = store_map_mdb_rc(rc, "mdb_cursor_get audit");
    if (rc == MDB_NOTFOUND)
        rc = STORE_OK;
    if (rc == STORE_OK && !end && q->limit > 0) {
        rc = limit_start(s, txn, q, &from, &left);
        end = left == 0;
    }
    mdb_txn_abort(txn);
    /*
     * In batches, each read in a short transaction of its own and handed
     * to fn after it: fn may take its time (a pager on the other end of
     * berthctl log's pipe) without a reader holding LMDB's old pages.
     */
    while (rc == STORE_OK && !end) {
        rc = take_batch(s, q, &from, until, left, &h, &end);
        for (at = 0; rc == STORE_OK && at < h.len;) {
            key.mv_data = h.buf + at;
            key.mv_size = KEY_LEN;
            memcpy(&val.mv_size, h.buf + at + KEY_LEN, sizeof(size_t));
            val.mv_data = h.buf + at + KEY_LEN + sizeof(size_t);
            at += KEY_LEN + sizeof(size_t) + val.mv_size;
            BUG_ON(parse(&key, &val, &e)); /* take_batch() parsed it */
            rc = fn(ctx, &e);
        }
        if (left >= 0)
            left -= h.n;
    }
    free(h.buf);
    return rc;
}

int store_audit_pull(struct store *s, const char *repo, const char *ref,
                     const char *digest)
{
    MDB_txn *txn;
    int rc;

    if (s->rdonly)
        return STORE_READONLY;
    if (!s->audit_on || !s->audit)
        return STORE_OK;
    /* as store_audit_note(): the meta page is not flushed for a pull */
    rc = store_txn_begin(s, 0, &txn);
    if (rc)
        return rc;
    rc = store_audit_add(s, txn, "pull", repo, ref, digest, NULL);
    if (rc) {
        mdb_txn_abort(txn);
        return rc;
    }
    return store_txn_commit(txn);
}

int store_audit_next(struct store *s, long long after_us,
                     struct store_audit_copy *out)
{
    unsigned char from[KEY_LEN];
    struct store_audit_entry e;
    MDB_cursor *cur;
    MDB_txn *txn;
    MDB_val key, val;
    int rc;

    if (!s->audit)
        return STORE_NOTFOUND;
    rc = store_txn_begin(s, MDB_RDONLY, &txn);
    if (rc)
        return rc;
    rc = mdb_cursor_open(txn, s->audit, &cur);
    if (rc) {
        rc = store_map_mdb_rc(rc, "mdb_cursor_open audit");
        goto txn_abort;
    }
    put_be(from, (uint64_t)(after_us + 1), 8);
    key.mv_data = from;
    key.mv_size = sizeof(from);
    rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);
    if (rc == MDB_NOTFOUND) {
        rc = STORE_NOTFOUND;
    } else if (rc) {
        rc = store_map_mdb_rc(rc, "mdb_cursor_get audit");
    } else if (parse(&key, &val, &e) || val.mv_size > sizeof(out->buf)) {
        rc = store_corrupt("audit log entry in", s->root);
    } else {
        memcpy(out->buf, val.mv_data, val.mv_size);
        val.mv_data = out->buf;
        BUG_ON(parse(&key, &val, &out->e));
    }
    mdb_cursor_close(cur);
txn_abort:
    mdb_txn_abort(txn);
    return rc;
}

int store_audit_last(struct store *s, long long *time_us)
{
    MDB_txn *txn;
    int rc;

    if (!s->audit) {
        *time_us = 0;
        return STORE_OK;
    }
    rc = store_txn_begin(s, MDB_RDONLY, &txn);
    if (rc)
        return rc;
    rc = store_audit_last_in(s, txn, time_us);
    mdb_txn_abort(txn);
    return rc;
}

int store_audit_last_in(struct store *s, MDB_txn *txn, long long *time_us)
{
    MDB_cursor *cur;
    MDB_val key, val;
    int rc;

    rc = mdb_cursor_open(txn, s->audit, &cur);
    if (rc)
        return store_map_mdb_rc(rc, "mdb_cursor_open audit");
    rc = mdb_cursor_get(cur, &key, &val, MDB_LAST);
    mdb_cursor_close(cur);
    if (rc == MDB_NOTFOUND) {
        *time_us = 0;
        return STORE_OK;
    }
    if (rc)
        return store_map_mdb_rc(rc, "mdb_cursor_get audit");
    if (key.mv_size != KEY_LEN)
        return store_corrupt("audit log key in", s->root);
    *time_us = (long long)get_be(key.mv_data, 8);
    return STORE_OK;
}

long long store_audit_count_after(struct store *s, MDB_txn *txn,
                                  long long after_us, long long max)
{
    unsigned char from[KEY_LEN];
    MDB_cursor *cur;
    MDB_val key, val;
    long long n = 0;
    int rc;

    if (mdb_cursor_open(txn, s->audit, &cur))
        return -1;
    put_be(from, (uint64_t)(after_us + 1), 8);
    key.mv_data = from;
    key.mv_size = sizeof(from);
    for (rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);
         rc == 0 && n < max; rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT))
        n++;
    mdb_cursor_close(cur);
    return n;
}
