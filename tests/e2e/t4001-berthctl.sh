#!/bin/sh
# berthctl on the live store while berth serves it behind lighttpd: two
# images that share layers, pushed with skopeo, then ls and du (text and
# --json) against what was pushed, rm of a tag, of a manifest an index
# lists, of a blob a manifest uses, of a whole repository (on a terminal
# too), readonly, upgrade, --help, and the exit statuses.
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
need skopeo
start_front
R=$(reg)
T=$REG_TMP
# line N FILE: its Nth line
line() {
	sed -n "$1p" "$2"
}
# sz DIGEST...: bytes of the blobs and manifests in the OCI layout
sz() {
	_n=0
	for _d; do
		_n=$((_n + $(wc -c <"$T/layout/blobs/sha256/${_d#sha256:}")))
	done
	echo "$_n"
}
# human BYTES: as berthctl writes sizes (powers of 1024, one decimal,
# rounded half up, and 1023.95 KiB is 1.0 MiB)
human() {
	awk -v n="$1" 'BEGIN {
		if (n < 1024) { printf "%d B\n", n; exit }
		split("KiB MiB GiB TiB", u, " ")
		for (i = 1; i <= 4; i++) {
			p = 1024 ^ i
			t = int((n * 10 + p / 2) / p)
			if (t < 10240) break
		}
		printf "%d.%d %s\n", int(t / 10), t % 10, u[i]
	}'
}

# --- two images that share a layer: busybox, and an index whose amd64
# image is that same busybox image, beside an arm64 one ---
START=$(date +%s)
BB=$(mkimage busybox busybox)
MULTI=$(mkimage multiarch multi)
python3 -c '
import json, sys
def m(d):
    return json.load(open(sys.argv[1] + "/blobs/sha256/" + d[7:]))
bb, idx = m(sys.argv[2]), m(sys.argv[3])
arm = [x["digest"] for x in idx["manifests"] if x["platform"]["architecture"] == "arm64"][0]
amd = [x["digest"] for x in idx["manifests"] if x["platform"]["architecture"] == "amd64"][0]
print(bb["config"]["digest"], bb["layers"][0]["digest"], arm,
      m(arm)["config"]["digest"], m(arm)["layers"][0]["digest"], amd)' \
	"$T/layout" "$BB" "$MULTI" >"$T/digests"
read -r BB_CFG BB_LAYER ARM ARM_CFG ARM_LAYER AMD <"$T/digests"
is "the index's amd64 image is the busybox image" "$AMD" "$BB"
check "push busybox to ctl/base:1" sk copy $SK_DEST --preserve-digests \
	"oci:$T/layout:busybox" "docker://$R/ctl/base:1"
check "push busybox to ctl/app:1" sk copy $SK_DEST --preserve-digests \
	"oci:$T/layout:busybox" "docker://$R/ctl/app:1"
check "push the index to ctl/app:multi" sk copy --all $SK_DEST \
	--preserve-digests "oci:$T/layout:multi" "docker://$R/ctl/app:multi"
check "push busybox to ctl/tmp:1" sk copy $SK_DEST --preserve-digests \
	"oci:$T/layout:busybox" "docker://$R/ctl/tmp:1"
END=$(date +%s)

# --- ls ---
ctl ls
is "ls: exit 0" "$RC" 0
is "ls: a line per repository with its tags and manifests" \
	"$(out | awk 'NR > 1 { print $1, $2, $3 }' | tr '\n' ' ')" \
	"ctl/app 2 3 ctl/base 1 1 ctl/tmp 1 1 "
is "ls: a header" "$(out | head -n 1 | tr -s ' ')" "REPOSITORY TAGS MANIFESTS"
ctl --json ls
is "ls --json: exit 0" "$RC" 0
is "ls --json: names and counts" \
	"$(js '[(r["name"], r["tags"], r["manifests"], r["blobs"], r["listed"]) for r in d["repositories"]]')" \
	"[('ctl/app', 2, 3, 4, True), ('ctl/base', 1, 1, 2, True), ('ctl/tmp', 1, 1, 2, True)]"

S1=$(sz "$BB" "$BB_CFG" "$BB_LAYER")
SM=$(sz "$MULTI" "$BB" "$BB_CFG" "$BB_LAYER" "$ARM" "$ARM_CFG" "$ARM_LAYER")
ctl --json ls ctl/app
is "ls REPO --json: exit 0" "$RC" 0
js 'd["repository"]' \
	'[(t["tag"], t["digest"], t["size"]) for t in d["tags"]]' \
	'[t["media_type"] for t in d["tags"]]' \
	'[calendar.timegm(time.strptime(t["pushed"], "%Y-%m-%dT%H:%M:%SZ")) for t in d["tags"]]' \
	'd["tags"][0]["pushed"]' >"$T/js"
is "ls REPO --json: the repository" "$(line 1 "$T/js")" ctl/app
is "ls REPO --json: tags, digests and sizes (the manifest and all it references)" \
	"$(line 2 "$T/js")" "[('1', '$BB', $S1), ('multi', '$MULTI', $SM)]"
is "ls REPO --json: media types" "$(line 3 "$T/js")" \
	"['application/vnd.oci.image.manifest.v1+json', 'application/vnd.oci.image.index.v1+json']"
pushed_ok=0
for t in $(line 4 "$T/js" | tr -d '[],'); do
	[ "$t" -ge "$START" ] && [ "$t" -le "$END" ] || pushed_ok=1
done
is "ls REPO --json: pushed during this test, UTC in ISO 8601" "$pushed_ok" 0
PUSHED=$(line 5 "$T/js")
ctl ls ctl/app
is "ls REPO: exit 0" "$RC" 0
is "ls REPO: a header" "$(out | head -n 1 | tr -s ' ')" "TAG DIGEST SIZE PUSHED"
is "ls REPO: tag, digest, size in human units, push time" \
	"$(out | awk '$1 == "1" { print $2, $3, $4, $5 }')" \
	"$BB $(human "$S1") $PUSHED"
is "ls REPO: the index's line" "$(out | awk '$1 == "multi" { print $2, $3, $4 }')" \
	"$MULTI $(human "$SM")"
ctl ls ctl/none
is "ls of an unknown repository: exit 1" "$RC" 1
is "ls of an unknown repository: says so" "$(cat "$T/err")" \
	"berthctl: no repository 'ctl/none'"
ctl ls Bad
is "ls of an invalid name: exit 2" "$RC" 2

# --- du: the busybox config and layer are in all three repositories ---
ctl --json du
is "du --json: exit 0" "$RC" 0
SHARED=$(sz "$BB_CFG" "$BB_LAYER")
APP=$(sz "$BB" "$MULTI" "$ARM" "$BB_CFG" "$BB_LAYER" "$ARM_CFG" "$ARM_LAYER")
STORE=$(($(sz "$BB_CFG" "$BB_LAYER" "$ARM_CFG" "$ARM_LAYER" "$MULTI" "$ARM") + 3 * $(sz "$BB")))
js '[(r["name"], r["total"], r["unique"], r["blobs"], r["manifests"]) for r in d["repositories"]]' \
	'(d["store"]["total"], d["store"]["blobs"], d["store"]["manifests"])' >"$T/js"
is "du --json: total and unique of each repository, exact" "$(line 1 "$T/js")" \
	"[('ctl/app', $APP, $((APP - SHARED)), 4, 3), ('ctl/base', $S1, $(sz "$BB"), 2, 1), ('ctl/tmp', $S1, $(sz "$BB"), 2, 1)]"
is "du --json: the store's total counts each blob once, each repository's manifests" \
	"$(line 2 "$T/js")" "($STORE, 4, 5)"
ctl du
is "du: exit 0" "$RC" 0
is "du: total and unique in human units" "$(out | awk '$1 == "ctl/base" { print $2, $3, $4, $5 }')" \
	"$(human "$S1") $(human "$(sz "$BB")")"
is "du: then the store's total" "$(out | tail -n 1)" \
	"the store: $(human "$STORE") in 4 blobs and 5 manifests"
ctl --json du ctl/base ctl/none
is "du of an unknown repository: exit 1" "$RC" 1
is "du REPO...: the others are measured" "$(js '[r["name"] for r in d["repositories"]]')" \
	"['ctl/base']"
check "du of an unknown repository: says so" \
	grep -qx "berthctl: no repository 'ctl/none'" "$T/err"

# --- readonly ---
ctl readonly
is "readonly: off at first" "$RC $(out)" "0 the registry is read-write"
ctl readonly on
is "readonly on" "$RC $(out)" "0 the registry is now read-only for maintenance"
ctl --json readonly
is "readonly --json" "$RC $(js '(d["readonly"], d["changed"])')" "0 (True, False)"
req GET "/v2/ctl/app/manifests/$BB"
expect_status "a pull while read-only" 200
ctl readonly on
is "readonly on, again: nothing changes" "$RC $(out)" \
	"0 the registry is read-only for maintenance"
ctl readonly off
is "readonly off" "$RC $(out)" "0 the registry is now read-write"
ctl readonly
is "readonly: off again" "$RC $(out)" "0 the registry is read-write"
ctl readonly maybe
is "readonly with another word: exit 2" "$RC" 2

# --- rm ---
ctl rm ctl/app:1
is "rm off a terminal without --yes: exit 2" "$RC" 2
ctl rm ctl/app
is "rm REPO off a terminal without --yes: exit 2" "$RC" 2
ctl ls
is "and nothing was removed" "$(out | awk 'NR > 1 { print $1 }' | tr '\n' ' ')" \
	"ctl/app ctl/base ctl/tmp "
ctl rm --yes 'ctl/app:bad:tag'
is "rm of an invalid REF: exit 2" "$RC" 2

ctl -q rm --yes ctl/app:1
is "rm REPO:TAG: exit 0" "$RC" 0
is "rm -q: only the summary line" "$(out)" "removed 1 of 1"
req GET /v2/ctl/app/manifests/1
expect_status "the tag is gone" 404
req GET "/v2/ctl/app/manifests/$BB"
expect_status "the image stays by digest" 200
ctl ls ctl/app
is "ls: the other tag stays" "$(out | awk 'NR > 1 { print $1 }')" multi
ctl rm --yes ctl/app:1
is "rm of a tag that is gone: exit 1" "$RC" 1
is "rm of a tag that is gone: says so" "$(cat "$T/err")" "berthctl: no tag 'ctl/app:1'"

ctl rm --yes "ctl/app@$BB"
is "rm of a manifest an index lists: exit 1" "$RC" 1
is "rm of a manifest an index lists: names the index" "$(cat "$T/err")" \
	"berthctl: cannot remove 'ctl/app@$BB': the index 'ctl/app@$MULTI' lists it (remove the index first)"
ctl --json rm --yes "ctl/app@$BB"
is "rm --json of it: in use, by the index" \
	"$RC $(js '[(r["what"], r["removed"], r["error"], r["used_by"]) for r in d["results"]]')" \
	"1 [('manifest', False, 'in use', 'ctl/app@$MULTI')]"
ctl rm --yes "ctl/app@$ARM_LAYER"
is "rm of a blob a manifest uses: exit 1, naming the manifest" "$RC $(cat "$T/err")" \
	"1 berthctl: cannot remove 'ctl/app@$ARM_LAYER': the manifest 'ctl/app@$ARM' references it (remove the manifest first)"
req GET "/v2/ctl/app/manifests/$BB"
expect_status "the refused manifest is there" 200

# on a terminal: rm asks, and shows its progress on stderr
onterm() { # ANSWER ARGS...: berthctl on a pty, answering; what it wrote and its status in $T/term
	_answer=$1
	shift
	python3 -c '
import os, pty, sys
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
seen = b""
def read():
    global seen
    try:
        b = os.read(fd, 4096)
    except OSError:
        return False
    seen += b
    return bool(b)
while b"[y/N]" not in seen and read():
    pass
os.write(fd, sys.argv[1].encode() + b"\n")
while read():
    pass
_, st = os.waitpid(pid, 0)
sys.stdout.write(seen.decode(errors="replace").replace("\r\n", "\n"))
print("status", os.waitstatus_to_exitcode(st))' "$_answer" "$CTL" -c "$T/berth.conf" "$@" \
		>"$T/term" 2>>"$REG_RUN/berthctl.log"
}
onterm n rm ctl/tmp
check "rm on a terminal asks; no is exit 1" sh -c \
	"grep -q 'the whole repository ctl/tmp' '$T/term' && grep -q '^status 1\$' '$T/term'"
ctl ls
is "and removes nothing" "$(out | awk 'NR > 1 { print $1 }' | tr '\n' ' ')" \
	"ctl/app ctl/base ctl/tmp "
onterm y rm ctl/tmp
if grep -q "deleting 'ctl/tmp': [0-9]*/[0-9]*$(printf '\033')\[K" "$T/term" &&
	grep -q 'deleted the repository ctl/tmp: 1 tag, 1 manifest, 2 blobs' "$T/term" &&
	grep -q '^status 0$' "$T/term"; then
	ok "rm on a terminal: yes removes, with progress"
else
	not_ok "rm on a terminal: yes removes, with progress"
	sed 's/^/# /' "$T/term"
fi

ctl rm --yes ctl/app
is "rm --yes REPO: exit 0" "$RC" 0
is "rm --yes REPO: what it held" "$(out | head -n 1)" \
	"deleted the repository ctl/app: 1 tag, 3 manifests, 4 blobs ($(human $((APP - SHARED))) freed)"
is "rm --yes REPO: the summary line" "$(out | tail -n 1)" "removed 1 of 1"
is "no progress off a terminal" "$(cat "$T/err")" ""
req GET /v2/_catalog
is "the repository has left the catalog" "$(tr -d ' \n' <"$T/body")" \
	'{"repositories":["ctl/base"]}'
ctl ls
is "and berthctl ls" "$(out | awk 'NR > 1 { print $1 }')" ctl/base
check "its own blob files went with it" sh -c \
	"! find '$REG_STORE/blobs' -type f | grep -q '${ARM_LAYER#sha256:}'"
ctl --json du
is "du: what is left" "$(js '(d["store"]["total"], d["store"]["blobs"], d["store"]["manifests"])')" \
	"($S1, 2, 1)"
check "the other image still pulls" sk copy $SK_SRC --preserve-digests \
	"docker://$R/ctl/base:1" "oci:$T/back:base"
is "byte for byte" "$(same_blobs "$T/back" "$BB" "$BB_CFG" "$BB_LAYER")" 0
ctl rm --yes ctl/app
is "rm of a repository that is gone: exit 1" "$RC $(cat "$T/err")" \
	"1 berthctl: no repository 'ctl/app'"

# --- upgrade ---
ctl upgrade
is "upgrade of a current root: nothing to do" "$RC $(out)" \
	"0 the storage root '$REG_STORE' has format 3 already: nothing to do"
ctl --json upgrade
is "upgrade --json" "$RC $(js '(d["format"], d["upgraded"])')" "0 (3, False)"

# --- what cannot be used: exit 3 ---
mkdir "$T/nostore"
printf 'root = %s\n' "$T/nostore" >"$T/nostore.conf"
for cmd in ls du "rm --yes x" gc fsck "readonly on" upgrade; do
	# shellcheck disable=SC2086 # the command and its arguments
	"$CTL" -c "$T/nostore.conf" $cmd >"$T/out" 2>"$T/err" </dev/null
	is "$cmd on a root without a store: exit 3" "$?" 3
done
is "which it names" "$(cat "$T/err")" \
	"berthctl: no store at '$T/nostore', the root that '$T/nostore.conf' names"
is "and where there was none, none is made" "$(ls -A "$T/nostore")" ""
"$CTL" -c "$T/missing.conf" ls >"$T/out" 2>"$T/err"
is "a config that is not there: exit 3" "$? $(cat "$T/err")" \
	"3 berthctl: cannot open config '$T/missing.conf': No such file or directory"
"$CTL" -c "$T" ls >"$T/out" 2>"$T/err"
is "a config that cannot be read: exit 3" "$? $(cat "$T/err")" \
	"3 berthctl: cannot read config '$T': Is a directory"
printf 'root = relative\n' >"$T/bad.conf"
"$CTL" -c "$T/bad.conf" ls >"$T/out" 2>"$T/err"
is "a config that is wrong: exit 3" "$?" 3

# --- usage ---
"$CTL" --help >"$T/out" 2>"$T/err"
is "--help: exit 0" "$?" 0
check "--help: the usage and every command" sh -c \
	"grep -q '^usage: berthctl \[-c FILE\] \[--json\] \[-q\] COMMAND \[ARGS\]$' '$T/out' &&
	 for c in ls du rm gc fsck readonly upgrade; do grep -q \"^  \$c \" '$T/out' || exit 1; done"
"$CTL" du --help >"$T/out" 2>"$T/err"
is "COMMAND --help: its usage" "$? $(head -n 1 "$T/out")" "0 usage: berthctl du [REPO...]"
"$CTL" -V >"$T/out"
is "-V" "$? $(out)" "0 berthctl $(sed -n 's/^AC_INIT(\[berth\], \[\([^]]*\)\].*/\1/p' "$top_srcdir/configure.ac")"
"$CTL" >"$T/out" 2>"$T/err"
is "no command: exit 2" "$?" 2
"$CTL" frob >"$T/out" 2>"$T/err"
is "an unknown command: exit 2" "$? $(cat "$T/err")" \
	"2 berthctl: 'frob' is not a command; see 'berthctl --help'"
"$CTL" -c "$T/berth.conf" ls --json >"$T/out" 2>"$T/err"
is "an option of berthctl's after the command: exit 2" "$? $(head -n 1 "$T/err")" \
	"2 berthctl: --json goes before the command: berthctl --json ls ..."
"$CTL" --frob ls >"$T/out" 2>"$T/err"
is "an unknown option: exit 2" "$?" 2

done_testing
