#!/bin/sh
# shellcheck disable=SC2317 # the checks are called through check
# berth-fcgi collects garbage by itself every gc_interval: one of its
# workers starts "berth-fcgi --gc" as a child, idle or not. Through
# lighttpd's spawned workers and through berth's own prefork.
# shellcheck source=tests/e2e/lib.sh
. "${srcdir:-$(dirname "$0")}/lib.sh"
# shellcheck source=tests/e2e/lib-front.sh
. "$srcdir/lib-front.sh"
# shellcheck source=tests/e2e/lib-http.sh
. "$srcdir/lib-http.sh"

# shellcheck source=tests/e2e/lib-ctl.sh
. "$srcdir/lib-ctl.sh"

# gone_within SECONDS FILE: the file goes within that many seconds
gone_within() {
	_i=0
	while [ -e "$2" ] && [ "$_i" -lt $(($1 * 10)) ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	[ ! -e "$2" ]
}

run() { # BACKEND
	BERTH_E2E_BACKEND=$1
	export BERTH_E2E_BACKEND
	berth_conf "gc_interval = 1s" "gc_grace = 0" "log_level = info"
	start_front
	# an image whose blobs stay, and one deleted, whose layer goes
	mkblob "$REG_TMP/loose" 40000
	mkblob "$REG_TMP/layer" 40000
	printf '{"architecture":"amd64","os":"linux"}' >"$REG_TMP/config"
	push_blob "$1/x" "$REG_TMP/loose"
	expect_status "$1: a blob pushed" 201
	push_blob "$1/x" "$REG_TMP/layer"
	push_blob "$1/x" "$REG_TMP/config"
	oci manifest --config "$REG_TMP/config" --layer "$REG_TMP/layer" \
		>"$REG_TMP/m"
	put_manifest "$1/x" v1 "$REG_TMP/m"
	expect_status "$1: a manifest that uses two" 201
	oci manifest --config "$REG_TMP/config" --layer "$REG_TMP/loose" \
		>"$REG_TMP/gone"
	put_manifest "$1/x" gone "$REG_TMP/gone"
	req DELETE "/v2/$1/x/manifests/$(sha256 "$REG_TMP/gone")"
	expect_status "$1: and one deleted" 202
	# nobody asks for anything: the idle workers wake for the schedule
	check "$1: the loose blob's file goes within 5s, no request coming" \
		gone_within 5 "$(blob_file "$(sha256 "$REG_TMP/loose")")"
	req HEAD "/v2/$1/x/blobs/$(sha256 "$REG_TMP/loose")"
	expect_status "$1: and the blob is gone" 404
	req HEAD "/v2/$1/x/blobs/$(sha256 "$REG_TMP/layer")"
	expect_status "$1: the layer the manifest uses stays" 200
	req GET "/v2/$1/x/manifests/v1"
	expect_status "$1: and the image" 200
	check "$1: the collection says what it did, in berth's log" \
		grep -q "garbage collection: .* 1 blobs" "$REG_RUN"/*.log
	stop_front
}

run spawn
run prefork
done_testing
