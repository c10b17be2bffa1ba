# 40-requests.sh: issue 4, connections and HTTP requests.
#   nginx serving a small file to wrk (keep-alive, 64 connections): with the
#   shim and echo on vs without the shim, alternating runs, medians.
#   ns per read() on a socket that is not HTTP, with vs without the shim.
#   ns per epoll_wait()/poll() with vs without the shim (the lease check).
. "$(dirname "$0")/../bench-lib.sh"
echo "requests (issue 4)"

WRK_SECS=${WRK_SECS:-3}
NRUNS=${NGINX_RUNS:-9}
d=$(mktemp -d)
pids=
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	for p in $pids; do timeout 5 tail --pid="$p" -f /dev/null 2>/dev/null; done
	rm -rf "$d"
}
trap cleanup EXIT INT TERM

port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# nginx NAME PORT ENV...: one nginx with its own prefix under $d/NAME.
nginx_up() {
	name=$1 p=$2
	shift 2
	mkdir -p "$d/$name/logs" "$d/$name/html" "$d/$name/tmp"
	printf 'hello from nginx\n' >"$d/$name/html/index.html"
	cat >"$d/$name/nginx.conf" <<EOF2
daemon off;
user root;
worker_processes 1;
pid $d/$name/nginx.pid;
error_log $d/$name/logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log $d/$name/logs/access.log;
  client_body_temp_path $d/$name/tmp;
  proxy_temp_path $d/$name/tmp;
  fastcgi_temp_path $d/$name/tmp;
  uwsgi_temp_path $d/$name/tmp;
  scgi_temp_path $d/$name/tmp;
  sendfile on;
  keepalive_requests 1000000;
  server { listen 127.0.0.1:$p; root $d/$name/html; }
}
EOF2
	env "$@" nginx -p "$d/$name" -c "$d/$name/nginx.conf" -e "$d/$name/logs/error.log" &
	pids="$pids $!"
	eval "master_$name=$!"
	for i in $(seq 50); do
		curl -s -o /dev/null "http://127.0.0.1:$p/" && return 0
		sleep 0.1
	done
	echo "  nginx ($name) did not start" >&2
	return 1
}

# cpu NAME: CPU time (user + system, clock ticks) used so far by NAME's worker.
cpu() {
	eval "m=\$master_$1"
	w=$(pgrep -P "$m" | head -n 1)
	awk '{ print $14 + $15 }' "/proc/$w/stat"
}

# wrk_run NAME PORT: "requests/s p99-in-microseconds worker-CPU-us-per-request"
wrk_run() {
	c0=$(cpu "$1")
	out=$(wrk -t1 -c64 -d"${WRK_SECS}s" --latency "http://127.0.0.1:$2/index.html" 2>/dev/null)
	c1=$(cpu "$1")
	echo "$out" | awk -v c="$((c1 - c0))" -v hz="$(getconf CLK_TCK)" '
		/Requests\/sec/ { rps = $2 }
		/requests in/ { n = $1 }
		$1 == "99%" { v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
			m = (u == "us") ? 1 : (u == "ms") ? 1000 : (u == "s") ? 1000000 : 1;
			p99 = v * m }
		END { printf "%s %s %.3f\n", rps, p99, (n > 0 ? c * 1e6 / hz / n : 0) }'
}

ratio_row() {
	awk -v l="$1" -v a="$2" -v b="$3" 'BEGIN {
		printf "  %-52s without %10.0f  with %10.0f  ratio %.3fx\n", l, a, b, (a > 0 ? b / a : 0) }'
}

if command -v nginx >/dev/null && command -v wrk >/dev/null; then
	pa=$(port); pb=$(port); pc=$(port)
	nginx_up plain "$pa" &&
	nginx_up shim "$pb" CTXSHIM_HTTP_ECHO=1 LD_PRELOAD="$SHIM" &&
	nginx_up logged "$pc" CTXSHIM_HTTP_ECHO=1 "CTXSHIM_LOG=file:$d/logged/logs/access.log" LD_PRELOAD="$SHIM"
	# The shim's nginx really echoes, and the third one decorates its log.
	curl -si "http://127.0.0.1:$pb/" | grep -qi '^x-request-id' ||
		echo "  (warning: no X-Request-ID from the shim's nginx)"
	curl -s -o /dev/null "http://127.0.0.1:$pc/"
	sleep 0.2
	grep -q '^\[request_id=' "$d/logged/logs/access.log" ||
		echo "  (warning: the access log is not decorated)"
	wrk_run plain "$pa" >/dev/null; wrk_run shim "$pb" >/dev/null; wrk_run logged "$pc" >/dev/null
	for i in $(seq "$NRUNS"); do
		wrk_run plain "$pa" >>"$d/a"
		wrk_run shim "$pb" >>"$d/b"
		wrk_run logged "$pc" >>"$d/c"
	done
	ra=$(cut -d' ' -f1 "$d/a" | median); rb=$(cut -d' ' -f1 "$d/b" | median); rc=$(cut -d' ' -f1 "$d/c" | median)
	la=$(cut -d' ' -f2 "$d/a" | median); lb=$(cut -d' ' -f2 "$d/b" | median); lc=$(cut -d' ' -f2 "$d/c" | median)
	ca=$(cut -d' ' -f3 "$d/a" | median); cb=$(cut -d' ' -f3 "$d/b" | median); cc=$(cut -d' ' -f3 "$d/c" | median)
	ratio_row "nginx+wrk -c64 keep-alive, echo on: requests/s" "$ra" "$rb"
	ratio_row "nginx+wrk -c64 keep-alive, echo on: p99 latency us" "$la" "$lb"
	awk -v l="  worker CPU per request, ns" -v a="$ca" -v b="$cb" 'BEGIN {
		printf "  %-52s without %10.0f  with %10.0f  ratio %.3fx\n", l, a * 1000, b * 1000, (a > 0 ? b / a : 0) }'
	ratio_row "  + access log decorated (file:): requests/s" "$ra" "$rc"
	ratio_row "  + access log decorated (file:): p99 latency us" "$la" "$lc"
	awk -v l="  + access log decorated: worker CPU per request, ns" -v a="$ca" -v b="$cc" 'BEGIN {
		printf "  %-52s without %10.0f  with %10.0f  ratio %.3fx\n", l, a * 1000, b * 1000, (a > 0 ? b / a : 0) }'
	row "(runs of ${WRK_SECS}s, alternating, medians of)" "$NRUNS" "each"
else
	row "nginx+wrk" "skipped:" "nginx or wrk missing"
fi

ab "read() 16 B, socket not watched (client side): ns" CTXSHIM_HTTP_ECHO=1 -- "$BENCH/net_read" client
ab "read() 16 B, accepted conn, not HTTP (CONN on): ns" CTXSHIM_CONN=1 -- "$BENCH/net_read" accepted
ab "read() 16 B, accepted conn, not HTTP (echo on): ns" CTXSHIM_HTTP_ECHO=1 -- "$BENCH/net_read" accepted
# Issue 9: the lease check added to the wait calls (a thread holding no lease).
ab "epoll_wait(), 0 timeout, 1 ready fd, no lease: ns" CTXSHIM_HTTP=1 -- "$BENCH/net_wait" epoll0
ab "epoll_wait(), 1 s timeout, fd ready, no lease: ns" CTXSHIM_HTTP=1 -- "$BENCH/net_wait" epoll
ab "poll(), 1 s timeout, fd ready, no lease: ns" CTXSHIM_HTTP=1 -- "$BENCH/net_wait" poll
