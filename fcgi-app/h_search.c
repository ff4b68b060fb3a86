#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fcgi-app/handlers.h"
#include "fcgi-app/response.h"
#include "util/log.h"
#include "util/xalloc.h"

/*
 * docker search: the endpoints of docker's registry v1 search API that
 * the docker daemon calls for a registry other than Docker Hub,
 * GET /v1/_ping (its v1 endpoint check) and GET /v1/search?q=&n=&page=.
 *
 * A search is one cursor walk over the catalog database (names, and
 * descriptions: no record decoded), a substring test of each name and
 * description, and a rule check of the names that match. bench/search.sh
 * measured a walk of 100,000 names with the substring test at 5 ms of CPU, p99
 * 7 ms (2 shared cores, no sanitizers), and a whole search through lighttpd at
 * 11-14 ms p50 on a busy machine. That is why there is no n-gram index:
 * it would cost every push and repository delete a write per n-gram of
 * the name, to save milliseconds of a request that is rare.
 */

#define SEARCH_N_DEFAULT 25
#define SEARCH_N_MAX     100
/* past any count of repositories a store can hold: n and page stay below */
#define SEARCH_PAGE_MAX 10000000L

/* GET /v1/_ping */
enum oci_err h_ping_get(struct req *r)
{
    /*
     * docker reads a JSON object; "standalone" (true also when absent)
     * tells it that the registry checks passwords itself, so that it
     * sends them over https.
     */
    static const char body[] = "{\"standalone\":true}";

    return resp_send(r, 200, "application/json", body,
                     (long long)sizeof(body) - 1);
}

struct search {
    const struct auth_policy *policy; /* r->policy */
    const char *user;                 /* REMOTE_USER, looked up once */
    const char *q;                    /* lowercased */
    size_t qlen;
    long first, n; /* the page: matches [first, first + n) */
    long count;    /* the matches the client may pull */
    struct buf out;
};

/* Does desc[0..dlen) hold q, in any case of ASCII letters? */
static int described(const char *desc, size_t dlen, const char *q)
{
    char d[MANIFEST_DESC_MAX];

    if (!dlen)
        return 0;
    if (dlen >= sizeof(d))
        dlen = sizeof(d) - 1;
    memcpy(d, desc, dlen);
    d[dlen] = '\0';
    return strcasestr(d, q) != NULL;
}

/* One result: name, and desc as a JSON string. */
static int add_result(struct search *sr, const char *s, size_t len,
                      const char *desc, size_t dlen)
{
    json_t *j = json_stringn(desc, dlen);
    char *js = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
    int rc = 0;

    json_decref(j);
    /* names need no JSON escaping (util/names.h) */
    if (buf_adds(&sr->out,
                 sr->count > sr->first ? ",{\"name\":\"" : "{\"name\":\"") ||
        buf_add(&sr->out, s, len) ||
        buf_adds(&sr->out, "\",\"description\":") ||
        buf_adds(&sr->out, js ? js : "\"\"") ||
        buf_adds(&sr->out, ",\"star_count\":0,"
                           "\"is_official\":false,\"is_automated\":false}"))
        rc = STORE_TOOBIG;
    free(js);
    return rc;
}

/* a repository of the catalog: see store_catalog_walk() */
static int match(void *ctx, const char *s, size_t len, const char *desc,
                 size_t dlen)
{
    struct search *sr = ctx;
    char name[NAME_MAX_LEN + 1];

    if (len >= sizeof(name) || (sr->qlen && !memmem(s, len, sr->q, sr->qlen) &&
                                !described(desc, dlen, sr->q)))
        return STORE_OK;
    memcpy(name, s, len);
    name[len] = '\0';
    /* req_may(), without a look-up of REMOTE_USER per name */
    if (auth_check(sr->policy, sr->user, name, AUTH_PULL) != AUTH_OK)
        return STORE_OK;
    if (sr->count >= sr->first && sr->count < sr->first + sr->n &&
        add_result(sr, s, len, desc, dlen))
        return STORE_TOOBIG;
    sr->count++;
    return STORE_OK;
}

/* Read the positive integer parameter key into *v (def when absent). */
static enum oci_err int_param(struct req *r, const char *key, long def,
                              long max, long *v)
{
    char s[32], *end;
    int rc = req_query(r, key, s, sizeof(s));

    *v = def;
    if (rc == 0)
        return OCI_OK;
    if (rc == 1) {
        errno = 0;
        *v = strtol(s, &end, 10);
        if (s[0] && !*end && !errno && *v >= 1 && *v <= max)
            return OCI_OK;
    }
    return req_fail(r, OCI_PAGINATION_INVALID,
                    "%s must be an integer from 1 to %ld", key, max);
}

/* The answer: the counts first, then the page of results. */
static enum oci_err send_results(struct req *r, const struct search *sr,
                                 long page, const char *qjson)
{
    /* qjson: NAME_MAX_LEN characters, 6 bytes each at worst (escaped) */
    char head[NAME_MAX_LEN * 6 + 256];
    struct buf all;
    enum oci_err err;

    snprintf(head, sizeof(head),
             "{\"num_results\":%ld,\"num_pages\":%ld,\"page\":%ld,"
             "\"page_size\":%ld,\"query\":%s,\"results\":[",
             sr->count, (sr->count + sr->n - 1) / sr->n, page, sr->n, qjson);
    buf_init(&all, strlen(head) + sr->out.len + 3);
    BUG_ON(buf_adds(&all, head) ||
           (sr->out.len && buf_add(&all, sr->out.ptr, sr->out.len)) ||
           buf_adds(&all, "]}"));
    err = resp_send(r, 200, "application/json", all.ptr, (long long)all.len);
    buf_release(&all);
    return err;
}

enum oci_err query_term(struct req *r, char q[NAME_MAX_LEN + 1], size_t *len)
{
    size_t i;
    int rc = req_query(r, "q", q, NAME_MAX_LEN + 1);

    if (rc < 0)
        return req_fail(r, OCI_NAME_INVALID, "q must be at most %d characters",
                        NAME_MAX_LEN);
    if (rc == 0)
        q[0] = '\0';
    for (i = 0; q[i]; i++)
        if (q[i] >= 'A' && q[i] <= 'Z')
            q[i] = (char)(q[i] - 'A' + 'a');
    *len = i;
    return OCI_OK;
}

/*
 * GET /v1/search?q=<term>&n=<page size>&page=<page>: the repositories
 * whose names hold q (any case: names are lowercase), that the client may
 * pull, in byte order of name, as docker's v1 search answers.
 */
enum oci_err h_search_get(struct req *r)
{
    char q[NAME_MAX_LEN + 1];
    struct search sr;
    json_t *jq;
    char *qjson;
    enum oci_err err;
    long n, page;
    size_t i;
    int rc;

    if (query_term(r, q, &i))
        return r->err;
    if (int_param(r, "n", SEARCH_N_DEFAULT, SEARCH_PAGE_MAX, &n) ||
        int_param(r, "page", 1, SEARCH_PAGE_MAX, &page))
        return r->err;
    if (n > SEARCH_N_MAX)
        n = SEARCH_N_MAX; /* as the catalog caps its n */
    /* q is any bytes: JSON-encode it (NULL: not UTF-8) */
    jq = json_stringn(q, i);
    qjson = jq ? json_dumps(jq, JSON_ENCODE_ANY) : NULL;
    json_decref(jq);
    if (!qjson)
        return req_fail(r, OCI_NAME_INVALID, "q is not UTF-8");

    memset(&sr, 0, sizeof(sr));
    sr.policy = r->policy;
    sr.user = req_param(r, "REMOTE_USER");
    sr.q = q;
    sr.qlen = i;
    sr.first = (page - 1) * n;
    sr.n = n;
    /* a description escaped as \uXXXX: 6 bytes a byte at worst */
    buf_init(&sr.out, (size_t)SEARCH_N_MAX *
                              (NAME_MAX_LEN + MANIFEST_DESC_MAX * 6 + 128) +
                          1024);
    rc = store_catalog_walk(r->store, match, &sr);
    if (rc)
        err = req_fail_store(r, rc);
    else
        err = send_results(r, &sr, page, qjson);
    buf_release(&sr.out);
    free(qjson);
    return err;
}
