#!/bin/sh
# What webhooks cost a push: manifest PUTs per second (each under a new
# tag, bench/wrk-put.lua) through nginx with no webhooks and with one
# hook to a receiver on loopback (a python3 http.server that answers 200),
# alternating, $RUNS runs of each, medians. berth runs behind
# conf/nginx/berth.conf with 2 workers of its own (--listen), log_level =
# error, its store under $TMPDIR (/dev/shm unless set); wrk -t2 -c8 for
# $DURATION s a run. With webhooks on, a push writes nothing more than it
# does without (its audit entry is the event); the sender, a process of
# its own, takes the rest, and its CPU is reported apart. Prints a table
# and `metric NAME VALUE UNIT` lines.
#
#   sh bench/hooks.sh [BERTH-BINARY]    (RUNS=5 DURATION=10 by default)
#
# Configure without --enable-sanitizers for numbers.
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
export top_srcdir top_builddir
# nginx over plain HTTP, whatever the environment of the tests says
BERTH_E2E_FRONT=nginx BERTH_E2E_TLS=0 BERTH_E2E_AUTH=none
TMPDIR=${TMPDIR:-/dev/shm}
export TMPDIR
# shellcheck source=tests/e2e/lib.sh
. "$top_srcdir/tests/e2e/lib.sh"
# shellcheck source=tests/e2e/lib-front.sh
. "$top_srcdir/tests/e2e/lib-front.sh"
# shellcheck source=tests/e2e/lib-http.sh
. "$top_srcdir/tests/e2e/lib-http.sh"
[ $# -gt 0 ] && BERTH_BIN=$1
need nginx wrk curl python3
T=$REG_TMP
B=$top_srcdir/bench
BERTH_WORKERS=2
RUNS=${RUNS:-5}
DURATION=${DURATION:-10}
nm "$BERTH_BIN" 2>/dev/null | grep -q __asan_init &&
	echo "# warning: $BERTH_BIN is built with sanitizers; its numbers are not berth's"

# the receiver: 200 to every POST, keep-alive, a count in $T/received
RPORT=$(free_port)
python3 - "$RPORT" "$T/received" <<'PY' &
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
port, out = int(sys.argv[1]), sys.argv[2]
n = 0
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a):
        pass
    def do_POST(self):
        global n
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
        n += 1
        if n % 100 == 0:
            with open(out, "w") as f:
                f.write("%d\n" % n)
ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
PY
track $!
echo "hook bench http://127.0.0.1:$RPORT/ timeout=5s" >"$T/webhooks.conf"

# serve MODE: berth with webhooks (on) or without (off) behind nginx
serve() {
	[ -n "$BASE" ] && stop_front
	if [ "$1" = on ]; then
		berth_conf "offload = x-accel-redirect" "log_level = error" \
			"gc_interval = off" "webhooks = $T/webhooks.conf"
	else
		berth_conf "offload = x-accel-redirect" "log_level = error" \
			"gc_interval = off"
	fi
	NGINX_WORKER_PROCESSES=auto NGINX_WORKER_CONNECTIONS=4096
	NGINX_ERROR_LOG_LEVEL=error
	start_front
}

serve off
mkblob "$T/config" 200
mkblob "$T/layer" 4000
push_blob wrk/put "$T/config"
push_blob wrk/put "$T/layer"
oci manifest --config "$T/config" --layer "$T/layer" >"$T/m"

# ticks PID...: CPU ticks they used so far (utime + stime)
ticks() {
	for _p; do
		awk '{ print $14 + $15 }' "/proc/$_p/stat" 2>/dev/null
	done | awk '{ t += $1 } END { print t + 0 }'
}
sender() { pgrep -f "berth-fcgi -c $T/berth.conf --hooks"; }
HZ=$(getconf CLK_TCK)

# run MODE: req/s of one run, appended to $T/MODE; the workers' CPU
# microseconds per push to $T/MODE.cpu; the sender's to $T/MODE.scpu
run() {
	serve "$1"
	_w=$(pgrep -P "$PREFORK_PID" | tr '\n' ' ')
	_i=0
	while [ "$1" = on ] && ! sender >/dev/null && [ $_i -lt 50 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	_s=$(sender)
	# shellcheck disable=SC2086 # lists of pids
	_t0=$(ticks $_w)
	# shellcheck disable=SC2086
	_s0=$(ticks $_s)
	wrk -t2 -c8 -d"${DURATION}s" -s "$B/wrk-put.lua" \
		"$BASE/v2/wrk/put/manifests/" -- "$T/m" >"$T/wrk.out" 2>&1
	# shellcheck disable=SC2086
	_t1=$(ticks $_w)
	# shellcheck disable=SC2086
	_s1=$(ticks $_s)
	grep -q 'Non-2xx' "$T/wrk.out" && { cat "$T/wrk.out" >&2; bail "wrk: requests failed"; }
	awk '/^Requests\/sec:/ { printf "%.0f\n", $2 }' "$T/wrk.out" >>"$T/$1"
	awk -v t="$((_t1 - _t0))" -v hz="$HZ" '/ requests in / {
		printf "%.1f\n", t * 1e6 / hz / $1 }' "$T/wrk.out" >>"$T/$1.cpu"
	awk -v t="$((_s1 - _s0))" -v hz="$HZ" '/ requests in / {
		printf "%.1f\n", t * 1e6 / hz / $1 }' "$T/wrk.out" >>"$T/$1.scpu"
	echo "# run: webhooks $1: $(tail -n 1 "$T/$1") req/s," \
		"$(tail -n 1 "$T/$1.cpu") us workers' CPU/push," \
		"$(tail -n 1 "$T/$1.scpu") us sender's CPU/push"
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

i=0
while [ $i -lt "$RUNS" ]; do
	if [ $((i % 2)) = 0 ]; then run on; run off; else run off; run on; fi
	i=$((i + 1))
done
on=$(median <"$T/on")
off=$(median <"$T/off")
cost=$(awk -v a="$on" -v b="$off" 'BEGIN { printf "%.1f", (b - a) * 100 / b }')
con=$(median <"$T/on.cpu")
coff=$(median <"$T/off.cpu")
ccost=$(awk -v a="$con" -v b="$coff" 'BEGIN { printf "%.1f", (a - b) * 100 / b }')
scpu=$(median <"$T/on.scpu")
echo
echo "manifest PUT, nginx, 2 workers, wrk -t2 -c8 -d${DURATION}s, median of $RUNS"
echo "  webhooks off    $off req/s   ($(tr '\n' ' ' <"$T/off"))"
echo "  webhooks on     $on req/s   ($(tr '\n' ' ' <"$T/on"))"
echo "  cost            $cost %"
echo "  workers' CPU per push: off $coff us, on $con us: $ccost %"
echo "  the sender's CPU per push: $scpu us; events received: $(cat "$T/received" 2>/dev/null || echo 0)+"
echo "metric manifest_put_webhooks_off $off req/s"
echo "metric manifest_put_webhooks_on $on req/s"
echo "metric webhooks_cost $cost %"
echo "metric manifest_put_cpu_webhooks_off $coff us"
echo "metric manifest_put_cpu_webhooks_on $con us"
echo "metric webhooks_sender_cpu $scpu us"
stop_front
done_testing
