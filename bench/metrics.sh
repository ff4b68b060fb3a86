#!/bin/sh
# What counting costs: manifest GETs per second through nginx with
# "metrics = on" and with "metrics = off", alternating, $RUNS runs of each,
# medians. berth runs behind conf/nginx/berth.conf with 2 workers of its
# own (--listen), log_level = error; wrk -t2 -c16 for $DURATION s a run.
# Prints a table and `metric NAME VALUE UNIT` lines.
#
#   sh bench/metrics.sh [BERTH-BINARY]    (RUNS=5 DURATION=10 by default)
#
# Configure without --enable-sanitizers for numbers.
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
export top_srcdir top_builddir
# nginx over plain HTTP, whatever the environment of the tests says
BERTH_E2E_FRONT=nginx BERTH_E2E_TLS=0 BERTH_E2E_AUTH=none
# shellcheck source=tests/e2e/lib.sh
. "$top_srcdir/tests/e2e/lib.sh"
# shellcheck source=tests/e2e/lib-front.sh
. "$top_srcdir/tests/e2e/lib-front.sh"
# shellcheck source=tests/e2e/lib-http.sh
. "$top_srcdir/tests/e2e/lib-http.sh"
[ $# -gt 0 ] && BERTH_BIN=$1
need nginx wrk curl python3
T=$REG_TMP
BERTH_WORKERS=2
RUNS=${RUNS:-5}
DURATION=${DURATION:-10}
ACCEPT='Accept: application/vnd.oci.image.manifest.v1+json'
nm "$BERTH_BIN" 2>/dev/null | grep -q __asan_init &&
	echo "# warning: $BERTH_BIN is built with sanitizers; its numbers are not berth's"

# serve MODE: berth with metrics = MODE behind nginx
serve() {
	[ -n "$BASE" ] && stop_front
	berth_conf "offload = x-accel-redirect" "log_level = error" "metrics = $1"
	NGINX_WORKER_PROCESSES=auto NGINX_WORKER_CONNECTIONS=4096
	NGINX_ERROR_LOG_LEVEL=error
	start_front
}

serve on
mkblob "$T/config" 200
mkblob "$T/layer" 4000
push_blob b/app "$T/config"
push_blob b/app "$T/layer"
oci manifest --config "$T/config" --layer "$T/layer" >"$T/m"
put_manifest b/app latest "$T/m"
[ "$STATUS" = 201 ] || bail "cannot push the manifest: $STATUS"

# ticks: CPU ticks the workers used so far (utime + stime)
ticks() {
	for _p in $(pgrep -P "$PREFORK_PID"); do
		awk '{ print $14 + $15 }' "/proc/$_p/stat"
	done | awk '{ t += $1 } END { print t + 0 }'
}
HZ=$(getconf CLK_TCK)

# run MODE: req/s of one run, appended to $T/MODE, and the workers' CPU
# microseconds per request, to $T/MODE.cpu (the machine's other load moves
# the first more than the second)
run() {
	serve "$1"
	_t0=$(ticks)
	wrk -t2 -c16 -d"${DURATION}s" -H "$ACCEPT" \
		"$BASE/v2/b/app/manifests/latest" >"$T/wrk.out" 2>&1
	_t1=$(ticks)
	grep -q 'Non-2xx' "$T/wrk.out" && { cat "$T/wrk.out" >&2; bail "wrk: requests failed"; }
	awk '/^Requests\/sec:/ { printf "%.0f\n", $2 }' "$T/wrk.out" >>"$T/$1"
	awk -v t="$((_t1 - _t0))" -v hz="$HZ" '/ requests in / {
		printf "%.1f\n", t * 1e6 / hz / $1 }' "$T/wrk.out" >>"$T/$1.cpu"
	echo "# run: metrics = $1: $(tail -n 1 "$T/$1") req/s," \
		"$(tail -n 1 "$T/$1.cpu") us CPU/request"
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

i=0
while [ $i -lt "$RUNS" ]; do
	if [ $((i % 2)) = 0 ]; then run on; run off; else run off; run on; fi
	i=$((i + 1))
done
# the runs with metrics = on were counted, in the storage root's file
serve on
req GET /metrics
scraped=$(awk '$1 ~ /^registry_http_requests_total\{route="manifest",method="GET",code="200"\}/ { print $2 }' "$T/body")
on=$(median <"$T/on")
off=$(median <"$T/off")
cost=$(awk -v a="$on" -v b="$off" 'BEGIN { printf "%.1f", (b - a) * 100 / b }')
con=$(median <"$T/on.cpu")
coff=$(median <"$T/off.cpu")
ccost=$(awk -v a="$con" -v b="$coff" 'BEGIN { printf "%.1f", (a - b) * 100 / b }')
echo
echo "manifest GET, nginx, 2 workers, wrk -t2 -c16 -d${DURATION}s, median of $RUNS"
echo "  metrics = off   $off req/s   ($(tr '\n' ' ' <"$T/off"))"
echo "  metrics = on    $on req/s   ($(tr '\n' ' ' <"$T/on"))"
echo "  cost            $cost %"
echo "  workers' CPU per request: off $coff us ($(tr '\n' ' ' <"$T/off.cpu")), on $con us ($(tr '\n' ' ' <"$T/on.cpu")): $ccost %"
echo "  manifest GETs counted (the runs with metrics = on): $scraped"
echo "metric manifest_get_metrics_off $off req/s"
echo "metric manifest_get_metrics_on $on req/s"
echo "metric metrics_cost $cost %"
echo "metric manifest_get_cpu_metrics_off $coff us"
echo "metric manifest_get_cpu_metrics_on $con us"
echo "metric metrics_cpu_cost $ccost %"
stop_front
done_testing
