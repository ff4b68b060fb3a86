#!/bin/sh
# A configuration that does not read when lighttpd (re)starts berth: berth
# starts anyway, says so once in the log, and answers every request 503
# UNAVAILABLE with the error in the message, instead of exiting and being
# respawned twice a second while clients get the web server's 500s. When
# the file is fixed, berth starts again by itself and serves.
# shellcheck source=tests/e2e/lib.sh
. "${srcdir:-$(dirname "$0")}/lib.sh"
# shellcheck source=tests/e2e/lib-front.sh
. "$srcdir/lib-front.sh"
# shellcheck source=tests/e2e/lib-http.sh
. "$srcdir/lib-http.sh"
T=$REG_TMP
[ "$FRONT" = lighttpd ] || skip_all "lighttpd spawns berth; the others do not"
# lighttpd spawns berth here, whatever backend the run prefers
BERTH_E2E_BACKEND=spawn
berth_conf
start_front
req GET /v2/
expect_status "berth serves" 200

# status_within SECONDS CODE: GET /v2/ answers CODE within that long
# shellcheck disable=SC2317 # called through check
status_within() {
	_i=0
	while [ "$_i" -lt $(($1 * 10)) ]; do
		req GET /v2/
		[ "$STATUS" = "$2" ] && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

# a typo, then the workers die (as a restart of the web server would do)
cp "$T/berth.conf" "$T/good.conf"
echo "no_such_key = 1" >>"$T/berth.conf"
# shellcheck disable=SC2046 # a list of pids
kill -9 $(berth_pids)
check "lighttpd starts berth again, which answers 503" status_within 10 503
expect_error "and says why" 503 UNAVAILABLE
check "naming the key and the line" grep -q "unknown key 'no_such_key'" "$REG_TMP/body"
req HEAD "/v2/x/blobs/sha256:$(printf '%064d' 0)"
expect_status "every request, HEAD too" 503
PIDS=$(berth_pids | sort | tr '\n' ' ')
sleep 2
req GET /v2/_catalog
expect_status "two seconds on, still 503" 503
is "and the same processes: no respawn loop" "$(berth_pids | sort | tr '\n' ' ')" "$PIDS"
is "the log says it once per process" \
	"$(cat "$REG_RUN"/*.log | grep -c "every request gets 503")" \
	"$(echo "$PIDS" | wc -w)"

# fixed: each process starts again by itself
cp "$T/good.conf" "$T/berth.conf"
check "fixed, berth serves again within a few seconds" status_within 10 200
mkblob "$T/blob" 5000
push_blob r/x "$T/blob"
expect_status "a push goes in" 201
is "in the same processes, started again" "$(berth_pids | sort | tr '\n' ' ')" "$PIDS"

done_testing
