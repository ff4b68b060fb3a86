#include "config.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_private.h"
#include "util/log.h"
#include "util/xalloc.h"

/*
 * The webhooks' delivery state (store.h, "webhooks' delivery state"): a
 * cursor per hook, their least (the hold, which store/audit.c's pruning
 * reads), and the dead letters. The layout is in store_private.h.
 */

#define DEAD_HEAD   17 /* failed (8), attempts (8), queued (1) */
#define WHY_MAX     255
#define BACKLOG_MAX 1000000LL
/* the dead letters store_hook_dead_walk() reads in one transaction */
#define DEAD_BATCH 64

static void put_be(unsigned char *p, uint64_t v)
{
    int n = 8;

    while (n--) {
        p[n] = (unsigned char)(v & 0xff);
        v >>= 8;
    }
}

static uint64_t get_be(const unsigned char *p)
{
    uint64_t v = 0;
    int i;

    for (i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* The key of name's cursor, "c<name>", in buf; its length. */
static size_t cursor_key(const char *name, char *buf)
{
    size_t n = strlen(name);

    buf[0] = 'c';
    memcpy(buf + 1, name, n);
    return n + 1;
}

/* "d<name>\0" and, with id, the 8 bytes of the id; its length */
static size_t dead_key(const char *name, long long id, int with_id,
                       unsigned char *buf)
{
    size_t n = strlen(name);

    buf[0] = 'd';
    memcpy(buf + 1, name, n);
    buf[n + 1] = '\0';
    if (!with_id)
        return n + 2;
    put_be(buf + n + 2, (uint64_t)id);
    return n + 10;
}

static int check_name(const char *name)
{
    return name && *name && strlen(name) <= STORE_HOOK_NAME_MAX ? STORE_OK
                                                                : STORE_TOOBIG;
}

int store_hooks_hold(struct store *s, MDB_txn *txn, long long *hold)
{
    MDB_val key = {1, "h"}, val;
    int rc;

    if (!s->hooks) {
        *hold = LLONG_MAX;
        return STORE_OK;
    }
    rc = mdb_get(txn, s->hooks, &key, &val);
    if (rc == MDB_NOTFOUND) {
        *hold = LLONG_MAX;
        return STORE_OK;
    }
    if (rc)
        return store_map_mdb_rc(rc, "mdb_get hooks hold");
    if (val.mv_size != 8)
        return store_corrupt("webhooks hold in", s->root);
    *hold = (long long)get_be(val.mv_data);
    return STORE_OK;
}

/* Set the hold to the least cursor within txn (none: no hold). */
static int set_hold(struct store *s, MDB_txn *txn)
{
    unsigned char buf[8];
    long long least = LLONG_MAX, t;
    MDB_cursor *cur;
    MDB_val key = {1, "c"}, val;
    int rc;

    rc = mdb_cursor_open(txn, s->hooks, &cur);
    if (rc)
        return store_map_mdb_rc(rc, "mdb_cursor_open hooks");
    for (rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);
         rc == 0 && ((char *)key.mv_data)[0] == 'c';
         rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
        if (val.mv_size != 8) {
            mdb_cursor_close(cur);
            return store_corrupt("webhooks cursor in", s->root);
        }
        t = (long long)get_be(val.mv_data);
        if (t < least)
            least = t;
    }
    mdb_cursor_close(cur);
    if (rc && rc != MDB_NOTFOUND)
        return store_map_mdb_rc(rc, "mdb_cursor_get hooks");
    key.mv_size = 1;
    key.mv_data = "h";
    if (least == LLONG_MAX) {
        rc = mdb_del(txn, s->hooks, &key, NULL);
        return rc == 0 || rc == MDB_NOTFOUND
                   ? STORE_OK
                   : store_map_mdb_rc(rc, "mdb_del hooks hold");
    }
    put_be(buf, (uint64_t)least);
    val.mv_size = 8;
    val.mv_data = buf;
    rc = mdb_put(txn, s->hooks, &key, &val, 0);
    return rc ? store_map_mdb_rc(rc, "mdb_put hooks hold") : STORE_OK;
}

/* Whether name is among names[0..n). */
static int among(const char *name, size_t len, const char *const *names,
                 size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (strlen(names[i]) == len && !memcmp(names[i], name, len))
            return 1;
    }
    return 0;
}

/* Remove the cursors and dead letters of hooks not among names. */
static int drop_others(struct store *s, MDB_txn *txn, const char *const *names,
                       size_t n)
{
    MDB_cursor *cur;
    MDB_val key, val;
    const char *k;
    size_t len;
    int rc;

    rc = mdb_cursor_open(txn, s->hooks, &cur);
    if (rc)
        return store_map_mdb_rc(rc, "mdb_cursor_open hooks");
    for (rc = mdb_cursor_get(cur, &key, &val, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
        k = key.mv_data;
        if (k[0] == 'c')
            len = key.mv_size - 1;
        else if (k[0] == 'd')
            len = strnlen(k + 1, key.mv_size - 1);
        else
            continue;
        if (among(k + 1, len, names, n))
            continue;
        rc = mdb_cursor_del(cur, 0);
        if (rc)
            break;
    }
    mdb_cursor_close(cur);
    return rc == 0 || rc == MDB_NOTFOUND ? STORE_OK
                                         : store_map_mdb_rc(rc, "drop hooks");
}

static int sync_in(struct store *s, MDB_txn *txn, const char *const *names,
                   size_t n)
{
    char kbuf[STORE_HOOK_NAME_MAX + 1];
    unsigned char vbuf[8];
    long long last;
    MDB_val key, val;
    size_t i;
    int rc;

    rc = drop_others(s, txn, names, n);
    if (rc == STORE_OK && s->audit)
        rc = store_audit_last_in(s, txn, &last);
    else
        last = 0;
    for (i = 0; rc == STORE_OK && i < n; i++) {
        key.mv_size = cursor_key(names[i], kbuf);
        key.mv_data = kbuf;
        put_be(vbuf, (uint64_t)last);
        val.mv_size = 8;
        val.mv_data = vbuf;
        rc = mdb_put(txn, s->hooks, &key, &val, MDB_NOOVERWRITE);
        if (rc == MDB_KEYEXIST)
            rc = 0;
        if (rc)
            rc = store_map_mdb_rc(rc, "mdb_put hooks cursor");
    }
    return rc ? rc : set_hold(s, txn);
}

/* Begin a write on the hooks database. */
static int begin(struct store *s, MDB_txn **txn)
{
    if (s->rdonly)
        return STORE_READONLY;
    if (!s->hooks)
        return STORE_IO; /* a writer always has it (store.c) */
    return store_txn_begin(s, 0, txn);
}

/* End a write: commit on STORE_OK (no meta flush, see store.h) or abort. */
static int end(MDB_txn *txn, int rc)
{
    if (rc) {
        mdb_txn_abort(txn);
        return rc;
    }
    return store_txn_commit(txn);
}

int store_hooks_sync(struct store *s, const char *const *names, size_t n)
{
    MDB_txn *txn;
    size_t i;
    int rc;

    for (i = 0; i < n; i++) {
        if (check_name(names[i]))
            return STORE_TOOBIG;
    }
    rc = begin(s, &txn);
    return rc ? rc : end(txn, sync_in(s, txn, names, n));
}

static int cursor_in(struct store *s, MDB_txn *txn, const char *name,
                     long long *time_us)
{
    char kbuf[STORE_HOOK_NAME_MAX + 1];
    MDB_val key, val;
    int rc;

    key.mv_size = cursor_key(name, kbuf);
    key.mv_data = kbuf;
    rc = mdb_get(txn, s->hooks, &key, &val);
    if (rc == MDB_NOTFOUND)
        return STORE_NOTFOUND;
    if (rc)
        return store_map_mdb_rc(rc, "mdb_get hooks cursor");
    if (val.mv_size != 8)
        return store_corrupt("webhooks cursor in", s->root);
    *time_us = (long long)get_be(val.mv_data);
    return STORE_OK;
}

int store_hook_cursor(struct store *s, const char *name, long long *time_us)
{
    MDB_txn *txn;
    long long t = 0;
    int rc;

    if (check_name(name))
        return STORE_NOTFOUND;
    if (!s->hooks)
        return STORE_NOTFOUND;
    rc = store_txn_begin(s, MDB_RDONLY, &txn);
    if (rc)
        return rc;
    rc = cursor_in(s, txn, name, &t);
    mdb_txn_abort(txn);
    if (rc == STORE_OK)
        *time_us = t;
    return rc;
}

static int advance_in(struct store *s, MDB_txn *txn, const char *name,
                      long long time_us)
{
    char kbuf[STORE_HOOK_NAME_MAX + 1];
    unsigned char vbuf[8];
    long long was = 0;
    MDB_val key, val;
    int rc;

    rc = cursor_in(s, txn, name, &was);
    if (rc || was >= time_us)
        return rc;
    key.mv_size = cursor_key(name, kbuf);
    key.mv_data = kbuf;
    put_be(vbuf, (uint64_t)time_us);
    val.mv_size = 8;
    val.mv_data = vbuf;
    rc = mdb_put(txn, s->hooks, &key, &val, 0);
    if (rc)
        return store_map_mdb_rc(rc, "mdb_put hooks cursor");
    return set_hold(s, txn);
}

int store_hook_advance(struct store *s, const char *name, long long time_us)
{
    MDB_txn *txn;
    int rc;

    if (check_name(name))
        return STORE_NOTFOUND;
    rc = begin(s, &txn);
    return rc ? rc : end(txn, advance_in(s, txn, name, time_us));
}

static int dead_put(struct store *s, MDB_txn *txn, const char *name,
                    const struct store_audit_entry *e, long long attempts,
                    const char *why)
{
    unsigned char kbuf[STORE_HOOK_NAME_MAX + 10];
    char vbuf[DEAD_HEAD + WHY_MAX + 1 + STORE_AUDIT_VALUE_MAX];
    size_t wlen = why ? strnlen(why, WHY_MAX) : 0, n;
    MDB_val key, val;
    int rc;

    key.mv_size = dead_key(name, e->time_us, 1, kbuf);
    key.mv_data = kbuf;
    put_be((unsigned char *)vbuf, (uint64_t)store_now(s));
    put_be((unsigned char *)vbuf + 8, (uint64_t)attempts);
    vbuf[16] = 0;
    if (wlen)
        memcpy(vbuf + DEAD_HEAD, why, wlen);
    vbuf[DEAD_HEAD + wlen] = '\0';
    n = DEAD_HEAD + wlen + 1;
    n += store_audit_value(e, vbuf + n);
    val.mv_size = n;
    val.mv_data = vbuf;
    rc = mdb_put(txn, s->hooks, &key, &val, 0);
    return rc ? store_map_mdb_rc(rc, "mdb_put hooks dead letter") : STORE_OK;
}

int store_hook_dead_add(struct store *s, const char *name,
                        const struct store_audit_entry *e, long long attempts,
                        const char *why)
{
    long long was;
    MDB_txn *txn;
    int rc;

    if (check_name(name))
        return STORE_NOTFOUND;
    rc = begin(s, &txn);
    if (rc)
        return rc;
    rc = cursor_in(s, txn, name, &was);
    if (rc == STORE_OK)
        rc = dead_put(s, txn, name, e, attempts, why);
    if (rc == STORE_OK)
        rc = advance_in(s, txn, name, e->time_us);
    return end(txn, rc);
}

int store_hook_dead_del(struct store *s, const char *name, long long id)
{
    unsigned char kbuf[STORE_HOOK_NAME_MAX + 10];
    MDB_val key;
    MDB_txn *txn;
    int rc;

    if (check_name(name))
        return STORE_NOTFOUND;
    rc = begin(s, &txn);
    if (rc)
        return rc;
    key.mv_size = dead_key(name, id, 1, kbuf);
    key.mv_data = kbuf;
    rc = mdb_del(txn, s->hooks, &key, NULL);
    if (rc == MDB_NOTFOUND)
        rc = STORE_NOTFOUND;
    else if (rc)
        rc = store_map_mdb_rc(rc, "mdb_del hooks dead letter");
    return end(txn, rc);
}

/* Split a dead letter's key and value into d; -1 if they are not one. */
static int dead_parse(const MDB_val *key, const MDB_val *val,
                      struct store_hook_dead *d, char *name)
{
    const char *k = key->mv_data, *v = val->mv_data;
    size_t nlen, wlen;
    MDB_val ek, ev;

    if (key->mv_size < 11 || k[0] != 'd')
        return -1;
    nlen = strnlen(k + 1, key->mv_size - 1);
    if (nlen > STORE_HOOK_NAME_MAX || key->mv_size != nlen + 10)
        return -1;
    memcpy(name, k + 1, nlen);
    name[nlen] = '\0';
    if (val->mv_size < DEAD_HEAD + 1)
        return -1;
    wlen = strnlen(v + DEAD_HEAD, val->mv_size - DEAD_HEAD);
    if (DEAD_HEAD + wlen + 1 >= val->mv_size)
        return -1;
    ek.mv_size = 8;
    ek.mv_data = (char *)k + nlen + 2;
    ev.mv_size = val->mv_size - DEAD_HEAD - wlen - 1;
    ev.mv_data = (char *)v + DEAD_HEAD + wlen + 1;
    if (store_audit_parse(&ek, &ev, &d->e))
        return -1;
    d->hook = name;
    d->failed = (long long)get_be((const unsigned char *)v);
    d->attempts = (long long)get_be((const unsigned char *)v + 8);
    d->queued = v[16] != 0;
    d->why = v + DEAD_HEAD;
    return 0;
}

/*
 * The dead letters of hook name (NULL: of every hook) of id (0: all) that
 * are not queued: queue them again, or drop them. *n how many.
 */
static int dead_each(struct store *s, const char *name, long long id, int drop,
                     long long *n)
{
    unsigned char kbuf[STORE_HOOK_NAME_MAX + 10];
    char nbuf[STORE_HOOK_NAME_MAX + 1];
    struct store_hook_dead d;
    MDB_cursor *cur;
    MDB_val key, val;
    MDB_txn *txn;
    long long done = 0;
    char *copy;
    int rc;

    if (name && check_name(name))
        return STORE_NOTFOUND;
    rc = begin(s, &txn);
    if (rc)
        return rc;
    rc = mdb_cursor_open(txn, s->hooks, &cur);
    if (rc) {
        mdb_txn_abort(txn);
        return store_map_mdb_rc(rc, "mdb_cursor_open hooks");
    }
    key.mv_size = name ? dead_key(name, 0, 0, kbuf) : 1;
    key.mv_data = name ? (void *)kbuf : (void *)"d";
    for (rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
        if (((char *)key.mv_data)[0] != 'd')
            break;
        if (dead_parse(&key, &val, &d, nbuf)) {
            rc = store_corrupt("webhooks dead letter in", s->root);
            goto cursor_close;
        }
        if (name && strcmp(name, d.hook))
            break;
        if ((id && d.e.time_us != id) || d.queued)
            continue;
        if (drop) {
            rc = mdb_cursor_del(cur, 0);
        } else {
            /* a copy with queued set: val dies with the put */
            copy = xmalloc(val.mv_size);
            memcpy(copy, val.mv_data, val.mv_size);
            copy[16] = 1;
            val.mv_data = copy;
            rc = mdb_cursor_put(cur, &key, &val, MDB_CURRENT);
            free(copy);
        }
        if (rc)
            break;
        done++;
    }
    rc = rc == 0 || rc == MDB_NOTFOUND
             ? STORE_OK
             : store_map_mdb_rc(rc, drop ? "drop dead letters"
                                         : "retry dead letters");
    if (rc == STORE_OK && !done)
        rc = STORE_NOTFOUND;
cursor_close:
    mdb_cursor_close(cur);
    rc = end(txn, rc);
    if (rc == STORE_OK && n)
        *n = done;
    return rc;
}

int store_hook_dead_retry(struct store *s, const char *name, long long id,
                          long long *n)
{
    return dead_each(s, name, id, 0, n);
}

int store_hook_dead_drop(struct store *s, const char *name, long long id,
                         long long *n)
{
    return dead_each(s, name, id, 1, n);
}

/* Dead letters copied out of a transaction: key length, key, value
 * length, value, one after the other. */
struct held {
    char *buf;
    size_t len, cap;
};

static void hold_one(struct held *h, const MDB_val *key, const MDB_val *val)
{
    size_t need = 2 * sizeof(size_t) + key->mv_size + val->mv_size;

    if (h->len + need > h->cap) {
        h->cap = 2 * (h->len + need);
        h->buf = xrealloc(h->buf, h->cap);
    }
    memcpy(h->buf + h->len, &key->mv_size, sizeof(size_t));
    memcpy(h->buf + h->len + sizeof(size_t), key->mv_data, key->mv_size);
    h->len += sizeof(size_t) + key->mv_size;
    memcpy(h->buf + h->len, &val->mv_size, sizeof(size_t));
    memcpy(h->buf + h->len + sizeof(size_t), val->mv_data, val->mv_size);
    h->len += sizeof(size_t) + val->mv_size;
}

/* Up to DEAD_BATCH dead letters from key *from on (kept in from, which
 * moves past them), into h; *end at the end. */
static int dead_batch(struct store *s, const char *name, unsigned char *from,
                      size_t *flen, struct held *h, int *end_out)
{
    char nbuf[STORE_HOOK_NAME_MAX + 1];
    struct store_hook_dead d;
    MDB_cursor *cur;
    MDB_val key, val;
    MDB_txn *txn;
    int rc, n = 0;

    h->len = 0;
    *end_out = 1;
    rc = store_txn_begin(s, MDB_RDONLY, &txn);
    if (rc)
        return rc;
    rc = mdb_cursor_open(txn, s->hooks, &cur);
    if (rc) {
        mdb_txn_abort(txn);
        return store_map_mdb_rc(rc, "mdb_cursor_open hooks");
    }
    key.mv_size = *flen;
    key.mv_data = from;
    for (rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
        if (((char *)key.mv_data)[0] != 'd')
            break;
        if (dead_parse(&key, &val, &d, nbuf)) {
            rc = store_corrupt("webhooks dead letter in", s->root);
            break;
        }
        if (name && strcmp(name, d.hook))
            break;
        if (n == DEAD_BATCH) {
            /* the next batch starts here */
            memcpy(from, key.mv_data, key.mv_size);
            *flen = key.mv_size;
            *end_out = 0;
            break;
        }
        hold_one(h, &key, &val);
        n++;
    }
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    if (rc == STORE_CORRUPT)
        return rc;
    return rc == 0 || rc == MDB_NOTFOUND ? STORE_OK
                                         : store_map_mdb_rc(rc, "dead letters");
}

int store_hook_dead_walk(struct store *s, const char *name, int queued,
                         store_hook_dead_fn *fn, void *ctx)
{
    unsigned char from[STORE_HOOK_NAME_MAX + 10];
    char nbuf[STORE_HOOK_NAME_MAX + 1];
    struct held h = {NULL, 0, 0};
    struct store_hook_dead d;
    MDB_val key, val;
    size_t flen, at;
    int rc = STORE_OK, end_now = 0;

    if (!s->hooks)
        return STORE_OK;
    if (name && check_name(name))
        return STORE_OK;
    if (name) {
        flen = dead_key(name, 0, 0, from);
    } else {
        from[0] = 'd';
        flen = 1;
    }
    while (rc == STORE_OK && !end_now) {
        rc = dead_batch(s, name, from, &flen, &h, &end_now);
        for (at = 0; rc == STORE_OK && at < h.len;) {
            memcpy(&key.mv_size, h.buf + at, sizeof(size_t));
            key.mv_data = h.buf + at + sizeof(size_t);
            at += sizeof(size_t) + key.mv_size;
            memcpy(&val.mv_size, h.buf + at, sizeof(size_t));
            val.mv_data = h.buf + at + sizeof(size_t);
            at += sizeof(size_t) + val.mv_size;
            BUG_ON(dead_parse(&key, &val, &d, nbuf)); /* parsed before */
            if (!queued || d.queued)
                rc = fn(ctx, &d);
        }
    }
    free(h.buf);
    return rc;
}

/* The hooks as store_hooks_walk() reads them. */
struct info_copy {
    char name[STORE_HOOK_NAME_MAX + 1];
    long long cursor, backlog, dead;
};

static int walk_in(struct store *s, MDB_txn *txn, struct info_copy **out,
                   size_t *n, long long *hold)
{
    char nbuf[STORE_HOOK_NAME_MAX + 1];
    struct info_copy *v = NULL;
    MDB_cursor *cur;
    MDB_val key, val;
    size_t i, len, count = 0;
    int rc;

    rc = store_hooks_hold(s, txn, hold);
    if (rc)
        return rc;
    rc = mdb_cursor_open(txn, s->hooks, &cur);
    if (rc)
        return store_map_mdb_rc(rc, "mdb_cursor_open hooks");
    for (rc = mdb_cursor_get(cur, &key, &val, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
        const char *k = key.mv_data;

        if (k[0] == 'c') {
            len = key.mv_size - 1;
            if (len > STORE_HOOK_NAME_MAX || val.mv_size != 8) {
                rc = store_corrupt("webhooks cursor in", s->root);
                break;
            }
            v = xrealloc(v, (count + 1) * sizeof(*v));
            memcpy(v[count].name, k + 1, len);
            v[count].name[len] = '\0';
            v[count].cursor = (long long)get_be(val.mv_data);
            v[count].backlog =
                s->audit ? store_audit_count_after(s, txn, v[count].cursor,
                                                   BACKLOG_MAX)
                         : 0;
            v[count].dead = 0;
            count++;
        } else if (k[0] == 'd') {
            len = strnlen(k + 1, key.mv_size - 1);
            if (len > STORE_HOOK_NAME_MAX)
                continue;
            memcpy(nbuf, k + 1, len);
            nbuf[len] = '\0';
            /* 'c' sorts before 'd': the cursors are all read */
            for (i = 0; i < count; i++) {
                if (!strcmp(v[i].name, nbuf))
                    v[i].dead++;
            }
        }
    }
    mdb_cursor_close(cur);
    if (rc && rc != MDB_NOTFOUND && rc != STORE_CORRUPT)
        rc = store_map_mdb_rc(rc, "mdb_cursor_get hooks");
    if (rc == MDB_NOTFOUND)
        rc = STORE_OK;
    if (rc) {
        free(v);
        return rc;
    }
    *out = v;
    *n = count;
    return STORE_OK;
}

int store_hooks_walk(struct store *s, store_hook_info_fn *fn, void *ctx,
                     long long *hold)
{
    struct info_copy *v = NULL;
    struct store_hook_info info;
    long long h = LLONG_MAX;
    MDB_txn *txn;
    size_t i, n = 0;
    int rc;

    if (!s->hooks) {
        if (hold)
            *hold = LLONG_MAX;
        return STORE_OK;
    }
    rc = store_txn_begin(s, MDB_RDONLY, &txn);
    if (rc)
        return rc;
    rc = walk_in(s, txn, &v, &n, &h);
    mdb_txn_abort(txn);
    for (i = 0; rc == STORE_OK && i < n; i++) {
        info.name = v[i].name;
        info.cursor = v[i].cursor;
        info.backlog = v[i].backlog;
        info.dead = v[i].dead;
        rc = fn(ctx, &info);
    }
    free(v);
    if (rc == STORE_OK && hold)
        *hold = h;
    return rc;
}
