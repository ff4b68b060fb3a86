#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/conf.h"
#include "mirror/mirror.h"
#include "policy/policy.h"
#include "retention/retention.h"
#include "store/store.h"
#include "util/xalloc.h"

/*
 * What a configuration says of garbage collection, for the front ends
 * that run it (berthctl gc, berth-fcgi's own schedule): the options of
 * store_gc(), and the retention rules as its callback.
 */

struct config_gc_rules {
    struct retention *retention;
    struct policy *policy; /* NULL: no immutable tags */
};

/*
 * store_retain_fn over retention_apply(), which keeps the tags the policy
 * makes immutable; ctx is the rules.
 */
static int retain(void *ctx, const char *repo, const struct store_gc_tag *tags,
                  size_t n, long long now, unsigned char *drop,
                  char (*why)[STORE_WHY_MAX])
{
    char(*rwhy)[RETENTION_WHY_MAX] = xcalloc(n ? n : 1, sizeof(*rwhy));
    struct retention_tag *rt = xcalloc(n ? n : 1, sizeof(*rt));
    struct config_gc_rules *rules = ctx;
    size_t i;

    for (i = 0; i < n; i++) {
        rt[i].tag = tags[i].tag;
        rt[i].pushed = tags[i].pushed;
    }
    retention_apply(rules->retention, repo, rt, n, now, drop, rwhy);
    for (i = 0; i < n; i++) {
        if (drop[i] && policy_immutable(rules->policy, repo, tags[i].tag))
            drop[i] = 0;
        snprintf(why[i], STORE_WHY_MAX, "%s", drop[i] ? rwhy[i] : "");
    }
    free(rt);
    free(rwhy);
    return 0;
}

void config_gc_rules_free(struct config_gc_rules *rules)
{
    if (!rules)
        return;
    retention_free(rules->retention);
    policy_free(rules->policy);
    free(rules);
}

int config_gc_options(const struct config *cfg, struct store_gc_options *o,
                      struct config_gc_rules **rules, char *err, size_t errlen)
{
    struct config_gc_rules *r;

    memset(o, 0, sizeof(*o));
    *rules = NULL;
    o->grace = cfg->gc_grace;
    o->untagged_ttl = cfg->untagged_ttl == CONFIG_OFF ? -1 : cfg->untagged_ttl;
    o->upload_ttl = cfg->upload_ttl;
    if (cfg->mirror[0]) {
        struct mirror *m;

        /* the cache's cap: the mirror file as it is now */
        if (mirror_load(cfg->mirror, &m, err, errlen))
            return -1;
        o->cache_max = mirror_cache_max(m);
        mirror_free(m);
    }
    if (!cfg->retention[0])
        return 0;
    r = xcalloc(1, sizeof(*r));
    if (retention_load(cfg->retention, &r->retention, err, errlen) ||
        (cfg->policy[0] && policy_load(cfg->policy, &r->policy, err, errlen))) {
        config_gc_rules_free(r);
        return -1;
    }
    *rules = r;
    o->retain = retain;
    o->retain_ctx = r;
    return 0;
}
