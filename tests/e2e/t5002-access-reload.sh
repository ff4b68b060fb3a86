#!/bin/sh
# The access file is read again without a restart: each worker looks at
# it at most once a second, between requests, so a second after an edit
# in place or a rename over it, every worker has the new rules. A file
# that does not read leaves the rules in force, and says so once per
# worker, not at every look. SIGHUP to a worker reads the file at once
# and does not stop it. Through lighttpd with the workers it spawns (no
# prefork master), then with berth's own prefork workers.
# shellcheck source=tests/e2e/lib.sh
. "${srcdir:-$(dirname "$0")}/lib.sh"
# shellcheck source=tests/e2e/lib-front.sh
. "$srcdir/lib-front.sh"
# shellcheck source=tests/e2e/lib-http.sh
. "$srcdir/lib-http.sh"
need openssl
T=$REG_TMP
for u in alice bob; do add_user "$u" "pw-$u"; done
FRONT_AUTH=optional
mkblob "$T/blob" 1000
D=$(sha256 "$T/blob")

# rules LINE...: the access file, written in place (the same inode)
rules() {
	printf '%s\n' "$@" >"$T/access.conf"
}
# pull USER: the status of USER's GET of the blob
pull() {
	c -o /dev/null -w '%{http_code}' -u "$1:pw-$1" "$BASE/v2/team/x/blobs/$D"
}
# answers: "ALICE BOB", the statuses of their pulls, from four rounds of
# requests (so that every worker answers); more than one line when the
# workers disagree
answers() {
	for _i in 1 2 3 4; do
		echo "$(pull alice) $(pull bob)"
	done | sort -u | tr '\n' ';'
}
# log_lines PATTERN: lines of berth's log since mark that match
mark() {
	MARK=$(wc -l <"$REG_RUN/berth.log")
}
log_lines() {
	tail -n +"$((MARK + 1))" "$REG_RUN/berth.log" | grep -c -- "$1"
}

# reload_with WHAT: the same steps behind the front server WHAT started
reload_with() {
	rules 'alice  push  team/*'
	berth_conf "access = $T/access.conf"
	start_front
	# shellcheck disable=SC2086
	push_blob team/x "$T/blob" -u alice:pw-alice
	[ "$STATUS" = 201 ] || bail "cannot push the blob: $STATUS"
	is "$1: alice may pull, bob may not" "$(answers)" "200 403;"

	# SIGHUP: each worker reads the file at once, changed or not
	pids=$(worker_pids | sort | tr '\n' ' ')
	mark
	# shellcheck disable=SC2086
	kill -HUP $pids
	sleep 0.3
	is "$1: SIGHUP: every worker read the file" \
		"$(log_lines "read the access rules again from '$T/access.conf'")" \
		"$(echo "$pids" | wc -w | tr -d ' ')"
	rules 'alice  push  team/*' 'bob  pull  team/*'
	# shellcheck disable=SC2086
	kill -HUP $pids
	sleep 0.3
	is "$1: SIGHUP: an edit is in force at once" "$(answers)" "200 200;"
	is "$1: SIGHUP: the workers serve on" "$(worker_pids | sort | tr '\n' ' ')" "$pids"

	printf '%s\n' 'bob  push  team/*' >"$T/access.new"
	mv "$T/access.new" "$T/access.conf"
	sleep 1.1
	is "$1: a rename over it is in force a second later" "$(answers)" "403 200;"

	# a worker that no request reached since has not looked yet: make
	# every worker read it, so that the rules in force are the same
	# everywhere before the file stops reading
	# shellcheck disable=SC2086
	kill -HUP $pids
	sleep 0.3
	mark
	rules 'bob  push  team/*' 'carol  fly  team/*'
	sleep 1.1
	is "$1: a file that does not read leaves the rules in force" \
		"$(answers)" "403 200;"
	sleep 1.1
	is "$1: still, a second later" "$(answers)" "403 200;"
	n=$(log_lines "error .*$T/access.conf:2: .*the access rules in force stay")
	check "$1: each worker said so once, naming file and line ($n)" \
		test "$n" -ge 1 -a "$n" -le "$BERTH_WORKERS"

	mark
	rules 'alice  pull  team/*'
	sleep 1.1
	is "$1: mended in place, it is in force a second later" "$(answers)" "200 403;"
	check "$1: which the workers say" test "$(log_lines "read the access rules again from '$T/access.conf'")" -ge 1
	stop_front
}

reload_with lighttpd
BERTH_E2E_BACKEND=prefork
reload_with prefork
done_testing
