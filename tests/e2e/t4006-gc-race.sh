#!/bin/sh
# Pushes race an online GC at grace 0, the hardest setting: clients push
# as docker does (a fresh layer uploaded; blobs it HEADs and does not
# upload again; a manifest by tag; its blobs checked; the manifest
# deleted, which makes its layers garbage at once), while `berthctl gc
# --grace 0` runs again and again. An upload, or a HEAD of a blob that
# nothing uses, holds the blob long enough for the manifest that follows:
# no push sees a wrong answer. Then fsck is clean.
# shellcheck source=tests/e2e/lib.sh
. "${srcdir:-$(dirname "$0")}/lib.sh"
# shellcheck source=tests/e2e/lib-front.sh
. "$srcdir/lib-front.sh"
# shellcheck source=tests/e2e/lib-http.sh
. "$srcdir/lib-http.sh"
# shellcheck source=tests/e2e/lib-ctl.sh
. "$srcdir/lib-ctl.sh"
T=$REG_TMP
BERTH_WORKERS=4
berth_conf "gc_interval = off"
start_front

# base: a config and a layer the pushers' images share
printf '{"architecture":"amd64","os":"linux"}' >"$T/config"
mkblob "$T/shared" 60000
push_blob race/app "$T/config"
push_blob race/app "$T/shared"
oci manifest --config "$T/config" --layer "$T/shared" >"$T/m"
put_manifest race/app base "$T/m"
expect_status "race/app:base is pushed" 201

# GC runs back to back while the pushers push
: >"$T/gc.runs"
(
	while [ ! -e "$T/stop" ]; do
		"$CTL" -c "$T/berth.conf" gc --grace 0 >"$T/gc.out" 2>>"$REG_RUN/berthctl.log"
		echo "$? $(tail -n 1 "$T/gc.out")" >>"$T/gc.runs"
	done
) &
GC=$!
python3 "$srcdir/pusher.py" race "$BASE" race/app 20 4 >"$T/race" 2>"$T/race.err"
RACE_RC=$?
touch "$T/stop"
wait $GC
sed 's/^/# /' "$T/race.err" | head -n 20
read -r _ PUSHES _ FAILURES <"$T/race"
echo "# $PUSHES pushes, $(grep -c . "$T/gc.runs") GC runs"
is "the pushers ran to the end" $RACE_RC 0
check "they pushed hundreds of images" test "$PUSHES" -ge 200
is "no push saw a wrong answer" "$FAILURES" 0
is "every GC run ended well" "$(awk '$1 != 0' "$T/gc.runs" | head -n 3)" ""
# shellcheck disable=SC2016 # awk's fields
check "and the runs removed what the pushers deleted" \
	awk '$2 == "removed" && $10 > 0 { found = 1 } END { exit !found }' "$T/gc.runs"

ctl gc --grace 0
ctl fsck
is "fsck after the race: clean" "$RC" 0
req GET "/v2/race/app/manifests/base"
expect_status "base is there" 200
check "every blob file hashes to its name" store_files_intact

done_testing
