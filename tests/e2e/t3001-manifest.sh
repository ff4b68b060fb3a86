#!/bin/sh
# Manifests: end-7 (PUT by tag and by digest, validation), end-3 (GET and
# HEAD by tag and by digest, byte for byte), end-9 (DELETE by digest and by
# tag), for OCI and Docker schema2 manifests, indexes, manifest lists and
# artifacts.
# shellcheck source=tests/e2e/lib.sh
. "${srcdir:-$(dirname "$0")}/lib.sh"
# shellcheck source=tests/e2e/lib-front.sh
. "$srcdir/lib-front.sh"
# shellcheck source=tests/e2e/lib-http.sh
. "$srcdir/lib-http.sh"
start_front
T=$REG_TMP

printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}' >"$T/config"
mkblob "$T/l1" 3000
mkblob "$T/l2" 5000
for f in config l1 l2; do
	push_blob m/img "$T/$f"
	[ "$STATUS" = 201 ] || bail "cannot push blob $f: $STATUS"
done

# --- OCI image manifest by tag ---
oci manifest --config "$T/config" --layer "$T/l1" --layer "$T/l2" >"$T/m1"
M1=$(sha256 "$T/m1")
put_manifest m/img v1 "$T/m1"
expect_status "PUT an OCI manifest by tag" 201
expect_header "PUT" Location "/v2/m/img/manifests/$M1"
expect_header "PUT" Docker-Content-Digest "$M1"
req GET /v2/m/img/manifests/v1
expect_status "GET by tag" 200
check "GET returns the bytes that were pushed" cmp -s "$T/body" "$T/m1"
expect_header "GET" Content-Type application/vnd.oci.image.manifest.v1+json
expect_header "GET" Docker-Content-Digest "$M1"
expect_header "GET" Content-Length "$(wc -c <"$T/m1" | tr -d ' ')"
req HEAD /v2/m/img/manifests/v1
expect_status "HEAD by tag" 200
expect_header "HEAD" Docker-Content-Digest "$M1"
expect_header "HEAD" Content-Length "$(wc -c <"$T/m1" | tr -d ' ')"
expect_header "HEAD" Content-Type application/vnd.oci.image.manifest.v1+json
req GET "/v2/m/img/manifests/$M1"
expect_status "GET by digest" 200
check "GET by digest returns the same bytes" cmp -s "$T/body" "$T/m1"
req HEAD "/v2/m/img/manifests/$M1"
expect_status "HEAD by digest" 200
req GET /v2/m/other/manifests/v1
expect_error "a tag of another repository" 404 MANIFEST_UNKNOWN
req GET "/v2/m/other/manifests/$M1"
expect_error "a digest of another repository" 404 MANIFEST_UNKNOWN
req HEAD /v2/m/img/manifests/nope
expect_status "HEAD of an unknown tag" 404

# stored byte for byte: odd spacing and key order survive, and the digest
# is over exactly these bytes
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
sys.stdout.write("{\n   \"layers\" : %s,\n\t\"config\": %s ,\"schemaVersion\":2,  \"mediaType\": \"%s\"}\n\n"
    % (json.dumps(d["layers"], indent=3), json.dumps(d["config"]), d["mediaType"]))' "$T/m1" >"$T/m1odd"
M1ODD=$(sha256 "$T/m1odd")
put_manifest m/img "$M1ODD" "$T/m1odd"
expect_status "PUT by digest (odd formatting)" 201
expect_header "PUT by digest" Docker-Content-Digest "$M1ODD"
req GET "/v2/m/img/manifests/$M1ODD"
check "the odd bytes come back unchanged" cmp -s "$T/body" "$T/m1odd"

# PUT by a digest the body does not have: refused, nothing stored
put_manifest m/img "$M1" "$T/m1odd"
expect_error "PUT by a digest the body does not hash to" 400 DIGEST_INVALID
M2=sha256:$(printf '%064d' 7)
put_manifest m/img "$M2" "$T/m1"
expect_error "PUT by an unrelated digest" 400 DIGEST_INVALID
req GET "/v2/m/img/manifests/$M2"
expect_status "and nothing was stored under it" 404
put_manifest m/img "sha256:xyz" "$T/m1"
expect_error "PUT by a malformed digest" 400 DIGEST_INVALID

# sha512 reference
M512=$(sha512 "$T/m1")
put_manifest m/img "$M512" "$T/m1"
expect_status "PUT by a sha512 digest" 201
expect_header "PUT by sha512" Docker-Content-Digest "$M512"
req GET "/v2/m/img/manifests/$M512"
check "GET by the sha512 digest" cmp -s "$T/body" "$T/m1"

# --- Docker schema2 manifest and manifest list ---
oci manifest --docker --config "$T/config" --layer "$T/l1" >"$T/d1"
put_manifest m/img docker "$T/d1"
expect_status "PUT a Docker schema2 manifest" 201
req GET /v2/m/img/manifests/docker
expect_header "GET schema2" Content-Type application/vnd.docker.distribution.manifest.v2+json
check "schema2 bytes" cmp -s "$T/body" "$T/d1"
oci index --docker --manifest "$T/d1=linux/amd64" >"$T/dl"
put_manifest m/img list "$T/dl"
expect_status "PUT a Docker manifest list" 201
req GET /v2/m/img/manifests/list
expect_header "GET the list" Content-Type application/vnd.docker.distribution.manifest.list.v2+json

# --- OCI index ---
oci manifest --config "$T/config" --layer "$T/l2" >"$T/m3"
put_manifest m/img "$(sha256 "$T/m3")" "$T/m3"
expect_status "PUT a second manifest by digest" 201
oci index --manifest "$T/m1=linux/amd64" --manifest "$T/m3=linux/arm64" >"$T/i1"
put_manifest m/img multi "$T/i1"
expect_status "PUT an OCI index" 201
req GET /v2/m/img/manifests/multi
expect_header "GET the index" Content-Type application/vnd.oci.image.index.v1+json
check "index bytes" cmp -s "$T/body" "$T/i1"
oci index --manifest "$T/m1" --manifest "$T/d1" --manifest "$T/dl" >"$T/i2"
put_manifest m/img nested "$T/i2"
expect_status "an index of a manifest, a schema2 manifest and a list" 201

# an index that lists a manifest the repository does not have
oci manifest --config "$T/config" >"$T/m4"
oci index --manifest "$T/m1" --manifest "$T/m4" >"$T/i3"
put_manifest m/img broken "$T/i3"
expect_error "an index listing an unknown manifest" 404 MANIFEST_UNKNOWN
req GET /v2/m/img/manifests/broken
expect_status "the refused index left no tag" 404

# --- artifacts ---
printf '{}' >"$T/empty.json"
push_blob m/img "$T/empty.json"
printf 'signature bytes' >"$T/sig"
push_blob m/img "$T/sig"
oci manifest --config "$T/empty.json=application/vnd.oci.empty.v1+json" \
	--layer "$T/sig=application/vnd.example.sig" \
	--artifact-type application/vnd.example.signature.v1 >"$T/a1"
put_manifest m/img artifact "$T/a1"
expect_status "an artifact with artifactType" 201
printf '{"tool":"x"}' >"$T/cfg2"
push_blob m/img "$T/cfg2"
oci manifest --config "$T/cfg2=application/vnd.example.config.v1+json" \
	--layer "$T/sig=application/vnd.example.sig" >"$T/a2"
put_manifest m/img artifact2 "$T/a2"
expect_status "an artifact with a custom config.mediaType" 201
oci manifest --config "$T/empty.json=application/vnd.oci.empty.v1+json" \
	--artifact-type application/vnd.example.none >"$T/a3"
put_manifest m/img artifact3 "$T/a3"
expect_status "an artifact without layers" 201

# --- validation: refused PUTs change nothing ---
mkblob "$T/absent" 100
oci manifest --config "$T/config" --layer "$T/absent" >"$T/bad1"
put_manifest m/img bad "$T/bad1"
expect_error "a layer the repository lacks" 404 MANIFEST_BLOB_UNKNOWN
oci manifest --config "$T/absent" --layer "$T/l1" >"$T/bad2"
put_manifest m/img bad "$T/bad2"
expect_error "a config the repository lacks" 404 MANIFEST_BLOB_UNKNOWN
push_blob m/elsewhere "$T/absent"
put_manifest m/img bad "$T/bad1"
expect_error "a layer that only another repository has" 404 MANIFEST_BLOB_UNKNOWN
req GET /v2/m/img/manifests/bad
expect_status "no tag was created by the refused PUTs" 404
python3 -c '
import json, sys
d = json.load(open(sys.argv[1])); d["layers"][0]["size"] += 1
sys.stdout.write(json.dumps(d))' "$T/m1" >"$T/bad3"
put_manifest m/img bad "$T/bad3"
expect_error "a descriptor with the wrong size" 400 MANIFEST_INVALID

printf '{"schemaVersion":1,"name":"m/img","tag":"old","architecture":"amd64","fsLayers":[],"history":[]}' >"$T/s1"
put_manifest m/img old "$T/s1" application/vnd.docker.distribution.manifest.v1+prettyjws
expect_error "Docker schema1" 400 MANIFEST_INVALID
check "schema1 is refused with a clear message" grep -q 'schema1 manifests are not supported' "$T/body"
put_manifest m/img old "$T/s1" application/vnd.docker.distribution.manifest.v1+json
expect_error "Docker schema1 (unsigned)" 400 MANIFEST_INVALID

printf '{"schemaVersion":2,' >"$T/bad4"
put_manifest m/img bad "$T/bad4" application/vnd.oci.image.manifest.v1+json
expect_error "malformed JSON" 400 MANIFEST_INVALID
put_manifest m/img bad "$T/m1" application/vnd.docker.distribution.manifest.v2+json
expect_error "mediaType and Content-Type disagree" 400 MANIFEST_INVALID
put_manifest m/img bad "$T/m1" "application/vnd.oci.image.manifest.v1+json; charset=utf-8"
expect_status "Content-Type parameters are ignored" 201
req DELETE /v2/m/img/manifests/bad
python3 -c '
import json, sys
d = json.load(open(sys.argv[1])); del d["mediaType"]
sys.stdout.write(json.dumps(d))' "$T/m1" >"$T/nomt"
put_manifest m/img nomt "$T/nomt" application/vnd.oci.image.manifest.v1+json
expect_status "no mediaType field: the Content-Type decides" 201
req GET /v2/m/img/manifests/nomt
expect_header "and is served back" Content-Type application/vnd.oci.image.manifest.v1+json
put_manifest m/img bad "$T/nomt" application/octet-stream
expect_error "an unknown media type" 400 MANIFEST_INVALID
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]}' >"$T/bad5"
put_manifest m/img bad "$T/bad5"
expect_error "no config" 400 MANIFEST_INVALID
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"a/b","digest":"sha256:zz","size":1},"layers":[]}' >"$T/bad6"
put_manifest m/img bad "$T/bad6"
expect_error "a descriptor with a malformed digest" 400 MANIFEST_INVALID
printf '[1,2,3]' >"$T/bad7"
put_manifest m/img bad "$T/bad7" application/vnd.oci.image.manifest.v1+json
expect_error "not an object" 400 MANIFEST_INVALID
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":{}}' >"$T/bad8"
put_manifest m/img bad "$T/bad8"
expect_error "an index whose manifests is not an array" 400 MANIFEST_INVALID
req GET /v2/m/img/manifests/bad
expect_status "nothing stored by any of them" 404

# tag grammar
for tag in -lead .lead "$(python3 -c 'print("t" * 129)')" 'a%20b' 'a%2Bb'; do
	put_manifest m/img "$tag" "$T/m1"
	expect_error "tag '$(echo "$tag" | cut -c1-12)' is invalid" 400 TAG_INVALID
done
for tag in _lead a.b-c_D "$(python3 -c 'print("t" * 128)')"; do
	put_manifest m/img "$tag" "$T/m1"
	expect_status "tag '$(echo "$tag" | cut -c1-12)' is valid" 201
done

# size limit: 413 SIZE_INVALID above max_manifest_size (default 4M)
python3 -c '
import json, sys
d = json.load(open(sys.argv[1])); d["annotations"] = {"pad": "x" * (4 * 1024 * 1024)}
sys.stdout.write(json.dumps(d))' "$T/m1" >"$T/huge"
put_manifest m/img huge "$T/huge"
expect_error "a manifest over 4 MiB" 413 SIZE_INVALID
req PUT /v2/m/img/manifests/huge -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
	-H 'Transfer-Encoding: chunked' --data-binary "@$T/huge"
expect_error "over 4 MiB without Content-Length" 413 SIZE_INVALID
python3 -c '
import json, sys
d = json.load(open(sys.argv[1])); d["annotations"] = {"pad": "x" * (4 * 1024 * 1024 - 2048)}
sys.stdout.write(json.dumps(d))' "$T/m1" >"$T/big"
put_manifest m/img big "$T/big"
expect_status "a manifest just under 4 MiB" 201
req GET /v2/m/img/manifests/big
check "comes back whole" cmp -s "$T/body" "$T/big"

# --- deletion ---
put_manifest m/img v1-alias "$T/m1"
req DELETE /v2/m/img/manifests/v1-alias
expect_status "DELETE by tag" 202
req GET /v2/m/img/manifests/v1-alias
expect_error "the tag is gone" 404 MANIFEST_UNKNOWN
req GET /v2/m/img/manifests/v1
expect_status "other tags of the manifest stay" 200
req GET "/v2/m/img/manifests/$M1"
expect_status "and so does the manifest" 200
req DELETE /v2/m/img/manifests/v1-alias
expect_error "deleting it again" 404 MANIFEST_UNKNOWN

# a manifest that an index lists stays while the index does (as zot)
I1=$(sha256 "$T/i1")
I2=$(sha256 "$T/i2")
req DELETE "/v2/m/img/manifests/$M1"
expect_error "DELETE by digest of a manifest an index lists" 405 DENIED
check "the answer names the index" grep -q -e "$I1" -e "$I2" "$REG_TMP/body"
req GET "/v2/m/img/manifests/$M1"
expect_status "and the manifest stays" 200
req DELETE "/v2/m/img/manifests/$I2"
expect_status "the indexes that list it go first" 202
req DELETE "/v2/m/img/manifests/$I1"
expect_status "both" 202

req DELETE "/v2/m/img/manifests/$M1"
expect_status "DELETE by digest" 202
req GET "/v2/m/img/manifests/$M1"
expect_error "the manifest is gone" 404 MANIFEST_UNKNOWN
for tag in v1 bad _lead a.b-c_D; do
	req GET "/v2/m/img/manifests/$tag"
	expect_status "tag $tag, which named it, is gone" 404
done
req DELETE "/v2/m/img/manifests/$M1"
expect_error "deleting it again" 404 MANIFEST_UNKNOWN
# a blob that a manifest of the repository uses stays too
req DELETE "/v2/m/img/blobs/$(sha256 "$T/config")"
expect_error "DELETE of a blob a manifest uses" 405 DENIED
check "the answer names a manifest that uses it" \
	grep -q "manifest 'sha256:" "$REG_TMP/body"
req HEAD "/v2/m/img/blobs/$(sha256 "$T/config")"
expect_status "and the blob stays" 200
put_manifest m/img v1 "$T/m1"
expect_status "pushing it again right after" 201
req GET /v2/m/img/manifests/v1
check "and it is served" cmp -s "$T/body" "$T/m1"

# a tag moved to another manifest keeps pointing there when the first goes
put_manifest m/img moving "$T/m1"
put_manifest m/img moving "$T/m3"
expect_status "moving a tag" 201
req DELETE "/v2/m/img/manifests/$M1"
req GET /v2/m/img/manifests/moving
check "the moved tag names the second manifest" cmp -s "$T/body" "$T/m3"
req GET /v2/m/img/manifests/v1
expect_status "while v1 went with the first" 404
# the index again, for what follows
put_manifest m/img v1 "$T/m1"
put_manifest m/img multi "$T/i1"
expect_status "an index pushed again" 201

# a reference that is no valid tag names no manifest: 404 for all but
# PUT (the OCI conformance suite v1.1)
req DELETE /v2/m/img/manifests/-bad
expect_error "DELETE with an invalid tag" 404 MANIFEST_UNKNOWN
req GET /v2/m/img/manifests/.bad
expect_error "GET with an invalid tag" 404 MANIFEST_UNKNOWN
req HEAD /v2/m/img/manifests/.bad
expect_status "HEAD with an invalid tag" 404
req DELETE /v2/m/img/manifests/sha256:nope
expect_error "DELETE with a malformed digest" 400 DIGEST_INVALID

stop_front
berth_conf "delete = off" "max_manifest_size = 2K"
start_front
req DELETE /v2/m/img/manifests/multi
expect_error "delete = off: by tag" 405 UNSUPPORTED
req DELETE "/v2/m/img/manifests/$(sha256 "$T/i1")"
expect_error "delete = off: by digest" 405 UNSUPPORTED
req GET /v2/m/img/manifests/multi
expect_status "still there" 200
put_manifest m/img again "$T/m3"
expect_status "max_manifest_size = 2K: a small manifest" 201
# a body just over the limit: the 4 MiB cases above test refused bodies
# the front server is still sending (which, under load, nginx may not
# finish within berth's refusal budget, and then answers 502 itself)
python3 -c '
import json, sys
d = json.load(open(sys.argv[1])); d["annotations"] = {"pad": "x" * 3072}
sys.stdout.write(json.dumps(d))' "$T/m1" >"$T/m3k"
put_manifest m/img big2 "$T/m3k"
expect_error "max_manifest_size = 2K: a bigger one" 413 SIZE_INVALID
req GET /v2/m/img/manifests/big
check "one stored before the limit was lowered is still served" cmp -s "$T/body" "$T/big"
done_testing
