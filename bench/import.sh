#!/bin/sh
# berthctl import-registry against cp -a: a reference registry's storage
# tree written directly in its layout (bench/regtree.py: $REPOS
# repositories of $MANIFESTS image manifests each, a config and two
# layers per manifest, one of them from a pool that every repository
# shares, $TAGS tags each, the rest untagged), then, each into a fresh
# directory of the same file system, with the tree in the page cache:
#
#   cp -a                      the tree copied (and then sync)
#   import-registry            copied, hashed, flushed, into a fresh store
#   import-registry --link     hard-linked and hashed, into a fresh store
#   import-registry again      the second run over the copied store
#   backup                     the --link store backed up (copied), then
#   backup again               into the same directory (nothing new),
#   backup --link              into a fresh directory, hard-linked, and
#   restore                    of the first backup into a fresh root
#
# Prints a table and `metric NAME VALUE UNIT` lines. Run from a built
# tree without sanitizers (./configure CFLAGS=-O2), not a test:
#
#   sh bench/import.sh [BERTHCTL]
#   REPOS=20 MANIFESTS=2 UNIQUE_KB=64 sh bench/import.sh    a small one
top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
top_builddir=${top_builddir:-$top_srcdir}
export top_srcdir top_builddir
# shellcheck source=tests/e2e/lib.sh
. "$top_srcdir/tests/e2e/lib.sh"
CTL=${1:-$top_builddir/berthctl}
[ -x "$CTL" ] || bail "$CTL is not built"
need python3
T=$REG_TMP
REPOS=${REPOS:-200} MANIFESTS=${MANIFESTS:-4} TAGS=${TAGS:-3}
POOL=${POOL:-20} POOL_KB=${POOL_KB:-4096} UNIQUE_KB=${UNIQUE_KB:-320}
nm "$CTL" 2>/dev/null | grep -q __asan_init &&
	echo "# warning: $CTL is built with sanitizers; its numbers are not berth's"

python3 "$top_srcdir/bench/regtree.py" "$T/tree" "$REPOS" "$MANIFESTS" \
	"$TAGS" "$POOL" "$POOL_KB" "$UNIQUE_KB" >"$T/tree.txt" ||
	bail "cannot write the tree"
# MiB of blob data (what a copy moves; the link files are a few bytes)
MB=$(find "$T/tree/docker/registry/v2/blobs" -name data -printf '%s\n' |
	awk '{ s += $1 } END { printf "%.1f", s / 1048576 }')
BLOBS=$(find "$T/tree/docker/registry/v2/blobs" -name data | wc -l)
echo "# the tree: $MB MiB, $BLOBS blobs; $(cat "$T/tree.txt")"
# the tree in the page cache, as for every run below
cat "$T"/tree/docker/registry/v2/blobs/sha256/*/*/data >/dev/null

now() {
	python3 -c 'import time; print("%.3f" % time.monotonic())'
}
elapsed() { # START END
	python3 -c 'import sys; print("%.2f" % (float(sys.argv[2]) - float(sys.argv[1])))' "$1" "$2"
}
# fresh NAME: an empty store under $T/NAME, and berth.conf naming it
fresh() {
	REG_STORE=$T/$1
	mkdir -p "$REG_STORE"
	berth_conf "log_level = warn"
	"$BERTH_BIN" -c "$T/berth.conf" --gc >/dev/null 2>&1 ||
		bail "berth cannot make the store $REG_STORE"
}
sync
t0=$(now)
cp -a "$T/tree" "$T/cp"
t1=$(now)
sync
t2=$(now)
# cp -a alone leaves the data in the page cache; the sync (of the whole
# machine: others' writes count too) puts it on disk, as the import does
CP_ONLY=$(elapsed "$t0" "$t1")
CP=$(elapsed "$t0" "$t2")

fresh copied
sync
t0=$(now)
"$CTL" -c "$T/berth.conf" -q import-registry "$T/tree" >"$T/copy.out" 2>&1 ||
	bail "import-registry failed: $(cat "$T/copy.out")"
t1=$(now)
COPY=$(elapsed "$t0" "$t1")
t0=$(now)
"$CTL" -c "$T/berth.conf" -q import-registry "$T/tree" >"$T/again.out" 2>&1 ||
	bail "import-registry again failed: $(cat "$T/again.out")"
t1=$(now)
AGAIN=$(elapsed "$t0" "$t1")

fresh linked
sync
t0=$(now)
"$CTL" -c "$T/berth.conf" -q import-registry --link "$T/tree" >"$T/link.out" 2>&1 ||
	bail "import-registry --link failed: $(cat "$T/link.out")"
t1=$(now)
LINK=$(elapsed "$t0" "$t1")

# backup and restore of the store the --link import made
timed() { # VAR COMMAND...: run it, its seconds into VAR
	_v=$1
	shift
	_t0=$(now)
	"$@" >"$T/timed.out" 2>&1 || bail "$* failed: $(cat "$T/timed.out")"
	_t1=$(now)
	eval "$_v=$(elapsed "$_t0" "$_t1")"
	echo "# $(tail -n 1 "$T/timed.out")"
}
sync
timed BK "$CTL" -c "$T/berth.conf" -q backup "$T/bk"
timed BK_AGAIN "$CTL" -c "$T/berth.conf" -q backup "$T/bk"
timed BK_LINK "$CTL" -c "$T/berth.conf" -q backup --link "$T/bkl"
timed RESTORED "$CTL" -c "$T/berth.conf" -q restore "$T/bk" "$T/restored"

echo "# import:  $(cat "$T/copy.out")"
echo "# --link:  $(cat "$T/link.out")"
echo "# again:   $(cat "$T/again.out")"
MANIFESTS_ALL=$((REPOS * MANIFESTS))
python3 - "$MB" "$CP" "$COPY" "$LINK" "$AGAIN" "$REPOS" "$MANIFESTS_ALL" \
	"$CP_ONLY" "$BK" "$BK_AGAIN" "$BK_LINK" "$RESTORED" <<'PY'
import sys
mb, cp, copy, link, again = (float(x) for x in sys.argv[1:6])
repos, manifests = int(sys.argv[6]), int(sys.argv[7])
cp_only = float(sys.argv[8])
bk, bk_again, bk_link, restore = (float(x) for x in sys.argv[9:13])
print("%-28s %8s %10s" % ("", "seconds", "MiB/s"))
for name, s in (("cp -a (page cache)", cp_only), ("cp -a, sync", cp),
                ("import-registry", copy),
                ("import-registry --link", link),
                ("import-registry again", again), ("backup", bk),
                ("backup again", bk_again), ("backup --link", bk_link),
                ("restore", restore)):
    print("%-28s %8.2f %10.1f" % (name, s, mb / s))
print("import / (cp -a, sync): %.2fx; import / cp -a alone: %.2fx"
      % (copy / cp, copy / cp_only))
print("--link: %.0f repositories/s, %.0f manifests/s"
      % (repos / link, manifests / link))
print("metric import_copy_mib_s %.1f MiB/s" % (mb / copy))
print("metric import_cp_a_mib_s %.1f MiB/s" % (mb / cp))
print("metric import_vs_cp_a %.2f x" % (copy / cp))
print("metric import_vs_cp_a_nosync %.2f x" % (copy / cp_only))
print("metric import_link_repos_s %.0f repos/s" % (repos / link))
print("metric import_link_manifests_s %.0f manifests/s" % (manifests / link))
print("metric import_again_s %.2f s" % again)
print("metric backup_mib_s %.1f MiB/s" % (mb / bk))
print("metric backup_again_s %.2f s" % bk_again)
print("metric backup_link_s %.2f s" % bk_link)
print("metric restore_mib_s %.1f MiB/s" % (mb / restore))
PY
