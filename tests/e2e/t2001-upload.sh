#!/bin/sh
# Upload sessions: end-4a (POST), end-5 (PATCH, with Content-Range and
# chunked without Content-Length), end-6 (PUT with and without a final
# body), end-13 (status), cancel, end-11 (mount), and their errors. With
# several workers, the requests of one session land on different ones.
# shellcheck source=tests/e2e/lib.sh
. "${srcdir:-$(dirname "$0")}/lib.sh"
# shellcheck source=tests/e2e/lib-front.sh
. "$srcdir/lib-front.sh"
# shellcheck source=tests/e2e/lib-http.sh
. "$srcdir/lib-http.sh"
BERTH_WORKERS=3
start_front

mkblob "$REG_TMP/blob" 3000000
D=$(sha256 "$REG_TMP/blob")
split -b 1000000 -d "$REG_TMP/blob" "$REG_TMP/part"

# start: POST /v2/<name>/blobs/uploads/
start() { # REPO
	req POST "/v2/$1/blobs/uploads/"
	LOC=$(hdr Location)
}

start r/chunked
expect_status "POST opens a session" 202
expect_header "POST opens a session" Range 0-0
case "$LOC" in
/v2/r/chunked/blobs/uploads/*) ok "Location names the session" ;;
*) not_ok "Location names the session: '$LOC'" ;;
esac
is "Docker-Upload-UUID matches Location" "$(hdr Docker-Upload-UUID)" "${LOC##*/}"

req PATCH "$LOC" -H 'Content-Range: 0-999999' \
	-H 'Content-Type: application/octet-stream' --data-binary "@$REG_TMP/part00"
expect_status "first chunk" 202
expect_header "first chunk" Range 0-999999
LOC=$(hdr Location)

req GET "$LOC"
expect_status "status of the session" 204
expect_header "status of the session" Range 0-999999

# out of order: a chunk that does not start at the end of the upload
req PATCH "$LOC" -H 'Content-Range: 2000000-2999999' \
	--data-binary "@$REG_TMP/part02"
expect_error "a chunk past the end" 416 BLOB_UPLOAD_INVALID
expect_header "416 says where to resume" Range 0-999999
req PATCH "$LOC" -H 'Content-Range: 500000-1499999' \
	--data-binary "@$REG_TMP/part01"
expect_error "an overlapping chunk" 416 BLOB_UPLOAD_INVALID
expect_header "416 says where to resume" Range 0-999999
req PATCH "$LOC" -H 'Content-Range: 1000000-1000009' \
	--data-binary "@$REG_TMP/part01"
expect_error "Content-Range and Content-Length disagree" 400 SIZE_INVALID
req PATCH "$LOC" -H 'Content-Range: bogus' --data-binary "@$REG_TMP/part01"
expect_error "malformed Content-Range" 400 BLOB_UPLOAD_INVALID
req GET "$LOC"
expect_header "refused chunks changed nothing" Range 0-999999

# docker's way: Transfer-Encoding: chunked, no Content-Length, no Content-Range
req PATCH "$LOC" -H 'Transfer-Encoding: chunked' \
	-H 'Content-Type: application/octet-stream' --data-binary "@$REG_TMP/part01"
expect_status "chunked PATCH without Content-Length" 202
expect_header "chunked PATCH without Content-Length" Range 0-1999999
LOC=$(hdr Location)

req PUT "$LOC?digest=$D" -H 'Content-Range: 2000000-2999999' \
	--data-binary "@$REG_TMP/part02"
expect_status "PUT with the last chunk" 201
expect_header "PUT with the last chunk" Location "/v2/r/chunked/blobs/$D"
expect_header "PUT with the last chunk" Docker-Content-Digest "$D"
req GET "/v2/r/chunked/blobs/$D"
check "the assembled blob" cmp -s "$REG_TMP/body" "$REG_TMP/blob"
req GET "$LOC"
expect_error "the session is gone after PUT" 404 BLOB_UPLOAD_UNKNOWN

# PUT without a body closes a session whose data is all there
start r/nobody
req PATCH "$LOC" --data-binary "@$REG_TMP/blob"
expect_status "whole blob in one PATCH" 202
LOC=$(hdr Location)
req PUT "$LOC?digest=$D"
expect_status "PUT without a body" 201
req HEAD "/v2/r/nobody/blobs/$D"
expect_header "blob is there" Content-Length 3000000

# PUT with the final body but without Content-Range
start r/putbody
req PATCH "$LOC" --data-binary "@$REG_TMP/part00"
LOC=$(hdr Location)
cat "$REG_TMP/part01" "$REG_TMP/part02" >"$REG_TMP/rest"
req PUT "$LOC?digest=$D" --data-binary "@$REG_TMP/rest"
expect_status "PUT with the rest as body" 201
req GET "/v2/r/putbody/blobs/$D"
check "and the blob is right" cmp -s "$REG_TMP/body" "$REG_TMP/blob"

# a wrong digest at the end drops the session and stores nothing
start r/wrong
req PATCH "$LOC" --data-binary "@$REG_TMP/part00"
LOC=$(hdr Location)
req PUT "$LOC?digest=$D"
expect_error "PUT with a digest the data does not have" 400 DIGEST_INVALID
req HEAD "/v2/r/wrong/blobs/$D"
expect_status "nothing stored" 404
req GET "$LOC"
expect_error "the session was dropped" 404 BLOB_UPLOAD_UNKNOWN

# PUT without ?digest=
start r/nodigest
req PUT "$LOC"
expect_error "PUT without a digest" 400 DIGEST_INVALID
req PUT "$LOC?digest=sha256:1234"
expect_error "PUT with a malformed digest" 400 DIGEST_INVALID
req GET "$LOC"
expect_status "the session survives a bad PUT" 204

# sessions belong to their repository
ID=${LOC##*/}
req GET "/v2/r/elsewhere/blobs/uploads/$ID"
expect_error "an id under another repository" 404 BLOB_UPLOAD_UNKNOWN
req PATCH "/v2/r/elsewhere/blobs/uploads/$ID" --data-binary "@$REG_TMP/part00"
expect_error "PATCH under another repository" 404 BLOB_UPLOAD_UNKNOWN
req PUT "/v2/r/elsewhere/blobs/uploads/$ID?digest=$D"
expect_error "PUT under another repository" 404 BLOB_UPLOAD_UNKNOWN
req DELETE "/v2/r/elsewhere/blobs/uploads/$ID"
expect_error "DELETE under another repository" 404 BLOB_UPLOAD_UNKNOWN
for id in 00000000-0000-4000-8000-000000000000 nope %2e%2e \
	"$(echo "$ID" | tr a-f A-F)"; do
	req GET "/v2/r/nodigest/blobs/uploads/$id" --path-as-is
	expect_error "unknown upload id '$id'" 404 BLOB_UPLOAD_UNKNOWN
done

# cancel
req DELETE "$LOC"
expect_status "cancel" 204
req GET "$LOC"
expect_error "a cancelled session is unknown" 404 BLOB_UPLOAD_UNKNOWN
req DELETE "$LOC"
expect_error "cancelling it again" 404 BLOB_UPLOAD_UNKNOWN

# end-11: cross-repository mount
req POST "/v2/r/mounted/blobs/uploads/?mount=$D&from=r/chunked"
expect_status "mount from a repository that has the blob" 201
expect_header "mount" Location "/v2/r/mounted/blobs/$D"
expect_header "mount" Docker-Content-Digest "$D"
req GET "/v2/r/mounted/blobs/$D"
check "the mounted blob" cmp -s "$REG_TMP/body" "$REG_TMP/blob"
req POST "/v2/r/mounted2/blobs/uploads/?mount=$D&from=r/nothing"
expect_status "mount from a repository without the blob opens a session" 202
case "$(hdr Location)" in
/v2/r/mounted2/blobs/uploads/*) ok "with a session Location" ;;
*) not_ok "with a session Location: '$(hdr Location)'" ;;
esac
req POST "/v2/r/mounted3/blobs/uploads/?mount=$D"
expect_status "mount without from opens a session" 202
req POST "/v2/r/mounted4/blobs/uploads/?mount=$D&from=BAD"
expect_status "mount from an invalid name opens a session" 202
req POST "/v2/r/mounted5/blobs/uploads/?mount=sha256:zz&from=r/chunked"
expect_error "mount of a malformed digest" 400 DIGEST_INVALID

# an empty blob through a session
: >"$REG_TMP/empty"
start r/empty
req PUT "$LOC?digest=$(sha256 "$REG_TMP/empty")"
expect_status "empty blob through a session" 201

check "every blob file hashes to its name" store_files_intact
# left: the sessions of r/mounted2..4 and the one of r/putbody's twin
is "only the open sessions have upload data" \
	"$(find "$REG_STORE/uploads" -type f | wc -l | tr -d ' ')" 3
done_testing
