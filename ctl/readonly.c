#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "ctl/ctl.h"
#include "ctl/out.h"
#include "store/store.h"

/*
 * berthctl readonly: maintenance mode, a flag in the store that every
 * berth process reads (store_maintenance()): while it is on, berth turns
 * writes away and serves reads.
 */

static int say(const struct ctl *c, int on, int changed)
{
    if (c->json)
        return out_json(
                   json_pack("{s:b, s:b}", "readonly", on, "changed", changed))
                   ? CTL_UNUSABLE
                   : CTL_OK;
    if (!changed)
        printf("the registry is %s\n",
               on ? "read-only for maintenance" : "read-write");
    else
        printf("the registry is now %s\n",
               on ? "read-only for maintenance" : "read-write");
    return CTL_OK;
}

int cmd_readonly(struct ctl *c, int argc, char **argv)
{
    static const struct option none[] = {{NULL, 0, NULL, 0}};
    const char *arg;
    int rc, want = -1, on;

    if (getopt_long(argc, argv, "", none, NULL) != -1)
        return ctl_usage(c, NULL);
    if (argc - optind > 1)
        return ctl_usage(c, "readonly takes on or off");
    arg = argv[optind];
    if (arg && !strcmp(arg, "on"))
        want = 1;
    else if (arg && !strcmp(arg, "off"))
        want = 0;
    else if (arg)
        return ctl_usage(c, "readonly takes on or off, not '%s'", arg);
    rc = ctl_open(c, want >= 0); /* only a change writes */
    if (rc)
        return rc;
    rc = store_maintenance(c->s, &on);
    if (rc)
        return ctl_store_error(rc, "read the maintenance mode");
    if (want < 0 || want == on)
        return say(c, on, 0);
    rc = store_set_maintenance(c->s, want);
    if (rc)
        return ctl_store_error(rc, "turn the maintenance mode %s", arg);
    return say(c, want, 1);
}
