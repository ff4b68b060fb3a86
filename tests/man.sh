#!/bin/sh
# shellcheck disable=SC2317 # the checks are called through check()
# The manual pages under man/: each is in Makefile.am's dist_man_MANS (so
# that make dist ships it and make install installs it) and lints clean
# with groff -man -ww and with mandoc -T lint, whichever is installed;
# berth-fcgi(8) has the synopsis and the options of berth-fcgi --help,
# and berthctl(8) every option of berthctl --help once berthctl is built.
# Exits 77 (skip) when neither groff nor mandoc is installed and the rest
# passed.
top=${top_srcdir:-$(dirname "$0")/..}
build=${top_builddir:-$top}
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
say() { # lines, as TAP comments
	sed 's/^/# /'
}

pages=$(ls man/*.[1-9] 2>/dev/null)
[ -n "$pages" ] || {
	echo "not ok 1 - no pages under man/"
	exit 1
}

# Makefile.am's dist_man_MANS, its continuation lines joined
listed=$(sed -e ':a' -e '/\\$/N' -e 's/\\\n//' -e 'ta' Makefile.am |
	sed -n 's/^dist_man_MANS[[:space:]]*+*=[[:space:]]*//p' | tr -s ' \t' '\n' |
	grep . | sort)
in_dist() {
	_ok=0
	for p in $pages; do
		echo "$listed" | grep -qxF "$p" || {
			echo "# $p is not in dist_man_MANS (Makefile.am)"
			_ok=1
		}
	done
	for p in $listed; do
		[ -f "$p" ] || {
			echo "# dist_man_MANS lists $p, which is not there"
			_ok=1
		}
	done
	return "$_ok"
}
check "every page is in dist_man_MANS, and only pages that are there" in_dist

linters=0
if command -v groff >/dev/null 2>&1; then
	linters=1
	groff_lint() {
		_ok=0
		for p in $pages; do
			if ! _out=$(groff -man -ww -z "$p" 2>&1) || [ -n "$_out" ]; then
				echo "$_out" | say
				_ok=1
			fi
		done
		return "$_ok"
	}
	check "groff -man -ww: no warnings" groff_lint
fi
if command -v mandoc >/dev/null 2>&1; then
	linters=1
	mandoc_lint() {
		# shellcheck disable=SC2086 # one page a word
		_out=$(mandoc -T lint -W warning $pages 2>&1) || {
			echo "$_out" | say
			return 1
		}
	}
	check "mandoc -T lint: no warnings" mandoc_lint
fi

# a page as plain text, with a formatter that is there
render() {
	if command -v groff >/dev/null 2>&1; then
		groff -man -Tascii -P-cbou "$1" 2>/dev/null
	else
		# mandoc overstrikes bold and underlined letters: take them out
		mandoc -T ascii "$1" | sed "s/.$(printf '\b')//g"
	fi
}

# The options a page's OPTIONS section has (its .TP tags, "-c --config"
# one a line), or --help prints ("-c, --config FILE  ..."), sorted.
page_options() {
	awk '/^\.SH /{ on = ($0 == ".SH OPTIONS") } on && tag { print } { tag = on && $0 == ".TP" }' "$1" |
		sed -e 's/\\f[BIRP]//g' -e 's/\\-/-/g' -e 's/"//g' |
		grep -oE -- '(^|[ ,])-[a-zA-Z]( |,)+--[a-z][a-z-]*' |
		sed -e 's/^[ ,]*//' -e 's/[ ,]\{1,\}/ /' | sort
}
help_options() {
	grep -oE -- '(^|[ ,])-[a-zA-Z], --[a-z][a-z-]*' | sed -e 's/^[ ,]*//' -e 's/,//' | sort
}

fcgi=$build/berth-fcgi
if [ -x "$fcgi" ]; then
	fcgi_options() {
		# --help prints no line for itself
		_help=$({
			"$fcgi" --help | help_options
			echo "-h --help"
		} | sort -u)
		_page=$(page_options man/berth-fcgi.8)
		[ "$_help" = "$_page" ] || {
			echo "# berth-fcgi --help:"
			echo "$_help" | say
			echo "# man/berth-fcgi.8, OPTIONS:"
			echo "$_page" | say
			return 1
		}
	}
	check "berth-fcgi(8) has the options of berth-fcgi --help" fcgi_options
	if [ "$linters" = 1 ]; then
		fcgi_synopsis() {
			_usage=$("$fcgi" --help | sed -n 's/^usage: //p' | tr -s ' ')
			render man/berth-fcgi.8 | tr -s ' ' | grep -qF -- "$_usage" || {
				echo "# no '$_usage' in the rendered page"
				return 1
			}
		}
		check "berth-fcgi(8)'s synopsis is the usage line of --help" fcgi_synopsis
	fi
else
	echo "# $fcgi is not built"
fi

ctl=$build/berthctl
if [ -x "$ctl" ]; then
	ctl_options() {
		_ok=0
		for o in $("$ctl" --help 2>&1 | grep -oE -- '--[a-z][a-z-]*' | sort -u); do
			grep -qF -- "$(echo "$o" | sed 's/-/\\-/g')" man/berthctl.8 || {
				echo "# berthctl --help has $o, man/berthctl.8 does not"
				_ok=1
			}
		done
		return "$_ok"
	}
	check "berthctl(8) has every option of berthctl --help" ctl_options
else
	echo "# $ctl is not built (yet)"
fi

echo "1..$n"
[ "$fail" = 0 ] || exit 1
if [ "$linters" = 0 ]; then
	echo "# skip: neither groff nor mandoc is installed"
	exit 77
fi
exit 0
