#!/bin/sh
# The pull-through cache (issue 14, part 1): berth serves hub/NAME from an
# upstream registry on loopback (Debian's docker-registry, holding images
# skopeo pushed there), b2/NAME from a second berth, and un-prefixed
# names to docker (--registry-mirror); it keeps what it fetched, and serves it again with
# the upstream stopped. Cached repositories are read-only (405
# UNSUPPORTED); local prefixes take pushes as before. An upstream that
# answers a wrong blob, a short one, a stalled one or a too long one
# (tests/e2e/upstream.py under bad/) gets nothing into the store, and the
# client an error; 16 clients that want the same uncached 256 MiB blob at
# once make one fetch, and a client that asks while a slow fetch runs
# gets the blob as it comes (a wrong one cut short); a HEAD of an
# uncached blob asks the upstream with a HEAD and keeps nothing; a tag the upstream deleted goes (a 404 to its
# HEAD), where an upstream that is down leaves it served; in maintenance
# mode (berthctl readonly on) what is fetched is served, not kept. Beyond cache_max, berthctl gc evicts the least
# recently pulled blobs, which come again from the upstream when pulled.
# shellcheck disable=SC2086 # $SK_* are lists of options
# shellcheck source=tests/e2e/lib.sh
. "${srcdir:-$(dirname "$0")}/lib.sh"
# shellcheck source=tests/e2e/lib-front.sh
. "$srcdir/lib-front.sh"
# shellcheck source=tests/e2e/lib-http.sh
. "$srcdir/lib-http.sh"
# shellcheck source=tests/e2e/lib-clients.sh
. "$srcdir/lib-clients.sh"
# shellcheck source=tests/e2e/lib-ctl.sh
. "$srcdir/lib-ctl.sh"
need skopeo docker-registry
T=$REG_TMP
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
check "and the image as library/random for docker" sk copy \
	--dest-tls-verify=false --preserve-digests "oci:$T/layout:random" \
	"docker://$UP/library/random:1"

mkdir "$T/fake"
python3 "$srcdir/upstream.py" "$T/fake/port" "$T/fake" 2>>"$REG_RUN/upstream.log" &
track $!
wait_file "$T/fake/port" upstream.py
FAKE=127.0.0.1:$(cat "$T/fake/port")

# a second berth, with its own store and front server, as an upstream too
# (its configs in b2/, its socket and logs in run2/), behind lighttpd on
# plain HTTP without login whatever this test's front server does (t6005
# tests an upstream's TLS and login)
REG_STORE=$T/store2 REG_RUN=$T/run2 REG_TMP=$T/b2
_front="$FRONT $FRONT_OFFLOAD $FRONT_TLS $FRONT_AUTH"
FRONT=lighttpd FRONT_OFFLOAD=x-sendfile FRONT_TLS=0 FRONT_AUTH=none
mkdir -p "$REG_STORE" "$REG_RUN" "$REG_TMP"
berth_conf
start_front
UP2=$(reg)
check "skopeo pushes the image to a second berth" sk copy $SK_DEST \
	--preserve-digests "oci:$T/layout:random" "docker://$UP2/lib/random:1"
REG_STORE=$T/store REG_RUN=$T/run REG_TMP=$T
# shellcheck disable=SC2086 # four words
set -- $_front
FRONT=$1 FRONT_OFFLOAD=$2 FRONT_TLS=$3 FRONT_AUTH=$4
front_options

# a mirror file that does not read stops berth with a clear message
echo "upstream hub http://$UP" >"$T/bad-mirror.conf"
berth_conf "mirror = $T/bad-mirror.conf"
"$BERTH_BIN" -c "$T/berth.conf" --check-config >"$T/check.out" 2>&1
is "berth-fcgi --check-config refuses a bad mirror file" $? 1
grep -q "bad-mirror.conf:1: 'hub' is not a prefix" "$T/check.out"
check "naming the file, the line and the problem" test $? = 0

cat >"$T/mirror.conf" <<RULES
# the test's upstreams under hub/ and bad/, the reference registry for
# names under no prefix (docker's registry-mirrors), local names under team/
upstream hub/ http://$UP revalidate=1s timeout=5s
upstream bad/ http://$FAKE timeout=2s revalidate=1s
upstream b2/ http://$UP2 revalidate=1s
upstream * http://$UP
local    team/
RULES
# pulls for the webhooks, to a receiver that is not there: the audit log
# keeps them, for berthctl log
echo "hook nowhere http://127.0.0.1:9/ events=pull retries=0" >"$T/hooks.conf"
berth_conf "mirror = $T/mirror.conf" "metrics = on" \
	"webhooks = $T/hooks.conf" "webhooks_pulls = on"
BERTH_WORKERS=6
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

check "skopeo pulls from the second berth through the first" sk copy $SK_SRC \
	--preserve-digests "docker://$R/b2/lib/random:1" "oci:$T/back2:random"
is "with its digest" "$(digest_of "$T/back2" random)" "$RND"

if command -v podman >/dev/null 2>&1; then
	pdm pull -q $PD_OPTS "$R/hub/lib/random:1" >"$T/podman.out" 2>&1
	is "podman pulls hub/lib/random through berth" $? 0
	is "with the upstream's digest" \
		"$(pdm image inspect --format '{{.Digest}}' "$R/hub/lib/random:1" 2>/dev/null)" "$RND"
fi
# docker hands its mirrors the login of its default registry, not theirs:
# behind a login, this test leaves docker out
if [ "$FRONT_AUTH" = none ] && command -v dockerd >/dev/null 2>&1 &&
	command -v docker >/dev/null 2>&1; then
	# docker asks its mirror for library/random, the default upstream's
	start_dockerd --registry-mirror "$BASE"
	docker pull -q random:1 >"$T/docker.out" 2>&1
	is "docker pulls random:1 through berth as its registry mirror" $? 0
	req GET /v2/library/random/tags/list
	is "berth has it cached" "$(body)" '{"name":"library/random","tags":["1"]}'
fi

# the workers read the mirror file again when it changes; each looks at
# most once a second, so after 1.1 s the next request of every one of
# them sees it (the read-only checks below use late/ on any worker)
echo "upstream late/ http://$UP" >>"$T/mirror.conf"
sleep 1.1
_i=0
until [ "$(c -o /dev/null -w '%{http_code}' "$BASE/v2/late/lib/random/manifests/1")" = 200 ] ||
	[ $_i -ge 50 ]; do
	sleep 0.1
	_i=$((_i + 1))
done
req GET /v2/late/lib/random/manifests/1
expect_status "an upstream added to the mirror file serves without a restart" 200

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

# maintenance mode: what the cache fetches is served, and kept nowhere
ctl readonly on
req GET /v2/late/lib/multi/manifests/1
expect_status "read-only: an uncached manifest is served" 200
req GET /v2/late/lib/multi/tags/list
expect_error "and not kept" 404 NAME_UNKNOWN
mkblob "$T/m" 2000000
DM=$(sha256 "$T/m")
cp "$T/m" "$T/fake/${DM#sha256:}"
check "an uncached blob is served" c -f -o "$T/got" "$BASE/v2/bad/good/m/blobs/$DM"
check "whole" cmp -s "$T/got" "$T/m"
check "and not kept" test ! -e "$(blob_file "$DM")"
is "nothing in fetch/" "$(find "$REG_STORE/fetch" -type f | wc -l)" 0
c -o /dev/null "$BASE/v2/bad/wrong/m/blobs/$DM"
check "a wrong one is cut short" test $? != 0
ctl readonly off

# a tag deleted at the upstream goes from the cache once checked again
req HEAD /v2/b2/lib/random/manifests/1
B2M=$(hdr Docker-Content-Digest)
is "the second berth deletes its tag" \
	"$(c -o /dev/null -w '%{http_code}' -X DELETE "http://$UP2/v2/lib/random/manifests/1")" 202

# a tag whose upstream answers 500 or 401 when checked again is served
mkdir "$T/fake/manifests"
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":2000000},"layers":[]}' \
	"$DM" >"$T/fake/manifests/t"
req GET /v2/bad/good/mf/manifests/t
expect_status "a manifest of the fake upstream is cached" 200
echo 500 >"$T/fake/mode"

# the upstream goes away: what was pulled is still there
kill "$REF_PID"
sleep 1.2 # past revalidate: the tag is checked again, and cannot be
req GET /v2/bad/good/mf/manifests/t
expect_status "a tag checked while its upstream answers 500 is served" 200
echo 401 >"$T/fake/mode"
req GET /v2/bad/good/mf/manifests/t
expect_status "and while it answers 401" 200
rm "$T/fake/mode"
is "both after asking the upstream" \
	"$(cat "$REG_RUN"/*.log | grep -c "serving the cached 'bad/good/mf:t'")" 2
req GET /v2/b2/lib/random/manifests/1
expect_error "the tag deleted at the upstream is unknown" 404 MANIFEST_UNKNOWN
req GET /v2/b2/lib/random/tags/list
is "and no longer cached" "$(body)" '{"name":"b2/lib/random","tags":[]}'
req GET "/v2/b2/lib/random/manifests/$B2M"
expect_status "the manifest stays, by digest" 200
rm -rf "$T/back"
check "with the upstream stopped, skopeo pulls from the cache" sk copy \
	$SK_SRC --preserve-digests "docker://$R/hub/lib/random:1" "oci:$T/back:random"
is "the same image" "$(digest_of "$T/back" random)" "$RND"
req GET /v2/hub/lib/other/manifests/1
expect_error "what was never cached is unavailable" 503 UNAVAILABLE
req HEAD "/v2/hub/lib/random/blobs/$(sha256 "$T/local")"
expect_status "and a HEAD of an uncached blob too" 503

# a bad upstream: nothing of a wrong answer is kept or served whole
mkblob "$T/b" 3000000
D=$(sha256 "$T/b")
HEX=${D#sha256:}
cp "$T/b" "$T/fake/$HEX"
for kind in wrong short slow long; do
	c -f -o "$T/got" "$BASE/v2/bad/$kind/x/blobs/$D"
	rc=$?
	check "$kind blob: the client's GET fails (curl $rc)" test $rc != 0
	cmp -s "$T/got" "$T/b"
	check "$kind blob: the client did not get it whole" test $? != 0
	check "$kind blob: nothing in the store" test ! -e "$REG_STORE/blobs/sha256/$(echo "$HEX" | cut -c1-2)/$HEX"
	rm -f "$T/got"
done
is "nothing left in fetch/, no lock file either" "$(find "$REG_STORE/fetch" -type f | wc -l)" 0
check "a good answer is kept" c -f -o "$T/got" "$BASE/v2/bad/good/x/blobs/$D"
check "and is the blob" cmp -s "$T/got" "$T/b"
c -f -o "$T/got" "$BASE/v2/bad/good/x/blobs/$D"
is "the upstream was asked once for it" "$(grep -c "^good $D" "$T/fake/gets.log")" 1

# a slow fetch is followed: a second client gets its answer's head and
# first bytes while it runs, and the whole blob once it is kept; a wrong
# one followed cuts both answers short
mkblob "$T/s" 12000000
DS=$(sha256 "$T/s")
cp "$T/s" "$T/fake/${DS#sha256:}"
for w in 1 2; do
	(
		c -f -o "$T/s.$w" "$BASE/v2/bad/trickle/s/blobs/$DS"
		echo $? >"$T/s.$w.rc"
	) &
	sleep 1
done
c --max-time 2 -o "$T/s.early" "$BASE/v2/bad/trickle/s/blobs/$DS"
is "a client that asks while the blob is fetched times out (curl)" $? 28
check "the fetch goes on" test ! -e "$(blob_file "$DS")"
check "and got bytes of it by then" test -s "$T/s.early"
check "the first bytes of the blob" cmp -s -n "$(wc -c <"$T/s.early")" "$T/s.early" "$T/s"
wait_for() {
	_i=0
	while [ ! -s "$1" ] && [ $_i -lt 300 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
}
wait_for "$T/s.1.rc"
wait_for "$T/s.2.rc"
is "the fetcher's and the follower's GETs succeed" "$(cat "$T/s.1.rc" "$T/s.2.rc")" "0
0"
check "the fetcher's client got the blob" cmp -s "$T/s.1" "$T/s"
check "the follower's client too" cmp -s "$T/s.2" "$T/s"
is "the upstream was asked once" "$(grep -c "^trickle $DS" "$T/fake/gets.log")" 1
mkblob "$T/w" 12000000
DW=$(sha256 "$T/w")
cp "$T/w" "$T/fake/${DW#sha256:}"
for w in 1 2; do
	rm -f "$T/s.$w" "$T/s.$w.rc"
	(
		c -o "$T/s.$w" "$BASE/v2/bad/wrongtrickle/w/blobs/$DW"
		echo $? >"$T/s.$w.rc"
	) &
	sleep 1
done
wait_for "$T/s.1.rc"
wait_for "$T/s.2.rc"
check "a wrong blob: the fetcher's client fails (curl $(cat "$T/s.1.rc"))" test "$(cat "$T/s.1.rc")" != 0
check "and the follower's (curl $(cat "$T/s.2.rc"))" test "$(cat "$T/s.2.rc")" != 0
check "which got some of it" test -s "$T/s.2"
check "not all" test "$(wc -c <"$T/s.2")" -lt 12000000
check "nothing kept" test ! -e "$(blob_file "$DW")"
is "nothing left in fetch/" "$(find "$REG_STORE/fetch" -type f | wc -l)" 0

# a HEAD of an uncached blob is the upstream's HEAD: nothing fetched or kept
mkblob "$T/h" 123456
DH=$(sha256 "$T/h")
cp "$T/h" "$T/fake/${DH#sha256:}"
req HEAD "/v2/bad/good/h/blobs/$DH"
expect_status "a HEAD of an uncached blob" 200
is "has the upstream's length" "$(hdr Content-Length)" 123456
is "and the digest" "$(hdr Docker-Content-Digest)" "$DH"
is "the upstream got a HEAD" "$(grep -c "^good $DH" "$T/fake/heads.log")" 1
is "and no GET" "$(grep -c "^good $DH" "$T/fake/gets.log")" 0
check "nothing in the store" test ! -e "$(blob_file "$DH")"
req HEAD "/v2/bad/good/h/blobs/$(sha256 "$T/local")"
expect_status "a HEAD of a blob the upstream has not: 404" 404

# single flight: 16 clients at once, one fetch of 256 MiB
head -c 268435456 /dev/urandom >"$T/fake/big"
DB=$(sha256 "$T/fake/big")
mv "$T/fake/big" "$T/fake/${DB#sha256:}"
i=0
while [ $i -lt 16 ]; do
	(c --max-time 120 "$BASE/v2/bad/good/big/blobs/$DB" | sha256sum | cut -c1-64 >"$T/sum.$i") &
	i=$((i + 1))
done
_i=0
while [ "$(find "$T" -maxdepth 1 -name 'sum.*' -size +0 | wc -l)" -lt 16 ] && [ $_i -lt 1300 ]; do
	sleep 0.1
	_i=$((_i + 1))
done
is "16 clients got the 256 MiB blob" "$(cat "$T"/sum.* | sort | uniq -c | sed 's/^ *//')" "16 ${DB#sha256:}"
is "the upstream was asked once" "$(grep -c "^good $DB" "$T/fake/gets.log")" 1

# eviction: three blobs pulled a second apart, a cap that holds two
for b in e1 e2 e3; do
	mkblob "$T/$b" 1000000
	cp "$T/$b" "$T/fake/$(sha256 "$T/$b" | cut -d: -f2)"
	c -f -o /dev/null "$BASE/v2/bad/good/ev/blobs/$(sha256 "$T/$b")"
	[ $b = e3 ] || sleep 1.1
done
e1=$(sha256 "$T/e1")
e2=$(sha256 "$T/e2")
e3=$(sha256 "$T/e3")
echo "cache_max 2500K" >>"$T/mirror.conf"
ctl gc
is "berthctl gc with a cache over its cap" "$RC" 0
check "evicts the least recently pulled blob" test ! -e "$(blob_file "$e1")"
check "and everything pulled before it" test ! -e "$(blob_file "$DB")"
check "keeps the newer ones" test -e "$(blob_file "$e2")" -a -e "$(blob_file "$e3")"
req GET "/v2/team/x/blobs/$(sha256 "$T/local")"
expect_status "and what was pushed locally" 200
check "an evicted blob is fetched again" c -f -o "$T/got" "$BASE/v2/bad/good/ev/blobs/$e1"
check "whole" cmp -s "$T/got" "$T/e1"
is "from the upstream" "$(grep -c "^good $e1" "$T/fake/gets.log")" 2
ctl fsck
is "berthctl fsck finds the cache consistent" "$RC" 0
ctl --json log --repo hub/lib/random
is "the cache's pulls are pulls for the webhooks too" \
	"$(js 'any(e["event"] == "pull" and e["reference"] == "1" for e in d["entries"])')" True
# mirror_total NAME RESULT: a counter of the cache in /metrics
mirror_total() {
	sed -n "s/^berth_mirror_$1_total{result=\"$2\"} //p" "$T/metrics"
}
req GET /metrics
cp "$T/body" "$T/metrics"
is "/metrics counts the blobs fetched and kept" \
	"$(mirror_total blob_fetches stored | awk '{ print ($1 >= 5) }')" 1
is "the fetches that kept nothing (wrong, short, stalled, too long...)" \
	"$(mirror_total blob_fetches failed | awk '{ print ($1 >= 4) }')" 1
is "the manifests fetched" \
	"$(mirror_total manifest_fetches new | awk '{ print ($1 >= 3) }')" 1
is "and those served stale, the upstream failing" \
	"$(mirror_total manifest_fetches stale | awk '{ print ($1 >= 2) }')" 1
is "with the bytes kept" "$(sed -n 's/^berth_mirror_fetched_bytes_total //p' \
	"$T/metrics" | awk '{ print ($1 > 1000000) }')" 1
stop_all
! grep -l -E 'Sanitizer|runtime error:' "$T"/run2/*.log
check "no sanitizer reports from the second berth" test $? = 0
done_testing
