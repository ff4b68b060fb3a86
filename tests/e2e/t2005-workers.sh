#!/bin/sh
# Any worker continues an upload another one started: two berth processes
# that share nothing but the storage root, each on a socket of its own,
# take turns on one session (POST on A, PATCH on B, PATCH on A, PUT on B),
# and each serves what the other stored. Driven with cgi-fcgi, so which
# process gets which request is certain.
# shellcheck source=tests/e2e/lib.sh
. "${srcdir:-$(dirname "$0")}/lib.sh"
# shellcheck source=tests/e2e/lib-http.sh
. "$srcdir/lib-http.sh"
need cgi-fcgi
berth_conf "offload = none" # cgi-fcgi is no web server: berth sends the blob
for w in a b; do
	"$BERTH_BIN" -c "$REG_TMP/berth.conf" --listen "$REG_RUN/$w.sock" \
		--workers 1 2>>"$REG_RUN/berth.log" &
	track $!
done
sleep 0.5

# fcgi SOCKET METHOD URI [BODY-FILE]: one FastCGI request; the response
# (CGI headers and body) goes to $REG_TMP/resp
fcgi() {
	_len=0
	_in=/dev/null
	if [ $# -ge 4 ]; then
		_in=$4
		_len=$(wc -c <"$4" | tr -d ' ')
	fi
	REQUEST_METHOD=$2 REQUEST_URI=$3 CONTENT_LENGTH=$_len \
		cgi-fcgi -bind -connect "$REG_RUN/$1.sock" <"$_in" >"$REG_TMP/resp"
}
# field NAME: a header of the last fcgi response
field() {
	tr -d '\r' <"$REG_TMP/resp" | sed -n "s/^$1: //p" | head -n 1
}

mkblob "$REG_TMP/blob" 2000000
D=$(sha256 "$REG_TMP/blob")
head -c 700000 "$REG_TMP/blob" >"$REG_TMP/p1"
tail -c +700001 "$REG_TMP/blob" | head -c 700000 >"$REG_TMP/p2"
tail -c +1400001 "$REG_TMP/blob" >"$REG_TMP/p3"

fcgi a POST /v2/w/r/blobs/uploads/
is "A opens the session" "$(field Status)" "202 Accepted"
loc=$(field Location)
fcgi b PATCH "$loc" "$REG_TMP/p1"
is "B takes the first chunk" "$(field Status) $(field Range)" "202 Accepted 0-699999"
fcgi a PATCH "$loc" "$REG_TMP/p2"
is "A the second" "$(field Status) $(field Range)" "202 Accepted 0-1399999"
fcgi b GET "$loc"
is "B sees both" "$(field Status) $(field Range)" "204 No Content 0-1399999"
fcgi b PUT "$loc?digest=$D" "$REG_TMP/p3"
is "B finishes it with the last one" "$(field Status)" "201 Created"
fcgi a GET "/v2/w/r/blobs/$D"
python3 -c 'import sys; sys.stdout.buffer.write(open(sys.argv[1], "rb").read().split(b"\r\n\r\n", 1)[1])' \
	"$REG_TMP/resp" >"$REG_TMP/got"
check "A serves the blob" cmp -s "$REG_TMP/got" "$REG_TMP/blob"
fcgi a DELETE "/v2/w/r/blobs/$D"
is "A deletes it" "$(field Status)" "202 Accepted"
fcgi b HEAD "/v2/w/r/blobs/$D"
is "B sees it gone at once" "$(field Status)" "404 Not Found"
fcgi b POST "/v2/w/r/blobs/uploads/?digest=$D" "$REG_TMP/blob"
is "B takes it again" "$(field Status)" "201 Created"
fcgi a HEAD "/v2/w/r/blobs/$D"
is "A sees it back at once" "$(field Status)" "200 OK"
done_testing
