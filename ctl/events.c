#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl.h"
#include "ctl/out.h"
#include "store/store.h"

/*
 * berthctl events: the webhooks' state (store/hooks.c). Without options,
 * a line per hook: its name, the time of the last event it passed, how
 * many entries of the audit log are after it, its dead letters. --dead:
 * the dead letters, a line each (the id, the hook, when it last failed,
 * the event, and why). --retry ID | --retry-all: queue dead letters
 * again; the sender delivers them within a second or so, once each, and
 * those that fail again stay, not queued. --drop ID | --drop-all: forget
 * dead letters (not those queued again). --json: one document.
 */

struct events_run {
    json_t *list; /* --json */
    long long n;
};

static json_t *jstr(const char *s)
{
    json_t *j = json_string(s);

    return j ? j : json_string("?");
}

static int hook_line(void *ctx, const struct store_hook_info *h)
{
    struct events_run *r = ctx;
    char t[OUT_TIME_MAX];

    out_time_us(h->cursor, t);
    r->n++;
    if (r->list) {
        json_array_append_new(
            r->list,
            json_pack("{s:s, s:s, s:I, s:I, s:I}", "name", h->name, "cursor", t,
                      "cursor_us", (json_int_t)h->cursor, "backlog",
                      (json_int_t)h->backlog, "dead", (json_int_t)h->dead));
        return STORE_OK;
    }
    printf("%s cursor=%s backlog=%lld dead=%lld\n", h->name, t, h->backlog,
           h->dead);
    return ferror(stdout) ? STORE_IO : STORE_OK;
}

static int dead_line(void *ctx, const struct store_hook_dead *d)
{
    struct events_run *r = ctx;
    char t[OUT_TIME_MAX], id[20];

    out_time_us(d->failed * 1000000LL, t);
    snprintf(id, sizeof(id), "%016llx", (unsigned long long)d->e.time_us);
    r->n++;
    if (r->list) {
        json_array_append_new(
            r->list,
            json_pack("{s:s, s:s, s:s, s:I, s:b, s:s, s:o, s:o, s:o, s:o, "
                      "s:o}",
                      "id", id, "hook", d->hook, "failed", t, "attempts",
                      (json_int_t)d->attempts, "queued", d->queued, "event",
                      d->e.event, "repository", jstr(d->e.repo), "reference",
                      jstr(d->e.ref), "digest", jstr(d->e.digest), "user",
                      jstr(d->e.user), "why", jstr(d->why)));
        return STORE_OK;
    }
    printf("%s %s %s %s repo=%s ref=%s attempts=%lld%s why=\"%s\"\n", id,
           d->hook, t, d->e.event, d->e.repo, d->e.ref, d->attempts,
           d->queued ? " queued" : "", d->why);
    return ferror(stdout) ? STORE_IO : STORE_OK;
}

int cmd_events(struct ctl *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"dead", no_argument, NULL, 'd'},
        {"retry", required_argument, NULL, 'r'},
        {"retry-all", no_argument, NULL, 'a'},
        {"drop", required_argument, NULL, 'x'},
        {"drop-all", no_argument, NULL, 'X'},
        {"hook", required_argument, NULL, 'k'},
        {NULL, 0, NULL, 0},
    };
    struct events_run r;
    const char *hook = NULL;
    long long id = 0, n = 0, hold = 0;
    int opt, rc, status, dead = 0, retry = 0, drop = 0;
    char *end;

    memset(&r, 0, sizeof(r));
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case 'd':
            dead = 1;
            break;
        case 'r':
        case 'x':
            errno = 0;
            id = (long long)strtoull(optarg, &end, 16);
            if (errno || end == optarg || *end || id <= 0)
                return ctl_usage(c,
                                 "--%s takes the id of a dead letter (16 "
                                 "hex digits, as --dead shows), not '%s'",
                                 opt == 'r' ? "retry" : "drop", optarg);
            retry = opt == 'r';
            drop = opt == 'x';
            break;
        case 'a':
        case 'X':
            retry = opt == 'a';
            drop = opt == 'X';
            id = 0;
            break;
        case 'k':
            hook = optarg;
            break;
        default:
            return ctl_usage(c, NULL);
        }
    }
    if (optind != argc)
        return ctl_usage(c, "events takes no arguments");
    if (dead + retry + drop > 1)
        return ctl_usage(c, "one of --dead, --retry and --drop");
    status = ctl_open(c, retry || drop);
    if (status)
        return status;
    if (retry || drop) {
        rc = retry ? store_hook_dead_retry(c->s, hook, id, &n)
                   : store_hook_dead_drop(c->s, hook, id, &n);
        if (rc == STORE_NOTFOUND) {
            ctl_error("no dead letter to %s", retry ? "retry" : "drop");
            return CTL_REFUSED;
        }
        if (rc)
            return ctl_store_error(rc, "%s the dead letters of '%s'",
                                   retry ? "queue" : "drop", c->cfg.root);
        if (c->json)
            return out_json(json_pack("{s:I}", retry ? "queued" : "dropped",
                                      (json_int_t)n))
                       ? CTL_UNUSABLE
                       : CTL_OK;
        if (!c->quiet)
            printf("%lld dead letter%s %s\n", n, n == 1 ? "" : "s",
                   retry ? "queued again" : "dropped");
        return fflush(stdout) ? CTL_UNUSABLE : CTL_OK;
    }
    if (c->json)
        r.list = json_array();
    rc = dead ? store_hook_dead_walk(c->s, hook, 0, dead_line, &r)
              : store_hooks_walk(c->s, hook_line, &r, &hold);
    if (rc) {
        json_decref(r.list);
        return ctl_store_error(rc, "read the webhooks' state of '%s'",
                               c->cfg.root);
    }
    if (c->json)
        return out_json(
                   dead ? json_pack("{s:o}", "dead", r.list)
                        : json_pack("{s:o, s:I}", "hooks", r.list, "hold_us",
                                    (json_int_t)(hold == LLONG_MAX ? 0 : hold)))
                   ? CTL_UNUSABLE
                   : CTL_OK;
    if (fflush(stdout))
        return CTL_UNUSABLE;
    if (!r.n && !c->quiet && !dead && !c->cfg.webhooks[0])
        ctl_error("no webhooks in '%s' (webhooks = FILE)", c->cfg.file);
    return CTL_OK;
}
