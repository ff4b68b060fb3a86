#!/bin/sh
# The pull-through cache's logins to its upstreams (issue 14, part 2).
# sec/ is a second berth behind TLS and a password (Basic): berth logs in
# with the rule's credentials file and verifies the certificate with its
# ca=; a wrong password, or no ca= for the test's own CA, fails the pull
# with 503 UNAVAILABLE and a message that says why, and keeps nothing.
# tok/ is tests/e2e/tokenproxy.py in front of that berth, which wants a
# Bearer token as docker's registries do: berth asks its realm for one
# with the challenge's service and scope (with the credentials, or
# anonymously without), uses it for every request while it lasts, gets a
# new one when the upstream refuses it or when it expires, and fails
# cleanly when the token service refuses the login. px/ and pxtok/ name
# the same upstreams as localhost, which the workers reach through the
# proxy in their environment (tests/e2e/proxy.py; https_proxy, http_proxy,
# and no_proxy for 127.0.0.1).
# shellcheck disable=SC2086 # $SK_* are lists of options
# shellcheck source=tests/e2e/lib.sh
. "${srcdir:-$(dirname "$0")}/lib.sh"
# shellcheck source=tests/e2e/lib-front.sh
. "$srcdir/lib-front.sh"
# shellcheck source=tests/e2e/lib-http.sh
. "$srcdir/lib-http.sh"
# shellcheck source=tests/e2e/lib-clients.sh
. "$srcdir/lib-clients.sh"
# shellcheck source=tests/e2e/lib-ctl.sh
. "$srcdir/lib-ctl.sh"
need skopeo openssl
T=$REG_TMP
# digest_of LAYOUT TAG: the manifest digest TAG names in an OCI layout
digest_of() {
	python3 -c 'import json, sys; print([m["digest"] for m in json.load(open(sys.argv[1] + "/index.json"))["manifests"] if m["annotations"]["org.opencontainers.image.ref.name"] == sys.argv[2]][0])' "$1" "$2"
}
# cached: the blob files in berth's store, and the parts of fetches
cached() {
	find "$REG_STORE/blobs" "$REG_STORE/fetch" -type f ! -name '*.lock' \
		2>/dev/null | wc -l
}
RND=$(mkimage random random 1 1)
LAYER=sha256:$(find "$T/layout/blobs/sha256" -type f -size +100k -exec basename {} \;)
# another, so that tok/ fetches blobs that sec/ did not bring
OTHER=$(mkimage random other 1 1)
OLAYER=sha256:$(find "$T/layout/blobs/sha256" -type f -size +100k -exec basename {} \; | grep -v "${LAYER#sha256:}")

# the upstream: a second berth behind TLS and a login (its configs, CA
# and password file in b2/, its socket and logs in run2/); the berth under
# test runs as the harness says (plain HTTP unless a *-tls/ link)
TLS0=$FRONT_TLS AUTH0=$FRONT_AUTH
REG_STORE=$T/store2 REG_RUN=$T/run2 REG_TMP=$T/b2 FRONT_TLS=1 FRONT_AUTH=required
mkdir -p "$REG_STORE" "$REG_RUN" "$REG_TMP"
berth_conf
start_front
UP2=$(reg)
check "skopeo pushes an image to the upstream, with TLS and a password" \
	sk copy $SK_DEST --preserve-digests "oci:$T/layout:random" \
	"docker://$UP2/lib/random:1"
check "and another" sk copy $SK_DEST --preserve-digests "oci:$T/layout:other" \
	"docker://$UP2/lib/other:1"
CA=$T/b2/ca/ca.crt
REG_STORE=$T/store REG_RUN=$T/run REG_TMP=$T FRONT_TLS=$TLS0 FRONT_AUTH=$AUTH0

# the token service in front of it, tokens good for 16 s
mkdir "$T/tok"
python3 "$srcdir/tokenproxy.py" "$T/tok/port" "$T/tok" 16 puller:pull-secret \
	"https://$UP2" "$CA" "tester:$TESTER_PW" 2>>"$REG_RUN/tokenproxy.log" &
track $!
wait_file "$T/tok/port" tokenproxy.py
TOK=127.0.0.1:$(cat "$T/tok/port")

# a forward proxy, which berth's workers take from their environment for
# the upstreams named localhost (no_proxy: not for 127.0.0.1)
python3 "$srcdir/proxy.py" "$T/proxy.port" "$T/proxy.log" \
	2>>"$REG_RUN/proxy.log" &
track $!
wait_file "$T/proxy.port" proxy.py
PROXY=http://127.0.0.1:$(cat "$T/proxy.port")

# secca/'s CA file starts as another CA's certificate
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$T/other-ca.key" -out "$T/other-ca.crt" -days 1 \
	-subj /CN=another-ca >"$T/openssl.out" 2>&1 ||
	bail "cannot make another CA"
cp "$T/other-ca.crt" "$T/secca.crt"
echo "tester:$TESTER_PW" >"$T/sec.cred"
echo "tester:wrong-secret" >"$T/secbad.cred"
echo "puller:pull-secret" >"$T/tok.cred"
echo "puller:wrong-secret" >"$T/tokbad.cred"
cat >"$T/mirror.conf" <<RULES
upstream sec/     https://$UP2 credentials=$T/sec.cred ca=$CA timeout=5s
upstream secbad/  https://$UP2 credentials=$T/secbad.cred ca=$CA timeout=5s
upstream secnoca/ https://$UP2 credentials=$T/sec.cred timeout=5s
upstream secca/   https://$UP2 credentials=$T/sec.cred ca=$T/secca.crt timeout=5s
upstream tok/     http://$TOK credentials=$T/tok.cred revalidate=1s timeout=5s
upstream tokanon/ http://$TOK timeout=5s
upstream tokbad/  http://$TOK credentials=$T/tokbad.cred timeout=5s
upstream px/      https://localhost:${UP2#*:} credentials=$T/sec.cred ca=$CA timeout=5s
upstream pxtok/   http://localhost:${TOK#*:} credentials=$T/tok.cred timeout=5s
RULES
berth_conf "mirror = $T/mirror.conf"
# one worker: one client of each upstream, whose tokens the test counts
BERTH_WORKERS=1
# the front server starts the workers with its environment (lighttpd), or
# the test does (berth --listen)
https_proxy=$PROXY http_proxy=$PROXY no_proxy=127.0.0.1
export https_proxy http_proxy no_proxy
start_front
unset https_proxy http_proxy no_proxy
R=$(reg)

# --- Basic and TLS ---

req GET /v2/secbad/lib/random/manifests/1
expect_error "a wrong password: the manifest is unavailable" 503 UNAVAILABLE
grep -q "refused the login" "$T/body"
check "the message says the upstream refused the login" test $? = 0
req GET "/v2/secbad/lib/random/blobs/$LAYER"
expect_error "and so is a blob" 503 UNAVAILABLE
sk copy $SK_SRC "docker://$R/secbad/lib/random:1" "oci:$T/bad:random"
check "skopeo's pull fails" test $? != 0
req GET /v2/secnoca/lib/random/manifests/1
expect_error "without ca=, the upstream's certificate fails: unavailable" \
	503 UNAVAILABLE
grep -q "certificate" "$T/body"
check "the message says it is the certificate" test $? = 0
req GET "/v2/secnoca/lib/random/blobs/$LAYER"
expect_error "and so is a blob" 503 UNAVAILABLE
req GET /v2/secbad/lib/random/tags/list
expect_error "nothing of them is cached: no tags" 404 NAME_UNKNOWN
req GET /v2/secnoca/lib/random/tags/list
expect_error "neither" 404 NAME_UNKNOWN
is "no blobs" "$(cached)" 0

req GET /v2/secca/lib/random/manifests/1
expect_error "a ca= file of another CA: unavailable" 503 UNAVAILABLE
# the password put right in the file: the worker reads it again
echo "tester:$TESTER_PW" >"$T/secbad.cred"
req GET /v2/secbad/lib/random/manifests/1
expect_status "a credentials file put right is read again" 200
# and the right CA's certificate in the ca= file (libcurl would keep the
# first for a day)
cp "$CA" "$T/secca.crt"
req GET /v2/secca/lib/random/manifests/1
expect_status "a ca= file put right is read again" 200
# and back: a new client, not the connection verified with the old file
# (lib/other: not cached yet)
cp "$T/other-ca.crt" "$T/secca.crt"
req GET /v2/secca/lib/other/manifests/1
expect_error "a ca= file changed again is read again" 503 UNAVAILABLE

check "skopeo pulls sec/lib/random through berth" sk copy $SK_SRC \
	--preserve-digests "docker://$R/sec/lib/random:1" "oci:$T/back:random"
is "with the upstream's digest" "$(digest_of "$T/back" random)" "$RND"
bad=0
for f in "$T"/back/blobs/sha256/*; do
	cmp -s "$f" "$T/layout/blobs/sha256/${f##*/}" || bad=$((bad + 1))
done
is "every blob equals the upstream's" $bad 0
check "berth keeps the layer" test -f "$(blob_file "$LAYER")"

# --- Bearer tokens ---

# toks: the token service's log; ups: the upstream's (METHOD PATH STATUS AUTH)
toks() {
	cat "$T/tok/tokens.log" 2>/dev/null
}
ups() {
	cat "$T/tok/requests.log" 2>/dev/null
}
n=$(cached)
req GET /v2/tokbad/lib/other/manifests/1
expect_error "a wrong password at the token service: unavailable" \
	503 UNAVAILABLE
grep -q "refused the login" "$T/body"
check "the message says the upstream refused the login" test $? = 0
is "the token service refused it" "$(toks | tail -n 1)" \
	"puller test repository:lib/other:pull 401"
req GET "/v2/tokbad/lib/other/blobs/$OLAYER"
expect_error "and a blob" 503 UNAVAILABLE
req GET /v2/tokbad/lib/other/tags/list
expect_error "nothing of it is cached" 404 NAME_UNKNOWN
is "no more blobs" "$(cached)" "$n"
is "the upstream served nothing to the wrong login" \
	"$(ups | grep -c ' 200 ')" 0
: >"$T/tok/tokens.log"
: >"$T/tok/requests.log"

check "skopeo pulls tok/lib/other through berth" sk copy $SK_SRC \
	--preserve-digests "docker://$R/tok/lib/other:1" "oci:$T/back2:other"
is "with the upstream's digest" "$(digest_of "$T/back2" other)" "$OTHER"
is "berth asked the realm once, with the challenge's service and scope" \
	"$(toks)" "puller test repository:lib/other:pull 200"
is "it came back with the token after the 401" \
	"$(ups | cut -d' ' -f3,4 | uniq -c | sed 's/^ *//')" \
	"1 401 none
3 200 bearer"

# the registry forgets its tokens: berth's is refused, and it gets another
curl -s -X POST "http://$TOK/revoke"
sleep 1.1 # past revalidate: the tag is checked again
req GET /v2/tok/lib/other/manifests/1
expect_status "a revoked token: berth logs in again" 200
is "after the upstream refused the token berth sent" \
	"$(ups | tail -n 2 | cut -d' ' -f1,3,4)" "HEAD 401 bearer
HEAD 200 bearer"
is "with a new token" "$(toks | wc -l)" 2

# berth keeps a 16 s token for 8 s, then asks for another (8 s leave
# room for a slow skopeo pull and the revoked token's test above)
sleep 8.2
req GET /v2/tok/lib/other/manifests/1
expect_status "an expired token: berth logs in again" 200
is "without sending the expired one" \
	"$(ups | tail -n 2 | cut -d' ' -f1,3,4)" "HEAD 401 none
HEAD 200 bearer"
is "with a new token" "$(toks | wc -l)" 3

req GET /v2/tokanon/lib/other/manifests/1
expect_status "without credentials: an anonymous token" 200
is "asked for without a login" "$(toks | tail -n 1)" \
	"- test repository:lib/other:pull 200"

# a token service that gives 1 s tokens (the token spec asks for 60 s at
# least, not every service does): the token goes with the request that
# asked for it, however soon berth thinks it expires
echo 1 >"$T/tok/ttl"
req GET /v2/tokanon/lib/random/manifests/1
expect_status "a 1 s token serves the request it was asked for" 200
is "which came back with it" "$(ups | tail -n 2 | cut -d' ' -f1,3,4)" \
	"GET 401 none
GET 200 bearer"
rm "$T/tok/ttl"

# --- proxies from the environment ---

req GET /v2/px/lib/random/manifests/1
expect_status "an https upstream through https_proxy" 200
is "a tunnel to it through the proxy" \
	"$(grep -c "^CONNECT localhost:${UP2#*:}$" "$T/proxy.log")" 1
req GET /v2/pxtok/lib/other/manifests/1
expect_status "an http upstream with a token through http_proxy" 200
is "its requests went through the proxy (a 401, then with the token)" \
	"$(grep -c "^GET http://localhost:${TOK#*:}/v2/lib/other/manifests/1$" "$T/proxy.log")" 2
is "nothing for 127.0.0.1 (no_proxy), the token service's realm included" \
	"$(grep -c 127.0.0.1 "$T/proxy.log")" 0

stop_all
! grep -l -E 'Sanitizer|runtime error:' "$T"/run2/*.log
check "no sanitizer reports from the second berth" test $? = 0
done_testing
