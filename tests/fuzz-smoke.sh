#!/bin/sh
# The fuzz smoke (HACKING, "Fuzzing"): each libFuzzer target of fuzz/ for
# a fixed number of inputs, mutated from its corpus with a fixed seed.
# Fails on a crash, a leak, a timeout or an ASan or UBSan report.
#
# A build configured with --enable-fuzzing has made the targets; in any
# other (gcc, as in CI), this makes them with clang in fuzz-build/ of the
# build directory from the library's sources, which the Makefile passes
# in FUZZ_SOURCES (it runs this from make check and make fuzz-smoke).
# Writes only below fuzz-build/. Exits 77 (skip) without clang or
# libFuzzer.
#
# FUZZ_RUNS (default 5000) inputs per target; FUZZ_CC (default clang).
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
runs=${FUZZ_RUNS:-5000}
cc=${FUZZ_CC:-clang}
out=$top_builddir/fuzz-build
names=${FUZZ_NAMES:-manifest uri range config access policy mirror hooks}
# as configure --enable-fuzzing has them
san="-fsanitize=fuzzer-no-link,address,undefined"
san="$san -fno-sanitize-recover=undefined -fno-omit-frame-pointer"

skip() {
	echo "1..0 # SKIP $*"
	exit 77
}

# Write the Makefile of the targets: one rule per object of the library's
# sources, so that make -j2 builds them two at a time, and again only what
# changed.
# shellcheck disable=SC2016 # $(CC) and $@ are make's
makefile() {
	objs=
	echo "CC = $cc"
	echo "CFLAGS = -g -O1 $san"
	echo "CPPFLAGS = -I$top_builddir -I$top_srcdir $FUZZ_CPPFLAGS"
	echo "LIBS = $FUZZ_LIBS"
	echo "all:$(for n in $names; do printf ' fuzz_%s' "$n"; done)"
	for src in $FUZZ_SOURCES; do
		case $src in
		*.c) ;;
		*) continue ;;
		esac
		o=obj/${src%.c}.o
		mkdir -p "$out/${o%/*}"
		objs="$objs $o"
		printf '%s: %s Makefile\n\t$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ %s\n' \
			"$o" "$top_srcdir/$src" "$top_srcdir/$src"
	done
	echo "libfuzz.a:$objs"
	printf '\trm -f $@ && ar cr $@%s\n' "$objs"
	for n in $names; do
		o=obj/fuzz/fuzz_$n.o
		objs="$objs $o"
		printf '%s: %s Makefile\n\t$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ %s\n' \
			"$o" "$top_srcdir/fuzz/fuzz_$n.c" "$top_srcdir/fuzz/fuzz_$n.c"
		printf 'fuzz_%s: %s libfuzz.a\n' "$n" "$o"
		printf '\t$(CC) $(CFLAGS) -fsanitize=fuzzer -o $@ %s libfuzz.a $(LIBS)\n' \
			"$o"
	done
	echo "-include$(echo "$objs" | sed 's/\.o/.d/g')"
}

mkdir -p "$out" || exit 99
if [ "$FUZZ_PREBUILT" = yes ]; then
	bin=$top_builddir/fuzz
else
	[ -n "$FUZZ_SOURCES" ] || {
		echo "# FUZZ_SOURCES is not set: run make fuzz-smoke"
		exit 99
	}
	command -v "$cc" >/dev/null 2>&1 || skip "no $cc"
	printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
		'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);' \
		'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)' \
		'{ return d && n ? 0 : 0; }' >"$out/probe.c"
	"$cc" -fsanitize=fuzzer,address,undefined -o "$out/probe" \
		"$out/probe.c" >"$out/probe.log" 2>&1 ||
		skip "$cc cannot link libFuzzer (Debian: libclang-rt-14-dev)"
	# rewritten only when it changes: every object depends on it
	makefile >"$out/Makefile.new" || exit 99
	if cmp -s "$out/Makefile.new" "$out/Makefile"; then
		rm -f "$out/Makefile.new"
	else
		mv "$out/Makefile.new" "$out/Makefile" || exit 99
	fi
	# a make of our own, not a job of the make that runs the tests
	(
		unset MAKEFLAGS MFLAGS MAKELEVEL
		cd "$out" && make -s -j2 >build.log 2>&1
	) || {
		sed 's/^/# /' "$out/build.log"
		echo "not ok - the targets build with $cc"
		exit 1
	}
	bin=$out
fi

# The run's own options: a target's own UBSan and leak reports are
# errors, whatever the tests' environment says.
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export ASAN_OPTIONS UBSAN_OPTIONS
fail=0
i=0
for n in $names; do
	i=$((i + 1))
	new=$out/new-$n
	log=$out/run-$n.log
	rm -rf "$new" && mkdir -p "$new" || exit 99
	set -- -runs="$runs" -seed=1 -max_len=8192 -timeout=10 \
		-rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$out/crash-$n-"
	dict=$top_srcdir/fuzz/$n.dict
	[ -f "$dict" ] && set -- "$@" -dict="$dict"
	# new inputs go to $new, the first directory: the corpus is read only
	"$bin/fuzz_$n" "$@" "$new" "$top_srcdir/fuzz/corpus/$n" >"$log" 2>&1
	rc=$?
	if [ "$rc" = 0 ] &&
		! grep -qE 'runtime error:|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)' "$log"; then
		echo "ok $i - fuzz_$n: $(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1)"
	else
		tail -n 40 "$log" | sed 's/^/# /'
		echo "not ok $i - fuzz_$n (exit $rc; the input is in $out/crash-$n-*)"
		fail=1
	fi
done
echo "1..$i"
exit $fail
