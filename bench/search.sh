#!/bin/sh
# docker search on a store of many repositories: GET /v1/search walks
# the catalog's names and descriptions (one LMDB cursor walk). Fills a store with
# REPOS repositories (bench/searchstore.c, through the store's
# functions), times the walk alone in process (searchstore walk) and then
# whole requests through lighttpd and berth (curl's time_total), for
# queries that match a few, 1 in 100, 1 in 8 and every repository.
# Prints `metric NAME VALUE UNIT` lines.
#
#   sh bench/search.sh [REPOS]       (100000 unless given)
#   SEARCH_QUERIES=N                 requests per query (200)
#
# The store goes under $TMPDIR, /dev/shm unless set: filling it is two
# commits per repository, and a disk flushes each. Configure without
# --enable-sanitizers for numbers.
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
export top_srcdir top_builddir
BERTH_E2E_FRONT=lighttpd BERTH_E2E_TLS=0 BERTH_E2E_AUTH=none
TMPDIR=${TMPDIR:-/dev/shm}
export TMPDIR
# shellcheck source=tests/e2e/lib.sh
. "$top_srcdir/tests/e2e/lib.sh"
# shellcheck source=tests/e2e/lib-front.sh
. "$top_srcdir/tests/e2e/lib-front.sh"
need lighttpd curl
B=$top_srcdir/bench
T=$REG_TMP
REPOS=${1:-100000}
QUERIES=${SEARCH_QUERIES:-200}
nm "$BERTH_BIN" 2>/dev/null | grep -q __asan_init &&
	echo "# warning: $BERTH_BIN is built with sanitizers; its numbers are not berth's"

mkvar() { sed -n "s/^$1 = *//p" "$top_builddir/Makefile"; }
[ -f "$top_builddir/libberth.a" ] || bail "no libberth.a in $top_builddir: build berth first"
# shellcheck disable=SC2046 # lists of flags
"$(mkvar CC)" -O2 $(mkvar SAN_CFLAGS) $(mkvar LMDB_CFLAGS) $(mkvar JANSSON_CFLAGS) \
	$(mkvar CRYPTO_CFLAGS) -I"$top_builddir" -I"$top_srcdir" -o "$T/searchstore" \
	"$B/searchstore.c" "$top_builddir/libberth.a" $(mkvar LMDB_LIBS) \
	$(mkvar JANSSON_LIBS) $(mkvar CRYPTO_LIBS) $(mkvar SAN_LDFLAGS) ||
	bail "cannot build searchstore"

_t0=$(date +%s)
"$T/searchstore" fill "$REG_STORE" "$REPOS" >/dev/null || bail "searchstore fill failed"
echo "metric search_fill_repos $REPOS repos"
echo "metric search_fill_s $(($(date +%s) - _t0)) s"

# the queries: "db-4242" matches 2 names (team42/db-4242, team26/db-42426),
# "team7/" 1 in 100, "api" 1 in 8, "" every one
QS="db-4242 team7/ api all"
q_of() { [ "$1" = all ] && echo "" || echo "$1"; }

for q in $QS; do
	"$T/searchstore" walk "$REG_STORE" "$(q_of "$q")" "$QUERIES" |
		sed -e "s/^metric walk_\([a-z0-9_]*\)_ms /metric search_walk_${q%/}_\1_ms /" \
			-e "s/^metric walk_matches \(.*\)/metric search_matches_${q%/} \1 repos/" \
			-e "s/_ms \(.*\)/_ms \1 ms/"
done

berth_conf "log_level = error"
start_front
# percentiles P... of the numbers on stdin, one a line
pct() {
	sort -n | awk -v p="$*" '{ v[NR] = $1 } END {
		n = split(p, ps, " ");
		for (i = 1; i <= n; i++) { k = int(NR * ps[i] / 100); if (k < 1) k = 1;
			printf "%s%.2f", (i > 1 ? " " : ""), v[k] * 1000 } print "" }'
}
for q in $QS; do
	_i=0
	while [ $_i -lt "$QUERIES" ]; do
		c -o /dev/null -w '%{time_total}\n' "$BASE/v1/search?q=$(q_of "$q")&n=25"
		_i=$((_i + 1))
	done >"$T/times"
	# shellcheck disable=SC2046 # two numbers
	set -- $(pct 50 99 <"$T/times")
	echo "metric search_http_${q%/}_p50_ms $1 ms"
	echo "metric search_http_${q%/}_p99_ms $2 ms"
done
