#!/bin/sh
# SIGHUP to berth's prefork master reloads without a restart: it reads
# berth.conf and the access file again and replaces its workers one by
# one, while clients keep pulling (not one request fails); the master
# keeps its pid, the workers are new, a request in flight on an old
# worker finishes, and the new keys are in force (delete = off,
# log_level = debug). A configuration or an access file that does not
# read is logged, and berth serves on as it was. SIGTERM still stops it.
# shellcheck source=tests/e2e/lib.sh
. "${srcdir:-$(dirname "$0")}/lib.sh"
# shellcheck source=tests/e2e/lib-front.sh
. "$srcdir/lib-front.sh"
# shellcheck source=tests/e2e/lib-http.sh
. "$srcdir/lib-http.sh"
T=$REG_TMP
BERTH_E2E_BACKEND=prefork
berth_conf
start_front
MASTER=$PREFORK_PID
mkblob "$T/blob" 100000
D=$(sha256 "$T/blob")
push_blob r/x "$T/blob"
[ "$STATUS" = 201 ] || bail "cannot push the blob: $STATUS"

# pull_loop FILE: pull the blob until $T/stop exists, a status a line
pull_loop() {
	while [ ! -e "$T/stop" ]; do
		c -o /dev/null -w '%{http_code}\n' "$BASE/v2/r/x/blobs/$D"
	done >"$1"
}
pull_loop "$T/pulls1" &
L1=$!
pull_loop "$T/pulls2" &
L2=$!
track "$L1 $L2"
# workers: the master's children, sorted, on one line
workers() {
	pgrep -P "$MASTER" | sort -n | tr '\n' ' '
}
# shellcheck disable=SC2317 # called through check
none_of_old() { # PID...: none of them is in $OLD
	for _p; do
		case " $OLD " in *" $_p "*) return 1 ;; esac
	done
}
# wait_workers: until the master has $BERTH_WORKERS children, none of
# them in $OLD (10 s)
wait_workers() {
	_i=0
	# shellcheck disable=SC2046
	until [ "$(pgrep -c -P "$MASTER")" = "$BERTH_WORKERS" ] &&
		none_of_old $(workers); do
		[ $_i -lt 100 ] || return 0
		sleep 0.1
		_i=$((_i + 1))
	done
}
mark() {
	MARK=$(wc -l <"$REG_RUN/berth.log")
}
# shellcheck disable=SC2317 # called through check
# log_has PATTERN: a line of berth's log since mark matches
log_has() {
	tail -n +"$((MARK + 1))" "$REG_RUN/berth.log" | grep -q -- "$1"
}
OLD=$(workers)

# a slow chunk on its way to an old worker
req POST /v2/r/y/blobs/uploads/
LOC=$(hdr Location)
mkblob "$T/slow" 600000
c -o /dev/null -w '%{http_code}' -X PATCH --limit-rate 300K \
	--data-binary "@$T/slow" "$BASE$LOC" >"$T/slow.status" &
slow=$!
sleep 0.5

mark
berth_conf "delete = off" "log_level = debug"
kill -HUP "$MASTER"
wait $slow
is "the request in flight on an old worker finished" "$(cat "$T/slow.status")" 202
wait_workers
NEW=$(workers)
check "the master is still there" kill -0 "$MASTER"
is "with $BERTH_WORKERS workers" "$(echo "$NEW" | wc -w | tr -d ' ')" "$BERTH_WORKERS"
# shellcheck disable=SC2086
check "all of them new ($OLD-> $NEW)" none_of_old $NEW
check "the master said so" log_has "serving with the configuration of '$T/berth.conf' in $BERTH_WORKERS new workers"
req DELETE "/v2/r/x/blobs/$D"
expect_error "delete = off is in force" 405 UNSUPPORTED
sleep 0.3
first=$(echo "$NEW" | cut -d' ' -f1)
check "log_level = debug is in force" log_has "berth\\[$first\\]: debug"
req GET "/v2/r/y/blobs/uploads/${LOC##*/}"
expect_header "the chunk written during the reload is kept" Range 0-599999

# a configuration that does not read
mark
printf 'root = %s\nmap_size = lots\n' "$REG_STORE" >"$T/berth.conf"
kill -HUP "$MASTER"
sleep 0.5
check "a bad configuration is logged" \
	log_has "error .*$T/berth.conf:2: map_size.*serving on with the configuration in force"
is "and the workers serve on" "$(workers)" "$NEW"
req DELETE "/v2/r/x/blobs/$D"
expect_error "with the configuration in force" 405 UNSUPPORTED

# an access file that does not read
mark
printf 'alice  fly  *\n' >"$T/access.conf"
berth_conf "delete = off" "log_level = debug" "access = $T/access.conf"
kill -HUP "$MASTER"
sleep 0.5
check "a bad access file is logged" \
	log_has "error .*$T/access.conf:1: .*serving on with the configuration in force"
is "and the workers serve on" "$(workers)" "$NEW"
req GET "/v2/r/x/blobs/$D"
expect_status "without access rules, as before" 200

touch "$T/stop"
wait "$L1" "$L2"
n=$(cat "$T/pulls1" "$T/pulls2" | wc -l | tr -d ' ')
bad=$(cat "$T/pulls1" "$T/pulls2" | grep -vc '^200$')
is "not one of $n pulls during the reloads failed" "$bad" 0
check "and there were some" test "$n" -ge 20

kill -TERM "$MASTER"
i=0
while kill -0 "$MASTER" 2>/dev/null && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
check "SIGTERM still stops berth" sh -c "! kill -0 $MASTER 2>/dev/null"
is "and every worker" "$(berth_pids | wc -l | tr -d ' ')" 0
done_testing
