#ifndef BERTH_FUZZ_FUZZ_H
#define BERTH_FUZZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/*
 * What the libFuzzer targets of fuzz/ share. Each target is one
 * fuzz_<parser>.c that defines LLVMFuzzerTestOneInput(), calls berth's
 * own parser on the input and frees all it got back, so that a leak in
 * the parser shows (LeakSanitizer). A target abort()s when a parser
 * breaks a promise of its header: libFuzzer counts that as a crash.
 */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * data[0..size) as a NUL-terminated string the caller must free(); a NUL
 * in data ends the string there, as it would end a header or a line.
 */
char *fuzz_string(const uint8_t *data, size_t size);

/*
 * The name of a file that holds exactly data[0..size), for parsers that
 * read a file by its name (config_load, auth_policy_load). The file is
 * one memfd per process, rewritten on each call; the name stays valid
 * until the next call. Aborts if the memfd cannot be made or written.
 */
const char *fuzz_file(const uint8_t *data, size_t size);

#endif
