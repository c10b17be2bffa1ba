#!/usr/bin/env bats
# What is a log, what is data: the settings reach every
# child, but bytes another process reads as data are never changed.  A
# child's stdout/stderr is a log when it is a file, a terminal, journald's
# stream or a pipe/socket that came from outside the processes under the
# shim; a pipe or socket made inside (command substitution, popen,
# subprocess capture, a CGI script's output) is data.
load common
load net_helpers

NOFILE="No such file or directory"

@test "command substitution: \$(...) gets the child's bytes; the shell's and its children's own lines stay decorated" {
	for sh in sh bash; do
		# CTXSHIM_LOG=stdout: the builtin's output, in a forked subshell
		LD_PRELOAD=$SHIM BAGGAGE=request_id=abc CTXSHIM_LOG=stdout \
			$sh -c 'v=$(echo hi); echo "got=$v"' >"$W/o"
		assert_equal "$(cat "$W/o")" "[request_id=abc] got=hi"
		# default sinks: an exec'd child's stderr, captured with 2>&1
		LD_PRELOAD=$SHIM BAGGAGE=request_id=abc \
			$sh -c 'v=$(ls /nonexistent-a 2>&1); echo "got=$v" >&2; ls /nonexistent-b; true' 2>"$W/e"
		assert_equal "$(cat "$W/e")" "[request_id=abc] got=ls: cannot access '/nonexistent-a': $NOFILE
[request_id=abc] ls: cannot access '/nonexistent-b': $NOFILE"
	done
	# stderr a pipe to bats (run): the top-level shell's child writing to
	# it is decorated; env -i does not lose the rule (carried like every
	# CTXSHIM_* setting)
	run env LD_PRELOAD="$SHIM" BAGGAGE=request_id=abc sh -c \
		'env -i PATH=/usr/bin:/bin sh -c "echo \"got=\$(ls /nonexistent-a 2>&1)\""; ls /nonexistent-b'
	assert_line --index 0 "got=ls: cannot access '/nonexistent-a': $NOFILE"
	assert_line --index 1 "[request_id=abc] ls: cannot access '/nonexistent-b': $NOFILE"
	[ "${#lines[@]}" -eq 2 ]
}

@test "popen and subprocess capture read the child's bytes; a batch child's stderr into the parent's log file is decorated" {
	# libc popen (ours while the shim is on): read, then printed by the
	# parent to its own stdout, a sink here: one decoration, the parent's
	LD_PRELOAD=$SHIM BAGGAGE=request_id=abc CTXSHIM_LOG=stdout \
		"$T/spawner" popen /bin/sh -c 'echo from-child' >"$W/o"
	assert_equal "$(cat "$W/o")" "[request_id=abc] from-child"
	LD_PRELOAD=$SHIM BAGGAGE=request_id=abc "$T/spawner" popen /bin/sh -c 'ls /nonexistent-p 2>&1' >"$W/o"
	assert_equal "$(cat "$W/o")" "ls: cannot access '/nonexistent-p': $NOFILE"
	# python's subprocess: captured output is data; a child whose stderr is
	# the parent's log file (opened for append) logs into it decorated
	LD_PRELOAD=$SHIM BAGGAGE=request_id=abc CTXSHIM_LOG=stderr,stdout $PY -c '
import subprocess, sys
r = subprocess.run(["sh", "-c", "echo out; ls /nonexistent-c"], capture_output=True)
with open(sys.argv[1], "wb") as f:
    f.write(repr((r.stdout, r.stderr)).encode() + b"\n")
log = open(sys.argv[2], "a")
log.write("parent line\n"); log.flush()
subprocess.run(["ls", "/nonexistent-d"], stderr=log)' "$W/captured" "$W/batch.log"
	assert_equal "$(cat "$W/captured")" "(b'out\\n', b\"ls: cannot access '/nonexistent-c': $NOFILE\\n\")"
	# the parent's own write to the file is not a sink (no file: glob); the
	# child's stderr is a file: a log
	assert_equal "$(cat "$W/batch.log")" "parent line
[request_id=abc] ls: cannot access '/nonexistent-d': $NOFILE"
}

@test "a child writing to a terminal is decorated; what \$(...) captures on it is not" {
	script -qec "env LD_PRELOAD=$SHIM BAGGAGE=request_id=abc sh -c 'v=\$(ls /nonexistent-t 2>&1); echo \"got=\$v\"; ls /nonexistent-u'" \
		/dev/null </dev/null | tr -d '\r' >"$W/tty"
	assert_equal "$(cat "$W/tty")" "got=ls: cannot access '/nonexistent-t': $NOFILE
[request_id=abc] ls: cannot access '/nonexistent-u': $NOFILE"
}

# A CGI script printing its head, a body and two stderr lines.
cgi_script() {
	mkdir -p "$W/www/cgi-bin"
	cat >"$W/www/cgi-bin/t.sh" <<-'EOF'
		#!/bin/sh
		printf 'Content-Type: text/plain\r\nX-Cgi: yes\r\n\r\n'
		echo body
		echo cgi-stderr-line >&2
		echo second-stderr-line >&2
	EOF
	chmod 755 "$W/www/cgi-bin/t.sh"
	chmod 755 "$W" "$W/www" "$W/www/cgi-bin"   # CGI scripts run as nobody
}

# The response of $1, CRs removed; fails when curl does.
cgi_get() {
	curl -si -m 10 "$1" | tr -d '\r'
}

@test "python's http.server: a CGI script's head and body reach the client unchanged; its stderr lines in the server's log are decorated" {
	cgi_script
	wd=$(world_dir)   # nobody must be able to load the shim
	PYPORT=$(free_port)
	(cd "$W/www" && exec env LD_PRELOAD="$wd/libctxshim.so" BAGGAGE=request_id=abc \
		CTXSHIM_LOG=stderr,stdout timeout 60 $PY -m http.server --cgi -b 127.0.0.1 "$PYPORT" \
		2>"$W/py.err" >/dev/null) &
	PIDS="$PIDS $!"
	wait_port "$PYPORT"
	run cgi_get "http://127.0.0.1:$PYPORT/cgi-bin/t.sh"
	rm -rf "$wd"
	assert_line --index 0 "HTTP/1.0 200 Script output follows"
	assert_line "Content-Type: text/plain"
	assert_line "X-Cgi: yes"
	assert_equal "${lines[-1]}" body
	refute_output --partial request_id
	# the script's stderr is the server's stderr (a file): decorated
	run cat "$W/py.err"
	assert_line "[request_id=abc] cgi-stderr-line"
	assert_line "[request_id=abc] second-stderr-line"
	assert_line --regexp '^\[request_id=abc\] 127\.0\.0\.1 .*"GET /cgi-bin/t\.sh HTTP/1\.1" 200 -$'
}

@test "lighttpd: a CGI script's response is unchanged; its stderr lines and the server's error log are decorated" {
	cgi_script
	port=$(free_port)
	mkdir -p "$W/logs"
	cat >"$W/lt.conf" <<-EOF
		server.document-root = "$W/www"
		server.port = $port
		server.bind = "127.0.0.1"
		server.errorlog = "$W/logs/error.log"
		server.pid-file = "$W/lt.pid"
		server.modules = ( "mod_cgi" )
		cgi.assign = ( ".sh" => "" )
	EOF
	bg env LD_PRELOAD="$SHIM" BAGGAGE=request_id=abc CTXSHIM_LOG="stderr,stdout,file:$W/logs/*.log" \
		timeout 60 lighttpd -D -f "$W/lt.conf" 2>"$W/lt.err"
	wait_port "$port"
	run cgi_get "http://127.0.0.1:$port/cgi-bin/t.sh"
	assert_line --index 0 "HTTP/1.1 200 OK"
	assert_line "Content-Type: text/plain"
	assert_line "X-Cgi: yes"
	assert_line "Content-Length: 5"
	assert_equal "${lines[-1]}" body
	refute_output --partial request_id
	# lighttpd hands its CGI scripts its own stderr (a file here)
	for i in $(seq 50); do
		grep -q second-stderr-line "$W/lt.err" && break
		sleep 0.1
	done
	run cat "$W/lt.err"
	assert_output "[request_id=abc] cgi-stderr-line
[request_id=abc] second-stderr-line"
	run cat "$W/logs/error.log"
	assert_line --regexp '^\[request_id=abc\] .*server started'
}

@test "apache: a CGI script's head is not decorated (no 500); apache logs its stderr lines decorated once" {
	cgi_script
	wd=$(world_dir)
	port=$(free_port)
	m=/usr/lib/apache2/modules
	mkdir -p "$W/logs"
	cat >"$W/ap.conf" <<-EOF
		ServerRoot $W
		LoadModule mpm_prefork_module $m/mod_mpm_prefork.so
		LoadModule cgi_module $m/mod_cgi.so
		LoadModule alias_module $m/mod_alias.so
		LoadModule authz_core_module $m/mod_authz_core.so
		Listen 127.0.0.1:$port
		ServerName localhost
		PidFile $W/ap.pid
		Mutex file:$W default
		ErrorLog $W/logs/error.log
		LogLevel warn
		User nobody
		Group nogroup
		ScriptAlias /cgi-bin/ $W/www/cgi-bin/
		<Directory $W/www>
		  Require all granted
		</Directory>
	EOF
	bg env LD_PRELOAD="$wd/libctxshim.so" BAGGAGE=request_id=abc \
		CTXSHIM_LOG="stderr,stdout,file:$W/logs/*.log" timeout 60 apache2 -X -f "$W/ap.conf"
	wait_port "$port"
	run cgi_get "http://127.0.0.1:$port/cgi-bin/t.sh"
	rm -rf "$wd"
	assert_line --index 0 "HTTP/1.1 200 OK"
	assert_line "X-Cgi: yes"
	assert_equal "${lines[-1]}" body
	refute_output --partial request_id
	# apache reads the script's stderr through a pipe and logs each line
	# itself: decorated by apache, with its context; the script left the
	# pipe's bytes alone
	for i in $(seq 50); do
		grep -q second-stderr-line "$W/logs/error.log" && break
		sleep 0.1
	done
	run grep 'stderr from' "$W/logs/error.log"
	assert_line --regexp '^\[request_id=abc\] \[.*\] \[cgi:error\] .* AH01215: stderr from .*/t\.sh: cgi-stderr-line$'
	assert_line --regexp '^\[request_id=abc\] \[.*\] AH01215: stderr from .*/t\.sh: second-stderr-line$'
	[ "${#lines[@]}" -eq 2 ]
}

@test "node: execFile's stdout and stderr come back as the child wrote them; an inherited stderr file is decorated" {
	LD_PRELOAD=$SHIM BAGGAGE=request_id=abc CTXSHIM_LOG=stderr,stdout node -e '
const cp = require("child_process");
cp.execFile("sh", ["-c", "echo out; ls /nonexistent-n"], (e, out, err) => {
  require("fs").writeFileSync(process.argv[1], JSON.stringify([out, err]));
  cp.spawnSync("ls", ["/nonexistent-i"], { stdio: ["ignore", "ignore", "inherit"] });
});' "$W/got" 2>"$W/e"
	assert_equal "$(cat "$W/got")" "[\"out\\n\",\"ls: cannot access '/nonexistent-n': $NOFILE\\n\"]"
	assert_equal "$(cat "$W/e")" "[request_id=abc] ls: cannot access '/nonexistent-i': $NOFILE"
}

@test "journald's stream socket is a log even when made inside; another socket given to a child is data" {
	# a private mount namespace with a journald stand-in at its real path
	cat >"$W/journal.py" <<-'EOF'
		import os, socket, subprocess, sys
		os.makedirs("/run/systemd/journal")
		srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
		srv.bind("/run/systemd/journal/stdout")
		srv.listen(1)
		env = dict(os.environ, LD_PRELOAD=sys.argv[1], BAGGAGE="request_id=abc")
		# under the shim: connects like systemd-cat, then starts children
		# with stderr on that socket and on a socketpair it reads itself
		child = subprocess.Popen(["/usr/bin/python3", "-c", """
import socket, subprocess, sys
j = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
j.connect("/run/systemd/journal/stdout")
subprocess.run(["ls", "/nonexistent-j"], stderr=j)
j.close()
a, b = socket.socketpair()
subprocess.run(["ls", "/nonexistent-s"], stderr=a)
a.close()
sys.stdout.write(b.recv(4096).decode())
"""], env=env, stdout=open(sys.argv[2], "w"))
		conn, _ = srv.accept()
		data = b""
		while True:
		    d = conn.recv(4096)
		    if not d:
		        break
		    data += d
		child.wait()
		open(sys.argv[3], "wb").write(data)
	EOF
	timeout 60 unshare -m sh -c 'mount -t tmpfs ctxshim-test /run && exec /usr/bin/python3 "$@"' sh \
		"$W/journal.py" "$SHIM" "$W/pair" "$W/journal"
	assert_equal "$(cat "$W/journal")" "[request_id=abc] ls: cannot access '/nonexistent-j': $NOFILE"
	assert_equal "$(cat "$W/pair")" "ls: cannot access '/nonexistent-s': $NOFILE"
}
