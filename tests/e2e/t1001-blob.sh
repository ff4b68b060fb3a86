#!/bin/sh
# Blobs: end-4b (monolithic POST), end-2 (GET/HEAD with Range), end-10
# (DELETE), sha256 and sha512, with berth streaming the file itself and
# with lighttpd sending it (X-Sendfile).
# shellcheck source=tests/e2e/lib.sh
. "${srcdir:-$(dirname "$0")}/lib.sh"
# shellcheck source=tests/e2e/lib-front.sh
. "$srcdir/lib-front.sh"
# shellcheck source=tests/e2e/lib-http.sh
. "$srcdir/lib-http.sh"

mkblob "$REG_TMP/b1" 300000
D1=$(sha256 "$REG_TMP/b1")
SIZE=300000

blob_tests() { # MODE
	m=$1
	req POST "/v2/$m/x/blobs/uploads/?digest=$D1" --data-binary "@$REG_TMP/b1"
	expect_status "$m: monolithic upload" 201
	expect_header "$m: monolithic upload" Location "/v2/$m/x/blobs/$D1"
	expect_header "$m: monolithic upload" Docker-Content-Digest "$D1"

	req HEAD "/v2/$m/x/blobs/$D1"
	expect_status "$m: HEAD" 200
	expect_header "$m: HEAD" Content-Length $SIZE
	expect_header "$m: HEAD" Docker-Content-Digest "$D1"

	req GET "/v2/$m/x/blobs/$D1"
	expect_status "$m: GET" 200
	expect_header "$m: GET" Content-Length $SIZE
	expect_header "$m: GET" Docker-Content-Digest "$D1"
	expect_header "$m: GET" Content-Type application/octet-stream
	is "$m: GET body" "$(sha256 "$REG_TMP/body")" "$D1"

	req GET "/v2/$m/x/blobs/$D1" -H 'Range: bytes=1000-1999'
	expect_status "$m: Range a-b" 206
	expect_header "$m: Range a-b" Content-Range "bytes 1000-1999/$SIZE"
	expect_header "$m: Range a-b" Content-Length 1000
	expect_header "$m: Range a-b" Docker-Content-Digest "$D1"
	tail -c +1001 "$REG_TMP/b1" | head -c 1000 >"$REG_TMP/want"
	check "$m: Range a-b body" cmp -s "$REG_TMP/body" "$REG_TMP/want"

	req GET "/v2/$m/x/blobs/$D1" -H 'Range: bytes=299990-'
	expect_status "$m: Range a-" 206
	expect_header "$m: Range a-" Content-Range "bytes 299990-299999/$SIZE"
	tail -c 10 "$REG_TMP/b1" >"$REG_TMP/want"
	check "$m: Range a- body" cmp -s "$REG_TMP/body" "$REG_TMP/want"

	req GET "/v2/$m/x/blobs/$D1" -H 'Range: bytes=-5'
	expect_status "$m: Range -n" 206
	expect_header "$m: Range -n" Content-Range "bytes 299995-299999/$SIZE"

	req GET "/v2/$m/x/blobs/$D1" -H 'Range: bytes=400000-'
	expect_status "$m: Range past the end" 416
	expect_header "$m: Range past the end" Content-Range "bytes */$SIZE"

	# the same digest is unknown in a repository that does not link it
	req GET "/v2/$m/other/blobs/$D1"
	expect_error "$m: blob of another repository" 404 BLOB_UNKNOWN

	# sha512
	D5=$(sha512 "$REG_TMP/b1")
	req POST "/v2/$m/x/blobs/uploads/?digest=$D5" --data-binary "@$REG_TMP/b1"
	expect_status "$m: sha512 upload" 201
	req GET "/v2/$m/x/blobs/$D5"
	expect_status "$m: sha512 GET" 200
	check "$m: sha512 body" cmp -s "$REG_TMP/body" "$REG_TMP/b1"
	expect_header "$m: sha512 GET" Docker-Content-Digest "$D5"

	# the empty blob
	: >"$REG_TMP/empty"
	DE=$(sha256 "$REG_TMP/empty")
	req POST "/v2/$m/x/blobs/uploads/?digest=$DE" --data-binary "@$REG_TMP/empty"
	expect_status "$m: empty blob upload" 201
	req GET "/v2/$m/x/blobs/$DE"
	expect_status "$m: empty blob GET" 200
	expect_header "$m: empty blob GET" Content-Length 0

	# content that does not match its digest: refused, nothing stored
	mkblob "$REG_TMP/b2" 5000
	D2=$(sha256 "$REG_TMP/b2")
	req POST "/v2/$m/x/blobs/uploads/?digest=$D2" --data-binary "@$REG_TMP/b1"
	expect_error "$m: content not matching its digest" 400 DIGEST_INVALID
	req HEAD "/v2/$m/x/blobs/$D2"
	expect_status "$m: nothing stored for it" 404
	req HEAD "/v2/$m/x/blobs/$D1"
	expect_status "$m: not under the real digest either (still linked once)" 200
	req POST "/v2/$m/x/blobs/uploads/?digest=sha256:abc" --data-binary "@$REG_TMP/b1"
	expect_error "$m: malformed digest on upload" 400 DIGEST_INVALID
	req POST "/v2/$m/x/blobs/uploads/?digest=md5:d41d8cd98f00b204e9800998ecf8427e" \
		--data-binary "@$REG_TMP/b1"
	expect_error "$m: unknown algorithm on upload" 400 DIGEST_INVALID

	# DELETE (end-10)
	req POST "/v2/$m/y/blobs/uploads/?digest=$D1" --data-binary "@$REG_TMP/b1"
	expect_status "$m: same blob in a second repository" 201
	req DELETE "/v2/$m/x/blobs/$D1"
	expect_status "$m: DELETE" 202
	req GET "/v2/$m/x/blobs/$D1"
	expect_error "$m: deleted blob is gone" 404 BLOB_UNKNOWN
	req DELETE "/v2/$m/x/blobs/$D1"
	expect_error "$m: deleting it again" 404 BLOB_UNKNOWN
	req GET "/v2/$m/y/blobs/$D1"
	expect_status "$m: the other repository keeps it" 200
	check "$m: and its content" cmp -s "$REG_TMP/body" "$REG_TMP/b1"
	req DELETE "/v2/$m/y/blobs/$D1"
	expect_status "$m: last link deleted" 202
	req POST "/v2/$m/x/blobs/uploads/?digest=$D1" --data-binary "@$REG_TMP/b1"
	expect_status "$m: pushed again after the delete" 201
	req GET "/v2/$m/x/blobs/$D1"
	check "$m: and served again" cmp -s "$REG_TMP/body" "$REG_TMP/b1"
	req DELETE "/v2/$m/x/blobs/sha256:nope"
	expect_error "$m: DELETE with a bad digest" 400 DIGEST_INVALID
}

berth_conf "offload = none"
start_front
blob_tests stream
stop_front

berth_conf "offload = $FRONT_OFFLOAD"
start_front
blob_tests sendfile
stop_front

berth_conf "delete = off"
start_front
req DELETE "/v2/sendfile/x/blobs/$D1"
expect_error "delete = off" 405 UNSUPPORTED
req GET "/v2/sendfile/x/blobs/$D1"
expect_status "the blob is still there" 200
check "every blob file hashes to its name" store_files_intact
done_testing
