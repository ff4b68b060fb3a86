#!/bin/sh
# GET /metrics (berth.conf "metrics = on"): Prometheus's text format, which
# promtool accepts, with counters that every worker adds to and that a
# worker's kill -9 does not lose; "metrics = off" (the default) answers
# 404. Through the front server's shipped /metrics route, with berth's
# prefork workers (spawned by lighttpd for the off case).
BERTH_E2E_BACKEND=prefork # the kill -9 below needs workers of its own
# shellcheck source=tests/e2e/lib.sh
. "${srcdir:-$(dirname "$0")}/lib.sh"
# shellcheck source=tests/e2e/lib-front.sh
. "$srcdir/lib-front.sh"
# shellcheck source=tests/e2e/lib-http.sh
. "$srcdir/lib-http.sh"
# gc_interval = off: the counts of GC runs below are the test's own, never the scheduler's
berth_conf "metrics = on" "gc_interval = off"
start_front

# every worker opened the file and waits for connections, none for its lock
for p in $(worker_pids); do
	check "worker $p is not waiting for a lock" \
		test "$(cat "/proc/$p/wchan")" != locks_lock_inode_wait
done

# series NAME{LABELS}: its value in the last scrape, or "absent"
series() {
	awk -v s="$1" '$1 == s { v = $2 } END { print v == "" ? "absent" : v }' \
		"$REG_TMP/scrape"
}
scrape() {
	req GET /metrics
	cp "$REG_TMP/body" "$REG_TMP/scrape"
}

T=$REG_TMP
mkblob "$T/config" 120
mkblob "$T/l1" 3000
mkblob "$T/l2" 5000
push_blob m/app "$T/config"
expect_status "monolithic push of the config" 201
push_blob m/app "$T/l1"
expect_status "monolithic push of a layer" 201
req POST /v2/m/app/blobs/uploads/
expect_status "an upload session" 202
loc=$(hdr Location)
loc=${loc#"$BASE"}
req PUT "$loc?digest=$(sha256 "$T/l2")" \
	-H 'Content-Type: application/octet-stream' --data-binary "@$T/l2"
expect_status "the session's blob in one PUT" 201
oci manifest --config "$T/config" --layer "$T/l1" --layer "$T/l2" >"$T/m1"
put_manifest m/app v1 "$T/m1"
expect_status "the manifest" 201
msize=$(wc -c <"$T/m1" | tr -d ' ')

i=0
while [ $i -lt 7 ]; do
	req GET /v2/m/app/manifests/v1 \
		-H 'Accept: application/vnd.oci.image.manifest.v1+json'
	[ "$STATUS" = 200 ] || not_ok "manifest GET $i: $STATUS"
	i=$((i + 1))
done
for i in 1 2 3; do
	req GET /v2/m/app/manifests/nothing
done
expect_status "an unknown manifest" 404
esize=$(wc -c <"$REG_TMP/body" | tr -d ' ')
req HEAD "/v2/m/app/blobs/$(sha256 "$T/l1")"
expect_status "HEAD of a blob" 200

scrape
expect_status "GET /metrics" 200
expect_header "GET /metrics" Content-Type "text/plain; version=0.0.4; charset=utf-8"
if command -v promtool >/dev/null; then
	# shellcheck disable=SC2016 # the inner shell's arguments
	check "promtool check metrics accepts the scrape" \
		sh -c 'promtool check metrics <"$1" >"$1.lint" 2>&1' sh "$REG_TMP/scrape"
	[ -s "$REG_TMP/scrape.lint" ] && sed 's/^/# promtool: /' "$REG_TMP/scrape.lint"
else
	ok "# SKIP promtool missing (Debian: prometheus)"
fi
m='route="manifest",method="GET"'
is "manifest GETs answered 200" \
	"$(series "registry_http_requests_total{$m,code=\"200\"}")" 7
is "manifest GETs answered 404" \
	"$(series "registry_http_requests_total{$m,code=\"404\"}")" 3
is "manifest PUTs answered 201" \
	"$(series 'registry_http_requests_total{route="manifest",method="PUT",code="201"}')" 1
is "the duration histogram counts every manifest GET" \
	"$(series "registry_http_request_duration_seconds_count{$m}")" 10
is "and so does its +Inf bucket" \
	"$(series "registry_http_request_duration_seconds_bucket{$m,le=\"+Inf\"}")" 10
is "bytes of the manifests and errors sent" \
	"$(series "berth_http_response_body_bytes_total{$m}")" \
	$((7 * msize + 3 * esize))
is "bytes of the manifest received" \
	"$(series 'berth_http_request_body_bytes_total{route="manifest",method="PUT"}')" "$msize"
is "uploads started" "$(series berth_uploads_started_total)" 1
is "uploads finished (2 monolithic, 1 session)" \
	"$(series berth_uploads_finished_total)" 3
is "uploads failed" "$(series berth_uploads_failed_total)" 0
is "blobs stored" "$(series berth_store_blobs)" 3
is "manifests stored" "$(series berth_store_manifests)" 1
check "the store's bytes are counted" \
	test "$(series berth_store_bytes)" -ge $((120 + 3000 + 5000 + msize))
check "the LMDB map has a size and a use" \
	test "$(series berth_lmdb_map_used_bytes)" -gt 0 -a \
	"$(series berth_lmdb_map_size_bytes)" -ge "$(series berth_lmdb_map_used_bytes)"

# kill -9 the worker that answered the last manifest GET: the counters
# are in the storage root's file, not in it, and the other workers add to
# them
victim=$(grep 'path=/v2/m/app/manifests/v1 status=200' "$REG_RUN/berth.log" |
	tail -n 1 | sed 's/^berth\[\([0-9]*\)\].*/\1/')
# shellcheck disable=SC2016 # the inner shell's arguments
check "the worker that served a manifest is a worker" \
	sh -c 'pgrep -P "$1" | grep -qx "$2"' sh "$PREFORK_PID" "$victim"
kill -9 "$victim"
_i=0
while { [ "$(pgrep -c -P "$PREFORK_PID")" != "$BERTH_WORKERS" ] ||
	pgrep -P "$PREFORK_PID" | grep -qx "$victim"; } && [ $_i -lt 100 ]; do
	sleep 0.1
	_i=$((_i + 1))
done
scrape
is "after a worker's kill -9, its manifest GETs are still counted" \
	"$(series "registry_http_requests_total{$m,code=\"200\"}")" 7
is "and the first scrape too" \
	"$(series 'registry_http_requests_total{route="metrics",method="GET",code="200"}')" 1
for i in 1 2 3 4 5; do
	req GET /v2/m/app/manifests/v1 \
		-H 'Accept: application/vnd.oci.image.manifest.v1+json'
done
scrape
is "the other workers add to them" \
	"$(series "registry_http_requests_total{$m,code=\"200\"}")" 12
check "the file that holds them is in the storage root" \
	test -s "$REG_STORE/metrics.shm"

# a garbage collection of berth-fcgi's counts
is "no garbage collection yet" "$(series berth_gc_runs_total)" 0
check "berth-fcgi --gc" "$BERTH_BIN" -c "$REG_TMP/berth.conf" --gc
scrape
is "one garbage collection" "$(series berth_gc_runs_total)" 1

# the front server's login guards /metrics as it does /v2
if [ "$FRONT_AUTH" = required ]; then
	anonymous_curl
	req GET /metrics
	expect_status "without a login the front server refuses /metrics" 401
	front_options
fi

# berth's access rule: who may list the catalog may read the metrics
# (anonymous here, the tester when the front server wants a login)
who='*' code=401 err=UNAUTHORIZED
[ "$FRONT_AUTH" = required ] && who=tester code=403 err=DENIED
stop_front
printf '%s  pull  *\n' "$who" >"$T/access"
berth_conf "metrics = on" "access = $T/access"
start_front
[ "$FRONT_AUTH" = required ] || anonymous_curl
req GET /metrics
expect_error "without the catalog right, berth refuses /metrics" $code $err
printf '%s  pull,catalog  *\n' "$who" >"$T/access"
stop_front
start_front
[ "$FRONT_AUTH" = required ] || anonymous_curl
req GET /metrics
expect_status "with it, berth answers" 200
front_options

# metrics = off: no such endpoint, whatever the front server routes
stop_front
berth_conf
BERTH_E2E_BACKEND=spawn
start_front
req GET /metrics
expect_error "metrics = off answers 404" 404 UNSUPPORTED
done_testing
