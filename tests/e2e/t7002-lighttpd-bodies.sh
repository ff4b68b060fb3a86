#!/bin/sh
# conf/lighttpd bounds the request bodies it stores before berth sees them.
# lighttpd 1.4.69 cannot stream a chunked body to FastCGI and collects it
# in server.upload-dirs first: with auth-optional.conf an anonymous chunked
# body to an upload route gets 401 before it is read, one to any other
# route 413 past the manifest limit, a user who may only pull 413 past
# var.berth_chunked_max; a pusher's chunked PATCH (docker's way) goes in.
# The bytes lighttpd holds in server.upload-dirs are measured while each
# body is sent.
# shellcheck source=tests/e2e/lib.sh
. "${srcdir:-$(dirname "$0")}/lib.sh"
# lighttpd with passwords checked when sent, whatever the run prefers
BERTH_E2E_FRONT=lighttpd BERTH_E2E_TLS=0 BERTH_E2E_AUTH=optional
# shellcheck source=tests/e2e/lib-front.sh
. "$srcdir/lib-front.sh"
# shellcheck source=tests/e2e/lib-http.sh
. "$srcdir/lib-http.sh"
T=$REG_TMP
MIB=1048576
# chunked bodies up to 16 MiB (KiB), elsewhere up to 8 MiB
LIGHTTPD_CHUNKED_MAX=16384
cat >"$T/access.conf" <<RULES
*               pull            *
pusher          push            *
RULES
berth_conf "access = $T/access.conf"
add_user pusher pusher-pw
add_user puller puller-pw
start_front
anonymous_curl

# stored: the bytes of lighttpd's temporary files of request bodies
stored() {
	find "$REG_RUN" -maxdepth 1 -name 'lighttpd-upload-*' -type f \
		-exec cat {} + 2>/dev/null | wc -c
}

# chunked METHOD PATH BYTES [CURL-ARGS...]: send BYTES of zeros with
# Transfer-Encoding: chunked (at 32 MiB/s at most, without waiting for
# 100 Continue, as a hostile client would); $STATUS, and $STORED the most
# lighttpd held in server.upload-dirs meanwhile
chunked() {
	_m=$1 _p=$2 _n=$3
	shift 3
	head -c "$_n" /dev/zero |
		c -o "$T/body" -w '%{http_code}' -X "$_m" --limit-rate 32M \
			-H 'Transfer-Encoding: chunked' -H 'Expect:' \
			-H 'Content-Type: application/octet-stream' \
			--data-binary @- "$@" "$BASE$_p" >"$T/status" &
	_pid=$!
	STORED=0
	while kill -0 "$_pid" 2>/dev/null; do
		_s=$(stored)
		[ "$_s" -gt "$STORED" ] && STORED=$_s
		sleep 0.01
	done
	wait "$_pid"
	STATUS=$(cat "$T/status")
}

# below WHAT LIMIT: $STORED is below LIMIT bytes
below() {
	if [ "$STORED" -lt "$2" ]; then
		ok "$1 (stored $STORED bytes)"
	else
		not_ok "$1 (stored $STORED bytes, not below $2)"
	fi
}

chunked PATCH /v2/r/x/blobs/uploads/0123 $((64 * MIB))
expect_status "anonymous chunked PATCH of 64 MiB: 401 from lighttpd" 401
below "nothing of it stored" $MIB
chunked PUT "/v2/r/x/blobs/uploads/0123?digest=sha256:$(printf '%064d' 0)" \
	$((64 * MIB))
expect_status "anonymous chunked PUT to an upload: 401" 401
below "nothing of it stored" $MIB
req GET /v2/r/x/blobs/uploads/0123
expect_error "a GET of a session without a body is berth's to answer" \
	401 UNAUTHORIZED
chunked PUT /v2/r/x/manifests/1 $((64 * MIB))
expect_status "anonymous chunked manifest PUT of 64 MiB: 413" 413
below "at most the manifest limit stored" $((8 * MIB + MIB / 2))
chunked PATCH /v2/r/x/blobs/uploads/0123 $((64 * MIB)) -u puller:puller-pw
expect_status "a puller's chunked PATCH of 64 MiB: 413 past the cap" 413
below "at most the cap stored" $((16 * MIB + MIB / 2))
chunked PATCH /v2/r/x/blobs/uploads/0123 $((64 * MIB)) -u nobody:wrong
expect_status "a wrong password: 401" 401
below "nothing of it stored" $MIB

# a pusher, as docker pushes a layer: POST, one chunked PATCH, PUT
head -c $((3 * MIB)) /dev/zero >"$T/layer"
req POST /v2/r/x/blobs/uploads/ -u pusher:pusher-pw
expect_status "the pusher starts an upload" 202
loc=$(hdr Location)
chunked PATCH "$loc" $((3 * MIB)) -u pusher:pusher-pw
expect_status "and sends 3 MiB in a chunked PATCH" 202
check "lighttpd collected it first (the measure works)" [ "$STORED" -gt 0 ]
case $loc in
*\?*) sep='&' ;;
*) sep='?' ;;
esac
req PUT "$loc${sep}digest=$(sha256 "$T/layer")" -u pusher:pusher-pw
expect_status "and finishes it" 201
req GET "/v2/r/x/blobs/$(sha256 "$T/layer")"
check "anonymous pulls it" cmp -s "$T/body" "$T/layer"

# bodies with a length are streamed to berth: no cap on upload routes
mkblob "$T/big" $((20 * MIB))
push_blob r/x "$T/big" -u pusher:pusher-pw
expect_status "a 20 MiB monolithic push with a Content-Length" 201
push_blob r/x "$T/big"
expect_error "anonymous, the same: berth's 401" 401 UNAUTHORIZED
is "no temporary body left behind" "$(stored)" 0
done_testing
