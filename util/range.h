#ifndef BERTH_UTIL_RANGE_H
#define BERTH_UTIL_RANGE_H

/*
 * Byte ranges of the two kinds a registry sees.
 *
 * Downloads: an RFC 9110 "Range: bytes=..." header against a blob of
 * `size` bytes. One range is served as 206; several ranges, or a header
 * this does not understand, are ignored (RFC 9110 allows serving 200).
 */
#define RANGE_NONE          0 /* no usable Range: send the whole blob */
#define RANGE_OK            1 /* *start, *len describe one satisfiable range */
#define RANGE_UNSATISFIABLE (-1)

int range_parse(const char *hdr, long long size, long long *start,
                long long *len);

/*
 * Uploads: a chunk's "Content-Range: <first>-<last>", both inclusive
 * (oci-distribution-spec.md, end-5: ^[0-9]+-[0-9]+$). "bytes=" or "bytes "
 * before it is tolerated. Return 0 and fill *first, *last, or -1.
 */
int content_range_parse(const char *hdr, long long *first, long long *last);

#endif
