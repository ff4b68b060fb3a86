#!/bin/sh
# The web catalog: its JSON API under /v2/_berth/ui/ (shapes, pages,
# errors, access rules) with curl, then the page under /ui/ in a real
# browser, headless Chromium driven by tests/e2e/ui.py, logged in through
# the front server's basic auth as three users: what it lists and shows
# after pushes (a two-platform index with an SBOM referring to it), a
# delete with its button, no button without the delete right, no
# repository its user may not pull, nothing fetched from elsewhere, and
# no horizontal scrolling on a phone. The screenshots stay in
# $top_builddir/tests/e2e/artifacts/. Through nginx and Apache (links in
# tests/e2e/{nginx,apache}-tls/) the page's files and the API with curl.
# shellcheck source=tests/e2e/lib.sh
. "${srcdir:-$(dirname "$0")}/lib.sh"
# shellcheck source=tests/e2e/lib-front.sh
. "$srcdir/lib-front.sh"
# shellcheck source=tests/e2e/lib-http.sh
. "$srcdir/lib-http.sh"
T=$REG_TMP

# everything behind login; berth's access file says who may do what
FRONT_AUTH=required
for u in alice bob carol; do add_user "$u" "pw-$u"; done
cat >"$T/access.conf" <<RULES
tester  all             *
alice   all             *
bob     pull            *
carol   pull            team/*
RULES
berth_conf "access = $T/access.conf" "delete = on"
start_front

# json EXPR: evaluate a Python expression on the last body (as j); the
# items of a tuple are printed with spaces between
json() {
	python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); r = eval(sys.argv[2]); print(*(r if type(r) is tuple else (r,)))' \
		"$T/body" "$1"
}

# team/app:v1 a two-platform index, with an SBOM that refers to it;
# team/app:v2 an image; secret/db:1.0 an image carol may not pull
for a in amd64 arm64; do
	printf '{"architecture":"%s","os":"linux"}' "$a" >"$T/config-$a"
	mkblob "$T/layer-$a" 3000
	push_blob team/app "$T/config-$a"
	push_blob team/app "$T/layer-$a"
	oci manifest --config "$T/config-$a" --layer "$T/layer-$a" >"$T/m-$a"
	put_manifest team/app "$(oci digest "$T/m-$a")" "$T/m-$a"
done
oci index --manifest "$T/m-amd64=linux/amd64" \
	--manifest "$T/m-arm64=linux/arm64" >"$T/index"
put_manifest team/app v1 "$T/index"
expect_status "push a two-platform index" 201
printf '{"spdxVersion":"SPDX-2.3"}' >"$T/sbom"
printf '{}' >"$T/empty"
push_blob team/app "$T/sbom"
push_blob team/app "$T/empty"
oci manifest --config "$T/empty=application/vnd.oci.empty.v1+json" \
	--layer "$T/sbom=application/spdx+json" --subject "$T/index" \
	--artifact-type application/spdx+json >"$T/sbom-m"
put_manifest team/app "$(oci digest "$T/sbom-m")" "$T/sbom-m"
expect_status "push an SBOM of it" 201
put_manifest team/app v2 "$T/m-amd64"
push_blob secret/db "$T/config-amd64"
push_blob secret/db "$T/layer-amd64"
put_manifest secret/db 1.0 "$T/m-amd64"
expect_status "push secret/db:1.0" 201
INDEX=$(oci digest "$T/index")

# --- the API ---
U=/v2/_berth/ui/repositories
req GET "$U"
expect_status "GET $U" 200
expect_header "GET $U" Content-Type application/json
is "every repository, with tags and bytes" \
	"$(json '[(r["name"], r["tags"], r["bytes"] > 6000) for r in j["repositories"]], j["user"], j["next"]')" \
	"[('secret/db', 1, False), ('team/app', 2, True)] tester None"
req GET "$U?q=APP"
is "q, any case" "$(json '[r["name"] for r in j["repositories"]]')" \
	"['team/app']"
req GET "$U?n=1"
is "n=1: a page and where the next starts" \
	"$(json '[r["name"] for r in j["repositories"]], j["next"]')" \
	"['secret/db'] secret/db"
req GET "$U?n=1&last=secret/db"
is "the next page" "$(json '[r["name"] for r in j["repositories"]], j["next"]')" \
	"['team/app'] None"
for bad in n=0 n=x 'last=A'; do
	req GET "$U?$bad"
	expect_error "$bad" 400 PAGINATION_NUMBER_INVALID
done
req GET "$U" -u carol:pw-carol
is "carol lists only what she may pull" \
	"$(json '[r["name"] for r in j["repositories"]], j["user"]')" \
	"['team/app'] carol"

req GET "$U/team/app/tags"
expect_status "GET $U/team/app/tags" 200
is "its tags" "$(json '[t["tag"] for t in j["tags"]], j["name"], j["delete"], j["next"]')" \
	"['v1', 'v2'] team/app True None"
is "v1: digest, type, a pull's size, a push time" \
	"$(json 'j["tags"][0]["digest"], j["tags"][0]["media_type"], j["tags"][0]["size"], j["tags"][0]["pushed"] > 1700000000')" \
	"$INDEX application/vnd.oci.image.index.v1+json $(($(wc -c <"$T/index") + $(wc -c <"$T/m-amd64") + $(wc -c <"$T/m-arm64") + $(wc -c <"$T/config-amd64") + $(wc -c <"$T/config-arm64") + 6000)) True"
is "v1: its platforms" \
	"$(json '[(p["os"], p["architecture"], p["digest"][:7]) for p in j["tags"][0]["platforms"]]')" \
	"[('linux', 'amd64', 'sha256:'), ('linux', 'arm64', 'sha256:')]"
is "v1: its referrers" \
	"$(json '[(d["artifactType"], d["digest"]) for d in j["tags"][0]["referrers"]]')" \
	"[('application/spdx+json', '$(oci digest "$T/sbom-m")')]"
is "v2: an image, no platforms, no referrers" \
	"$(json 'j["tags"][1]["platforms"], j["tags"][1]["referrers"]')" "[] []"
req GET "$U/team/app/tags?n=1&last=v1"
is "pages of tags" "$(json '[t["tag"] for t in j["tags"]], j["next"]')" \
	"['v2'] None"
req GET "$U/team/app/tags?n=1"
is "and where the next starts" "$(json 'j["next"]')" v1
req GET "$U/team/app/tags" -u bob:pw-bob
is "bob may not delete" "$(json 'j["delete"]')" False
req GET "$U/secret/db/tags" -u carol:pw-carol
expect_error "carol may not see secret/db" 403 DENIED
req GET "$U/no/such/tags"
expect_error "an unknown repository" 404 NAME_UNKNOWN
req GET "$U/team/app/tags?last=-x"
expect_error "a bad last" 400 PAGINATION_NUMBER_INVALID
req POST "$U"
expect_error "POST" 405 UNSUPPORTED
anonymous_curl
req GET "$U"
expect_status "anonymous: the front server's login" 401
front_options

# --- the page, through the front server ---
req GET /ui/
expect_status "GET /ui/" 200
expect_header "GET /ui/" Content-Type "text/html; charset=utf-8"
for f in app.js style.css; do
	req GET "/ui/$f"
	expect_status "GET /ui/$f" 200
done
req GET /ui
is "/ui goes to /ui/" "$STATUS $(hdr Location | sed 's|^https*://[^/]*||')" \
	"301 /ui/"
anonymous_curl
req GET /ui/
expect_status "/ui/ wants a login" 401
front_options

# --- in a browser: through lighttpd (tests/e2e/{nginx,apache}-tls/ run
# the checks above through the other servers' configs) ---
if [ "$FRONT" != lighttpd ]; then
	done_testing
fi
PY=
for p in /usr/bin/python3 python3; do
	if "$p" -c 'import selenium' 2>/dev/null; then
		PY=$p
		break
	fi
done
if [ -z "$PY" ] || ! command -v chromedriver >/dev/null ||
	! command -v chromium >/dev/null; then
	ok "# SKIP chromium, chromium-driver or python3-selenium is missing"
	done_testing
fi
ART=$top_builddir/tests/e2e/artifacts
mkdir -p "$ART"
"$PY" "$srcdir/ui.py" --base "$BASE" --tmp "$T" --artifacts "$ART" \
	>"$T/ui.out" 2>&1
is "ui.py: the page as three users" "$?" 0
sed 's/^/# /' "$T/ui.out"

# what the page deleted, the registry no longer has
req GET /v2/team/app/manifests/v2
expect_error "v2 is gone" 404 MANIFEST_UNKNOWN
req GET /v2/team/app/tags/list
is "v1 stays" "$(json 'j["tags"]')" "['v1']"
echo "# screenshots: $ART/ui.png $ART/ui-phone.png $ART/ui-repos.png"

done_testing
