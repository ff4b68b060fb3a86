#!/bin/sh
# Slow clients do not stop the registry: 4 times as many connections as
# berth has workers, half of them anonymous and half of a user who may
# pull but not push, each sending a PUT of a manifest with a 1 MB
# Content-Length one byte a second. berth refuses each at once (401 or
# 403) without waiting for its body, so every worker stays free, and
# pulls made meanwhile all succeed. Then bodies berth takes but that stall
# (a pusher's PATCH that stops sending) end after body_timeout, not after
# the web server's own minute, and pulls go on again.
#
# Apache's mod_proxy_fcgi waits for each piece of a body before it reads
# berth's answer: through it a refused slow client gets Apache's 503 with
# its next byte, and a stalled one waits for Apache's own RequestReadTimeout;
# berth's workers are free all the same.
# shellcheck source=tests/e2e/lib.sh
. "${srcdir:-$(dirname "$0")}/lib.sh"
# shellcheck source=tests/e2e/lib-front.sh
. "$srcdir/lib-front.sh"
# shellcheck source=tests/e2e/lib-http.sh
. "$srcdir/lib-http.sh"
need openssl python3
T=$REG_TMP
for u in reader pusher; do add_user "$u" "pw-$u"; done
cat >"$T/access.conf" <<RULES
*       pull            pub/*
reader  pull            *
pusher  all             *
RULES
berth_conf "access = $T/access.conf" "body_timeout = 3s"
FRONT_AUTH=optional
start_front
[ "$FRONT_TLS" = 1 ] && export RAWHTTP_CAFILE="$REG_TMP/ca/ca.crt"

mkblob "$T/blob" 100000
D=$(sha256 "$T/blob")
push_blob pub/img "$T/blob" -u pusher:pw-pusher
expect_status "the pusher pushes a blob" 201

SLOW=$((BERTH_WORKERS * 2)) # of each kind: 4x the workers in all
SECONDS_SLOW=12
pids=
i=0
while [ $i -lt "$SLOW" ]; do
	python3 "$srcdir/rawhttp.py" slow "$BASE" PUT /v2/pub/img/manifests/x \
		1000000 "$SECONDS_SLOW" >"$T/anon.$i" &
	pids="$pids $!"
	RAWHTTP_AUTH=reader:pw-reader python3 "$srcdir/rawhttp.py" slow "$BASE" \
		PUT /v2/pub/img/manifests/x 1000000 "$SECONDS_SLOW" >"$T/reader.$i" &
	pids="$pids $!"
	i=$((i + 1))
done
sleep 2

# pulls while the slow clients send: each must succeed, and soon
pulled=0 failed=0 worst=0
t_end=$(($(date +%s) + 6))
while [ "$(date +%s)" -lt "$t_end" ]; do
	if out=$(c --max-time 5 -o "$T/got" -w '%{http_code} %{time_total}' \
		"$BASE/v2/pub/img/blobs/$D") && [ "${out%% *}" = 200 ] &&
		cmp -s "$T/got" "$T/blob"; then
		pulled=$((pulled + 1))
		worst=$(awk -v a="$worst" -v b="${out#* }" 'BEGIN { print (b > a) ? b : a }')
	else
		failed=$((failed + 1))
	fi
done
echo "# $pulled pulls, $failed failed, the slowest took ${worst}s, beside $((SLOW * 2)) slow clients and $BERTH_WORKERS workers"
check "pulls beside $((SLOW * 2)) slow clients all succeed ($pulled of them)" \
	test "$pulled" -gt 0 -a "$failed" = 0
# shellcheck disable=SC2086 # a list of pids
wait $pids
# shellcheck disable=SC2317 # called through check
answered() { # KIND STATUS: every slow client of KIND got STATUS, in < 5 s
	cat "$T/$1".* >"$T/$1.all"
	[ "$FRONT" = apache ] && set -- "$1" 503
	awk -v s="$2" '$1 != s || $2 >= 5 { bad = 1 } END { exit bad }' "$T/$1.all"
}
check "anonymous slow PUTs are answered 401 at once" answered anon 401
check "a pull-only user's slow PUTs are answered 403 at once" answered reader 403
echo "# anonymous: $(sort -k2 -n "$T/anon.all" | tail -1); reader: $(sort -k2 -n "$T/reader.all" | tail -1) (status, seconds)"

# bodies berth takes, which stall: each ends after body_timeout (3 s)
pids=
i=0
while [ $i -lt "$BERTH_WORKERS" ]; do
	req POST /v2/priv/up/blobs/uploads/ -u pusher:pw-pusher
	expect_status "the pusher opens upload $i" 202
	RAWHTTP_AUTH=pusher:pw-pusher RAWHTTP_TRICKLE=2 python3 "$srcdir/rawhttp.py" \
		slow "$BASE" PATCH "$(hdr Location)" 1000000 30 \
		"Content-Type: application/octet-stream" >"$T/stall.$i" &
	pids="$pids $!"
	i=$((i + 1))
done
sleep 1
# stalled bodies hold the workers until body_timeout ends them; a pull
# made meanwhile may wait for one, then succeeds
out=$(c --max-time 20 -o /dev/null -w '%{http_code} %{time_total}' \
	"$BASE/v2/pub/img/blobs/$D")
is "a pull beside stalled uploads succeeds" "${out%% *}" 200
echo "# that pull took ${out#* }s"
# shellcheck disable=SC2086 # a list of pids
wait $pids
# shellcheck disable=SC2317 # called through check
stalled_end() { # every stalled body's request ended in less than 15 s
	cat "$T"/stall.* | awk '$2 >= 15 { bad = 1 } END { exit bad }'
}
[ "$FRONT" != apache ] &&
	check "stalled bodies end after body_timeout, not the web server's minute" stalled_end
echo "# stalled: $(cat "$T"/stall.* | tr '\n' ' ') (status, seconds)"
grep -q "sent nothing for body_timeout" "$REG_RUN/berth.log"
check "berth says why it ended them" test $? = 0
req GET /v2/pub/img/blobs/"$D"
expect_status "and berth serves as before" 200
done_testing
