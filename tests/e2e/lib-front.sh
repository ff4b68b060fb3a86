# shellcheck shell=sh disable=SC2154 # srcdir, top_srcdir: lib.sh sets them
# The front servers of the end-to-end harness: lighttpd, nginx or Apache
# on 127.0.0.1 in front of berth, each running the shipped files under
# conf/<server> with only the site's values (port, paths, certificate)
# set by the test; their certificates and password file; berth --listen
# with workers of its own for the servers that do not spawn it; and curl
# as the test's client of the server (c, wait_for).
#
# Needs tests/e2e/lib.sh, sourced before (REG_TMP, track, need, bail,
# berth_conf), and curl, python3, openssl (for TLS and passwords) and the
# server. Environment: BERTH_E2E_FRONT, BERTH_E2E_TLS, BERTH_E2E_AUTH (see
# below), BERTH_E2E_BACKEND (spawn: lighttpd starts berth, the default;
# prefork: berth --listen with workers of its own, see start_prefork).
: "${REG_TMP:?tests/e2e/lib.sh must be sourced before lib-front.sh}"

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
# shellcheck disable=SC2034 # berth_conf (lib.sh) and the tests read it
case $FRONT in
nginx) FRONT_OFFLOAD=x-accel-redirect ;;
*) FRONT_OFFLOAD=x-sendfile ;;
esac
TESTER_PW=tester-secret
BASE=

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

# add_user NAME PASSWORD: a user in $REG_TMP/htpasswd (apr1, which every
# front server reads)
add_user() {
	echo "$1:$(openssl passwd -apr1 "$2")" >>"$REG_TMP/htpasswd"
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

# --- the servers ---

# lighttpd_conf MODE [SOCKET]: $REG_TMP/lighttpd.conf; LIGHTTPD_MANIFEST_MAX
# and LIGHTTPD_CHUNKED_MAX (KiB) set its body limits (4 MiB and 8 GiB)
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
		echo "var.berth_manifest_max = ${LIGHTTPD_MANIFEST_MAX:-8192}"
		echo "var.berth_chunked_max = ${LIGHTTPD_CHUNKED_MAX:-8388608}"
		echo "var.berth_errors  = \"$top_srcdir/conf/errors\""
		echo "var.berth_ui      = \"$top_srcdir/ui\""
		echo "var.berth_cert    = \"$REG_TMP/tls/server.crt\""
		echo "var.berth_key     = \"$REG_TMP/tls/server.key\""
		echo "var.berth_htpasswd = \"$REG_TMP/htpasswd\""
		echo "var.berth_realm   = \"berth\""
		echo "include \"$top_srcdir/conf/lighttpd/berth.conf\""
		echo "include \"$top_srcdir/conf/lighttpd/ui.conf\""
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
		-e "s|/usr/share/berth/errors/|$top_srcdir/conf/errors/|" \
		-e "s|/usr/share/berth/ui/|$top_srcdir/ui/|" \
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
# around the site. NGINX_WORKER_PROCESSES, NGINX_WORKER_CONNECTIONS and
# NGINX_ERROR_LOG_LEVEL set its main context (2, 1024 and warn unless
# set); NGINX_INCLUDE is a list of files that http{} includes after the
# site: settings for every server, more servers and upstreams (bench/
# puts the reference registry beside berth this way).
nginx_conf() {
	mkdir -p "$REG_RUN/nginx"
	nginx_site "$1" >"$REG_TMP/nginx-site.conf"
	{
		cat <<NGINX
daemon off;
master_process on;
worker_processes ${NGINX_WORKER_PROCESSES:-2};
user root;
pid $REG_RUN/nginx.pid;
error_log $REG_RUN/nginx-error.log ${NGINX_ERROR_LOG_LEVEL:-warn};
events { worker_connections ${NGINX_WORKER_CONNECTIONS:-1024}; }
http {
    access_log off;
    client_body_temp_path $REG_RUN/nginx/body;
    fastcgi_temp_path $REG_RUN/nginx/fastcgi;
    proxy_temp_path $REG_RUN/nginx/proxy;
    scgi_temp_path $REG_RUN/nginx/scgi;
    uwsgi_temp_path $REG_RUN/nginx/uwsgi;
    include $REG_TMP/nginx-site.conf;
NGINX
		for _f in ${NGINX_INCLUDE:-}; do
			echo "    include $_f;"
		done
		echo "}"
	} >"$REG_TMP/nginx.conf"
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
		xsendfile env reqtimeout alias mime; do
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
	# blob files and the password file (also of a second registry's
	# front server, below the test's directory)
	chmod 755 "$REG_TOP" "$REG_TMP"
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
		# what Debian's mods-enabled/mime.conf says
		echo "TypesConfig /etc/mime.types"
		echo "Define BERTH_NAME     127.0.0.1"
		echo "Listen 127.0.0.1:$PORT"
		echo "Define BERTH_PORT     $PORT"
		echo "Define BERTH_CERT     $REG_TMP/tls/server.crt"
		echo "Define BERTH_KEY      $REG_TMP/tls/server.key"
		echo "Define BERTH_HTPASSWD $REG_TMP/htpasswd"
		echo "Define BERTH_REALM    berth"
		echo "Define BERTH_SOCKET   $1"
		echo "Define BERTH_BLOBS    $REG_STORE/blobs"
		echo "Define BERTH_ERRORS   $top_srcdir/conf/errors"
		echo "Define BERTH_UI       $top_srcdir/ui"
		[ "$FRONT_AUTH" = optional ] && echo "Define BERTH_AUTH_OPTIONAL"
		echo "Include $top_srcdir/conf/apache/berth.conf"
	} >"$REG_TMP/apache.conf"
}

# --- berth behind nginx and Apache ---

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

# worker_pids: the berth processes that serve requests (not a prefork
# supervisor), one per line
worker_pids() {
	if [ -n "${PREFORK_PID:-}" ]; then
		pgrep -P "$PREFORK_PID"
	else
		berth_pids
	fi
}

# --- the reference registry ---

# start_reference DIR: Debian's docker-registry (the reference registry)
# on 127.0.0.1:$REGPORT, a free port, with its configuration in DIR and
# its filesystem storage in DIR/data, deletes allowed; REF_PID is its pid.
# Returns when it answers.
start_reference() {
	need docker-registry
	REGPORT=$(free_port)
	mkdir -p "$1"
	cat >"$1/config.yml" <<REF
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $1/data
  delete:
    enabled: true
  cache:
    blobdescriptor: inmemory
http:
  addr: 127.0.0.1:$REGPORT
REF
	docker-registry serve "$1/config.yml" >>"$REG_RUN/reference.log" 2>&1 &
	REF_PID=$!
	track $REF_PID
	_i=0
	until curl -s -o /dev/null "http://127.0.0.1:$REGPORT/v2/"; do
		[ $_i -lt 100 ] || bail "the reference registry did not come up"
		sleep 0.1
		_i=$((_i + 1))
	done
}
