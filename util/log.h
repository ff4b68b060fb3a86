#ifndef BERTH_UTIL_LOG_H
#define BERTH_UTIL_LOG_H

/*
 * One line per message on stderr, in git's style: lowercase, what failed
 * first, the subject quoted, then the system's reason:
 *
 *   berth[123]: error store/blob.c:65: cannot open '/srv/x': No such file
 *
 * Under lighttpd bin-path stderr lands in server.breakagelog; under
 * spawn-fcgi or systemd wherever they send it. log_msg() keeps errno.
 * Never log Authorization headers or other secrets.
 */
enum log_level {
    LOG_LVL_ERR = 0,  /* the cause of a 5xx or of a failed start */
    LOG_LVL_WARN = 1, /* a client-visible oddity */
    LOG_LVL_INFO = 2, /* start and stop */
    LOG_LVL_DEBUG = 3 /* per request */
};

extern enum log_level log_level;

void log_msg(enum log_level lvl, const char *file, int line, const char *fmt,
             ...) __attribute__((format(printf, 4, 5)));

#define log_err(...)  log_msg(LOG_LVL_ERR, __FILE__, __LINE__, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, __FILE__, __LINE__, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __FILE__, __LINE__, __VA_ARGS__)
#define log_debug(...)                                                         \
    do {                                                                       \
        if (log_level >= LOG_LVL_DEBUG)                                        \
            log_msg(LOG_LVL_DEBUG, __FILE__, __LINE__, __VA_ARGS__);           \
    } while (0)

#endif
