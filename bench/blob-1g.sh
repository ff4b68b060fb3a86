#!/bin/sh
# Push and pull one 1 GiB blob with curl, monolithic (end-4b) and GET
# (end-2), with berth streaming the download itself and with the front
# server sending the file (X-Sendfile, X-Accel-Redirect); the median of 3
# of each, and the peak RSS of the berth workers. Run from a built tree:
#
#   sh bench/blob-1g.sh [BERTH-BINARY]
#
# The front server is lighttpd over plain HTTP unless the environment of
# tests/e2e/lib-front.sh says otherwise, e.g. for nginx with TLS and a login:
#
#   BERTH_E2E_FRONT=nginx BERTH_E2E_TLS=1 BERTH_E2E_AUTH=required \
#       sh bench/blob-1g.sh
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
peak_rss() { # the largest VmHWM of the workers, KiB
	for _p in $(worker_pids); do
		awk '/VmHWM/ { print $2 }' "/proc/$_p/status"
	done | sort -n | tail -n 1
}

name=$FRONT
[ "$FRONT_TLS" = 1 ] && name="$name+tls"
for mode in none "$FRONT_OFFLOAD"; do
	berth_conf "offload = $mode"
	start_front
	push=$(for i in 1 2 3; do
		c -o /dev/null -w '%{speed_upload}\n' -X POST -T "$F" \
			"$BASE/v2/bench/r$i/blobs/uploads?digest=$D"
	done | median | mbps)
	pull=$(for i in 1 2 3; do
		c -o /dev/null -w '%{speed_download}\n' "$BASE/v2/bench/r1/blobs/$D"
	done | median | mbps)
	rss=$(peak_rss)
	echo "$name offload=$mode: push $push MB/s, pull $pull MB/s, worker peak RSS $rss KiB"
	echo "metric ${FRONT}_push_1g_offload_$mode $push MB/s"
	echo "metric ${FRONT}_pull_1g_offload_$mode $pull MB/s"
	echo "metric ${FRONT}_worker_peak_rss_offload_$mode $rss KiB"
	stop_front
	rm -rf "${REG_STORE:?}"/*
done
done_testing
