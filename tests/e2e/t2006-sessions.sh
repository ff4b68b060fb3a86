#!/bin/sh
# Upload sessions are limited per user and per repository: beyond
# upload_sessions_per_user or upload_sessions_per_repo a new upload is
# 429 TOOMANYREQUESTS naming the key, other users push on, and a session
# finished or cancelled makes room. A worker killed while it finishes an
# upload (strace kills it at the rename of the file into blobs/, and at
# the flush of that directory, before the commit) leaves a session whose
# status and PUT agree: finished, or unknown.
# shellcheck source=tests/e2e/lib.sh
. "${srcdir:-$(dirname "$0")}/lib.sh"
# shellcheck source=tests/e2e/lib-front.sh
. "$srcdir/lib-front.sh"
# shellcheck source=tests/e2e/lib-http.sh
. "$srcdir/lib-http.sh"
T=$REG_TMP
BERTH_WORKERS=1
for u in alice bob; do add_user "$u" "pw-$u"; done
berth_conf "gc_interval = off" "upload_sessions_per_user = 3" \
	"upload_sessions_per_repo = 5"
FRONT_AUTH=optional
start_front
as() { # USER: curl arguments for USER
	echo "-u $1:pw-$1"
}

# open_session REPO [CURL-ARGS...]: POST a session; $LOC its Location
open_session() {
	_r=$1
	shift
	req POST "/v2/$_r/blobs/uploads/" "$@"
	LOC=$(hdr Location)
}

# --- the limit per user ---
# shellcheck disable=SC2046
{
	open_session s/a $(as alice) && A1=$LOC
	open_session s/a $(as alice) && A2=$LOC
	open_session s/a $(as alice) && A3=$LOC
}
expect_status "alice opens 3 sessions" 202
# shellcheck disable=SC2046
open_session s/b $(as alice)
expect_error "a 4th of alice's, in any repository, is refused" 429 TOOMANYREQUESTS
check "the error names the key" grep -q upload_sessions_per_user "$T/body"
check "and the user" grep -q "'alice'" "$T/body"
mkblob "$T/small" 1000
# shellcheck disable=SC2046
push_blob s/b "$T/small" $(as alice)
expect_error "so is a monolithic push of hers" 429 TOOMANYREQUESTS

# --- the limit per repository; other users and anonymous push on ---
# shellcheck disable=SC2046
open_session s/a $(as bob)
expect_status "bob opens a session in s/a" 202
# shellcheck disable=SC2046
open_session s/a $(as bob)
expect_status "and a second: s/a has 5" 202
# shellcheck disable=SC2046
open_session s/a $(as bob)
expect_error "a 6th in s/a is refused" 429 TOOMANYREQUESTS
check "naming the repository's key" grep -q upload_sessions_per_repo "$T/body"
# shellcheck disable=SC2046
push_blob s/b "$T/small" $(as bob)
expect_status "bob pushes to s/b" 201
push_blob s/b "$T/small"
expect_status "an anonymous client does too" 201

# --- finished and cancelled sessions make room ---
# shellcheck disable=SC2046
req DELETE "$A1" $(as alice)
expect_status "alice cancels one" 204
# shellcheck disable=SC2046
open_session s/c $(as alice)
expect_status "and may open another" 202
# shellcheck disable=SC2046
open_session s/c $(as alice)
expect_error "but not two" 429 TOOMANYREQUESTS
# shellcheck disable=SC2046
req PUT "$A2?digest=$(sha256 "$T/small")" --data-binary "@$T/small" $(as alice)
expect_status "alice finishes one" 201
# shellcheck disable=SC2046
push_blob s/c "$T/small" $(as alice)
expect_status "and pushes a blob in the room it made" 201
# shellcheck disable=SC2046
req DELETE "$A3" $(as alice)
expect_status "the last of her first three goes" 204

# --- a worker killed while it finishes ---
need strace

# killed_put LOC DIGEST SYSCALL: PUT LOC?digest=DIGEST while strace kills
# the worker at its first SYSCALL (the PUT makes one rename, of the file
# into blobs/, and one fsync, of its directory, before the commit)
killed_put() {
	_pid=$(worker_pids)
	strace -f -o /dev/null -p "$_pid" -e trace="$3" \
		-e inject="$3":signal=KILL:when=1 2>>"$T/strace.log" &
	_st=$!
	sleep 1 # strace attaches
	req PUT "$1?digest=$2"
	wait $_st
	echo "# PUT answered $STATUS as the worker was killed"
	wait_for "$BASE/v2/" || bail "berth did not come back"
}

# stage FILE: a session in s/k holding FILE; $LOC and $D
stage() {
	D=$(sha256 "$1")
	open_session s/k
	req PATCH "$LOC" --data-binary "@$1"
	LOC=$(hdr Location)
}

# at the rename: the content was checked, the blob is not there yet
mkblob "$T/k1" 100000
stage "$T/k1"
expect_status "a session holds 100000 bytes" 202
killed_put "$LOC" "$D" rename
req GET "$LOC"
expect_status "killed before the rename: the status says the session" 204
expect_header "with all its bytes" Range 0-99999
req PUT "$LOC?digest=$D"
expect_status "and the PUT again stores the blob" 201
req GET "/v2/s/k/blobs/$D"
check "intact" cmp -s "$T/body" "$T/k1"
req GET "$LOC"
expect_error "then the session is gone" 404 BLOB_UPLOAD_UNKNOWN

# after the rename, before the commit: the file is gone, no blob made
mkblob "$T/k2" 100000
stage "$T/k2"
killed_put "$LOC" "$D" fsync
req GET "$LOC"
expect_error "killed before the commit: the status says unknown" 404 \
	BLOB_UPLOAD_UNKNOWN
req PUT "$LOC?digest=$D"
expect_error "and so does the PUT" 404 BLOB_UPLOAD_UNKNOWN
push_blob s/k "$T/k2"
expect_status "the blob is pushed again" 201
req GET "/v2/s/k/blobs/$D"
check "intact" cmp -s "$T/body" "$T/k2"
check "every blob file hashes to its name" store_files_intact

done_testing
