#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/conf.h"
#include "retention/retention.h"
#include "store/store.h"
#include "util/xalloc.h"

/*
 * What a configuration says of garbage collection, for the front ends
 * that run it (berthctl gc, berth-fcgi's own schedule): the options of
 * store_gc(), and the retention rules as its callback.
 */

/* store_retain_fn over retention_apply(); ctx is the rules. */
static int retain(void *ctx, const char *repo, const struct store_gc_tag *tags,
                  size_t n, long long now, unsigned char *drop,
                  char (*why)[STORE_WHY_MAX])
{
    char(*rwhy)[RETENTION_WHY_MAX] = xcalloc(n ? n : 1, sizeof(*rwhy));
    struct retention_tag *rt = xcalloc(n ? n : 1, sizeof(*rt));
    size_t i;

    for (i = 0; i < n; i++) {
        rt[i].tag = tags[i].tag;
        rt[i].pushed = tags[i].pushed;
    }
    retention_apply(ctx, repo, rt, n, now, drop, rwhy);
    for (i = 0; i < n; i++)
        snprintf(why[i], STORE_WHY_MAX, "%s", rwhy[i]);
    free(rt);
    free(rwhy);
    return 0;
}

int config_gc_options(const struct config *cfg, struct store_gc_options *o,
                      struct retention **rules, char *err, size_t errlen)
{
    memset(o, 0, sizeof(*o));
    *rules = NULL;
    o->grace = cfg->gc_grace;
    o->untagged_ttl = cfg->untagged_ttl == CONFIG_OFF ? -1 : cfg->untagged_ttl;
    o->upload_ttl = cfg->upload_ttl;
    if (!cfg->retention[0])
        return 0;
    if (retention_load(cfg->retention, rules, err, errlen))
        return -1;
    o->retain = retain;
    o->retain_ctx = *rules;
    return 0;
}
