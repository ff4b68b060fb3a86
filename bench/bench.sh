#!/bin/sh
# berth beside the reference registry (Debian's docker-registry,
# distribution 2.8), both behind one nginx on 127.0.0.1, with the same
# workloads, alternating, each figure the median of $RUNS runs; and the
# ceilings of this machine in the same run: nginx sending a file itself,
# sha256 in OpenSSL, and a minimal FastCGI responder behind the same
# nginx. Then berth's manifest PUTs with sync = data (what durable
# commits cost), and berth's garbage collector on a store of its own, mostly
# garbage (bench/gcstore.c): a sweep alone, and manifest PUTs while one
# sweeps. Prints a table and `metric NAME VALUE UNIT` lines.
#
#   make bench                  (or: sh bench/bench.sh [BERTH-BINARY])
#   BENCH_SMOKE=1 sh bench/bench.sh    tiny sizes, one run, for make check
#
# berth runs behind conf/nginx/berth.conf (blob offload on) with 2
# workers of its own (--listen); the reference behind the same nginx as a
# plain reverse proxy. Configure without --enable-sanitizers for numbers.
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
need nginx docker-registry wrk ab curl openssl python3 cc
B=$top_srcdir/bench
T=$REG_TMP
BERTH_WORKERS=2
if [ "${BENCH_SMOKE:-0}" = 1 ]; then
	RUNS=1 BIG_MB=8 MID_MB=2 CHUNKED_MB=4 CHUNK_MB=1 SMALL=50 DURATION=1
	TAGS=20 REPOS=120 STREAMS=2
	GC_BLOBS=300 GC_MANIFESTS=30 GC_REPOS=3
else
	RUNS=3 BIG_MB=1024 MID_MB=64 CHUNKED_MB=256 CHUNK_MB=8 SMALL=1000
	DURATION=10 TAGS=1000 REPOS=5000 STREAMS=8
	GC_BLOBS=100000 GC_MANIFESTS=10000 GC_REPOS=100
fi
nm "$BERTH_BIN" 2>/dev/null | grep -q __asan_init &&
	echo "# warning: $BERTH_BIN is built with sanitizers; its numbers are not berth's"

# --- the servers ---

cc -O2 -o "$T/minimal-fcgi" "$B/minimal-fcgi.c" -lfcgi || bail "cannot build minimal-fcgi"
cc -O2 -o "$T/copy-cost" "$B/copy-cost.c" || bail "cannot build copy-cost"
# gcstore links the build's libberth.a, with the build's compiler, flags
# (sanitizers too) and libraries, as the Makefile has them
mkvar() { sed -n "s/^$1 = *//p" "$top_builddir/Makefile"; }
[ -f "$top_builddir/libberth.a" ] || bail "no libberth.a in $top_builddir: build berth first"
# shellcheck disable=SC2046 # lists of flags
"$(mkvar CC)" -O2 $(mkvar SAN_CFLAGS) $(mkvar LMDB_CFLAGS) $(mkvar JANSSON_CFLAGS) \
	$(mkvar CRYPTO_CFLAGS) -I"$top_builddir" -I"$top_srcdir" -o "$T/gcstore" \
	"$B/gcstore.c" "$top_builddir/libberth.a" $(mkvar LMDB_LIBS) \
	$(mkvar JANSSON_LIBS) $(mkvar CRYPTO_LIBS) $(mkvar SAN_LDFLAGS) ||
	bail "cannot build gcstore"
mkdir -p "$T/minimal"
"$T/minimal-fcgi" 2 "$REG_RUN/minimal.sock" "$T/minimal" &
MIN_PID=$!
track $MIN_PID

berth_conf "offload = x-accel-redirect" "log_level = error"
RPORT=$(free_port) MPORT=$(free_port) SPORT=$(free_port)
mkdir -p "$T/static"
start_reference "$T/ref"

# nginx as the tests run it (tests/e2e/lib-front.sh), with berth's
# production site (conf/nginx/berth.conf) in front of berth --listen, and
# beside it, in the same http{}, the settings and servers of the bench
cat >"$T/nginx-bench.conf" <<NGINX
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    # the reference registry, as a plain reverse proxy
    upstream reference {
        server 127.0.0.1:$REGPORT;
        keepalive 64;
    }
    server {
        listen 127.0.0.1:$RPORT;
        client_max_body_size 0;
        client_body_buffer_size 1m; # as berth's site has it
        location / {
            proxy_pass http://reference;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host \$http_host;
            proxy_request_buffering off;
            proxy_buffering off;
            proxy_read_timeout 600s;
            proxy_send_timeout 600s;
        }
    }
    # the request-rate and upload-copy ceilings: a responder that stores
    # the body it is sent, if any, and says "ok"; bodies reach it as
    # they reach berth
    server {
        listen 127.0.0.1:$MPORT;
        client_max_body_size 0;
        client_body_buffer_size 1m;
        location / {
            fastcgi_request_buffering off;
            fastcgi_pass unix:$REG_RUN/minimal.sock;
            include /etc/nginx/fastcgi_params;
            fastcgi_keep_conn off;
        }
    }
    # the download ceiling: nginx sending the file itself
    server {
        listen 127.0.0.1:$SPORT;
        root $T/static;
    }
NGINX
NGINX_WORKER_PROCESSES=auto NGINX_WORKER_CONNECTIONS=4096
NGINX_ERROR_LOG_LEVEL=error NGINX_INCLUDE=$T/nginx-bench.conf
start_front
BB=$BASE
RB=http://127.0.0.1:$RPORT
for u in "$RB/v2/" "http://127.0.0.1:$MPORT/"; do
	wait_for "$u" || bail "$u did not come up"
done

# --- measuring ---

load() {
	python3 "$B/load.py" "$@" || bail "load.py $*"
}
median() { # the middle of the numbers on stdin
	sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}
pids_of() { # berth | reference | minimal: the server processes
	case $1 in
	berth) berth_pids ;;
	reference) echo "$REF_PID" ;;
	minimal) echo "$MIN_PID" && pgrep -P "$MIN_PID" ;;
	esac
}
cpu_ticks() { # berth | reference | minimal: CPU ticks used so far
	for _p in $(pids_of "$1"); do
		awk '{ print $14 + $15 }' "/proc/$_p/stat" 2>/dev/null
	done | awk '{ s += $1 } END { print s + 0 }'
}
TICK=$(getconf CLK_TCK)
base_of() {
	if [ "$1" = berth ]; then echo "$BB"; else echo "$RB"; fi
}

# fig NAME UNIT BERTH REFERENCE CEILING TARGET-TEXT OK: one row
fig() {
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$T/figures"
	echo "metric berth_$1 $3 $2"
	[ "$4" != - ] && echo "metric reference_$1 $4 $2"
	[ "$5" != - ] && echo "metric ceiling_$1 $5 $2"
	return 0
}

# per REG CMD...: run CMD (whose first output word is the figure) $RUNS
# times; print the median of the figures, and the CPU seconds the
# server used per run
per() {
	_reg=$1
	shift
	_c0=$(cpu_ticks "$_reg")
	_run=0
	while [ $_run -lt "$RUNS" ]; do
		# what the last run left to write back is not this run's work
		sync
		"$@"
		_run=$((_run + 1))
	done >"$T/runs"
	_c1=$(cpu_ticks "$_reg")
	echo "$(awk '{ print $1 }' "$T/runs" | median) $(awk -v t="$TICK" -v r="$RUNS" -v a="$_c0" -v b="$_c1" 'BEGIN { printf "%.3f", (b - a) / t / r }')"
}

head -c $((BIG_MB << 20)) /dev/urandom >"$T/big"
head -c $((MID_MB << 20)) /dev/urandom >"$T/mid"
head -c $((CHUNKED_MB << 20)) /dev/urandom >"$T/chunked"
cp "$T/big" "$T/static/big"
BIGD=$(sha256 "$T/big")

# rss_mark PHASE: note each berth worker's peak RSS since the last mark
# (the kernel's high-water mark, which writing 5 to clear_refs resets)
rss_mark() {
	for _p in $(worker_pids); do
		awk -v p="$_p" -v w="$1" '/VmHWM/ { print p, $2, w }' "/proc/$_p/status"
		echo 5 >"/proc/$_p/clear_refs" 2>/dev/null
	done >>"$T/rss"
}
rss_mark start

echo "# uploads"
# shellcheck disable=SC2317 # called through per
upload_run() { # REG FILE: each run into a repository of its own
	n=$((n + 1))
	load upload "$(base_of "$1")" "up/r$n" "$2"
}
for reg in berth reference; do
	n=0 # so that up/r1 holds the big blob in both registries
	per "$reg" upload_run "$reg" "$T/big" >"$T/big.$reg"
done
for reg in berth reference; do
	per "$reg" upload_run "$reg" "$T/mid" >"$T/mid.$reg"
done
for reg in berth reference; do
	per "$reg" load chunked "$(base_of "$reg")" up/chunked "$T/chunked" $((CHUNK_MB << 20)) >"$T/chunked.$reg"
done
SHA=$(openssl speed -evp sha256 -bytes 16384 -seconds 2 2>/dev/null | awk '/^sha256/ { printf "%.0f", $2 / 1000 }')
# what the bytes of an upload cost apart from hashing them: the minimal
# responder stores the big blob as berth does, without sha256 (its CPU
# per GiB is the copy cost of the ceiling); and copy-cost moves them
# from a socket to an O_DIRECT file without libfcgi, in 1 MiB reads and
# in the 8 KiB reads libfcgi makes (how much of it is libfcgi's)
# shellcheck disable=SC2317 # called through per
min_upload() { # FILE: MB/s of a PUT of FILE to the minimal responder
	curl -sf -T "$1" -o /dev/null -w '%{speed_upload}\n' "http://127.0.0.1:$MPORT/copy" |
		awk '{ printf "%.0f\n", $1 / 1e6 }' | grep . || bail "the minimal responder did not take $1"
}
per minimal min_upload "$T/big" >"$T/big.minimal"
COPY=$(awk -v c="$(awk '{ print $2 }' "$T/big.minimal")" -v m="$BIG_MB" 'BEGIN { printf "%.3f", c * 1024 / m }')
copy_cost() {
	for _ in $(seq "$RUNS"); do
		"$T/copy-cost" "$BIG_MB" "$1" "$T/copy.tmp" || bail "copy-cost failed"
	done | median | awk -v m="$BIG_MB" '{ printf "%.3f", $1 * 1024 / m }'
}
COPY1M=$(copy_cost 1048576)
COPY8K=$(copy_cost 8192)

echo "# downloads"
dl() { # BASE PATH STREAMS: MB/s of STREAMS parallel downloads
	_t0=$(date +%s.%N)
	_stream=0
	_curls=
	while [ $_stream -lt "$3" ]; do
		curl -sf -o /dev/null -w '%{size_download}\n' "$1$2" >"$T/dl.$_stream" &
		_curls="$_curls $!"
		_stream=$((_stream + 1))
	done
	# shellcheck disable=SC2086 # a list of pids
	wait $_curls
	# a download that fails or comes up short is no figure
	if [ "$(cat "$T"/dl.* | sort -u)" != $((BIG_MB << 20)) ]; then
		bail "downloading $1$2 failed"
	fi
	rm -f "$T"/dl.*
	awk -v t0="$_t0" -v t1="$(date +%s.%N)" -v n="$3" -v s=$((BIG_MB << 20)) \
		'BEGIN { printf "%.0f\n", n * s / (t1 - t0) / 1e6 }'
}
# each file is read once before, so that every figure is of a file in
# the page cache (berth wrote its copy with O_DIRECT, around the cache)
for base in "$BB/v2/up/r1/blobs/$BIGD" "$RB/v2/up/r1/blobs/$BIGD" \
	"http://127.0.0.1:$SPORT/big"; do
	dl "$base" "" 1 >/dev/null
done
for reg in berth reference; do
	per "$reg" dl "$(base_of "$reg")" "/v2/up/r1/blobs/$BIGD" 1 >"$T/dl1.$reg"
	per "$reg" dl "$(base_of "$reg")" "/v2/up/r1/blobs/$BIGD" "$STREAMS" >"$T/dl8.$reg"
done
DL1_CEIL=$(for _ in $(seq "$RUNS"); do dl "http://127.0.0.1:$SPORT" /big 1; done | median)
DL8_CEIL=$(for _ in $(seq "$RUNS"); do dl "http://127.0.0.1:$SPORT" /big "$STREAMS"; done | median)

rss_mark big

echo "# small blobs"
for reg in berth reference; do
	for conc in 1 16; do
		per "$reg" load smallblobs "$(base_of "$reg")" "small/c$conc" "$SMALL" "$conc" 4096 >"$T/small$conc.$reg"
		# the p99 of the median run is close enough to the median p99
		awk '{ print $2 }' "$T/runs" | median >"$T/small$conc.$reg.p99"
	done
done

rss_mark small

echo "# manifests"
# as clients send it (the reference answers 404 to a GET of an OCI
# manifest without it)
ACCEPT="Accept: application/vnd.oci.image.manifest.v1+json"
# wrk_run REG WHAT: req/s and p99 ms of $DURATION s at 16 connections
wrk_run() {
	_base=$(base_of "$1")
	case $2 in
	put) set -- -s "$B/wrk-put.lua" "$_base/v2/wrk/put/manifests/" -- "$T/manifest.$1" ;;
	get) set -- -H "$ACCEPT" "$_base/v2/wrk/get/manifests/latest" ;;
	head)
		ab_run "$_base/v2/wrk/get/manifests/latest"
		return
		;;
	min) set -- "http://127.0.0.1:$MPORT/" ;;
	minab)
		ab_run "http://127.0.0.1:$MPORT/"
		return
		;;
	esac
	wrk -t2 -c16 -d"${DURATION}s" --latency "$@" >"$T/wrk.out" 2>&1
	wrk_result
}
# wrk_result: req/s and p99 ms of the run in $T/wrk.out, which must have
# had no failed request
wrk_result() {
	if grep -q 'Non-2xx' "$T/wrk.out"; then
		cat "$T/wrk.out" >&2
		bail "wrk: requests failed"
	fi
	awk '/^Requests\/sec:/ { rps = $2 }
		$1 == "99%" { v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
			ms = u == "us" ? v / 1000 : u == "s" ? v * 1000 : v }
		END { printf "%.0f %.2f\n", rps, ms }' "$T/wrk.out"
}
# ab_run URL: the same for HEAD, which wrk cannot do (it waits for a
# body); ab's percentiles are whole milliseconds
ab_run() {
	ab -k -i -c 16 -t "$DURATION" -n 100000000 -H "$ACCEPT" "$1" >"$T/ab.out" 2>&1
	if ! grep -q '^Non-2xx responses' "$T/ab.out" &&
		grep -q '^Failed requests: *0$' "$T/ab.out"; then
		awk '/^Requests per second:/ { rps = $4 }
			$1 == "99%" { ms = $2 }
			END { printf "%.0f %.2f\n", rps, ms }' "$T/ab.out"
	else
		cat "$T/ab.out" >&2
		bail "ab: requests failed"
	fi
}
for reg in berth reference; do
	load manifest "$(base_of "$reg")" wrk/put >"$T/manifest.$reg"
	load tags "$(base_of "$reg")" wrk/get 1 # tag t00000
	c -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
		--data-binary "@$T/manifest.$reg" -o /dev/null "$(base_of "$reg")/v2/wrk/get/manifests/latest"
done
for what in put get head; do
	for reg in berth reference; do
		per "$reg" wrk_run "$reg" "$what" >"$T/$what.$reg"
		awk '{ print $2 }' "$T/runs" | median >"$T/$what.$reg.p99"
	done
done
MIN=$(for _ in $(seq "$RUNS"); do wrk_run berth min; done | awk '{ print $1 }' | median)
MINAB=$(for _ in $(seq "$RUNS"); do wrk_run berth minab; done | awk '{ print $1 }' | median)

rss_mark manifests

echo "# tags and catalog"
for reg in berth reference; do
	load tags "$(base_of "$reg")" list/tags "$TAGS"
	load tagslist "$(base_of "$reg")" list/tags 20 >"$T/tagslist.$reg"
	load repos "$(base_of "$reg")" cat/r "$REPOS" 16
	per "$reg" load catalog "$(base_of "$reg")" "$REPOS" 1 >"$T/catalog.$reg"
done

# --- memory ---
rss_mark lists
rss_max() { # [PHASE]: the largest peak of a worker (in PHASE)
	awk -v w="${1:-}" 'w == "" || $3 == w { if ($2 > m) m = $2 } END { print m }' "$T/rss"
}
BERTH_RSS_MAX=$(rss_max)
# each worker at its peak, and the processes that are not workers
BERTH_RSS_SUM=$({
	awk '{ if ($2 > m[$1]) m[$1] = $2 } END { for (p in m) print m[p] }' "$T/rss"
	for p in $(berth_pids); do
		worker_pids | grep -qx "$p" || awk '/VmHWM/ { print $2 }' "/proc/$p/status"
	done
} | awk '{ s += $1 } END { print s }')
REF_RSS=$(awk '/VmHWM/ { print $2 }' "/proc/$REF_PID/status")

# --- garbage collection ---
# The reference registry has no online GC (its garbage-collect wants the
# registry stopped or read-only): these figures are berth's alone.
# Each run makes a store of $GC_BLOBS blobs and $GC_MANIFESTS manifests,
# most of them garbage (bench/gcstore.c), and sweeps it with grace 0, as
# `berthctl gc --grace 0` with untagged_ttl 0 does: the seconds, and what
# went per second. Then it makes the store again, serves it with berth
# behind nginx as above, and runs the manifest PUT load into a repository
# of its own, for as long as that sweep took: once alone, then while a
# sweep of the store runs, started just before the load. A sweep under
# load takes longer than alone, so every request of the second load is
# made while it sweeps (a note says when not).
echo "# garbage collection"
GC_ROOT=$T/gc
gc_fill() {
	rm -rf "$GC_ROOT"
	mkdir -p "$GC_ROOT"
	"$T/gcstore" fill "$GC_ROOT" "$GC_BLOBS" "$GC_MANIFESTS" "$GC_REPOS" ||
		bail "gcstore fill failed"
	sync
	# with grace 0 a sweep still spares what changed in its first second
	sleep 1
}
gc_metric() { # NAME FILE: a metric gcstore printed
	awk -v m="$1" '$1 == "metric" && $2 == m { print $3 }' "$2"
}
gc_put() { # SECONDS: req/s and p99 ms of manifest PUTs for SECONDS s
	wrk -t2 -c16 -d"$1s" --latency -s "$B/wrk-put.lua" \
		"$BB/v2/gc/put/manifests/" -- "$T/manifest.gc" >"$T/wrk.out" 2>&1
	wrk_result
}
stop_front

# What durability costs: the manifest PUT load again with sync = data,
# which does not wait for LMDB's meta page (berth's default, full, does)
echo "# manifest PUTs with sync = data"
berth_conf "offload = x-accel-redirect" "log_level = error" "sync = data"
start_front
BB=$BASE
per berth wrk_run berth put >"$T/putdata.berth"
stop_front

# the site and berth.conf name the storage root
REG_STORE=$GC_ROOT
berth_conf "offload = x-accel-redirect" "log_level = error"
run=0
while [ $run -lt "$RUNS" ]; do
	gc_fill
	"$T/gcstore" gc "$GC_ROOT" >"$T/gc.$run" || bail "gcstore gc failed"
	gc_metric gc_seconds "$T/gc.$run" >>"$T/gc.s"
	awk -v b="$(gc_metric gc_blobs "$T/gc.$run")" -v s="$(gc_metric gc_seconds "$T/gc.$run")" \
		'BEGIN { printf "%.0f\n", (s > 0) ? b / s : 0 }' >>"$T/gc.rate"
	# whole seconds, at least one, at least as long as the sweep
	_d=$(awk -v s="$(gc_metric gc_seconds "$T/gc.$run")" 'BEGIN { print int(s) + 1 }')

	gc_fill
	start_front
	BB=$BASE
	load manifest "$BB" gc/put >"$T/manifest.gc"
	# tagged, so that the sweep keeps its config blob
	c -f -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
		--data-binary "@$T/manifest.gc" -o /dev/null "$BB/v2/gc/put/manifests/base" ||
		bail "cannot push the manifest of the GC's PUT load"
	gc_put "$_d" >>"$T/gcput.alone"
	"$T/gcstore" gc "$GC_ROOT" >"$T/gcload.$run" &
	_gc=$!
	gc_put "$_d" >>"$T/gcput.sweep"
	kill -0 $_gc 2>/dev/null ||
		echo "# note: the sweep ended before the PUT load of ${_d}s did"
	wait $_gc || bail "gcstore gc failed under the PUT load"
	gc_metric gc_seconds "$T/gcload.$run" >>"$T/gcload.s"
	stop_front
	run=$((run + 1))
done
GC_S=$(median <"$T/gc.s")
GC_RATE=$(median <"$T/gc.rate")
GC_LOAD_S=$(median <"$T/gcload.s")
PUT_ALONE=$(awk '{ print $2 }' "$T/gcput.alone" | median)
PUT_SWEEP=$(awk '{ print $2 }' "$T/gcput.sweep" | median)
# what the last sweep alone removed (each run makes the same store)
for m in gc_manifests gc_links gc_blobs gc_bytes; do
	echo "metric berth_${m}_removed $(gc_metric $m "$T/gc.$((RUNS - 1))") $(awk -v m=$m '$2 == m { print $4 }' "$T/gc.$((RUNS - 1))")"
done
echo "metric berth_manifest_put_no_gc $(awk '{ print $1 }' "$T/gcput.alone" | median) req/s"
echo "metric berth_manifest_put_gc $(awk '{ print $1 }' "$T/gcput.sweep" | median) req/s"

# --- the table ---
v() { awk '{ print $1 }' "$T/$1"; }
cpu() { awk '{ print $2 }' "$T/$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
at_least() { awk -v a="$1" -v b="$2" 'BEGIN { print (a >= b) ? "met" : "MISSED" }'; }
below() { awk -v a="$1" -v b="$2" 'BEGIN { print (a < b) ? "met" : "MISSED" }'; }

: >"$T/figures"
fig upload_1g MB/s "$(v big.berth)" "$(v big.reference)" "$SHA" ">=1.5x ref" "$(at_least "$(ratio "$(v big.berth)" "$(v big.reference)")" 1.5)"
fig upload_64m MB/s "$(v mid.berth)" "$(v mid.reference)" "$SHA" "-" "-"
fig upload_chunked_256m MB/s "$(v chunked.berth)" "$(v chunked.reference)" "$SHA" ">=1.5x ref" "$(at_least "$(ratio "$(v chunked.berth)" "$(v chunked.reference)")" 1.5)"
fig download_1g_1 MB/s "$(v dl1.berth)" "$(v dl1.reference)" "$DL1_CEIL" ">=0.9x ceiling" "$(at_least "$(ratio "$(v dl1.berth)" "$DL1_CEIL")" 0.9)"
fig download_1g_$STREAMS MB/s "$(v dl8.berth)" "$(v dl8.reference)" "$DL8_CEIL" ">=0.9x ceiling" "$(at_least "$(ratio "$(v dl8.berth)" "$DL8_CEIL")" 0.9)"
fig small_blobs_c1 blobs/s "$(v small1.berth)" "$(v small1.reference)" - "-" "-"
fig small_blobs_c16 blobs/s "$(v small16.berth)" "$(v small16.reference)" - ">=4x ref" "$(at_least "$(ratio "$(v small16.berth)" "$(v small16.reference)")" 4)"
fig small_blobs_c1_p99 ms "$(cat "$T/small1.berth.p99")" "$(cat "$T/small1.reference.p99")" - "-" "-"
fig small_blobs_c16_p99 ms "$(cat "$T/small16.berth.p99")" "$(cat "$T/small16.reference.p99")" - "-" "-"
fig manifest_put req/s "$(v put.berth)" "$(v put.reference)" "$MIN" ">=10x ref" "$(at_least "$(ratio "$(v put.berth)" "$(v put.reference)")" 10)"
fig manifest_put_sync_data req/s "$(v putdata.berth)" "$(v put.reference)" "$MIN" "-" "-"
fig manifest_get req/s "$(v get.berth)" "$(v get.reference)" "$MIN" ">=10x ref, >=0.7x ceiling" "$(at_least "$(ratio "$(v get.berth)" "$(v get.reference)")" 10)/$(at_least "$(ratio "$(v get.berth)" "$MIN")" 0.7)"
fig manifest_head req/s "$(v head.berth)" "$(v head.reference)" "$MINAB" ">=10x ref, >=0.7x ceiling" "$(at_least "$(ratio "$(v head.berth)" "$(v head.reference)")" 10)/$(at_least "$(ratio "$(v head.berth)" "$MINAB")" 0.7)"
fig manifest_put_p99 ms "$(cat "$T/put.berth.p99")" "$(cat "$T/put.reference.p99")" - "-" "-"
fig manifest_get_p99 ms "$(cat "$T/get.berth.p99")" "$(cat "$T/get.reference.p99")" - "-" "-"
fig manifest_head_p99 ms "$(cat "$T/head.berth.p99")" "$(cat "$T/head.reference.p99")" - "-" "-"
fig tags_list_$TAGS ms "$(v tagslist.berth)" "$(v tagslist.reference)" - "-" "-"
fig catalog_walk_$REPOS ms "$(v catalog.berth)" "$(v catalog.reference)" - ">=20x faster" "$(at_least "$(ratio "$(v catalog.reference)" "$(v catalog.berth)")" 20)"
fig peak_rss_per_worker KiB "$BERTH_RSS_MAX" "$REF_RSS" - "<=10240 KiB" "$(at_least 10240 "$BERTH_RSS_MAX")"
fig peak_rss_per_worker_1g_blobs KiB "$(rss_max big)" - - "flat" "-"
fig peak_rss_per_worker_4k_blobs KiB "$(rss_max small)" - - "flat" "-"
fig peak_rss_per_worker_manifests KiB "$(rss_max manifests)" - - "-" "-"
fig peak_rss_per_worker_lists KiB "$(rss_max lists)" - - "-" "-"
fig peak_rss_total KiB "$BERTH_RSS_SUM" "$REF_RSS" - "-" "-"
fig cpu_per_gib_upload s "$(awk -v c="$(cpu big.berth)" -v m="$BIG_MB" 'BEGIN { printf "%.2f", c * 1024 / m }')" \
	"$(awk -v c="$(cpu big.reference)" -v m="$BIG_MB" 'BEGIN { printf "%.2f", c * 1024 / m }')" \
	"$(awk -v s="$SHA" -v c="$COPY" 'BEGIN { printf "%.2f", 1073.741824 / s + c }')" "<=sha256+copy" \
	"$(at_least "$(awk -v s="$SHA" -v c="$COPY" 'BEGIN { printf "%.2f", 1073.741824 / s + c }')" \
		"$(awk -v c="$(cpu big.berth)" -v m="$BIG_MB" 'BEGIN { printf "%.2f", c * 1024 / m }')")"
fig cpu_per_1000_manifest_get s "$(awk -v c="$(cpu get.berth)" -v r="$(v get.berth)" -v d="$DURATION" 'BEGIN { printf "%.3f", c / (r * d) * 1000 }')" \
	"$(awk -v c="$(cpu get.reference)" -v r="$(v get.reference)" -v d="$DURATION" 'BEGIN { printf "%.3f", c / (r * d) * 1000 }')" - "-" "-"
fig cpu_per_1000_small_blobs s "$(awk -v c="$(cpu small16.berth)" -v n="$SMALL" 'BEGIN { printf "%.3f", c / n * 1000 }')" \
	"$(awk -v c="$(cpu small16.reference)" -v n="$SMALL" 'BEGIN { printf "%.3f", c / n * 1000 }')" - "-" "-"
# the reference registry has no online GC: "-" in its column
fig gc_sweep_100k s "$GC_S" - - "<30 s" "$(below "$GC_S" 30)"
fig gc_blobs_freed blobs/s "$GC_RATE" - - "-" "-"
fig gc_sweep_100k_under_put s "$GC_LOAD_S" - - "-" "-"
fig manifest_put_p99_no_gc ms "$PUT_ALONE" - - "-" "-"
fig manifest_put_p99_gc ms "$PUT_SWEEP" - - "<2x without GC" "$(below "$(ratio "$PUT_SWEEP" "$PUT_ALONE")" 2)"
echo "metric berth_manifest_put_p99_gc_ratio $(ratio "$PUT_SWEEP" "$PUT_ALONE") x"
echo "metric sha256_openssl $SHA MB/s"
echo "metric minimal_fcgi_upload_1g $(awk '{ print $1 }' "$T/big.minimal") MB/s"
echo "metric minimal_fcgi_cpu_per_gib_upload $COPY s"
echo "metric copy_cpu_per_gib_1m_reads $COPY1M s"
echo "metric copy_cpu_per_gib_8k_reads $COPY8K s"

echo
awk -F '\t' 'BEGIN { printf "%-36s %9s %11s %7s %9s %7s  %-26s %s\n", "figure", "berth", "reference", "b/ref", "ceiling", "b/ceil", "target", "" }
	{ r = ($4 > 0) ? sprintf("%.2f", $3 / $4) : "-"
	  c = ($5 != "-" && $5 > 0) ? sprintf("%.2f", $3 / $5) : "-"
	  printf "%-36s %9s %11s %7s %9s %7s  %-26s %s\n", $1 " (" $2 ")", $3, $4, r, $5, c, $6, $7 }' "$T/figures"
stop_all
done_testing
