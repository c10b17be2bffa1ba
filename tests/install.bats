#!/usr/bin/env bats
# For operators: `make install` (any PREFIX, DESTDIR staging, the
# multiarch directory for PREFIX=/usr), man pages, `make deb` checked with
# dpkg and lintian, and the systemd drop-in example.  Real tools throughout.
load common

MA=$(gcc -print-multiarch)

setup() {
	W=$(mktemp -d)
	chmod 755 "$W"
	PIDS=
}

teardown() {
	local p
	for p in $PIDS; do
		kill "$p" 2>/dev/null
		timeout 5 tail --pid="$p" -f /dev/null 2>/dev/null
	done
	rm -rf "$W" "${CTL_DIR:-}"
}

# The man pages an install holds, uncompressed.
MANS="man1/ctxrun.1 man1/ctxctl.1 man3/ctxshim.3 man7/ctxshim.7"

@test "make install PREFIX=/usr DESTDIR=: multiarch library with its SONAME, ctxrun, ctxctl, helper, header, pc, man pages, drop-in" {
	run make -C "$ROOT" install DESTDIR="$W/stage" PREFIX=/usr
	assert_success
	s=$W/stage/usr
	for f in "lib/$MA/libctxshim.so.0" "lib/$MA/pkgconfig/ctxshim.pc" include/ctxshim.h \
		 bin/ctxrun bin/ctxctl libexec/ctxshim/ctxrun-helper share/doc/ctxshim/examples/ctxshim.conf; do
		[ -f "$s/$f" ] || fail "missing $f"
	done
	for m in $MANS; do [ -f "$s/share/man/$m" ] || fail "missing $m"; done
	assert_equal "$(readlink "$s/lib/$MA/libctxshim.so")" libctxshim.so.0
	run readelf -d "$s/lib/$MA/libctxshim.so.0"
	assert_output --partial 'Library soname: [libctxshim.so.0]'
	# The installed ctxrun names where the library and helper will be;
	# ctxctl runs Debian's python3; the drop-in preloads the installed library.
	run grep -E '^inst_(lib|helper)=' "$s/bin/ctxrun"
	assert_line "inst_lib=/usr/lib/$MA/libctxshim.so.0"
	assert_line "inst_helper=/usr/libexec/ctxshim/ctxrun-helper"
	assert_equal "$(head -n 1 "$s/bin/ctxctl")" '#!/usr/bin/python3'
	run grep '^Environment=LD_PRELOAD=' "$s/share/doc/ctxshim/examples/ctxshim.conf"
	assert_output "Environment=LD_PRELOAD=/usr/lib/$MA/libctxshim.so.0"
	run env PKG_CONFIG_SYSROOT_DIR= PKG_CONFIG_PATH="$s/lib/$MA/pkgconfig" pkg-config --variable=libdir ctxshim
	assert_output "/usr/lib/$MA"
	run env PKG_CONFIG_PATH="$s/lib/$MA/pkgconfig" pkg-config --modversion ctxshim
	assert_output "$(cat "$ROOT/VERSION")"
	# Still staged (nothing under /usr yet), ctxrun finds the copy next to it.
	run "$s/bin/ctxrun" -s request_id=staged -- /bin/sh -c 'echo "$BAGGAGE $LD_PRELOAD"'
	assert_success
	assert_output "request_id=staged $s/lib/$MA/libctxshim.so.0"
}

@test "make install into a PREFIX: the installed ctxrun, ctxctl, pkg-config and the ctxshim(3) example work from there" {
	p=$W/p
	run make -C "$ROOT" install PREFIX="$p"
	assert_success
	[ -f "$p/lib/libctxshim.so.0" ]
	run "$p/bin/ctxrun" -s request_id=x -- sh -c 'echo "$BAGGAGE $LD_PRELOAD"'
	assert_output "request_id=x $p/lib/libctxshim.so.0"
	run "$p/bin/ctxrun" -s request_id=x --log stderr -- sh -c 'echo served >&2'
	assert_output "[request_id=x] served"
	# ctxctl reaches a process started by the installed ctxrun.
	CTL_DIR=$(mktemp -d /tmp/ctl.XXXXXX)
	CTXSHIM_CONTROL_DIR=$CTL_DIR "$p/bin/ctxrun" --control --log stderr -s request_id=r1 -- \
		sh -c 'i=0; while [ ! -e "$1" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done; echo after >&2' \
		sh "$W/go" 2>"$W/err" &
	pid=$!
	PIDS=$pid
	for i in $(seq 100); do [ -S "$CTL_DIR/$pid.sock" ] && break; sleep 0.1; done
	run env CTXSHIM_CONTROL_DIR="$CTL_DIR" "$p/bin/ctxctl" list
	assert_success
	assert_line --regexp "^$pid +"
	run env CTXSHIM_CONTROL_DIR="$CTL_DIR" "$p/bin/ctxctl" "$pid" set incident=INC-7
	assert_success
	assert_output incident=INC-7
	touch "$W/go"
	timeout 10 tail --pid="$pid" -f /dev/null
	assert_equal "$(cat "$W/err")" "[request_id=r1 incident=INC-7] after"
	# The API example of ctxshim(3), built with pkg-config's flags (linked
	# against the installed library), run under the installed ctxrun.
	sed -n '/^\.SH EXAMPLES/,/^\.EE/p' "$p/share/man/man3/ctxshim.3" | sed '1,2d;$d' |
		sed 's/\\e/\\/g' >"$W/ex.c"
	run sh -c "cc -Wall -Werror -o '$W/ex' '$W/ex.c' \$(PKG_CONFIG_PATH='$p/lib/pkgconfig' pkg-config --cflags --libs ctxshim)"
	assert_success
	run readelf -d "$W/ex"
	assert_output --partial 'Shared library: [libctxshim.so.0]'
	run "$p/bin/ctxrun" -s request_id=abc -- "$W/ex"
	assert_success
	assert_output $'request abc\nrequest_id=abc\ntenant=acme'
}

@test "man pages: ctxrun(1) ctxctl(1) ctxshim(3) ctxshim(7) render with no warnings and name what they document" {
	run make -C "$ROOT" install DESTDIR="$W/stage" PREFIX=/usr
	assert_success
	m=$W/stage/usr/share/man
	for f in $MANS; do
		run sh -c "man --warnings -l '$m/$f' 2>&1 >/dev/null"
		assert_output ""
		grep -q '@[A-Z]*@' "$m/$f" && fail "$f: a placeholder was not substituted"
		run env MANWIDTH=80 man -l "$m/$f"
		assert_output --partial NAME
	done
	# ctxshim(7) lists every CTXSHIM_ name the code reads.
	for v in $(grep -rhoE 'CTXSHIM_[A-Z0-9_]+' "$ROOT/shim" "$ROOT/scripts" | sort -u); do
		grep -q "^\.B.* $v\b" "$m/man7/ctxshim.7" || fail "ctxshim(7) does not document $v"
	done
	# ctxrun(1) every option of ctxrun --help; ctxctl(1) every command.
	for o in $("$CTXRUN" --help | grep -oE '^ +(-[a-z], )?--[a-z]+' | grep -oE -- '--[a-z]+'); do
		grep -q -- "${o//-/\\\\-}" "$m/man1/ctxrun.1" || fail "ctxrun(1) lacks $o"
	done
	for c in list threads conns get set unset --json --timeout --symbols; do
		grep -q -- "${c//-/\\\\-}" "$m/man1/ctxctl.1" || fail "ctxctl(1) lacks $c"
	done
	# Each API function of the header leads to ctxshim(3).
	for f in $(sed -n 's/^CTXSHIM__DECL [^(]*[ *]\(ctxshim_[a-z_]*\)(.*/\1/p' "$ROOT/include/ctxshim.h"); do
		run man -M "$m" -w "$f"     # man follows the link to the page
		assert_output "$m/man3/ctxshim.3"
		assert_equal "$(readlink "$m/man3/$f.3")" ctxshim.3
		grep -q "$f" "$m/man3/ctxshim.3" || fail "ctxshim(3) lacks $f"
	done
}

# A throwaway dpkg database under $1 (what dpkg --root needs to start).
dpkg_root() {
	mkdir -p "$1/var/lib/dpkg/info" "$1/var/lib/dpkg/updates"
	: >"$1/var/lib/dpkg/status"
}

@test "make deb: build/ctxshim_<version>_<arch>.deb with Depends libc6 (>= ...), python3, Recommends libunwind8; lintian finds no error" {
	run make -C "$ROOT" deb
	assert_success
	v=$(cat "$ROOT/VERSION")
	deb=$ROOT/build/ctxshim_${v}_$(dpkg --print-architecture).deb
	assert_line "build/ctxshim_${v}_$(dpkg --print-architecture).deb"
	assert_equal "$(dpkg-deb -f "$deb" Package Version)" $'Package: ctxshim\nVersion: '"$v"
	run dpkg-deb -f "$deb" Depends
	assert_output --regexp '^libc6 \(>= 2\.[0-9]+\), python3$'
	assert_equal "$(dpkg-deb -f "$deb" Recommends)" libunwind8
	run dpkg-deb -c "$deb"
	for f in "usr/lib/$MA/libctxshim.so.0" usr/bin/ctxrun usr/bin/ctxctl usr/libexec/ctxshim/ctxrun-helper \
		 usr/include/ctxshim.h "usr/lib/$MA/pkgconfig/ctxshim.pc" usr/share/man/man1/ctxrun.1.gz \
		 usr/share/man/man1/ctxctl.1.gz usr/share/man/man3/ctxshim.3.gz usr/share/man/man7/ctxshim.7.gz \
		 usr/share/doc/ctxshim/copyright usr/share/doc/ctxshim/changelog.gz \
		 usr/share/doc/ctxshim/examples/ctxshim.conf; do
		assert_output --partial " ./$f"
	done
	run lintian --fail-on error "$deb"
	assert_success
	refute_output --regexp '^E:'
}

@test "the package installs into a throwaway root beside Debian's libc6 and python3, works there, and is removed without a trace" {
	[ -f "$ROOT/build/ctxshim_$(cat "$ROOT/VERSION")_amd64.deb" ] || make -C "$ROOT" deb >/dev/null
	deb=$(ls "$ROOT"/build/ctxshim_"$(cat "$ROOT/VERSION")"_*.deb)
	r=$W/root
	dpkg_root "$r"
	# Without what it depends on, dpkg refuses: the Depends are real.
	run dpkg --root="$r" -i "$deb"
	assert_failure
	assert_output --partial 'depends on libc6'
	assert_output --partial 'depends on python3'
	run dpkg --root="$r" --purge ctxshim
	# With this machine's libc6 and python3 recorded, it installs as is.
	dpkg-query -s libc6 python3 >"$r/var/lib/dpkg/status"
	run dpkg --root="$r" -i "$deb"
	assert_success
	run dpkg-query --admindir="$r/var/lib/dpkg" -W -f '${Status} ${Version}' ctxshim
	assert_output "install ok installed $(cat "$ROOT/VERSION")"
	[ -f "$r/usr/lib/$MA/libctxshim.so.0" ]
	run "$r/usr/bin/ctxrun" -s request_id=pkg -- /bin/sh -c 'echo "$BAGGAGE $LD_PRELOAD"'
	assert_output "request_id=pkg $r/usr/lib/$MA/libctxshim.so.0"
	run "$r/usr/bin/ctxctl" --help
	assert_success
	run dpkg --root="$r" --purge ctxshim
	assert_success
	# Nothing but the dpkg database is left.
	run find "$r" -mindepth 1 -not -path "$r/var" -not -path "$r/var/lib" -not -path "$r/var/lib/dpkg*"
	assert_output ""
}

@test "systemd: the drop-in example passes systemd-analyze verify, sets only variables ctxshim reads, and a misspelt key in it is reported" {
	run make -C "$ROOT" install DESTDIR="$W/stage" PREFIX=/usr
	assert_success
	conf=$W/stage/usr/share/doc/ctxshim/examples/ctxshim.conf
	u=$W/units
	mkdir -p "$u/ctxdemo.service.d"
	printf '[Unit]\nDescription=a service under ctxshim\n[Service]\nExecStart=/usr/bin/python3 -m http.server 8080\n' \
		>"$u/ctxdemo.service"
	cp "$conf" "$u/ctxdemo.service.d/ctxshim.conf"
	run env SYSTEMD_UNIT_PATH="$u:" systemd-analyze verify "$u/ctxdemo.service"
	assert_success
	assert_output ""
	# Each Environment= assignment names LD_PRELOAD or a variable of ctxshim(7).
	known=$(grep -rhoE 'CTXSHIM_[A-Z0-9_]+' "$ROOT/shim" | sort -u)
	for a in $(sed -n 's/^#\{0,1\}Environment=//p' "$conf"); do
		n=${a%%=*}
		[ "$n" = LD_PRELOAD ] || grep -qx "$n" <<<"$known" || fail "the drop-in sets $n, which ctxshim does not read"
	done
	# The check sees the drop-in: a typo in it is reported.
	echo 'Enviroment=CTXSHIM_MODE=copy' >>"$u/ctxdemo.service.d/ctxshim.conf"
	run env SYSTEMD_UNIT_PATH="$u:" systemd-analyze verify "$u/ctxdemo.service"
	assert_output --partial "ctxshim.conf:"
	assert_output --partial "Unknown key 'Enviroment'"
}

@test "systemd: the drop-in's settings make a real server echo ids; with its CTXSHIM_DISABLE=1 line on, the server runs as without the shim" {
	run make -C "$ROOT" install DESTDIR="$W/stage" PREFIX=/usr
	assert_success
	conf=$W/stage/usr/share/doc/ctxshim/examples/ctxshim.conf
	lib=$W/stage/usr/lib/$MA/libctxshim.so.0
	chmod -R a+rX "$W/stage"
	mkdir -p "$W/www" && echo hello >"$W/www/index.html"
	# serve ON|OFF: python3 http.server with the drop-in's environment (the
	# library at its staged path), the commented CTXSHIM_DISABLE line on
	# when OFF; prints the response head and python's log line (which the
	# drop-in, written for nginx's log files, does not decorate).
	serve() {
		local envs port pid
		envs=$(sed -n 's/^Environment=//p' "$conf" | tr ' ' '\n' | sed "s|^LD_PRELOAD=.*|LD_PRELOAD=$lib|")
		[ "$1" = OFF ] && envs="$envs $(sed -n 's/^#Environment=//p' "$conf")"
		port=$(free_port)
		env $envs timeout 60 /usr/bin/python3 -m http.server -b 127.0.0.1 -d "$W/www" "$port" >/dev/null 2>"$W/py.$1" &
		pid=$!
		wait_port "$port"
		curl -si -m 10 "http://127.0.0.1:$port/" | tr -d '\r' | sed '/^$/q'
		kill "$pid"
		wait "$pid" || :
		cat "$W/py.$1"
	}
	grep -q '^#Environment=CTXSHIM_DISABLE=1$' "$conf"
	run serve ON
	assert_line --regexp '^X-Request-ID: [0-9a-f]{32}$'
	run serve OFF
	assert_line --index 0 'HTTP/1.0 200 OK'
	refute_output --partial X-Request-ID
	refute_output --partial request_id
	assert_line --regexp '^127\.0\.0\.1 - - .*"GET / HTTP/1\.[01]" 200'
}
