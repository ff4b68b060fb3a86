#ifndef BERTH_UTIL_XALLOC_H
#define BERTH_UTIL_XALLOC_H

#include <stddef.h>

/*
 * Allocation that cannot fail: on out-of-memory these log one line and
 * abort(), as git's xmalloc() and lighttpd's ck_malloc() do. Callers never
 * check for NULL. Every input that ends up in memory has its own size cap,
 * so running out of memory means the machine is in trouble, not that a
 * client sent something large.
 */
void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t n);
void *xrealloc(void *p, size_t n);

/* A programmer error: log where and abort. Not compiled out by NDEBUG. */
#define BUG_ON(cond)                                                           \
    do {                                                                       \
        if (cond)                                                              \
            bug_fail(__FILE__, __LINE__, #cond);                               \
    } while (0)
void bug_fail(const char *file, int line, const char *what)
    __attribute__((noreturn));

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
