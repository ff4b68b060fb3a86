#!/bin/sh
# berthctl gc on the live store behind lighttpd: images pushed with skopeo
# that share layers across repositories and through an index; then a
# delete with skopeo, an untag, untagged_ttl and the retention rules each
# make garbage, and each collection removes exactly the blob files that
# nothing else uses, while what stays pulls back byte for byte. Also:
# --dry-run changes nothing, a client's fresh upload is held even at
# --grace 0, and a second collection finds the lock taken.
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
need skopeo flock
T=$REG_TMP
CONF="gc_interval = off"
berth_conf "$CONF"
start_front
R=$(reg)

# gone_since BEFORE: the blob files listed in the file BEFORE that are
# gone now, a line each
gone_since() {
	blob_files >"$T/now"
	comm -23 "$1" "$T/now"
}
# summary: the counts of gc's last line, "tags manifests links blobs"
summary() {
	tail -n 1 "$T/out" | sed 's/:.*//' | grep -oE '[0-9]+' | head -n 4 |
		tr '\n' ' ' | sed 's/ $//'
}

# --- busybox in two repositories; in gc/app also an image of its own
# (r1), and an index whose amd64 image is busybox, beside an arm64 one ---
BB=$(mkimage busybox busybox)
R1=$(mkimage random r1 1 1)
MULTI=$(mkimage multiarch multi)
python3 -c '
import json, sys
def m(d):
    return json.load(open(sys.argv[1] + "/blobs/sha256/" + d[7:]))
bb, r1, idx = m(sys.argv[2]), m(sys.argv[3]), m(sys.argv[4])
arm = [x["digest"] for x in idx["manifests"] if x["platform"]["architecture"] == "arm64"][0]
print(bb["config"]["digest"], bb["layers"][0]["digest"],
      r1["config"]["digest"], r1["layers"][0]["digest"],
      arm, m(arm)["config"]["digest"], m(arm)["layers"][0]["digest"])' \
	"$T/layout" "$BB" "$R1" "$MULTI" >"$T/digests"
read -r BB_CFG BB_LAYER R1_CFG R1_LAYER ARM ARM_CFG ARM_LAYER <"$T/digests"
check "push busybox to gc/base:1" sk copy $SK_DEST --preserve-digests \
	"oci:$T/layout:busybox" "docker://$R/gc/base:1"
check "push busybox to gc/app:bb" sk copy $SK_DEST --preserve-digests \
	"oci:$T/layout:busybox" "docker://$R/gc/app:bb"
check "push r1 to gc/app:r1" sk copy $SK_DEST --preserve-digests \
	"oci:$T/layout:r1" "docker://$R/gc/app:r1"
check "push the index to gc/app:multi" sk copy --all $SK_DEST \
	--preserve-digests "oci:$T/layout:multi" "docker://$R/gc/app:multi"
blob_files >"$T/before"
# configs are small: the store keeps them in its database, not in files
is "three layer files" "$(wc -l <"$T/before")" 3

# --- nothing is garbage yet ---
ctl gc --grace 0
is "gc with nothing to collect: exit 0" "$RC" 0
check "and a summary line" grep -qE \
	'^removed 0 tags, 0 manifests, 0 blob links, 0 blobs, 0 orphan files, 0 trash files, 0 upload sessions: 0 B freed in [0-9.]+ s$' \
	"$T/out"
is "no file went" "$(gone_since "$T/before")" ""

# --- skopeo delete: r1's manifest; its config and layer are garbage ---
check "skopeo delete gc/app:r1" sk delete $SK_OPTS "docker://$R/gc/app:r1"
ctl rm --yes gc/app:multi
is "untag the index with berthctl rm" "$RC" 0
# what goes at --grace 0 is what became unused before this second
sleep 1
# what an operator sees, in the log
ctl du
is "du: exit 0" "$RC" 0
sed 's/^/# berthctl du: /' "$T/out"
ctl gc --dry-run --grace 0
is "gc --dry-run: exit 0" "$RC" 0
sed 's/^/# berthctl gc --dry-run --grace 0: /' "$T/out"
is "gc --dry-run: r1's two blob links and blobs would go" "$(summary)" "0 0 2 2"
check "gc --dry-run: a line for each, with the bytes a blob would free" sh -c "
	grep -qx 'would remove the link of gc/app to the blob $R1_LAYER (no manifest uses it)' '$T/out' &&
	grep -qx 'would remove the blob $R1_LAYER ([0-9.]* MiB, no repository links it)' '$T/out' &&
	grep -qx 'would remove the blob $R1_CFG ([0-9]* B, no repository links it)' '$T/out'"
check "gc --dry-run: the untagged index stays (untagged_ttl is off)" sh -c \
	"! grep -q 'the manifest' '$T/out'"
is "gc --dry-run: no file went" "$(gone_since "$T/before")" ""

ctl --json gc --grace 0
is "gc --json: exit 0" "$RC" 0
js '(d["dry_run"], d["grace"], d["counts"]["links"], d["counts"]["blobs"], d["counts"]["manifests"])' \
	'sorted(e["what"] for e in d["removed"] if e["kind"] == "blob")' \
	'd["freed"] == sum(e["bytes"] for e in d["removed"])' >"$T/js"
is "gc --json: the counts" "$(sed -n 1p "$T/js")" "(False, 0, 2, 2, 0)"
is "gc --json: the blobs, and what they freed" "$(sed -n 2,3p "$T/js" | tr '\n' ' ')" \
	"$(printf '%s\n' "$R1_CFG" "$R1_LAYER" | sort | python3 -c 'import sys; print(sorted(l.strip() for l in sys.stdin))') True "
is "exactly r1's layer file went" "$(gone_since "$T/before")" "${R1_LAYER#sha256:}"
req HEAD "/v2/gc/app/blobs/$R1_LAYER"
expect_status "r1's layer is gone from gc/app" 404
req HEAD "/v2/gc/app/blobs/$R1_CFG"
expect_status "and its config" 404
req GET "/v2/gc/app/manifests/$MULTI"
expect_status "the untagged index stays" 200
blob_files >"$T/before"

# --- untagged_ttl: the untagged index goes, and its arm64 image with its
# blobs; its amd64 image is busybox, which gc/app:bb keeps ---
berth_conf "$CONF" "untagged_ttl = 0"
ctl --json gc --dry-run --grace 0
js 'sorted((e["what"], e["why"]) for e in d["removed"] if e["kind"] == "manifest")' >"$T/js"
is "gc --dry-run: the index and its arm64 image, and why" "$(cat "$T/js")" \
	"$(python3 -c 'import sys; w = "untagged for longer than untagged_ttl"; print(sorted([(sys.argv[1], w), (sys.argv[2], w)]))' "$MULTI" "$ARM")"
ctl gc --grace 0
is "gc: 2 manifests, 2 links, 2 blobs" "$RC $(summary)" "0 0 2 2 2"
check "gc: a line for the index" grep -qx \
	"removed the manifest gc/app@$MULTI (untagged for longer than untagged_ttl)" "$T/out"
is "exactly the arm64 image's layer file went" "$(gone_since "$T/before")" \
	"${ARM_LAYER#sha256:}"
req HEAD "/v2/gc/app/blobs/$ARM_CFG"
expect_status "and its config is gone" 404
req GET "/v2/gc/app/manifests/$ARM"
expect_status "the arm64 image is gone" 404
req GET "/v2/gc/app/manifests/bb"
expect_status "busybox stays tagged" 200
blob_files >"$T/before"

# --- retention: gc/base keeps no tag; busybox's blobs stay for gc/app ---
printf 'gc/base keep-last=0\n' >"$T/retention.conf"
berth_conf "$CONF" "retention = $T/retention.conf"
ctl gc --grace 0
is "gc with a retention rule: the tag, its manifest, two links" \
	"$RC $(summary)" "0 1 1 2 0"
check "gc: the tag's line says which rule drops it" grep -qx \
	"removed the tag gc/base:1 (not among the newest 0)" "$T/out"
is "no file went: gc/app uses them" "$(gone_since "$T/before")" ""
req GET /v2/gc/base/tags/list
expect_status "gc/base is empty" 404
check "busybox pulls from gc/app" sk copy $SK_SRC --preserve-digests \
	"docker://$R/gc/app:bb" "oci:$T/back:bb"
is "byte for byte" "$(same_blobs "$T/back" "$BB" "$BB_CFG" "$BB_LAYER")" 0

# --- again: nothing left to do ---
ctl gc --grace 0
is "a second gc removes nothing" "$RC $(summary)" "0 0 0 0 0"
ctl fsck
is "fsck after the collections: clean" "$RC" 0

# --- a client's upload is held a minute even at --grace 0 ---
mkblob "$T/loose" 40000
push_blob gc/app "$T/loose"
expect_status "a blob uploaded, used by nothing" 201
ctl gc --grace 0
check "gc --grace 0 keeps it" test -f "$(blob_file "$(sha256 "$T/loose")")"

# --- one collection at a time ---
flock "$REG_STORE/gc.lock" sh -c "touch '$T/locked'; sleep 10" &
LOCKER=$!
track $LOCKER
i=0
while [ ! -f "$T/locked" ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
ctl gc
is "gc while another holds the lock: exit 4" "$RC $(cat "$T/err")" \
	"4 berthctl: cannot collect garbage in '$REG_STORE': another garbage collection or a backup is running"
ctl gc --dry-run --grace 0
is "a dry run only reads: it runs beside" "$RC $(summary)" "0 0 0 0 0"
kill $LOCKER 2>/dev/null

# --- usage ---
ctl gc --grace soon
is "gc --grace with no duration: exit 2" "$RC" 2
ctl gc extra
is "gc with an argument: exit 2" "$RC" 2

done_testing
