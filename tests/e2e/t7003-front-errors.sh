#!/bin/sh
# The front server's own refusals carry the OCI JSON error body, as
# berth's do (conf/errors): a wrong password's 401 (with its
# WWW-Authenticate), lighttpd's 413 for a chunked body over its limit,
# which skopeo then prints as the reason, and the 502 or 503 while berth
# is down (docker, podman and skopeo print only the status of a 5xx
# answer, curl and logs show the body). berth's own errors pass through
# unchanged, and once berth is back every request is answered by it again.
# shellcheck source=tests/e2e/lib.sh
. "${srcdir:-$(dirname "$0")}/lib.sh"
# shellcheck source=tests/e2e/lib-front.sh
. "$srcdir/lib-front.sh"
# shellcheck source=tests/e2e/lib-http.sh
. "$srcdir/lib-http.sh"
need python3 skopeo
T=$REG_TMP
FRONT_AUTH=required
front_options
LIGHTTPD_MANIFEST_MAX=64 # KiB: a chunked manifest over it gets a 413
berth_conf
start_prefork
start_front socket "$REG_RUN/prefork.sock"

# skopeo's options without the tester's password, and its TLS ones
sk_tls="--tls-verify=false"
[ "$FRONT_TLS" = 1 ] && sk_tls="--cert-dir $REG_TMP/ca"

anonymous_curl
req GET /v2/ -u tester:wrong
expect_error "a wrong password: the front server's 401" 401 UNAUTHORIZED
is "its WWW-Authenticate asks for basic auth" \
	"$(hdr WWW-Authenticate | cut -c1-6 | tr '[:upper:]' '[:lower:]')" "basic "
is "and it has the API version header" \
	"$(hdr Docker-Distribution-Api-Version)" "registry/2.0"
req GET /v2/a/b/manifests/latest
expect_error "no password at all: 401" 401 UNAUTHORIZED
# shellcheck disable=SC2086 # sk_tls is a list of words
out=$(skopeo inspect $sk_tls --creds tester:wrong \
	"docker://127.0.0.1:$PORT/a/b:1" 2>&1)
case $out in
*"log in with a user name and password"*) ok "skopeo prints the 401's reason" ;;
*) not_ok "skopeo prints the 401's reason: $out" ;;
esac
front_options

req GET /v2/a/b/manifests/nope
expect_error "berth's own error passes as it is" 404 MANIFEST_UNKNOWN

if [ "$FRONT" = lighttpd ]; then
	mkblob "$T/big" 200000
	req PUT /v2/a/b/manifests/big -H "Transfer-Encoding: chunked" \
		-H "Content-Type: application/vnd.oci.image.manifest.v1+json" \
		--data-binary "@$T/big"
	expect_error "a chunked body over lighttpd's limit: its 413" 413 SIZE_INVALID
else
	ok "# SKIP $FRONT sets no body size limit of its own (413)"
fi

# berth down: the front server answers itself
kill "$PREFORK_PID"
wait "$PREFORK_PID" 2>/dev/null
req GET /v2/
case $STATUS in
502 | 503) expect_error "berth down: the front server's $STATUS" "$STATUS" UNAVAILABLE ;;
*) not_ok "berth down: 502 or 503, got $STATUS" ;;
esac

start_prefork
[ "$FRONT" = apache ] && chmod 666 "$REG_RUN/prefork.sock" # as start_apache
wait_for "$BASE/v2/" || bail "berth did not come back"
req GET /v2/
expect_status "berth back: it answers again" 200
req GET /v2/a/b/manifests/nope
expect_error "and its errors are its own" 404 MANIFEST_UNKNOWN

done_testing
