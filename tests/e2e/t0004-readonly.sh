#!/bin/sh
# Maintenance mode: while it is on (berthctl readonly on), every write (POST, PUT, PATCH, DELETE)
# answers 405 UNSUPPORTED saying the registry is read-only, after the
# access rules have had their say (401 and 403 stay); reads go on, an
# upload session opened before it can be looked at, and a request in
# flight when it is turned on finishes. Off again, writes go in, and the
# session continues.
# shellcheck source=tests/e2e/lib.sh
. "${srcdir:-$(dirname "$0")}/lib.sh"
# shellcheck source=tests/e2e/lib-front.sh
. "$srcdir/lib-front.sh"
# shellcheck source=tests/e2e/lib-http.sh
. "$srcdir/lib-http.sh"
need openssl
T=$REG_TMP
# shellcheck source=tests/e2e/lib-ctl.sh
. "$srcdir/lib-ctl.sh"
add_user alice pw-alice
add_user bob pw-bob
printf '%s\n' '*  pull  *' 'alice  push,delete  *' >"$T/access.conf"
berth_conf "access = $T/access.conf"
FRONT_AUTH=optional
start_front
A="-u alice:pw-alice"

printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}' >"$T/config"
mkblob "$T/l1" 3000
mkblob "$T/l2" 4000
for f in config l1; do
	# shellcheck disable=SC2086
	push_blob ro/img "$T/$f" $A
	[ "$STATUS" = 201 ] || bail "cannot push blob $f: $STATUS"
done
oci manifest --config "$T/config" --layer "$T/l1" >"$T/m1"
M1=$(sha256 "$T/m1")
D1=$(sha256 "$T/l1")
D2=$(sha256 "$T/l2")
# shellcheck disable=SC2086
req PUT /v2/ro/img/manifests/v1 $A \
	-H "Content-Type: application/vnd.oci.image.manifest.v1+json" --data-binary "@$T/m1"
[ "$STATUS" = 201 ] || bail "cannot push the manifest: $STATUS"
# an upload session, open across maintenance
# shellcheck disable=SC2086
req POST /v2/ro/img/blobs/uploads/ $A
LOC=$(hdr Location)
# shellcheck disable=SC2086
req PATCH "$LOC" $A --data-binary "@$T/l2"
[ "$STATUS" = 202 ] || bail "cannot start an upload: $STATUS"

# a slow chunk is on its way when maintenance starts: it finishes
# shellcheck disable=SC2086
req POST /v2/ro/img/blobs/uploads/ $A
SLOW=$(hdr Location)
mkblob "$T/slow" 600000
# shellcheck disable=SC2086
c $A -o /dev/null -w '%{http_code}' -X PATCH --limit-rate 300K \
	--data-binary "@$T/slow" "$BASE$SLOW" >"$T/slow.status" &
slow=$!
sleep 0.5
ctl readonly on
is "berthctl readonly on" "$RC" 0
wait $slow
is "a PATCH in flight when maintenance began finished" "$(cat "$T/slow.status")" 202

# read_only DESCRIPTION: the last answer turned a write away
read_only() {
	expect_error "$1" 405 UNSUPPORTED
	is "$1 (detail)" "$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["errors"][0]["detail"])' "$T/body")" \
		"the registry is read-only for maintenance"
}
# shellcheck disable=SC2086
{
	req POST /v2/ro/img/blobs/uploads/ $A
	read_only "POST an upload"
	req POST "/v2/ro/img/blobs/uploads/?digest=$D2" $A --data-binary "@$T/l2"
	read_only "POST a monolithic upload"
	req POST "/v2/ro/other/blobs/uploads/?mount=$D1&from=ro/img" $A
	read_only "POST a mount"
	req PATCH "$LOC" $A --data-binary "@$T/l2"
	read_only "PATCH a session"
	req PUT "$LOC?digest=$D2" $A
	read_only "PUT a session"
	req DELETE "$LOC" $A
	read_only "DELETE a session"
	req PUT /v2/ro/img/manifests/v2 $A \
		-H "Content-Type: application/vnd.oci.image.manifest.v1+json" --data-binary "@$T/m1"
	read_only "PUT a manifest"
	req DELETE "/v2/ro/img/manifests/$M1" $A
	read_only "DELETE a manifest"
	req DELETE "/v2/ro/img/blobs/$D1" $A
	read_only "DELETE a blob"
}
# the access rules come first
req POST /v2/ro/img/blobs/uploads/
expect_error "anonymous POST is still asked to log in" 401 UNAUTHORIZED
req POST /v2/ro/img/blobs/uploads/ -u bob:pw-bob
expect_error "bob's POST is still denied" 403 DENIED
# reads
req GET /v2/ro/img/manifests/v1
expect_status "GET a manifest" 200
check "its bytes" cmp -s "$T/body" "$T/m1"
req HEAD "/v2/ro/img/manifests/$M1"
expect_status "HEAD a manifest" 200
req GET "/v2/ro/img/blobs/$D1"
expect_status "GET a blob" 200
check "its bytes" cmp -s "$T/body" "$T/l1"
req HEAD "/v2/ro/img/blobs/$D1"
expect_status "HEAD a blob" 200
req GET /v2/ro/img/tags/list
expect_status "GET tags" 200
# shellcheck disable=SC2086
req GET "$LOC" $A
expect_status "GET an upload session's state" 204
expect_header "which kept its data" Range 0-3999
req GET /v2/ -u bob:pw-bob
expect_status "GET /v2/" 200

# off again
ctl readonly off
is "berthctl readonly off" "$RC" 0
# shellcheck disable=SC2086
{
	req PUT "$LOC?digest=$D2" $A
	expect_status "the session opened before maintenance completes" 201
	req PUT /v2/ro/img/manifests/v2 $A \
		-H "Content-Type: application/vnd.oci.image.manifest.v1+json" --data-binary "@$T/m1"
	expect_status "PUT a manifest" 201
	req DELETE /v2/ro/img/manifests/v2 $A
	expect_status "DELETE a tag" 202
	req DELETE "/v2/ro/img/blobs/$D2" $A
	expect_status "DELETE a blob" 202
	push_blob ro/img "$T/l2" $A
	expect_status "POST a monolithic upload" 201
}
done_testing
