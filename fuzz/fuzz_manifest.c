/*
 * manifest_parse() (util/manifest.h). The input is a Content-Type line
 * and the body: "<content-type>\n<body>", where an empty first line means
 * no Content-Type; an input without '\n' is a body without one. The
 * corpus is tests/unit/data/manifests in that form.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "util/manifest.h"

static void check(const struct manifest *m)
{
    size_t i;

    if (m->kind != MANIFEST_IMAGE && m->kind != MANIFEST_INDEX)
        abort();
    if (!memchr(m->media_type, '\0', sizeof(m->media_type)) ||
        !memchr(m->artifact_type, '\0', sizeof(m->artifact_type)))
        abort();
    if ((m->nblobs && !m->blobs) || (m->nchildren && !m->children))
        abort();
    for (i = 0; i < m->nblobs; i++)
        if (m->blobs[i].size < 0)
            abort();
    for (i = 0; i < m->nchildren; i++)
        if (m->children[i].size < 0)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    char *ctype = NULL, err[256], *json;
    const uint8_t *body = data;
    size_t len = size;
    struct manifest m;
    struct digest d;

    if (nl) {
        ctype = fuzz_string(data, (size_t)(nl - data));
        body = nl + 1;
        len = size - (size_t)(body - data);
    }
    /* the body in a buffer of its own size, for ASan to see an overread */
    char *copy = malloc(len ? len : 1);
    if (!copy)
        abort();
    memcpy(copy, body, len);
    memset(&m, 0, sizeof(m));
    if (manifest_parse(copy, len, ctype && *ctype ? ctype : NULL, &m, err,
                       sizeof(err)) == MANIFEST_OK) {
        check(&m);
        d.alg = DIGEST_SHA256;
        memset(d.hex, 'a', 64);
        d.hex[64] = '\0';
        json = manifest_descriptor_json(&m, &d, (long long)len);
        free(json);
    } else if (!memchr(err, '\0', sizeof(err))) {
        abort();
    }
    manifest_release(&m);
    free(copy);
    free(ctype);
    return 0;
}
