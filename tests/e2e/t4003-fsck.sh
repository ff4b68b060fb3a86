#!/bin/sh
# berthctl fsck on the live store behind lighttpd: images pushed with
# skopeo, then damage the test makes by hand: a corrupted blob file, an
# orphan file, a stray file, a dangling link record (written with
# mdb_load, as a foreign tool would), a half-finished upload. fsck finds
# each and exits 1; --repair removes what can never be reached and moves
# the corrupt file aside; a push of the image mends the rest, and the
# image then pulls byte for byte.
# shellcheck disable=SC2086 # $SK_* are lists of options
# shellcheck source=tests/e2e/lib.sh
. "${srcdir:-$(dirname "$0")}/lib.sh"
# shellcheck source=tests/e2e/lib-front.sh
. "$srcdir/lib-front.sh"
# shellcheck source=tests/e2e/lib-http.sh
. "$srcdir/lib-http.sh"
# shellcheck source=tests/e2e/lib-clients.sh
. "$srcdir/lib-clients.sh"
# shellcheck source=tests/e2e/lib-ctl.sh
. "$srcdir/lib-ctl.sh"
need skopeo mdb_load
T=$REG_TMP
berth_conf "gc_interval = off"
start_front
R=$(reg)

# kinds: the kinds of the problems in berthctl's --json output, sorted,
# with a + for those repaired
kinds() {
	js '" ".join(sorted(p["kind"] + ("+" if p["repaired"] else "") for p in d["problems"]))'
}

BB=$(mkimage busybox busybox)
mkimage random big 2 1 >/dev/null
python3 -c '
import json, sys
m = json.load(open(sys.argv[1] + "/blobs/sha256/" + sys.argv[2][7:]))
print(m["layers"][0]["digest"])' "$T/layout" "$BB" >"$T/digests"
read -r BB_LAYER <"$T/digests"
check "push busybox to fsck/app:1" sk copy $SK_DEST --preserve-digests \
	"oci:$T/layout:busybox" "docker://$R/fsck/app:1"
check "push a two-layer image to fsck/big:1" sk copy $SK_DEST \
	--preserve-digests "oci:$T/layout:big" "docker://$R/fsck/big:1"

ctl fsck
is "fsck of a sound store: exit 0" "$RC" 0
check "and it says so" grep -qE \
	'^checked 5 blobs \([0-9.]+ MiB\) and 2 manifests in [0-9.]+ s: the store is clean$' \
	"$T/out"

# --- damage ---
# a byte of busybox's layer changed in place
LAYER_FILE=$(blob_file "$BB_LAYER")
python3 -c '
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(1000)
    b = f.read(1)
    f.seek(1000)
    f.write(bytes([b[0] ^ 0xff]))' "$LAYER_FILE"
# a blob file without a record, as a crash between rename and commit
# leaves one
mkblob "$T/orphan" 50000
ORPHAN=$(sha256 "$T/orphan")
mkdir -p "$(dirname "$(blob_file "$ORPHAN")")"
cp "$T/orphan" "$(blob_file "$ORPHAN")"
# a file that is no blob's
echo junk >"$REG_STORE/blobs/sha256/junk"
# a link of fsck/app to a blob that has no record
NOBLOB=sha256:$(printf '%064d' 7)
{
	printf 'VERSION=3\nformat=print\ntype=btree\nHEADER=END\n'
	printf ' fsck/app\\00%s\n' "$NOBLOB"
	printf ' \\00\\00\\00\\00\\00\\00\\00\\00\\00\\00\\00\\00\\00\\00\\00\\00\n'
	printf 'DATA=END\n'
} >"$T/dangling.dump"
check "mdb_load a dangling link" mdb_load -s links -f "$T/dangling.dump" \
	"$REG_STORE/meta"
# an upload file without its session, from two hours ago
head -c 1000 /dev/urandom >"$REG_STORE/uploads/01234567-89ab-cdef-0123-456789abcdef"
touch -d '2 hours ago' "$REG_STORE/uploads/01234567-89ab-cdef-0123-456789abcdef"

ctl --json fsck
is "fsck of the damaged store: exit 1" "$RC" 1
is "fsck --json: each problem the test made (and the links count it upsets)" \
	"$(kinds)" "blob-corrupt count dangling orphan stray upload"
ctl fsck
is "fsck: exit 1" "$RC" 1
check "fsck: a line for the corrupt blob" grep -qx \
	"blob-corrupt: $BB_LAYER: its content hashes to another digest" "$T/out"
check "fsck: the orphan" grep -q \
	"^orphan: $(blob_file "$ORPHAN"): a blob file without a record$" "$T/out"
check "fsck: the dangling link" grep -q "^dangling: fsck/app .*${NOBLOB#sha256:}" "$T/out"
check "fsck: the summary says 6 problems, and what repairs" grep -qE \
	'6 problems, 0 repaired, 6 left \(berthctl fsck --repair sets right what it can\)$' \
	"$T/out"
check "fsck changed nothing" test -f "$(blob_file "$ORPHAN")"

# --- repair ---
ctl --json fsck --repair
is "fsck --repair: exit 1, the corrupt blob's content is still missing" "$RC" 1
is "fsck --repair: what it repaired" "$(kinds)" \
	"blob-corrupt count+ dangling+ orphan+ stray upload+"
check "the orphan file is gone" test ! -e "$(blob_file "$ORPHAN")"
check "the stray file is left alone" test -f "$REG_STORE/blobs/sha256/junk"
check "the corrupt file went to damaged/" \
	test -f "$REG_STORE/damaged/sha256-${BB_LAYER#sha256:}"
check "and is no longer in blobs/" test ! -e "$LAYER_FILE"
req HEAD "/v2/fsck/app/blobs/$BB_LAYER"
expect_status "berth answers 404 for it" 404
rm "$REG_STORE/blobs/sha256/junk"
ctl fsck
is "fsck: the missing content is what is left" "$RC $(grep -c . "$T/out")" "1 2"
check "named as missing" grep -qx "blob-missing: $BB_LAYER: its file is missing" "$T/out"

# --- a push mends it ---
check "push busybox again" sk copy $SK_DEST --preserve-digests \
	"oci:$T/layout:busybox" "docker://$R/fsck/app:1"
ctl fsck
is "fsck: clean again" "$RC" 0
check "busybox pulls" sk copy $SK_SRC --preserve-digests \
	"docker://$R/fsck/app:1" "oci:$T/back:bb"
check "the two-layer image pulls" sk copy $SK_SRC --preserve-digests \
	"docker://$R/fsck/big:1" "oci:$T/back:big"
is "byte for byte" "$(cd "$T/back/blobs/sha256" && for f in *; do
	cmp -s "$f" "$T/layout/blobs/sha256/$f" || echo "$f"
done)" ""

done_testing
