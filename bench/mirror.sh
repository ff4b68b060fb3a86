#!/bin/sh
# The pull-through cache with one 1 GiB blob: its first pull through berth
# (fetched from the upstream, Debian's docker-registry on loopback, while
# it streams to the client) against a pull straight from the upstream
# (target: at least 0.8 of it), and a pull of the cached blob against a
# pull of the same blob pushed to berth (target: the same). curl pulls;
# the median of 3, but for the first pull, of which there are 2 (each
# with an empty store). Run from a built tree:
#
#   sh bench/mirror.sh [BERTH-BINARY]
#
# Use a build without sanitizers (./configure CFLAGS=-O2) for numbers.
top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
top_builddir=${top_builddir:-$top_srcdir}
export top_srcdir top_builddir
# shellcheck source=tests/e2e/lib.sh
. "$top_srcdir/tests/e2e/lib.sh"
# shellcheck source=tests/e2e/lib-front.sh
. "$top_srcdir/tests/e2e/lib-front.sh"
# shellcheck source=tests/e2e/lib-http.sh
. "$top_srcdir/tests/e2e/lib-http.sh"
[ $# -gt 0 ] && BERTH_BIN=$1
BERTH_WORKERS=2
F=$REG_TMP/blob
head -c 1073741824 /dev/urandom >"$F"
D=$(sha256 "$F")

median() { # the middle one of three numbers
	sort -n | sed -n 2p
}
mbps() { # bytes/s -> MB/s
	awk '{ printf "%.0f", $1 / 1e6 }'
}

start_reference "$REG_TMP/upstream"
UP=http://127.0.0.1:$REGPORT
loc=$(curl -s -D - -o /dev/null -X POST "$UP/v2/bench/big/blobs/uploads/" |
	tr -d '\r' | sed -n 's/^Location: //Ip')
case $loc in
http*) ;;
*) loc=$UP$loc ;;
esac
case $loc in
*\?*) loc="$loc&digest=$D" ;;
*) loc="$loc?digest=$D" ;;
esac
curl -sf -o /dev/null -X PUT -H 'Content-Type: application/octet-stream' \
	-T "$F" "$loc" || bail "cannot push the blob to the upstream"

direct=$(for i in 1 2 3; do
	curl -s -o /dev/null -w '%{speed_download}\n' "$UP/v2/bench/big/blobs/$D"
done | median | mbps)

echo "upstream hub/ $UP" >"$REG_TMP/mirror.conf"
berth_conf "mirror = $REG_TMP/mirror.conf"
first=
for i in 1 2; do
	start_front
	first="$first $(c -o /dev/null -w '%{speed_download}\n' \
		"$BASE/v2/hub/bench/big/blobs/$D" | mbps)"
	[ $i = 2 ] && break
	stop_front
	rm -rf "${REG_STORE:?}"/*
done
cached=$(for i in 1 2 3; do
	c -o /dev/null -w '%{speed_download}\n' "$BASE/v2/hub/bench/big/blobs/$D"
done | median | mbps)
c -s -o /dev/null -X POST -T "$F" "$BASE/v2/team/local/blobs/uploads?digest=$D"
local=$(for i in 1 2 3; do
	c -o /dev/null -w '%{speed_download}\n' "$BASE/v2/team/local/blobs/$D"
done | median | mbps)
# shellcheck disable=SC2086 # two numbers
best=$(printf '%s\n' $first | sort -n | tail -n 1)
echo "1 GiB from the upstream directly: $direct MB/s"
echo "first pull through berth's cache: $first MB/s ($(awk "BEGIN { printf \"%.2f\", $best / $direct }")x of direct, the better)"
echo "cached pull: $cached MB/s, local pull: $local MB/s ($FRONT, offload $FRONT_OFFLOAD)"
echo "metric mirror_direct_1g $direct MB/s"
echo "metric mirror_first_pull_1g $best MB/s"
echo "metric mirror_cached_pull_1g $cached MB/s"
echo "metric mirror_local_pull_1g $local MB/s"
done_testing
