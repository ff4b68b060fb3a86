#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/xalloc.h"

void buf_init(struct buf *b, size_t max)
{
    b->ptr = NULL;
    b->len = 0;
    b->alloc = 0;
    b->max = max;
}

void buf_release(struct buf *b)
{
    free(b->ptr);
    b->ptr = NULL;
    b->len = 0;
    b->alloc = 0;
}

void buf_reset(struct buf *b)
{
    b->len = 0;
    if (b->ptr)
        b->ptr[0] = '\0';
}

static void grow(struct buf *b, size_t need)
{
    size_t want = b->alloc ? b->alloc : 64;

    while (want < need)
        want *= 2;
    b->ptr = xrealloc(b->ptr, want);
    b->alloc = want;
}

int buf_add(struct buf *b, const void *data, size_t len)
{
    if (len > b->max - b->len)
        return -1;
    if (b->len + len + 1 > b->alloc)
        grow(b, b->len + len + 1);
    memcpy(b->ptr + b->len, data, len);
    b->len += len;
    b->ptr[b->len] = '\0';
    return 0;
}

int buf_adds(struct buf *b, const char *s)
{
    return buf_add(b, s, strlen(s));
}

int buf_vaddf(struct buf *b, const char *fmt, va_list ap)
{
    va_list again;
    int n;

    va_copy(again, ap);
    n = vsnprintf(NULL, 0, fmt, ap);
    if (n < 0 || (size_t)n > b->max - b->len) {
        va_end(again);
        return -1;
    }
    if (b->len + (size_t)n + 1 > b->alloc)
        grow(b, b->len + (size_t)n + 1);
    vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, again);
    va_end(again);
    b->len += (size_t)n;
    return 0;
}

const char *buf_str(const struct buf *b)
{
    return b->ptr ? b->ptr : "";
}
