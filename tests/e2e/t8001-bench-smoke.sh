#!/bin/sh
# The benchmark (bench/bench.sh, `make bench`) runs end to end with tiny
# sizes: both registries come up behind nginx, every workload completes
# without a failed request, and every figure is printed. No figure is
# judged here: speed is measured by `make bench`, not asserted in tests.
# shellcheck source=tests/e2e/lib.sh
. "${srcdir:-$(dirname "$0")}/lib.sh"
need nginx docker-registry wrk ab cc
BENCH_SMOKE=1 sh "$top_srcdir/bench/bench.sh" "$BERTH_BIN" >"$REG_TMP/bench.out" 2>&1
rc=$?
is "bench.sh completes" $rc 0
for m in upload_1g upload_chunked_256m download_1g_1 small_blobs_c16 \
	manifest_put manifest_get manifest_head tags_list_20 catalog_walk_120 \
	peak_rss_per_worker; do
	check "it measures $m of berth and of the reference" sh -c \
		"grep -q '^metric berth_$m ' '$REG_TMP/bench.out' && grep -q '^metric reference_$m ' '$REG_TMP/bench.out'"
done
# the garbage collector's rows and the PUTs with sync = data are
# berth's alone, and each sweep removed something
for m in gc_manifests_removed gc_blobs_removed manifest_put_p99_gc_ratio \
	manifest_put_sync_data; do
	check "it measures $m" grep -qE "^metric berth_$m [0-9.]*[1-9]" "$REG_TMP/bench.out"
done
check "and prints the table" grep -q '^figure ' "$REG_TMP/bench.out"
[ "$tests_failed" = 0 ] || tail -n 40 "$REG_TMP/bench.out" | sed 's/^/# /'
done_testing
