#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl/ctl.h"
#include "ctl/out.h"
#include "store/store.h"

/*
 * berthctl log: the entries of the audit log (store_audit_walk), oldest
 * first: a line each, "TIME EVENT key=value...", with the keys that have
 * a value (logfmt: a value with a space, a quote or a control character
 * is quoted), or with --json one document {"entries": [...]} whose
 * entries have every key. Read-only: it runs beside berth and its GC.
 */

struct log_run {
    json_t *list; /* --json */
    long long n;
};

/* " key=value", quoted as logfmt wants; nothing for an empty value. */
static void logfmt(const char *key, const char *value)
{
    const unsigned char *p;
    int bare = 1;

    if (!value[0])
        return;
    for (p = (const unsigned char *)value; *p && bare; p++)
        bare = *p > ' ' && *p < 0x7f && *p != '"' && *p != '=';
    if (bare) {
        printf(" %s=%s", key, value);
        return;
    }
    printf(" %s=\"", key);
    for (p = (const unsigned char *)value; *p; p++) {
        if (*p == '"' || *p == '\\')
            printf("\\%c", *p);
        else if (*p < ' ' || *p == 0x7f)
            printf("\\x%02x", *p);
        else
            putchar(*p);
    }
    putchar('"');
}

/* A string of the log for JSON: invalid UTF-8 (a user name) as "?". */
static json_t *jstr(const char *s)
{
    json_t *j = json_string(s);

    return j ? j : json_string("?");
}

static int entry(void *ctx, const struct store_audit_entry *e)
{
    struct log_run *r = ctx;
    char t[OUT_TIME_MAX];

    out_time_us(e->time_us, t);
    r->n++;
    if (r->list) {
        json_array_append_new(
            r->list,
            json_pack("{s:s, s:I, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
                      "time", t, "time_us", (json_int_t)e->time_us, "event",
                      e->event, "user", jstr(e->user), "addr", jstr(e->addr),
                      "repository", jstr(e->repo), "reference", jstr(e->ref),
                      "digest", jstr(e->digest), "old", jstr(e->old), "note",
                      jstr(e->note)));
        return STORE_OK;
    }
    printf("%s %s", t, e->event);
    /* anonymous is a user too: the key stays, empty */
    if (e->user[0])
        logfmt("user", e->user);
    else
        printf(" user=\"\"");
    logfmt("addr", e->addr);
    logfmt("repo", e->repo);
    logfmt("ref", e->ref);
    if (strcmp(e->ref, e->digest))
        logfmt("digest", e->digest);
    logfmt("old", e->old);
    logfmt("note", e->note);
    putchar('\n');
    return ferror(stdout) ? STORE_IO : STORE_OK;
}

int cmd_log(struct ctl *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"user", required_argument, NULL, 'u'},
        {"repo", required_argument, NULL, 'r'},
        {"since", required_argument, NULL, 's'},
        {"limit", required_argument, NULL, 'l'},
        {NULL, 0, NULL, 0},
    };
    struct store_audit_query q;
    struct log_run r;
    char *end;
    int opt, rc, status;

    memset(&q, 0, sizeof(q));
    memset(&r, 0, sizeof(r));
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case 'u':
            q.user = optarg;
            break;
        case 'r':
            q.repo = optarg;
            break;
        case 's':
            if (out_parse_since(optarg, (long long)time(NULL), &q.since_us))
                return ctl_usage(c,
                                 "--since takes an RFC 3339 time "
                                 "(2026-12-02T09:30:00Z) or a duration back "
                                 "from now (30m, 24h, 7d), not '%s'",
                                 optarg);
            break;
        case 'l':
            errno = 0;
            q.limit = strtoll(optarg, &end, 10);
            if (errno || end == optarg || *end || q.limit < 1)
                return ctl_usage(c, "--limit takes a number above 0, not '%s'",
                                 optarg);
            break;
        default:
            return ctl_usage(c, NULL);
        }
    }
    if (optind != argc)
        return ctl_usage(c, "log takes no arguments");
    status = ctl_open(c, 0);
    if (status)
        return status;
    if (c->json)
        r.list = json_array();
    rc = store_audit_walk(c->s, &q, entry, &r);
    if (rc) {
        json_decref(r.list);
        return ctl_store_error(rc, "read the audit log of '%s'", c->cfg.root);
    }
    if (c->json)
        return out_json(json_pack("{s:o}", "entries", r.list)) ? CTL_UNUSABLE
                                                               : CTL_OK;
    if (fflush(stdout))
        return CTL_UNUSABLE;
    if (!r.n && !c->quiet && !c->cfg.audit)
        ctl_error("the audit log is off in '%s' (audit = off)", c->cfg.file);
    return CTL_OK;
}
