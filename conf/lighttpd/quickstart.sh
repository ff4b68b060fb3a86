#!/bin/sh
# Start berth behind lighttpd on 127.0.0.1:5000 (or $BERTH_PORT), with
# everything in ./data (or $BERTH_DATA), in the foreground: Ctrl-C stops it.
# Run it from a built source tree (after make) or an installed one.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
port=${BERTH_PORT:-5000}
data=${BERTH_DATA:-$PWD/data}
bin=${BERTH_BIN:-}
if [ -z "$bin" ]; then
	if [ -x "$top/berth-fcgi" ]; then
		bin=$top/berth-fcgi
	else
		bin=$(command -v berth-fcgi || true)
	fi
fi
[ -n "$bin" ] && [ -x "$bin" ] || {
	echo "quickstart: berth-fcgi not found: run make first" >&2
	exit 1
}
lighttpd=$(command -v lighttpd || echo /usr/sbin/lighttpd)
mkdir -p "$data/store" "$data/run/empty"
data=$(cd "$data" && pwd)

cat >"$data/berth.conf" <<CONF
root = $data/store
log_level = info
offload = x-sendfile
CONF
cat >"$data/lighttpd.conf" <<CONF
var.berth_bind  = "127.0.0.1"
var.berth_port  = $port
var.berth_state = "$data/run"
var.berth_root  = "$data/store"
var.berth_bin   = "$bin"
var.berth_conf  = "$data/berth.conf"
var.berth_workers = ${BERTH_WORKERS:-4}
include "$here/berth.conf"
include "$here/fastcgi-spawn.conf"
CONF
echo "berth: http://127.0.0.1:$port/v2/ with data in $data (Ctrl-C stops)"
echo "berth: logs in $data/run/berth.log and $data/run/lighttpd-error.log"
exec "$lighttpd" -D -f "$data/lighttpd.conf"
