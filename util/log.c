#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"

enum log_level log_level = LOG_LVL_INFO;

static const char *const names[] = {"error", "warn", "info", "debug"};

void log_msg(enum log_level lvl, const char *file, int line, const char *fmt,
             ...)
{
    int saved = errno; /* callers log, then read errno */
    char msg[1024];
    va_list ap;

    if (lvl > log_level)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    /* one fprintf, so lines of concurrent workers do not interleave */
    fprintf(stderr, "berth[%ld]: %s %s:%d: %s\n", (long)getpid(), names[lvl],
            file, line, msg);
    errno = saved;
}
