#!/bin/sh
# podman (vfs storage of its own) against berth through lighttpd: push in
# OCI and in Docker schema2 format, remove the local images, pull by tag
# and by digest, and push a manifest list with `podman manifest push`.
# Every pulled digest must equal the pushed one.
# shellcheck disable=SC2086 # $PD_OPTS and $SK_OPTS are lists of options
# shellcheck source=tests/e2e/lib.sh
. "${srcdir:-$(dirname "$0")}/lib.sh"
# shellcheck source=tests/e2e/lib-front.sh
. "$srcdir/lib-front.sh"
# shellcheck source=tests/e2e/lib-http.sh
. "$srcdir/lib-http.sh"
# shellcheck source=tests/e2e/lib-clients.sh
. "$srcdir/lib-clients.sh"
need podman skopeo
start_front
R=$(reg)
TMPDIR=$REG_TMP
export TMPDIR
run() { # quiet, with the output kept for the log
	"$@" >>"$REG_TMP/podman.out" 2>&1
}
raw_digest() {
	echo "sha256:$(skopeo inspect $SK_OPTS --raw "docker://$R/$1" | sha256sum | cut -d' ' -f1)"
}

mkimage busybox busybox >/dev/null
mkimage random random 3 8 >/dev/null
for img in busybox random; do
	id=$(pdm pull -q "oci:$REG_TMP/layout:$img" 2>>"$REG_TMP/podman.out")
	check "podman pull oci:$img (the local layout)" [ -n "$id" ]
	check "podman tag $img" run pdm tag "$id" "localhost/$img:local"
done

for fmt in oci v2s2; do
	for img in busybox random; do
		check "podman push --format $fmt $img" run pdm push $PD_OPTS \
			--format "$fmt" --digestfile "$REG_TMP/$img.$fmt" \
			"localhost/$img:local" "$R/pd/$img:$fmt"
		is "$img ($fmt): berth serves the pushed digest" \
			"$(raw_digest "pd/$img:$fmt")" "$(cat "$REG_TMP/$img.$fmt")"
	done
done
check "v2s2 is Docker schema2" sh -c \
	"skopeo inspect $SK_OPTS --raw docker://$R/pd/random:v2s2 | grep -q 'application/vnd.docker.distribution.manifest.v2+json'"

for fmt in oci v2s2; do
	# the two formats of an image share its ID: one format at a time
	check "remove every local image" run pdm rmi -a -f
	for img in busybox random; do
		check "podman pull $img:$fmt" run pdm pull $PD_OPTS "$R/pd/$img:$fmt"
		is "$img:$fmt pulled with the pushed digest" \
			"$(pdm image inspect --format '{{.Digest}}' "$R/pd/$img:$fmt")" \
			"$(cat "$REG_TMP/$img.$fmt")"
	done
done
run pdm rmi -a -f
check "podman pull by digest" run pdm pull $PD_OPTS \
	"$R/pd/random@$(cat "$REG_TMP/random.oci")"
is "by digest, the same digest" \
	"$(pdm image inspect --format '{{.Digest}}' "$R/pd/random@$(cat "$REG_TMP/random.oci")")" \
	"$(cat "$REG_TMP/random.oci")"

# podman manifest push: a list of two images
check "podman manifest create" run pdm manifest create localhost/list:1
check "podman manifest add (amd64)" run pdm manifest add localhost/list:1 \
	"oci:$REG_TMP/layout:busybox"
check "podman manifest add (as arm64)" run pdm manifest add --arch arm64 \
	localhost/list:1 "oci:$REG_TMP/layout:random"
check "podman manifest push --all" run pdm manifest push --all $PD_OPTS \
	--digestfile "$REG_TMP/list.digest" localhost/list:1 "docker://$R/pd/list:1"
is "berth serves the list with the pushed digest" "$(raw_digest pd/list:1)" \
	"$(cat "$REG_TMP/list.digest")"
check "podman pull of the list takes this platform's image" run pdm pull \
	$PD_OPTS "$R/pd/list:1"
is "which is busybox" "$(pdm image inspect --format '{{.Architecture}}' "$R/pd/list:1")" amd64
check "the list names both platforms" sh -c \
	"skopeo inspect $SK_OPTS --raw docker://$R/pd/list:1 | grep -q arm64"
done_testing
