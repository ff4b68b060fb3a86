#!/bin/sh
# skopeo against berth through lighttpd: OCI layouts made by the test
# (busybox-static, a several-layer image of random data, a two-platform
# index) go to berth and come back with their digests unchanged; Docker
# schema2 conversion, copies between repositories, tags and deletion.
# shellcheck disable=SC2086 # $SK_* are lists of options
# shellcheck source=tests/e2e/lib.sh
. "${srcdir:-$(dirname "$0")}/lib.sh"
# shellcheck source=tests/e2e/lib-front.sh
. "$srcdir/lib-front.sh"
# shellcheck source=tests/e2e/lib-http.sh
. "$srcdir/lib-http.sh"
# shellcheck source=tests/e2e/lib-clients.sh
. "$srcdir/lib-clients.sh"
need skopeo
start_front
R=$(reg)
sk() {
	skopeo --tmpdir "$REG_TMP" "$@" >>"$REG_TMP/skopeo.out" 2>&1
}
raw_digest() { # REF: sha256 of the manifest berth serves for REF
	echo "sha256:$(skopeo inspect $SK_OPTS --raw "docker://$R/$1" | sha256sum | cut -d' ' -f1)"
}

BB=$(mkimage busybox busybox)
RND=$(mkimage random random 4 8)
MULTI=$(mkimage multiarch multi)

for img in busybox:"$BB" random:"$RND"; do
	tag=${img%%:*}
	dig=${img#*:}
	check "skopeo copy oci:$tag -> berth" sk copy $SK_DEST \
		--preserve-digests "oci:$REG_TMP/layout:$tag" "docker://$R/sk/$tag:1"
	is "$tag: berth serves the pushed digest" "$(raw_digest "sk/$tag:1")" "$dig"
	check "skopeo copy berth -> oci" sk copy $SK_SRC \
		--preserve-digests "docker://$R/sk/$tag:1" "oci:$REG_TMP/back:$tag"
	is "$tag: the pulled manifest has the pushed digest" \
		"$(python3 -c 'import json, sys; print([m["digest"] for m in json.load(open(sys.argv[1]))["manifests"] if m["annotations"]["org.opencontainers.image.ref.name"] == sys.argv[2]][0])' \
			"$REG_TMP/back/index.json" "$tag")" "$dig"
done
bad=0
for f in "$REG_TMP"/back/blobs/sha256/*; do
	cmp -s "$f" "$REG_TMP/layout/blobs/sha256/${f##*/}" || bad=$((bad + 1))
done
is "every pulled blob equals the pushed one" $bad 0

check "skopeo copy --all of a two-platform index" sk copy --all \
	$SK_DEST --preserve-digests "oci:$REG_TMP/layout:multi" \
	"docker://$R/sk/multi:1"
is "the index keeps its digest" "$(raw_digest sk/multi:1)" "$MULTI"
check "and comes back whole" sk copy --all $SK_SRC \
	--preserve-digests "docker://$R/sk/multi:1" "oci:$REG_TMP/back2:multi"
is "with the same digest" "$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["manifests"][0]["digest"])' \
	"$REG_TMP/back2/index.json")" "$MULTI"
check "skopeo inspect picks a platform" sh -c \
	"skopeo inspect $SK_OPTS --override-arch arm64 docker://$R/sk/multi:1 | grep -q '\"Architecture\": \"arm64\"'"

# Docker schema2 (skopeo converts the OCI manifest)
check "skopeo copy --format v2s2" sk copy $SK_DEST --format v2s2 \
	--digestfile "$REG_TMP/v2s2.digest" "oci:$REG_TMP/layout:random" "docker://$R/sk/v2s2:1"
is "schema2 manifest digest" "$(raw_digest sk/v2s2:1)" "$(cat "$REG_TMP/v2s2.digest")"
check "it is served as schema2" sh -c \
	"skopeo inspect $SK_OPTS --raw docker://$R/sk/v2s2:1 | grep -q 'application/vnd.docker.distribution.manifest.v2+json'"

# registry to registry: blobs are mounted across repositories
check "skopeo copy between two repositories of berth" sk copy \
	$SK_SRC $SK_DEST --preserve-digests \
	"docker://$R/sk/random:1" "docker://$R/sk/copied:2"
is "same digest in the new repository" "$(raw_digest sk/copied:2)" "$RND"

# tags and deletion
sk copy $SK_DEST --preserve-digests "oci:$REG_TMP/layout:busybox" \
	"docker://$R/sk/busybox:2"
check "skopeo list-tags" sh -c \
	"skopeo list-tags $SK_OPTS docker://$R/sk/busybox | python3 -c 'import json, sys; assert json.load(sys.stdin)[\"Tags\"] == [\"1\", \"2\"]'"
check "skopeo delete" sk delete $SK_OPTS "docker://$R/sk/busybox:1"
req GET "/v2/sk/busybox/manifests/$BB"
expect_status "the manifest is gone" 404
req GET /v2/sk/busybox/manifests/2
expect_status "and so is every tag that named it" 404
check "pushing it again works at once" sk copy $SK_DEST \
	--preserve-digests "oci:$REG_TMP/layout:busybox" "docker://$R/sk/busybox:1"
is "with the same digest" "$(raw_digest sk/busybox:1)" "$BB"
done_testing
