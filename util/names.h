#ifndef BERTH_UTIL_NAMES_H
#define BERTH_UTIL_NAMES_H

#include <stddef.h>

/*
 * The grammars of oci-distribution-spec.md, "Pulling manifests".
 *
 * Repository names: [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+...)*,
 * at most NAME_MAX_LEN bytes (what clients accept, spec implementers'
 * note). Tags: [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}.
 * Each returns 1 when s[0..len) matches, else 0.
 */
#define NAME_MAX_LEN 255
#define TAG_MAX_LEN  128

int name_valid(const char *s, size_t len);
int tag_valid(const char *s, size_t len);

/*
 * Upload session ids are UUIDs (8-4-4-4-12 lowercase hex), which also
 * keeps them safe as file names: no '/', no "..".
 */
#define UPLOAD_ID_LEN 36
int upload_id_valid(const char *s, size_t len);

/*
 * Patterns of names in the rules files (access, retention, policy): shell
 * patterns (fnmatch(3) without flags, so '*' also matches '/') of the
 * characters of repository names or of tags and * ? [...] ([!...] and
 * [^...] too).
 */
enum name_pattern_kind { NAME_PATTERN_REPO, NAME_PATTERN_TAG };

/*
 * Whether p is such a pattern. fnmatch(3) takes any string, and matches
 * an unclosed '[' or a letter that no name holds literally: in a rules
 * file they are mistakes. Return 0, or -1 with what is wrong in why (len
 * bytes, always terminated), as "bad tag pattern 'v+': no tag name holds
 * '+'".
 */
int name_pattern_check(const char *p, enum name_pattern_kind kind, char *why,
                       size_t len);

/* Whether name matches pattern p: 1 or 0. */
int name_pattern_match(const char *p, const char *name);

#endif
