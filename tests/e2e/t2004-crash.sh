#!/bin/sh
# kill -9 at any moment: workers are killed at random times while blobs
# are pushed (monolithic and in chunks). Afterwards no partial blob is
# visible, every blob file hashes to its name, every upload that was
# acknowledged (201) is served intact, and the registry works on.
# shellcheck source=tests/e2e/lib.sh
. "${srcdir:-$(dirname "$0")}/lib.sh"
# shellcheck source=tests/e2e/lib-front.sh
. "$srcdir/lib-front.sh"
# shellcheck source=tests/e2e/lib-http.sh
. "$srcdir/lib-http.sh"
need shuf
BERTH_WORKERS=2
start_front

N=40
i=0
while [ $i -lt $N ]; do
	mkblob "$REG_TMP/b$i" $((1000000 + i * 50000))
	i=$((i + 1))
done

# push_one I: one upload of blob I, monolithic or in two chunks; prints
# the final status. Each request gives up after 30 s: lighttpd 1.4.69,
# which reconnects to another worker when one dies before it sent the
# request, once left a body it was still reading unanswered for good
# (its error log: "response not received, request not sent ...,
# reconnecting", with no backend connection after), which hung the test;
# a try cut short so is one more unacknowledged upload.
push_one() {
	f=$REG_TMP/b$1
	d=$(sha256 "$f")
	if [ $(($1 % 2)) = 0 ]; then
		c --max-time 30 -o /dev/null -w '%{http_code}' -X POST \
			--data-binary "@$f" "$BASE/v2/crash/r/blobs/uploads/?digest=$d"
		return
	fi
	head -c 500000 "$f" >"$f.a"
	tail -c +500001 "$f" >"$f.b"
	loc=$(c --max-time 30 -D - -o /dev/null -X POST -H 'Content-Length: 0' \
		"$BASE/v2/crash/r/blobs/uploads/" | tr -d '\r' |
		awk 'tolower($1) == "location:" { print $2 }')
	loc=$(c --max-time 30 -D - -o /dev/null -X PATCH --data-binary "@$f.a" \
		"$BASE$loc" | tr -d '\r' | awk 'tolower($1) == "location:" { print $2 }')
	c --max-time 30 -o /dev/null -w '%{http_code}' -X PUT \
		--data-binary "@$f.b" "$BASE$loc?digest=$d"
}

# each blob until it is acknowledged (or 5 tries): "I STATUS" per try
pusher() {
	i=0
	while [ $i -lt $N ]; do
		try=0
		while [ $try -lt 5 ]; do
			st=$(push_one $i)
			echo "$i $st"
			[ "$st" = 201 ] && break
			wait_for "$BASE/v2/"
			try=$((try + 1))
		done
		i=$((i + 1))
	done >"$REG_TMP/acks"
}

pusher &
pusher_pid=$!
kills=0
while kill -0 $pusher_pid 2>/dev/null && [ $kills -lt 15 ]; do
	sleep "0.$(shuf -i 10-300 -n 1 | awk '{ printf "%03d", $1 }')"
	# shellcheck disable=SC2046
	kill -9 $(worker_pids) 2>/dev/null && kills=$((kills + 1))
	# lighttpd or the supervisor restarts them; 503 until they are back
	wait_for "$BASE/v2/" || bail "berth did not come back"
done
wait $pusher_pid
echo "# $kills kills; $(grep -c ' 201$' "$REG_TMP/acks") uploads acknowledged in $(wc -l <"$REG_TMP/acks") tries"
check "workers were killed during uploads" [ "$kills" -gt 5 ]

check "every blob file hashes to its name (no partial blob visible)" store_files_intact
bad=0
while read -r i st; do
	[ "$st" = 201 ] || continue
	req GET "/v2/crash/r/blobs/$(sha256 "$REG_TMP/b$i")"
	cmp -s "$REG_TMP/body" "$REG_TMP/b$i" || {
		echo "# acknowledged blob $i is not served intact ($STATUS)"
		bad=$((bad + 1))
	}
done <"$REG_TMP/acks"
is "every acknowledged upload is served intact" $bad 0

# the ones that were not acknowledged can be pushed now, and all is well
bad=0
i=0
while [ $i -lt $N ]; do
	push_blob crash/r "$REG_TMP/b$i"
	[ "$STATUS" = 201 ] || bad=$((bad + 1))
	req GET "/v2/crash/r/blobs/$(sha256 "$REG_TMP/b$i")"
	cmp -s "$REG_TMP/body" "$REG_TMP/b$i" || bad=$((bad + 1))
	i=$((i + 1))
done
is "after the crashes every blob can be pushed and pulled" $bad 0
req DELETE "/v2/crash/r/blobs/$(sha256 "$REG_TMP/b0")"
expect_status "and deleted" 202
check "every blob file hashes to its name" store_files_intact
done_testing
