#ifndef BERTH_HOOKS_HOOKS_H
#define BERTH_HOOKS_HOOKS_H

#include <stddef.h>

/*
 * Webhooks: who hears of which changes, from a webhooks file (webhooks =
 * FILE in berth.conf), and what a receiver is sent. One hook a line:
 *
 *   # hook NAME URL [options]
 *   hook ci     https://ci.example/hook events=push,tag repos=team-a/[*]
 *   hook audit  http://127.0.0.1:9000/ secret=/etc/berth/hook.key
 *               format=cloudevents timeout=2s retries=5 backoff=500ms
 *
 * (one line each in the file; "[*]" stands for a plain '*', which cannot
 * follow '/' in C)
 *
 * NAME: letters, digits, '.', '_', '-', at most HOOK_NAME_MAX bytes, once
 * in a file: a hook's progress is kept under it (a renamed hook starts
 * over at the end of the log). URL: http:// or https://, at most
 * HOOK_URL_MAX bytes. Options, each at most once:
 *   events=E[,E...]   of push (a manifest put), tag (a put that moved a
 *                     tag to another manifest: a push too, so push takes
 *                     it as well), delete (of a tag, a manifest, a blob
 *                     link or a repository) and pull (a manifest GET or
 *                     HEAD; only with webhooks_pulls = on); default
 *                     push,tag,delete
 *   repos=GLOB        the repositories, a pattern of util/names.h;
 *                     default every one
 *   secret=FILE       the HMAC-SHA256 key, the file's bytes up to its
 *                     first newline (at most HOOK_SECRET_MAX); each body
 *                     is signed, in X-Berth-Signature: sha256=<hex>
 *   format=F          registry (default: the reference registry's
 *                     notification envelope) or cloudevents (CloudEvents
 *                     1.0, structured mode)
 *   timeout=D         one delivery's limit (default 5s)
 *   retries=N         how often a failed delivery is tried again before
 *                     the event becomes a dead letter (default 8; 0-100)
 *   backoff=D         the pause before the first retry, doubled for each
 *                     next one (default 1s) ...
 *   backoff_max=D     ... up to this (default 5m)
 * A duration D is digits and ms, s, m or h (seconds without one).
 *
 * '#' starts a comment; blank lines are ignored. Knows nothing of the
 * store or of HTTP: the sender (fcgi-app/sender.c) asks which hooks an
 * event goes to and what to send; hook_body() builds the body.
 */

#define HOOK_NAME_MAX   64
#define HOOK_URL_MAX    1000
#define HOOK_SECRET_MAX 256

/* kinds of events, the bits of struct hook's events */
#define HOOK_PUSH   1u
#define HOOK_TAG    2u
#define HOOK_DELETE 4u
#define HOOK_PULL   8u

enum hook_format { HOOK_FORMAT_REGISTRY, HOOK_FORMAT_CLOUDEVENTS };

/* One hook; everything lives as long as its struct hooks. */
struct hook {
    char name[HOOK_NAME_MAX + 1];
    char url[HOOK_URL_MAX + 1];
    unsigned events; /* HOOK_* */
    char repos[256]; /* "" : every repository */
    unsigned char secret[HOOK_SECRET_MAX];
    size_t secret_len; /* 0: no secret, no signature */
    enum hook_format format;
    long long timeout_ms;
    long long retries;
    long long backoff_ms, backoff_max_ms;
};

struct hooks; /* opaque: the hooks of one file */

/*
 * Read the webhooks file path (and the secret files it names). Return 0
 * and set *out (free it with hooks_free(), which accepts NULL), or -1 with
 * a one-line reason in err (errlen bytes, always terminated) naming the
 * file and line, as "webhooks.conf:3: unknown event 'push2'".
 */
int hooks_load(const char *path, struct hooks **out, char *err, size_t errlen);
void hooks_free(struct hooks *h);

/* Whether path reads as a webhooks file: hooks_load() and hooks_free(). */
int hooks_check(const char *path, char *err, size_t errlen);

/* How many hooks h has, and the i-th (i < hooks_count(h)), in file order */
size_t hooks_count(const struct hooks *h);
const struct hook *hooks_get(const struct hooks *h, size_t i);

/*
 * The kind (HOOK_*) of an audit log entry's event (struct
 * store_audit_entry: push, tag-delete, ... pull) with the manifest the
 * tag named before (old, "" or NULL: none), or 0 for an entry that is no
 * webhook event (denied, readonly-on, ...).
 */
unsigned hook_kind(const char *event, const char *old);

/* Whether an event of kind on repo goes to h: 1 or 0. */
int hook_wants(const struct hook *h, unsigned kind, const char *repo);

/* An event as the sender hands it to hook_body(); nothing is kept. */
struct hook_event {
    const char *id; /* stable across retries: X-Berth-Event-Id */
    long long time_us;
    unsigned kind;                         /* HOOK_*, not 0 */
    const char *repo, *ref, *digest, *old; /* "" when there is none */
    const char *user, *addr;               /* the actor */
    const char *media_type; /* the manifest's, or "" if unknown */
    long long size;         /* the manifest's bytes, or -1 if unknown */
    const char *host;       /* this registry: "host" or "host:port" */
    const char *instance;   /* this berth's instance id */
};

/* The Content-Type of h's bodies; static. */
const char *hook_content_type(const struct hook *h);

/*
 * The body of e for h, in h's format, as a NUL-terminated string the
 * caller frees, its length in *len. Registry: {"events":[{id, timestamp,
 * action (push, pull, delete), target {mediaType, size, digest, length,
 * repository, tag; no url: berth does not know its clients' address}, request
 * {id, addr, host, method, useragent}, actor {name}, source {addr,
 * instanceID}}]} as distribution's notifications/event.go has it. CloudEvents:
 * specversion 1.0, id, source, type (io.berth.push, .tag, .delete, .pull),
 * time, subject (repository:reference), datacontenttype application/json, data.
 */
char *hook_body(const struct hook *h, const struct hook_event *e, size_t *len);

/* Room for "sha256=" and 64 hex digits, and the NUL. */
#define HOOK_SIGNATURE_MAX 72

/*
 * The signature of body (len bytes) with h's secret, the value of
 * X-Berth-Signature: "sha256=" and the lowercase hex of HMAC-SHA256, in
 * out. Return 0, or -1 if h has no secret (out is then "").
 */
int hook_sign(const struct hook *h, const char *body, size_t len,
              char out[HOOK_SIGNATURE_MAX]);

/* The pause before retry n (1: the first), in ms: backoff * 2^(n-1), at
 * most backoff_max. */
long long hook_backoff_ms(const struct hook *h, long long n);

#endif
