#!/usr/bin/env bats
# Connections and HTTP requests: real servers and clients under
# the shim: python3 -m http.server, nginx, curl, memcached, and small
# programs that know nothing of the shim.

load common

load net_helpers

# ---- python3 -m http.server -------------------------------------------------

@test "http.server: a request's X-Request-ID is echoed in the response" {
	start_py
	run curl -si -m 5 -H 'X-Request-ID: abc' "http://127.0.0.1:$PYPORT/index.html"
	assert_success
	assert_line --partial 'HTTP/1.1 200'
	assert_equal "$(echo "$output" | echoed)" abc
	assert_line 'hello'
}

@test "http.server: a request without an id gets a fresh 32-hex one, different each time" {
	start_py
	a=$(curl -si -m 5 "http://127.0.0.1:$PYPORT/index.html" | echoed)
	b=$(curl -si -m 5 "http://127.0.0.1:$PYPORT/index.html" | echoed)
	[[ $a =~ ^[0-9a-f]{32}$ ]]
	[[ $b =~ ^[0-9a-f]{32}$ ]]
	[ "$a" != "$b" ]
}

@test "http.server: 8 keep-alive clients x 40 requests each get their own id echoed" {
	start_py
	run timeout 60 $PY "$CLIENTS" keepalive "$PYPORT" /index.html 8 40
	assert_success
	assert_equal "${#lines[@]}" 320
}

@test "http.server: hostile ids are replaced and the server keeps serving" {
	start_py
	run timeout 60 $PY "$CLIENTS" hostile "$PYPORT" /index.html
	assert_success
}

@test "http.server: a head over the size limit gets no id, quietly; the next request does" {
	start_py
	big=$(head -c 40000 /dev/zero | tr '\0' x)
	run curl -si -m 5 -H "X-Big: $big" -H 'X-Request-ID: big' "http://127.0.0.1:$PYPORT/index.html"
	assert_success
	assert_line --partial 'HTTP/1.1 200'
	refute_line --partial 'X-Request-ID'
	run curl -si -m 5 -H 'X-Request-ID: small' "http://127.0.0.1:$PYPORT/index.html"
	assert_equal "$(echo "$output" | echoed)" small
}

@test "http.server: CTXSHIM_HTTP_HEADER names the header read and echoed" {
	start_py CTXSHIM_HTTP_HEADER=X-Correlation-ID
	run get -H 'X-Correlation-ID: corr-1' -H 'X-Request-ID: other' \
		"http://127.0.0.1:$PYPORT/index.html"
	assert_success
	assert_line 'X-Correlation-ID: corr-1'
	refute_line 'X-Request-ID: other'
}

@test "http.server: without CTXSHIM_HTTP the shim adds nothing" {
	mkdir -p "$W/www"
	echo hello >"$W/www/index.html"
	PYPORT=$(free_port)
	bg env LD_PRELOAD="$SHIM" timeout 60 $PY -m http.server -b 127.0.0.1 -d "$W/www" "$PYPORT" \
		2>/dev/null >/dev/null
	wait_port "$PYPORT"
	run curl -si -m 5 -H 'X-Request-ID: abc' "http://127.0.0.1:$PYPORT/index.html"
	assert_success
	refute_line --partial 'X-Request-ID'
}

# ---- nginx ------------------------------------------------------------------

@test "nginx: a request's X-Request-ID is echoed; one without gets a fresh id" {
	start_nginx CTXSHIM_HTTP_ECHO=1
	run curl -si -m 5 -H 'X-Request-ID: abc' "http://127.0.0.1:$NGPORT/index.html"
	assert_success
	assert_equal "$(echo "$output" | echoed)" abc
	assert_line hi
	id=$(curl -si -m 5 "http://127.0.0.1:$NGPORT/index.html" | echoed)
	[[ $id =~ ^[0-9a-f]{32}$ ]]
}

@test "nginx: keep-alive requests on one connection each get their own id" {
	start_nginx CTXSHIM_HTTP_ECHO=1
	run curl -si -m 5 -H 'X-Request-ID: one' "http://127.0.0.1:$NGPORT/index.html" \
		--next -si -H 'X-Request-ID: two' "http://127.0.0.1:$NGPORT/index.html" \
		--next -si "http://127.0.0.1:$NGPORT/index.html"
	assert_success
	ids=($(echo "$output" | echoed))
	assert_equal "${#ids[@]}" 3
	assert_equal "${ids[0]}" one
	assert_equal "${ids[1]}" two
	[[ ${ids[2]} =~ ^[0-9a-f]{32}$ ]]
	# One connection served them all.
	run grep -c 'Re-using existing connection\|Reusing existing connection' <(curl -sv -m 5 \
		"http://127.0.0.1:$NGPORT/index.html" --next "http://127.0.0.1:$NGPORT/index.html" 2>&1)
	assert_output 1
}

@test "nginx: 8 keep-alive clients x 40 requests each get their own id echoed" {
	start_nginx CTXSHIM_HTTP_ECHO=1
	run timeout 60 $PY "$CLIENTS" keepalive "$NGPORT" /index.html 8 40
	assert_success
	assert_equal "${#lines[@]}" 320
}

@test "nginx: hostile ids are replaced and the server keeps serving" {
	start_nginx CTXSHIM_HTTP_ECHO=1
	run timeout 60 $PY "$CLIENTS" hostile "$NGPORT" /index.html
	assert_success
}

@test "nginx: a 1 MB file sent with sendfile arrives intact, with the id, twice on one connection" {
	start_nginx CTXSHIM_HTTP_ECHO=1
	curl -s -m 10 -D "$W/h1" -o "$W/b1" -H 'X-Request-ID: big1' "http://127.0.0.1:$NGPORT/big.bin" \
		--next -s -D "$W/h2" -o "$W/b2" -H 'X-Request-ID: big2' "http://127.0.0.1:$NGPORT/big.bin"
	cmp "$W/b1" "$W/ng/html/big.bin"
	cmp "$W/b2" "$W/ng/html/big.bin"
	assert_equal "$(echoed <"$W/h1")" big1
	assert_equal "$(echoed <"$W/h2")" big2
}

@test "nginx: HEAD and 404 responses carry the id and keep the connection in step" {
	start_nginx CTXSHIM_HTTP_ECHO=1
	run curl -si -m 5 -I -H 'X-Request-ID: h1' "http://127.0.0.1:$NGPORT/index.html" \
		--next -si -H 'X-Request-ID: h2' "http://127.0.0.1:$NGPORT/missing" \
		--next -si -H 'X-Request-ID: h3' "http://127.0.0.1:$NGPORT/index.html"
	assert_success
	assert_equal "$(echo "$output" | echoed | tr '\n' ' ')" "h1 h2 h3 "
	assert_line --partial '404 Not Found'
}

# ---- outbound ---------------------------------------------------------------

@test "curl under ctxrun -s request_id=X --propagate sends X-Request-ID: X" {
	port=$(free_port)
	bg timeout 30 "$T/net_dump_server" "$port" 1 >"$W/dump"
	wait_port "$port"
	run "$CTXRUN" -s request_id=X --propagate -- curl -s -m 5 "http://127.0.0.1:$port/"
	assert_success
	assert_output ok
	run grep -i '^x-request-id' "$W/dump"
	assert_output $'X-Request-ID: X\r'
}

@test "curl -H 'X-Request-ID: mine' keeps its own id under propagation" {
	port=$(free_port)
	bg timeout 30 "$T/net_dump_server" "$port" 1 >"$W/dump"
	wait_port "$port"
	run "$CTXRUN" -s request_id=X --propagate -- curl -s -m 5 -H 'X-Request-ID: mine' \
		"http://127.0.0.1:$port/"
	assert_success
	run grep -i '^x-request-id' "$W/dump"
	assert_output $'X-Request-ID: mine\r'
}

@test "propagation: a traceparent is built from trace_id and span_id; a hostile id is not sent" {
	port=$(free_port)
	bg timeout 30 "$T/net_dump_server" "$port" 1 >"$W/dump"
	wait_port "$port"
	run "$CTXRUN" -s 'request_id=a%20b' -s trace_id=4bf92f3577b34da6a3ce929d0e0e4736 \
		-s span_id=00f067aa0ba902b7 --propagate -- curl -s -m 5 "http://127.0.0.1:$port/"
	assert_success
	run grep -i '^x-request-id' "$W/dump"
	assert_failure
	run grep '^traceparent' "$W/dump"
	assert_output $'traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r'
}

@test "propagation off: curl under the shim sends no X-Request-ID" {
	port=$(free_port)
	bg timeout 30 "$T/net_dump_server" "$port" 1 >"$W/dump"
	wait_port "$port"
	run "$CTXRUN" -s request_id=X -- curl -s -m 5 "http://127.0.0.1:$port/"
	assert_success
	run grep -ci '^x-request-id' "$W/dump"
	assert_output 0
}

@test "chain: curl -> nginx (echo, propagate) -> upstream keeps one id, traceparent passes" {
	UPPORT=$(free_port)
	bg timeout 30 "$T/net_dump_server" "$UPPORT" 2 >"$W/dump"
	wait_port "$UPPORT"
	start_nginx CTXSHIM_HTTP_ECHO=1 CTXSHIM_HTTP_PROPAGATE=1
	run curl -si -m 5 -H 'X-Request-ID: chain-1' "http://127.0.0.1:$NGPORT/up/a"
	assert_success
	assert_equal "$(echo "$output" | echoed)" chain-1
	id=$(curl -si -m 5 -H 'traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' \
		"http://127.0.0.1:$NGPORT/up/b" | echoed)
	[[ $id =~ ^[0-9a-f]{32}$ ]]
	run grep -i '^x-request-id' "$W/dump"
	assert_line $'X-Request-ID: chain-1\r'
	assert_line "X-Request-ID: $id"$'\r'
	run grep -c '^traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-' "$W/dump"
	assert_output 1
}

@test "chain: a curl started by a CGI script of http.server sends the request's id on" {
	port=$(free_port)
	bg timeout 30 "$T/net_dump_server" "$port" 1 >"$W/dump"
	wait_port "$port"
	mkdir -p "$W/www/cgi-bin"
	cat >"$W/www/cgi-bin/call.sh" <<-EOF
		#!/bin/sh
		printf 'Content-Type: text/plain\r\n\r\n'
		curl -s -m 5 http://127.0.0.1:$port/from-cgi
	EOF
	chmod +x "$W/www/cgi-bin/call.sh"
	chmod 755 "$W"    # http.server runs CGI scripts as nobody when root
	wd=$(world_dir)   # ... and nobody must be able to load the shim
	PYPORT=$(free_port)
	(cd "$W/www" && exec env CTXSHIM_HTTP=1 CTXSHIM_HTTP_PROPAGATE=1 LD_PRELOAD="$wd/libctxshim.so" \
		timeout 60 $PY -m http.server --cgi -b 127.0.0.1 "$PYPORT" 2>"$W/py.err" >/dev/null) &
	PIDS="$PIDS $!"
	wait_port "$PYPORT"
	run curl -s -m 10 -H 'X-Request-ID: from-the-edge' "http://127.0.0.1:$PYPORT/cgi-bin/call.sh"
	assert_success
	assert_output ok
	run grep -i '^x-request-id' "$W/dump"
	rm -rf "$wd"
	assert_output $'X-Request-ID: from-the-edge\r'
}

# ---- streams that are not HTTP ----------------------------------------------

@test "echo server: returns exactly the bytes sent (HTTP-looking request, 70 kB random)" {
	port=$(free_port)
	bg env CTXSHIM_HTTP_ECHO=1 CTXSHIM_HTTP_PROPAGATE=1 LD_PRELOAD="$SHIM" timeout 60 \
		"$T/net_echo_server" "$port"
	wait_port "$port"
	printf 'GET / HTTP/1.1\r\nHost: x\r\nX-Request-ID: abc\r\n\r\n' >"$W/req"
	head -c 70000 /dev/urandom >"$W/rnd"
	cat "$W/req" "$W/rnd" "$W/req" >"$W/all"
	for f in req rnd all; do
		timeout 10 socat -t 5 - "TCP:127.0.0.1:$port" <"$W/$f" >"$W/out"
		cmp "$W/$f" "$W/out"
	done
	# An HTTP response head sent by the client comes back untouched too.
	printf 'GET / HTTP/1.1\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n' >"$W/resp"
	timeout 10 socat -t 5 - "TCP:127.0.0.1:$port" <"$W/resp" >"$W/out"
	cmp "$W/resp" "$W/out"
}

@test "memcached under the shim with echo answers byte for byte" {
	port=$(free_port)
	bg env CTXSHIM_HTTP_ECHO=1 LD_PRELOAD="$SHIM" timeout 60 memcached -u root -U 0 -l 127.0.0.1 -p "$port"
	wait_port "$port"
	printf 'set k 0 0 5\r\nhello\r\nget k\r\nquit\r\n' >"$W/in"
	timeout 10 socat -t 5 - "TCP:127.0.0.1:$port" <"$W/in" >"$W/out"
	printf 'STORED\r\nVALUE k 0 5\r\nhello\r\nEND\r\n' >"$W/want"
	cmp "$W/want" "$W/out"
}

# ---- the context follows the connection -------------------------------------

# ask PORT: run a Python client script (stdin) against the loop server.
ask() {
	timeout 20 $PY - "$1"
}

@test "one thread, many connections: each keeps its own conn_id and peer; threads it starts inherit it" {
	port=$(free_port)
	bg env CTXSHIM_CONN=1 LD_PRELOAD="$SHIM" timeout 60 "$T/net_ctx_loop" "$port"
	wait_port "$port"
	run ask "$port" <<-'EOF'
		import socket, sys
		port = int(sys.argv[1])
		cs = [socket.create_connection(("127.0.0.1", port)) for _ in range(4)]
		seen = {}
		for i in [0, 1, 2, 3, 2, 0, 3, 1, 1, 0]:
		    cs[i].sendall(b"WHO\n")
		    line = cs[i].recv(1000).decode().split()
		    me = "%s:%d" % cs[i].getsockname()
		    assert line[1] == "peer=" + me, (line, me)
		    assert seen.setdefault(i, line[0]) == line[0], (i, line, seen)
		    # A thread started while serving the connection inherits its context.
		    cs[i].sendall(b"THREAD\n")
		    assert cs[i].recv(1000).decode().split() == line, i
		assert len(set(seen.values())) == 4 and "conn_id=-" not in seen.values(), seen
		print("ok")
	EOF
	assert_success
	assert_output ok
}

@test "one thread: pipelined and interleaved HTTP requests each run under their own id" {
	port=$(free_port)
	bg env CTXSHIM_HTTP_ECHO=1 LD_PRELOAD="$SHIM" timeout 60 "$T/net_ctx_loop" "$port"
	wait_port "$port"
	run ask "$port" <<-'EOF'
		import socket, sys, time
		port = int(sys.argv[1])
		def recv_all(s, n):
		    data = b""
		    while data.count(b"\r\n0\r\n\r\n") < n:
		        data += s.recv(65536)
		    return data.decode()
		a = socket.create_connection(("127.0.0.1", port))
		b = socket.create_connection(("127.0.0.1", port))
		a.sendall(b"GET /p1 HTTP/1.1\r\nX-Request-ID: one\r\n\r\nGET /p2 HTTP/1.1\r\nX-Request-ID: two\r\n\r\n")
		ra = recv_all(a, 2)
		b.sendall(b"GET /b HTTP/1.1\r\nX-Request-ID: bee\r\n\r\n")
		rb = recv_all(b, 1)
		a.sendall(b"GET /p3 HTTP/1.1\r\n\r\n")
		ra3 = recv_all(a, 1)
		assert "X-Request-ID: one\r\n" in ra and "request_id=one path=/p1" in ra, ra
		assert "X-Request-ID: two\r\n" in ra and "request_id=two path=/p2" in ra, ra
		assert ra.index("request_id=one") < ra.index("request_id=two")
		assert "X-Request-ID: bee\r\n" in rb and "request_id=bee path=/b" in rb, rb
		gen = ra3.split("X-Request-ID: ")[1].split("\r\n")[0]
		assert len(gen) == 32 and "request_id=%s path=/p3" % gen in ra3, ra3
		conn = lambda r: r.split("conn_id=")[1].split()[0]
		assert conn(ra) == conn(ra3) != conn(rb)
		print("ok")
	EOF
	assert_success
	assert_output ok
}

@test "without CTXSHIM_CONN connections carry no conn_id" {
	port=$(free_port)
	bg env LD_PRELOAD="$SHIM" timeout 60 "$T/net_ctx_loop" "$port"
	wait_port "$port"
	run ask "$port" <<-'EOF'
		import socket, sys
		s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
		s.sendall(b"WHO\n")
		print(s.recv(1000).decode().split()[0])
	EOF
	assert_output conn_id=-
}

# ---- writing: partial writes, awkward pieces, reused fds ----------------------

@test "partial writes: awkward pieces on a non-blocking socket keep every byte in order" {
	port=$(free_port)
	bg env CTXSHIM_HTTP_ECHO=1 LD_PRELOAD="$SHIM" timeout 60 "$T/net_slow_server" "$port"
	wait_port "$port"
	run timeout 30 $PY "$CLIENTS" slow "$port" 40 one
	assert_success
	run timeout 30 $PY "$CLIENTS" slow "$port" 30 pipelined
	assert_success
}

@test "partial writes: without the shim the same client sees no id lines (the test can fail)" {
	port=$(free_port)
	bg timeout 60 "$T/net_slow_server" "$port"
	wait_port "$port"
	run timeout 30 $PY "$CLIENTS" slow "$port" 3 one
	assert_failure
}

@test "a connection's fd reused for a file after close, dup2, dup3, close_range: bytes land as written" {
	for m in close dup2 dup3 close_range; do
		CTXSHIM_HTTP_ECHO=1 shim "$T/net_fdreuse" "$W/out.$m" "$m"
	done
}

@test "a signal handler writing to or reading from an accepted socket while the thread changes its context: no crash, no byte lost (copy, share, chain)" {
	# Before: 'malloc(): unaligned tcache chunk detected' (or a segfault).
	for m in copy share chain; do
		for fam in CTXSHIM_CONN CTXSHIM_HTTP_ECHO; do
			for dir in write read; do
				run env CTXSHIM_MODE=$m $fam=1 LD_PRELOAD="$SHIM" timeout 120 \
					"$T/net_sigwrite" 200000 $dir
				assert_success
				read -r word ticks bytes <<<"$output"
				[ "$word" = done ] && [ "$ticks" -gt 0 ] && [ "$ticks" -eq "$bytes" ]
			done
		done
	done
}

@test "a signal handler's write or read on a watched socket neither allocates nor frees (allocation trap)" {
	for m in copy share chain; do
		for fam in CTXSHIM_CONN CTXSHIM_HTTP_ECHO; do
			for dir in write read; do
				run env CTXSHIM_MODE=$m $fam=1 LD_PRELOAD="$T/libnomalloc.so $SHIM" \
					timeout 120 "$T/net_sigwrite" 20000 trap $dir
				assert_success
				assert_output --regexp '^done [1-9][0-9]* [0-9]+$'
			done
		done
	done
}

@test "a worker thread that only writes responses: every log line carries its request's id; nothing leaks" {
	# The worker never reads, accepts, closes or sets: what its writes let
	# go of piles up on its deferred list until that is full.
	for m in copy share chain; do
		run --separate-stderr env CTXSHIM_MODE=$m CTXSHIM_HTTP_ECHO=1 CTXSHIM_LOG=stderr \
			LD_PRELOAD="$SHIM" timeout 60 "$T/net_handoff" 300
		assert_success
		assert_output "ok 300"
		[ "$(printf '%s\n' "$stderr" | grep -c .)" -eq 300 ]
		[ "$(printf '%s\n' "$stderr" | grep -vc 'request_id=id\([0-9]*\) .*served /\1$')" -eq 0 ]
	done
	run env CTXSHIM_HTTP_ECHO=1 CTXSHIM_LOG=stderr LD_PRELOAD="$SHIM" valgrind -q --leak-check=full \
		--errors-for-leak-kinds=definite --error-exitcode=9 "$T/net_handoff" 150
	assert_success
}

@test "a vforked child's close, dup2, dup3, close_range leave the parent's connection and log watched" {
	# Fails before the fix: the child's hooks cleared the parent's records,
	# so r2 got no id and the "after" line no decoration.
	for m in vfork spawn; do
		rm -f "$W/app.log"
		run env CTXSHIM_HTTP_ECHO=1 CTXSHIM_LOG="file:$W/*.log" LD_PRELOAD="$SHIM" \
			timeout 30 "$T/net_vfork" "$W/app.log" $m
		assert_success
		assert_output "r1 echoed: yes
r2 echoed: yes"
		run cat "$W/app.log"
		assert_line --index 0 --regexp '^\[request_id=r1 conn_id=[0-9a-f]{16} .*\] before$'
		assert_line --index 1 --regexp '^\[request_id=r1 conn_id=[0-9a-f]{16} .*\] after$'
	done
}

@test "a child forked by a raw system call (no atfork handlers) still forgets the fds it closes" {
	# It has memory of its own: it must not be taken for a vforked child,
	# or a data file reopened on its log's fd number would be decorated.
	run env CTXSHIM_HTTP_ECHO=1 CTXSHIM_LOG="file:$W/*.log" LD_PRELOAD="$SHIM" \
		timeout 30 "$T/net_vfork" "$W/app.log" rawfork
	assert_success
	assert_equal "$(cat "$W/app.log.data")" data
	run cat "$W/app.log"
	assert_line --index 1 --regexp '^\[request_id=r1 conn_id=[0-9a-f]{16} .*\] after$'
}

@test "a vforked child's fd hooks allocate and free nothing (allocation trap; copy, share, chain)" {
	for mode in copy share chain; do
		run env CTXSHIM_MODE=$mode CTXSHIM_HTTP_ECHO=1 CTXSHIM_LOG="file:$W/*.log" \
			LD_PRELOAD="$T/libnomalloc.so $SHIM" timeout 30 "$T/net_vfork" "$W/app.log" vfork trap
		assert_success
		assert_output "r1 echoed: yes
r2 echoed: yes"
	done
}

@test "a response head sent with splice stops the following: a body that looks like a head is untouched" {
	CTXSHIM_HTTP_ECHO=1 shim "$T/net_splice"
}

@test "valgrind: a thread-per-connection server under the shim leaks nothing, touches nothing invalid" {
	port=$(free_port)
	bg env CTXSHIM_HTTP_ECHO=1 CTXSHIM_HTTP_PROPAGATE=1 LD_PRELOAD="$SHIM" timeout 60 \
		valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=9 \
		"$T/net_thread_server" "$port" 4 2>"$W/vg"
	wait_port "$port"    # connection 1 of 4
	run timeout 30 $PY "$CLIENTS" keepalive "$port" /v 3 10
	assert_success
	# The server exits after its fourth connection; valgrind's verdict is its status.
	pid=${PIDS##* }
	timeout 30 tail --pid="$pid" -f /dev/null
	wait "$pid"
	run cat "$W/vg"
	assert_output ''
}

@test "ctxrun --echo and --conn switch the families on" {
	port=$(free_port)
	bg timeout 60 "$CTXRUN" --echo -- "$T/net_ctx_loop" "$port"
	wait_port "$port"
	run get -H 'X-Request-ID: via-ctxrun' "http://127.0.0.1:$port/x"
	assert_line 'X-Request-ID: via-ctxrun'
	assert_line --partial 'request_id=via-ctxrun path=/x'
	port2=$(free_port)
	bg timeout 60 "$CTXRUN" --conn -- "$T/net_ctx_loop" "$port2"
	wait_port "$port2"
	run ask "$port2" <<-'EOF2'
		import socket, sys
		s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
		s.sendall(b"GET /x HTTP/1.1\r\n\r\n")
		data = b""
		while b"\r\n0\r\n\r\n" not in data:
		    data += s.recv(1000)
		print(data.decode())
	EOF2
	refute_output --partial 'X-Request-ID'
	assert_output --regexp 'request_id=- path=- conn_id=[0-9a-f]{16}'
}

@test "share and chain modes: each request still runs under its own id" {
	for m in share chain; do
		port=$(free_port)
		bg env CTXSHIM_MODE=$m CTXSHIM_HTTP_ECHO=1 LD_PRELOAD="$SHIM" timeout 60 "$T/net_ctx_loop" "$port"
		wait_port "$port"
		run ask "$port" <<-'EOF2'
			import socket, sys
			port = int(sys.argv[1])
			a = socket.create_connection(("127.0.0.1", port))
			b = socket.create_connection(("127.0.0.1", port))
			def one(s, rid):
			    s.sendall(b"GET /%s HTTP/1.1\r\nX-Request-ID: %s\r\n\r\n" % (rid, rid))
			    data = b""
			    while b"\r\n0\r\n\r\n" not in data:
			        data += s.recv(65536)
			    return data.decode()
			for i in range(5):
			    for s, n in ((a, b"a%d" % i), (b, b"b%d" % i)):
			        r = one(s, n)
			        assert ("request_id=%s path=/%s" % (n.decode(), n.decode())) in r, r
			print("ok")
		EOF2
		assert_output ok
	done
}
