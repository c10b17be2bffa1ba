#!/usr/bin/env bats
# Attribution rules (issue 9): a thread works for a connection from the
# moment it accepts or touches it until it closes it or waits for events;
# outbound requests carry the request that caused them.  Real, unmodified
# programs: python3 http.server, redis-server, nginx as a reverse proxy.

load common
load net_helpers

PROXY=$BATS_TEST_DIRNAME/net_proxy.py

# The python3 http.server of the first test: one request served by the main
# thread (HTTPServer, no threads), then housekeeping from service_actions:
# a stderr line, a syslog message, a child and a timer thread's line.
PYSERVER='
import http.server, subprocess, sys, syslog, threading
served = [0]
class H(http.server.SimpleHTTPRequestHandler):
    def log_message(self, fmt, *a):
        served[0] = 1
        sys.stderr.write("request line %s\n" % (fmt % a))
        sys.stderr.flush()
class S(http.server.HTTPServer):
    done = 0
    def service_actions(self):
        if served[0] and not S.done:
            S.done = 1
            sys.stderr.write("housekeeping line\n")
            sys.stderr.flush()
            syslog.syslog(syslog.LOG_INFO, "housekeeping syslog")
            subprocess.run(["/bin/sh", "-c", "echo \"child line BAGGAGE=$BAGGAGE\" >&2"])
            t = threading.Timer(0.01, lambda: (sys.stderr.write("timer line\n"), sys.stderr.flush()))
            t.start()
            t.join()
            threading.Thread(target=self.shutdown).start()
S(("127.0.0.1", int(sys.argv[1])), H).serve_forever(poll_interval=0.1)
'

# The syslog receiver: every datagram on its own line until one reads END.
RECEIVER='
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
try:
    os.unlink("/dev/log")
except FileNotFoundError:
    pass
s.bind("/dev/log")
s.settimeout(30)
with open(sys.argv[1], "wb") as out:
    while True:
        d = s.recv(65536)
        if d == b"END":
            break
        out.write(d.replace(b"\n", b"\\n") + b"\n")
        out.flush()
'

# devlog CMD...: CMD under the shim where /dev/log is a socket of ours (a
# private mount namespace: the host's syslog is never touched); the
# datagrams end up in $W/syslog.
devlog() {
	mkdir -p "$W/ov/up" "$W/ov/work"
	: >"$W/syslog"
	timeout 60 unshare -m /bin/sh -c '
		w=$1 py=$2 rx=$3 shim=$4; shift 4
		mount --make-rprivate / &&
		mount -t overlay overlay -o "lowerdir=/dev,upperdir=$w/ov/up,workdir=$w/ov/work" /dev ||
			{ echo "cannot overlay /dev" >&2; exit 97; }
		"$py" -c "$rx" "$w/syslog" & rx_pid=$!
		i=0
		while [ ! -S /dev/log ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
		LD_PRELOAD=$shim "$@"
		rc=$?
		"$py" -c "import socket; socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b\"END\", \"/dev/log\")"
		wait $rx_pid
		exit $rc' sh "$W" "$PY" "$RECEIVER" "$SHIM" "$@"
}

@test "http.server: after the response and close, housekeeping, syslog, children and timers carry no request entries" {
	port=$(free_port)
	mkdir -p "$W/www"
	echo hello >"$W/www/index.html"
	(cd "$W/www" && CTXSHIM_HTTP=1 CTXSHIM_LOG=syslog,stderr devlog $PY -c "$PYSERVER" "$port" \
		2>"$W/py.err") &
	PIDS="$PIDS $!"
	wait_port "$port"
	run curl -s -m 10 -H 'X-Request-ID: lease-1' "http://127.0.0.1:$port/index.html"
	assert_output hello
	for i in $(seq 100); do grep -q 'timer line' "$W/py.err" && break; sleep 0.1; done
	wait $PIDS    # the server stops itself after its housekeeping
	cat "$W/py.err" "$W/syslog"
	run grep -c 'request_id=lease-1.*request line .*GET /index.html' "$W/py.err"
	assert_output 1
	for text in 'housekeeping line' 'child line' 'timer line'; do
		run grep -F "$text" "$W/py.err"
		assert_success
		refute_output --partial request_
	done
	run grep -F 'housekeeping syslog' "$W/syslog"
	assert_success
	refute_output --partial request_
}

# redis-server on a free port with a private directory, --loglevel verbose,
# its log on stdout ($W/redis.out).
start_redis() {
	RPORT=$(free_port)
	mkdir -p "$W/redis"
	bg env CTXSHIM_CONN=1 CTXSHIM_LOG=stdout LD_PRELOAD="$SHIM" timeout 120 \
		redis-server --port "$RPORT" --bind 127.0.0.1 --dir "$W/redis" --save '' \
		--appendonly no --loglevel verbose --daemonize no >"$W/redis.out" 2>&1
	wait_port "$RPORT"
}

@test "redis-server: every Accepted line carries the peer it names, every Client closed line the closing client's" {
	start_redis
	for i in 1 2 3 4 5 6; do
		run redis-cli -p "$RPORT" set "k$i" "v$i"
		assert_output OK
	done
	# Concurrent clients too.
	pids=
	for i in 1 2 3 4 5 6 7 8; do
		redis-cli -p "$RPORT" incr n >/dev/null &
		pids="$pids $!"
	done
	wait $pids
	run redis-cli -p "$RPORT" mget k1 k6 n
	assert_output $'v1\nv6\n8'
	for i in $(seq 50); do
		[ "$(grep -c 'Client closed connection' "$W/redis.out")" -ge 14 ] && break
		sleep 0.1
	done
	acc=$(grep -c ' Accepted 127' "$W/redis.out")
	[ "$acc" -ge 15 ]
	# Accepted ADDR:PORT: the decoration's peer is ADDR:PORT.
	run bash -c "grep ' Accepted 127' '$W/redis.out' | sed -n 's/.*peer=\([^] ]*\).* Accepted \([0-9.:]*\).*/\1 \2/p' | awk '\$1 == \$2' | wc -l"
	assert_output "$acc"
	closed=$(grep -c 'Client closed connection' "$W/redis.out")
	[ "$closed" -ge 14 ]
	run bash -c "grep 'Client closed connection' '$W/redis.out' | sed -n 's/.*peer=\([^] ]*\).* addr=\([0-9.:]*\) .*/\1 \2/p' | awk '\$1 == \$2' | wc -l"
	assert_output "$closed"
}

# nginx (echo, propagate, its access log decorated) in front of our
# upstream through keep-alive connections.
start_proxy() {
	rm -rf "$W/ng"
	UPPORT=$(free_port)
	: >"$W/up"
	bg timeout 120 $PY "$PROXY" upstream "$UPPORT" "$W/up"
	wait_port "$UPPORT"
	NGUPKEEP=${NGUPKEEP-1} start_nginx "$@" CTXSHIM_HTTP=1 CTXSHIM_HTTP_PROPAGATE=1 "CTXSHIM_LOG=file:$W/ng/logs/*.log"
}

@test "nginx proxy, keep-alive upstream: 300 concurrent clients without ids, each upstream request carries its access line's id" {
	start_proxy
	run timeout 100 $PY "$PROXY" burst "$NGPORT" 300
	assert_success
	for i in $(seq 50); do [ "$(grep -c ' "GET /up/' "$W/ng/logs/access.log")" -ge 300 ] && break; sleep 0.1; done
	run $PY "$PROXY" check "$W/up" "$W/ng/logs/access.log"
	assert_success
	assert_output '300 upstream requests, 300 logged, 0 mismatches'
}

@test "nginx proxy, keep-alive upstream: share and chain modes, 300 concurrent clients, 0 mismatches" {
	for mode in share chain; do
		start_proxy CTXSHIM_MODE=$mode
		run timeout 100 $PY "$PROXY" burst "$NGPORT" 300
		assert_success
		for i in $(seq 50); do [ "$(grep -c ' "GET /up/' "$W/ng/logs/access.log")" -ge 300 ] && break; sleep 0.1; done
		run $PY "$PROXY" check "$W/up" "$W/ng/logs/access.log"
		assert_success
		assert_output '300 upstream requests, 300 logged, 0 mismatches'
		for p in $PIDS; do kill "$p"; done
		for p in $PIDS; do timeout 5 tail --pid="$p" -f /dev/null; done
		PIDS=
	done
}

@test "nginx proxy, one upstream connection per request: 300 concurrent clients, each upstream request carries its access line's id" {
	NGUPKEEP= start_proxy
	run timeout 100 $PY "$PROXY" burst "$NGPORT" 300
	assert_success
	for i in $(seq 50); do [ "$(grep -c ' "GET /up/' "$W/ng/logs/access.log")" -ge 300 ] && break; sleep 0.1; done
	run $PY "$PROXY" check "$W/up" "$W/ng/logs/access.log"
	assert_success
	assert_output '300 upstream requests, 300 logged, 0 mismatches'
}

@test "nginx proxy, keep-alive upstream: 8 clients x 40 keep-alive requests with their own ids and traceparents" {
	start_proxy
	run timeout 100 $PY "$PROXY" keepalive "$NGPORT" 8 40
	assert_success
	for i in $(seq 50); do [ "$(grep -c ' "GET /up/' "$W/ng/logs/access.log")" -ge 320 ] && break; sleep 0.1; done
	run $PY "$PROXY" check "$W/up" "$W/ng/logs/access.log" own
	assert_success
	assert_output '320 upstream requests, 320 logged, 0 mismatches'
}

# lease_run HOW: net_lease_server under the shim (connections watched, its
# stderr a log) serving one connection and ending it HOW; its stderr in
# $W/lease.err.
lease_run() {
	port=$(free_port)
	bg env CTXSHIM_CONN=1 CTXSHIM_LOG=stderr LD_PRELOAD="$SHIM" timeout 20 \
		"$T/net_lease_server" "$port" "$1" 2>"$W/lease.err"
	wait_port "$port"
	echo hi | timeout 5 socat -t 2 - "TCP:127.0.0.1:$port" >/dev/null
	wait $PIDS
	cat "$W/lease.err"
}

@test "lease: accept switches to the new connection; close, shutdown, fclose, closefrom, close_range end it" {
	for how in close shutdown fclose closefrom close_range; do
		lease_run "$how"
		# The probe's connection, then the client's: each accepted line its own.
		run grep -c '^\[conn_id=[0-9a-f]\{16\} peer=127.0.0.1:[0-9]*\] accepted$' "$W/lease.err"
		assert_output 2
		run grep -c '^\[conn_id=[0-9a-f]\{16\} peer=127.0.0.1:[0-9]*\] served$' "$W/lease.err"
		assert_output 1
		run grep -x after "$W/lease.err"
		assert_success
		PIDS=
	done
}

@test "lease: a wait for events (poll or select naming a connection, epoll_wait) ends it; a zero-timeout poll does not" {
	for how in poll epoll select; do
		lease_run "$how"
		run grep -x after "$W/lease.err"
		assert_success
		PIDS=
	done
	lease_run poll0
	run grep -c '^\[conn_id=[0-9a-f]\{16\} peer=127.0.0.1:[0-9]*\] after$' "$W/lease.err"
	assert_output 1
}

@test "lease: a request's work waiting on a child's pipe alone (poll, select) keeps it" {
	for how in pollpipe selectpipe; do
		lease_run "$how"
		run grep -c '^\[conn_id=[0-9a-f]\{16\} peer=127.0.0.1:[0-9]*\] after$' "$W/lease.err"
		assert_output 1
		PIDS=
	done
}
