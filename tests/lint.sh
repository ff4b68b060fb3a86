#!/bin/sh
# shellcheck disable=SC2317 # the checks are called through check()
# Style checks (STYLE.md 3.8): banned functions, formatting, shell scripts.
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
		util/*.c store/*.c auth/*.c config/*.c fcgi-app/*.c 2>/dev/null | grep -v snprintf
}
check "no banned functions" banned
if command -v clang-format >/dev/null 2>&1; then
	fmt() {
		for f in util/*.[ch] store/*.[ch] auth/*.[ch] config/*.[ch] fcgi-app/*.[ch]; do
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
	check "shellcheck" shellcheck -x -s sh tests/lint.sh $(ls tests/e2e/*.sh 2>/dev/null)
fi
echo "1..$n"
exit $fail
