#!/bin/sh
# The ways berth-fcgi is started: spawned by lighttpd (the other tests),
# under spawn-fcgi, and standalone with --listen on a unix socket and on
# TCP, with its own prefork workers. SIGTERM lets the request in flight
# finish. A bad configuration stops the start with one line naming the
# file and the problem.
# shellcheck source=tests/e2e/lib.sh
. "${srcdir:-$(dirname "$0")}/lib.sh"
# shellcheck source=tests/e2e/lib-front.sh
. "$srcdir/lib-front.sh"
# shellcheck source=tests/e2e/lib-http.sh
. "$srcdir/lib-http.sh"
need spawn-fcgi cgi-fcgi
berth_conf "offload = x-sendfile"
mkblob "$REG_TMP/blob" 1000000
D=$(sha256 "$REG_TMP/blob")

# round_trip WHAT: push, pull, one session across requests
round_trip() {
	push_blob "modes/$1" "$REG_TMP/blob"
	expect_status "$1: push" 201
	req GET "/v2/modes/$1/blobs/$D"
	check "$1: pull" cmp -s "$REG_TMP/body" "$REG_TMP/blob"
	req POST "/v2/modes/$1/blobs/uploads/"
	loc=$(hdr Location)
	req PATCH "$loc" --data-binary "@$REG_TMP/blob"
	req PUT "$(hdr Location)?digest=$D"
	expect_status "$1: chunked push" 201
}

# --- spawn-fcgi -s SOCKET -F N ---
SOCK=$REG_RUN/spawn.sock
spawn-fcgi -s "$SOCK" -F 3 -- "$BERTH_BIN" -c "$REG_TMP/berth.conf" \
	>"$REG_RUN/spawn-fcgi.log" 2>>"$REG_RUN/berth.log"
is "spawn-fcgi started 3 processes" "$(berth_pids | wc -l | tr -d ' ')" 3
for p in $(berth_pids); do track "$p"; done
start_front socket "$SOCK"
round_trip spawn-fcgi
stop_all

# --- standalone: --listen /unix/socket --workers N ---
SOCK=$REG_RUN/standalone.sock
"$BERTH_BIN" -c "$REG_TMP/berth.conf" --listen "$SOCK" --workers 3 \
	2>>"$REG_RUN/berth.log" &
SUP=$!
track $SUP
sleep 0.5
is "--workers 3: a supervisor and 3 workers" "$(berth_pids | wc -l | tr -d ' ')" 4
start_front socket "$SOCK"
round_trip standalone

# a worker that dies is replaced
victim=$(pgrep -P $SUP | head -n 1)
kill -9 "$victim"
sleep 1.5
is "a killed worker is replaced" "$(pgrep -P $SUP | wc -l | tr -d ' ')" 3
round_trip standalone2

# SIGTERM while a chunk is on its way: the request finishes, then berth exits
req POST /v2/modes/term/blobs/uploads/
loc=$(hdr Location)
mkblob "$REG_TMP/slow" 1500000
curl -s -o /dev/null -w '%{http_code}' -X PATCH --limit-rate 500K \
	--data-binary "@$REG_TMP/slow" "$BASE$loc" >"$REG_TMP/slow.status" &
slow=$!
sleep 1
kill -TERM $SUP
sleep 0.5
check "berth is still busy with the request after SIGTERM" kill -0 $SUP
wait $slow
is "the request in flight finished" "$(cat "$REG_TMP/slow.status")" 202
i=0
while kill -0 $SUP 2>/dev/null && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
check "then berth exited" sh -c "! kill -0 $SUP 2>/dev/null"
is "no berth process is left" "$(berth_pids | wc -l | tr -d ' ')" 0
# the chunk was stored: a new berth continues the session
"$BERTH_BIN" -c "$REG_TMP/berth.conf" --listen "$SOCK" --workers 1 \
	2>>"$REG_RUN/berth.log" &
track $!
sleep 0.5
req GET "$loc"
expect_header "the chunk written during shutdown is kept" Range 0-1499999
stop_all

# an idle worker exits at once on SIGTERM
"$BERTH_BIN" -c "$REG_TMP/berth.conf" --listen "$SOCK" --workers 2 \
	2>>"$REG_RUN/berth.log" &
SUP=$!
sleep 0.5
kill -TERM $SUP
i=0
while kill -0 $SUP 2>/dev/null && [ $i -lt 30 ]; do
	sleep 0.1
	i=$((i + 1))
done
check "idle berth stops on SIGTERM within 3 s" sh -c "! kill -0 $SUP 2>/dev/null"
wait $SUP
is "and exits 0" $? 0

# --- systemd socket activation (conf/systemd/berth.socket) ---
if command -v systemd-socket-activate >/dev/null 2>&1; then
	SOCK=$REG_RUN/activated.sock
	systemd-socket-activate -l "$SOCK" "$BERTH_BIN" -c "$REG_TMP/berth.conf" \
		>>"$REG_RUN/activate.log" 2>>"$REG_RUN/berth.log" &
	ACT=$!
	track $ACT
	i=0
	while [ ! -S "$SOCK" ] && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	start_front socket "$SOCK"
	round_trip activated
	is "started on the first request: a supervisor and 2 workers" \
		"$(berth_pids | wc -l | tr -d ' ')" 3
	stop_all
else
	echo "# systemd-socket-activate is not installed"
fi

# --- standalone on TCP ---
TPORT=$(free_port)
"$BERTH_BIN" -c "$REG_TMP/berth.conf" --listen "127.0.0.1:$TPORT" \
	2>>"$REG_RUN/berth.log" &
track $!
sleep 0.5
out=$(REQUEST_METHOD=GET REQUEST_URI=/v2/ cgi-fcgi -bind -connect "127.0.0.1:$TPORT" | tr -d '\r')
case "$out" in
"Status: 200 OK"*"Docker-Distribution-Api-Version: registry/2.0"*"{}") ok "--listen 127.0.0.1:PORT serves FastCGI" ;;
*) not_ok "--listen 127.0.0.1:PORT serves FastCGI: $out" ;;
esac
out=$(REQUEST_METHOD=HEAD REQUEST_URI="/v2/modes/standalone/blobs/$D" \
	cgi-fcgi -bind -connect "127.0.0.1:$TPORT" | tr -d '\r')
case "$out" in
"Status: 200 OK"*"Content-Length: 1000000"*) ok "it shares the store" ;;
*) not_ok "it shares the store: $out" ;;
esac
stop_all

# --- configuration errors ---
# start_fails DESCRIPTION PATTERN ARGS...: exit 1, one line matching PATTERN
start_fails() {
	_d=$1
	_p=$2
	shift 2
	"$BERTH_BIN" "$@" >"$REG_TMP/out" 2>&1
	_rc=$?
	_lines=$(wc -l <"$REG_TMP/out" | tr -d ' ')
	if [ $_rc = 1 ] && [ "$_lines" = 1 ] && grep -q -- "$_p" "$REG_TMP/out"; then
		ok "$_d"
	else
		not_ok "$_d: exit $_rc, $_lines lines: $(cat "$REG_TMP/out")"
	fi
}
start_fails "a missing config file" "cannot open config '$REG_TMP/nope.conf'" \
	-c "$REG_TMP/nope.conf" --listen "$REG_RUN/x.sock"
printf 'root = %s\nmap_size = lots\n' "$REG_STORE" >"$REG_TMP/bad1.conf"
start_fails "a bad value names file and line" "$REG_TMP/bad1.conf:2: map_size" \
	-c "$REG_TMP/bad1.conf" --listen "$REG_RUN/x.sock"
printf 'root = %s\ncolour = blue\n' "$REG_STORE" >"$REG_TMP/bad2.conf"
start_fails "an unknown key" "$REG_TMP/bad2.conf:2: unknown key 'colour'" \
	-c "$REG_TMP/bad2.conf" --listen "$REG_RUN/x.sock"
printf 'log_level = info\n' >"$REG_TMP/bad3.conf"
start_fails "no storage root" "$REG_TMP/bad3.conf: no 'root'" \
	-c "$REG_TMP/bad3.conf" --listen "$REG_RUN/x.sock"
: >"$REG_TMP/afile"
printf 'root = %s/afile/store\n' "$REG_TMP" >"$REG_TMP/bad4.conf"
start_fails "a storage root that cannot be a directory" \
	"$REG_TMP/bad4.conf: storage root '$REG_TMP/afile/store'" \
	-c "$REG_TMP/bad4.conf" --listen "$REG_RUN/x.sock"
if [ "$(id -u)" != 0 ]; then
	mkdir "$REG_TMP/ro" && chmod 555 "$REG_TMP/ro"
	printf 'root = %s/ro\n' "$REG_TMP" >"$REG_TMP/bad5.conf"
	start_fails "an unwritable storage root" "$REG_TMP/bad5.conf: storage root '$REG_TMP/ro' is not writable" \
		-c "$REG_TMP/bad5.conf" --listen "$REG_RUN/x.sock"
elif mkdir "$REG_TMP/ro" && mount -t tmpfs -o ro,size=1m berth-ro "$REG_TMP/ro" 2>/dev/null; then
	printf 'root = %s/ro\n' "$REG_TMP" >"$REG_TMP/bad5.conf"
	start_fails "an unwritable storage root" "$REG_TMP/bad5.conf: storage root '$REG_TMP/ro' is not writable" \
		-c "$REG_TMP/bad5.conf" --listen "$REG_RUN/x.sock"
	umount "$REG_TMP/ro"
fi
"$BERTH_BIN" -t -c "$REG_TMP/berth.conf" >"$REG_TMP/out" 2>&1
is "-t accepts a good config" "$? $(cat "$REG_TMP/out")" "0 berth-fcgi: config '$REG_TMP/berth.conf' is valid"
start_fails "-t refuses a bad one" "$REG_TMP/bad1.conf:2: map_size" -t -c "$REG_TMP/bad1.conf"
# -T: every key, the defaults too, as a config file that reads back the same
"$BERTH_BIN" -T -c "$REG_TMP/berth.conf" >"$REG_TMP/printed.conf" 2>"$REG_TMP/out"
is "-T prints the config" "$? $(cat "$REG_TMP/out")" "0 "
# shellcheck disable=SC2317 # called through check
printed() { # LINE...: each is a line of what -T printed
	for _l; do
		grep -qxF "$_l" "$REG_TMP/printed.conf" || return 1
	done
}
check "-T gives root, a default and a key the test set" \
	printed "root = $REG_STORE" "upload_ttl = 7d" "offload = $FRONT_OFFLOAD"
"$BERTH_BIN" -T -c "$REG_TMP/printed.conf" >"$REG_TMP/again.conf"
is "what -T prints reads back as the same configuration" \
	"$(tail -n +2 "$REG_TMP/again.conf")" "$(tail -n +2 "$REG_TMP/printed.conf")"
start_fails "-T refuses a bad one" "$REG_TMP/bad1.conf:2: map_size" -T -c "$REG_TMP/bad1.conf"
start_fails "fd 0 not a socket and no --listen" "not a FastCGI socket" \
	-c "$REG_TMP/berth.conf" </dev/null
done_testing
