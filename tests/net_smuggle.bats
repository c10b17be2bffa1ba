#!/usr/bin/env bats
# Request smuggling: the shim follows a connection only
# while its framing is unambiguous (RFC 9112 6.3).  A corpus of CL.TE, TE.CL
# and TE.TE requests (net_smuggle.py) goes to real servers with echo on; the
# bytes every client gets must be the server's own plus whole X-Request-ID
# lines inside response heads.

load common

load net_helpers

# A python http.server application that frames bodies by Content-Length
# only (as BaseHTTPRequestHandler code does) and logs every byte it writes.
start_frame() {
	FRPORT=$(free_port)
	bg env CTXSHIM_HTTP_ECHO=1 "$@" LD_PRELOAD="$SHIM" \
		timeout 120 $PY "$BATS_TEST_DIRNAME/net_frame_server.py" "$FRPORT" "$W/frame.log" \
		2>"$W/frame.err" >/dev/null
	wait_port "$FRPORT"
}

@test "smuggling: TE+CL to a keep-alive python server adds no line inside the next response's body" {
	start_frame
	run timeout 60 $PY - "$FRPORT" "$W/frame.log" <<-'EOF'
		import socket, sys, json
		sys.path.insert(0, "tests")
		port, log = int(sys.argv[1]), sys.argv[2]
		# Python reads 65 bytes of body; a parser that believes
		# Transfer-Encoding sees a HEAD request inside it.
		body = b"0\r\n\r\nHEAD /smuggled HTTP/1.1\r\nHost: x\r\nX-Request-ID: smuggled\r\n\r\n"
		req = (b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
		       b"Content-Length: %d\r\n\r\n" % len(body) + body +
		       b"GET /next HTTP/1.1\r\nHost: x\r\nX-Request-ID: next\r\n\r\n")
		s = socket.create_connection(("127.0.0.1", port), timeout=10)
		s.sendall(req)
		s.shutdown(socket.SHUT_WR)
		got = b""
		while True:
		    b = s.recv(65536)
		    if not b:
		        break
		    got += b
		sent = b"".join(bytes.fromhex(json.loads(l)["hex"]) for l in open(log))
		print(got)
		# The server's second body looks like a response head: nothing may
		# be added to it.
		body2 = sent[sent.rindex(b"HTTP/1.1 200 OK\r\nX-Echo: GET /next"):]
		assert got.endswith(body2), "the second response's body was changed"
		print("ok")
	EOF
	assert_success
	assert_line ok
}

@test "smuggling corpus: python server framing by Content-Length sees only its own bytes plus id lines in heads" {
	start_frame
	run timeout 100 $PY "$BATS_TEST_DIRNAME/net_smuggle.py" frame "$FRPORT" "$W/frame.log"
	echo "$output"
	assert_success
	# The corpus is not vacuous: clean requests still get their ids.
	assert_line --regexp '^plain pipelined +ok \(3 responses'
}

@test "smuggling corpus: nginx with the shim sends what nginx without it sends, plus id lines in heads" {
	NGDIR=$W/plain NGPRELOAD= start_nginx
	plain=$NGPORT
	start_nginx CTXSHIM_HTTP_ECHO=1
	run timeout 100 $PY "$BATS_TEST_DIRNAME/net_smuggle.py" compare "$NGPORT" "$plain"
	echo "$output"
	assert_success
	assert_line --regexp '^plain pipelined +ok \(3 id lines\)'
}

@test "smuggling: after an ambiguous request the connection gets no id and no request entries" {
	start_frame CTXSHIM_LOG=stderr FRAME_ACCESS_LOG=1
	run timeout 60 $PY - "$FRPORT" <<-'EOF'
		import socket, sys
		port = int(sys.argv[1])
		s = socket.create_connection(("127.0.0.1", port), timeout=10)
		s.sendall(b"GET /first HTTP/1.1\r\nX-Request-ID: first\r\n\r\n")
		got = b""
		while b"GET /first" not in got:
		    got += s.recv(65536)
		assert b"X-Request-ID: first\r\n" in got, got
		s.sendall(b"POST /amb HTTP/1.1\r\nX-Request-ID: amb\r\nContent-Length: 2\r\n"
		          b"Content-Length: 2\r\n\r\nok"
		          b"GET /later HTTP/1.1\r\nX-Request-ID: later\r\n\r\n")
		s.shutdown(socket.SHUT_WR)
		while True:
		    b = s.recv(65536)
		    if not b:
		        break
		    got += b
		assert got.count(b"\r\nX-Request-ID:") == 1, got
		print("ok")
	EOF
	assert_success
	assert_line ok
	# The access lines: the first request's id; the ambiguous one and the
	# one after it carry the connection's entries only.
	run grep -c 'request_id=first .*"GET /first' "$W/frame.err"
	assert_output 1
	run grep -E 'POST /amb|GET /later' "$W/frame.err"
	assert_line --regexp '^\[conn_id=[0-9a-f]{16} peer=127.0.0.1:[0-9]+\] POST /amb'
	refute_output --partial request_id
}
