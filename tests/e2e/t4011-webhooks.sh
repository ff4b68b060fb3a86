#!/bin/sh
# shellcheck disable=SC2317 # the checks are called through check and until_true
# Webhooks (hooks/hooks.h) through lighttpd, to a receiver the test runs
# on loopback (hookrecv.py), which is first down, then answers 500, then
# is slow (beyond the hooks' timeout), then recovers: every event then
# arrives exactly once, in the order of the audit log per repository,
# with a valid HMAC signature, in the registry's envelope and as
# CloudEvents (with pulls), and pushes while the receiver is down are as
# quick as ever; a hook whose receiver is quick is not held up by the
# slow ones. A hook whose receiver keeps failing makes dead letters,
# which berthctl events --dead shows, --drop forgets and --retry-all sends
# again. The sender reads the webhooks file again when it changes (a bad
# line is logged, a new hook taken up); berth refuses a bad one at start.
# Last,
# the sender and the workers are killed (kill -9) while events go out:
# every event still arrives (at least once), and none that is not in
# the log.
# shellcheck source=tests/e2e/lib.sh
. "${srcdir:-$(dirname "$0")}/lib.sh"
# shellcheck source=tests/e2e/lib-front.sh
. "$srcdir/lib-front.sh"
# shellcheck source=tests/e2e/lib-http.sh
. "$srcdir/lib-http.sh"
# shellcheck source=tests/e2e/lib-ctl.sh
. "$srcdir/lib-ctl.sh"
T=$REG_TMP
need python3
RPORT=$(free_port)
R=http://127.0.0.1:$RPORT
mkdir "$T/ctl"
echo "s3cret-$RPORT" >"$T/key"
: >"$T/recv.log"
# backoffs short, timeouts of a second to three, so that the phases go by
# quickly (3 s: a receiver that answers at once is in time, on a loaded
# machine too, and so gets each event once)
fast="timeout=1s backoff=100ms backoff_max=300ms"
slow="timeout=3s backoff=100ms backoff_max=300ms"
cat >"$T/webhooks.conf" <<HOOKS
# the registry's envelope, pulls left out (the default events)
hook reg $R/reg secret=$T/key retries=100 $slow
# CloudEvents, pulls included
hook ce $R/ce format=cloudevents events=push,tag,delete,pull secret=$T/key retries=100 $slow
# a receiver that keeps failing: dead letters after two tries
hook dead $R/x/dead repos=a/* retries=1 $fast
# a receiver that is quick while the others are slow
hook fast $R/fast events=push retries=100 $fast
HOOKS
# a bad webhooks file, or webhooks without the audit log: berth refuses
echo "hook x ftp://h/" >"$T/bad-hooks.conf"
berth_conf "webhooks = $T/bad-hooks.conf"
"$BERTH_BIN" -t -c "$T/berth.conf" >/dev/null 2>"$T/err.out"
is "a bad webhooks file stops berth" "$?" 1
check "naming the file and the line" grep -q "bad-hooks.conf:1: bad URL 'ftp://h/'" "$T/err.out"
berth_conf "webhooks = $T/webhooks.conf" "audit = off"
"$BERTH_BIN" -t -c "$T/berth.conf" >/dev/null 2>"$T/err.out"
is "so do webhooks without the audit log" "$?" 1
check "which is their outbox" grep -q "webhooks needs audit = on" "$T/err.out"
berth_conf "webhooks = $T/webhooks.conf" "webhooks_pulls = on" \
	"gc_interval = off" "metrics = on"
start_front

# recv_start: the receiver on $RPORT (RECV_PID)
recv_start() {
	python3 "$srcdir/hookrecv.py" "$RPORT" "$T/key" "$T/recv.log" "$T/ctl" \
		2>>"$T/recv.err" &
	RECV_PID=$!
	track $RECV_PID
	_i=0
	until python3 -c "import socket; socket.create_connection(('127.0.0.1', $RPORT))" 2>/dev/null; do
		_i=$((_i + 1))
		[ $_i -lt 100 ] || bail "the receiver did not start"
		sleep 0.1
	done
}
# answers PATH STATUS: how many requests to PATH got STATUS
answers() {
	python3 - "$T/recv.log" "$1" "$2" <<'PY'
import json, sys
print(sum(1 for l in open(sys.argv[1])
          if (r := json.loads(l))["path"] == sys.argv[2] and str(r["status"]) == sys.argv[3]))
PY
}
# until_true SECONDS COMMAND...: poll COMMAND every 0.1 s, up to SECONDS
until_true() {
	_n=$(($1 * 10))
	shift
	while ! "$@"; do
		_n=$((_n - 1))
		[ $_n -gt 0 ] || return 1
		sleep 0.1
	done
}
at_least() { # PATH STATUS N
	[ "$(answers "$1" "$2")" -ge "$3" ]
}
sender_pid() {
	pgrep -f "berth-fcgi -c $T/berth.conf --hooks"
}
ms() {
	date +%s%3N
}

# --- pushes while the receiver is down ---
mkblob "$T/layer" 3000
echo '{"n":1}' >"$T/c1"
echo '{"n":2}' >"$T/c2"
oci manifest --config "$T/c1" --layer "$T/layer" >"$T/m1"
oci manifest --config "$T/c2" --layer "$T/layer" >"$T/m2"
M1=$(oci digest "$T/m1")
for r in a/x b/y; do
	for f in c1 c2 layer; do
		push_blob "$r" "$T/$f"
		[ "$STATUS" = 201 ] || bail "cannot push $f to $r: $STATUS"
	done
done
check "a sender runs" until_true 5 sender_pid
t0=$(ms)
put_manifest a/x v1 "$T/m1"
expect_status "push a/x:v1 (receiver down)" 201
put_manifest b/y v1 "$T/m1"
expect_status "push b/y:v1" 201
put_manifest a/x v1 "$T/m2"
expect_status "move a/x:v1 to another image" 201
put_manifest b/y latest "$T/m2"
expect_status "push b/y:latest" 201
put_manifest a/x v2 "$T/m2"
expect_status "push a/x:v2" 201
req DELETE /v2/a/x/manifests/v2
expect_status "delete the tag a/x:v2" 202
req DELETE "/v2/b/y/manifests/$M1"
expect_status "delete b/y's first image" 202
req GET /v2/a/x/manifests/v1
expect_status "pull a/x:v1" 200
t1=$(ms)
echo "# 8 requests with the receiver down: $((t1 - t0)) ms"
check "the pushes did not wait for the receiver (8 requests < 8 s)" \
	[ $((t1 - t0)) -lt 8000 ]
ctl events
check "berthctl events: the hooks have a backlog" \
	grep -q "^reg cursor=.* backlog=[1-9]" "$T/out"

# --- the receiver answers 500, then is slow, then recovers ---
echo 500 >"$T/ctl/mode"
recv_start
check "the sender retries against 500" until_true 10 at_least /reg 500 3
echo slow >"$T/ctl/mode"
check "and while the receiver is slow" until_true 10 at_least /reg slow 1
# /reg and /ce wait 3 s (their timeout) for each answer: a post to /fast
# does not wait behind them
check "/fast has the 5 pushes" until_true 10 at_least /fast 200 5
t0=$(ms)
put_manifest b/y v2 "$T/m2"
expect_status "push b/y:v2 (receiver slow)" 201
check "a slow receiver holds up no other hook" until_true 10 at_least /fast 200 6
t1=$(ms)
echo "# /fast had the push $((t1 - t0)) ms after it began"
check "(within 2.8 s: a post to each slow one takes 3)" [ $((t1 - t0)) -lt 2800 ]
echo ok >"$T/ctl/mode"
ctl --json log
cp "$T/out" "$T/log.json"
# events HOOK-PATH KINDS: the ids of the log's entries a hook wants
check_hooks() {
	python3 - "$T/log.json" "$T/recv.log" "$@" <<'PY'
import json, sys
log = json.load(open(sys.argv[1]))["entries"]
recv = [json.loads(l) for l in open(sys.argv[2])]
path, kinds = sys.argv[3], sys.argv[4].split(",")
def kind(e):
    if e["event"] == "push":
        return "tag" if e["old"] else "push"
    if e["event"].endswith("-delete"):
        return "delete"
    return e["event"]
want = [("%016x" % e["time_us"], e) for e in log if kind(e) in kinds]
got = [r for r in recv if r["path"] == path and r["status"] == 200]
ids = [r["id"] for r in got]
bad = []
if sorted(ids) != sorted(w[0] for w in want):
    bad.append("ids: got %s want %s" % (ids, [w[0] for w in want]))
if not all(r["sig_ok"] for r in got):
    bad.append("a bad signature")
for repo in ("a/x", "b/y"):
    order = [w[0] for w in want if w[1]["repository"] == repo]
    mine = [i for i in ids if i in order]
    if mine != order:
        bad.append("order of %s: %s, not %s" % (repo, mine, order))
for r in got:
    b = r["body"]
    e = dict(want)[r["id"]] if r["id"] in dict(want) else None
    if e is None:
        continue
    if path == "/reg":
        ev = b["events"][0]
        action = {"push": "push", "tag": "push", "delete": "delete", "pull": "pull"}[kind(e)]
        if (r["ct"] != "application/vnd.docker.distribution.events.v1+json"
                or ev["id"] != r["id"] or ev["action"] != action
                or ev["target"]["repository"] != e["repository"]
                or ev["target"].get("digest", "") != e["digest"]
                or not ev["timestamp"].endswith("Z")):
            bad.append("envelope %s" % json.dumps(b))
    else:
        t = "io.berth." + kind(e)
        if (r["ct"] != "application/cloudevents+json" or b["specversion"] != "1.0"
                or b["id"] != r["id"] or b["type"] != t
                or b["data"]["repository"] != e["repository"]):
            bad.append("cloudevent %s" % json.dumps(b))
print("\n".join(bad) or "good")
sys.exit(1 if bad else 0)
PY
}
# done_with HOOK-PATH N: N deliveries accepted there
check "every event reaches /reg after the recovery" \
	until_true 15 at_least /reg 200 7
check "and /ce" until_true 15 at_least /ce 200 8
sleep 0.5 # a repeat, if any, would come now
check_hooks /reg push,tag,delete >"$T/check.out"
is "/reg: each event once, in order per repository, signed, the registry's envelope" \
	"$(cat "$T/check.out")" good
check_hooks /ce push,tag,delete,pull >"$T/check.out"
is "/ce: the same as CloudEvents, with the pull" "$(cat "$T/check.out")" good
check "the tag move is a push with the tag, in the envelope" python3 -c "
import json, sys
for l in open('$T/recv.log'):
    r = json.loads(l)
    if r['path'] == '/reg' and r['status'] == 200:
        t = r['body']['events'][0]['target']
        if t.get('tag') == 'v1' and t['repository'] == 'a/x' and t.get('mediaType'):
            sys.exit(0)
sys.exit(1)"

# --- dead letters ---
# a/x's 4 events (2 pushes, the move, the tag delete) to /x/dead
dead_count() {
	ctl --json events --dead
	[ "$(js 'len(d["dead"])')" = "$1" ]
}
check "the failing hook's events become dead letters" until_true 15 dead_count 4
ctl events --dead
check "berthctl events --dead shows them, with why" \
	grep -q "^[0-9a-f]\{16\} dead .* push repo=a/x ref=v1 attempts=2 why=\"." "$T/out"
ctl events
check "and berthctl events counts them" grep -q "^dead cursor=.* dead=4" "$T/out"
ctl --json events --dead
ctl events --drop "$(js 'd["dead"][0]["id"]')"
is "berthctl events --drop ID forgets one" "$(out)" "1 dead letter dropped"
touch "$T/ctl/dead-ok"
ctl events --retry-all
is "berthctl events --retry-all" "$(out)" "3 dead letters queued again"
check "the sender delivers them" until_true 10 dead_count 0
is "the receiver took each once, not the dropped one" "$(answers /x/dead 200)" 3
ctl events --retry 00000000000000ff
is "--retry of no dead letter" "$RC" 1
ctl events --drop-all
is "--drop-all with none left" "$RC" 1
# posts_total RESULT: the sender's count in /metrics
posts_total() {
	req GET /metrics
	sed -n "s/^berth_webhook_posts_total{result=\"$1\"} //p" "$T/body"
}
is "/metrics counts the 4 dead letters" "$(posts_total dead)" 4
is "and the 3 sent again among the posts delivered" \
	"$(posts_total delivered | awk '{ print ($1 >= 3) }')" 1
is "and the failed tries" "$(posts_total failed | awk '{ print ($1 >= 4) }')" 1

# --- the file changes: the sender reads it again ---
cp "$T/webhooks.conf" "$T/webhooks.good"
echo "bogus line" >>"$T/webhooks.conf"
said_bogus() { grep -q "webhooks.conf:[0-9]*: unknown rule 'bogus'.*hooks in force" "$REG_RUN"/*.log; }
check "a line that does not read is logged, and the hooks in force stay" \
	until_true 5 said_bogus
cp "$T/webhooks.good" "$T/webhooks.conf"
echo "hook late $R/late events=push" >>"$T/webhooks.conf"
late_known() {
	ctl events
	grep -q "^late cursor=" "$T/out"
}
check "a hook added to the webhooks file is taken up" until_true 5 late_known
put_manifest a/x v3 "$T/m1"
expect_status "push a/x:v3" 201
check "and hears of the next push" until_true 5 at_least /late 200 1

# --- kill -9 of the sender and of the workers while events go out ---
echo lag >"$T/ctl/mode"
python3 "$srcdir/pusher.py" images "$BASE" k/r 12 500 t >"$T/acks" 2>/dev/null &
PUSHER=$!
track $PUSHER
kills=0
until_true 5 at_least /reg 200 8 # the first of them go out
while [ $kills -lt 2 ]; do
	sleep 0.4
	p=$(sender_pid) && kill -9 "$p" && kills=$((kills + 1))
	# shellcheck disable=SC2046
	kill -9 $(worker_pids) 2>/dev/null
	wait_for "$BASE/v2/" || bail "berth did not come back"
done
pusher_done() { ! kill -0 "$PUSHER" 2>/dev/null; }
until_true 30 pusher_done || bail "the pusher did not end"
echo "# $kills kills of the sender, $(wc -l <"$T/acks") pushes acknowledged"
echo ok >"$T/ctl/mode"
req GET /v2/ # a worker is there to start a sender again
ctl --json log
cp "$T/out" "$T/log.json"
all_there() {
	python3 - "$T/log.json" "$T/recv.log" <<'PY'
import json, sys
log = json.load(open(sys.argv[1]))["entries"]
want = {"%016x" % e["time_us"] for e in log if e["event"] == "push"}
got = {json.loads(l)["id"] for l in open(sys.argv[2])
       if json.loads(l)["path"] == "/reg" and json.loads(l)["status"] == 200}
sys.exit(0 if want <= got else 1)
PY
}
check "every push reached /reg after the kills (at least once)" \
	until_true 20 all_there
none_invented() {
	python3 - "$T/log.json" "$T/recv.log" <<'PY'
import json, sys
log = json.load(open(sys.argv[1]))["entries"]
ids = {"%016x" % e["time_us"] for e in log}
got = {json.loads(l)["id"] for l in open(sys.argv[2])}
sys.exit(0 if got <= ids else 1)
PY
}
check "and no event that is not in the audit log" none_invented
check "one sender runs" [ "$(sender_pid | wc -l)" = 1 ]

done_testing
