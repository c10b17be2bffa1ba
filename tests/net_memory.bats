#!/usr/bin/env bats
# What the shim holds per connection: requests waiting
# for their responses are queued as small records, their contexts made when
# they are applied, and a connection's HTTP state is capped at 64 KiB
# (NET_HELD_MAX) whatever its client sends and whatever the inherited
# context holds.  Measured in a server that reads many pipelined requests
# and answers none (tests/progs/net_hold_server: its heap in use after
# reading, less before its first accept).

load common

load net_helpers

CONNS=16

# hold [ENV...]: run net_hold_server under ENV with $CONNS clients each
# sending 256 pipelined requests with a 1 KiB target and a 200-byte id;
# prints the heap it holds per connection, in bytes.  HOLD_LINES=lines: the
# server then writes one stderr line per connection ($W/held.err).
hold() {
	local port i
	port=$(free_port)
	bytes=$($PY - <<-'EOF'
		n = 0
		for i in range(256):
		    n += len(b"GET /" + b"p" * 1023 + b" HTTP/1.1\r\nHost: x\r\nX-Request-ID: " +
		             b"%08d" % i + b"i" * 192 + b"\r\n\r\n")
		print(n)
	EOF
	)
	"$@" timeout 60 "$T/net_hold_server" "$port" "$CONNS" "$bytes" ${HOLD_LINES:-} \
		>"$W/held" 2>"$W/held.err" &
	local srv=$!
	PIDS="$PIDS $srv"
	for i in $(seq 100); do
		grep -q ready "$W/held" 2>/dev/null && break
		sleep 0.1
	done
	timeout 60 $PY - "$port" "$CONNS" <<-'EOF'
		import socket, sys
		port, conns = int(sys.argv[1]), int(sys.argv[2])
		socks = [socket.create_connection(("127.0.0.1", port), timeout=30) for _ in range(conns)]
		for c, s in enumerate(socks):
		    reqs = b"".join(b"GET /" + b"p" * 1023 + b" HTTP/1.1\r\nHost: x\r\nX-Request-ID: " +
		                    b"%08d" % i + b"i" * 192 + b"\r\n\r\n" for i in range(256))
		    s.sendall(reqs)
		# Keep them open until the server has measured.
		for s in socks:
		    try:
		        s.recv(1)
		    except OSError:
		        pass
	EOF
	wait "$srv"
	cat "$W/held.err" >&2
	echo $(( $(sed -n 's/^held //p' "$W/held") / CONNS ))
}

@test "memory: without the shim the hold server keeps nothing per connection (the measure can see 0)" {
	per=$(hold env)
	echo "per connection: $per bytes"
	[ "$per" -lt 4096 ]
}

@test "memory: 256 pipelined unanswered requests (1 KiB target, 200-byte id) hold at most 64 KiB per connection" {
	per=$(hold env CTXSHIM_HTTP_ECHO=1 LD_PRELOAD="$SHIM")
	echo "per connection: $per bytes"
	[ "$per" -gt 4096 ]        # the shim does follow these connections
	[ "$per" -le 65536 ]
}

@test "memory: ... and with a 2 KiB inherited context, still at most 64 KiB per connection" {
	big=$(head -c 2048 /dev/zero | tr '\0' b)
	per=$(hold "$CTXRUN" -s "big=$big" --echo --)
	echo "per connection: $per bytes"
	[ "$per" -le 65536 ]
}

@test "memory: ... and with a 16 KiB inherited context (copied into each connection's own), still at most 64 KiB" {
	v=$(head -c 4000 /dev/zero | tr '\0' b)
	per=$(hold "$CTXRUN" -s "b1=$v" -s "b2=$v" -s "b3=$v" -s "b4=$v" --echo --)
	echo "per connection: $per bytes"
	[ "$per" -le 65536 ]
}

@test "memory: deep pipelining of small requests is still followed: 256 answers, each with its own id" {
	start_py
	run timeout 60 $PY - "$PYPORT" <<-'EOF'
		import socket, sys
		s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
		s.sendall(b"".join(b"GET /index.html HTTP/1.1\r\nHost: x\r\nX-Request-ID: r%d\r\n\r\n" % i
		                   for i in range(256)))
		got = b""
		while got.count(b"hello\n") < 256:
		    b = s.recv(65536)
		    if not b:
		        break
		    got += b
		ids = [l.split(b": ")[1] for l in got.split(b"\r\n") if l.startswith(b"X-Request-ID: ")]
		assert ids == [b"r%d" % i for i in range(256)], ids[:5]
		print("ok")
	EOF
	assert_success
	assert_line ok
}

@test "memory: valgrind: queued, capped and abandoned requests touch nothing invalid and leak nothing" {
	CONNS=4
	hold env CTXSHIM_HTTP_ECHO=1 LD_PRELOAD="$SHIM" valgrind -q --leak-check=full \
		--errors-for-leak-kinds=definite --log-file="$W/vg" >/dev/null
	run cat "$W/vg"
	assert_output ''
	# Pipelined requests answered while more are read: records reused,
	# moved and grown as responses end.
	port=$(free_port)
	bg env CTXSHIM_HTTP_ECHO=1 LD_PRELOAD="$SHIM" timeout 120 \
		valgrind -q --log-file="$W/vg2" "$T/net_slow_server" "$port"
	wait_port "$port"
	run timeout 100 $PY "$CLIENTS" slow "$port" 40 pipelined
	assert_success
	run cat "$W/vg2"
	assert_output ''
}

@test "memory: past the cap the connection carries no request's entries (none of a later request)" {
	HOLD_LINES=lines hold env CTXSHIM_HTTP_ECHO=1 CTXSHIM_LOG=stderr LD_PRELOAD="$SHIM" >/dev/null
	run grep -c '^\[conn_id=[0-9a-f]\{16\} peer=127.0.0.1:[0-9]*\] connection [0-9]* read' "$W/held.err"
	assert_output "$CONNS"
	run grep request_id "$W/held.err"
	assert_output ''
}
