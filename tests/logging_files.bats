#!/usr/bin/env bats
# Logging, the file: sink: lines a program writes into files
# whose path matches CTXSHIM_LOG=file:GLOB carry its context, nothing else
# does, and an fd number reused after a log file closes is clean.
load common

NGINX_PID=

teardown() {
	if [ -n "$NGINX_PID" ]; then
		kill "$NGINX_PID" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$NGINX_PID" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$NGINX_PID" 2>/dev/null || true
	fi
}

@test "file:GLOB: fopen, open, openat, creat, freopen(stderr) logs are decorated; data.bin is not" {
	d=$BATS_TEST_TMPDIR/logs
	mkdir -p "$d"
	LD_PRELOAD=$SHIM BAGGAGE=request_id=f1 CTXSHIM_LOG='file:*.log' "$T/log_files" "$d" >/dev/null
	[ "$(cat "$d/app.log")" = "[request_id=f1] app started pid=1
[request_id=f1] app fputs
[request_id=f1] app fwrite" ]
	[ "$(cat "$d/raw.log")" = "[request_id=f1] raw write
[request_id=f1] raw writev
[request_id=f1] raw dprintf 3" ]
	[ "$(cat "$d/rel.log")" = "[request_id=f1] rel line" ]
	[ "$(cat "$d/creat.log")" = "[request_id=f1] creat line" ]
	[ "$(cat "$d/stderr.log")" = "[request_id=f1] stderr line 4" ]
	[ "$(cat "$d/data.bin")" = "data line" ]
	[ "$(cat "$d/data2.bin")" = "freopen data line" ]
}

@test "file: with a glob that matches nothing, or without a context, files are byte-identical" {
	mkdir -p "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b" "$BATS_TEST_TMPDIR/c"
	"$T/log_files" "$BATS_TEST_TMPDIR/a" >/dev/null
	LD_PRELOAD=$SHIM CTXSHIM_LOG='file:*.log' "$T/log_files" "$BATS_TEST_TMPDIR/b" >/dev/null
	LD_PRELOAD=$SHIM BAGGAGE=request_id=f1 CTXSHIM_LOG='file:/nowhere/*.log' \
		"$T/log_files" "$BATS_TEST_TMPDIR/c" >/dev/null
	diff -r "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
	diff -r "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/c"
}

@test "an fd number freed by close, fclose, freopen or closefrom carries a socket's data unchanged" {
	d=$BATS_TEST_TMPDIR/logs
	mkdir -p "$d"
	run env LD_PRELOAD="$SHIM" BAGGAGE=request_id=f1 CTXSHIM_LOG='file:*.log' "$T/log_files" "$d"
	[ "$status" -eq 0 ]
	[ "$output" = "after close: socket data
after fclose: socket data
after freopen+fclose: socket data
after closefrom: socket data" ]
	# and the lines written before each close were decorated
	[ "$(grep -c '^\[request_id=f1\] reuse ' "$d/reuse.log")" = 4 ]
}

@test "after close(2), a socket that reuses fd 2 is not treated as stderr" {
	cat >"$BATS_TEST_TMPDIR/c2.c" <<'EOF'
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>
int main(void)
{
	int sv[2];
	char buf[64];
	close(2);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0 || sv[0] != 2)
		return 1;
	if (write(2, "payload\n", 8) != 8)
		return 2;
	ssize_t n = read(sv[1], buf, sizeof buf);
	printf("%.*s", (int)n, buf);
	return 0;
}
EOF
	cc -O2 -o "$BATS_TEST_TMPDIR/c2" "$BATS_TEST_TMPDIR/c2.c"
	run env LD_PRELOAD="$SHIM" BAGGAGE=request_id=f1 "$BATS_TEST_TMPDIR/c2"
	[ "$status" -eq 0 ]
	[ "$output" = "payload" ]
}

# Start nginx under the shim with a private prefix in $BATS_TEST_TMPDIR/ng,
# logs in ng/logs; MASTER: on or off.
start_nginx() {
	local master=$1 ng=$BATS_TEST_TMPDIR/ng
	mkdir -p "$ng/logs" "$ng/tmp" "$ng/www"
	echo hello >"$ng/www/index.html"
	PORT=$(free_port)
	cat >"$ng/nginx.conf" <<EOF
daemon off;
master_process $master;
user root;
worker_processes 1;
pid $ng/nginx.pid;
error_log $ng/logs/error.log info;
events { worker_connections 64; }
http {
	access_log $ng/logs/access.log;
	client_body_temp_path $ng/tmp; proxy_temp_path $ng/tmp; fastcgi_temp_path $ng/tmp;
	uwsgi_temp_path $ng/tmp; scgi_temp_path $ng/tmp;
	server {
		listen 127.0.0.1:$PORT;
		root $ng/www;
		location /other { access_log $ng/logs/other.txt; }
	}
}
EOF
	LD_PRELOAD=$SHIM CTXSHIM_LOG="file:$ng/logs/*.log" \
		nginx -p "$ng" -c "$ng/nginx.conf" -e "$ng/logs/error.log" &
	NGINX_PID=$!
	wait_port "$PORT"
}

stop_nginx() {
	kill "$NGINX_PID"
	for _ in $(seq 50); do kill -0 "$NGINX_PID" 2>/dev/null || break; sleep 0.1; done
	NGINX_PID=
}

@test "nginx (master and worker) writes its access and error logs decorated through file:" {
	BAGGAGE=request_id=ngx1,deploy=blue start_nginx on
	for p in / /index.html /missing; do
		curl -s -o /dev/null "http://127.0.0.1:$PORT$p"
	done
	stop_nginx
	ng=$BATS_TEST_TMPDIR/ng
	run cat "$ng/logs/access.log"
	[ "${#lines[@]}" -eq 3 ]
	assert_line --index 0 --regexp '^\[request_id=ngx1 deploy=blue\] 127\.0\.0\.1 - - \[[^]]+\] "GET / HTTP/1\.1" 200 6 "-" "curl/[0-9.]+"$'
	assert_line --index 2 --regexp '^\[request_id=ngx1 deploy=blue\] 127\.0\.0\.1 .* "GET /missing HTTP/1\.1" 404 '
	# the error log: every line decorated once, master's and worker's
	run grep -c -v -E '^\[request_id=ngx1 deploy=blue\] 20[0-9/]{8} [0-9:]{8} \[[a-z]+\] ' "$ng/logs/error.log"
	[ "$output" = 0 ]
	run cat "$ng/logs/error.log"
	assert_output --partial 'open() "'"$ng"'/www/missing" failed'
	assert_output --partial "start worker process"
}

@test "nginx without master process: a log outside the glob is untouched" {
	BAGGAGE=request_id=ngx2 start_nginx off
	curl -s -o /dev/null "http://127.0.0.1:$PORT/"
	curl -s -o /dev/null "http://127.0.0.1:$PORT/other"
	stop_nginx
	ng=$BATS_TEST_TMPDIR/ng
	run cat "$ng/logs/access.log"
	assert_output --regexp '^\[request_id=ngx2\] 127\.0\.0\.1 - - .*"GET / HTTP/1\.1" 200 '
	run cat "$ng/logs/other.txt"
	assert_output --regexp '^127\.0\.0\.1 - - .*"GET /other HTTP/1\.1" 404 '
}

@test "nginx with an empty context writes its logs undecorated" {
	start_nginx on
	curl -s -o /dev/null "http://127.0.0.1:$PORT/"
	stop_nginx
	run cat "$BATS_TEST_TMPDIR/ng/logs/access.log"
	assert_output --regexp '^127\.0\.0\.1 - - \[[^]]+\] "GET / HTTP/1\.1" 200 6 '
	refute_output --partial '['"request_id"
}
