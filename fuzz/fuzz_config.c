/*
 * config_load() (config/conf.h) on the input as berth.conf. A config it
 * accepts must come back the same through config_print() and
 * config_load() again, as the header promises. The corpus is
 * tests/unit/data/config/{valid,invalid}/<case>/input.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/conf.h"
#include "fuzz/fuzz.h"

/* cfg as config_print() writes it; the caller frees the text */
static char *print(const struct config *cfg, size_t *len)
{
    char *text = NULL;
    FILE *f = open_memstream(&text, len);

    if (!f)
        abort();
    config_print(cfg, f);
    if (ferror(f) || fclose(f))
        abort();
    return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct config cfg, again;
    char err[512], *text, *text2;
    size_t len, len2;

    if (config_load(fuzz_file(data, size), &cfg, err, sizeof(err))) {
        if (!memchr(err, '\0', sizeof(err)))
            abort();
        return 0;
    }
    text = print(&cfg, &len);
    if (config_load(fuzz_file((const uint8_t *)text, len), &again, err,
                    sizeof(err))) {
        fprintf(stderr, "a printed config does not load: %s\n%s", err, text);
        abort();
    }
    text2 = print(&again, &len2);
    if (len != len2 || memcmp(text, text2, len)) {
        fprintf(stderr, "printed again, a config changed:\n%s---\n%s", text,
                text2);
        abort();
    }
    free(text);
    free(text2);
    return 0;
}
