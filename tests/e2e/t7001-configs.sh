#!/bin/sh
# Every configuration under conf/ is valid for its program, with the
# test's paths: lighttpd -tt, nginx -t, apache2 -t for each mode they
# offer (TLS or not, each auth mode, berth spawned or on a socket), the
# systemd units (systemd-analyze verify), berth's own examples
# (berth-fcgi -t), and the quick start of the README, which must come up.
# shellcheck source=tests/e2e/lib.sh
. "${srcdir:-$(dirname "$0")}/lib.sh"
# shellcheck source=tests/e2e/lib-front.sh
. "$srcdir/lib-front.sh"
# shellcheck source=tests/e2e/lib-http.sh
. "$srcdir/lib-http.sh"
need openssl
make_certs
add_user tester "$TESTER_PW"
berth_conf
PORT=$(free_port)
SOCK=$REG_RUN/berth.sock
: >"$SOCK"

# valid WHAT COMMAND...: the command accepts the config
valid() {
	_w=$1
	shift
	if "$@" >"$REG_TMP/check.out" 2>&1; then
		ok "$_w"
	else
		not_ok "$_w"
		sed 's/^/#   /' "$REG_TMP/check.out"
	fi
}

if command -v lighttpd >/dev/null 2>&1; then
	for FRONT_TLS in 0 1; do
		for FRONT_AUTH in none optional required; do
			for mode in spawn socket; do
				lighttpd_conf "$mode" "$SOCK"
				valid "lighttpd: tls=$FRONT_TLS auth=$FRONT_AUTH $mode" \
					lighttpd -tt -f "$REG_TMP/lighttpd.conf"
			done
		done
	done
else
	echo "# lighttpd is not installed"
fi

if command -v nginx >/dev/null 2>&1; then
	for FRONT_TLS in 0 1; do
		for FRONT_AUTH in none optional required; do
			nginx_conf "$SOCK"
			valid "nginx: tls=$FRONT_TLS auth=$FRONT_AUTH" \
				nginx -t -c "$REG_TMP/nginx.conf"
		done
	done
	# the shipped file as it is, only its certificate paths made real
	sed -e "s|/etc/berth/tls/|$REG_TMP/tls/|" -e "s|include fastcgi_params;|include /etc/nginx/fastcgi_params;|" \
		"$top_srcdir/conf/nginx/berth.conf" >"$REG_TMP/nginx-site.conf"
	valid "nginx: conf/nginx/berth.conf unchanged but for the certificate" \
		nginx -t -c "$REG_TMP/nginx.conf"
else
	echo "# nginx is not installed"
fi

if command -v apache2 >/dev/null 2>&1 && [ -f /usr/lib/apache2/modules/mod_xsendfile.so ]; then
	FRONT_TLS=1
	for FRONT_AUTH in optional required; do
		apache_conf "$SOCK"
		valid "apache: auth=$FRONT_AUTH" apache2 -t -f "$REG_TMP/apache.conf"
	done
	# berth-site.conf as shipped, with the certificate made real
	{
		echo "ServerRoot /etc/apache2"
		echo "DefaultRuntimeDir $REG_RUN"
		echo "ErrorLog $REG_RUN/apache-error.log"
		echo "ServerName 127.0.0.1"
		echo "Listen 127.0.0.1:$PORT"
		apache_modules
		sed -e "s|/etc/berth/tls/|$REG_TMP/tls/|" \
			-e "s|^Define BERTH_PORT .*|Define BERTH_PORT $PORT|" \
			"$top_srcdir/conf/apache/berth-site.conf"
		echo "Include $top_srcdir/conf/apache/berth.conf"
	} >"$REG_TMP/apache-site.conf"
	valid "apache: conf/apache/berth-site.conf as shipped" \
		apache2 -t -f "$REG_TMP/apache-site.conf"
else
	echo "# apache2 or mod_xsendfile is not installed"
fi

# systemd units, with this build's berth-fcgi
if command -v systemd-analyze >/dev/null 2>&1; then
	mkdir -p "$REG_TMP/units"
	for u in berth.service berth.socket; do
		sed -e "s|@sbindir@|$top_builddir|g" -e "s|@sysconfdir@/berth|$REG_TMP|g" \
			-e "s|@docdir@|$top_srcdir|g" "$top_srcdir/conf/systemd/$u.in" \
			>"$REG_TMP/units/$u"
	done
	valid "systemd units" systemd-analyze verify "$REG_TMP/units/berth.socket" \
		"$REG_TMP/units/berth.service"
else
	echo "# systemd-analyze is not installed"
fi

# berth's own examples
sed "s|^root = .*|root = $REG_STORE|" "$top_srcdir/conf/berth.conf" >"$REG_TMP/example.conf"
valid "conf/berth.conf (with a root of the test's)" "$BERTH_BIN" -t -c "$REG_TMP/example.conf"
echo "access = $top_srcdir/conf/access.conf" >>"$REG_TMP/example.conf"
valid "conf/access.conf" "$BERTH_BIN" -t -c "$REG_TMP/example.conf"

# the README's quick start: berth behind lighttpd on a port, data in a
# directory, in the foreground
if command -v lighttpd >/dev/null 2>&1; then
	QPORT=$(free_port)
	BERTH_PORT=$QPORT BERTH_DATA=$REG_TMP/quick BERTH_BIN=$BERTH_BIN \
		sh "$top_srcdir/conf/lighttpd/quickstart.sh" >"$REG_TMP/quickstart.log" 2>&1 &
	track $!
	FRONT_TLS=0
	front_options
	if wait_for "http://127.0.0.1:$QPORT/v2/"; then
		ok "quickstart.sh serves /v2/"
		BASE=http://127.0.0.1:$QPORT
		mkblob "$REG_TMP/b" 100000
		push_blob quick/start "$REG_TMP/b"
		expect_status "and takes a push" 201
		req GET "/v2/quick/start/blobs/$(sha256 "$REG_TMP/b")"
		check "and serves it back (X-Sendfile)" cmp -s "$REG_TMP/body" "$REG_TMP/b"
		req GET /ui/
		is "and the web catalog's page" "$STATUS $(hdr Content-Type)" \
			"200 text/html; charset=utf-8"
	else
		not_ok "quickstart.sh serves /v2/"
		sed 's/^/#   /' "$REG_TMP/quickstart.log"
	fi
fi
done_testing
