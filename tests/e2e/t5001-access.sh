#!/bin/sh
# Who may do what: the front server checks the password when one is sent
# (the optional auth mode of conf/<server>) and berth's access file
# decides: UNAUTHORIZED (401, with a Basic challenge) for anonymous
# clients that must log in, DENIED (403) for users the rules do not allow,
# and a cross-repository mount that cannot read its source opens a plain
# session instead. Then everything behind login (the required mode).
# shellcheck source=tests/e2e/lib.sh
. "${srcdir:-$(dirname "$0")}/lib.sh"
# shellcheck source=tests/e2e/lib-front.sh
. "$srcdir/lib-front.sh"
# shellcheck source=tests/e2e/lib-http.sh
. "$srcdir/lib-http.sh"
need openssl
T=$REG_TMP
for u in alice bob carol dave admin; do add_user "$u" "pw-$u"; done
cat >"$T/access.conf" <<RULES
*       pull            public/*
bob     pull,catalog    *
alice   push,delete     team-a/*
carol   all             carol/*
dave    push            dave/*
admin   all             *
RULES
berth_conf "access = $T/access.conf"
FRONT_AUTH=optional
start_front
as() { # USER: curl arguments for USER
	echo "-u $1:pw-$1"
}

mkblob "$T/blob" 1000
D=$(sha256 "$T/blob")

# end-1: anonymous clients are asked to log in, users are let in
req GET /v2/
expect_error "anonymous GET /v2/" 401 UNAUTHORIZED
expect_header "with a Basic challenge" WWW-Authenticate 'Basic realm="berth"'
expect_header "and the API version" Docker-Distribution-Api-Version registry/2.0
# shellcheck disable=SC2046
req GET /v2/ $(as bob)
expect_status "bob's GET /v2/" 200
req GET /v2/ -u bob:wrong
expect_status "a wrong password is the front server's 401" 401
expect_header "which has the API version header too" Docker-Distribution-Api-Version registry/2.0
req GET /v2/ -u mallory:pw-mallory
expect_status "an unknown user too" 401

# push: by whom the rules allow
# shellcheck disable=SC2046
push_blob public/x "$T/blob" $(as admin)
expect_status "admin pushes to public/x" 201
req POST "/v2/public/x/blobs/uploads/?digest=$D" --data-binary "@$T/blob"
expect_error "anonymous push" 401 UNAUTHORIZED
expect_header "anonymous push" WWW-Authenticate 'Basic realm="berth"'
# shellcheck disable=SC2046
req POST "/v2/team-a/x/blobs/uploads/?digest=$D" --data-binary "@$T/blob" $(as bob)
expect_error "bob may not push to team-a" 403 DENIED
# shellcheck disable=SC2046
req POST "/v2/team-a/x/blobs/uploads/?digest=$D" --data-binary "@$T/blob" $(as alice)
expect_status "alice may" 201
# shellcheck disable=SC2046
req POST /v2/team-a/x/blobs/uploads/ $(as alice)
LOC=$(hdr Location)
# shellcheck disable=SC2046
req PATCH "$LOC" --data-binary "@$T/blob" $(as bob)
expect_error "bob may not PATCH alice's session" 403 DENIED
req GET "$LOC"
expect_error "nor may anonymous look at it" 401 UNAUTHORIZED

# pull
req GET "/v2/public/x/blobs/$D"
expect_status "anonymous pull from public/" 200
req GET "/v2/team-a/x/blobs/$D"
expect_error "anonymous pull from team-a" 401 UNAUTHORIZED
# shellcheck disable=SC2046
req GET "/v2/team-a/x/blobs/$D" $(as bob)
expect_status "bob pulls anything" 200
# shellcheck disable=SC2046
req GET "/v2/team-a/x/blobs/$D" $(as dave)
expect_error "dave pulls nothing outside his own" 403 DENIED
# shellcheck disable=SC2046
req GET /v2/team-a/x/tags/list $(as dave)
expect_error "not even tags" 403 DENIED

# catalog: exactly the repositories the client may pull, whatever rule
# lets it list; an image in each of three repositories first
printf '{"architecture":"amd64","os":"linux"}' >"$T/config"
mkblob "$T/layer" 2000
oci manifest --config "$T/config" --layer "$T/layer" >"$T/m"
for ru in public/x:admin team-a/x:alice carol/app:carol; do
	# shellcheck disable=SC2046
	push_blob "${ru%:*}" "$T/config" $(as "${ru#*:}")
	# shellcheck disable=SC2046
	push_blob "${ru%:*}" "$T/layer" $(as "${ru#*:}")
	# shellcheck disable=SC2046
	req PUT "/v2/${ru%:*}/manifests/1" --data-binary "@$T/m" $(as "${ru#*:}") \
		-H 'Content-Type: application/vnd.oci.image.manifest.v1+json'
	expect_status "${ru#*:} pushes an image to ${ru%:*}" 201
done
req GET /v2/_catalog
expect_error "anonymous catalog" 401 UNAUTHORIZED
# shellcheck disable=SC2046
req GET /v2/_catalog $(as bob)
expect_status "bob lists the catalog" 200
is "all of it: bob may pull everything" "$(body)" \
	'{"repositories":["carol/app","public/x","team-a/x"]}'
# shellcheck disable=SC2046
req GET /v2/_catalog $(as carol)
expect_status "carol lists the catalog ('all', on carol/*)" 200
is "and sees what she may pull: carol/app and public/x" "$(body)" \
	'{"repositories":["carol/app","public/x"]}'
# shellcheck disable=SC2046
req GET "/v2/_catalog?n=1&last=carol/app" $(as carol)
is "a page of one after carol/app: public/x, team-a/x left out" "$(body)" \
	'{"repositories":["public/x"]}'
# shellcheck disable=SC2046
req GET "/v2/_catalog?n=1&last=public/x" $(as carol)
is "after public/x: nothing for carol" "$(body)" '{"repositories":[]}'
# shellcheck disable=SC2046
req GET /v2/_catalog $(as alice)
expect_error "alice may not" 403 DENIED

# a mount may not read what the client cannot pull
# shellcheck disable=SC2046
req POST "/v2/dave/y/blobs/uploads/?mount=$D&from=team-a/x" $(as dave)
expect_status "dave mounting from team-a gets a plain session" 202
# shellcheck disable=SC2046
req HEAD "/v2/dave/y/blobs/$D" $(as dave)
expect_status "and no blob" 404
# shellcheck disable=SC2046
req POST "/v2/dave/y/blobs/uploads/?mount=$D&from=public/x" $(as dave)
expect_status "dave mounting from public/ mounts" 201

# delete
# shellcheck disable=SC2046
req DELETE "/v2/team-a/x/blobs/$D" $(as bob)
expect_error "bob may not delete" 403 DENIED
# shellcheck disable=SC2046
req DELETE "/v2/dave/y/blobs/$D" $(as dave)
expect_error "dave may push but not delete" 403 DENIED
# shellcheck disable=SC2046
req DELETE "/v2/team-a/x/blobs/$D" $(as alice)
expect_status "alice may" 202
stop_front

# --- everything behind login: the front server asks, no access file ---
berth_conf
FRONT_AUTH=required
start_front
anonymous_curl
req GET /v2/
expect_status "anonymous GET /v2/ is the front server's 401" 401
is "with a Basic challenge" "$(hdr WWW-Authenticate | cut -c1-19)" 'Basic realm="berth"'
expect_header "and the API version" Docker-Distribution-Api-Version registry/2.0
req GET "/v2/public/x/blobs/$D"
expect_status "anonymous pull" 401
# shellcheck disable=SC2046
req GET "/v2/public/x/blobs/$D" $(as dave)
expect_status "any user may pull" 200
# shellcheck disable=SC2046
req POST "/v2/dave/z/blobs/uploads/?digest=$D" --data-binary "@$T/blob" $(as bob)
expect_status "and push" 201
done_testing
