# shellcheck shell=sh
# The end-to-end harness: sourced by every tests/e2e/tNNNN-*.sh.
#
# Each test gets a fresh directory $REG_TMP with the storage root, the
# configs and the logs, starts a real front server on 127.0.0.1 with a
# free port, and drives it with curl. Output is TAP ("ok N - what"); the
# exit status is what automake reads: 0 pass, 1 fail, 77 skip. When a
# test fails, the logs of berth and of the front server are printed.
#
# Environment: top_srcdir, top_builddir (set by make check), BERTH_WORKERS
# (berth processes behind the server, default 2), BERTH_E2E_BACKEND
# (spawn: lighttpd starts berth, the default; prefork: berth --listen with
# workers of its own, see start_prefork), KEEP_TMP=1 to keep $REG_TMP for
# a post-mortem.

set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
srcdir=${srcdir:-$top_srcdir/tests/e2e}
BERTH_BIN=$top_builddir/berth-fcgi
BERTH_WORKERS=${BERTH_WORKERS:-2}
PATH=$PATH:/usr/sbin:/sbin
export PATH

# lowercase, so that podman can name images after paths below it
REG_TMP=${TMPDIR:-/tmp}/berth-e2e.$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
mkdir -m 700 "$REG_TMP" || exit 99
REG_STORE=$REG_TMP/store
REG_RUN=$REG_TMP/run
mkdir -p "$REG_STORE" "$REG_RUN/empty"
tests_run=0
tests_failed=0
PIDS=
BASE=
STATUS=

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

cleanup() {
	_rc=$?
	stop_all
	if [ "$tests_failed" -gt 0 ] || { [ "$_rc" != 0 ] && [ "$_rc" != 77 ]; }; then
		show_logs
		_rc=1
	fi
	[ -n "${DOCKER_CERTS:-}" ] && rm -rf "$DOCKER_CERTS"
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

# wait_for URL: until berth answers it (2xx, or 401 when an access file
# wants a login), not the front server with 502 or 503 (up to 10 s)
wait_for() {
	_i=0
	while [ $_i -lt 100 ]; do
		case $(c -o /dev/null -w '%{http_code}' "$1") in
		2?? | 401) return 0 ;;
		esac
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

# berth_conf [LINE...]: write $REG_TMP/berth.conf for the store, with the
# front server's blob offload, plus LINEs ("key = value") that add to or
# override the defaults (berth refuses a key set twice: a LINE's key
# takes the place of the default's line)
berth_conf() {
	_keys=" "
	for _l; do
		_k=${_l%%=*}
		_keys="$_keys${_k%% *} "
	done
	{
		for _l in "root = $REG_STORE" "log_level = ${BERTH_LOG_LEVEL:-info}" \
			"offload = $FRONT_OFFLOAD"; do
			case $_keys in
			*" ${_l%% *} "*) ;;
			*) echo "$_l" ;;
			esac
		done
		for _l; do echo "$_l"; done
	} >"$REG_TMP/berth.conf"
}

# --- front servers ---
#
# FRONT is lighttpd, nginx or apache, FRONT_TLS 1 for https with a CA the
# test makes, FRONT_AUTH none, required (everything behind login, as user
# "tester") or optional (passwords checked when sent; berth's access file
# decides). A test in tests/e2e/<front>-tls/ (a link to the test in
# tests/e2e/) runs through <front> with TLS and auth required; the
# environment (BERTH_E2E_FRONT, ...) or the test itself may say otherwise.
case "$0" in
*/lighttpd-tls/*) FRONT=lighttpd FRONT_TLS=1 FRONT_AUTH=required ;;
*/nginx-tls/*) FRONT=nginx FRONT_TLS=1 FRONT_AUTH=required ;;
*/apache-tls/*) FRONT=apache FRONT_TLS=1 FRONT_AUTH=required ;;
esac
FRONT=${BERTH_E2E_FRONT:-${FRONT:-lighttpd}}
FRONT_TLS=${BERTH_E2E_TLS:-${FRONT_TLS:-0}}
FRONT_AUTH=${BERTH_E2E_AUTH:-${FRONT_AUTH:-none}}
case $FRONT in
nginx) FRONT_OFFLOAD=x-accel-redirect ;;
*) FRONT_OFFLOAD=x-sendfile ;;
esac
TESTER_PW=tester-secret

# make_certs: a CA and a certificate for 127.0.0.1 and localhost that it
# signed, in $REG_TMP/tls; the CA alone also in $REG_TMP/ca (a directory
# as skopeo's and podman's --cert-dir want)
make_certs() {
	[ -f "$REG_TMP/tls/server.crt" ] && return 0
	need openssl
	mkdir -p "$REG_TMP/tls" "$REG_TMP/ca"
	(
		cd "$REG_TMP/tls" || exit 1
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
			-keyout ca.key -out ca.crt -days 2 -subj /CN=berth-test-ca &&
			openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
				-keyout server.key -out server.csr -subj /CN=127.0.0.1 &&
			printf '%s\n' 'subjectAltName=IP:127.0.0.1,DNS:localhost' \
				'basicConstraints=CA:FALSE' \
				'keyUsage=digitalSignature,keyEncipherment' \
				'extendedKeyUsage=serverAuth' >ext.cnf &&
			openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key \
				-CAcreateserial -out server.crt -days 2 -extfile ext.cnf
	) >"$REG_TMP/openssl.out" 2>&1 || bail "cannot make certificates"
	cp "$REG_TMP/tls/ca.crt" "$REG_TMP/ca/ca.crt"
	chmod 644 "$REG_TMP"/tls/*
}

# The options that make curl, skopeo and podman talk to the front server
# as this test set it up: TLS with the test's CA or plain HTTP, and the
# tester's password when everything is behind login.
front_options() {
	CURL_OPTS=
	SK_OPTS="--tls-verify=false"
	SK_SRC="--src-tls-verify=false"
	SK_DEST="--dest-tls-verify=false"
	PD_OPTS="--tls-verify=false"
	if [ "$FRONT_TLS" = 1 ]; then
		CURL_OPTS="--cacert $REG_TMP/ca/ca.crt"
		SK_OPTS="--cert-dir $REG_TMP/ca"
		SK_SRC="--src-cert-dir $REG_TMP/ca"
		SK_DEST="--dest-cert-dir $REG_TMP/ca"
		PD_OPTS="--cert-dir $REG_TMP/ca"
	fi
	RAWHTTP_CAFILE=$REG_TMP/ca/ca.crt
	RAWHTTP_AUTH=
	if [ "$FRONT_AUTH" = required ]; then
		RAWHTTP_AUTH=tester:$TESTER_PW
		CURL_OPTS="$CURL_OPTS -u tester:$TESTER_PW"
		SK_OPTS="$SK_OPTS --creds tester:$TESTER_PW"
		SK_SRC="$SK_SRC --src-creds tester:$TESTER_PW"
		SK_DEST="$SK_DEST --dest-creds tester:$TESTER_PW"
		PD_OPTS="$PD_OPTS --creds tester:$TESTER_PW"
	fi
	export RAWHTTP_CAFILE RAWHTTP_AUTH
}
front_options

# anonymous_curl: c and req send no password (the test adds -u itself)
anonymous_curl() {
	CURL_OPTS=
	[ "$FRONT_TLS" = 1 ] && CURL_OPTS="--cacert $REG_TMP/ca/ca.crt"
	return 0
}

# c CURL-ARGS...: curl as the test's client (TLS, password), quiet
c() {
	# shellcheck disable=SC2086 # CURL_OPTS is a list of words
	curl -s $CURL_OPTS "$@"
}

# start_front [spawn | socket PATH]: FRONT in front of berth. "spawn" (the
# default): lighttpd starts $BERTH_WORKERS berth processes itself, nginx
# and Apache get a berth --listen with that many workers (start_prefork);
# "socket PATH": the test started berth on the unix socket PATH. Sets
# BASE and PORT.
# shellcheck disable=SC2120 # the mode is optional
start_front() {
	need curl python3
	front_options
	_mode=${1:-spawn}
	[ -f "$REG_TMP/berth.conf" ] || berth_conf
	[ "$FRONT_TLS" = 1 ] && make_certs
	[ "$FRONT_AUTH" != none ] && ! grep -q '^tester:' "$REG_TMP/htpasswd" 2>/dev/null &&
		add_user tester "$TESTER_PW"
	touch "$REG_TMP/htpasswd"
	if [ "$_mode" = spawn ] &&
		{ [ "$FRONT" != lighttpd ] || [ "${BERTH_E2E_BACKEND:-spawn}" = prefork ]; }; then
		start_prefork
		set -- socket "$REG_RUN/prefork.sock"
		_mode=socket
	fi
	PORT=$(free_port)
	if [ "$FRONT_TLS" = 1 ]; then
		BASE=https://127.0.0.1:$PORT
	else
		BASE=http://127.0.0.1:$PORT
	fi
	case $FRONT in
	lighttpd) start_lighttpd "$_mode" "${2:-}" ;;
	nginx) start_nginx "$2" ;;
	apache) start_apache "$2" ;;
	*) bail "unknown front server '$FRONT'" ;;
	esac
	wait_for "$BASE/v2/" || bail "$FRONT did not come up on $BASE"
}

stop_front() {
	kill "$FRONT_PID" 2>/dev/null
	wait "$FRONT_PID" 2>/dev/null
	[ -n "${PREFORK_PID:-}" ] && kill "$PREFORK_PID" 2>/dev/null
	PREFORK_PID=
	# lighttpd sends its berth processes SIGTERM; let them go
	_i=0
	while pgrep -f "berth-fcgi -c $REG_TMP/" >/dev/null && [ $_i -lt 50 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
}

# The servers: each runs the shipped files under conf/<server>, with only
# the site's values (port, paths, certificate) set by the test.

# lighttpd_conf MODE [SOCKET]: $REG_TMP/lighttpd.conf
lighttpd_conf() {
	{
		echo "var.berth_bind    = \"127.0.0.1\""
		echo "var.berth_port    = $PORT"
		echo "var.berth_state   = \"$REG_RUN\""
		echo "var.berth_root    = \"$REG_STORE\""
		echo "var.berth_bin     = \"$BERTH_BIN\""
		echo "var.berth_conf    = \"$REG_TMP/berth.conf\""
		echo "var.berth_workers = $BERTH_WORKERS"
		[ "$1" = socket ] && echo "var.berth_socket  = \"$2\""
		echo "var.berth_cert    = \"$REG_TMP/tls/server.crt\""
		echo "var.berth_key     = \"$REG_TMP/tls/server.key\""
		echo "var.berth_htpasswd = \"$REG_TMP/htpasswd\""
		echo "var.berth_realm   = \"berth\""
		echo "include \"$top_srcdir/conf/lighttpd/berth.conf\""
		[ "$FRONT_TLS" = 1 ] &&
			echo "include \"$top_srcdir/conf/lighttpd/tls.conf\""
		[ "$FRONT_AUTH" != none ] &&
			echo "include \"$top_srcdir/conf/lighttpd/auth-$FRONT_AUTH.conf\""
		echo "include \"$top_srcdir/conf/lighttpd/fastcgi-$1.conf\""
	} >"$REG_TMP/lighttpd.conf"
}

start_lighttpd() {
	need lighttpd
	lighttpd_conf "$@"
	lighttpd -D -f "$REG_TMP/lighttpd.conf" >>"$REG_RUN/lighttpd-stdout.log" 2>&1 &
	FRONT_PID=$!
	track $FRONT_PID
}

# nginx_site: conf/nginx/berth.conf with this test's values for the lines
# marked SITE, and the auth mode
nginx_site() {
	_realm='auth_basic "berth";'
	# shellcheck disable=SC2016 # an nginx variable, for nginx
	[ "$FRONT_AUTH" = optional ] && _realm='auth_basic $berth_auth;'
	[ "$FRONT_AUTH" = none ] && _realm='auth_basic off;'
	_listen="listen 127.0.0.1:$PORT"
	[ "$FRONT_TLS" = 1 ] && _listen="$_listen ssl"
	sed -e "s|^\( *\)listen 443 ssl; .*|\1$_listen;|" \
		-e '/listen \[::\]:443 ssl;/d' \
		-e "s|server_name registry.example.com;|server_name 127.0.0.1;|" \
		-e "s|/etc/berth/tls/|$REG_TMP/tls/|" \
		-e "s|/etc/berth/htpasswd|$REG_TMP/htpasswd|" \
		-e "s|unix:/run/berth/berth.sock|unix:$1|" \
		-e "s|/var/lib/berth/blobs/|$REG_STORE/blobs/|" \
		-e "s|include fastcgi_params;|include /etc/nginx/fastcgi_params;|" \
		-e "s|^\( *\)auth_basic \"berth\";|\1$_realm|" \
		"$top_srcdir/conf/nginx/berth.conf" |
		if [ "$FRONT_TLS" = 1 ]; then
			cat
		else
			# plain HTTP: the same site without its certificate
			sed -e '/ssl_certificate/d' -e '/ssl_protocols/d' \
				-e '/ssl_session_cache/d'
		fi
}

# nginx_conf SOCKET: $REG_TMP/nginx.conf, a main config for the test
# around the site
nginx_conf() {
	mkdir -p "$REG_RUN/nginx"
	nginx_site "$1" >"$REG_TMP/nginx-site.conf"
	cat >"$REG_TMP/nginx.conf" <<NGINX
daemon off;
master_process on;
worker_processes 2;
user root;
pid $REG_RUN/nginx.pid;
error_log $REG_RUN/nginx-error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $REG_RUN/nginx/body;
    fastcgi_temp_path $REG_RUN/nginx/fastcgi;
    proxy_temp_path $REG_RUN/nginx/proxy;
    scgi_temp_path $REG_RUN/nginx/scgi;
    uwsgi_temp_path $REG_RUN/nginx/uwsgi;
    include $REG_TMP/nginx-site.conf;
}
NGINX
}

start_nginx() {
	need nginx
	nginx_conf "$1"
	nginx -c "$REG_TMP/nginx.conf" >>"$REG_RUN/nginx-stdout.log" 2>&1 &
	FRONT_PID=$!
	track $FRONT_PID
}

# apache_modules: the LoadModule lines the shipped Apache config needs
apache_modules() {
	for _m in mpm_event authz_core authz_user authn_core authn_file \
		auth_basic headers proxy proxy_fcgi ssl socache_shmcb \
		xsendfile env; do
		echo "LoadModule ${_m}_module /usr/lib/apache2/modules/mod_$_m.so"
	done
}

start_apache() {
	need apache2
	if [ "$FRONT_TLS" != 1 ] || [ "$FRONT_AUTH" = none ]; then
		skip_all "conf/apache/berth.conf is for TLS with passwords"
	fi
	[ -f /usr/lib/apache2/modules/mod_xsendfile.so ] ||
		skip_all "mod_xsendfile is not installed"
	# Apache's workers run as www-data: let them reach the socket, the
	# blob files and the password file
	chmod 755 "$REG_TMP"
	chmod 666 "$1"
	apache_conf "$1"
	apache2 -f "$REG_TMP/apache.conf" -DFOREGROUND \
		>>"$REG_RUN/apache-stdout.log" 2>&1 &
	FRONT_PID=$!
	track $FRONT_PID
}

# apache_conf SOCKET: $REG_TMP/apache.conf, a main config for the test
# with the site's Defines, around conf/apache/berth.conf
apache_conf() {
	{
		echo "ServerRoot /etc/apache2"
		echo "DefaultRuntimeDir $REG_RUN"
		echo "PidFile $REG_RUN/apache.pid"
		echo "ErrorLog $REG_RUN/apache-error.log"
		echo "LogLevel warn"
		echo "User www-data"
		echo "Group www-data"
		echo "ServerName 127.0.0.1"
		apache_modules
		echo "Define BERTH_NAME     127.0.0.1"
		echo "Listen 127.0.0.1:$PORT"
		echo "Define BERTH_PORT     $PORT"
		echo "Define BERTH_CERT     $REG_TMP/tls/server.crt"
		echo "Define BERTH_KEY      $REG_TMP/tls/server.key"
		echo "Define BERTH_HTPASSWD $REG_TMP/htpasswd"
		echo "Define BERTH_REALM    berth"
		echo "Define BERTH_SOCKET   $1"
		echo "Define BERTH_BLOBS    $REG_STORE/blobs"
		[ "$FRONT_AUTH" = optional ] && echo "Define BERTH_AUTH_OPTIONAL"
		echo "Include $top_srcdir/conf/apache/berth.conf"
	} >"$REG_TMP/apache.conf"
}

# berth_pids: the berth processes of this test, one per line
berth_pids() {
	pgrep -f "berth-fcgi -c $REG_TMP/"
}

# worker_pids: the ones that serve requests (not a prefork supervisor)
worker_pids() {
	if [ -n "${PREFORK_PID:-}" ]; then
		pgrep -P "$PREFORK_PID"
	else
		berth_pids
	fi
}

# start_prefork: berth --listen on $REG_RUN/prefork.sock with
# $BERTH_WORKERS workers of its own, which take connections as they come,
# so that consecutive requests land on different workers (lighttpd's
# spawned processes get requests in a fixed order). start_front does this
# for nginx and Apache, and for lighttpd when BERTH_E2E_BACKEND=prefork.
start_prefork() {
	"$BERTH_BIN" -c "$REG_TMP/berth.conf" --listen "$REG_RUN/prefork.sock" \
		--workers "$BERTH_WORKERS" 2>>"$REG_RUN/berth.log" &
	PREFORK_PID=$!
	track $PREFORK_PID
	_i=0
	until [ -S "$REG_RUN/prefork.sock" ] && [ "$(pgrep -c -P $PREFORK_PID)" = "$BERTH_WORKERS" ]; do
		_i=$((_i + 1))
		[ $_i -lt 100 ] || bail "berth --listen did not start"
		sleep 0.1
	done
}

# --- container clients ---

# REG: the registry as clients name it (host:port of the front server)
reg() {
	echo "${BASE#*://}"
}

# mkimage KIND TAG [ARGS...]: an image in the OCI layout $REG_TMP/layout,
# made by tests/e2e/mkimage.py; prints its manifest (or index) digest
mkimage() {
	_k=$1
	shift
	python3 "$srcdir/mkimage.py" "$_k" "$REG_TMP/layout" "$@"
}

# podman with its own storage under $REG_TMP (vfs: no mounts needed)
pdm() {
	podman --root "$REG_TMP/podman/root" --runroot "$REG_TMP/podman/run" \
		--storage-driver vfs --cgroup-manager cgroupfs \
		--events-backend file "$@"
}

# start_dockerd: a dockerd of the test's own, on its own socket and data
# root, without networking of its own (it only pushes and pulls); sets
# DOCKER_HOST and DOCKER_CONFIG for docker. Call it after start_front.
start_dockerd() {
	need dockerd docker
	_d=$REG_TMP/docker
	mkdir -p "$_d"
	dockerd --storage-driver=vfs --iptables=false --ip-masq=false \
		--bridge=none --data-root "$_d/data" --exec-root "$_d/exec" \
		--pidfile "$_d/docker.pid" -H "unix://$_d/docker.sock" \
		>"$REG_TMP/dockerd.log" 2>&1 &
	track $!
	DOCKER_HOST=unix://$_d/docker.sock
	# the test's own logins, not the user's
	DOCKER_CONFIG=$_d/config
	export DOCKER_HOST DOCKER_CONFIG
	# dockerd trusts a registry's CA only from /etc/docker/certs.d
	if [ "$FRONT_TLS" = 1 ]; then
		DOCKER_CERTS=/etc/docker/certs.d/$(reg)
		if ! mkdir -p "$DOCKER_CERTS" ||
			! cp "$REG_TMP/ca/ca.crt" "$DOCKER_CERTS/"; then
			skip_all "cannot write $DOCKER_CERTS"
		fi
	fi
	_i=0
	until docker version >/dev/null 2>&1; do
		_i=$((_i + 1))
		[ $_i -lt 150 ] || bail "dockerd did not start (see dockerd.log)"
		sleep 0.2
	done
}

# add_user NAME PASSWORD: a user in $REG_TMP/htpasswd (apr1, which every
# front server reads)
add_user() {
	echo "$1:$(openssl passwd -apr1 "$2")" >>"$REG_TMP/htpasswd"
}

# --- HTTP ---

# req METHOD PATH [CURL-ARGS...]: one request to $BASE; the status goes to
# $STATUS, the head to $REG_TMP/head, the body to $REG_TMP/body. A body-less
# POST, PUT or PATCH gets "Content-Length: 0", as every registry client
# sends (lighttpd answers 411 without it).
req() {
	_m=$1
	_u=$2
	shift 2
	case "$_m" in
	HEAD) set -- -I "$@" ;;
	*) set -- -X "$_m" "$@" ;;
	esac
	case "$_m" in
	POST | PUT | PATCH)
		case " $* " in
		*" --data-binary "* | *" -T "* | *" --upload-file "*) ;;
		*) set -- "$@" -H "Content-Length: 0" ;;
		esac
		;;
	esac
	STATUS=$(c -o "$REG_TMP/body" -D "$REG_TMP/head" \
		-w '%{http_code}' "$@" "$BASE$_u")
}

# hdr NAME: the value of response header NAME of the last req
hdr() {
	tr -d '\r' <"$REG_TMP/head" |
		awk -v n="$1" 'BEGIN { n = tolower(n) ":" }
			tolower(substr($0, 1, length(n))) == n {
				sub(/^[^:]*:[ \t]*/, ""); v = $0 }
			END { print v }'
}

body() {
	cat "$REG_TMP/body"
}

# expect_status DESCRIPTION CODE
expect_status() {
	is "$1 (status)" "$STATUS" "$2"
}

# expect_header DESCRIPTION NAME VALUE
expect_header() {
	is "$1 ($2)" "$(hdr "$2")" "$3"
}

# expect_error DESCRIPTION STATUS CODE: the spec's JSON error body
expect_error() {
	_want="$2 application/json $3"
	_code=$(python3 -c '
import json, sys
try:
    print(json.load(open(sys.argv[1]))["errors"][0]["code"])
except Exception as e:
    print("no JSON error body:", e)' "$REG_TMP/body")
	_got="$STATUS $(hdr Content-Type) $_code"
	is "$1" "$_got" "$_want"
}

# --- content ---

# mkblob FILE SIZE: SIZE bytes of random data
mkblob() {
	head -c "$2" /dev/urandom >"$1"
}

# sha256 FILE: "sha256:<hex>"
sha256() {
	echo "sha256:$(sha256sum "$1" | cut -d' ' -f1)"
}

sha512() {
	echo "sha512:$(sha512sum "$1" | cut -d' ' -f1)"
}

# push_blob REPO FILE [CURL-ARGS...]: monolithic upload (end-4b); sets
# $STATUS
push_blob() {
	_r=$1
	_f=$2
	shift 2
	req POST "/v2/$_r/blobs/uploads/?digest=$(sha256 "$_f")" \
		-H 'Content-Type: application/octet-stream' --data-binary "@$_f" "$@"
}

# oci ARGS...: tests/e2e/oci.py (manifests from files)
oci() {
	python3 "$srcdir/oci.py" "$@"
}

# put_manifest REPO REF FILE [CONTENT-TYPE]: PUT the file as a manifest
# (end-7); the Content-Type defaults to the file's mediaType
put_manifest() {
	_ct=${4:-$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1])).get("mediaType", ""))' "$3")}
	req PUT "/v2/$1/manifests/$2" -H "Content-Type: $_ct" --data-binary "@$3"
}

# store_files_intact: every blob file in the store hashes to its name
store_files_intact() {
	find "$REG_STORE/blobs" -type f | while read -r _f; do
		_alg=$(basename "$(dirname "$(dirname "$_f")")")
		_sum=$("${_alg}sum" "$_f" | cut -d' ' -f1)
		[ "$_sum" = "$(basename "$_f")" ] || {
			echo "# corrupt blob file $_f"
			return 1
		}
	done
}
