# shellcheck shell=sh disable=SC2154,SC2034 # lib.sh sets top_builddir and REG_TMP; the tests read RC
# berthctl in the end-to-end tests (4xxx): run it with the test's config
# and no terminal (ctl), read what it printed (out, js), and the blob files
# of the store (blob_files, blob_file).
#
# Needs tests/e2e/lib.sh, sourced before.
CTL=$top_builddir/berthctl
if [ ! -f "$CTL" ] || [ ! -x "$CTL" ]; then
	bail "$CTL is not built"
fi

# ctl ARGS...: berthctl with the test's config and no terminal; its
# stdout in $REG_TMP/out, stderr in $REG_TMP/err (and in a log that
# done_testing checks for sanitizer reports), its status in $RC
RC=
ctl() {
	"$CTL" -c "$REG_TMP/berth.conf" "$@" >"$REG_TMP/out" 2>"$REG_TMP/err" </dev/null
	RC=$?
	cat "$REG_TMP/err" >>"$REG_RUN/berthctl.log"
}

out() {
	cat "$REG_TMP/out"
}

# js EXPR...: Python expressions of d, the JSON document berthctl printed,
# a line each (one python for them all: it is slow to start)
js() {
	python3 -c '
import calendar, json, sys, time
d = json.load(open(sys.argv[1]))
for e in sys.argv[2:]:
    print(eval(e))' "$REG_TMP/out" "$@"
}

# blob_file DIGEST: its file under the storage root
blob_file() {
	_hex=${1#sha256:}
	echo "$REG_STORE/blobs/sha256/$(echo "$_hex" | cut -c1-2)/$_hex"
}

# blob_files: the names of the files in blobs/, sorted, a line each
blob_files() {
	find "$REG_STORE/blobs" -type f | sed 's|.*/||' | sort
}

# sk ARGS...: skopeo, quiet, with the test's temporary directory
sk() { # shellcheck disable=SC2317 # called through check
	skopeo --tmpdir "$REG_TMP" "$@" >>"$REG_TMP/skopeo.out" 2>&1
}

# same_blobs DIR DIGEST...: the blobs of the OCI layout DIR are those of
# $REG_TMP/layout, byte for byte; prints how many differ
same_blobs() {
	_dir=$1
	shift
	_bad=0
	for _d; do
		cmp -s "$_dir/blobs/sha256/${_d#sha256:}" \
			"$REG_TMP/layout/blobs/sha256/${_d#sha256:}" || _bad=$((_bad + 1))
	done
	echo "$_bad"
}
