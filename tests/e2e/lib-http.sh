# shellcheck shell=sh disable=SC2154 # srcdir, top_srcdir: lib.sh sets them
# Requests to the registry and what they carry, for the end-to-end tests:
# req and its status, head and body; expectations on them (expect_*);
# blobs of random data, their digests, pushes of blobs and manifests; and
# a check of the blob files in the store.
#
# Needs tests/e2e/lib.sh, sourced before (REG_TMP, is), and python3,
# sha256sum, sha512sum. The requests (req, push_blob, put_manifest) go
# through tests/e2e/lib-front.sh's client (c) to its server ($BASE).
: "${REG_TMP:?tests/e2e/lib.sh must be sourced before lib-http.sh}"
STATUS=

# --- HTTP ---

# req METHOD PATH [CURL-ARGS...]: one request to $BASE; the status goes to
# $STATUS, the head to $REG_TMP/head, the body to $REG_TMP/body. A body-less
# POST, PUT or PATCH gets "Content-Length: 0", as every registry client
# sends (lighttpd answers 411 without it).
req() {
	_m=$1
	_u=$2
	shift 2
	case "$_m" in
	HEAD) set -- -I "$@" ;;
	*) set -- -X "$_m" "$@" ;;
	esac
	case "$_m" in
	POST | PUT | PATCH)
		case " $* " in
		*" --data-binary "* | *" -T "* | *" --upload-file "*) ;;
		*) set -- "$@" -H "Content-Length: 0" ;;
		esac
		;;
	esac
	STATUS=$(c -o "$REG_TMP/body" -D "$REG_TMP/head" \
		-w '%{http_code}' "$@" "$BASE$_u")
}

# hdr NAME: the value of response header NAME of the last req
hdr() {
	tr -d '\r' <"$REG_TMP/head" |
		awk -v n="$1" 'BEGIN { n = tolower(n) ":" }
			tolower(substr($0, 1, length(n))) == n {
				sub(/^[^:]*:[ \t]*/, ""); v = $0 }
			END { print v }'
}

body() {
	cat "$REG_TMP/body"
}

# expect_status DESCRIPTION CODE
expect_status() {
	is "$1 (status)" "$STATUS" "$2"
}

# expect_header DESCRIPTION NAME VALUE
expect_header() {
	is "$1 ($2)" "$(hdr "$2")" "$3"
}

# expect_error DESCRIPTION STATUS CODE: the spec's JSON error body
expect_error() {
	_want="$2 application/json $3"
	_code=$(python3 -c '
import json, sys
try:
    print(json.load(open(sys.argv[1]))["errors"][0]["code"])
except Exception as e:
    print("no JSON error body:", e)' "$REG_TMP/body")
	_got="$STATUS $(hdr Content-Type) $_code"
	is "$1" "$_got" "$_want"
}

# --- content ---

# mkblob FILE SIZE: SIZE bytes of random data
mkblob() {
	head -c "$2" /dev/urandom >"$1"
}

# sha256 FILE: "sha256:<hex>"
sha256() {
	echo "sha256:$(sha256sum "$1" | cut -d' ' -f1)"
}

sha512() {
	echo "sha512:$(sha512sum "$1" | cut -d' ' -f1)"
}

# push_blob REPO FILE [CURL-ARGS...]: monolithic upload (end-4b); sets
# $STATUS
push_blob() {
	_r=$1
	_f=$2
	shift 2
	req POST "/v2/$_r/blobs/uploads/?digest=$(sha256 "$_f")" \
		-H 'Content-Type: application/octet-stream' --data-binary "@$_f" "$@"
}

# oci ARGS...: tests/e2e/oci.py (manifests from files)
oci() {
	python3 "$srcdir/oci.py" "$@"
}

# put_manifest REPO REF FILE [CONTENT-TYPE]: PUT the file as a manifest
# (end-7); the Content-Type defaults to the file's mediaType
put_manifest() {
	_ct=${4:-$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1])).get("mediaType", ""))' "$3")}
	req PUT "/v2/$1/manifests/$2" -H "Content-Type: $_ct" --data-binary "@$3"
}

# store_files_intact: every blob file in the store hashes to its name
store_files_intact() {
	find "$REG_STORE/blobs" -type f | while read -r _f; do
		_alg=$(basename "$(dirname "$(dirname "$_f")")")
		_sum=$("${_alg}sum" "$_f" | cut -d' ' -f1)
		[ "$_sum" = "$(basename "$_f")" ] || {
			echo "# corrupt blob file $_f"
			return 1
		}
	done
}
