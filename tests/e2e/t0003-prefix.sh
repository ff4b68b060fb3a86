#!/bin/sh
# ./configure --prefix=X && make install on a tree already built for
# another prefix installs a berth-fcgi whose default config is X's: the
# path reaches the code through a header that make rewrites when the
# prefix changes (config/paths.h), and only what includes it is rebuilt.
# Works on a copy of the distributed sources, builds berth-fcgi and
# berthctl alone, without sanitizers.
# shellcheck source=tests/e2e/lib.sh
. "${srcdir:-$(dirname "$0")}/lib.sh"
MAKE=${MAKE:-make}
need "$MAKE" cmp find sed
[ -f "$top_builddir/Makefile" ] || skip_all "no configured tree in $top_builddir"
# the compiler the tree was configured with; its flags without sanitizers
CC=$(sed -n 's/^CC = //p' "$top_builddir/Makefile")
[ -n "$CC" ] || skip_all "no CC in $top_builddir/Makefile"
# this make's own -j and goals are not for the copy's
unset MAKEFLAGS MFLAGS MAKELEVEL
SRC=$REG_TMP/src

# build PREFIX LOG: configure the copy for PREFIX, then run make ARGS...
build() {
	_p=$1
	_log=$REG_TMP/$2.log
	shift 2
	(cd "$SRC" && ./configure -q --prefix="$_p" CC="$CC" CFLAGS=-O0 &&
		"$MAKE" -j2 "$@") >"$_log" 2>&1 || bail "configure or make failed: $_log"
}

# names_config BIN PREFIX: BIN's help gives PREFIX's config as the default
# shellcheck disable=SC2317 # called through check
names_config() {
	"$1" --help >"$REG_TMP/help.out" 2>&1 &&
		grep -qF "(default $2/etc/berth/berth.conf)" "$REG_TMP/help.out"
}

"$MAKE" -C "$top_builddir" distdir distdir="$SRC" top_distdir="$SRC" \
	>"$REG_TMP/distdir.log" 2>&1 || bail "make distdir failed"
chmod -R u+w "$SRC" # distcheck's sources are read-only, the copy must not be

build "$REG_TMP/one" build-one berth-fcgi berthctl
check "built for one prefix, berth-fcgi reads its config there" \
	names_config "$SRC/berth-fcgi" "$REG_TMP/one"

: >"$REG_TMP/configured"
build "$REG_TMP/two" install-two install-sbinPROGRAMS
check "configured for another and installed, it reads the other's" \
	names_config "$REG_TMP/two/sbin/berth-fcgi" "$REG_TMP/two"
check "and so does berthctl" \
	names_config "$REG_TMP/two/sbin/berthctl" "$REG_TMP/two"
rebuilt=$(cd "$SRC" && find . -name '*.o' -newer "$REG_TMP/configured" |
	sort | tr '\n' ' ')
is "only the config module was compiled again" "$rebuilt" \
	"./config/libberth_a-conf.o "

# configure again with the same prefix: the header is left as it was
: >"$REG_TMP/configured"
build "$REG_TMP/two" install-again install-sbinPROGRAMS
rebuilt=$(cd "$SRC" && find . -name '*.o' -newer "$REG_TMP/configured")
is "the same prefix again compiles nothing" "$rebuilt" ""
done_testing
