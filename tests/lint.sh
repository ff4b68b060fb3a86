#!/bin/sh
# shellcheck disable=SC2317 # the checks are called through check()
# The rules of HACKING ("Conventions", "Layers", "Adding a test") that a
# script can check: banned functions, formatting, shell scripts, the
# layers' includes, the sealed HTTP layer, and the list of front-server
# test links in tests/e2e/tests.am.
# Exits 77 (skip) when a tool is missing.
top=${top_srcdir:-$(dirname "$0")/..}
cd "$top" || exit 99
fail=0
n=0
check() { # name, command...
	name=$1
	shift
	n=$((n + 1))
	if "$@"; then
		echo "ok $n - $name"
	else
		echo "not ok $n - $name"
		fail=1
	fi
}
banned() {
	! grep -nE '(^|[^_a-z])(sprintf|strcpy|strcat|strncpy|strtok|atoi|atol|gets)\(' \
		util/*.c store/*.c auth/*.c retention/*.c policy/*.c mirror/*.c \
		upstream/*.c hooks/*.c config/*.c fcgi-app/*.c ctl/*.c fuzz/*.c 2>/dev/null |
		grep -v snprintf
}
check "no banned functions" banned
# HACKING, "Layers": util <- store, auth, retention, policy, mirror, hooks <-
# config <- front ends; upstream/ (libcurl) is fcgi-app's, above mirror/
# (fcgi-app/, and ctl/ which never includes fcgi-app/)
includes() { # DIR ALLOWED-DIR...: what DIR's files include of berth's
	_d=$1
	shift
	_bad=$(grep -nE '^#include "[a-z-]+/' "$_d"/*.[ch] 2>/dev/null |
		grep -vE "#include \"($(echo "$@" | tr ' ' '|'))/")
	[ -z "$_bad" ] || {
		echo "$_bad" | sed 's/^/# /'
		return 1
	}
}
layers() {
	includes util util &&
		includes store util store &&
		includes auth util auth &&
		includes retention util retention &&
		includes policy util policy &&
		includes mirror util mirror &&
		includes upstream util mirror upstream &&
		includes hooks util hooks &&
		includes config util store retention policy mirror hooks config &&
		includes ctl util store auth retention policy mirror hooks config ctl
}
check "each layer includes only the layers below it" layers
# HACKING, "Layers": only request.c and response.c speak FastCGI;
# request.h declares the opaque pointer, but includes nothing of libfcgi
sealed() {
	_bad=$(grep -nE 'fcgiapp\.h|FCGX_|->fcgx|\.fcgx' fcgi-app/*.[ch] \
		util/*.[ch] store/*.[ch] auth/*.[ch] retention/*.[ch] policy/*.[ch] mirror/*.[ch] \
		upstream/*.[ch] hooks/*.[ch] config/*.[ch] |
		grep -vE '^fcgi-app/(request|response)\.c:' |
		grep -vE '^fcgi-app/request\.h:[0-9]+:[^#]*$')
	[ -z "$_bad" ] || {
		echo "$_bad" | sed 's/^/# /'
		return 1
	}
}
check "only fcgi-app/request.c and response.c touch the FastCGI request" sealed
if command -v clang-format >/dev/null 2>&1; then
	fmt() {
		for f in util/*.[ch] store/*.[ch] auth/*.[ch] retention/*.[ch] policy/*.[ch] config/*.[ch] \
			mirror/*.[ch] upstream/*.[ch] hooks/*.[ch] fcgi-app/*.[ch] ctl/*.[ch] fuzz/*.[ch]; do
			clang-format --style=file "$f" | cmp -s - "$f" || {
				echo "# not formatted: $f"
				return 1
			}
		done
	}
	check "clang-format" fmt
fi
if command -v shellcheck >/dev/null 2>&1; then
	# shellcheck disable=SC2046
	check "shellcheck" shellcheck -x -s sh tests/lint.sh tests/fuzz-smoke.sh $(ls tests/e2e/*.sh bench/*.sh 2>/dev/null)
fi
# tests.am lists the test links of tests/e2e/<server>-tls/ one by one (for
# make check and make dist): the list and the directories under tests/e2e
# hold the same tests, and each is (a link to) the test of its name in
# tests/e2e, which tests.am lists too. In a dist tree the links are copies.
front_links() {
	am=tests/e2e/tests.am
	tests=$(sed -n 's|^[[:space:]]*\(tests/e2e/[^[:space:]]*\.sh\)[[:space:]\\]*$|\1|p' "$am")
	links=$(echo "$tests" | grep '^tests/e2e/[^/]*/')
	ok=0
	for f in $links; do
		[ -e "$f" ] || [ -L "$f" ] || {
			echo "# $am lists $f, which is not there"
			ok=1
		}
	done
	for f in tests/e2e/*/*.sh; do
		[ -e "$f" ] || [ -L "$f" ] || continue # no links in a directory
		echo "$links" | grep -qxF "$f" || {
			echo "# $f is not in $am"
			ok=1
		}
		t=tests/e2e/${f##*/}
		if ! echo "$tests" | grep -qxF "$t" || ! cmp -s "$f" "$t"; then
			echo "# $f does not lead to $t, a test in $am"
			ok=1
		fi
	done
	return "$ok"
}
check "tests.am and the front-server test links agree" front_links
echo "1..$n"
exit $fail
