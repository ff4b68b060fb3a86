#!/bin/sh
# The audit log through lighttpd with logins and an access file: a push,
# a tag move, a tag delete and a manifest delete by a client, a denied
# push, an anonymous request refused, berthctl rm, gc and readonly; then
# berthctl log with each filter, and --json. A write that fails leaves no
# entry; one the push rules refuse (an immutable tag) is recorded as
# denied, with the reason. Last, workers killed while a client pushes:
# every manifest there is has its push entry, and no entry names one
# that is not there.
# shellcheck source=tests/e2e/lib.sh
. "${srcdir:-$(dirname "$0")}/lib.sh"
# shellcheck source=tests/e2e/lib-front.sh
. "$srcdir/lib-front.sh"
# shellcheck source=tests/e2e/lib-http.sh
. "$srcdir/lib-http.sh"
# shellcheck source=tests/e2e/lib-ctl.sh
. "$srcdir/lib-ctl.sh"
need openssl
T=$REG_TMP
for u in alice bob admin; do add_user "$u" "pw-$u"; done
cat >"$T/access.conf" <<RULES
alice   push,delete     team/*
bob     pull            *
admin   all             *
RULES
echo "immutable team/fixed rel*" >"$T/policy.conf"
berth_conf "access = $T/access.conf" "policy = $T/policy.conf" \
	"gc_interval = off"
FRONT_AUTH=optional
start_front
ME=$(id -un)
# put_as USER REPO REF FILE: PUT the manifest FILE as USER
put_as() {
	req PUT "/v2/$2/manifests/$3" -u "$1:pw-$1" --data-binary "@$4" \
		-H 'Content-Type: application/vnd.oci.image.manifest.v1+json'
}

# two images of team/app: a config of their own, a layer they share
mkblob "$T/layer" 3000
echo '{"n":1}' >"$T/c1"
echo '{"n":2}' >"$T/c2"
oci manifest --config "$T/c1" --layer "$T/layer" >"$T/m1"
oci manifest --config "$T/c2" --layer "$T/layer" >"$T/m2"
M1=$(oci digest "$T/m1")
M2=$(oci digest "$T/m2")
C1=$(sha256 "$T/c1")
for f in c1 c2 layer; do
	push_blob team/app "$T/$f" -u alice:pw-alice
	[ "$STATUS" = 201 ] || bail "cannot push $f: $STATUS"
done
ctl log
is "uploads are not recorded" "$(out)" ""

put_as alice team/app v1 "$T/m1"
expect_status "alice pushes team/app:v1" 201
sleep 1 # --since below falls between the first push and the rest
SINCE=$(date -u +%Y-%m-%dT%H:%M:%SZ)
put_as alice team/app v1 "$T/m2"
expect_status "and moves v1 to another image" 201
put_as alice team/app v2 "$T/m2"
expect_status "which she tags v2 too" 201
req DELETE /v2/team/app/manifests/v2 -u alice:pw-alice
expect_status "she deletes the tag v2" 202
req DELETE "/v2/team/app/manifests/$M1" -u alice:pw-alice
expect_status "and the image v1 named before" 202
# refused: by the rules, or by the store
push_blob team/app "$T/c1" -u bob:pw-bob
expect_error "bob may not push" 403 DENIED
req GET /v2/team/app/tags/list
expect_error "an anonymous client must log in" 401 UNAUTHORIZED
req GET /v2/
expect_status "the anonymous GET /v2/ every client starts with" 401
oci manifest --config "$T/c1" --layer "$T/m1" >"$T/m3"
put_as alice team/app v3 "$T/m3"
expect_error "a manifest whose layer is not there" 404 MANIFEST_BLOB_UNKNOWN
# berthctl: the Unix user, at "local"; the GC: "gc"
ctl rm --yes team/app:v1
is "berthctl rm team/app:v1" "$RC" 0
ctl gc --grace 0
is "berthctl gc" "$RC" 0
ctl readonly on
ctl readonly off

ctl log
is "berthctl log" "$RC" 0
sed 's/^/#   /' "$T/out"
# the events, and who did them from where, in order
got=$(awk '{ print $2, $3, $4 }' "$T/out" | tr '\n' ';')
want="push user=alice addr=127.0.0.1;push user=alice addr=127.0.0.1;"
want="${want}push user=alice addr=127.0.0.1;tag-delete user=alice addr=127.0.0.1;"
want="${want}manifest-delete user=alice addr=127.0.0.1;denied user=bob addr=127.0.0.1;"
want="${want}login-refused user=\"\" addr=127.0.0.1;tag-delete user=$ME addr=local;"
want="${want}blob-delete user=gc addr=local;readonly-on user=$ME addr=local;"
want="${want}readonly-off user=$ME addr=local;"
is "one entry per change and refusal, in order" "$got" "$want"
check "the move names the manifest v1 named before" \
	grep -q "push user=alice addr=127.0.0.1 repo=team/app ref=v1 digest=$M2 old=$M1\$" "$T/out"
check "the delete names its manifest" \
	grep -q "manifest-delete .* ref=$M1\$" "$T/out"
check "the refusal names the repository and what was wanted" \
	grep -q "denied user=bob addr=127.0.0.1 repo=team/app note=push\$" "$T/out"
check "the GC removed the link to the config only v1's image used" \
	grep -q "blob-delete user=gc addr=local repo=team/app ref=$C1\$" "$T/out"

ctl log --user alice
is "--user alice" "$(awk '{ print $2 }' "$T/out" | tr '\n' ' ')" \
	"push push push tag-delete manifest-delete "
ctl log --user ""
is "--user '' (anonymous)" "$(awk '{ print $2 }' "$T/out")" login-refused
ctl log --repo team/app --since "$SINCE"
is "--since a time: all but the first push" "$(wc -l <"$T/out")" 8
ctl log --since "$SINCE"
is "--since alone: with maintenance mode's two" "$(wc -l <"$T/out")" 10
ctl log --repo other
is "--repo other" "$(out)" ""
ctl log --since 1h --limit 2 --repo team/app
is "--limit 2: the newest two" "$(awk '{ print $2 }' "$T/out" | tr '\n' ' ')" \
	"tag-delete blob-delete "
ctl log --since yesterday
is "--since refuses what is not a time" "$RC" 2
ctl --json log --user alice --limit 3
is "--json" "$(js 'len(d["entries"])' \
	'sorted(d["entries"][0])' \
	'[e["event"] for e in d["entries"]]' \
	'd["entries"][0]["reference"]' \
	'd["entries"][0]["addr"] + " " + d["entries"][0]["digest"]' \
	'all(e["time"].endswith("Z") and e["time_us"] > 0 for e in d["entries"])')" \
	"3
['addr', 'digest', 'event', 'note', 'old', 'reference', 'repository', 'time', 'time_us', 'user']
['push', 'tag-delete', 'manifest-delete']
v2
127.0.0.1 $M2
True"

# the push rules' refusals, with their reason: an immutable tag
for f in c1 c2 layer; do push_blob team/fixed "$T/$f" -u alice:pw-alice; done
put_as alice team/fixed rel1 "$T/m1"
expect_status "rel1 of team/fixed is pushed" 201
put_as alice team/fixed rel1 "$T/m2"
expect_error "and never moves" 403 DENIED
ctl log --repo team/fixed
is "the refusal names the rule" "$(cut -d' ' -f2- "$T/out")" \
	"push user=alice addr=127.0.0.1 repo=team/fixed ref=rel1 digest=$M1
denied user=alice addr=127.0.0.1 repo=team/fixed ref=rel1 note=\"tag 'rel1' of 'team/fixed' is immutable: it names '$M1' for good; push it under another tag\""

# --- workers killed while a client pushes ---
RAWHTTP_AUTH=admin:pw-admin
export RAWHTTP_AUTH
python3 "$srcdir/pusher.py" images "$BASE" crash/r 60 2000 t >"$T/acks" 2>/dev/null &
pid=$!
kills=0
while kill -0 $pid 2>/dev/null && [ $kills -lt 3 ]; do
	sleep 0.3
	# shellcheck disable=SC2046
	kill -9 $(worker_pids) 2>/dev/null && kills=$((kills + 1))
	wait_for "$BASE/v2/" || bail "berth did not come back"
done
wait $pid
echo "# $kills kills, $(wc -l <"$T/acks") pushes acknowledged"
ctl --json ls crash/r
[ "$RC" = 0 ] || echo '{"tags": []}' >"$T/out"
js '"\n".join(sorted("%s %s" % (t["tag"], t["digest"]) for t in d["tags"]))' >"$T/there"
ctl --json log --repo crash/r
js '"\n".join(sorted("%s %s" % (e["reference"], e["digest"]) for e in d["entries"]))' >"$T/logged"
check "pushes were cut short" [ "$kills" -gt 0 ]
is "the push entries are the manifests there are" \
	"$(diff "$T/there" "$T/logged" && echo same)" same
check "and every acknowledged push is there" \
	sh -c "sort '$T/acks' | comm -23 - '$T/there' | grep -q . && exit 1 || exit 0"

done_testing
