#!/bin/sh
# berthctl export and import-oci: images pushed to berth (busybox under
# two tags and in a second repository, a two-platform index, an SBOM with
# the image as subject and a signature of the SBOM) are exported to an OCI
# layout that skopeo reads with berth's digests; a second export into it
# adds nothing. Imported into a fresh store (online, while berth serves
# it) every tag, referrer and blob comes back byte for byte, the
# referrers API lists them, fsck is clean and a second import changes
# nothing; referrers without a name (as oras keeps them) follow their
# subject. The other way: layouts skopeo wrote import with --repo.
# Broken layouts (a blob gone, a byte flipped, bad JSON, no name) are
# refused naming what is wrong, and nothing of the broken image stays,
# while the other images of the layout import.
# shellcheck disable=SC2086,SC2317 # $SK_* are lists of options; the checks are called through check()
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
need skopeo
T=$REG_TMP
berth_conf "gc_interval = off"
start_front
R=$(reg)

raw_digest() { # REF: sha256 of the manifest that REF names (skopeo)
	echo "sha256:$(skopeo inspect $SK_OPTS --raw "$1" | sha256sum | cut -d' ' -f1)"
}
# index_refs DIR: the entries of DIR/index.json, "ref.name image.name
# digest" (- when absent), sorted
index_refs() {
	python3 -c '
import json, sys
for m in json.load(open(sys.argv[1] + "/index.json"))["manifests"]:
    a = m.get("annotations", {})
    print(a.get("org.opencontainers.image.ref.name", "-"),
          a.get("io.containerd.image.name", "-"), m["digest"])' "$1" | sort
}
# layout_intact DIR: every blob of DIR hashes to its name
layout_intact() {
	for _f in "$1"/blobs/sha256/*; do
		[ "$(sha256sum "$_f" | cut -d' ' -f1)" = "${_f##*/}" ] || return 1
	done
}
# blobs_of DIR DIGEST: the blobs (config, layers) image DIGEST of layout DIR
# references, through an index too, a line each
blobs_of() {
	python3 -c '
import json, sys
def walk(d):
    m = json.load(open(sys.argv[1] + "/blobs/sha256/" + d[7:]))
    for c in m.get("manifests", []):
        walk(c["digest"])
    for b in ([m["config"]] if "config" in m else []) + m.get("layers", []):
        print(b["digest"])
walk(sys.argv[2])' "$1" "$2" | sort -u
}

# --- into berth through the front server ---
BB=$(mkimage busybox busybox)
MULTI=$(mkimage multiarch multi)
for dst in ex/app:1 ex/app:2 other/app:1; do
	check "skopeo copy busybox -> $dst" sk copy $SK_DEST --preserve-digests \
		"oci:$T/layout:busybox" "docker://$R/$dst"
done
check "skopeo copy --all the index -> ex/multi:latest" sk copy --all \
	$SK_DEST --preserve-digests "oci:$T/layout:multi" "docker://$R/ex/multi:latest"
# an SBOM of busybox, and a signature of the SBOM (a referrer's referrer)
cp "$T/layout/blobs/sha256/${BB#sha256:}" "$T/bbm"
printf '{}' >"$T/empty"
printf '{"spdxVersion":"SPDX-2.3"}' >"$T/sbom"
printf 'signature' >"$T/sig"
for f in empty sbom sig; do push_blob ex/app "$T/$f"; done
oci manifest --config "$T/empty=application/vnd.oci.empty.v1+json" \
	--layer "$T/sbom=application/spdx+json" \
	--artifact-type application/spdx+json --subject "$T/bbm" >"$T/sbomm"
SBOM=$(sha256 "$T/sbomm")
put_manifest ex/app "$SBOM" "$T/sbomm"
expect_status "an SBOM of busybox" 201
oci manifest --config "$T/empty=application/vnd.oci.empty.v1+json" \
	--layer "$T/sig=application/vnd.example.signature" \
	--artifact-type application/vnd.example.signature --subject "$T/sbomm" >"$T/sigm"
SIG=$(sha256 "$T/sigm")
put_manifest ex/app "$SIG" "$T/sigm"
expect_status "a signature of the SBOM" 201

# --- export ---
X=$T/exp
ctl export ex/app:nope "$X"
is "export of a tag that is not there: exit 1" "$RC $(cat "$T/err")" \
	"1 berthctl: no tag 'nope' in 'ex/app'"
check "and writes nothing" test ! -e "$X/index.json"
ctl --json export ex/app other/app:1 ex/multi:latest "$X"
is "export of a repository, a tag and an index: exit 0" "$RC" 0
sed 's/^/# /' "$T/err"
is "its summary" "$(js 'd["images"], d["manifests"], d["written"] == d["blobs"], d["present"]')" \
	"(6, 7, True, 0)"
is "oci-layout" "$(cat "$X/oci-layout")" '{"imageLayoutVersion":"1.0.0"}'
is "index.json: a tag shared by two repositories is named in full, referrers have no ref.name" \
	"$(index_refs "$X")" "$(printf '%s\n' "- ex/app@$SBOM $SBOM" "- ex/app@$SIG $SIG" \
		"2 ex/app:2 $BB" "ex/app:1 ex/app:1 $BB" "latest ex/multi:latest $MULTI" \
		"other/app:1 other/app:1 $BB" | sort)"
check "every blob of the layout hashes to its name" layout_intact "$X"
for b in $(blobs_of "$T/layout" "$BB") $(blobs_of "$T/layout" "$MULTI") \
	"$SBOM" "$SIG" "$(sha256 "$T/sbom")" "$(sha256 "$T/sig")"; do
	[ -e "$X/blobs/sha256/${b#sha256:}" ] || echo "missing $b"
done >"$T/missing"
is "it holds every blob of the images" "$(cat "$T/missing")" ""
is "skopeo reads oci:DIR:2 with berth's digest" "$(raw_digest "oci:$X:2")" "$BB"
is "and oci:DIR:other/app:1" "$(raw_digest "oci:$X:other/app:1")" "$BB"
check "skopeo copies the index out of it" sk copy --all --preserve-digests \
	"oci:$X:latest" "oci:$T/fromexp:multi"
is "with its digest" "$(raw_digest "oci:$T/fromexp:multi")" "$MULTI"
ctl -q export ex/app "$X"
check "a second export into the directory says what it did" grep -qE \
	"^exported 4 images \(3 manifests\) to '$X': 8 blobs, 0 B written, .* already there, in [0-9.]+ s$" "$T/out"
ctl --json export ex/app:2 "$X"
is "and writes nothing again" "$(js 'd["written"], d["present"] == d["blobs"]')" "(0, True)"
is "index.json keeps its entries" "$(index_refs "$X" | wc -l | tr -d ' ')" 6

# --- import into a fresh store, which berth serves meanwhile ---
stop_front
REG_STORE=$T/store2
mkdir -p "$REG_STORE"
berth_conf "gc_interval = off"
start_front
R=$(reg)
ctl --json import-oci "$X"
is "import-oci of berth's export: exit 0" "$RC" 0
sed 's/^/# /' "$T/err"
is "its summary" "$(js 'd["images"], d["skipped"], d["tags"], d["manifests"]')" "(6, 0, 4, 7)"
is "busybox's blobs are uploaded once, then mounted" "$(js 'd["mounted"]')" 4
ctl --json ls ex/app
cp "$T/out" "$T/ls1"
pull_same() { # REPO:TAG NAME: pulled with skopeo, its blobs are the export's
	sk copy --all $SK_SRC --preserve-digests "docker://$R/$1" "oci:$T/pulled:$2" &&
		for _f in "$T"/pulled/blobs/sha256/*; do
			cmp -s "$_f" "$X/blobs/sha256/${_f##*/}" || return 1
		done
}
for t in ex/app:1 ex/app:2 other/app:1 ex/multi:latest; do
	is "$t: the digest exported" "$(raw_digest "docker://$R/$t" 2>/dev/null)" \
		"$(index_refs "$X" | awk -v n="$t" '$2 == n { print $3 }')"
	check "$t: pulled, every blob byte for byte" pull_same "$t" "${t%%:*}-${t#*:}"
done
req GET "/v2/ex/app/referrers/$BB"
is "the referrers API lists the SBOM" \
	"$(python3 -c 'import json, sys; print([m["digest"] for m in json.load(open(sys.argv[1]))["manifests"]])' "$T/body")" \
	"['$SBOM']"
req GET "/v2/ex/app/referrers/$SBOM"
is "and the SBOM's signature" \
	"$(python3 -c 'import json, sys; print([(m["digest"], m["artifactType"]) for m in json.load(open(sys.argv[1]))["manifests"]])' "$T/body")" \
	"[('$SIG', 'application/vnd.example.signature')]"
req GET "/v2/ex/app/blobs/$(sha256 "$T/sbom")"
is "the SBOM's blob" "$(body)" "$(cat "$T/sbom")"
ctl fsck
is "fsck after the import: clean" "$RC" 0
ctl --json import-oci "$X"
is "a second import: exit 0" "$RC" 0
is "changes nothing" "$(js 'd["images"], d["tags"], d["manifests"], d["uploaded"]')" "(6, 0, 0, 0)"
ctl --json ls ex/app
check "the tags are as they were, times included" cmp -s "$T/out" "$T/ls1"

# --- referrers without a name follow their subject, as oras keeps them ---
cp -R "$X" "$T/oras"
python3 -c '
import json, sys
p = sys.argv[1] + "/index.json"
j = json.load(open(p))
keep = []
for m in j["manifests"]:
    a = m["annotations"]
    if a["io.containerd.image.name"] == "ex/app:1":
        a["io.containerd.image.name"] = "or/app:1"
        keep.append(m)
    elif "org.opencontainers.image.ref.name" not in a:
        del a["io.containerd.image.name"]
        keep.append(m)
j["manifests"] = keep
json.dump(j, open(p, "w"))' "$T/oras"
ctl --json import-oci "$T/oras"
is "an image and its unnamed referrers: exit 0" "$RC" 0
is "all three imported" "$(js 'd["images"], d["skipped"], d["manifests"]')" "(3, 0, 3)"
req GET "/v2/or/app/referrers/$BB"
is "the SBOM went where its subject went" \
	"$(python3 -c 'import json, sys; print([m["digest"] for m in json.load(open(sys.argv[1]))["manifests"]])' "$T/body")" \
	"['$SBOM']"
req GET "/v2/or/app/referrers/$SBOM"
is "and the signature where the SBOM went" \
	"$(python3 -c 'import json, sys; print([m["digest"] for m in json.load(open(sys.argv[1]))["manifests"]])' "$T/body")" \
	"['$SIG']"

# --- the other way: layouts skopeo wrote, with --repo ---
check "skopeo copy berth -> oci:" sk copy --all $SK_SRC --preserve-digests \
	"docker://$R/ex/multi:latest" "oci:$T/sk:m"
sk copy $SK_SRC --preserve-digests "docker://$R/ex/app:1" "oci:$T/sk:b"
ctl import-oci "$T/sk"
is "an entry without a name, no --repo: exit 1" "$RC" 1
check "the error names it" grep -q "^berthctl: index.json entry 0 ($MULTI) has no name (io.containerd.image.name): give --repo$" "$T/err"
ctl import-oci --repo sk/imp "$T/sk"
is "import-oci --repo: exit 0" "$RC" 0
out | sed 's/^/# /'
is "the index pulls back with its digest" "$(raw_digest "docker://$R/sk/imp:m")" "$MULTI"
is "and the image" "$(raw_digest "docker://$R/sk/imp:b")" "$BB"

# --- broken layouts ---
mkdir "$T/bad"
cp -R "$T/layout" "$T/bad/gone"
ARM_LAYER=$(python3 -c '
import json, sys
m = json.load(open(sys.argv[1] + "/blobs/sha256/" + sys.argv[2][7:]))
a = [c for c in m["manifests"] if c["platform"]["architecture"] == "arm64"][0]
print(json.load(open(sys.argv[1] + "/blobs/sha256/" + a["digest"][7:]))["layers"][0]["digest"])' "$T/layout" "$MULTI")
rm "$T/bad/gone/blobs/sha256/${ARM_LAYER#sha256:}"
ctl import-oci --repo bad/gone "$T/bad/gone"
is "a blob gone: exit 1" "$RC" 1
check "the error names the blob" grep -q "^berthctl: bad/gone:multi: the blob $ARM_LAYER is missing ('$T/bad/gone/blobs/sha256/${ARM_LAYER#sha256:}')$" "$T/err"
req GET "/v2/bad/gone/manifests/busybox"
expect_status "the other image of the layout is imported" 200
req GET "/v2/bad/gone/manifests/multi"
expect_status "the broken one is not" 404
cp -R "$T/layout" "$T/bad/flip"
python3 -c '
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[len(b) // 2] ^= 1
open(p, "wb").write(b)' "$T/bad/flip/blobs/sha256/${ARM_LAYER#sha256:}"
ctl --json import-oci --repo bad/flip "$T/bad/flip"
is "a flipped byte: exit 1" "$RC" 1
check "the error names the blob" grep -q "^berthctl: bad/flip:multi: the blob $ARM_LAYER ('$T/bad/flip/blobs/sha256/${ARM_LAYER#sha256:}') does not match its digest$" "$T/err"
is "one imported, one skipped" "$(js 'd["images"], d["skipped"]')" "(1, 1)"
req GET "/v2/bad/flip/manifests/multi"
expect_status "the broken image is not there" 404
for b in $(blobs_of "$T/layout" "$MULTI"); do
	[ "$(blobs_of "$T/layout" "$BB" | grep -c "$b")" = 1 ] && continue
	req HEAD "/v2/bad/flip/blobs/$b"
	echo "$STATUS $b"
done >"$T/left"
is "nor any blob of it alone" "$(grep -vc '^404' "$T/left")" 0
cp -R "$T/layout" "$T/bad/man"
printf ' ' >>"$T/bad/man/blobs/sha256/${BB#sha256:}"
ctl import-oci --repo bad/man "$T/bad/man"
is "a manifest changed: exit 1" "$RC" 1
check "the error names it" grep -q "^berthctl: bad/man:busybox: the manifest $BB ('$T/bad/man/blobs/sha256/${BB#sha256:}') does not match its digest and size$" "$T/err"
cp -R "$T/sk" "$T/bad/json"
printf '{"schemaVersion":2,"manifests":[' >"$T/bad/json/index.json"
ctl import-oci --repo bad/json "$T/bad/json"
is "index.json not JSON: exit 1, and why" "$RC $(cut -d: -f1-2 "$T/err")" \
	"1 berthctl: '$T/bad/json/index.json' is not valid JSON"
mkdir "$T/bad/notlayout"
echo '[]' >"$T/bad/notlayout/oci-layout"
ctl export ex/app:1 "$T/bad/notlayout"
is "export into a directory that is not an OCI layout: exit 1, and why" \
	"$RC $(cat "$T/err")" \
	"1 berthctl: '$T/bad/notlayout/oci-layout' is not an OCI layout: it has no imageLayoutVersion"
ctl --json ls
is "no repository of the broken layouts but bad/gone's and bad/flip's good images" \
	"$(js '[r["name"] for r in d["repositories"] if r["name"].startswith("bad/")]')" \
	"['bad/flip', 'bad/gone']"
ctl fsck
is "fsck at the end: clean" "$RC" 0
done_testing
