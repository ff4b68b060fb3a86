#include "config.h"

#include <getopt.h>
#include <stdio.h>

#include "ctl/ctl.h"
#include "ctl/out.h"
#include "store/store.h"

/*
 * berthctl upgrade: a read-write open brings a storage root of an older
 * format to this build's (store/format.c), so the work is ctl_open()'s;
 * this says what it found.
 */
int cmd_upgrade(struct ctl *c, int argc, char **argv)
{
    static const struct option none[] = {{NULL, 0, NULL, 0}};
    int rc;

    if (getopt_long(argc, argv, "", none, NULL) != -1)
        return ctl_usage(c, NULL);
    if (optind != argc)
        return ctl_usage(c, "upgrade takes no arguments");
    rc = ctl_open(c, 1);
    if (rc)
        return rc;
    if (c->json)
        return out_json(json_pack("{s:s, s:i, s:b}", "root", c->cfg.root,
                                  "format", (int)STORE_FORMAT, "upgraded",
                                  c->upgraded))
                   ? CTL_UNUSABLE
                   : CTL_OK;
    if (c->upgraded)
        printf("upgraded the storage root '%s' to format %u\n", c->cfg.root,
               STORE_FORMAT);
    else
        printf("the storage root '%s' has format %u already: nothing to do\n",
               c->cfg.root, STORE_FORMAT);
    return CTL_OK;
}
