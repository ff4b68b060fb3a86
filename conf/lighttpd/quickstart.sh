#!/bin/sh
# Start berth behind lighttpd on 127.0.0.1:5000 (or $BERTH_PORT), with
# everything in ./data (or $BERTH_DATA), in the foreground: Ctrl-C stops it.
# berth runs its own $BERTH_WORKERS workers (4) on a unix socket and
# lighttpd connects to it (fastcgi-socket.conf), the way that loses least
# when a worker dies (README, "Running it").
# Run it from a built source tree (after make), or installed (make install,
# or the Debian package: under the examples of /usr/share/doc/berth).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
port=${BERTH_PORT:-5000}
data=${BERTH_DATA:-$PWD/data}
workers=${BERTH_WORKERS:-4}
bin=${BERTH_BIN:-}
# make install writes its sbindir here; in the source tree it stays as is
sbindir='@sbindir@'
if [ -z "$bin" ]; then
	if [ -x "$top/berth-fcgi" ]; then
		bin=$top/berth-fcgi
	elif [ -x "$sbindir/berth-fcgi" ]; then
		bin=$sbindir/berth-fcgi
	else
		bin=$(command -v berth-fcgi || true)
	fi
fi
[ -n "$bin" ] && [ -x "$bin" ] || {
	echo "quickstart: berth-fcgi not found: run make first" >&2
	exit 1
}
lighttpd=$(command -v lighttpd || echo /usr/sbin/lighttpd)
# lighttpd's own error answers as OCI JSON (conf/errors): the source
# tree's, or the installed ones (make install writes where)
errors=$here/../errors
[ -f "$errors/401.json" ] || errors='@pkgdatadir@/errors'
errors=$(cd "$errors" && pwd)
# the web catalog's page (ui/), the same way
ui=$here/../../ui
[ -f "$ui/index.html" ] || ui='@pkgdatadir@/ui'
ui=$(cd "$ui" && pwd)
mkdir -p "$data/store" "$data/run/empty"
data=$(cd "$data" && pwd)
run=$data/run
sock=$run/berth.sock
if [ -f "$run/quickstart.pid" ] && kill -0 "$(cat "$run/quickstart.pid")" 2>/dev/null; then
	echo "quickstart: already running with $data (pid $(cat "$run/quickstart.pid"))" >&2
	exit 1
fi

cat >"$data/berth.conf" <<CONF
root = $data/store
log_level = info
offload = x-sendfile
CONF
cat >"$data/lighttpd.conf" <<CONF
var.berth_bind  = "127.0.0.1"
var.berth_port  = $port
var.berth_state = "$run"
var.berth_root  = "$data/store"
var.berth_socket = "$sock"
var.berth_manifest_max = 8192
var.berth_chunked_max  = 8388608
var.berth_errors = "$errors"
var.berth_ui     = "$ui"
include "$here/berth.conf"
include "$here/ui.conf"
include "$here/fastcgi-socket.conf"
CONF

# Stop both servers whatever ends the script: Ctrl-C, kill, or one of them
# exiting. Started in the background by a script, they ignore Ctrl-C
# themselves; berth finishes the requests in flight on SIGTERM.
pids=
# shellcheck disable=SC2317 # called from the traps
stop() {
	trap - EXIT INT TERM HUP
	for p in $pids; do
		kill "$p" 2>/dev/null || :
	done
	wait || :
	rm -f "$run/quickstart.pid"
	echo "berth: stopped"
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP
echo $$ >"$run/quickstart.pid"

"$bin" -c "$data/berth.conf" --listen "$sock" --workers "$workers" \
	2>>"$run/berth.log" &
berth=$!
pids=$berth
i=0
until [ -S "$sock" ]; do
	if ! kill -0 "$berth" 2>/dev/null || [ $i -ge 100 ]; then
		echo "quickstart: berth did not start; see $run/berth.log:" >&2
		tail -n 5 "$run/berth.log" >&2
		exit 1
	fi
	sleep 0.1
	i=$((i + 1))
done
"$lighttpd" -D -f "$data/lighttpd.conf" &
front=$!
pids="$pids $front"
echo "berth: http://127.0.0.1:$port/v2/, its web catalog at http://127.0.0.1:$port/ui/, with data in $data (Ctrl-C stops)"
echo "berth: logs in $run/berth.log and $run/lighttpd-error.log"
while kill -0 "$berth" 2>/dev/null && kill -0 "$front" 2>/dev/null; do
	sleep 1
done
echo "quickstart: berth or lighttpd exited; see $run/berth.log and $run/lighttpd-error.log" >&2
exit 1
