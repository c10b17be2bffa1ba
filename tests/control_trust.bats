#!/usr/bin/env bats
# Control: where endpoints live when nothing is
# configured, and ctxctl run as root among other users' directories.  Run as
# root, with a test user: a uid no account has (setpriv takes any number), so
# that /tmp/ctxshim-<uid> is nobody else's business on a shared machine.
load common

CTXCTL=$ROOT/scripts/ctxctl

setup() {
	[ "$(id -u)" = 0 ] || skip "needs root (runs things as a test uid)"
	unset CTXSHIM_CONTROL_DIR XDG_RUNTIME_DIR
	U=
	for u in $(seq $((50000 + RANDOM % 9000)) 59999); do
		getent passwd "$u" >/dev/null && continue
		compgen -G "/tmp/ctxshim-$u*" >/dev/null && continue
		[ -e "/run/user/$u" ] && continue
		U=$u
		break
	done
	[ -n "$U" ]
	AS="setpriv --reuid=$U --regid=$U --clear-groups"
	WD=$(world_dir)            # the shim and ctxctl where the test uid can read them
	W=$(mktemp -d)
	PIDS=
}

teardown() {
	local p
	for p in $PIDS; do
		kill "$p" 2>/dev/null
	done
	for p in $PIDS; do
		timeout 5 tail --pid="$p" -f /dev/null 2>/dev/null
		kill -9 "$p" 2>/dev/null
	done
	[ -n "$U" ] && rm -rf "/tmp/ctxshim-$U" /tmp/ctxshim-"$U".* "/run/user/$U"
	rm -rf "$W" "$WD"
}

# as_bg CMD...: CMD as the test uid in the background (stdout $W/out, stderr
# appended to $W/err); its pid in $BG.
as_bg() {
	$AS "$@" >"$W/out" 2>>"$W/err" &
	BG=$!
	PIDS="$PIDS $BG"
}

until_ok() {
	local n=$(($1 * 10)) i
	shift
	for i in $(seq "$n"); do
		"$@" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "timed out: $*" >&2
	return 1
}

# A socket named PID.sock under the test uid's directories.
has_sock_of_uid() {
	compgen -G "/tmp/ctxshim-$U*/$1.sock" >/dev/null ||
		{ [ -n "${XDG:-}" ] && [ -S "$XDG/ctxshim/$1.sock" ]; }
}

dead_pid() {
	sh -c 'echo $$'
}

# printable FILE: FILE holds printable UTF-8 text and newlines only: no
# escape, no other control character (C0, DEL, C1), no byte that is not UTF-8.
printable() {
	python3 - "$1" <<-'EOF'
		import sys, unicodedata
		t = open(sys.argv[1], 'rb').read().decode('utf-8')   # raises on bad bytes
		bad = [c for c in t if c != '\n' and unicodedata.category(c) in ('Cc', 'Cs', 'Co', 'Cn')]
		sys.exit('unprintable: %r' % bad[:5] if bad else 0)
	EOF
}

# ---- item 13: someone else's /tmp/ctxshim-<uid> -----------------------------------

@test "/tmp/ctxshim-<uid> taken by someone else: processes of the uid stay reachable, warned once" {
	mkdir -m 755 "/tmp/ctxshim-$U"           # root's, made before the user's
	for i in 1 2 3; do
		$AS env CTXSHIM_CONTROL=1 LD_PRELOAD="$WD/libctxshim.so" true 2>>"$W/err"
	done
	as_bg env CTXSHIM_CONTROL=1 LD_PRELOAD="$WD/libctxshim.so" sleep 30
	until_ok 10 has_sock_of_uid "$BG"
	run $AS "$WD/ctxctl" "$BG" set incident=INC-7
	assert_success
	assert_output "incident=INC-7"
	run $AS "$WD/ctxctl" list
	assert_success
	assert_line --regexp "^$BG +[0-9.]+s +2 +sleep 30$"
	# root finds it too
	run "$CTXCTL" "$BG" get
	assert_success
	assert_output "incident=INC-7"
	# more processes, one at a time and at once: still one warning in all
	ps=
	for i in 1 2 3; do
		$AS env CTXSHIM_CONTROL=1 LD_PRELOAD="$WD/libctxshim.so" true 2>>"$W/err" &
		ps="$ps $!"
	done
	wait $ps
	cat "$W/err"
	[ "$(grep -c ctxshim "$W/err")" -le 1 ]
	# the root-owned directory was left alone
	assert_equal "$(stat -c %u "/tmp/ctxshim-$U")" 0
	assert_equal "$(ls -A "/tmp/ctxshim-$U")" ""
}

@test "XDG_RUNTIME_DIR is preferred when it is the uid's own with mode 0700, skipped otherwise" {
	XDG=$W/xdg
	mkdir -m 700 "$XDG"
	chown "$U:$U" "$XDG"
	chmod 755 "$W"
	as_bg env XDG_RUNTIME_DIR="$XDG" CTXSHIM_CONTROL=1 LD_PRELOAD="$WD/libctxshim.so" sleep 30
	until_ok 10 test -S "$XDG/ctxshim/$BG.sock"
	run $AS env XDG_RUNTIME_DIR="$XDG" "$WD/ctxctl" "$BG" get
	assert_success
	assert_output "(no process-wide entries)"
	run compgen -G "/tmp/ctxshim-$U*"
	assert_failure
	# Open to others: not used, the /tmp directory is.
	chmod 755 "$XDG"
	rm -rf "$XDG/ctxshim"
	as_bg env XDG_RUNTIME_DIR="$XDG" CTXSHIM_CONTROL=1 LD_PRELOAD="$WD/libctxshim.so" sleep 30
	until_ok 10 test -S "/tmp/ctxshim-$U/$BG.sock"
	[ ! -e "$XDG/ctxshim" ]
	run $AS env XDG_RUNTIME_DIR="$XDG" "$WD/ctxctl" "$BG" get
	assert_success
	assert_equal "$(cat "$W/err")" ""
}

# ---- item 11: ctxctl as root among other users' directories ------------------------

@test "root's ctxctl list follows no user's symlink: root's files are never removed" {
	victim=$(mktemp -d)            # root's, with names ctxctl would clean up
	d=$(dead_pid)
	touch "$victim/$d.sock" "$victim/.$d.victim.tmp"
	python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' \
		"$victim/$(dead_pid).sock"
	before=$(ls -A "$victim" | sort)
	$AS ln -s "$victim" "/tmp/ctxshim-$U"
	$AS ln -s "$victim" "/tmp/ctxshim-$U.AbCdEf"
	# and its runtime directory (what logind makes: the user's, 0700)
	mkdir -p /run/user
	mkdir -m 700 "/run/user/$U"
	chown "$U:$U" "/run/user/$U"
	$AS ln -s "$victim" "/run/user/$U/ctxshim"
	run "$CTXCTL" list
	assert_success
	run "$CTXCTL" --json list
	assert_success
	run "$CTXCTL" "$d" get
	assert_failure 1
	assert_equal "$(ls -A "$victim" | sort)" "$before"
	# A real directory of the user's holding links into root's: the links
	# may go, what they point to stays.
	rm "/tmp/ctxshim-$U" "/tmp/ctxshim-$U.AbCdEf"
	$AS mkdir -m 700 "/tmp/ctxshim-$U"
	$AS ln -s "$victim/$d.sock" "/tmp/ctxshim-$U/$d.sock"
	$AS ln -s "$victim/.$d.victim.tmp" "/tmp/ctxshim-$U/.$d.x.tmp"
	run "$CTXCTL" list
	assert_success
	run "$CTXCTL" "$d" get
	assert_failure 1
	assert_equal "$(ls -A "$victim" | sort)" "$before"
	rm -rf "$victim"
}

# fake_endpoints: one process per kind of bad answer, each run as the test
# uid and listening under its own pid in the uid's directory (what any user
# can do); their pids in $W/fake.<kind>.
fake_endpoints() {
	$AS mkdir -m 700 "/tmp/ctxshim-$U"
	chmod 755 "$W"
	F=$W/fake
	mkdir "$F"
	chown "$U" "$F"
	$AS /usr/bin/python3 - "/tmp/ctxshim-$U" "$F" >/dev/null 2>"$W/fake.err" <<-'EOF' &
		import os, socket, sys, time
		d, w = sys.argv[1], sys.argv[2]
		kinds = {
		    'escapes': b'{"ok":true,"pid":%d,"uptime_ms":"abc","threads":"\\u001b[31m",'
		               b'"cmdline":"\\u001b]0;owned\\u0007 \\u009b2J \xc2\x9b \xff\xfe tail",'
		               b'"global":{"k\\u001b":"\\u001b[2J\xff"},'
		               b'"threads":[{"tid":"x","name":"\\u001b[1m","known":true,"age_ms":[],'
		               b'"context":{"\\u009b":"\\u0007"}}]}\n',
		    'garbage': b'\x1b[2J not json \x9b\xff\n',
		    'notobject': b'["\\u001b[2J"]\n',
		    'refusal': b'{"ok":false,"error":"\\u001b]0;title\\u0007 \\u009b31m"}\n',
		    'huge': None, 'slow': None,
		}
		for kind, answer in kinds.items():
		    if os.fork() == 0:
		        s = socket.socket(socket.AF_UNIX)
		        s.bind('%s/%d.sock' % (d, os.getpid()))
		        s.listen(16)
		        open('%s/fake.%s' % (w, kind), 'w').write(str(os.getpid()))
		        while True:
		            c, _ = s.accept()
		            if os.fork():
		                c.close()
		                continue
		            try:
		                c.recv(4096)
		                if kind == 'huge':
		                    while True:
		                        c.sendall(b'\x1b[2J' * 65536)
		                elif kind == 'slow':
		                    while True:
		                        c.sendall(b'\x1b')
		                        time.sleep(0.5)
		                else:
		                    c.sendall(answer.replace(b'%d', str(os.getppid()).encode()))
		            except OSError:
		                pass
		            os._exit(0)
		time.sleep(120)
	EOF
	PIDS="$PIDS $!"
	for k in escapes garbage notobject refusal huge slow; do
		until_ok 10 test -s "$F/fake.$k" || { cat "$W/fake.err"; return 1; }
		PIDS="$PIDS $(cat "$F/fake.$k")"
	done
}

# line_of KIND: list's line for the fake endpoint of KIND.
line_of() {
	grep "^$(cat "$F/fake.$1") " "$W/list"
}

@test "root's ctxctl and fake endpoints: escapes shown escaped, garbage and huge or slow answers bounded" {
	fake_endpoints
	timeout 120 "$CTXCTL" --timeout 3 list >"$W/list" 2>&1 || { cat "$W/list"; false; }
	cat -v "$W/list"
	printable "$W/list"
	run grep -c Traceback "$W/list"
	assert_output 0
	for k in escapes garbage notobject refusal huge slow; do
		grep -q "^$(cat "$F/fake.$k") " "$W/list"
	done
	line_of escapes | grep -qF '\x1b]0;owned\x07 \x9b2J \x9b \xff\xfe tail'
	line_of garbage | grep -qF '(the process sent something that is not JSON)'
	line_of notobject | grep -qF '(the process sent something that is not a JSON object)'
	line_of refusal | grep -qF '(refused: \x1b]0;title\x07 \x9b31m)'
	line_of huge | grep -qF '(answer over 65536 bytes)'
	line_of slow | grep -qF '(not answering)'
	timeout 120 "$CTXCTL" --json list >"$W/json" 2>&1
	printable "$W/json"
	! LC_ALL=C grep -q '[^ -~]' "$W/json"      # all ASCII
	for k in escapes garbage notobject refusal huge slow; do
		for cmd in get $([ $k = escapes ] && echo threads conns); do
			for json in "" --json; do
				timeout 60 "$CTXCTL" $json --timeout 1 "$(cat "$F/fake.$k")" $cmd \
					>"$W/one" 2>&1 || true
				printable "$W/one"
				! LC_ALL=C grep -q '[^ -~]' "$W/one"      # all ASCII
				run grep -c Traceback "$W/one"
				assert_output 0
			done
		done
	done
	run timeout 60 "$CTXCTL" --timeout 3 "$(cat "$F/fake.huge")" get
	assert_failure 1
	assert_output --partial "answer over"
	run timeout 60 "$CTXCTL" --timeout 1 "$(cat "$F/fake.slow")" get
	assert_failure 1
	assert_output --partial "did not answer within 1s"
	run timeout 60 "$CTXCTL" "$(cat "$F/fake.escapes")" get
	assert_success
	assert_output 'k\x1b=\x1b[2J\xff'
}
