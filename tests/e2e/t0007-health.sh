#!/bin/sh
# The health probes, /livez and /readyz: through the shipped front server
# configs without a login even where everything else wants one (and
# berth's access file gives anonymous clients nothing), GET and HEAD,
# other methods 405. /readyz is 503 with a reason in maintenance mode
# (berthctl readonly on), with the metadata map full (map_size_max 4M)
# and with less than 64 MiB free on the root's disk (a tmpfs: root only);
# while berth is down the front server answers 502 or 503 itself, with
# its JSON error body.
# shellcheck source=tests/e2e/lib.sh
. "${srcdir:-$(dirname "$0")}/lib.sh"
# shellcheck source=tests/e2e/lib-front.sh
. "$srcdir/lib-front.sh"
# shellcheck source=tests/e2e/lib-http.sh
. "$srcdir/lib-http.sh"
need python3 openssl
T=$REG_TMP
# shellcheck source=tests/e2e/lib-ctl.sh
. "$srcdir/lib-ctl.sh"
FRONT_AUTH=${BERTH_E2E_AUTH:-required}
front_options
printf '%s\n' 'tester  pull,push,delete  *' >"$T/access.conf"
berth_conf "access = $T/access.conf"
start_prefork
start_front socket "$REG_RUN/prefork.sock"

# restart_berth LINE...: berth --listen again, with berth_conf LINEs (and
# no access file: the front server's login, if any, is enough to push)
restart_berth() {
	kill "$PREFORK_PID"
	wait "$PREFORK_PID" 2>/dev/null
	berth_conf "$@"
	start_prefork
	[ "$FRONT" = apache ] && chmod 666 "$REG_RUN/prefork.sock" # as start_apache
	wait_for "$BASE/livez" || bail "berth did not come back"
}

# probe PATH STATUS JSON: a GET without a password
probe() {
	req GET "$1"
	is "GET $1: $2 $3" "$STATUS $(hdr Content-Type) $(body)" \
		"$2 application/json $3"
}

anonymous_curl
req GET /v2/
if [ "$FRONT_AUTH" = none ]; then
	expect_status "/v2/ without a password: berth's access file says 401" 401
else
	expect_status "/v2/ without a password: the front server's 401" 401
fi
probe /livez 200 '{"status":"ok"}'
probe /readyz 200 '{"status":"ready"}'
is "no cache keeps it" "$(hdr Cache-Control)" no-store
req HEAD /livez
is "HEAD /livez: 200 and the GET's length" \
	"$STATUS $(hdr Content-Length)" "200 15"
req HEAD /readyz
is "HEAD /readyz: 200 and the GET's length" \
	"$STATUS $(hdr Content-Length)" "200 18"
req POST /livez
expect_error "POST /livez" 405 UNSUPPORTED
req DELETE /readyz
expect_error "DELETE /readyz" 405 UNSUPPORTED
front_options
req GET /livezz
check "/livezz is not a probe" [ "$STATUS" != 200 ]
req GET /v2/livez
expect_error "/v2/livez is not a probe" 404 UNSUPPORTED
anonymous_curl

ctl readonly on
is "berthctl readonly on" "$RC" 0
probe /readyz 503 '{"status":"not ready","reason":"maintenance mode (read-only)"}'
req HEAD /readyz
is "HEAD /readyz in maintenance mode" "$STATUS $(hdr Content-Length)" "503 62"
probe /livez 200 '{"status":"ok"}'
ctl readonly off
probe /readyz 200 '{"status":"ready"}'

# berth down: the front server's own answer, with its JSON error body
kill "$PREFORK_PID"
wait "$PREFORK_PID" 2>/dev/null
for p in /livez /readyz; do
	req GET $p
	case $STATUS in
	502 | 503) expect_error "berth down: $p is the front server's $STATUS" \
		"$STATUS" UNAVAILABLE ;;
	*) not_ok "berth down: $p is 502 or 503, got $STATUS" ;;
	esac
done
start_prefork
[ "$FRONT" = apache ] && chmod 666 "$REG_RUN/prefork.sock"
wait_for "$BASE/livez" || bail "berth did not come back"
probe /readyz 200 '{"status":"ready"}'

# a metadata map that cannot grow: small blobs (kept in LMDB) fill it
mkdir "$T/small"
restart_berth "root = $T/small" "map_size = 4M" "map_size_max = 4M"
front_options
probe /readyz 200 '{"status":"ready"}'
# 30 kB each (LMDB wants 8 pages in a row for one) until one does not
# fit, then 3 kB ones (a page each) into the pages left free between them
i=0
for size in 30000 3000; do
	while [ $i -lt 400 ]; do
		mkblob "$T/b" $size
		push_blob full/map "$T/b"
		[ "$STATUS" = 201 ] || break
		i=$((i + 1))
	done
done
is "pushes fill the map until one is refused" "$STATUS" 507
anonymous_curl
req GET /readyz
echo "# after $i pushes: $(body)"
is "a full map: not ready" "$STATUS $(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(d["status"], "|", d["reason"].split(" is ")[0])' "$T/body")" \
	"503 not ready | the metadata map"
probe /livez 200 '{"status":"ok"}'

# a disk with less than 64 MiB free
if [ "$(id -u)" = 0 ] && mkdir "$T/disk" &&
	mount -t tmpfs -o size=96m berth-e2e "$T/disk" 2>/dev/null; then
	at_exit "umount '$T/disk' 2>/dev/null"
	restart_berth "root = $T/disk"
	probe /readyz 200 '{"status":"ready"}'
	head -c 40000000 /dev/zero >"$T/disk/filler"
	req GET /readyz
	is "under 64 MiB free: not ready" "$STATUS $(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(d["status"], "|", d["reason"].split(" has ")[0])' "$T/body")" \
		"503 not ready | the disk of the storage root"
	rm "$T/disk/filler"
	probe /readyz 200 '{"status":"ready"}'
else
	ok "# SKIP a small disk needs root and a tmpfs"
fi

done_testing
