#!/bin/sh
# A full disk: the storage root is a small tmpfs. Uploads that do not fit
# fail with a clean 507 and the spec's JSON error, leave nothing
# half-written visible, and the registry goes on working once there is
# room. Needs root (for mount); skipped otherwise.
# shellcheck source=tests/e2e/lib.sh
. "${srcdir:-$(dirname "$0")}/lib.sh"
# shellcheck source=tests/e2e/lib-front.sh
. "$srcdir/lib-front.sh"
# shellcheck source=tests/e2e/lib-http.sh
. "$srcdir/lib-http.sh"
[ "$(id -u)" = 0 ] || skip_all "mounting a tmpfs needs root"
mount -t tmpfs -o size=16m berth-e2e "$REG_STORE" 2>/dev/null ||
	skip_all "cannot mount a tmpfs here"
start_front

mkblob "$REG_TMP/small" 2000000
mkblob "$REG_TMP/big" 20000000
mkblob "$REG_TMP/c1" 6000000
mkblob "$REG_TMP/c2" 9000000
DS=$(sha256 "$REG_TMP/small")
DB=$(sha256 "$REG_TMP/big")

push_blob full/repo "$REG_TMP/small"
expect_status "a blob that fits" 201

push_blob full/repo "$REG_TMP/big"
expect_error "a blob that does not fit" 507 UNKNOWN
req HEAD "/v2/full/repo/blobs/$DB"
expect_status "nothing of it is visible" 404
is "no upload data is left behind" "$(find "$REG_STORE/uploads" -type f | wc -l | tr -d ' ')" 0

req POST /v2/full/repo/blobs/uploads/
LOC=$(hdr Location)
req PATCH "$LOC" --data-binary "@$REG_TMP/c1"
expect_status "a chunk that fits" 202
LOC=$(hdr Location)
req PATCH "$LOC" --data-binary "@$REG_TMP/c2"
expect_error "a chunk that does not fit" 507 UNKNOWN
req GET "$LOC"
expect_header "the session keeps its complete chunks" Range 0-5999999
req DELETE "$LOC"
expect_status "cancel it" 204

req GET "/v2/full/repo/blobs/$DS"
check "the stored blob is intact" cmp -s "$REG_TMP/body" "$REG_TMP/small"
mkblob "$REG_TMP/small2" 3000000
push_blob full/repo "$REG_TMP/small2"
expect_status "with room again, uploads work" 201
check "every blob file hashes to its name" store_files_intact
done_testing
