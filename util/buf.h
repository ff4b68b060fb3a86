#ifndef BERTH_UTIL_BUF_H
#define BERTH_UTIL_BUF_H

#include <stdarg.h>
#include <stddef.h>

/*
 * A growable byte buffer with a hard size limit (curl's dynbuf).
 *
 * Invariants: after buf_init(), ptr[len] == '\0' whenever ptr is not NULL,
 * and buf_str() never returns NULL, so the content can be passed to str*
 * functions (it may still contain NULs). Read the fields; change them only
 * through this API.
 */
struct buf {
    char *ptr;
    size_t len;
    size_t alloc;
    size_t max; /* buf_add*() fail with -1 rather than grow past this */
};

void buf_init(struct buf *b, size_t max);
/* Free the memory; b may be reused after buf_init(). */
void buf_release(struct buf *b);
/* Forget the content, keep the memory. */
void buf_reset(struct buf *b);

/*
 * Append; return 0, or -1 if the result would exceed b->max (b unchanged).
 * A caller that ignores -1 would pass on truncated content: the compiler
 * holds it to the result.
 */
int buf_add(struct buf *b, const void *data, size_t len)
    __attribute__((warn_unused_result));
int buf_adds(struct buf *b, const char *s) __attribute__((warn_unused_result));
int buf_vaddf(struct buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0), warn_unused_result));

/* The content as a C string; "" for an empty buffer. Borrowed from b. */
const char *buf_str(const struct buf *b);

#endif
