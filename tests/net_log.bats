#!/usr/bin/env bats
# Requests and logging together (issues 3 and 4): the line a real server
# logs for a request carries that request's id, the one it echoed.

load common
load net_helpers

# The request_id of the decoration of the line in FILE that contains TEXT.
logged_id() {
	grep -F -- "$2" "$1" | sed -n 's/.*request_id=\([^] ]*\).*/\1/p'
}

# ---- python3 -m http.server: stderr -----------------------------------------

@test "http.server: the access line on stderr carries the id it echoed (given and generated)" {
	start_py CTXSHIM_LOG=stderr
	run get -H 'X-Request-ID: abc' "http://127.0.0.1:$PYPORT/index.html?one"
	assert_equal "$(echo "$output" | echoed)" abc
	id=$(get "http://127.0.0.1:$PYPORT/index.html?two" | echoed)
	[[ $id =~ ^[0-9a-f]{32}$ ]]
	sleep 0.2
	assert_equal "$(logged_id "$W/py.err" 'GET /index.html?one')" abc
	assert_equal "$(logged_id "$W/py.err" 'GET /index.html?two')" "$id"
}

@test "http.server: 8 keep-alive clients x 40 requests: every access line carries its own id" {
	start_py CTXSHIM_LOG=stderr
	timeout 60 $PY "$CLIENTS" keepalive "$PYPORT" /index.html 8 40 >"$W/clients"
	sleep 0.3
	run $PY "$CLIENTS" checklog "$W/clients" "$W/py.err"
	assert_success
	assert_output '320 requests, 320 logged lines checked, 0 mix-ups'
}

@test "a Python server that runs subprocesses (vfork: close_fds, pass_fds, capture) keeps echoing and decorating on keep-alive" {
	# Python 3.11's subprocess vforks; the child's close_range and dup2 ran
	# our hooks in the parent's memory: every later response lost its id,
	# the log file its decoration, and stderr lines kept the first request's id.
	cat >"$W/srv.py" <<-'EOF'
		import http.server, logging, subprocess, sys
		logging.basicConfig(filename=sys.argv[2], format="%(message)s", level=logging.INFO)
		class H(http.server.BaseHTTPRequestHandler):
		    protocol_version = "HTTP/1.1"
		    def do_GET(self):
		        subprocess.run(["/bin/true"], close_fds=True)
		        subprocess.run(["/bin/true"], pass_fds=(self.connection.fileno(),))
		        subprocess.run(["/bin/echo", "x"], capture_output=True)
		        logging.info("served %s", self.path)
		        self.send_response(200)
		        self.send_header("Content-Length", "2")
		        self.end_headers()
		        self.wfile.write(b"ok")
		http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
	EOF
	port=$(free_port)
	bg env CTXSHIM_HTTP_ECHO=1 CTXSHIM_LOG="stderr,file:$W/*.log" LD_PRELOAD="$SHIM" \
		timeout 120 $PY "$W/srv.py" "$port" "$W/access.log" 2>"$W/py.err"
	wait_port "$port"
	run timeout 30 $PY - "$port" <<-'EOF'
		import socket, sys
		s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
		f = s.makefile("rb")
		for i in range(1, 4):
		    s.sendall(b"GET /r%d HTTP/1.1\r\nHost: x\r\nX-Request-ID: k%d\r\n\r\n" % (i, i))
		    head = []
		    while True:
		        line = f.readline()
		        if line in (b"\r\n", b""):
		            break
		        head.append(line.decode().strip())
		    n = [int(h.split(":")[1]) for h in head if h.lower().startswith("content-length:")]
		    f.read(n[0] if n else 0)
		    ids = [h.split(":")[1].strip() for h in head if h.lower().startswith("x-request-id:")]
		    print("r%d %s" % (i, ids[0] if ids else "none"))
	EOF
	assert_success
	assert_output "r1 k1
r2 k2
r3 k3"
	for i in 1 2 3; do
		for f in access.log py.err; do
			for _ in $(seq 50); do grep -q "GET /r$i \\|served /r$i" "$W/$f" && break; sleep 0.1; done
		done
	done
	for i in 1 2 3; do
		assert_equal "$(logged_id "$W/access.log" "served /r$i")" "k$i"
		assert_equal "$(logged_id "$W/py.err" "GET /r$i ")" "k$i"
	done
}

@test "http.server: hostile ids never reach the log; their lines carry fresh ids" {
	start_py CTXSHIM_LOG=stderr
	run timeout 60 $PY "$CLIENTS" hostile "$PYPORT" /index.html
	assert_success
	sleep 0.2
	# 8 hostile values; the one with a bare CR makes its head ambiguous, so
	# that line carries the connection's entries only.
	run grep -c 'request_id=[0-9a-f]\{32\}[] ].*GET /index.html' "$W/py.err"
	assert_output 7
	# The only ids in the log: the fresh ones and the good one sent last.
	run bash -c "grep -o 'request_id=[^] ]*' '$W/py.err' | sort -u | grep -Ev '^request_id=([0-9a-f]{32}|fine-1)\$'"
	assert_output ''
}

# ---- nginx: the access log through CTXSHIM_LOG=file:... ----------------------

@test "nginx: the access log line carries the id it echoed (given and generated)" {
	start_nginx CTXSHIM_HTTP_ECHO=1 "CTXSHIM_LOG=file:$W/ng/logs/*.log"
	run get -H 'X-Request-ID: abc' "http://127.0.0.1:$NGPORT/index.html?one"
	assert_equal "$(echo "$output" | echoed)" abc
	id=$(get "http://127.0.0.1:$NGPORT/index.html?two" | echoed)
	[[ $id =~ ^[0-9a-f]{32}$ ]]
	sleep 0.2
	assert_equal "$(logged_id "$W/ng/logs/access.log" 'GET /index.html?one')" abc
	assert_equal "$(logged_id "$W/ng/logs/access.log" 'GET /index.html?two')" "$id"
}

@test "nginx: 8 keep-alive clients x 40 requests: every access line carries its own id" {
	start_nginx CTXSHIM_HTTP_ECHO=1 "CTXSHIM_LOG=file:$W/ng/logs/*.log"
	timeout 60 $PY "$CLIENTS" keepalive "$NGPORT" /index.html 8 40 >"$W/clients"
	sleep 0.3
	run $PY "$CLIENTS" checklog "$W/clients" "$W/ng/logs/access.log"
	assert_success
	assert_output '320 requests, 320 logged lines checked, 0 mix-ups'
}

@test "nginx: hostile ids never reach the access log; their lines carry fresh ids" {
	start_nginx CTXSHIM_HTTP_ECHO=1 "CTXSHIM_LOG=file:$W/ng/logs/*.log"
	run timeout 60 $PY "$CLIENTS" hostile "$NGPORT" /index.html
	assert_success
	sleep 0.2
	# The bare-CR one is ambiguous (nginx answers 400): no request entries.
	run grep -c '^\[request_id=[0-9a-f]\{32\} ' "$W/ng/logs/access.log"
	assert_output 7
	# The only ids in the log: the fresh ones and the good one sent last.
	run bash -c "grep -o '^\[request_id=[^] ]*' '$W/ng/logs/access.log' | sort -u | grep -Ev '^.request_id=([0-9a-f]{32}|fine-1)\$'"
	assert_output ''
}

# ---- a protocol that is not HTTP ---------------------------------------------

@test "memcached -vv: each connection's lines carry its own conn_id" {
	port=$(free_port)
	bg env CTXSHIM_CONN=1 CTXSHIM_LOG=stderr LD_PRELOAD="$SHIM" timeout 60 \
		memcached -u root -U 0 -l 127.0.0.1 -p "$port" -t 2 -vv 2>"$W/mc.err"
	wait_port "$port"
	printf 'set a 0 0 1\r\nA\r\nget a\r\nquit\r\n' >"$W/a"
	printf 'set b 0 0 1\r\nB\r\nget b\r\nquit\r\n' >"$W/b"
	timeout 10 socat -t 5 - "TCP:127.0.0.1:$port" <"$W/a" >/dev/null
	timeout 10 socat -t 5 - "TCP:127.0.0.1:$port" <"$W/b" >/dev/null
	sleep 0.3
	a=$(grep -F 'set a ' "$W/mc.err" | sed -n 's/.*conn_id=\([0-9a-f]*\).*/\1/p')
	b=$(grep -F 'set b ' "$W/mc.err" | sed -n 's/.*conn_id=\([0-9a-f]*\).*/\1/p')
	[[ $a =~ ^[0-9a-f]{16}$ ]]
	[[ $b =~ ^[0-9a-f]{16}$ ]]
	[ "$a" != "$b" ]
	# The reply lines of each connection carry the same conn_id as its request.
	assert_equal "$(grep -F 'sending key a' "$W/mc.err" | sed -n 's/.*conn_id=\([0-9a-f]*\).*/\1/p')" "$a"
}
