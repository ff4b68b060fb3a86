#ifndef BERTH_UTIL_LINES_H
#define BERTH_UTIL_LINES_H

#include <stddef.h>

/*
 * The rules files (the access file, the retention file, the policy file)
 * are read alike: a line is at most LINES_LEN - 2 bytes and its newline,
 * '#' starts a comment to the end of the line, a line with no words is
 * nothing, and a file has at most LINES_MAX lines with words.
 */
#define LINES_LEN 1024
#define LINES_MAX 4096

/*
 * Called for each line with words: s is its text from the first word on,
 * the comment cut off (the newline, if any, stays), writable, valid during
 * the call. Return 0, or -1 with why set to what is wrong with the line.
 */
typedef int lines_fn(void *ctx, char *s, char *why, size_t whylen);

/*
 * Read the rules file path, a "<what> file" in messages, line by line.
 * Returns 0, or -1 with err set (what fn said, after "<path>:<line>: "),
 * and then fn may have been called for the lines before.
 */
int lines_read(const char *path, const char *what, lines_fn *fn, void *ctx,
               char *err, size_t errlen);

#endif
