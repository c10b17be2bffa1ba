# net_helpers.bash: shared by tests/net*.bats (servers started and killed
# per test; clients in net_clients.py).

CLIENTS=$BATS_TEST_DIRNAME/net_clients.py
PY=/usr/bin/python3

setup() {
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
	rm -rf "$W"
}

# bg CMD...: start CMD in the background, killed in teardown.
bg() {
	"$@" &
	PIDS="$PIDS $!"
}

# Serve $W/www with python3 -m http.server (HTTP/1.1 keep-alive) under the
# shim with echo; its stderr (one line per request) goes to $W/py.err.
start_py() {
	mkdir -p "$W/www/cgi-bin"
	echo hello >"$W/www/index.html"
	PYPORT=$(free_port)
	bg env CTXSHIM_HTTP_ECHO=1 "$@" LD_PRELOAD="$SHIM" \
		timeout 120 $PY -m http.server -b 127.0.0.1 -d "$W/www" -p HTTP/1.1 "$PYPORT" \
		2>"$W/py.err" >/dev/null
	wait_port "$PYPORT"
}

# nginx with a private prefix in $W/ng (or $NGDIR) on a free port; /up/ is
# proxied to 127.0.0.1:$UPPORT when set.  Extra environment: the arguments.
# NGPRELOAD (when set, even empty) replaces the preloaded library.
# NGUPKEEP=1: /up/ goes through an upstream block with keep-alive connections.
start_nginx() {
	local d=${NGDIR:-$W/ng} up="proxy_pass http://127.0.0.1:${UPPORT:-9}/;" ups=
	if [ -n "${NGUPKEEP-}" ]; then
		ups="upstream up { server 127.0.0.1:${UPPORT:-9}; keepalive 16; }"
		up='proxy_pass http://up/; proxy_http_version 1.1; proxy_set_header Connection "";'
	fi
	mkdir -p "$d/logs" "$d/html" "$d/tmp"
	echo hi >"$d/html/index.html"
	head -c 1000000 /dev/urandom >"$d/html/big.bin"
	NGPORT=$(free_port)
	cat >"$d/nginx.conf" <<-EOF
		daemon off;
		user root;
		worker_processes 1;
		worker_rlimit_nofile 4096;
		pid $d/nginx.pid;
		error_log $d/logs/error.log warn;
		events { worker_connections 1024; }
		http {
		  access_log $d/logs/access.log;
		  client_body_temp_path $d/tmp;
		  proxy_temp_path $d/tmp;
		  fastcgi_temp_path $d/tmp;
		  uwsgi_temp_path $d/tmp;
		  scgi_temp_path $d/tmp;
		  sendfile on;
		  keepalive_requests 10000;
		  $ups
		  server {
		    listen 127.0.0.1:$NGPORT;
		    root $d/html;
		    location /up/ { $up }
		  }
		}
	EOF
	bg env "$@" LD_PRELOAD="${NGPRELOAD-$SHIM}" timeout 120 nginx -p "$d" -c "$d/nginx.conf" -e "$d/logs/error.log"
	wait_port "$NGPORT"
}

# get ARGS...: curl -si ARGS with the CRs of the head removed.
get() {
	curl -si -m 10 "$@" | tr -d '\r'
}

# The X-Request-ID a response head (curl -i output on stdin) carries.
echoed() {
	tr -d '\r' | sed -n 's/^[Xx]-[Rr]equest-[Ii][Dd]: //p'
}

