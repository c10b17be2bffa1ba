#!/usr/bin/env bats
# HTTPS: request ids on the plaintext of TLS connections (OpenSSL 3's
# libssl, interposed in net/net_tls.c): nginx with `listen ... ssl` and
# python3's http.server wrapped with ssl, certificates made here.

load common

load net_helpers

TLSC=$BATS_TEST_DIRNAME/net_tls_clients.py

# A self-signed certificate and key in $W.
make_cert() {
	openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -days 1 \
		-keyout "$W/key.pem" -out "$W/cert.pem" 2>/dev/null
}

# nginx serving $W/ng/html over TLS on $NGPORT; environment: the arguments.
start_nginx_tls() {
	local d=$W/ng
	make_cert
	mkdir -p "$d/logs" "$d/html" "$d/tmp"
	echo hi >"$d/html/index.html"
	head -c 1048576 /dev/urandom >"$d/html/big.bin"
	head -c 8000000 /dev/urandom >"$d/html/huge.bin"
	NGPORT=$(free_port)
	cat >"$d/nginx.conf" <<-EOF
		daemon off;
		user root;
		worker_processes 1;
		pid $d/nginx.pid;
		error_log $d/logs/error.log warn;
		events { worker_connections 256; }
		http {
		  access_log $d/logs/access.log;
		  client_body_temp_path $d/tmp;
		  proxy_temp_path $d/tmp;
		  fastcgi_temp_path $d/tmp;
		  uwsgi_temp_path $d/tmp;
		  scgi_temp_path $d/tmp;
		  keepalive_requests 10000;
		  client_max_body_size 10m;
		  server {
		    listen 127.0.0.1:$NGPORT ssl;
		    ssl_certificate $W/cert.pem;
		    ssl_certificate_key $W/key.pem;
		    root $d/html;
		    location /echo/ { proxy_pass ${NGUP:-http}://127.0.0.1:${UPPORT:-9}/; }
		  }
		}
	EOF
	bg env "$@" LD_PRELOAD="$SHIM" timeout 120 nginx -p "$d" -c "$d/nginx.conf" -e "$d/logs/error.log"
	wait_port "$NGPORT"
}

# python3 http.server over TLS (ssl.SSLContext.wrap_socket), HTTP/1.1,
# logging to stderr ($W/py.err); environment: the arguments.
start_py_tls() {
	make_cert
	mkdir -p "$W/www"
	echo hello >"$W/www/index.html"
	PYPORT=$(free_port)
	cat >"$W/srv.py" <<-EOF
		import http.server, ssl, sys
		http.server.SimpleHTTPRequestHandler.protocol_version = "HTTP/1.1"
		h = lambda *a, **k: http.server.SimpleHTTPRequestHandler(*a, directory="$W/www", **k)
		s = http.server.HTTPServer(("127.0.0.1", $PYPORT), h)
		ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
		ctx.load_cert_chain("$W/cert.pem", "$W/key.pem")
		s.socket = ctx.wrap_socket(s.socket, server_side=True)
		s.serve_forever()
	EOF
	bg env "$@" LD_PRELOAD="$SHIM" timeout 120 $PY "$W/srv.py" 2>"$W/py.err" >/dev/null
	wait_port "$PYPORT"
}

# The request_id on the line of log file $1 that contains $2.
logged_id() {
	grep -F -- "$2" "$1" | sed -n 's/.*request_id=\([^] ]*\).*/\1/p'
}

gets() {
	curl -ksi -m 10 "$@" | tr -d '\r'
}

# ---- nginx -------------------------------------------------------------------

@test "nginx TLS: a given id and a generated one are echoed and logged" {
	start_nginx_tls CTXSHIM_HTTP_ECHO=1 "CTXSHIM_LOG=file:$W/ng/logs/*.log"
	run gets -H 'X-Request-ID: tls-abc' "https://127.0.0.1:$NGPORT/index.html?one"
	assert_success
	assert_line 'HTTP/1.1 200 OK'
	assert_line hi
	assert_equal "$(echo "$output" | echoed)" tls-abc
	id=$(curl -ks -m 10 -D- -o /dev/null "https://127.0.0.1:$NGPORT/index.html?two" | echoed)
	[[ $id =~ ^[0-9a-f]{32}$ ]]
	sleep 0.2
	assert_equal "$(logged_id "$W/ng/logs/access.log" 'GET /index.html?one')" tls-abc
	assert_equal "$(logged_id "$W/ng/logs/access.log" 'GET /index.html?two')" "$id"
}

@test "nginx TLS: 8 keep-alive clients x 40 requests: echoed id = logged id, 0 mix-ups" {
	start_nginx_tls CTXSHIM_HTTP_ECHO=1 "CTXSHIM_LOG=file:$W/ng/logs/*.log"
	NET_TLS=1 timeout 90 $PY "$CLIENTS" keepalive "$NGPORT" /index.html 8 40 >"$W/clients"
	run wc -l <"$W/clients"
	assert_output 320
	sleep 0.3
	run $PY "$CLIENTS" checklog "$W/clients" "$W/ng/logs/access.log"
	assert_success
	assert_output '320 requests, 320 logged lines checked, 0 mix-ups'
}

@test "nginx TLS: a 1 MiB body arrives byte-identical with its id, twice on one connection" {
	start_nginx_tls CTXSHIM_HTTP_ECHO=1
	curl -ks -m 20 -D "$W/h1" -o "$W/b1" -H 'X-Request-ID: big1' "https://127.0.0.1:$NGPORT/big.bin" \
		--next -ks -D "$W/h2" -o "$W/b2" -H 'X-Request-ID: big2' "https://127.0.0.1:$NGPORT/big.bin"
	cmp "$W/b1" "$W/ng/html/big.bin"
	cmp "$W/b2" "$W/ng/html/big.bin"
	assert_equal "$(echoed <"$W/h1")" big1
	assert_equal "$(echoed <"$W/h2")" big2
}

@test "nginx TLS: a slow reader of pipelined 8 MB responses (write retries) gets every byte and each id" {
	start_nginx_tls CTXSHIM_HTTP_ECHO=1
	run timeout 100 $PY "$TLSC" pipeline "$NGPORT" /huge.bin "$W/ng/html/huge.bin" 3
	assert_success
	assert_line 'response 0: HTTP/1.1 200 OK ids=[b'"'"'p0'"'"'] body intact'
	assert_line 'response 2: HTTP/1.1 200 OK ids=[b'"'"'p2'"'"'] body intact'
}

@test "nginx TLS: without CTXSHIM_HTTP nothing is added and nothing is logged with ids" {
	start_nginx_tls CTXSHIM_CONN=1 "CTXSHIM_LOG=file:$W/ng/logs/*.log"
	run gets -H 'X-Request-ID: plain' "https://127.0.0.1:$NGPORT/index.html?off"
	assert_success
	assert_line hi
	refute_line --partial 'X-Request-ID'
	sleep 0.2
	run grep -c 'request_id=' "$W/ng/logs/access.log"
	assert_output 0
}

# ---- python3 ------------------------------------------------------------------

@test "python http.server over TLS (SSL_read_ex/SSL_write_ex): ids logged and echoed" {
	start_py_tls CTXSHIM_HTTP_ECHO=1 CTXSHIM_LOG=stderr
	run gets -H 'X-Request-ID: py-tls' "https://127.0.0.1:$PYPORT/index.html?one"
	assert_success
	assert_line hello
	assert_equal "$(echo "$output" | echoed)" py-tls
	id=$(gets "https://127.0.0.1:$PYPORT/index.html?two" | echoed)
	[[ $id =~ ^[0-9a-f]{32}$ ]]
	sleep 0.2
	assert_equal "$(logged_id "$W/py.err" 'GET /index.html?one')" py-tls
	assert_equal "$(logged_id "$W/py.err" 'GET /index.html?two')" "$id"
}

@test "a TLS connection carrying bytes that are not HTTP passes byte-identical" {
	make_cert
	port=$(free_port)
	bg env CTXSHIM_HTTP_ECHO=1 LD_PRELOAD="$SHIM" timeout 60 \
		$PY "$TLSC" echoserver "$port" "$W/cert.pem" "$W/key.pem"
	wait_port "$port"
	run timeout 30 $PY "$TLSC" rawecho "$port"
	assert_success
	assert_output --partial identical
}

# ---- a server with a memory BIO pair (no fd; every write retried) -------------

# tls_bio_server on $BPORT with body size 100000; extra arguments: its mode.
start_bio() {
	make_cert
	BPORT=$(free_port)
	bg env CTXSHIM_HTTP_ECHO=1 LD_PRELOAD="$SHIM" timeout 60 \
		"$T/tls_bio_server" "$BPORT" "$W/cert.pem" "$W/key.pem" 100000 "$@" 2>"$W/bio.err"
	wait_port "$BPORT"
	$PY -c 'import sys; sys.stdout.buffer.write(bytes(((i * 7 + i // 251) & 255) for i in range(100000)))' >"$W/want"
}

bio_check() {
	curl -ks -m 20 -D "$W/h1" -o "$W/b1" -H 'X-Request-ID: bio-1' "https://127.0.0.1:$BPORT/a" \
		--next -ks -D "$W/h2" -o "$W/b2" "https://127.0.0.1:$BPORT/b" \
		--next -ks -D "$W/h3" -o "$W/b3" -H 'X-Request-ID: bio-3' "https://127.0.0.1:$BPORT/c"
	cmp "$W/b1" "$W/want"
	cmp "$W/b2" "$W/want"
	cmp "$W/b3" "$W/want"
	assert_equal "$(echoed <"$W/h1")" bio-1
	[[ $(echoed <"$W/h2") =~ ^[0-9a-f]{32}$ ]]
	assert_equal "$(echoed <"$W/h3")" bio-3
	run cat "$W/bio.err"
	assert_output ''
}

@test "TLS over a BIO pair, every SSL_write retried after WANT_WRITE: same buffer each retry, ids echoed, bytes intact" {
	start_bio
	bio_check
}

@test "TLS over a BIO pair with SSL_MODE_ENABLE_PARTIAL_WRITE: short writes counted honestly, ids echoed, bytes intact" {
	start_bio partial
	bio_check
}

# ---- clients: propagation over TLS ---------------------------------------------

@test "curl over TLS under ctxrun --propagate reaches nginx (TLS) with the id" {
	start_nginx_tls CTXSHIM_HTTP_ECHO=1 "CTXSHIM_LOG=file:$W/ng/logs/*.log"
	run "$CTXRUN" -s request_id=tls-prop --propagate -- curl -ks -m 10 -D- -o /dev/null \
		"https://127.0.0.1:$NGPORT/index.html?prop"
	assert_success
	assert_equal "$(echo "$output" | echoed)" tls-prop
	sleep 0.2
	assert_equal "$(logged_id "$W/ng/logs/access.log" 'GET /index.html?prop')" tls-prop
	# Without propagation the same curl sends none: nginx makes one up.
	id=$("$CTXRUN" -s request_id=tls-prop -- curl -ks -m 10 -D- -o /dev/null \
		"https://127.0.0.1:$NGPORT/index.html" | echoed)
	[[ $id =~ ^[0-9a-f]{32}$ ]]
}

@test "python urllib over TLS under ctxrun --propagate sends the id" {
	start_nginx_tls CTXSHIM_HTTP_ECHO=1
	run "$CTXRUN" -s request_id=py-prop --propagate -- $PY -c "
import ssl, urllib.request
r = urllib.request.urlopen('https://127.0.0.1:$NGPORT/index.html', context=ssl._create_unverified_context(), timeout=10)
print(r.headers['X-Request-ID'])"
	assert_success
	assert_output py-prop
}

# ---- ctxctl conns -----------------------------------------------------------------

@test "ctxctl PID conns lists an in-flight TLS request once, with its id and path" {
	export CTXSHIM_CONTROL_DIR=$W/ctl
	mkdir -m 700 "$CTXSHIM_CONTROL_DIR"
	start_py_tls CTXSHIM_HTTP_ECHO=1 CTXSHIM_CONTROL=1
	head -c 30000000 /dev/zero >"$W/www/big.bin"
	pid=$(pgrep -f -n "$W/srv.py")
	curl -ks -m 60 --limit-rate 100k -H 'X-Request-ID: tls-slow-1' -o /dev/null \
		"https://127.0.0.1:$PYPORT/big.bin" &
	PIDS="$PIDS $!"
	for i in $(seq 100); do
		"$ROOT/scripts/ctxctl" --json "$pid" conns >"$W/conns" 2>/dev/null &&
			grep -q tls-slow-1 "$W/conns" && break
		sleep 0.1
	done
	run jq -r '.conns[].requests[] | select(.request_id == "tls-slow-1") | .path' "$W/conns"
	assert_output /big.bin
	# One entry for the connection (the socket under it is not listed again).
	run jq '.conns | length' "$W/conns"
	assert_output 1
}

# ---- lighttpd with mod_openssl ----------------------------------------------------

@test "lighttpd with mod_openssl: ids echoed over HTTP/1.1, never logged wrong; HTTP/2 (ALPN h2) is left alone" {
	make_cert
	mkdir -p "$W/lt/www" "$W/lt/logs"
	echo hello >"$W/lt/www/index.html"
	cat "$W/cert.pem" "$W/key.pem" >"$W/lt/both.pem"
	port=$(free_port)
	cat >"$W/lt/lt.conf" <<-EOF
		server.document-root = "$W/lt/www"
		server.bind = "127.0.0.1"
		server.port = $port
		server.modules = ("mod_openssl", "mod_accesslog")
		ssl.engine = "enable"
		ssl.pemfile = "$W/lt/both.pem"
		accesslog.filename = "$W/lt/logs/access.log"
		server.errorlog = "$W/lt/logs/error.log"
	EOF
	bg env CTXSHIM_HTTP_ECHO=1 "CTXSHIM_LOG=file:$W/lt/logs/*.log" LD_PRELOAD="$SHIM" \
		timeout 60 lighttpd -D -f "$W/lt/lt.conf"
	wait_port "$port"
	run gets --http1.1 -H 'X-Request-ID: lt-1' "https://127.0.0.1:$port/index.html?one"
	assert_line hello
	assert_equal "$(echo "$output" | echoed)" lt-1
	id=$(gets --http1.1 "https://127.0.0.1:$port/index.html?two" | echoed)
	[[ $id =~ ^[0-9a-f]{32}$ ]]
	run gets --http2 -H 'X-Request-ID: lt-h2' "https://127.0.0.1:$port/index.html?h2"
	assert_line 'HTTP/2 200 '
	assert_line hello
	refute_output --partial lt-h2
	# lighttpd writes its access log in batches (about once a second), under
	# whatever context is current then: a line carries its own request's id
	# or none, never another's.  Wait (bounded) for the lines.
	for i in $(seq 100); do
		[ "$(grep -c 'GET /index.html' "$W/lt/logs/access.log" 2>/dev/null)" -ge 3 ] && break
		sleep 0.1
	done
	for q in one:lt-1 two:$id h2:; do
		got=$(logged_id "$W/lt/logs/access.log" "GET /index.html?${q%%:*} ")
		[ -z "$got" ] || [ "$got" = "${q#*:}" ]
	done
}

# ---- asyncio: memory BIOs (SSLObject), no fd under the SSL -------------------------

@test "python asyncio TLS server (SSLObject, memory BIOs): ids echoed on each keep-alive request, never logged wrong" {
	make_cert
	port=$(free_port)
	cat >"$W/aio.py" <<-EOF
		import asyncio, ssl, sys
		async def handle(r, w):
		    while True:
		        head = await r.readuntil(b"\r\n\r\n")
		        line = head.split(b"\r\n")[0].decode()
		        print("served", line, file=sys.stderr, flush=True)
		        w.write(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n")
		        await w.drain()
		async def main():
		    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
		    ctx.load_cert_chain("$W/cert.pem", "$W/key.pem")
		    s = await asyncio.start_server(handle, "127.0.0.1", $port, ssl=ctx)
		    await s.serve_forever()
		asyncio.run(main())
	EOF
	bg env CTXSHIM_HTTP_ECHO=1 CTXSHIM_LOG=stderr LD_PRELOAD="$SHIM" timeout 60 $PY "$W/aio.py" 2>"$W/aio.err"
	wait_port "$port"
	run curl -ksi -m 10 -H 'X-Request-ID: aio-1' "https://127.0.0.1:$port/a" \
		--next -ksi "https://127.0.0.1:$port/b"
	assert_success
	ids=($(echo "$output" | echoed))
	assert_equal "${#ids[@]}" 2
	assert_equal "${ids[0]}" aio-1
	[[ ${ids[1]} =~ ^[0-9a-f]{32}$ ]]
	# The SSL has no fd: the socket under it is a connection of its own, and
	# when the loop reads it again before the handler logs, the line has the
	# socket's context (no request entries): its own id or none, never another.
	sleep 0.2
	for q in a:aio-1 b:${ids[1]}; do
		got=$(logged_id "$W/aio.err" "served GET /${q%%:*} ")
		[ -z "$got" ] || [ "$got" = "${q#*:}" ]
	done
}

# ---- GnuTLS ---------------------------------------------------------------------

@test "gnutls-serv --http (GnuTLS): given and generated ids echoed; the request it read and its page intact" {
	make_cert
	port=$(free_port)
	bg env CTXSHIM_HTTP_ECHO=1 LD_PRELOAD="$SHIM" timeout 60 gnutls-serv --http -p "$port" \
		--x509certfile "$W/cert.pem" --x509keyfile "$W/key.pem" >"$W/gs.out" 2>&1
	wait_port "$port"
	curl -ks -m 10 -D "$W/h1" -o "$W/b1" -H 'X-Request-ID: gt-1' "https://127.0.0.1:$port/"
	assert_equal "$(echoed <"$W/h1")" gt-1
	run grep -c -i '^x-request-id' "$W/h1"
	assert_output 1
	# The page shows the request head the server read: as curl sent it.
	run bash -c "tr -d '\r' <'$W/b1' | sed -n '/Your HTTP header was/,/PRE>/p'"
	assert_line 'X-Request-ID: gt-1'
	assert_line 'Accept: */*'
	run tail -c 30 "$W/b1"
	assert_output --partial '</BODY></HTML>'
	id=$(curl -ks -m 10 -D- -o /dev/null "https://127.0.0.1:$port/" | echoed)
	[[ $id =~ ^[0-9a-f]{32}$ ]]
}

@test "gnutls-serv without CTXSHIM_HTTP: nothing added" {
	make_cert
	port=$(free_port)
	bg env CTXSHIM_CONN=1 LD_PRELOAD="$SHIM" timeout 60 gnutls-serv --http -p "$port" \
		--x509certfile "$W/cert.pem" --x509keyfile "$W/key.pem" >"$W/gs.out" 2>&1
	wait_port "$port"
	run curl -ks -m 10 -D- -o /dev/null -H 'X-Request-ID: gt-off' "https://127.0.0.1:$port/"
	assert_line --partial 'HTTP/1.0 200 OK'
	refute_output --partial 'X-Request-ID'
}

@test "valgrind: a TLS server under the shim with echo leaks nothing, touches nothing invalid" {
	make_cert
	port=$(free_port)
	bg env CTXSHIM_HTTP_ECHO=1 LD_PRELOAD="$SHIM" timeout 120 \
		valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=9 \
		"$T/tls_bio_server" "$port" "$W/cert.pem" "$W/key.pem" 20000 full 4 2>"$W/vg"
	wait_port "$port"    # connection 1 of 4
	for c in 1 2 3; do
		curl -ks -m 60 -o /dev/null -D- -H "X-Request-ID: vg-$c" "https://127.0.0.1:$port/a" \
			--next -ks -m 60 -o /dev/null -D- "https://127.0.0.1:$port/b" >>"$W/heads"
	done
	run grep -c -i '^x-request-id' "$W/heads"
	assert_output 6
	pid=${PIDS##* }
	timeout 60 tail --pid="$pid" -f /dev/null
	wait "$pid"
	run cat "$W/vg"
	assert_output ''
}

@test "chain: curl -> nginx (TLS, echo, propagate) -> python http.server (TLS) keeps one id end to end" {
	start_py_tls CTXSHIM_HTTP_ECHO=1 CTXSHIM_LOG=stderr
	UPPORT=$PYPORT
	# nginx proxies /echo/ to https://127.0.0.1:$UPPORT/ (its own client TLS).
	NGUP=https start_nginx_tls CTXSHIM_HTTP_ECHO=1 CTXSHIM_HTTP_PROPAGATE=1
	run gets -H 'X-Request-ID: chain-tls-1' "https://127.0.0.1:$NGPORT/echo/index.html"
	assert_success
	assert_line hello
	assert_equal "$(echo "$output" | echoed)" chain-tls-1
	id=$(gets "https://127.0.0.1:$NGPORT/echo/index.html?two" | echoed)
	[[ $id =~ ^[0-9a-f]{32}$ ]]
	sleep 0.2
	assert_equal "$(logged_id "$W/py.err" 'GET /index.html ')" chain-tls-1
	assert_equal "$(logged_id "$W/py.err" 'GET /index.html?two ')" "$id"
}

@test "nginx TLS: hostile ids are replaced, as over plaintext, and the server keeps serving" {
	start_nginx_tls CTXSHIM_HTTP_ECHO=1 "CTXSHIM_LOG=file:$W/ng/logs/*.log"
	NET_TLS=1 run timeout 60 $PY "$CLIENTS" hostile "$NGPORT" /index.html
	assert_success
	sleep 0.2
	# The only ids in the log: fresh ones and the good one sent last.
	run bash -c "grep -o '^\[request_id=[^] ]*' '$W/ng/logs/access.log' | sort -u | grep -Ev '^.request_id=([0-9a-f]{32}|fine-1)\$'"
	assert_output ''
}

@test "gnutls-cli (GnuTLS client) under ctxrun --propagate sends the id to nginx over TLS" {
	start_nginx_tls CTXSHIM_HTTP_ECHO=1
	# gnutls-cli sends each line it reads as a record of its own, and takes
	# no short count: the line goes with the blank line, whole.
	run bash -c "(printf 'GET /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'; sleep 3) |
		timeout 20 '$CTXRUN' -s request_id=gcli-1 --propagate -- \
		gnutls-cli --insecure -p '$NGPORT' 127.0.0.1 2>/dev/null | tr -d '\r'"
	assert_line 'HTTP/1.1 200 OK'
	assert_line 'X-Request-ID: gcli-1'
	assert_line hi
}

@test "nginx TLS with echo under the ASan+UBSan library: keep-alive, hostile ids, 1 MiB, slow pipelined reader, no report" {
	ASAN_LIB=$ROOT/build/asan/libctxshim.so
	[ -f "$ASAN_LIB" ] || fail "no $ASAN_LIB: run 'make asan'"
	libasan=$(gcc -print-file-name=libasan.so)
	[ -f "$libasan" ] || fail "gcc has no libasan.so"
	SHIM="$libasan:$ASAN_LIB" start_nginx_tls CTXSHIM_HTTP_ECHO=1 \
		ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:abort_on_error=1:log_path=$W/asan" \
		UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$W/ubsan"
	NET_TLS=1 timeout 90 $PY "$CLIENTS" keepalive "$NGPORT" /index.html 4 20 >"$W/ka"; ka=$?
	NET_TLS=1 timeout 60 $PY "$CLIENTS" hostile "$NGPORT" /index.html >"$W/ho"; ho=$?
	curl -ks -m 30 -o "$W/b1" -H 'X-Request-ID: asan-big' "https://127.0.0.1:$NGPORT/big.bin"
	timeout 100 $PY "$TLSC" pipeline "$NGPORT" /big.bin "$W/ng/html/big.bin" 3 >"$W/pl"; pl=$?
	run bash -c "cat '$W'/asan* '$W'/ubsan* 2>/dev/null"
	assert_output ''
	[ "$ka" = 0 ] && [ "$ho" = 0 ] && [ "$pl" = 0 ]
	cmp "$W/b1" "$W/ng/html/big.bin"
}
