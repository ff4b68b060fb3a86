#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "fcgi-app/hooks.h"
#include "fcgi-app/metrics.h"
#include "hooks/hooks.h"
#include "util/digest.h"
#include "util/log.h"
#include "util/xalloc.h"

/*
 * The webhooks' sender (fcgi-app/hooks.h). One loop over the hooks: each
 * has the event it is delivering (the next entry after its cursor that it
 * wants), how often that was tried, and when to try again. A hook's
 * events go one at a time, in the log's order, so a receiver sees each
 * repository's events in the order they committed. The cursor moves past
 * an event only once a receiver answered 2xx, or once the event became a
 * dead letter: a sender killed at any moment sends the event again
 * (at least once; X-Berth-Event-Id tells a receiver it had it). The
 * cursor is written every SAVE_MS while the sender is busy, and when it
 * is idle: a kill sends the events of the last SAVE_MS again.
 *
 * The hooks' posts go side by side (a libcurl multi handle, one post in
 * flight per hook): a hook whose receiver is slow or down holds up its
 * own events only, and never a push. A dead letter queued again
 * (berthctl events --retry) is posted once, waiting for the answer.
 */

/* How long the sender sleeps when there is nothing to do. */
#define IDLE_MS 200
/* The sender's nice value (setpriority(2)). */
#define SENDER_NICE 10
/* How often a busy sender writes a hook's cursor. */
#define SAVE_MS 100
/* How often it looks at the workers' lock, the files and the queued dead
 * letters. */
#define LOOK_MS 1000
/* The most of a receiver's answer read (the rest is dropped). */
#define WHY_MAX 200

/* A post: what libcurl reads from until it is done. */
struct post {
    char *body;
    struct curl_slist *hdr;
    char errbuf[CURL_ERROR_SIZE];
};

struct hook_state {
    const struct hook *h; /* in the struct hooks of the sender */
    CURL *curl;
    struct post post;   /* of the event in flight */
    int in_flight;      /* curl is in the sender's multi handle */
    long long cursor;   /* where the store has it */
    long long passed;   /* delivered or skipped up to here; saved later */
    long long saved_at; /* ms, monotonic: when cursor was last written */
    long long seen;     /* looked at up to here */
    int have;           /* ev holds the event under delivery */
    struct store_audit_copy ev;
    long long attempts;
    long long next_try; /* ms, monotonic */
};

struct sender {
    struct config cfg;
    struct store *s;
    CURLM *multi; /* the posts in flight, one per hook at most */
    struct hooks *hooks;
    struct hook_state *st;
    size_t n;
    char host[256];
    struct stat conf_st, hooks_st;
};

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void file_stat(const char *path, struct stat *st)
{
    if (stat(path, st))
        memset(st, 0, sizeof(*st));
}

static int stat_changed(const struct stat *a, const struct stat *b)
{
    return a->st_ino != b->st_ino || a->st_dev != b->st_dev ||
           a->st_size != b->st_size || a->st_mtim.tv_sec != b->st_mtim.tv_sec ||
           a->st_mtim.tv_nsec != b->st_mtim.tv_nsec;
}

static void post_release(struct post *p)
{
    curl_slist_free_all(p->hdr);
    free(p->body);
    p->hdr = NULL;
    p->body = NULL;
}

/* Drop the hooks' states; a post in flight is cut short (and its event
 * sent again by the next states: at least once). */
static void drop_states(struct sender *sd)
{
    size_t i;

    for (i = 0; i < sd->n; i++) {
        if (sd->st[i].in_flight)
            curl_multi_remove_handle(sd->multi, sd->st[i].curl);
        post_release(&sd->st[i].post);
        curl_easy_cleanup(sd->st[i].curl);
    }
    free(sd->st);
    sd->st = NULL;
    sd->n = 0;
    hooks_free(sd->hooks);
    sd->hooks = NULL;
}

/*
 * Read the webhooks file and make its hooks the store's. Returns 0, or -1
 * (logged) with the hooks in force unchanged.
 */
static int load(struct sender *sd)
{
    char err[PATH_MAX + 256];
    const char **names;
    struct hooks *h;
    size_t i, n;
    int rc;

    if (hooks_load(sd->cfg.webhooks, &h, err, sizeof(err))) {
        log_err("webhooks: %s; going on with the hooks in force", err);
        return -1;
    }
    n = hooks_count(h);
    names = xcalloc(n ? n : 1, sizeof(*names));
    for (i = 0; i < n; i++)
        names[i] = hooks_get(h, i)->name;
    rc = store_hooks_sync(sd->s, names, n);
    free(names);
    if (rc) {
        log_err("webhooks: cannot record the hooks in '%s': %s", sd->cfg.root,
                store_strerror(rc));
        hooks_free(h);
        return -1;
    }
    drop_states(sd);
    sd->hooks = h;
    sd->n = n;
    sd->st = xcalloc(n ? n : 1, sizeof(*sd->st));
    for (i = 0; i < n; i++) {
        struct hook_state *hs = &sd->st[i];

        hs->h = hooks_get(h, i);
        hs->curl = curl_easy_init();
        if (!hs->curl)
            BUG_ON("curl_easy_init failed"); /* out of memory */
        if (store_hook_cursor(sd->s, hs->h->name, &hs->cursor))
            hs->cursor = 0; /* synced just now: a race with a worker */
        hs->seen = hs->passed = hs->cursor;
    }
    log_info("webhooks: %zu hook%s from '%s'", n, n == 1 ? "" : "s",
             sd->cfg.webhooks);
    return 0;
}

static size_t drop_body(char *p, size_t size, size_t n, void *ctx)
{
    (void)p;
    (void)ctx;
    return size * n;
}

/*
 * Make curl the POST of event e to h's receiver, its body and headers in
 * p, which must stay where it is until post_end().
 */
static void post_start(struct sender *sd, const struct hook *h, CURL *curl,
                       const struct store_audit_entry *e, struct post *p)
{
    struct store_manifest_info info;
    char id[32], line[HOOK_SIGNATURE_MAX + 64];
    struct hook_event ev;
    struct digest d;
    size_t blen;

    snprintf(id, sizeof(id), "%016llx", (unsigned long long)e->time_us);
    memset(&ev, 0, sizeof(ev));
    ev.id = id;
    ev.time_us = e->time_us;
    ev.kind = hook_kind(e->event, e->old);
    ev.repo = e->repo;
    ev.ref = e->ref;
    ev.digest = e->digest;
    ev.old = e->old;
    ev.user = e->user;
    ev.addr = e->addr;
    ev.media_type = "";
    ev.size = -1;
    ev.host = sd->host;
    ev.instance = sd->host;
    /* what the store knows of the manifest, if it is still there */
    if (ev.kind != HOOK_DELETE && e->digest[0] &&
        digest_parse(&d, e->digest, strlen(e->digest)) == 0 &&
        store_manifest_get(sd->s, e->repo, NULL, &d, NULL, &info) == STORE_OK) {
        ev.media_type = info.media_type;
        ev.size = info.size;
    }
    post_release(p);
    p->body = hook_body(h, &ev, &blen);
    snprintf(line, sizeof(line), "Content-Type: %s", hook_content_type(h));
    p->hdr = curl_slist_append(p->hdr, line);
    snprintf(line, sizeof(line), "X-Berth-Event-Id: %s", id);
    p->hdr = curl_slist_append(p->hdr, line);
    snprintf(line, sizeof(line), "X-Berth-Event: %s", e->event);
    p->hdr = curl_slist_append(p->hdr, line);
    memcpy(line, "X-Berth-Signature: ", 19);
    if (hook_sign(h, p->body, blen, line + 19) == 0)
        p->hdr = curl_slist_append(p->hdr, line);
    p->hdr = curl_slist_append(p->hdr, "Expect:");
    BUG_ON(!p->hdr);

    curl_easy_reset(curl);
    p->errbuf[0] = '\0';
    curl_easy_setopt(curl, CURLOPT_URL, h->url);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, p->body);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)blen);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, p->hdr);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "berth/" PACKAGE_VERSION);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)h->timeout_ms);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, drop_body);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, p->errbuf);
    /* TLS is verified (libcurl's default), the proxy is the
     * environment's (http_proxy, https_proxy, no_proxy: libcurl's
     * default), redirects are not followed */
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
}

/*
 * The end of the post in p on curl, which libcurl ended with cc: 0 on a
 * 2xx answer, else -1 with what went wrong in why. Frees p's body.
 */
static int post_end(CURL *curl, struct post *p, CURLcode cc, char *why,
                    size_t len)
{
    long status = 0;
    int rc = -1;

    if (cc != CURLE_OK) {
        /* cut to what a dead letter keeps */
        snprintf(why, len, "%.180s",
                 p->errbuf[0] ? p->errbuf : curl_easy_strerror(cc));
    } else {
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
        if (status >= 200 && status < 300)
            rc = 0;
        else
            snprintf(why, len, "HTTP %ld", status);
    }
    post_release(p);
    return rc;
}

/* POST e to h's receiver and wait for the answer: post_end()'s result. */
static int deliver_now(struct sender *sd, const struct hook *h,
                       const struct store_audit_entry *e, char *why, size_t len)
{
    struct post p = {NULL, NULL, ""};
    CURL *curl = curl_easy_init();
    int rc;

    BUG_ON(!curl); /* out of memory */
    post_start(sd, h, curl, e, &p);
    rc = post_end(curl, &p, curl_easy_perform(curl), why, len);
    curl_easy_cleanup(curl);
    return rc;
}

/* Find hs's next event after what it has seen; 1 if there is one. */
static int next_event(struct sender *sd, struct hook_state *hs)
{
    int rc;

    for (;;) {
        rc = store_audit_next(sd->s, hs->seen, &hs->ev);
        if (rc)
            break;
        hs->seen = hs->ev.e.time_us;
        if (hook_wants(hs->h, hook_kind(hs->ev.e.event, hs->ev.e.old),
                       hs->ev.e.repo)) {
            hs->have = 1;
            hs->attempts = 0;
            return 1;
        }
        hs->passed = hs->seen; /* not wanted: passed */
    }
    if (rc != STORE_NOTFOUND)
        log_err("webhooks: cannot read the audit log: %s", store_strerror(rc));
    return 0;
}

/*
 * Write hs's cursor where it has passed, if it moved: at most every
 * SAVE_MS unless now. A cursor written late sends a few events again
 * after a kill (at least once, as ever); one write per delivery would
 * cost a commit per event.
 */
static void save(struct sender *sd, struct hook_state *hs, int now)
{
    long long t = now_ms();
    int rc;

    if (hs->passed <= hs->cursor || (!now && t - hs->saved_at < SAVE_MS))
        return;
    rc = store_hook_advance(sd->s, hs->h->name, hs->passed);
    if (rc) {
        log_err("webhooks: cannot move the cursor of '%s': %s", hs->h->name,
                store_strerror(rc));
        return;
    }
    hs->cursor = hs->passed;
    hs->saved_at = t;
}

static void save_all(struct sender *sd)
{
    size_t i;

    for (i = 0; i < sd->n; i++)
        save(sd, &sd->st[i], 1);
}

/* Start hs's next post if it is due; 1 if it started one. */
static int step(struct sender *sd, struct hook_state *hs)
{
    if (hs->in_flight || now_ms() < hs->next_try)
        return 0;
    if (!hs->have && !next_event(sd, hs))
        return 0;
    hs->attempts++;
    post_start(sd, hs->h, hs->curl, &hs->ev.e, &hs->post);
    curl_easy_setopt(hs->curl, CURLOPT_PRIVATE, (void *)hs);
    if (curl_multi_add_handle(sd->multi, hs->curl) != CURLM_OK) {
        post_release(&hs->post);
        hs->attempts--;
        hs->next_try = now_ms() + IDLE_MS;
        return 0;
    }
    hs->in_flight = 1;
    return 1;
}

/* hs's post ended with cc: on to the next event, a retry or a dead
 * letter. */
static void finish(struct sender *sd, struct hook_state *hs, CURLcode cc)
{
    char why[WHY_MAX];
    int rc;

    curl_multi_remove_handle(sd->multi, hs->curl);
    hs->in_flight = 0;
    if (post_end(hs->curl, &hs->post, cc, why, sizeof(why)) == 0) {
        metrics_hook(METRICS_HOOK_DELIVERED);
        hs->passed = hs->ev.e.time_us;
        save(sd, hs, 0);
        hs->have = 0;
        hs->next_try = 0;
        return;
    }
    if (hs->attempts <= hs->h->retries) {
        metrics_hook(METRICS_HOOK_FAILED);
        hs->next_try = now_ms() + hook_backoff_ms(hs->h, hs->attempts);
        log_debug("webhooks: '%s' failed (%s), try %lld of %lld", hs->h->name,
                  why, hs->attempts, hs->h->retries + 1);
        return;
    }
    log_warn("webhooks: event %016llx to '%s' is a dead letter after %lld "
             "tries: %s",
             (unsigned long long)hs->ev.e.time_us, hs->h->name, hs->attempts,
             why);
    metrics_hook(METRICS_HOOK_DEAD);
    /* the letter and the cursor past it in one transaction */
    rc = store_hook_dead_add(sd->s, hs->h->name, &hs->ev.e, hs->attempts, why);
    if (rc) {
        log_err("webhooks: cannot keep the dead letter of '%s': %s",
                hs->h->name, store_strerror(rc));
        hs->next_try = now_ms() + hs->h->backoff_max_ms;
        return;
    }
    hs->cursor = hs->passed = hs->ev.e.time_us;
    hs->have = 0;
    hs->next_try = 0;
}

/* Run the posts in flight; how many ended. */
static int run_posts(struct sender *sd, int *running)
{
    struct hook_state *hs;
    CURLMsg *msg;
    int left, ended = 0;

    curl_multi_perform(sd->multi, running);
    while ((msg = curl_multi_info_read(sd->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        hs = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&hs);
        BUG_ON(!hs);
        finish(sd, hs, msg->data.result);
        ended++;
    }
    return ended;
}

/* store_hook_dead_walk(): deliver a queued dead letter once more */
static int retry_one(void *ctx, const struct store_hook_dead *d)
{
    struct sender *sd = ctx;
    char why[WHY_MAX];
    size_t i;

    for (i = 0; i < sd->n && strcmp(sd->st[i].h->name, d->hook); i++)
        ;
    if (i == sd->n)
        return STORE_OK;
    if (deliver_now(sd, sd->st[i].h, &d->e, why, sizeof(why)) == 0) {
        log_info("webhooks: dead letter %016llx delivered to '%s'",
                 (unsigned long long)d->e.time_us, d->hook);
        metrics_hook(METRICS_HOOK_DELIVERED);
        store_hook_dead_del(sd->s, d->hook, d->e.time_us);
    } else {
        metrics_hook(METRICS_HOOK_DEAD);
        store_hook_dead_add(sd->s, d->hook, &d->e, d->attempts + 1, why);
    }
    return STORE_OK;
}

/* Whether a worker still holds the workers' lock. */
static int workers_left(int fd)
{
    if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
        flock(fd, LOCK_UN);
        return 0;
    }
    return 1;
}

/* The config or the webhooks file changed: read them again. 0: go on,
 * 1: no webhooks any more. */
static int reread(struct sender *sd)
{
    struct stat cst, hst;
    char err[PATH_MAX + 256];
    struct config c;

    file_stat(sd->cfg.file, &cst);
    file_stat(sd->cfg.webhooks, &hst);
    if (!stat_changed(&cst, &sd->conf_st) && !stat_changed(&hst, &sd->hooks_st))
        return 0;
    sd->conf_st = cst;
    sd->hooks_st = hst;
    if (config_load(sd->cfg.file, &c, err, sizeof(err))) {
        log_err("webhooks: %s; going on with the hooks in force", err);
        return 0;
    }
    if (strcmp(c.root, sd->cfg.root))
        return 1; /* another store: its workers start their own */
    if (!c.webhooks[0])
        return 1;
    memcpy(sd->cfg.webhooks, c.webhooks, sizeof(c.webhooks));
    file_stat(sd->cfg.webhooks, &sd->hooks_st);
    save_all(sd); /* load() reads the cursors again */
    load(sd);
    return 0;
}

int sender_run(const struct config *cfg)
{
    struct store_options so;
    struct sender *sd;
    char path[PATH_MAX];
    long long next_look = 0;
    int lock_fd, workers_fd, did, running = 0, rc = 1;
    size_t i;

    log_level = cfg->log_level;
    if (!cfg->webhooks[0])
        return 0;
    if (snprintf(path, sizeof(path), "%s/hooks.lock", cfg->root) >=
        (int)sizeof(path))
        return 1;
    lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lock_fd < 0) {
        log_err("cannot open '%s': %s", path, strerror(errno));
        return 1;
    }
    if (flock(lock_fd, LOCK_EX | LOCK_NB)) {
        close(lock_fd);
        return 0; /* another sender */
    }
    if (snprintf(path, sizeof(path), "%s/hooks.workers", cfg->root) >=
        (int)sizeof(path)) {
        close(lock_fd);
        return 1;
    }
    workers_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (workers_fd < 0) {
        log_err("cannot open '%s': %s", path, strerror(errno));
        close(lock_fd);
        return 1;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
        log_err("webhooks: cannot start libcurl");
        goto close_fds;
    }
    sd = xcalloc(1, sizeof(*sd));
    sd->cfg = *cfg;
    sd->multi = curl_multi_init();
    BUG_ON(!sd->multi); /* out of memory */
    if (gethostname(sd->host, sizeof(sd->host) - 1))
        snprintf(sd->host, sizeof(sd->host), "berth");
    config_store_options(cfg, &so);
    if (store_open(cfg->root, &so, &sd->s))
        goto free_sender; /* logged */
    file_stat(sd->cfg.file, &sd->conf_st);
    file_stat(sd->cfg.webhooks, &sd->hooks_st);
    /*
     * A file that does not read (it changed since the workers checked
     * it) leaves the sender without hooks until it is fixed, holding the
     * lock: the workers do not start one a second, each saying the same.
     * The store keeps the hooks' cursors meanwhile, and the log with them.
     */
    load(sd);
    store_set_actor(sd->s, "webhooks", "local");
    if (cfg->metrics)
        metrics_open(cfg->root); /* one that fails is logged; no counts */
    /*
     * Below the workers: on a busy machine the pushes go first and the
     * events wait in the log, which holds them (a push never waits for
     * the sender, and never competes with it for a CPU at par).
     */
    if (setpriority(PRIO_PROCESS, 0, SENDER_NICE))
        log_debug("webhooks: cannot lower the sender's priority: %s",
                  strerror(errno));
    log_debug("webhooks: the sender runs");
    rc = 0;
    for (;;) {
        if (now_ms() >= next_look) {
            next_look = now_ms() + LOOK_MS;
            if (!workers_left(workers_fd) || reread(sd))
                break;
            store_hook_dead_walk(sd->s, NULL, 1, retry_one, sd);
        }
        did = 0;
        for (i = 0; i < sd->n; i++)
            did |= step(sd, &sd->st[i]);
        did |= run_posts(sd, &running);
        if (did)
            continue;
        if (!running)
            save_all(sd);
        /* until a post moves on, or the time to look at the log again */
        curl_multi_poll(sd->multi, NULL, 0, IDLE_MS, NULL);
    }
    save_all(sd);
    log_debug("webhooks: no worker left, the sender ends");
free_sender:
    metrics_close();
    drop_states(sd);
    curl_multi_cleanup(sd->multi);
    store_close(sd->s);
    free(sd);
    curl_global_cleanup();
close_fds:
    close(workers_fd);
    close(lock_fd);
    return rc;
}
