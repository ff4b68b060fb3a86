#!/bin/sh
# berthctl import-registry: Debian's reference registry (docker-registry)
# gets images from skopeo (several tags, a tag pushed twice, which leaves
# an untagged revision, layers shared across repositories, a nested
# name, a two-platform index); a copy of its storage, damaged as its
# crashes leave it, and with an OCI manifest without a mediaType added as
# the reference registry stores one, is imported into berth while berth
# serves. The dry
# run writes nothing; the import skips each broken part and names it,
# and everything whole comes back from berth byte for byte; fsck finds
# the store clean; a second import adds nothing; an import killed with
# SIGKILL finishes when run again; --link hard-links the blob files.
# shellcheck disable=SC2086 # $SK_* are lists of options
# shellcheck source=tests/e2e/lib.sh
. "${srcdir:-$(dirname "$0")}/lib.sh"
# shellcheck source=tests/e2e/lib-front.sh
. "$srcdir/lib-front.sh"
# shellcheck source=tests/e2e/lib-http.sh
. "$srcdir/lib-http.sh"
# shellcheck source=tests/e2e/lib-ctl.sh
. "$srcdir/lib-ctl.sh"
# shellcheck source=tests/e2e/lib-clients.sh
. "$srcdir/lib-clients.sh"
need skopeo docker-registry
T=$REG_TMP

# --- the reference registry, and what is pushed to it ---
start_reference "$T/ref"

BB=$(mkimage busybox busybox)
RND=$(mkimage random random 2 1)
RND2=$(mkimage random random2 1 1)
MULTI=$(mkimage multiarch multi)
LOST_LAYER=$(mkimage random lostlayer 1 1)
EMPTY_LAYER=$(mkimage random emptylayer 2 1)
LOST_MANIFEST=$(mkimage random lostmanifest 1 1)
GARBAGE=$(mkimage random garbage 1 1)
MANY=$(mkimage random many 16 1)
# push TAG REF [OPTIONS...]: the layout's TAG to the reference registry
push() {
	_tag=$1 _ref=$2
	shift 2
	sk copy --dest-tls-verify=false --preserve-digests "$@" \
		"oci:$T/layout:$_tag" "docker://127.0.0.1:$REGPORT/$_ref"
}
pushed=0
push busybox lib/busybox:1 && pushed=$((pushed + 1))
push busybox lib/busybox:latest && pushed=$((pushed + 1))
push busybox team/a/b/nested:1 && pushed=$((pushed + 1))
push random app:v1 && pushed=$((pushed + 1))
push random app:stable && pushed=$((pushed + 1))
push random2 app:stable && pushed=$((pushed + 1)) # leaves nothing untagged
push random2 app:v1 && pushed=$((pushed + 1))     # RND is untagged now
push random untagged:v1 && pushed=$((pushed + 1))
push random2 untagged:v1 && pushed=$((pushed + 1))
push multi app/multi:1 --all && pushed=$((pushed + 1))
push lostlayer broken/layer:1 && pushed=$((pushed + 1))
push emptylayer broken/empty:1 && pushed=$((pushed + 1))
push lostmanifest broken/manifest:1 && pushed=$((pushed + 1))
push garbage broken/garbage:1 && pushed=$((pushed + 1))
push many many:1 && pushed=$((pushed + 1))
is "15 pushes to the reference registry" $pushed 15
kill $REF_PID
wait $REF_PID 2>/dev/null

# --- a copy, damaged as the reference registry's crashes leave it ---
V2=docker/registry/v2
cp -a "$T/ref/data" "$T/copy"
# layers DIGEST: the layers of the layout's image manifest DIGEST
layers() {
	python3 -c 'import json, sys
m = json.load(open(sys.argv[1] + "/blobs/sha256/" + sys.argv[2][7:]))
print("\n".join(l["digest"] for l in m["layers"]))' "$T/layout" "$1"
}
# data DIR DIGEST: the blob data file of DIGEST in the tree DIR
data() {
	_h=${2#sha256:}
	echo "$1/$V2/blobs/sha256/$(echo "$_h" | cut -c1-2)/$_h/data"
}
GONE=$(layers "$LOST_LAYER")
rm "$(data "$T/copy" "$GONE")"
EMPTIED=$(layers "$EMPTY_LAYER" | sed -n 1p)
: >"$(data "$T/copy" "$EMPTIED")"
rm "$(data "$T/copy" "$LOST_MANIFEST")"
printf 'not a digest\n' >"$T/copy/$V2/repositories/broken/garbage/_manifests/tags/1/current/link"
# an OCI manifest without a mediaType (the registry keeps no Content-Type),
# tagged nomt in lib/busybox, as the reference registry stores one
NOMT=$(python3 -c 'import hashlib, json, os, sys
layout, top, bb = sys.argv[1:4]
m = json.load(open(layout + "/blobs/sha256/" + bb[7:]))
del m["mediaType"]
body = json.dumps(m, separators=(",", ":")).encode()
d = hashlib.sha256(body).hexdigest()
def put(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
put("%s/blobs/sha256/%s/%s/data" % (top, d[:2], d), body)
repo = top + "/repositories/lib/busybox/_manifests/"
put(repo + "revisions/sha256/%s/link" % d, b"sha256:" + d.encode())
put(repo + "tags/nomt/current/link", b"sha256:" + d.encode())
put(repo + "tags/nomt/index/sha256/%s/link" % d, b"sha256:" + d.encode())
print("sha256:" + d)' "$T/layout" "$T/copy/$V2" "$BB")
# the damaged tree is imported three times, each from a fresh copy of it
cp -a "$T/copy" "$T/copy2"
cp -a "$T/copy" "$T/copy3"
cp -a "$T/copy" "$T/pristine"

# --- the dry run writes nothing ---
start_front
R=$(reg)
ctl --json import-registry --dry-run "$T/copy"
is "import-registry --dry-run: exit 0" "$RC" 0
is "it would import 10 repositories, 12 manifests, 9 tags; skip 9 parts" \
	"$(js 'd["repositories"], d["manifests"], d["tags"], len(d["skipped"])')" \
	"(10, 12, 9, 9)"
check "it wrote nothing" test -z "$(find "$REG_STORE/blobs" -type f)"
ctl ls
is "the store lists no repository" "$(out)" ""
check "nor was the tree changed" diff -r "$T/copy" "$T/pristine"

# --- the import ---
ctl --json import-registry "$T/copy"
is "import-registry: exit 0" "$RC" 0
sed 's/^/# /' "$T/err"
is "10 repositories, 12 manifests (two untagged), 9 tags" \
	"$(js 'd["repositories"], d["manifests"], d["tags"]')" "(10, 12, 9)"
check "shared layers were found there already" test "$(js 'd["present"]')" -ge 2
is "9 broken parts skipped" "$(js 'len(d["skipped"])')" 9
check "the missing layer is named" grep -q "skipped the layer broken/layer@$GONE: its blob data is missing" "$T/err"
check "so is its manifest" grep -q "skipped the manifest broken/layer@$LOST_LAYER: it references the blob $GONE that is not imported" "$T/err"
check "and its tag" grep -q "skipped the tag broken/layer:1: it names the manifest $LOST_LAYER, which is skipped" "$T/err"
check "the emptied layer is named" grep -q "skipped the layer broken/empty@$EMPTIED: its blob data is empty" "$T/err"
check "so is its manifest" grep -q "skipped the manifest broken/empty@$EMPTY_LAYER: it references the blob $EMPTIED" "$T/err"
check "the manifest whose blob is gone is named" grep -q "skipped the manifest broken/manifest@$LOST_MANIFEST: its blob data is missing" "$T/err"
check "the tag whose link is garbage is named" grep -q "skipped the tag broken/garbage:1: the link file holds garbage" "$T/err"
check "the tree is as it was" diff -r "$T/copy" "$T/pristine"

# --- everything whole comes back from berth ---
raw_digest() { # REF: sha256 of the manifest berth serves for REF
	echo "sha256:$(skopeo inspect $SK_OPTS --raw "docker://$R/$1" | sha256sum | cut -d' ' -f1)"
}
for ref in lib/busybox:1="$BB" lib/busybox:latest="$BB" lib/busybox:nomt="$NOMT" \
	team/a/b/nested:1="$BB" app:v1="$RND2" app:stable="$RND2" \
	app@"$RND"="$RND" untagged:v1="$RND2" untagged@"$RND"="$RND" \
	app/multi:1="$MULTI" many:1="$MANY" broken/garbage@"$GARBAGE"="$GARBAGE"; do
	is "berth serves ${ref%%=*}" "$(raw_digest "${ref%%=*}")" "${ref#*=}"
done
bad=0
for ref in lib/busybox:1=busybox app:v1=random2 untagged@"$RND"=random \
	many:1=many; do
	sk copy $SK_SRC --preserve-digests "docker://$R/${ref%%=*}" \
		"oci:$T/back:${ref#*=}" || bad=$((bad + 1))
done
check "and its images copy back" sk copy --all $SK_SRC --preserve-digests \
	"docker://$R/app/multi:1" "oci:$T/back:multi"
is "4 pulls" $bad 0
bad=0
for f in "$T"/back/blobs/sha256/*; do
	cmp -s "$f" "$T/layout/blobs/sha256/${f##*/}" || bad=$((bad + 1))
done
is "every pulled blob equals the pushed one" $bad 0
req GET /v2/broken/layer/manifests/1
expect_status "the tag of the manifest whose layer is gone: 404" 404
req GET "/v2/broken/layer/manifests/$LOST_LAYER"
expect_status "and the manifest: 404" 404
req GET "/v2/broken/layer/blobs/$GONE"
expect_status "and the layer: 404" 404
req GET "/v2/broken/empty/manifests/$EMPTY_LAYER"
expect_status "the manifest of the emptied layer: 404" 404
req GET "/v2/broken/empty/blobs/$EMPTIED"
expect_status "the emptied layer: 404" 404
req GET "/v2/broken/manifest/manifests/$LOST_MANIFEST"
expect_status "the manifest whose blob is gone: 404" 404
req GET /v2/broken/garbage/manifests/1
expect_status "the tag whose link is garbage: 404" 404
ctl fsck
is "fsck: clean" "$RC" 0
ctl ls
out >"$T/ls1"
ctl ls app
out >"$T/ls-app"

# --- again: nothing new ---
ctl --json import-registry "$T/copy"
is "a second import: exit 0" "$RC" 0
is "it copied nothing" "$(js 'd["copied"] + d["linked"]')" 0
is "and found every blob there" "$(js 'd["present"] == d["blobs"]')" True
is "the same manifests and tags" "$(js 'd["manifests"], d["tags"]')" "(12, 9)"
ctl ls
is "the store is as it was" "$(out)" "$(cat "$T/ls1")"
ctl ls app
is "its tags were not set again" "$(out)" "$(cat "$T/ls-app")"
ctl --json import-registry --dry-run "$T/copy"
is "a dry run now would copy nothing" "$(js 'd["copied"], d["present"] == d["blobs"]')" "(0, True)"
# a tag that a client moved in berth meanwhile stays where it was moved
check "skopeo moves app:v1 in berth" sk copy $SK_DEST --preserve-digests \
	"oci:$T/layout:random" "docker://$R/app:v1"
ctl import-registry "$T/copy"
is "an import after it: exit 0" "$RC" 0
check "it says it leaves the tag" grep -q "skipped the tag app:v1: berth's tag names the manifest $RND, left as it is" "$T/err"
is "app:v1 is the pushed one" "$(raw_digest app:v1)" "$RND"

# --- killed, then resumed, into a fresh store ---
stop_front
FIRST=$REG_STORE
REG_STORE=$T/store2
mkdir -p "$REG_STORE"
berth_conf
"$BERTH_BIN" -c "$T/berth.conf" --gc >"$T/gc.out" 2>&1 ||
	bail "berth cannot make the store $REG_STORE"
"$CTL" -c "$T/berth.conf" import-registry "$T/copy2" >"$T/killed.out" 2>&1 &
IMPORT=$!
# kill it once it stored a blob file (it may have finished: still valid)
_i=0
while kill -0 $IMPORT 2>/dev/null && [ $_i -lt 1000 ] &&
	[ -z "$(find "$REG_STORE/blobs" -type f | head -n 1)" ]; do
	sleep 0.01
	_i=$((_i + 1))
done
kill -9 $IMPORT 2>/dev/null
{ wait $IMPORT; } 2>/dev/null
KILLED=$?
echo "# killed with $(find "$REG_STORE/blobs" -type f | wc -l) blob files stored (status $KILLED)"
ctl import-registry "$T/copy2"
is "the import again: exit 0" "$RC" 0
out | sed 's/^/# /'
ctl ls
is "it made the same repositories and tags" "$(out)" "$(cat "$T/ls1")"
is "the same blob files" "$(blob_files)" "$(REG_STORE=$FIRST blob_files)"
ctl fsck
is "fsck: clean" "$RC" 0

# --- --link into another fresh store: hard links ---
REG_STORE=$T/store3
mkdir -p "$REG_STORE"
berth_conf
"$BERTH_BIN" -c "$T/berth.conf" --gc >"$T/gc.out" 2>&1 ||
	bail "berth cannot make the store $REG_STORE"
ctl --json import-registry --link "$T/copy3"
is "import-registry --link: exit 0" "$RC" 0
check "it linked the blob files" test "$(js 'd["linked"]')" -ge 16
L=$(layers "$MANY" | sed -n 1p)
is "a layer's file is the tree's" "$(stat -c %i "$(blob_file "$L")")" \
	"$(stat -c %i "$(data "$T/copy3" "$L")")"
is "with two links" "$(stat -c %h "$(blob_file "$L")")" 2
is "the same repositories and tags" "$(ctl ls && out)" "$(cat "$T/ls1")"
ctl fsck
is "fsck: clean" "$RC" 0
ctl import-registry --dry-run /nonexistent
is "a directory without a registry's storage: exit 1" "$RC" 1

done_testing
