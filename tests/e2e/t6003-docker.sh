#!/bin/sh
# docker against berth through lighttpd, with a dockerd the test starts
# itself (vfs, no networking of its own, own data root and socket): push
# (layers go up as chunked PATCHes), delete the local image, pull by tag
# and by digest, pull a two-platform index. Every pulled digest must equal
# the pushed one.
# shellcheck disable=SC2086 # $SK_* are lists of options
# shellcheck source=tests/e2e/lib.sh
. "${srcdir:-$(dirname "$0")}/lib.sh"
# shellcheck source=tests/e2e/lib-front.sh
. "$srcdir/lib-front.sh"
# shellcheck source=tests/e2e/lib-http.sh
. "$srcdir/lib-http.sh"
# shellcheck source=tests/e2e/lib-clients.sh
. "$srcdir/lib-clients.sh"
need dockerd docker skopeo
start_front
start_dockerd
R=$(reg)
run() {
	"$@" >>"$REG_TMP/docker.out" 2>&1
}
raw_digest() {
	echo "sha256:$(skopeo inspect $SK_OPTS --raw "docker://$R/$1" | sha256sum | cut -d' ' -f1)"
}
repo_digest() { # IMAGE: the digest docker recorded for IMAGE's repository
	case "$1" in
	*@*) _repo=${1%%@*} ;;
	*) _repo=${1%:*} ;;
	esac
	docker image inspect --format '{{range .RepoDigests}}{{.}} {{end}}' "$1" |
		tr ' ' '\n' | grep -F "$_repo@" | sed -n 's/.*@//p' | head -n 1
}

# docker login: docker pings /v2/, gets the 401, then checks the password
if [ "$FRONT_AUTH" = required ]; then
	echo wrong | docker login -u tester --password-stdin "$R" >"$REG_TMP/login.out" 2>&1
	is "docker login with a wrong password fails" "$?" 1
	check "saying why" grep -q -i 'unauthorized' "$REG_TMP/login.out"
	echo "$TESTER_PW" | docker login -u tester --password-stdin "$R" >"$REG_TMP/login.out" 2>&1
	is "docker login with the right one succeeds" "$?" 0
	check "saying so" grep -q 'Login Succeeded' "$REG_TMP/login.out"
fi

mkimage busybox busybox >/dev/null
mkimage random random 4 8 >/dev/null
MULTI=$(mkimage multiarch multi)
for img in busybox random; do
	skopeo copy "oci:$REG_TMP/layout:$img" "docker-archive:$REG_TMP/$img.tar:local/$img:1" \
		>>"$REG_TMP/docker.out" 2>&1
	check "docker load $img" run docker load -i "$REG_TMP/$img.tar"
done

for img in busybox random; do
	run docker tag "local/$img:1" "$R/dk/$img:1"
	docker push "$R/dk/$img:1" >"$REG_TMP/push.out" 2>&1
	check "docker push $img" grep -q 'digest: sha256:' "$REG_TMP/push.out"
	cat "$REG_TMP/push.out" >>"$REG_TMP/docker.out"
	pushed=$(sed -n 's/.*digest: \(sha256:[0-9a-f]*\).*/\1/p' "$REG_TMP/push.out")
	echo "$pushed" >"$REG_TMP/$img.digest"
	is "$img: berth serves the digest docker pushed" "$(raw_digest "dk/$img:1")" "$pushed"
	check "docker rmi $img (every local copy)" run docker rmi "$R/dk/$img:1" "local/$img:1"
	check "docker pull $img by tag" run docker pull "$R/dk/$img:1"
	is "$img: pulled digest equals the pushed one" "$(repo_digest "$R/dk/$img:1")" "$pushed"
	run docker rmi "$R/dk/$img:1"
	check "docker pull $img by digest" run docker pull "$R/dk/$img@$pushed"
	is "$img: by digest, the same" "$(repo_digest "$R/dk/$img@$pushed")" "$pushed"
done

# a push of an image whose layers berth already has in another repository
run docker tag "$R/dk/random@$(cat "$REG_TMP/random.digest")" "$R/dk/again:1"
docker push "$R/dk/again:1" >"$REG_TMP/push.out" 2>&1
cat "$REG_TMP/push.out" >>"$REG_TMP/docker.out"
check "docker push mounts the layers from the other repository" \
	grep -q 'Mounted from dk/random' "$REG_TMP/push.out"
is "and gets the same digest" \
	"$(sed -n 's/.*digest: \(sha256:[0-9a-f]*\).*/\1/p' "$REG_TMP/push.out")" \
	"$(cat "$REG_TMP/random.digest")"

# a two-platform index (pushed with skopeo): docker takes the amd64 image
skopeo copy --all --preserve-digests $SK_DEST \
	"oci:$REG_TMP/layout:multi" "docker://$R/dk/multi:1" >>"$REG_TMP/docker.out" 2>&1
check "docker pull of a two-platform index" run docker pull "$R/dk/multi:1"
is "records the index digest" "$(repo_digest "$R/dk/multi:1")" "$MULTI"
is "and pulled the amd64 image" \
	"$(docker image inspect --format '{{.Architecture}}' "$R/dk/multi:1")" amd64
run docker rmi "$R/dk/multi:1"
check "docker pull of the index by digest" run docker pull "$R/dk/multi@$MULTI"
check "docker pull --platform linux/arm64" run docker pull --platform linux/arm64 "$R/dk/multi:1"
is "gets the arm64 image" \
	"$(docker image inspect --format '{{.Architecture}}' "$R/dk/multi:1")" arm64

# deleted in berth: docker cannot pull it any more
req DELETE "/v2/dk/busybox/manifests/$(cat "$REG_TMP/busybox.digest")"
expect_status "delete the busybox manifest" 202
run docker rmi -f "$R/dk/busybox@$(cat "$REG_TMP/busybox.digest")"
check "docker pull of a deleted image fails" sh -c "! docker pull $R/dk/busybox:1 >/dev/null 2>&1"
done_testing
