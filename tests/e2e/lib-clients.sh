# shellcheck shell=sh disable=SC2154 # srcdir, top_srcdir: lib.sh sets them
# The container clients of the end-to-end tests: images made by the test
# in an OCI layout (mkimage), podman with storage of its own (pdm), a
# dockerd of the test's own (start_dockerd), and the registry's name as
# they want it (reg). skopeo needs nothing here but $SK_OPTS, $SK_SRC and
# $SK_DEST (lib-front.sh).
#
# Needs tests/e2e/lib.sh and tests/e2e/lib-front.sh, sourced before (the
# server's $BASE, TLS and CA), and python3 for mkimage; each test says
# which client it needs (need skopeo, ...).
: "${FRONT:?tests/e2e/lib-front.sh must be sourced before lib-clients.sh}"

# REG: the registry as clients name it (host:port of the front server)
reg() {
	echo "${BASE#*://}"
}

# mkimage KIND TAG [ARGS...]: an image in the OCI layout $REG_TMP/layout,
# made by tests/e2e/mkimage.py; prints its manifest (or index) digest
mkimage() {
	_k=$1
	shift
	python3 "$srcdir/mkimage.py" "$_k" "$REG_TMP/layout" "$@"
}

# podman with its own storage under $REG_TMP (vfs: no mounts needed)
pdm() {
	podman --root "$REG_TMP/podman/root" --runroot "$REG_TMP/podman/run" \
		--storage-driver vfs --cgroup-manager cgroupfs \
		--events-backend file "$@"
}

# start_dockerd [DOCKERD-OPTION...]: a dockerd of the test's own, on its
# own socket and data root, without networking of its own (it only pushes
# and pulls), with the options given (--registry-mirror URL); sets
# DOCKER_HOST and DOCKER_CONFIG for docker. Call it after start_front.
# shellcheck disable=SC2120 # the options are optional
start_dockerd() {
	need dockerd docker
	_d=$REG_TMP/docker
	mkdir -p "$_d"
	dockerd --storage-driver=vfs --iptables=false --ip-masq=false \
		--bridge=none --data-root "$_d/data" --exec-root "$_d/exec" \
		--pidfile "$_d/docker.pid" -H "unix://$_d/docker.sock" "$@" \
		>"$REG_TMP/dockerd.log" 2>&1 &
	track $!
	DOCKER_HOST=unix://$_d/docker.sock
	# the test's own logins, not the user's
	DOCKER_CONFIG=$_d/config
	export DOCKER_HOST DOCKER_CONFIG
	# dockerd trusts a registry's CA only from /etc/docker/certs.d
	if [ "$FRONT_TLS" = 1 ]; then
		DOCKER_CERTS=/etc/docker/certs.d/$(reg)
		# shellcheck disable=SC2016 # expanded when it runs
		at_exit 'rm -rf "$DOCKER_CERTS"'
		if ! mkdir -p "$DOCKER_CERTS" ||
			! cp "$REG_TMP/ca/ca.crt" "$DOCKER_CERTS/"; then
			skip_all "cannot write $DOCKER_CERTS"
		fi
	fi
	_i=0
	until docker version >/dev/null 2>&1; do
		_i=$((_i + 1))
		[ $_i -lt 150 ] || bail "dockerd did not start (see dockerd.log)"
		sleep 0.2
	done
}
