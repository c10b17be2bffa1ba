# common.bash: loaded by every tests/*.bats file.
#   SHIM      the library under test     CTXRUN  scripts/ctxrun
#   T         the built test programs    (build/tests)
#   shim CMD  run CMD with the shim preloaded (no initial context)
bats_require_minimum_version 1.5.0
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

ROOT=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
SHIM=$ROOT/build/libctxshim.so
CTXRUN=$ROOT/scripts/ctxrun
T=$ROOT/build/tests

shim() {
	LD_PRELOAD=$SHIM "$@"
}

# A free TCP port on 127.0.0.1.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Wait (up to 10 s) until something listens on 127.0.0.1:$1.
wait_port() {
	local i
	for i in $(seq 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	echo "nothing listens on port $1" >&2
	return 1
}

# A directory any user can read, for what runs as another user (setpriv
# --reuid=nobody, http.server's CGI scripts): the checkout itself may sit
# under a private directory (mktemp -d is 0700).  Holds copies of the shim
# and ctxctl (with ctxctl_show.py, which it imports); the caller removes it.
world_dir() {
	local d
	d=$(mktemp -d /tmp/ctxshim-world.XXXXXX) || return 1
	chmod 755 "$d"
	cp "$SHIM" "$ROOT/scripts/ctxctl" "$ROOT/scripts/ctxctl_show.py" "$d/"
	chmod 755 "$d/libctxshim.so" "$d/ctxctl"
	chmod 644 "$d/ctxctl_show.py"
	echo "$d"
}
