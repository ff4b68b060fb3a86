/*
 * tests/e2e/set-maintenance: set or clear the store's maintenance flag
 * (store_set_maintenance()) for the end-to-end tests, while berth serves:
 *
 *   set-maintenance CONFIG on|off
 *
 * A stand-in until berthctl has "readonly on|off", which will replace it;
 * it stays this small on purpose.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "config/conf.h"
#include "store/store.h"

int main(int argc, char **argv)
{
    char err[PATH_MAX + 256];
    struct store_options opt;
    struct store *s;
    struct config cfg;
    int on, rc;

    if (argc != 3 || (strcmp(argv[2], "on") && strcmp(argv[2], "off"))) {
        fprintf(stderr, "usage: set-maintenance CONFIG on|off\n");
        return 2;
    }
    on = !strcmp(argv[2], "on");
    if (config_load(argv[1], &cfg, err, sizeof(err))) {
        fprintf(stderr, "set-maintenance: %s\n", err);
        return 1;
    }
    config_store_options(&cfg, &opt);
    if (store_open(cfg.root, &opt, &s))
        return 1; /* logged */
    rc = store_set_maintenance(s, on);
    if (rc)
        fprintf(stderr, "set-maintenance: %s\n", store_strerror(rc));
    store_close(s);
    return rc ? 1 : 0;
}
