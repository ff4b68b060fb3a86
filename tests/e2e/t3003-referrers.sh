#!/bin/sh
# Referrers (end-12a, end-12b) and manifests with a subject: OCI-Subject,
# the index of referrers with artifactType and annotations, the
# artifactType filter, empty answers, and deletion.
# shellcheck source=tests/e2e/lib.sh
. "${srcdir:-$(dirname "$0")}/lib.sh"
# shellcheck source=tests/e2e/lib-front.sh
. "$srcdir/lib-front.sh"
# shellcheck source=tests/e2e/lib-http.sh
. "$srcdir/lib-http.sh"
start_front
T=$REG_TMP

json() { # EXPR [ARG...]: EXPR on the last body (as j); ARGs in sys.argv[3:]
	python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' \
		"$T/body" "$@"
}

printf '{"architecture":"amd64","os":"linux"}' >"$T/config"
printf '{}' >"$T/empty"
printf 'sbom' >"$T/sbom"
printf 'sig' >"$T/sig"
for f in config empty sbom sig; do push_blob r/app "$T/$f"; done
oci manifest --config "$T/config" >"$T/img"
IMG=$(sha256 "$T/img")
put_manifest r/app v1 "$T/img"

# an SBOM with artifactType and annotations, a signature whose type comes
# from its config, and an index referrer
oci manifest --config "$T/empty=application/vnd.oci.empty.v1+json" \
	--layer "$T/sbom=application/spdx+json" \
	--artifact-type application/vnd.example.sbom.v1 \
	--annotation org.opencontainers.image.created=2026-01-01T00:00:00Z \
	--annotation org.example.format=json --subject "$T/img" >"$T/sbomm"
SBOM=$(sha256 "$T/sbomm")
put_manifest r/app "$SBOM" "$T/sbomm"
expect_status "PUT a manifest with a subject" 201
expect_header "PUT answers OCI-Subject" OCI-Subject "$IMG"
oci manifest --config "$T/sig=application/vnd.example.signature.config" \
	--subject "$T/img" >"$T/sigm"
SIG=$(sha256 "$T/sigm")
put_manifest r/app "$SIG" "$T/sigm"
expect_header "a second one" OCI-Subject "$IMG"
oci index --manifest "$T/sbomm" --subject "$T/img" \
	--annotation org.example.kind=bundle >"$T/idx"
IDX=$(sha256 "$T/idx")
put_manifest r/app "$IDX" "$T/idx"
expect_header "an index with a subject" OCI-Subject "$IMG"
req GET /v2/r/app/manifests/v1
is "a manifest without subject gets no OCI-Subject" "$(hdr OCI-Subject)" ""

req GET "/v2/r/app/referrers/$IMG"
expect_status "referrers" 200
expect_header "referrers" Content-Type application/vnd.oci.image.index.v1+json
is "is an image index" "$(json 'j["schemaVersion"], j["mediaType"]')" \
	"(2, 'application/vnd.oci.image.index.v1+json')"
is "of three manifests" "$(json 'sorted(m["digest"] for m in j["manifests"]) == sorted(sys.argv[3:])' \
	"$SBOM" "$SIG" "$IDX")" True
get() { # DIGEST EXPR: EXPR on the descriptor of DIGEST (as m)
	python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
m = [m for m in j["manifests"] if m["digest"] == sys.argv[2]][0]
print(eval(sys.argv[3]))' "$T/body" "$1" "$2"
}
is "the SBOM's artifactType" "$(get "$SBOM" 'm["artifactType"]')" application/vnd.example.sbom.v1
is "its annotations" "$(get "$SBOM" 'sorted(m["annotations"].items())')" \
	"[('org.example.format', 'json'), ('org.opencontainers.image.created', '2026-01-01T00:00:00Z')]"
is "its mediaType and size" "$(get "$SBOM" 'm["mediaType"], m["size"]')" \
	"('application/vnd.oci.image.manifest.v1+json', $(wc -c <"$T/sbomm" | tr -d ' '))"
is "without artifactType, the config's mediaType" "$(get "$SIG" 'm["artifactType"]')" \
	application/vnd.example.signature.config
is "and no annotations when it has none" "$(get "$SIG" '"annotations" in m')" False
is "an index without artifactType has none" "$(get "$IDX" '"artifactType" in m, m["mediaType"]')" \
	"(False, 'application/vnd.oci.image.index.v1+json')"
is "but its annotations" "$(get "$IDX" 'm["annotations"]')" "{'org.example.kind': 'bundle'}"

req GET "/v2/r/app/referrers/$IMG?artifactType=application/vnd.example.sbom.v1"
expect_status "filtered by artifactType" 200
expect_header "filtered" OCI-Filters-Applied artifactType
is "only the SBOM" "$(json '[m["digest"] for m in j["manifests"]]')" "['$SBOM']"
req GET "/v2/r/app/referrers/$IMG?artifactType=application/vnd.example.none"
is "a filter nothing matches" "$(json 'j["manifests"]')" "[]"
expect_header "still says it filtered" OCI-Filters-Applied artifactType
req GET "/v2/r/app/referrers/$IMG"
is "no filter, no OCI-Filters-Applied" "$(hdr OCI-Filters-Applied)" ""

req GET "/v2/r/app/referrers/sha256:$(printf '%064d' 1)"
expect_status "an unknown digest" 200
is "has an empty index" "$(json 'j["manifests"], j["mediaType"]')" \
	"([], 'application/vnd.oci.image.index.v1+json')"
req GET "/v2/r/nothing/referrers/$IMG"
expect_status "an unknown repository" 200
is "has an empty index too" "$(json 'j["manifests"]')" "[]"
req GET "/v2/r/app/referrers/$SBOM"
is "a referrer's own referrers" "$(json 'j["manifests"]')" "[]"
req GET /v2/r/app/referrers/sha256:abc
expect_error "a malformed digest" 400 DIGEST_INVALID
req GET /v2/r/app/referrers/latest
expect_error "a tag is not a digest" 400 DIGEST_INVALID

# a subject need not exist (yet)
oci manifest --config "$T/config" --layer "$T/sbom" >"$T/later"
LATER=$(sha256 "$T/later")
oci manifest --config "$T/empty=application/vnd.oci.empty.v1+json" \
	--artifact-type application/vnd.example.sbom.v1 --subject "$T/later" >"$T/early"
put_manifest r/app "$(sha256 "$T/early")" "$T/early"
expect_status "a referrer pushed before its subject" 201
expect_header "a referrer pushed before its subject" OCI-Subject "$LATER"
req GET "/v2/r/app/referrers/$LATER"
is "is listed" "$(json 'len(j["manifests"])')" 1

# deleting a referrer takes it out of the list; pushing it back restores it
req DELETE "/v2/r/app/manifests/$SIG"
expect_status "delete a referrer" 202
req GET "/v2/r/app/referrers/$IMG"
is "it left the list" "$(json 'sorted(m["digest"] for m in j["manifests"]) == sorted(sys.argv[3:])' \
	"$SBOM" "$IDX")" True
put_manifest r/app "$SIG" "$T/sigm"
req GET "/v2/r/app/referrers/$IMG"
is "pushed again, it is back" "$(json 'len(j["manifests"])')" 3
# deleting the subject leaves the referrers (they may be pushed first, too)
req DELETE "/v2/r/app/manifests/$IMG"
req GET "/v2/r/app/referrers/$IMG"
is "referrers outlive their subject" "$(json 'len(j["manifests"])')" 3
# referrers are per repository
push_blob r/other "$T/empty"
push_blob r/other "$T/sbom"
put_manifest r/other "$SBOM" "$T/sbomm"
req GET "/v2/r/other/referrers/$IMG"
is "another repository lists its own" "$(json '[m["digest"] for m in j["manifests"]]')" "['$SBOM']"
done_testing
