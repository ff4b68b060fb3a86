#!/bin/sh
# A crash of `berthctl gc` at the worst moments, while berth serves: strace
# kills it (SIGKILL) as it enters its Nth rename (moving a blob file to
# trash/ inside a transaction), its Nth unlink (removing them after the
# commit), its Nth fdatasync (LMDB's commit), in the first batch and in
# the second. After each kill the store is consistent: fsck finds nothing
# but the files the kill left in trash/, and the live image pulls byte for
# byte; the next whole run settles trash/ and removes the rest of the
# garbage, and fsck is then clean.
# shellcheck source=tests/e2e/lib.sh
. "${srcdir:-$(dirname "$0")}/lib.sh"
# shellcheck source=tests/e2e/lib-front.sh
. "$srcdir/lib-front.sh"
# shellcheck source=tests/e2e/lib-http.sh
. "$srcdir/lib-http.sh"
# shellcheck source=tests/e2e/lib-ctl.sh
. "$srcdir/lib-ctl.sh"
need strace
T=$REG_TMP
berth_conf "gc_interval = off"
start_front

# the live image: a config and two layers, files both
printf '{"architecture":"amd64","os":"linux"}' >"$T/config"
mkblob "$T/l1" 100000
mkblob "$T/l2" 300000
for f in config l1 l2; do
	push_blob crash/live "$T/$f"
done
oci manifest --config "$T/config" --layer "$T/l1" --layer "$T/l2" >"$T/m"
put_manifest crash/live 1 "$T/m"
expect_status "the live image is pushed" 201

# garbage: images pushed and deleted, a layer file each
N=600
python3 "$srcdir/pusher.py" garbage "$BASE" crash/g $N 40000 >"$T/garbage" ||
	bail "cannot make the garbage"
is "$N images pushed and deleted" "$(grep -c . "$T/garbage")" $N

# left: how many of the garbage layers still have a file
left() {
	_n=0
	while read -r _d; do
		[ -e "$(blob_file "$_d")" ] && _n=$((_n + 1))
	done <"$T/garbage"
	echo $_n
}

# trashed: how many files are in trash/
trashed() {
	find "$REG_STORE/trash" -type f | wc -l
}

# the kinds of problem fsck --json found, sorted and unique
kinds() {
	js '" ".join(sorted(set(p["kind"] for p in d["problems"])))'
}

# gc_killed_at SYSCALLS N: berthctl gc --grace 0, killed as it enters the
# Nth of SYSCALLS; $RC its status (137 when the kill came)
gc_killed_at() {
	# LeakSanitizer cannot work under ptrace
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
		strace -f -o /dev/null -e trace="$1" -e inject="$1":signal=KILL:when="$2" \
			"$CTL" -c "$T/berth.conf" gc --grace 0 >/dev/null 2>>"$REG_RUN/berthctl.log"
	RC=$?
}

# a transaction removes a batch of blobs: 600 layer files are several
cut=0 before=$N
for point in rename:1 rename:100 unlink:1 unlink:60 fdatasync:1 fdatasync:2 \
	rename:60; do
	calls=${point%:*}
	case $calls in
	rename) calls=rename,renameat,renameat2 ;;
	unlink) calls=unlink,unlinkat ;;
	esac
	gc_killed_at "$calls" "${point#*:}"
	now=$(left)
	echo "# killed at $point: exit $RC, $now garbage layer files left, $(trashed) in trash/"
	# killed with garbage left, after it had begun to remove files
	[ "$RC" = 137 ] && [ "$now" -gt 0 ] &&
		{ [ "$now" -lt "$before" ] || [ "$(trashed)" -gt 0 ]; } &&
		cut=$((cut + 1))
	ctl --json fsck
	case " $(kinds) " in
	"  " | " trash ") ;;
	*) is "after the kill at $point, fsck finds the store consistent" "$(kinds)" "" ;;
	esac
	before=$now
done
check "the kills came in the middle of sweeps that removed files" test $cut -ge 3
# live_pulls: each blob of the live image comes back byte for byte
live_pulls() { # shellcheck disable=SC2317 # called through check
	for _f in config l1 l2; do
		c -f -o "$T/got" "$BASE/v2/crash/live/blobs/$(sha256 "$T/$_f")" &&
			cmp -s "$T/got" "$T/$_f" || return 1
	done
}
check "the live image pulls byte for byte" live_pulls

ctl gc --grace 0
is "a whole gc run after the kills: exit 0" "$RC" 0
is "no garbage layer file is left" "$(left)" 0
is "trash/ is empty" "$(trashed)" 0
ctl fsck
is "fsck: clean" "$RC" 0
check "every blob file hashes to its name" store_files_intact
req GET "/v2/crash/live/manifests/1"
expect_status "the live image's manifest" 200
req HEAD "/v2/crash/g/blobs/$(head -n 1 "$T/garbage")"
expect_status "a garbage layer: 404" 404

done_testing
