#!/bin/sh
# Tags (end-8a, end-8b) and the catalog: lexical order, n, last, Link,
# NAME_UNKNOWN, and when a repository enters and leaves the catalog.
# shellcheck source=tests/e2e/lib.sh
. "${srcdir:-$(dirname "$0")}/lib.sh"
# shellcheck source=tests/e2e/lib-front.sh
. "$srcdir/lib-front.sh"
# shellcheck source=tests/e2e/lib-http.sh
. "$srcdir/lib-http.sh"
start_front
T=$REG_TMP

printf '{"architecture":"amd64","os":"linux"}' >"$T/config"
push_blob t/app "$T/config"
oci manifest --config "$T/config" >"$T/m"
M=$(sha256 "$T/m")

# json EXPR: evaluate a Python expression on the last body (as j)
json() {
	python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' \
		"$T/body" "$1"
}

req GET /v2/t/app/tags/list
expect_status "a repository with blobs but no tags" 200
is "has an empty tag list" "$(json 'j["name"], j["tags"]')" "('t/app', [])"
req GET /v2/t/none/tags/list
expect_error "an unknown repository" 404 NAME_UNKNOWN

for tag in latest 1.0 1.10 1.9 B a A _x z-9 Z; do
	put_manifest t/app "$tag" "$T/m" >/dev/null
done
req GET /v2/t/app/tags/list
expect_status "tags list" 200
expect_header "tags list" Content-Type application/json
is "all tags in lexical order" "$(json '",".join(j["tags"])')" "1.0,1.10,1.9,A,B,Z,_x,a,latest,z-9"
is "name" "$(json 'j["name"]')" "t/app"
is "no Link when everything fits" "$(hdr Link)" ""

req GET '/v2/t/app/tags/list?n=3'
is "n=3" "$(json '",".join(j["tags"])')" "1.0,1.10,1.9"
expect_header "n=3" Link '</v2/t/app/tags/list?n=3&last=1.9>; rel="next"'
req GET '/v2/t/app/tags/list?n=3&last=1.9'
is "the next page" "$(json '",".join(j["tags"])')" "A,B,Z"
req GET '/v2/t/app/tags/list?n=4&last=_x'
is "the last page" "$(json '",".join(j["tags"])')" "a,latest,z-9"
is "has no Link" "$(hdr Link)" ""
req GET '/v2/t/app/tags/list?last=Z'
is "last without n" "$(json '",".join(j["tags"])')" "_x,a,latest,z-9"
req GET '/v2/t/app/tags/list?n=2&last=Aa'
is "last need not be a tag that exists" "$(json '",".join(j["tags"])')" "B,Z"
req GET '/v2/t/app/tags/list?n=0'
is "n=0 is an empty list" "$(json 'j["tags"]')" "[]"
is "without Link" "$(hdr Link)" ""
req GET '/v2/t/app/tags/list?n=10'
is "n equal to the count: no Link" "$(json 'len(j["tags"])') $(hdr Link)" "10 "

# walk by following Link headers
next='/v2/t/app/tags/list?n=4'
all=
pages=0
while [ -n "$next" ]; do
	req GET "$next"
	all="$all$(json '",".join(j["tags"])'),"
	next=$(hdr Link | sed -n 's/^<\([^>]*\)>; rel="next"$/\1/p')
	pages=$((pages + 1))
done
is "following Link walks every tag once" "$all" "1.0,1.10,1.9,A,B,Z,_x,a,latest,z-9,"
is "in 3 pages" $pages 3

req GET '/v2/t/app/tags/list?n=abc'
expect_error "n not a number" 400 PAGINATION_NUMBER_INVALID
req GET '/v2/t/app/tags/list?n=-1'
expect_error "n negative" 400 PAGINATION_NUMBER_INVALID
req GET '/v2/t/app/tags/list?last=-x'
expect_error "last not a tag" 400 TAG_INVALID

# many tags: pages are cursor walks
push_blob t/many "$T/config"
i=0
while [ $i -lt 300 ]; do
	req PUT "/v2/t/many/manifests/t$(printf '%04d' $i)" \
		-H 'Content-Type: application/vnd.oci.image.manifest.v1+json' --data-binary "@$T/m"
	i=$((i + 1))
done
req GET '/v2/t/many/tags/list?n=100&last=t0149'
is "page from the middle of 300" "$(json 'j["tags"][0], j["tags"][-1], len(j["tags"])')" "('t0150', 't0249', 100)"

# --- the catalog ---
req GET /v2/_catalog
expect_status "catalog" 200
is "repositories in lexical order" "$(json '",".join(j["repositories"])')" "t/app,t/many"
push_blob t/blobonly "$T/config"
push_blob a/first "$T/config"
req GET /v2/_catalog
is "a repository appears with its first blob" "$(json '",".join(j["repositories"])')" "a/first,t/app,t/blobonly,t/many"
req GET '/v2/_catalog?n=2'
is "catalog n=2" "$(json '",".join(j["repositories"])')" "a/first,t/app"
expect_header "catalog n=2" Link '</v2/_catalog?n=2&last=t/app>; rel="next"'
req GET '/v2/_catalog?n=2&last=t/app'
is "the next page" "$(json '",".join(j["repositories"])')" "t/blobonly,t/many"
is "the last page has no Link" "$(hdr Link)" ""
req GET '/v2/_catalog?last=BAD'
expect_error "catalog last not a name" 400 NAME_INVALID
req GET '/v2/_catalog?n=x'
expect_error "catalog n not a number" 400 PAGINATION_NUMBER_INVALID

# a repository leaves the catalog when its last manifest and tag go
req POST "/v2/t/gone/blobs/uploads/?mount=$(sha256 "$T/config")&from=t/app"
put_manifest t/gone one "$T/m"
put_manifest t/gone two "$T/m"
req GET /v2/_catalog
is "t/gone is listed" "$(json '"t/gone" in j["repositories"]')" True
req DELETE /v2/t/gone/manifests/one
req GET /v2/_catalog
is "deleting one tag keeps it" "$(json '"t/gone" in j["repositories"]')" True
req DELETE "/v2/t/gone/manifests/$M"
req GET /v2/_catalog
is "deleting its last manifest takes it out" "$(json '"t/gone" in j["repositories"]')" False
req GET /v2/t/gone/tags/list
expect_error "its tag list goes with it, as for a repository never pushed" \
	404 NAME_UNKNOWN
put_manifest t/gone three "$T/m"
req GET /v2/_catalog
is "pushing again brings it back" "$(json '"t/gone" in j["repositories"]')" True
req DELETE /v2/t/gone/manifests/three
req DELETE "/v2/t/gone/manifests/$M"
req DELETE "/v2/t/gone/blobs/$(sha256 "$T/config")"
req GET /v2/t/gone/tags/list
expect_error "with nothing left the repository is unknown" 404 NAME_UNKNOWN
done_testing
