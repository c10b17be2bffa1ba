#!/usr/bin/env bats
# HTTPS: request ids on the plaintext of TLS connections (OpenSSL 3's
# libssl, interposed in net/net_tls.c): nginx with `listen ... ssl` and
# python3's http.server wrapped with ssl, certificates made here.

load common

load net_helpers

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
		    location /echo { proxy_pass http://127.0.0.1:${UPPORT:-9}/; }
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
