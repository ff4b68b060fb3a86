#!/bin/sh
# The policy file (issue 11, point 5): a namespace's byte quota refuses
# a push beyond it with 403 DENIED at each step that adds bytes (a
# monolithic POST, a PATCH, the closing PUT, a mount, a manifest PUT),
# counts a blob once however many repositories of it link it, goes down
# when links go, and berthctl du shows it. Immutable tags: the same
# manifest again is fine, moving or deleting one is 403 DENIED.
# shellcheck source=tests/e2e/lib.sh
. "${srcdir:-$(dirname "$0")}/lib.sh"
# shellcheck source=tests/e2e/lib-front.sh
. "$srcdir/lib-front.sh"
# shellcheck source=tests/e2e/lib-http.sh
. "$srcdir/lib-http.sh"
# shellcheck source=tests/e2e/lib-ctl.sh
. "$srcdir/lib-ctl.sh"
T=$REG_TMP
cat >"$T/policy.conf" <<RULES
quota      team-a/*   3000
immutable  release/*  v*
RULES
berth_conf "policy = $T/policy.conf"
start_front

mkblob "$T/b1" 1000
mkblob "$T/b2" 1500
mkblob "$T/b3" 1000
D2=$(sha256 "$T/b2")
D3=$(sha256 "$T/b3")
Q='quota of team-a/* is 2.9 KiB'

push_blob team-a/x "$T/b1"
expect_status "a blob within the quota" 201
push_blob team-a/y "$T/b1"
expect_status "the same blob in another repository of the namespace" 201
push_blob team-a/x "$T/b2"
expect_status "2500 bytes of 3000: each blob once" 201

# end-4b: the size is announced
push_blob team-a/y "$T/b3"
expect_error "POST beyond the quota" 403 DENIED
is "the message says the quota and the usage" \
	"$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["errors"][0]["detail"])' "$T/body")" \
	"$Q, 2.4 KiB used, this push needs 1000 B more"
push_blob team-a/y "$T/b2"
expect_status "a blob the namespace holds needs nothing more" 201

# end-5, end-6: chunks
req POST /v2/team-a/y/blobs/uploads/
expect_status "a session" 202
LOC=$(hdr Location)
head -c 400 "$T/b3" >"$T/c1"
tail -c 600 "$T/b3" >"$T/c2"
req PATCH "$LOC" -H 'Content-Type: application/octet-stream' --data-binary "@$T/b3"
expect_error "a PATCH beyond the quota" 403 DENIED
grep -qF "$Q, 2.4 KiB used, this push needs 1000 B more" "$T/body"
check "its message" test $? = 0
req PATCH "$LOC" -H 'Content-Type: application/octet-stream' --data-binary "@$T/c1"
expect_status "a PATCH within it" 202
req PUT "$LOC?digest=$D3" -H 'Content-Type: application/octet-stream' --data-binary "@$T/c2"
expect_error "the closing PUT: the upload so far and the chunk" 403 DENIED
grep -qF "this push needs 1000 B more" "$T/body"
check "its message" test $? = 0

# end-11: a mount
push_blob other/z "$T/b3"
expect_status "no quota elsewhere" 201
req POST "/v2/team-a/x/blobs/uploads/?mount=$D3&from=other/z"
expect_error "a mount beyond the quota" 403 DENIED

# end-7: manifests
printf '{}' >"$T/config"
push_blob team-a/x "$T/config"
oci manifest --config "$T/config" --layer "$T/b2" >"$T/m1"
put_manifest team-a/x v1 "$T/m1"
expect_status "a manifest within the quota" 201
M1SIZE=$(wc -c <"$T/m1")
push_blob team-a/y "$T/config"
oci manifest --config "$T/config" --layer "$T/b1" >"$T/m2"
put_manifest team-a/y v1 "$T/m2"
expect_error "a manifest beyond it" 403 DENIED
put_manifest team-a/x v2 "$T/m1"
expect_status "the same manifest again needs nothing" 201

# berthctl du
ctl du
is "du exits 0" "$RC" 0
out | grep -q '^team-a/\*  *2\.[0-9] KiB  *2\.9 KiB'
check "du has a line for the quota" test $? = 0
ctl --json du
is "du --json: the quota's usage in bytes" "$(js 'd["quotas"][0]["pattern"]' 'd["quotas"][0]["used"]' 'd["quotas"][0]["limit"]' | tr '\n' ' ')" \
	"team-a/* $((2502 + M1SIZE)) 3000 "

# deleting lets a push through
req DELETE "/v2/team-a/x/manifests/$(sha256 "$T/m1")"
expect_status "delete the manifest" 202
req DELETE "/v2/team-a/x/blobs/$D2"
expect_status "and its layer in team-a/x" 202
req DELETE "/v2/team-a/y/blobs/$D2"
expect_status "and in team-a/y" 202
push_blob team-a/y "$T/b3"
expect_status "now the blob fits" 201

# immutable tags
push_blob release/app "$T/config"
push_blob release/app "$T/b1"
push_blob release/app "$T/b2"
oci manifest --config "$T/config" --layer "$T/b1" >"$T/r1"
oci manifest --config "$T/config" --layer "$T/b2" >"$T/r2"
R1=$(sha256 "$T/r1")
put_manifest release/app v1 "$T/r1"
expect_status "an immutable tag's first push" 201
put_manifest release/app v1 "$T/r1"
expect_status "the same manifest again" 201
put_manifest release/app v1 "$T/r2"
expect_error "moving it" 403 DENIED
grep -qF "tag 'v1' of 'release/app' is immutable" "$T/body"
check "the message names the tag" test $? = 0
req DELETE /v2/release/app/manifests/v1
expect_error "deleting it" 403 DENIED
req DELETE "/v2/release/app/manifests/$R1"
expect_error "deleting its manifest by digest" 403 DENIED
put_manifest release/app latest "$T/r2"
expect_status "another tag" 201
put_manifest release/app latest "$T/r1"
expect_status "which moves" 201
req DELETE /v2/release/app/manifests/latest
expect_status "and goes" 202
push_blob other/app "$T/config"
push_blob other/app "$T/b1"
push_blob other/app "$T/b2"
put_manifest other/app v1 "$T/r1"
put_manifest other/app v1 "$T/r2"
expect_status "v1 of another repository moves" 201
req GET /v2/release/app/manifests/v1
is "v1 names what it named" "$(hdr Docker-Content-Digest)" "$R1"

done_testing
