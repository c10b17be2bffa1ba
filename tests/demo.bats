#!/usr/bin/env bats
# make demo: the bundled program, then real servers from
# Debian (nginx in front of python3 http.server running a CGI script) under
# ctxrun; per request the echoed id, python's log line and the CGI child agree.
load common

setup() {
	W=$(mktemp -d)
	chmod 755 "$W"    # the CGI script runs as nobody when root
}

teardown() {
	# Whatever a failed run left (its servers): this test started them.
	local p
	for p in $(procs_in "$W" | cut -d: -f1); do
		kill "$p" 2>/dev/null
	done
	rm -rf "$W"
}

# Processes whose command line names $1 or whose working directory is under
# it (python's http.server names neither its directory nor its CGI scripts).
procs_in() {
	local p c
	for p in /proc/[0-9]*; do
		c=$( { tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null) || continue
		case "$c $(readlink "$p/cwd" 2>/dev/null)/" in
		*"$1"*) echo "${p#/proc/}: $c" ;;
		esac
	done
}

@test "make demo's server part: per request the echoed id, the server's log line and the CGI child's id agree; it cleans up" {
	run env TMPDIR="$W" timeout 60 "$ROOT/scripts/demo"
	assert_success
	# The bundled part is still there.
	assert_line --partial "worker 0's child process: request_id=demo-42 request_path=/demo"
	# One row per request: request N, echoed, logged, seen by the child.
	r1=$(grep '^request 1 ' <<<"$output")
	r2=$(grep '^request 2 ' <<<"$output")
	read -r _ _ e1 l1 c1 _ <<<"$r1"
	read -r _ _ e2 l2 c2 _ <<<"$r2"
	assert_equal "$e1 $l1 $c1" "demo-client-1 demo-client-1 demo-client-1"
	[[ $e2 =~ ^[0-9a-f]{32}$ ]] || fail "request 2's id: '$e2'"
	assert_equal "$l2 $c2" "$e2 $e2"
	# The lines behind the table carry the same ids.
	assert_line --regexp "^  python's stderr:  \\[request_id=$e2 .*\"GET /cgi-bin/whoami\\?n=2 HTTP/1.0\" 200"
	assert_line --regexp "^  CGI's stderr:     \\[request_id=demo-client-1 .*\\] whoami: handling n=1\$"
	assert_line --regexp "^  nginx access.log: \\[request_id=demo-client-1 .*\"GET /cgi-bin/whoami\\?n=1 HTTP/1.1\" 200"
	# Nothing left behind: no directory, no process.
	assert_equal "$(ls -A "$W")" ""
	run procs_in "$W/ctxshim-demo"
	assert_output ""
}

@test "make demo's server part interrupted (Ctrl-C while a request is in flight): servers stopped, directory removed" {
	# A curl that hangs, so the interrupt lands mid-demo.
	mkdir "$W/bin"
	printf '#!/bin/sh\ntouch %s/in-curl\nexec sleep 30\n' "$W" >"$W/bin/curl"
	chmod 755 "$W/bin/curl"
	# Its own process group, with SIGINT at its default as in a terminal (a
	# background job of a script starts with it ignored).
	PATH="$W/bin:$PATH" TMPDIR="$W" /usr/bin/python3 -c '
import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.setpgid(0, 0)
open(sys.argv[1] + "/pgid", "w").write(str(os.getpid()))
os.execv(sys.argv[2], sys.argv[2:])' "$W" "$ROOT/scripts/demo-server" >"$W/out" 2>&1 &
	pid=$!
	for i in $(seq 100); do [ -e "$W/in-curl" ] && break; sleep 0.1; done
	[ -e "$W/in-curl" ] || fail "the demo never reached its first request: $(cat "$W/out")"
	d=$(ls -d "$W"/ctxshim-demo.*)
	run procs_in "$d"
	assert_line --partial "nginx: master"
	assert_line --partial "http.server --cgi"
	kill -INT -- -"$(cat "$W/pgid")"    # what the terminal does on Ctrl-C
	run timeout 20 tail --pid="$pid" -f /dev/null
	assert_success
	wait "$pid" || rc=$?
	assert_equal "${rc:-0}" 130
	[ ! -e "$d" ] || fail "$d was left behind"
	run procs_in "$d"
	assert_output ""
}

@test "make demo's server part read through head (its output pipe closes early): servers stopped, directory removed" {
	first=$(TMPDIR="$W" timeout 60 "$ROOT/scripts/demo-server" | head -n 1)
	[[ $first == '$ ctxrun '* ]] || fail "the demo did not start: '$first'"
	d=$(ls -d "$W"/ctxshim-demo.* 2>/dev/null) && fail "$d was left behind"
	run procs_in "$W/ctxshim-demo"
	assert_output ""
}
