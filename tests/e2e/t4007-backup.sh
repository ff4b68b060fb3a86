#!/bin/sh
# berthctl backup while berth serves: images pushed, then backups taken
# while clients push images that stay and push and delete others (which
# removes blob files); the second backup into the same directory copies
# only what is new. berthctl restore makes a root of the last backup:
# fsck finds it clean, and berth serving it answers every image whose push
# was acknowledged before that backup began, byte for byte. Also: a
# backup holds the GC off, restore refuses a root that is not empty, and
# --link links. Images pushed by skopeo, podman and docker come back
# from the restored root with the digests their clients were told.
# shellcheck disable=SC2086 # $SK_*, $PD_OPTS are lists of options
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
need flock skopeo podman dockerd docker
T=$REG_TMP
BERTH_WORKERS=4
berth_conf "gc_interval = off"
start_front
PUSHER="$srcdir/pusher.py"

# --- before: 40 images of 100 kB layers (files), configs kept in LMDB ---
python3 "$PUSHER" images "$BASE" bk/app 40 100000 a >"$T/before"
is "40 images pushed" "$(grep -c . "$T/before")" 40
# the race pushers' base image (they push and delete images of their own)
printf '{"architecture":"amd64","os":"linux"}' >"$T/config"
mkblob "$T/shared" 60000
push_blob bk/race "$T/config"
push_blob bk/race "$T/shared"
oci manifest --config "$T/config" --layer "$T/shared" >"$T/m"
put_manifest bk/race base "$T/m"
expect_status "bk/race:base is pushed" 201

# --- the real clients push: skopeo, podman, docker ---
R=$(reg)
mkimage busybox busybox >/dev/null
mkimage random random 2 1 >/dev/null
skopeo copy -q $SK_DEST --digestfile "$T/sk.digest" \
	"oci:$REG_TMP/layout:busybox" "docker://$R/bk/sk:1" >>"$T/clients.out" 2>&1
is "skopeo pushes busybox" $? 0
id=$(pdm pull -q "oci:$REG_TMP/layout:random" 2>>"$T/clients.out")
pdm push -q $PD_OPTS --digestfile "$T/pd.digest" "$id" "$R/bk/pd:1" \
	>>"$T/clients.out" 2>&1
is "podman pushes an image" $? 0
start_dockerd
skopeo copy -q "oci:$REG_TMP/layout:random" \
	"docker-archive:$T/random.tar:local/random:1" >>"$T/clients.out" 2>&1
docker load -q -i "$T/random.tar" >>"$T/clients.out" 2>&1 &&
	docker tag local/random:1 "$R/bk/dk:1" &&
	docker push "$R/bk/dk:1" >"$T/dk.out" 2>&1
is "docker pushes an image" $? 0
sed -n 's/.*digest: \(sha256:[0-9a-f]*\).*/\1/p' "$T/dk.out" >"$T/dk.digest"

# --- backups while clients push (and delete) ---
python3 "$PUSHER" images "$BASE" bk/app 1000 50000 b >"$T/during" 2>"$T/during.err" &
IMAGES=$!
python3 "$PUSHER" race "$BASE" bk/race 8 2 >"$T/race" 2>"$T/race.err" &
RACE=$!
sleep 1
ctl --json backup "$T/bk"
is "the first backup, during pushes: exit 0" "$RC" 0
sed 's/^/# /' "$T/err" | head -n 5
FIRST_BLOBS=$(js 'd["blobs"]')
check "it copied every blob file" test "$(js 'd["copied"]')" -eq "$FIRST_BLOBS"
check "at least the 40 images' layers" test "$FIRST_BLOBS" -ge 40
sleep 1
# what was acknowledged before the second backup began must be in it
cp "$T/during" "$T/acked"
check "the pushers were still at work" kill -0 $IMAGES
ctl --json backup "$T/bk"
is "the second backup, during pushes: exit 0" "$RC" 0
js '"%d blobs: %d copied, %d there, %.1f s" % (d["blobs"], d["copied"], d["present"], d["seconds"])' | sed 's/^/# /'
check "it found the files of the first there" \
	test "$(js 'd["present"]')" -ge "$FIRST_BLOBS"
is "and copied only the others" "$(js 'd["copied"] + d["present"] - d["blobs"]')" 0
wait $IMAGES
is "the image pusher ran to the end" $? 0
wait $RACE
read -r _ PUSHES _ FAILURES <"$T/race"
echo "# $PUSHES race pushes (and deletes), $(grep -c . "$T/during") images pushed meanwhile"
is "no push saw a wrong answer" "$FAILURES" 0

# --- the GC is held off while a backup runs ---
flock "$REG_STORE/gc.lock" sh -c "touch '$T/locked'; sleep 10" &
LOCKER=$!
while [ ! -e "$T/locked" ]; do sleep 0.1; done
ctl backup "$T/bk2"
is "a backup while the GC's lock is held: exit 4" "$RC $(cat "$T/err")" \
	"4 berthctl: cannot back up the store at '$REG_STORE' to '$T/bk2': another garbage collection or a backup is running"
kill $LOCKER
wait $LOCKER 2>/dev/null

# --- restore the backup taken during the pushes ---
mkdir "$T/full"
: >"$T/full/x"
ctl restore "$T/bk" "$T/full"
is "restore into a root that is not empty: exit 1" "$RC" 1
ctl --json restore --link "$T/bk" "$T/restored"
is "restore --link: exit 0" "$RC" 0
check "it linked every blob file" test "$(js 'd["linked"]')" -eq "$(js 'd["blobs"]')"

stop_front
REG_STORE=$T/restored
berth_conf "gc_interval = off"
ctl fsck
is "fsck of the restored root: clean" "$RC" 0
out | sed 's/^/# /'
start_front
python3 "$PUSHER" pulls "$BASE" bk/app "$T/before" >"$T/pulled"
is "the 40 images from before pull back as pushed" "$(cat "$T/pulled")" "pulled 40 bad 0"
python3 "$PUSHER" pulls "$BASE" bk/app "$T/acked" >"$T/pulled" 2>"$T/pulled.err"
sed 's/^/# /' "$T/pulled.err" | head -n 5
is "so do the $(grep -c . "$T/acked") pushed during the backups" \
	"$(cat "$T/pulled")" "pulled $(grep -c . "$T/acked") bad 0"
req GET "/v2/bk/race/manifests/base"
expect_status "the race's base is there" 200
R=$(reg)
for k in sk pd dk; do
	got=$(skopeo inspect $SK_OPTS --raw "docker://$R/bk/$k:1" | sha256sum | cut -d' ' -f1)
	is "bk/$k:1 (pushed by $k) is there with its digest" "sha256:$got" "$(cat "$T/$k.digest")"
done
check "every blob file hashes to its name" store_files_intact

# --- a backup of a store at rest, twice: the second copies nothing ---
ctl --json backup "$T/bk3"
is "a backup of the restored root: exit 0" "$RC" 0
ctl backup "$T/bk3"
out | sed 's/^/# /'
check "again: it says what it did" grep -qE '^backed up [0-9]+ blobs \(0 B copied, 0 B linked, .* already there\) and the metadata \(.*\) in [0-9.]+ s$' "$T/out"
ctl --json backup "$T/bk3"
is "it copied nothing" "$(js 'd["copied"] + d["linked"]')" 0
check "and found every file there" test "$(js 'd["present"]')" -eq "$(js 'd["blobs"]')"

done_testing
