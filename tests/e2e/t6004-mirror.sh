#!/bin/sh
# The pull-through cache (issue 14, part 1): berth serves hub/NAME from an
# upstream registry on loopback (Debian's docker-registry, holding images
# skopeo pushed there), keeps what it fetched, and serves it again with
# the upstream stopped. Cached repositories are read-only (405
# UNSUPPORTED); local prefixes take pushes as before.
# shellcheck disable=SC2086 # $SK_* are lists of options
# shellcheck source=tests/e2e/lib.sh
. "${srcdir:-$(dirname "$0")}/lib.sh"
# shellcheck source=tests/e2e/lib-front.sh
. "$srcdir/lib-front.sh"
# shellcheck source=tests/e2e/lib-http.sh
. "$srcdir/lib-http.sh"
# shellcheck source=tests/e2e/lib-clients.sh
. "$srcdir/lib-clients.sh"
need skopeo docker-registry
T=$REG_TMP
sk() { # shellcheck disable=SC2317 # called through check
	skopeo --tmpdir "$T" "$@" >>"$T/skopeo.out" 2>&1
}
# digest_of LAYOUT TAG: the manifest digest TAG names in an OCI layout
digest_of() {
	python3 -c 'import json, sys; print([m["digest"] for m in json.load(open(sys.argv[1] + "/index.json"))["manifests"] if m["annotations"]["org.opencontainers.image.ref.name"] == sys.argv[2]][0])' "$1" "$2"
}

start_reference "$T/upstream"
UP=127.0.0.1:$REGPORT
RND=$(mkimage random random 3 1)
MULTI=$(mkimage multiarch multi)
check "skopeo pushes an image to the upstream" sk copy --dest-tls-verify=false \
	--preserve-digests "oci:$T/layout:random" "docker://$UP/lib/random:1"
check "and a two-platform index" sk copy --all --dest-tls-verify=false \
	--preserve-digests "oci:$T/layout:multi" "docker://$UP/lib/multi:1"

cat >"$T/mirror.conf" <<RULES
# the test's upstream under hub/, and local names under team/
upstream hub/ http://$UP revalidate=1s timeout=5s
local    team/
RULES
berth_conf "mirror = $T/mirror.conf"
start_front
R=$(reg)

check "skopeo pulls hub/lib/random through berth" sk copy $SK_SRC \
	--preserve-digests "docker://$R/hub/lib/random:1" "oci:$T/back:random"
is "with the upstream's digest" "$(digest_of "$T/back" random)" "$RND"
bad=0
for f in "$T"/back/blobs/sha256/*; do
	cmp -s "$f" "$T/layout/blobs/sha256/${f##*/}" || bad=$((bad + 1))
done
is "every blob equals the upstream's" $bad 0
check "an index: its children come on demand" sk copy --all $SK_SRC \
	--preserve-digests "docker://$R/hub/lib/multi:1" "oci:$T/back:multi"
is "the index keeps its digest" "$(digest_of "$T/back" multi)" "$MULTI"

req GET /v2/hub/lib/random/tags/list
expect_status "the tags of a cached repository" 200
is "are what is cached" "$(body)" '{"name":"hub/lib/random","tags":["1"]}'

# read-only: end-4a, end-7, end-9 answer code-13
req POST /v2/hub/lib/random/blobs/uploads/
expect_error "no upload to a cached repository" 405 UNSUPPORTED
grep -q "cache of an upstream" "$T/body"
check "the message says why" test $? = 0
req PUT /v2/hub/lib/random/manifests/2 -H "Content-Type: application/vnd.oci.image.manifest.v1+json" --data-binary '{}'
expect_error "no manifest push" 405 UNSUPPORTED
req DELETE "/v2/hub/lib/random/manifests/$RND"
expect_error "no deletion" 405 UNSUPPORTED
mkblob "$T/local" 1000
push_blob team/x "$T/local"
expect_status "a push to a local prefix works" 201

# the upstream goes away: what was pulled is still there
kill "$REF_PID"
sleep 1.2 # past revalidate: the tag is checked again, and cannot be
rm -rf "$T/back"
check "with the upstream stopped, skopeo pulls from the cache" sk copy \
	$SK_SRC --preserve-digests "docker://$R/hub/lib/random:1" "oci:$T/back:random"
is "the same image" "$(digest_of "$T/back" random)" "$RND"
req GET /v2/hub/lib/other/manifests/1
expect_error "what was never cached is unavailable" 503 UNAVAILABLE
done_testing
