#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "upstream/upstream.h"
#include "util/log.h"
#include "util/xalloc.h"

/* The tokens kept per upstream, one per scope (a repository's pull). */
#define TOKENS        16
#define TOKEN_MAX     8192
#define SCOPE_MAX     (NAME_MAX_LEN + 64)
#define CRED_MAX      1024
#define CHALLENGE_MAX 2048
/* a token endpoint's answer is small; anything bigger is not one */
#define TOKEN_BODY_MAX (64 << 10)
/* libcurl's receive buffer: large, so that a blob comes in big pieces */
#define RECV_BUFFER (512L << 10)

struct token {
    char scope[SCOPE_MAX];
    char *value;  /* NULL: an empty slot */
    time_t until; /* when it expires, with a margin */
};

struct upstream {
    CURL *curl;
    char curl_err[CURL_ERROR_SIZE];      /* libcurl's detail of a failure */
    char *prefix, *url, *cred_file, *ca; /* the rule's, copied */
    long long revalidate, timeout;
    char cred[CRED_MAX]; /* "user:password", or "" */
    struct stat cred_st; /* of the credentials file when it was read */
    struct stat ca_st;   /* of the ca file when the client began */
    int basic;           /* the upstream asked for Basic */
    struct token tokens[TOKENS];
    unsigned next_token; /* the slot to take when all are used */
};

const char *upstream_strerror(int rc)
{
    switch (rc) {
    case UPSTREAM_OK:
        return "ok";
    case UPSTREAM_NOTFOUND:
        return "not found at the upstream";
    case UPSTREAM_DOWN:
        return "the upstream is down or too slow";
    case UPSTREAM_DENIED:
        return "the upstream refused the login";
    case UPSTREAM_BAD:
        return "the upstream's answer is malformed";
    case UPSTREAM_ABORTED:
        return "stopped";
    case UPSTREAM_TLS:
        return "cannot verify the upstream's TLS certificate";
    default:
        return "unknown upstream error";
    }
}

static char *dup_or_null(const char *s)
{
    size_t n;

    if (!s)
        return NULL;
    n = strlen(s) + 1;
    return memcpy(xmalloc(n), s, n);
}

static int read_cred(const char *path, char *out, struct stat *st, char *err,
                     size_t errlen)
{
    FILE *f = fopen(path, "r");
    size_t n;

    if (!f || fstat(fileno(f), st)) {
        snprintf(err, errlen, "cannot read credentials '%s': %s", path,
                 strerror(errno));
        if (f)
            fclose(f);
        return -1;
    }
    if (!fgets(out, CRED_MAX, f))
        out[0] = '\0';
    fclose(f);
    n = strcspn(out, "\r\n");
    out[n] = '\0';
    if (!strchr(out, ':')) {
        snprintf(err, errlen, "credentials '%s': expected 'user:password'",
                 path);
        out[0] = '\0';
        return -1;
    }
    return 0;
}

struct upstream *upstream_new(const struct mirror_upstream *u, char *err,
                              size_t errlen)
{
    static int global_done;
    struct upstream *c;

    if (!global_done) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
            snprintf(err, errlen, "cannot start libcurl");
            return NULL;
        }
        global_done = 1;
    }
    c = xcalloc(1, sizeof(*c));
    c->prefix = dup_or_null(u->prefix);
    c->url = dup_or_null(u->url);
    c->cred_file = dup_or_null(u->credentials);
    c->ca = dup_or_null(u->ca);
    c->revalidate = u->revalidate;
    c->timeout = u->timeout;
    if (c->cred_file &&
        read_cred(c->cred_file, c->cred, &c->cred_st, err, errlen))
        goto free_c;
    /* libcurl reads the file at the first TLS connection; one missing
     * now counts as changed when it comes */
    if (c->ca && stat(c->ca, &c->ca_st))
        memset(&c->ca_st, 0, sizeof(c->ca_st));
    c->curl = curl_easy_init();
    if (!c->curl) {
        snprintf(err, errlen, "cannot start libcurl");
        goto free_c;
    }
    return c;
free_c:
    upstream_free(c);
    return NULL;
}

void upstream_free(struct upstream *c)
{
    size_t i;

    if (!c)
        return;
    if (c->curl)
        curl_easy_cleanup(c->curl);
    for (i = 0; i < TOKENS; i++)
        free(c->tokens[i].value);
    free(c->prefix);
    free(c->url);
    free(c->cred_file);
    free(c->ca);
    free(c);
}

static int same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

int upstream_is(const struct upstream *c, const struct mirror_upstream *u)
{
    return same(c->prefix, u->prefix) && same(c->url, u->url) &&
           same(c->cred_file, u->credentials) && same(c->ca, u->ca) &&
           c->revalidate == u->revalidate && c->timeout == u->timeout;
}

/* Whether the file at path is not the one was describes: written in
 * place (mtime, size), replaced by a rename (inode), or gone. */
static int file_changed(const char *path, const struct stat *was)
{
    struct stat st;

    if (stat(path, &st))
        return 1;
    return st.st_ino != was->st_ino || st.st_dev != was->st_dev ||
           st.st_size != was->st_size ||
           st.st_mtim.tv_sec != was->st_mtim.tv_sec ||
           st.st_mtim.tv_nsec != was->st_mtim.tv_nsec;
}

int upstream_changed(const struct upstream *c)
{
    /* a new client: libcurl keeps the CA file it read for a day */
    return (c->cred_file && file_changed(c->cred_file, &c->cred_st)) ||
           (c->ca && file_changed(c->ca, &c->ca_st));
}

/* One transfer: what the head said, and where the body goes. */
struct xfer {
    struct upstream_answer a;
    char challenge[CHALLENGE_MAX]; /* WWW-Authenticate of a 401 */
    struct buf *body;              /* a manifest or a token: kept here */
    upstream_start_fn *start;      /* a blob: streamed */
    upstream_data_fn *data;
    void *ctx;
    int started;   /* start was called: the body is the blob's */
    int stopped;   /* a callback said stop */
    int too_long;  /* more than Content-Length, or than body->max */
    long long got; /* body bytes of the final answer */
};

/* Copy the value of header line h (after "Name:") into out, trimmed. */
static void header_value(const char *v, size_t len, char *out, size_t outlen)
{
    while (len && (*v == ' ' || *v == '\t')) {
        v++;
        len--;
    }
    while (len && isspace((unsigned char)v[len - 1]))
        len--;
    if (len >= outlen)
        len = 0; /* too long to be what it should: as if absent */
    memcpy(out, v, len);
    out[len] = '\0';
}

static int header_is(const char *line, size_t len, const char *name,
                     const char **v, size_t *vlen)
{
    size_t n = strlen(name);

    if (len <= n || strncasecmp(line, name, n) || line[n] != ':')
        return 0;
    *v = line + n + 1;
    *vlen = len - n - 1;
    return 1;
}

static size_t on_header(char *line, size_t size, size_t nmemb, void *p)
{
    struct xfer *x = p;
    size_t len = size * nmemb, vlen;
    char num[32], *end;
    const char *v;

    if (len >= 5 && !strncmp(line, "HTTP/", 5)) {
        /* a new answer (after a redirect or a 100): forget the last */
        const char *sp = memchr(line, ' ', len);

        memset(&x->a, 0, sizeof(x->a));
        x->a.length = -1;
        x->challenge[0] = '\0';
        x->a.status = 0;
        if (sp && len - (size_t)(sp - line) > 4 &&
            isdigit((unsigned char)sp[1]) && isdigit((unsigned char)sp[2]) &&
            isdigit((unsigned char)sp[3]))
            x->a.status =
                (sp[1] - '0') * 100 + (sp[2] - '0') * 10 + (sp[3] - '0');
        return len;
    }
    if (header_is(line, len, "Content-Length", &v, &vlen)) {
        header_value(v, vlen, num, sizeof(num));
        errno = 0;
        x->a.length = strtoll(num, &end, 10);
        if (errno || end == num || *end || x->a.length < 0)
            x->a.length = -1;
    } else if (header_is(line, len, "Content-Type", &v, &vlen)) {
        header_value(v, vlen, x->a.ctype, sizeof(x->a.ctype));
    } else if (header_is(line, len, "Docker-Content-Digest", &v, &vlen)) {
        header_value(v, vlen, x->a.digest, sizeof(x->a.digest));
    } else if (header_is(line, len, "WWW-Authenticate", &v, &vlen)) {
        header_value(v, vlen, x->challenge, sizeof(x->challenge));
    } else if ((len == 2 && line[0] == '\r') || (len == 1 && line[0] == '\n')) {
        /* the end of a head: a 200's means the blob comes next */
        if (x->a.status == 200 && x->start && !x->started) {
            x->started = 1;
            if (x->start(x->ctx, &x->a)) {
                x->stopped = 1;
                return 0;
            }
        }
    }
    return len;
}

static size_t on_data(char *data, size_t size, size_t nmemb, void *p)
{
    struct xfer *x = p;
    size_t len = size * nmemb;

    if (x->a.status != 200)
        return len; /* an error's or a redirect's body: dropped */
    x->got += (long long)len;
    if (x->a.length >= 0 && x->got > x->a.length) {
        x->too_long = 1;
        return 0;
    }
    if (x->body) {
        if (buf_add(x->body, data, len)) {
            x->too_long = 1;
            return 0;
        }
        return len;
    }
    if (x->data && x->started && x->data(x->ctx, data, len)) {
        x->stopped = 1;
        return 0;
    }
    return len;
}

static struct token *token_find(struct upstream *c, const char *scope)
{
    size_t i;

    for (i = 0; i < TOKENS; i++)
        if (c->tokens[i].value && !strcmp(c->tokens[i].scope, scope))
            return &c->tokens[i];
    return NULL;
}

/*
 * The value of parameter key of challenge ch (key="value", or key=value)
 * into out; "" when absent or too long.
 */
static void challenge_param(const char *ch, const char *key, char *out,
                            size_t outlen)
{
    size_t klen = strlen(key), n;
    const char *p = ch, *v, *e;

    out[0] = '\0';
    while ((p = strstr(p, key))) {
        if ((p == ch || p[-1] == ' ' || p[-1] == ',') && p[klen] == '=') {
            v = p + klen + 1;
            if (*v == '"') {
                v++;
                e = strchr(v, '"');
            } else {
                e = v + strcspn(v, ", ");
            }
            if (!e)
                return;
            n = (size_t)(e - v);
            if (n < outlen) {
                memcpy(out, v, n);
                out[n] = '\0';
            }
            return;
        }
        p += klen;
    }
}

/* The settings every transfer of c has. */
static void setup(struct upstream *c, struct xfer *x, const char *url)
{
    CURL *h = c->curl;

    curl_easy_reset(h);
    c->curl_err[0] = '\0';
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->curl_err);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)c->timeout);
    /* an answer that stalls this long is given up */
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long)c->timeout);
    curl_easy_setopt(h, CURLOPT_BUFFERSIZE, RECV_BUFFER);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "berth/" PACKAGE_VERSION);
    if (c->ca)
        curl_easy_setopt(h, CURLOPT_CAINFO, c->ca);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
}

/* Map a finished transfer to UPSTREAM_*. */
static int result(struct upstream *c, const char *url, struct xfer *x,
                  CURLcode cc)
{
    if (x->stopped)
        return UPSTREAM_ABORTED;
    if (x->too_long) {
        log_warn("'%s' answers more than it should", url);
        return UPSTREAM_BAD;
    }
    if (cc != CURLE_OK) {
        log_warn("cannot fetch '%s': %s", url,
                 c->curl_err[0] ? c->curl_err : curl_easy_strerror(cc));
        /* not the answer's fault: the client's message says so */
        if (cc == CURLE_PEER_FAILED_VERIFICATION ||
            cc == CURLE_SSL_CACERT_BADFILE)
            return UPSTREAM_TLS;
        return cc == CURLE_PARTIAL_FILE || cc == CURLE_RECV_ERROR ||
                       cc == CURLE_OPERATION_TIMEDOUT ||
                       cc == CURLE_COULDNT_CONNECT ||
                       cc == CURLE_COULDNT_RESOLVE_HOST ||
                       cc == CURLE_SSL_CONNECT_ERROR || cc == CURLE_GOT_NOTHING
                   ? UPSTREAM_DOWN
                   : UPSTREAM_BAD;
    }
    switch (x->a.status) {
    case 200:
        /* a body shorter than its Content-Length: libcurl says so; a
         * body without one is as long as it is */
        return UPSTREAM_OK;
    case 401:
    case 403:
        return UPSTREAM_DENIED;
    case 404:
        return UPSTREAM_NOTFOUND;
    default:
        log_warn("'%s' answers %d", url, x->a.status);
        return x->a.status >= 500 || x->a.status == 429 ? UPSTREAM_DOWN
                                                        : UPSTREAM_BAD;
    }
}

/* Get a token from the Bearer challenge ch for scope; 0 or UPSTREAM_*. */
static int get_token(struct upstream *c, const char *ch, const char *scope)
{
    char realm[1024], service[256], sc[SCOPE_MAX], url[2048];
    struct curl_slist *hdrs = NULL;
    struct token *t;
    struct xfer x;
    struct buf body;
    json_error_t jerr;
    json_t *root, *tok, *exp;
    char *es, *ec;
    const char *v;
    long long ttl = 60;
    CURLcode cc;
    int rc;

    challenge_param(ch, "realm", realm, sizeof(realm));
    challenge_param(ch, "service", service, sizeof(service));
    challenge_param(ch, "scope", sc, sizeof(sc));
    if (strncmp(realm, "http://", 7) && strncmp(realm, "https://", 8)) {
        log_warn("the upstream '%s' asks for a token from '%s'", c->url, realm);
        return UPSTREAM_BAD;
    }
    es = curl_easy_escape(c->curl, service, 0);
    ec = curl_easy_escape(c->curl, sc[0] ? sc : scope, 0);
    snprintf(url, sizeof(url), "%s%sservice=%s&scope=%s", realm,
             strchr(realm, '?') ? "&" : "?", es ? es : "", ec ? ec : "");
    curl_free(es);
    curl_free(ec);
    memset(&x, 0, sizeof(x));
    buf_init(&body, TOKEN_BODY_MAX);
    x.body = &body;
    setup(c, &x, url);
    curl_easy_setopt(c->curl, CURLOPT_TIMEOUT, (long)c->timeout);
    if (c->cred[0]) {
        curl_easy_setopt(c->curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(c->curl, CURLOPT_USERPWD, c->cred);
    }
    cc = curl_easy_perform(c->curl);
    curl_slist_free_all(hdrs);
    rc = result(c, url, &x, cc);
    if (rc) {
        buf_release(&body);
        return rc == UPSTREAM_NOTFOUND ? UPSTREAM_DENIED : rc;
    }
    root = json_loadb(body.ptr ? body.ptr : "", body.len, 0, &jerr);
    buf_release(&body);
    tok = json_object_get(root, "token");
    if (!json_is_string(tok))
        tok = json_object_get(root, "access_token");
    v = json_string_value(tok);
    if (!v || !*v || strlen(v) >= TOKEN_MAX) {
        log_warn("the token service of '%s' answers no token", c->url);
        json_decref(root);
        return UPSTREAM_BAD;
    }
    exp = json_object_get(root, "expires_in");
    if (json_is_integer(exp) && json_integer_value(exp) > 0)
        ttl = json_integer_value(exp);
    t = token_find(c, scope);
    if (!t) {
        t = &c->tokens[c->next_token++ % TOKENS];
        free(t->value);
        snprintf(t->scope, sizeof(t->scope), "%s", scope);
    } else {
        free(t->value);
    }
    t->value = dup_or_null(v);
    /* a margin, so that a token is not used in its last seconds */
    t->until = time(NULL) + (ttl > 20 ? ttl - 10 : ttl / 2);
    json_decref(root);
    return UPSTREAM_OK;
}

/*
 * One request, logging in once on a 401 and again: method "GET" or
 * "HEAD", path below the upstream's /v2/, for scope; the transfer x set
 * up by the caller (body or callbacks). accept: an Accept header or NULL.
 */
static int request(struct upstream *c, const char *path, const char *scope,
                   int head, const char *accept, long total, struct xfer *x)
{
    char url[4096], auth[TOKEN_MAX + 32];
    struct curl_slist *hdrs;
    struct xfer keep = *x;
    struct token *t;
    CURLcode cc;
    int rc = UPSTREAM_DENIED, attempt, fresh = 0;

    if (snprintf(url, sizeof(url), "%s/v2/%s", c->url, path) >=
        (int)sizeof(url))
        return UPSTREAM_BAD;
    for (attempt = 0; attempt < 2; attempt++) {
        *x = keep;
        if (x->body)
            buf_reset(x->body);
        setup(c, x, url);
        if (head)
            curl_easy_setopt(c->curl, CURLOPT_NOBODY, 1L);
        if (total)
            curl_easy_setopt(c->curl, CURLOPT_TIMEOUT, total);
        hdrs = NULL;
        if (accept) {
            snprintf(auth, sizeof(auth), "Accept: %s", accept);
            hdrs = curl_slist_append(hdrs, auth);
        }
        /*
         * A token just got goes with the retry it was got for, even one
         * whose margin is gone already (expires_in of a second or two)
         */
        t = token_find(c, scope);
        if (t && (fresh || t->until > time(NULL))) {
            snprintf(auth, sizeof(auth), "Authorization: Bearer %s", t->value);
            hdrs = curl_slist_append(hdrs, auth);
        } else if (c->basic && c->cred[0]) {
            curl_easy_setopt(c->curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
            curl_easy_setopt(c->curl, CURLOPT_USERPWD, c->cred);
        }
        curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, hdrs);
        cc = curl_easy_perform(c->curl);
        curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, NULL);
        curl_slist_free_all(hdrs);
        rc = result(c, url, x, cc);
        if (rc != UPSTREAM_DENIED || x->a.status != 401 || attempt)
            return rc;
        /* the challenge of the 401, as docker answers it */
        if (!strncasecmp(x->challenge, "Bearer ", 7)) {
            rc = get_token(c, x->challenge + 7, scope);
            if (rc)
                return rc;
            fresh = 1;
        } else if (!strncasecmp(x->challenge, "Basic", 5) && c->cred[0] &&
                   !c->basic) {
            c->basic = 1;
        } else {
            return UPSTREAM_DENIED;
        }
    }
    return rc;
}

static const char manifest_types[] =
    "application/vnd.oci.image.index.v1+json, "
    "application/vnd.oci.image.manifest.v1+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json, "
    "application/vnd.docker.distribution.manifest.v2+json";

int upstream_manifest(struct upstream *c, const char *remote, const char *ref,
                      struct buf *body, struct upstream_answer *a)
{
    char path[NAME_MAX_LEN + 512], scope[SCOPE_MAX];
    struct xfer x;
    int rc;

    snprintf(path, sizeof(path), "%s/manifests/%s", remote, ref);
    snprintf(scope, sizeof(scope), "repository:%s:pull", remote);
    memset(&x, 0, sizeof(x));
    x.body = body;
    rc = request(c, path, scope, body == NULL, manifest_types, (long)c->timeout,
                 &x);
    if (rc == UPSTREAM_OK)
        *a = x.a;
    return rc;
}

/* GET (callbacks in x) or HEAD blob d of repository remote. */
static int blob_request(struct upstream *c, const char *remote,
                        const struct digest *d, int head, struct xfer *x)
{
    char path[NAME_MAX_LEN + 512], scope[SCOPE_MAX], dstr[DIGEST_STR_MAX];

    digest_format(d, dstr);
    snprintf(path, sizeof(path), "%s/blobs/%s", remote, dstr);
    snprintf(scope, sizeof(scope), "repository:%s:pull", remote);
    /* a HEAD has no body to wait for: the manifests' total time */
    return request(c, path, scope, head, NULL, head ? (long)c->timeout : 0, x);
}

int upstream_blob(struct upstream *c, const char *remote,
                  const struct digest *d, upstream_start_fn *start,
                  upstream_data_fn *data, void *ctx)
{
    struct xfer x;

    memset(&x, 0, sizeof(x));
    x.start = start;
    x.data = data;
    x.ctx = ctx;
    return blob_request(c, remote, d, 0, &x);
}

int upstream_blob_head(struct upstream *c, const char *remote,
                       const struct digest *d, struct upstream_answer *a)
{
    struct xfer x;
    int rc;

    memset(&x, 0, sizeof(x));
    rc = blob_request(c, remote, d, 1, &x);
    if (rc == UPSTREAM_OK)
        *a = x.a;
    return rc;
}
