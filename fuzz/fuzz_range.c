/*
 * range_parse() and content_range_parse() (util/range.h) on the input as
 * a header value, against blobs of a few sizes; the results must keep
 * the promises of the header. The corpus is tests/unit/test_range.c's
 * headers.
 */
#include "config.h"

#include <stdlib.h>

#include "fuzz/fuzz.h"
#include "util/range.h"

static const long long sizes[] = {0, 1, 2, 100, 4096, 0x7fffffffffffffffLL};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *hdr = fuzz_string(data, size);
    long long start, len, first, last;
    size_t i;
    int rc;

    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        rc = range_parse(hdr, sizes[i], &start, &len);
        if (rc == RANGE_OK && (start < 0 || len < 1 || start >= sizes[i] ||
                               len > sizes[i] - start))
            abort();
        if (rc != RANGE_OK && rc != RANGE_NONE && rc != RANGE_UNSATISFIABLE)
            abort();
    }
    rc = content_range_parse(hdr, &first, &last);
    if (rc == 0 && (first < 0 || last < first))
        abort();
    if (rc != 0 && rc != -1)
        abort();
    free(hdr);
    return 0;
}
