#!/bin/sh
# Uploads under stress: a client that dies mid-chunk leaves the session
# usable from its last complete chunk; concurrent uploads of one blob, in
# one repository and in several, end with one intact blob.
# shellcheck source=tests/e2e/lib.sh
. "${srcdir:-$(dirname "$0")}/lib.sh"
# shellcheck source=tests/e2e/lib-front.sh
. "$srcdir/lib-front.sh"
# shellcheck source=tests/e2e/lib-http.sh
. "$srcdir/lib-http.sh"
BERTH_WORKERS=4
start_front

mkblob "$REG_TMP/blob" 4000000
D=$(sha256 "$REG_TMP/blob")
head -c 1000000 "$REG_TMP/blob" >"$REG_TMP/c0"
tail -c +1000001 "$REG_TMP/blob" >"$REG_TMP/c1"

# retry REQ-ARGS...: repeat while the session is busy with the request the
# dead client left behind (the web server notices the abort asynchronously)
retry() {
	_n=0
	while :; do
		req "$@"
		if [ "$STATUS" != 429 ] ||
			! grep -q 'in use by another request' "$REG_TMP/body"; then
			break
		fi
		_n=$((_n + 1))
		[ $_n -lt 50 ] || break
		sleep 0.1
	done
}

req POST /v2/abort/me/blobs/uploads/
LOC=$(hdr Location)
req PATCH "$LOC" -H 'Content-Range: 0-999999' --data-binary "@$REG_TMP/c0"
expect_status "first chunk" 202
LOC=$(hdr Location)

# second chunk: 3000000 announced, 1200000 sent, then the client is gone
python3 "$srcdir/rawhttp.py" abort "$BASE" PATCH "$LOC" 3000000 1200000 \
	'Content-Range: 1000000-3999999' 'Content-Type: application/octet-stream'
sleep 0.5
retry GET "$LOC"
expect_status "session after the dead client" 204
expect_header "it ends at the last complete chunk" Range 0-999999

retry PATCH "$LOC" -H 'Content-Range: 1000000-3999999' --data-binary "@$REG_TMP/c1"
expect_status "the chunk again" 202
expect_header "the chunk again" Range 0-3999999
LOC=$(hdr Location)
req PUT "$LOC?digest=$D"
expect_status "finish" 201
req GET "/v2/abort/me/blobs/$D"
check "the blob is right" cmp -s "$REG_TMP/body" "$REG_TMP/blob"

# bodies reach berth while they are sent, not after the front server has
# the whole of them (which for a layer could be gigabytes on its disk)
# shellcheck disable=SC2317 # called through check
streamed() { # LENGTH|chunked: berth has bytes of a body still on its way
	req POST /v2/abort/stream/blobs/uploads/
	_id=$(hdr Docker-Upload-UUID)
	RAWHTTP_STALL=5 python3 "$srcdir/rawhttp.py" abort "$BASE" PATCH \
		"/v2/abort/stream/blobs/uploads/$_id" "$1" 2000000 &
	_raw=$!
	_i=0
	_size=0
	while [ "$_i" -lt 40 ] && [ "$_size" = 0 ]; do
		sleep 0.1
		_size=$(stat -c %s "$REG_STORE/uploads/$_id" 2>/dev/null || echo 0)
		_i=$((_i + 1))
	done
	wait "$_raw"
	retry DELETE "/v2/abort/stream/blobs/uploads/$_id"
	[ "$_size" != 0 ]
}
# shellcheck disable=SC2317 # called through check
not_streamed() {
	! streamed "$@"
}
check "a body with Content-Length is streamed to berth" streamed 4000000
if [ "$FRONT" = lighttpd ]; then
	# lighttpd collects a chunked body first (conf/lighttpd/berth.conf)
	check "a chunked body is collected by lighttpd first" not_streamed chunked
else
	check "a chunked body is streamed to berth" streamed chunked
fi

# two requests on one session at once: the second is told to come back
req POST /v2/abort/busy/blobs/uploads/
LOC=$(hdr Location)
c -o /dev/null -w '%{http_code}' -X PATCH --limit-rate 400K \
	--data-binary "@$REG_TMP/c0" "$BASE$LOC" >"$REG_TMP/slow.status" &
slow=$!
sleep 0.8
req PATCH "$LOC" --data-binary "@$REG_TMP/c0"
expect_error "a PATCH while another one writes the session" 429 TOOMANYREQUESTS
expect_header "says when to try again" Retry-After 1
wait $slow
is "the first one completes" "$(cat "$REG_TMP/slow.status")" 202
req GET "$LOC"
expect_header "with only its chunk in the session" Range 0-999999
req DELETE "$LOC"

# a monolithic upload whose client dies: nothing stored, nothing left
mkblob "$REG_TMP/other" 3000000
DO=$(sha256 "$REG_TMP/other")
python3 "$srcdir/rawhttp.py" abort "$BASE" POST \
	"/v2/abort/mono/blobs/uploads/?digest=$DO" 3000000 1000000
sleep 0.5
req HEAD "/v2/abort/mono/blobs/$DO"
expect_status "a monolithic upload cut short stores nothing" 404

# concurrent uploads of the same content
mkblob "$REG_TMP/same" 5000000
DS=$(sha256 "$REG_TMP/same")
i=0
while [ $i -lt 8 ]; do
	# half monolithic into one repository, half into repositories of
	# their own, and two through sessions with two chunks
	case $i in
	0 | 1 | 2) repo=same/one ;;
	*) repo=same/r$i ;;
	esac
	c -o /dev/null -w '%{http_code}\n' -X POST \
		--data-binary "@$REG_TMP/same" \
		"$BASE/v2/$repo/blobs/uploads/?digest=$DS" >"$REG_TMP/st.$i" &
	jobs="${jobs:-} $!"
	i=$((i + 1))
done
for j in 1 2; do
	(
		loc=$(c -D - -o /dev/null -X POST -H 'Content-Length: 0' \
			"$BASE/v2/same/s$j/blobs/uploads/" | tr -d '\r' |
			awk 'tolower($1) == "location:" { print $2 }')
		head -c 2500000 "$REG_TMP/same" >"$REG_TMP/same.a$j"
		tail -c +2500001 "$REG_TMP/same" >"$REG_TMP/same.b$j"
		loc=$(c -D - -o /dev/null -X PATCH \
			--data-binary "@$REG_TMP/same.a$j" "$BASE$loc" | tr -d '\r' |
			awk 'tolower($1) == "location:" { print $2 }')
		c -o /dev/null -w '%{http_code}\n' -X PUT \
			--data-binary "@$REG_TMP/same.b$j" "$BASE$loc?digest=$DS"
	) >"$REG_TMP/st.s$j" &
	jobs="$jobs $!"
done
# shellcheck disable=SC2086
wait $jobs
is "all 10 concurrent uploads succeeded" "$(cat "$REG_TMP"/st.* | sort | uniq -c | tr -s ' ')" " 10 201"
for repo in same/one same/r3 same/r7 same/s1 same/s2; do
	req GET "/v2/$repo/blobs/$DS"
	check "$repo serves the blob" cmp -s "$REG_TMP/body" "$REG_TMP/same"
done
is "one file for the blob" \
	"$(find "$REG_STORE/blobs" -name "${DS#sha256:}" | wc -l | tr -d ' ')" 1
check "every blob file hashes to its name" store_files_intact
is "no upload data is left over" "$(find "$REG_STORE/uploads" -type f | wc -l | tr -d ' ')" 0
done_testing
