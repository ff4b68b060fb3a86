#!/bin/sh
# Push and pull one 1 GiB blob through lighttpd with curl, monolithic
# (end-4b) and GET (end-2), with berth streaming the download itself and
# with lighttpd sending it (X-Sendfile); median of 3 each, and the peak
# RSS of the berth worker. Run from a built tree:
#
#   sh bench/blob-1g.sh [BERTH-BINARY]
#
# Use a build without sanitizers (./configure CFLAGS=-O2) for numbers.
top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
top_builddir=${top_builddir:-$top_srcdir}
export top_srcdir top_builddir
# shellcheck source=tests/e2e/lib.sh
. "$top_srcdir/tests/e2e/lib.sh"
[ $# -gt 0 ] && BERTH_BIN=$1
BERTH_WORKERS=1
F=$REG_TMP/blob
head -c 1073741824 /dev/urandom >"$F"
D=$(sha256 "$F")

median() { # the middle one of three numbers
	sort -n | sed -n 2p
}
mbps() { # bytes/s -> MB/s
	awk '{ printf "%.0f", $1 / 1e6 }'
}

for mode in none x-sendfile; do
	berth_conf "offload = $mode"
	start_lighttpd
	pid=$(berth_pids)
	push=$(for i in 1 2 3; do
		curl -s -o /dev/null -w '%{speed_upload}\n' -X POST -T "$F" \
			"$BASE/v2/bench/r$i/blobs/uploads?digest=$D"
	done | median | mbps)
	pull=$(for i in 1 2 3; do
		curl -s -o /dev/null -w '%{speed_download}\n' "$BASE/v2/bench/r1/blobs/$D"
	done | median | mbps)
	rss=$(awk '/VmHWM/ { print $2 }' "/proc/$pid/status")
	echo "offload=$mode: push $push MB/s, pull $pull MB/s, worker peak RSS $rss KiB"
	echo "metric push_1g_offload_$mode $push MB/s"
	echo "metric pull_1g_offload_$mode $pull MB/s"
	echo "metric worker_peak_rss_offload_$mode $rss KiB"
	stop_lighttpd
	rm -rf "${REG_STORE:?}"/*
done
done_testing
