#!/bin/sh
# end-1, the error envelope, routing and repository-name errors, through
# lighttpd.
# shellcheck source=tests/e2e/lib.sh
. "${srcdir:-$(dirname "$0")}/lib.sh"
# shellcheck source=tests/e2e/lib-front.sh
. "$srcdir/lib-front.sh"
# shellcheck source=tests/e2e/lib-http.sh
. "$srcdir/lib-http.sh"
start_front

req GET /v2/
expect_status "GET /v2/" 200
expect_header "GET /v2/" Docker-Distribution-Api-Version registry/2.0
is "GET /v2/ body" "$(body)" "{}"
req HEAD /v2/
expect_status "HEAD /v2/" 200
req GET /v2
expect_status "GET /v2 without the slash" 200

zero=sha256:$(printf '%064d' 0)
req GET "/v2/library/alpine/blobs/$zero"
expect_error "unknown blob" 404 BLOB_UNKNOWN
expect_header "errors carry the API version too" \
	Docker-Distribution-Api-Version registry/2.0
req HEAD "/v2/library/alpine/blobs/$zero"
expect_status "HEAD of an unknown blob" 404

req GET /v2/library/alpine/nothing/here
expect_error "unknown endpoint" 404 UNSUPPORTED
req PUT "/v2/library/alpine/blobs/$zero"
expect_error "wrong method on a known endpoint" 405 UNSUPPORTED
req OPTIONS /v2/library/alpine/blobs/uploads/
expect_error "unknown method" 405 UNSUPPORTED

# NAME_INVALID (the name grammar of "Pulling manifests")
long=$(python3 -c 'print("a" * 256)')
max=$(python3 -c 'print("/".join(["a" * 127, "b" * 127]))')
for name in Library/alpine 'a/../b' a//b /a a/ a..b -a a- a___b A \
	"$long" 'a%20b' 'a%2e%2e/b' 'a/%2e%2e/b'; do
	req GET "/v2/$name/blobs/$zero" --path-as-is
	expect_error "name '$(echo "$name" | cut -c1-20)' is invalid" 400 NAME_INVALID
done
for name in a a/b a.b a_b a__b a-b a---b x0/y1/z2 "$max"; do
	req GET "/v2/$name/blobs/$zero"
	expect_error "name '$(echo "$name" | cut -c1-20)' is valid" 404 BLOB_UNKNOWN
done
req POST "/v2/UPPER/blobs/uploads/"
expect_error "upload under an invalid name" 400 NAME_INVALID

# DIGEST_INVALID
for d in sha256:xyz "sha256:$(printf '%063d' 0)" "md5:d41d8cd98f00b204e9800998ecf8427e" \
	"SHA256:$(printf '%064d' 0)" "sha256:$(printf '%064d' 0 | tr 0 A)" sha256: \
	"sha256$(printf '%064d' 0)"; do
	req GET "/v2/library/alpine/blobs/$d"
	expect_error "digest '$(echo "$d" | cut -c1-16)...' is invalid" 400 DIGEST_INVALID
done

# the access line of each request, in logfmt (berth's log at info)
user=
[ "$FRONT_AUTH" = required ] && user=tester
printf '{"x": "%s"}' "$(printf '%01000d' 0)" >"$REG_TMP/access.json"
req PUT '/v2/acc/img/manifests/a%20b' --data-binary "@$REG_TMP/access.json"
expect_status "a PUT berth refuses" 400
sleep 0.2 # the line is written after the answer
check "its access line: method, path, status, bytes, duration, user" \
	grep -qE "access method=PUT path=\"/v2/acc/img/manifests/a b\" status=400 bytes_in=[0-9]+ bytes_out=[1-9][0-9]* duration_ms=[0-9]+ user=${user:-\"\"} addr=127.0.0.1\$" \
	"$REG_RUN/berth.log"
done_testing
