# shellcheck shell=sh
# The end-to-end harness's core: sourced first by every tests/e2e/tNNNN-*.sh
# (and by bench/). It holds the TAP output, the test's temporary directory
# and its cleanup, the processes the test starts, and berth's config.
#
# Each test gets a fresh directory $REG_TMP with the storage root, the
# configs and the logs. Output is TAP ("ok N - what"); the exit status is
# what automake reads: 0 pass, 1 fail, 77 skip. When a test fails, the
# logs of berth and of the servers it started are printed.
#
# A test then sources what it uses, after this file:
#   lib-front.sh    a front server in front of berth, and curl as its client
#   lib-http.sh     requests to the registry, blobs and manifests
#   lib-clients.sh  skopeo, podman and docker (needs lib-front.sh)
#
# Needs python3 (free_port) and pgrep. Environment: top_srcdir,
# top_builddir, srcdir (set by make check), BERTH_WORKERS (berth processes
# behind the server, default 2), KEEP_TMP=1 to keep $REG_TMP for a
# post-mortem.

set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
srcdir=${srcdir:-$top_srcdir/tests/e2e}
# shellcheck disable=SC2034 # the tests and lib-front.sh start it
BERTH_BIN=$top_builddir/berth-fcgi
BERTH_WORKERS=${BERTH_WORKERS:-2}
PATH=$PATH:/usr/sbin:/sbin
export PATH

# lowercase, so that podman can name images after paths below it
REG_TMP=${TMPDIR:-/tmp}/berth-e2e.$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
mkdir -m 700 "$REG_TMP" || exit 99
# the test's directory, when a test points REG_TMP below it for a second
# registry
# shellcheck disable=SC2034 # lib-front.sh reads it
REG_TOP=$REG_TMP
REG_STORE=$REG_TMP/store
REG_RUN=$REG_TMP/run
mkdir -p "$REG_STORE" "$REG_RUN/empty"
tests_run=0
tests_failed=0
PIDS=
AT_EXIT=

# --- TAP ---

ok() {
	tests_run=$((tests_run + 1))
	echo "ok $tests_run - $*"
}

not_ok() {
	tests_run=$((tests_run + 1))
	tests_failed=$((tests_failed + 1))
	echo "not ok $tests_run - $*"
}

# check DESCRIPTION COMMAND...: one test point from a command's status
check() {
	_d=$1
	shift
	if "$@"; then ok "$_d"; else not_ok "$_d"; fi
}

# is DESCRIPTION GOT WANT
is() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		not_ok "$1"
		echo "#   got:  '$2'"
		echo "#   want: '$3'"
	fi
}

skip_all() {
	echo "1..0 # SKIP $*"
	exit 77
}

# need PROGRAM...: skip the whole test if one is missing
need() {
	for _p; do
		command -v "$_p" >/dev/null 2>&1 || skip_all "$_p is not installed"
	done
}

bail() {
	echo "Bail out! $*"
	tests_failed=$((tests_failed + 1))
	exit 1
}

show_logs() {
	for _f in "$REG_RUN"/*.log "$REG_TMP"/*.log "$REG_TMP"/*.out; do
		[ -s "$_f" ] || continue
		echo "# ----- $_f (last 60 lines)"
		tail -n 60 "$_f" | sed 's/^/# /'
	done
}

# at_exit COMMAND: run COMMAND (one line of sh) when the test ends, after
# the processes are stopped and before $REG_TMP goes; for what a test
# leaves outside $REG_TMP
at_exit() {
	AT_EXIT="$AT_EXIT$1
"
}

cleanup() {
	_rc=$?
	stop_all
	if [ "$tests_failed" -gt 0 ] || { [ "$_rc" != 0 ] && [ "$_rc" != 77 ]; }; then
		show_logs
		_rc=1
	fi
	eval "$AT_EXIT"
	if [ "${KEEP_TMP:-0}" = 1 ]; then
		echo "# kept $REG_TMP"
	else
		umount "$REG_STORE" 2>/dev/null
		rm -rf "$REG_TMP"
	fi
	exit "$_rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# sanitizer_clean: berth's log has no ASan/UBSan/LSan report
sanitizer_clean() {
	! grep -l -E 'Sanitizer|runtime error:' "$REG_RUN"/*.log 2>/dev/null
}

done_testing() {
	stop_all # so that LeakSanitizer reports at exit land in the log
	check "no sanitizer reports from berth" sanitizer_clean
	echo "1..$tests_run"
	[ "$tests_failed" = 0 ] || exit 1
	exit 0
}

# --- processes ---

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# remember PID to be stopped at the end
# wait_file FILE WHAT: until FILE exists (a helper's port file), up to
# 10 s; else bail, saying WHAT did not start
wait_file() {
	_w=0
	until [ -f "$1" ]; do
		[ $_w -lt 100 ] || bail "$2 did not start"
		sleep 0.1
		_w=$((_w + 1))
	done
}

track() {
	PIDS="$PIDS $1"
}

stop_all() {
	for _p in $PIDS; do
		kill "$_p" 2>/dev/null
	done
	for _p in $PIDS; do
		_i=0
		while kill -0 "$_p" 2>/dev/null && [ $_i -lt 50 ]; do
			sleep 0.1
			_i=$((_i + 1))
		done
		kill -9 "$_p" 2>/dev/null
	done
	PIDS=
	# berth processes lighttpd spawned, should any have outlived it
	pkill -f "berth-fcgi -c $REG_TMP/" 2>/dev/null
	return 0
}

# berth_pids: the berth processes of this test, one per line
berth_pids() {
	pgrep -f "berth-fcgi -c $REG_TMP/"
}

# --- berth ---

# berth_conf [LINE...]: write $REG_TMP/berth.conf for the store, with the
# front server's blob offload (lib-front.sh; none without a front server),
# plus LINEs ("key = value") that add to or override the defaults (berth
# refuses a key set twice: a LINE's key takes the place of the default's
# line)
berth_conf() {
	_keys=" "
	for _l; do
		_k=${_l%%=*}
		_keys="$_keys${_k%% *} "
	done
	{
		for _l in "root = $REG_STORE" "log_level = ${BERTH_LOG_LEVEL:-info}" \
			"offload = ${FRONT_OFFLOAD:-none}"; do
			case $_keys in
			*" ${_l%% *} "*) ;;
			*) echo "$_l" ;;
			esac
		done
		for _l; do echo "$_l"; done
	} >"$REG_TMP/berth.conf"
}
