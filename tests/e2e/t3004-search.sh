#!/bin/sh
# docker search: docker's registry v1 search API (/v1/_ping, /v1/search):
# the JSON docker parses, substring matches in name order (and in the
# descriptions that annotations give), pages, n and
# page checked; docker search and podman search through the front
# server; then, with an access file, each client sees only what it may
# pull.
# shellcheck source=tests/e2e/lib.sh
. "${srcdir:-$(dirname "$0")}/lib.sh"
# shellcheck source=tests/e2e/lib-front.sh
. "$srcdir/lib-front.sh"
# shellcheck source=tests/e2e/lib-http.sh
. "$srcdir/lib-http.sh"
# shellcheck source=tests/e2e/lib-clients.sh
. "$srcdir/lib-clients.sh"
start_front
T=$REG_TMP

printf '{"architecture":"amd64","os":"linux"}' >"$T/config"
oci manifest --config "$T/config" >"$T/m"
for r in search/alpha search/alphabet search/beta other/alpine zeta/alps; do
	push_blob "$r" "$T/config"
	put_manifest "$r" latest "$T/m"
done
expect_status "five repositories pushed" 201
# a description, from an index's annotation, pushed with a tag
oci index --manifest "$T/m" \
	--annotation 'org.opencontainers.image.description=Compilers for the "build" farm' \
	>"$T/ix"
push_blob tools/ci "$T/config"
put_manifest tools/ci "$(oci digest "$T/m")" "$T/m"
put_manifest tools/ci stable "$T/ix"
expect_status "an index with a description" 201

# json EXPR: evaluate a Python expression on the last body (as j)
json() {
	python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' \
		"$T/body" "$1"
}
names() {
	json '",".join(x["name"] for x in j["results"])'
}

req GET /v1/_ping
expect_status "GET /v1/_ping" 200
expect_header "GET /v1/_ping" Content-Type application/json
expect_header "GET /v1/_ping" Docker-Distribution-Api-Version registry/2.0
is "a JSON object" "$(json 'type(j).__name__')" dict

req GET '/v1/search?q=alp'
expect_status "search alp" 200
expect_header "search alp" Content-Type application/json
is "the names that hold alp, in order" "$(names)" \
	"other/alpine,search/alpha,search/alphabet,zeta/alps"
is "the counts and the page" \
	"$(json 'j["num_results"], j["num_pages"], j["page"], j["page_size"], j["query"]')" \
	"(4, 1, 1, 25, 'alp')"
is "each result as docker reads it" "$(json 'sorted(j["results"][0].items())')" \
	"[('description', ''), ('is_automated', False), ('is_official', False), ('name', 'other/alpine'), ('star_count', 0)]"
req GET '/v1/search?q=ALP'
is "any case" "$(json 'j["num_results"], j["query"]')" "(4, 'alp')"
req GET '/v1/search?q=et'
is "anywhere in the name" "$(names)" "search/alphabet,search/beta,zeta/alps"
req GET '/v1/search'
is "no q: every repository" "$(json 'j["num_results"]')" 6
req GET '/v1/search?q=BUILD%22%20Farm'
is "the description matches too, in any case, and is shown" \
	"$(json '[(x["name"], x["description"]) for x in j["results"]]')" \
	"[('tools/ci', 'Compilers for the \"build\" farm')]"
req GET '/v1/search?q=nothing%20here'
is "no match" "$(json 'j["num_results"], j["num_pages"], j["results"], j["query"]')" \
	"(0, 0, [], 'nothing here')"

req GET '/v1/search?q=alp&n=3'
is "n=3" "$(names) $(json 'j["num_pages"], j["page_size"]')" \
	"other/alpine,search/alpha,search/alphabet (2, 3)"
req GET '/v1/search?q=alp&n=3&page=2'
is "page 2" "$(names) $(json 'j["page"], j["num_results"]')" "zeta/alps (2, 4)"
req GET '/v1/search?q=alp&n=3&page=3'
expect_status "a page past the last" 200
is "is empty" "$(json 'j["results"], j["num_results"]')" "([], 4)"
req GET '/v1/search?q=alp&n=1000'
is "n is at most 100" "$(json 'j["page_size"], len(j["results"])')" "(100, 4)"
for bad in n=0 n=-1 n=x n= page=0 page=-2 page=1x n=99999999999999999999; do
	req GET "/v1/search?q=alp&$bad"
	expect_error "$bad" 400 PAGINATION_NUMBER_INVALID
done
req GET "/v1/search?q=$(printf '%0300d' 0)"
expect_error "a q longer than any name" 400 NAME_INVALID

# the clients, as users run them: REG/term
R=$(reg)
if ! command -v podman >/dev/null; then
	ok "# SKIP podman is not installed"
else
	# podman asks /v1/search without credentials and falls back to the
	# catalog when that fails (a 401 when everything is behind login).
	# podman search (4.3) has neither --cert-dir nor --creds: no TLS
	# check here, and the login goes in an auth file
	PS_OPTS=--tls-verify=false
	if [ "$FRONT_AUTH" = required ]; then
		_tls=--tls-verify=false
		[ "$FRONT_TLS" = 1 ] && _tls="--cert-dir $T/ca"
		# shellcheck disable=SC2086 # $_tls is a list of options
		echo "$TESTER_PW" | pdm login $_tls --authfile "$T/auth.json" \
			-u tester --password-stdin "$R" >"$T/login.out" 2>&1
		is "podman login" "$?" 0
		PS_OPTS="$PS_OPTS --authfile $T/auth.json"
	fi
	# shellcheck disable=SC2086 # $PS_OPTS is a list of options
	pdm search $PS_OPTS --format '{{.Name}}' "$R/alp" >"$T/podman.out" 2>&1
	is "podman search $R/alp" "$(sort "$T/podman.out" | tr '\n' ' ')" \
		"$R/other/alpine $R/search/alpha $R/search/alphabet $R/zeta/alps "
fi
# after podman: start_dockerd sets DOCKER_CONFIG, which podman reads too
if ! command -v dockerd >/dev/null || ! command -v docker >/dev/null; then
	ok "# SKIP docker is not installed"
else
	start_dockerd
	if [ "$FRONT_AUTH" = required ]; then
		echo "$TESTER_PW" | docker login -u tester --password-stdin "$R" \
			>"$T/login.out" 2>&1
		is "docker login" "$?" 0
	fi
	docker search --format '{{.Name}}' "$R/alp" >"$T/docker.out" 2>&1
	is "docker search $R/alp" "$(sort "$T/docker.out" | tr '\n' ' ')" \
		"other/alpine search/alpha search/alphabet zeta/alps "
	docker search --limit 2 --format '{{.Name}}' "$R/alp" >"$T/docker.out" 2>&1
	is "docker search --limit 2" "$(tr '\n' ' ' <"$T/docker.out")" \
		"other/alpine search/alpha "
	docker search --no-trunc --format '{{.Name}}: {{.Description}}' \
		"$R/farm" >"$T/docker.out" 2>&1
	is "docker search shows the description" "$(cat "$T/docker.out")" \
		'tools/ci: Compilers for the "build" farm'
fi

# access: only what the client may pull is listed and counted; the search
# needs the catalog right, as the catalog does
if [ "$FRONT_AUTH" = none ]; then
	stop_front
	for u in bob carol dave; do add_user "$u" "pw-$u"; done
	cat >"$T/access.conf" <<RULES
*       pull,catalog    search/*
bob     pull            *
carol   pull            other/*
RULES
	berth_conf "access = $T/access.conf"
	FRONT_AUTH=optional
	front_options
	start_front
	req GET '/v1/search?q=alp'
	is "anonymous sees search/*" "$(names) $(json 'j["num_results"]')" \
		"search/alpha,search/alphabet 2"
	req GET '/v1/search?q=alp' -u carol:pw-carol
	is "carol search/* and other/*" "$(names) $(json 'j["num_results"]')" \
		"other/alpine,search/alpha,search/alphabet 3"
	req GET '/v1/search?q=alp&n=1&page=2' -u carol:pw-carol
	is "and pages count only those" "$(names) $(json 'j["num_pages"]')" \
		"search/alpha 3"
	req GET '/v1/search?q=alp' -u bob:pw-bob
	is "bob everything" "$(json 'j["num_results"]')" 4
	req GET '/v1/search?q=alp' -u bob:wrong
	expect_status "a wrong password is the front server's 401" 401
	cat >"$T/access.conf" <<RULES
bob     pull,catalog    *
RULES
	stop_front
	start_front
	req GET '/v1/search?q=alp'
	expect_error "without the catalog right anonymous must log in" 401 \
		UNAUTHORIZED
	req GET '/v1/search?q=alp' -u carol:pw-carol
	expect_error "and a user is denied" 403 DENIED
	req GET '/v1/search?q=alp' -u bob:pw-bob
	is "bob may" "$(json 'j["num_results"]')" 4
fi

done_testing
