#!/bin/sh
# The Debian package (debian/, README "Debian package"): dpkg-buildpackage
# builds it from the distributed sources alone, lintian has no error and
# no warning for it, and dpkg -i installs it: the conffiles of /etc/berth,
# the user berth, /var/lib/berth, the units, the examples and the README
# they cite, and a berth.conf that berth-fcgi -t accepts. Then the
# installed berth-fcgi, started as the user berth by spawn-fcgi (as
# berth.socket would, without systemd), with a store of its own in the
# test's directory, serves a push and a pull behind lighttpd, which reads
# the installed examples; the installed berthctl lists what was pushed.
#
# It installs a package, so it needs root, and leaves the machine as it
# found it: berth purged (or removed, if only its conffiles were there),
# and the user berth and /var/lib/berth gone again, unless they were there
# before. Building the package takes minutes and tests the sources, not a
# build: it runs in make check and skips under make distcheck, which is
# the run with BERTH_E2E_BACKEND=prefork (.ci/run), whose prefork workers
# are the build tree's berth-fcgi and never the package's.
# shellcheck source=tests/e2e/lib.sh
. "${srcdir:-$(dirname "$0")}/lib.sh"
# shellcheck source=tests/e2e/lib-front.sh
. "$srcdir/lib-front.sh"
# shellcheck source=tests/e2e/lib-http.sh
. "$srcdir/lib-http.sh"
[ "${BERTH_E2E_BACKEND:-spawn}" = prefork ] &&
	skip_all "the package is built and tested once, in make check, not in distcheck"
[ "$(id -u)" = 0 ] || skip_all "installing a package needs root"
need dpkg-buildpackage dpkg-checkbuilddeps lintian spawn-fcgi lighttpd runuser
[ -f "$top_srcdir/debian/control" ] || bail "$top_srcdir/debian is missing"
dpkg-checkbuilddeps "$top_srcdir/debian/control" >"$REG_TMP/builddeps.out" 2>&1 ||
	skip_all "$(tr '\n' ' ' <"$REG_TMP/builddeps.out")"
T=$REG_TMP
EX=/usr/share/doc/berth/examples

# --- what to put back at the end ---

BEFORE=$(dpkg-query -W -f='${db:Status-Abbrev}' berth 2>/dev/null | tr -d ' ')
case $BEFORE in
'' | un | pn | ii | rc) ;;
*) skip_all "berth is half installed (dpkg state '$BEFORE')" ;;
esac
HAD_USER=no
getent passwd berth >/dev/null && HAD_USER=yes
HAD_VARLIB=no
[ -e /var/lib/berth ] && HAD_VARLIB=yes

# dpkg_run ARGS...: dpkg, tried again while another dpkg or apt-get holds
# its lock (other jobs may install packages on the machine), 5 min at most
dpkg_run() {
	_i=0
	while :; do
		dpkg "$@" >"$T/dpkg.out" 2>&1 && _rc=0 || _rc=$?
		cat "$T/dpkg.out" >>"$T/dpkg.log"
		if [ "$_rc" = 0 ] || [ $_i -ge 300 ] || ! grep -q 'lock' "$T/dpkg.out"; then
			break
		fi
		sleep 1
		_i=$((_i + 1))
	done
	return "$_rc"
}

# shellcheck disable=SC2317 # at_exit runs it
restore() {
	case $BEFORE in
	ii) ;; # our build stays installed in its place
	rc) dpkg_run --remove berth ;;
	*) dpkg-query -W berth >/dev/null 2>&1 && dpkg_run --purge berth ;;
	esac
	# purge keeps the user berth and the data of /var/lib/berth (debian/postrm)
	if [ "$BEFORE" != ii ] && [ "$HAD_USER" = no ] && getent passwd berth >/dev/null; then
		userdel berth
	fi
	if [ "$BEFORE" != ii ] && [ "$HAD_VARLIB" = no ]; then
		rm -rf /var/lib/berth
	fi
}
at_exit restore

# --- the package, from the distributed files alone: the source tree of
# a git checkout may be a configured build tree too ---

mkdir -p "$T/src/berth"
if [ -e "$top_srcdir/.git" ] && command -v git >/dev/null 2>&1; then
	(cd "$top_srcdir" && git ls-files -z | xargs -0 cp -P --parents -t "$T/src/berth") ||
		bail "cannot copy the files of git ls-files"
else
	cp -R "$top_srcdir/." "$T/src/berth" || bail "cannot copy $top_srcdir"
fi
# as if started by hand, not by make check: MAKEFLAGS would carry the
# check's TESTS and jobserver into the package's make
if (cd "$T/src/berth" && unset MAKEFLAGS MFLAGS MAKELEVEL srcdir top_srcdir top_builddir &&
	DEB_BUILD_OPTIONS="parallel=2 ${DEB_BUILD_OPTIONS:-}" dpkg-buildpackage -us -uc -b) \
	>"$T/build.log" 2>&1; then
	ok "dpkg-buildpackage -us -uc -b"
else
	not_ok "dpkg-buildpackage -us -uc -b"
	bail "the package did not build"
fi
DEB=$(ls "$T"/src/berth_*_*.deb)
CHANGES=$(ls "$T"/src/berth_*_*.changes)
if [ ! -f "$DEB" ] || [ ! -f "$CHANGES" ]; then
	bail "no berth_*.deb and .changes in $T/src"
fi

# a lintian that could not look (exit status 2) found nothing either
if lintian "$CHANGES" >"$T/lintian.out" 2>&1 && ! grep -qE '^[EW]: ' "$T/lintian.out"; then
	ok "lintian: no errors, no warnings"
else
	not_ok "lintian: no errors, no warnings"
	grep -vE '^(N:|running with root privileges)' "$T/lintian.out" | sed 's/^/#   /'
fi

# --- installed ---

if dpkg_run --force-confdef --force-confold -i "$DEB"; then
	ok "dpkg -i"
else
	not_ok "dpkg -i"
	bail "$(tail -n 5 "$T/dpkg.out")"
fi
CONFFILES=$(dpkg-query -W -f='${Conffiles}' berth | awk '{ print $1 }' | sort | tr '\n' ' ')
is "conffiles" "$CONFFILES" "/etc/berth/access.conf /etc/berth/berth.conf "
is "the user berth, in the group www-data" \
	"$(id -un berth 2>/dev/null) $(id -gn berth 2>/dev/null)" "berth www-data"
is "/var/lib/berth is berth's, for www-data to read" \
	"$(stat -c '%U %G %a' /var/lib/berth)" "berth www-data 750"
for f in /usr/sbin/berth-fcgi /usr/sbin/berthctl; do
	check "$f" test -x "$f"
done
for f in /usr/share/man/man8/berth-fcgi.8.gz /usr/share/man/man8/berthctl.8.gz \
	/usr/share/man/man5/berth.conf.5.gz /usr/share/doc/berth/README \
	$EX/berth.conf $EX/access.conf $EX/lighttpd/berth.conf \
	$EX/lighttpd/fastcgi-socket.conf $EX/nginx/berth.conf \
	$EX/apache/berth.conf $EX/systemd/berth.service; do
	check "$f" test -f "$f"
done
for u in berth.service berth.socket berth-gc.service berth-gc.timer; do
	check "unit $u" test -f "/lib/systemd/system/$u"
done
# what the units run, and the files they cite, are there
# shellcheck disable=SC2317 # check runs it
cited() {
	_bad=0
	for _f in $(sed -n -e 's/^Exec[A-Za-z]*=\([^ ]*\).*/\1/p' \
		-e 's/^Documentation=//p' /lib/systemd/system/berth*.* |
		tr ' ' '\n' | sed -n -e 's|^file:||p' -e 's|^/|/|p' | sort -u); do
		[ -e "$_f" ] || {
			echo "# a unit cites $_f, which is not there"
			_bad=1
		}
	done
	return "$_bad"
}
check "the units' programs and documents are there" cited
is "the installed quick start runs the installed berth-fcgi" \
	"$(sed -n 's/^sbindir=//p' $EX/lighttpd/quickstart.sh)" "'/usr/sbin'"
check "the quick start is executable" test -x $EX/lighttpd/quickstart.sh
# as berth.service's ExecStartPre does it, as the user berth
if runuser -u berth -- /usr/sbin/berth-fcgi -t -c /etc/berth/berth.conf \
	>"$T/check.out" 2>&1; then
	ok "berth-fcgi -t -c /etc/berth/berth.conf"
else
	not_ok "berth-fcgi -t -c /etc/berth/berth.conf"
	sed 's/^/#   /' "$T/check.out"
fi

# --- the installed berth-fcgi serves ---

# berth reaches its config, its store and its socket below $REG_TMP
chmod 755 "$T"
chown berth:www-data "$REG_STORE"
chmod 750 "$REG_STORE"
berth_conf
chmod 644 "$T/berth.conf"
SOCK=$REG_RUN/berth.sock
BERTH_BIN=/usr/sbin/berth-fcgi # for lighttpd_conf; fastcgi-socket.conf needs it not
# -n: spawn-fcgi becomes berth (one worker) and keeps its stderr for the
# log (not berth.log, lighttpd's breakagelog, which www-data writes)
spawn-fcgi -n -s "$SOCK" -M 0660 -U berth -G www-data -u berth -g www-data \
	-- /usr/sbin/berth-fcgi -c "$T/berth.conf" 2>>"$REG_RUN/berth-fcgi.log" &
track $!
i=0
until [ -S "$SOCK" ]; do
	i=$((i + 1))
	[ $i -lt 100 ] || bail "spawn-fcgi did not make $SOCK"
	sleep 0.1
done
# lighttpd with the test's values and the installed examples, as the
# README's "Debian package" section sets it up: as www-data, which
# reaches berth's socket and blob files through the group alone
PORT=$(free_port)
BASE=http://127.0.0.1:$PORT
lighttpd_conf socket "$SOCK"
sed -i -e "s|^include \".*/conf/lighttpd/|include \"$EX/lighttpd/|" \
	-e 's|^var.berth_errors .*|var.berth_errors = "/usr/share/berth/errors"|' \
	-e 's|^var.berth_ui .*|var.berth_ui = "/usr/share/berth/ui"|' \
	"$T/lighttpd.conf"
printf 'server.username = "www-data"\nserver.groupname = "www-data"\n' \
	>>"$T/lighttpd.conf"
chgrp www-data "$REG_RUN" # its logs and upload-dirs
chmod 775 "$REG_RUN"
check "lighttpd includes the installed examples" \
	test "$(grep -c "^include \"$EX/lighttpd/" "$T/lighttpd.conf")" = 3
lighttpd -D -f "$T/lighttpd.conf" >>"$REG_RUN/lighttpd-stdout.log" 2>&1 &
LPID=$!
track $LPID
wait_for "$BASE/v2/" || bail "lighttpd did not come up on $BASE"
is "lighttpd runs as www-data" "$(ps -o user= -p "$LPID" | tr -d ' ')" www-data
PID=$(berth_pids | head -n 1)
is "berth is the installed berth-fcgi" "$(readlink "/proc/$PID/exe")" /usr/sbin/berth-fcgi
is "berth runs as berth:www-data" "$(ps -o user=,group= -p "$PID" | awk '{ print $1, $2 }')" "berth www-data"

printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}' >"$T/config"
mkblob "$T/layer" 100000
push_blob deb/img "$T/config"
expect_status "push the config" 201
push_blob deb/img "$T/layer"
expect_status "push a layer" 201
oci manifest --config "$T/config" --layer "$T/layer" >"$T/manifest"
put_manifest deb/img v1 "$T/manifest"
expect_status "put the manifest" 201
req GET /v2/deb/img/manifests/v1
expect_status "pull the manifest" 200
check "the manifest comes back byte for byte" cmp -s "$T/body" "$T/manifest"
req GET /ui/
expect_status "the web catalog's page, installed in /usr/share/berth/ui" 200
req GET /v2/_berth/ui/repositories
expect_status "and its data" 200
req GET "/v2/deb/img/blobs/$(sha256 "$T/layer")"
expect_status "pull the layer" 200
check "the layer comes back byte for byte" cmp -s "$T/body" "$T/layer"
HEX=$(sha256 "$T/layer" | cut -c8-)
check "the layer is a file of the store, which lighttpd sent" \
	test -f "$REG_STORE/blobs/sha256/$(echo "$HEX" | cut -c1-2)/$HEX"
check "the store's files are berth's" test -z "$(find "$REG_STORE" ! -user berth)"

# the installed berthctl, as the user berth, as an administrator runs it
if runuser -u berth -- /usr/sbin/berthctl -c "$T/berth.conf" ls \
	>"$T/ls.out" 2>"$T/ls.err"; then
	ok "berthctl ls"
else
	not_ok "berthctl ls"
	sed 's/^/#   /' "$T/ls.err"
fi
check "berthctl ls lists deb/img" grep -q '^deb/img ' "$T/ls.out"

# berth gone: lighttpd's own 503 is the installed OCI JSON error body
kill "$(berth_pids | head -n 1)"
i=0
while berth_pids | grep -q . && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
req GET /v2/
expect_error "berth down: lighttpd's 503 has the installed JSON body" 503 UNAVAILABLE

# --- purged again (restore, at the end, then puts back the rest) ---

stop_all # berth and lighttpd go before the package does
# shellcheck disable=SC2317 # check runs it
gone() {
	for _f; do
		[ ! -e "$_f" ] || return 1
	done
}
case $BEFORE in
ii | rc) echo "# berth was there before this test: it stays" ;;
*)
	check "dpkg --purge berth" dpkg_run --purge berth
	check "the purge removes the conffiles, the programs and the units" \
		gone /etc/berth/berth.conf /etc/berth/access.conf /usr/sbin/berth-fcgi \
		/lib/systemd/system/berth.socket /lib/systemd/system/berth.service
	;;
esac
done_testing
