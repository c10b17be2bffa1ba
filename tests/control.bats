#!/usr/bin/env bats
# Control from outside: each process run with CTXSHIM_CONTROL=1 opens
# a private endpoint; scripts/ctxctl lists processes, shows their threads and
# contexts, and sets process-wide entries.  Real programs throughout.
load common

CTXCTL=$ROOT/scripts/ctxctl

setup() {
	# A short private directory (sun_path is 108 bytes), 0700 from mktemp.
	CTXSHIM_CONTROL_DIR=$(mktemp -d /tmp/ctl.XXXXXX)
	export CTXSHIM_CONTROL_DIR
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
	rm -rf "$W" "$CTXSHIM_CONTROL_DIR"
}

# bg CMD...: start CMD in the background (stdout $W/out, stderr $W/err),
# killed in teardown; its pid in $BG.
bg() {
	"$@" >"$W/out" 2>"$W/err" &
	BG=$!
	PIDS="$PIDS $BG"
}

# until_ok SECS CMD...: retry CMD every 0.1 s until it succeeds (bounded).
until_ok() {
	local n=$(($1 * 10)) i
	shift
	for i in $(seq "$n"); do
		"$@" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "timed out: $*" >&2
	return 1
}

sock_of() {
	echo "$CTXSHIM_CONTROL_DIR/$1.sock"
}

has_sock() {
	[ -S "$(sock_of "$1")" ]
}

has_line() {
	grep -q -- "$2" "$1"
}

# count_is FILE PATTERN N: FILE has N lines matching PATTERN.
count_is() {
	[ "$(grep -c -- "$2" "$1")" = "$3" ]
}

# lines_over FILE N: FILE has more than N lines.
lines_over() {
	[ "$(wc -l <"$1")" -gt "$2" ]
}

# workers N [COMMAND]: tests/progs/ctl_workers under ctxrun --control.
workers() {
	bg "$CTXRUN" --control -s tenant=acme -- "$T/ctl_workers" "$@"
	until_ok 10 has_line "$W/out" ready
	until_ok 5 has_sock "$BG"
}

# A pid that is certainly not running.
dead_pid() {
	sh -c 'echo $$'
}

# A socket file at PATH that nobody listens on (what a killed process leaves).
stale_socket() {
	python3 -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$1"
}

# ---- off by default -------------------------------------------------------------

@test "control off: no thread is started, no socket created or listened on" {
	bg env LD_PRELOAD="$SHIM" "$T/ctl_workers" 3
	until_ok 10 has_line "$W/out" ready
	assert_equal "$(ls /proc/$BG/task | wc -l)" 4
	run ls -A "$CTXSHIM_CONTROL_DIR"
	assert_output ""
	run sh -c "ls -l /proc/$BG/fd | grep -c socket"
	assert_output 0
	run "$CTXCTL" "$BG" threads
	assert_failure 1
	assert_output --partial "has no control endpoint"
}

@test "ctxctl: --help, bad usage exits 2 with a hint, a missing process or endpoint exits 1" {
	run "$CTXCTL" --help
	assert_success
	assert_line --index 0 --partial "usage: ctxctl"
	for args in "" "foo" "123" "123 bogus" "123 set a" "123 unset bad=key" "--bogus list" \
		"list extra" "--timeout x list" "123 threads extra"; do
		run "$CTXCTL" $args
		assert_failure 2
		assert_line --index 1 "Try 'ctxctl --help'."
	done
	run "$CTXCTL" "$(dead_pid)" get
	assert_failure 1
	assert_output --regexp '^ctxctl: no such process: [0-9]+$'
	bg sleep 30
	run "$CTXCTL" "$BG" threads
	assert_failure 1
	assert_output "ctxctl: process $BG has no control endpoint (start it with CTXSHIM_CONTROL=1 or ctxrun --control)"
}

# ---- threads, set, unset, children -------------------------------------------------

@test "threads: every worker is listed with its own request_id, its parent and age" {
	workers 4
	run "$CTXCTL" "$BG" threads
	assert_success
	for i in 1 2 3 4; do
		assert_line --regexp "^[0-9]+ +ctl_workers +$BG +[0-9.]+s +request_id=req-$i tenant=acme\$"
	done
	assert_line --regexp "^$BG +ctl_workers +- +[0-9.]+s +tenant=acme\$"
	assert_line --partial "ctxshim-ctl [ctxshim control]"
	run "$CTXCTL" --json "$BG" threads
	assert_success
	run jq -r '.threads[] | select(.known and .main == false) | .context.request_id' <<<"$output"
	assert_equal "$(sort <<<"$output" | tr '\n' ' ')" "req-1 req-2 req-3 req-4 "
	# The tids are the kernel's: each is a task of the process.
	for t in $("$CTXCTL" --json "$BG" threads | jq -r '.threads[].tid'); do
		[ -d "/proc/$BG/task/$t" ]
	done
}

@test "set: threads read incident through, children started afterwards inherit it; unset: gone" {
	workers 3 "{ $CTXRUN --get incident || echo '(unset)'; echo \"\$BAGGAGE\"; } >>$W/child"
	run "$CTXCTL" "$BG" set incident=INC-42 'note=a b,c'
	assert_success
	assert_output $'incident=INC-42\nnote=a b,c'
	run "$CTXCTL" "$BG" get
	assert_output $'incident=INC-42\nnote=a b,c'
	# Every thread's context reads through the process-wide layer...
	run "$CTXCTL" --json "$BG" threads
	run jq -r '[.threads[] | select(.known) | .context.incident] | unique | join(" ")' <<<"$output"
	assert_output "INC-42"
	# ...and a process started now inherits it.
	kill -USR1 "$BG"
	until_ok 5 has_line "$W/out" spawned
	assert_equal "$(sed -n 1p "$W/child")" "INC-42"
	assert_equal "$(sed -n 2p "$W/child")" "tenant=acme,incident=INC-42,note=a%20b%2Cc"
	run "$CTXCTL" "$BG" unset incident note
	assert_success
	assert_output "(no process-wide entries)"
	kill -USR1 "$BG"
	until_ok 5 count_is "$W/out" spawned 2
	assert_equal "$(sed -n 3p "$W/child")" "(unset)"
	assert_equal "$(sed -n 4p "$W/child")" "tenant=acme"
}

# since_mark FILE MARK: the lines of FILE after line MARK, less the first 8
# (a worker may have put together its line just before the change).
since_mark() {
	tail -n +"$(($2 + 9))" "$1"
}

# each_worker_logged FILE MARK N PATTERN: after MARK, every worker 1..N has
# a line matching PATTERN (@ stands for the worker's number).
each_worker_logged() {
	local i
	for i in $(seq "$3"); do
		since_mark "$1" "$2" | grep -q -- "${4//@/$i}" || return 1
	done
}

@test "log lines: after set incident=INC-42 each thread's lines carry it through {incident}; after unset they do not" {
	export CTXSHIM_LOG=stderr CTXSHIM_LOG_FORMAT='[{request_id}] [{incident}] {message}'
	workers 3
	until_ok 5 each_worker_logged "$W/err" 0 3 '^\[req-@\] \[\] worker @ tick$'
	run "$CTXCTL" "$BG" set incident=INC-42
	assert_success
	mark=$(wc -l <"$W/err")
	until_ok 5 each_worker_logged "$W/err" "$mark" 3 '^\[req-@\] \[INC-42\] worker @ tick$'
	# Once the change is seen, every line has it.
	sleep 0.3
	run sh -c "tail -n +$((mark + 9)) '$W/err' | grep -v 'INC-42'"
	assert_output ""
	run "$CTXCTL" "$BG" unset incident
	assert_success
	mark=$(wc -l <"$W/err")
	until_ok 5 each_worker_logged "$W/err" "$mark" 3 '^\[req-@\] \[\] worker @ tick$'
	sleep 0.3
	run sh -c "tail -n +$((mark + 9)) '$W/err' | grep 'INC-42'"
	assert_output ""
}

@test "log lines in the default format show process-wide entries after the thread's own" {
	export CTXSHIM_LOG=stderr
	workers 2
	"$CTXCTL" "$BG" set incident=INC-42 >/dev/null
	mark=$(wc -l <"$W/err")
	until_ok 5 each_worker_logged "$W/err" "$mark" 2 \
		'^\[request_id=req-@ tenant=acme incident=INC-42\] worker @ tick$'
}

@test "threads and set in chain and share modes" {
	for m in chain share; do
		bg env CTXSHIM_MODE=$m "$CTXRUN" --control -s tenant=acme -- "$T/ctl_workers" 3
		until_ok 10 has_line "$W/out" ready
		until_ok 5 has_sock "$BG"
		"$CTXCTL" "$BG" set incident=INC-9 >/dev/null
		run "$CTXCTL" --json "$BG" threads
		assert_success
		run jq -r '[.threads[] | select(.known) | "\(.context.tenant)/\(.context.incident)"] | unique | join(" ")' <<<"$output"
		assert_output "acme/INC-9"
		run "$CTXCTL" --json "$BG" threads
		ids=$(jq -r '[.threads[] | select(.known and .main == false) | .context.request_id] | sort | unique | join(" ")' <<<"$output")
		if [ $m = chain ]; then
			assert_equal "$ids" "req-1 req-2 req-3"
		else
			# share: one map for all; the last worker's write is everyone's
			[[ "$ids" =~ ^req-[123]$ ]]
		fi
		kill "$BG"
		wait "$BG" || true
	done
}

@test "a thread's own value wins over the process-wide one" {
	workers 2
	"$CTXCTL" "$BG" set request_id=global-id tenant=other >/dev/null
	run "$CTXCTL" --json "$BG" threads
	run jq -r '.threads[] | select(.known) | "\(.context.request_id) \(.context.tenant)"' <<<"$output"
	assert_equal "$(sort <<<"$output" | tr '\n' ' ')" "global-id acme req-1 acme req-2 acme "
}

@test "set and unset refuse bad keys and values without changing anything" {
	workers 1
	run "$CTXCTL" "$BG" set 'bad key=1'
	assert_failure 2
	assert_output --partial "invalid key"
	run "$CTXCTL" "$BG" set novalue
	assert_failure 2
	run "$CTXCTL" "$BG" set "big=$(head -c 4097 /dev/zero | tr '\0' x)"
	assert_failure 2
	# Past ctxctl's own checks, the process refuses the whole request.
	run python3 - "$(sock_of "$BG")" <<-'EOF'
		import socket, sys
		s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
		s.sendall(b"set good=1,b%ad=2\n"); print(s.recv(4096).decode().strip())
	EOF
	assert_output --partial '"ok":false'
	run "$CTXCTL" "$BG" get
	assert_output "(no process-wide entries)"
	run "$CTXCTL" "$BG" set "v=$(printf 'tab\there é\001')"
	assert_success
	run "$CTXCTL" --json "$BG" get
	assert_equal "$(jq -r .global.v <<<"$output")" "$(printf 'tab\there é\001')"
}

@test "spawn sites: with CTXSHIM_TRACE_SPAWN=1 each thread shows where it was started" {
	bg env CTXSHIM_TRACE_SPAWN=1 "$CTXRUN" --control -- "$T/ctl_workers" 2
	until_ok 10 has_line "$W/out" ready
	until_ok 5 has_sock "$BG"
	run "$CTXCTL" "$BG" threads
	assert_success
	assert_line --regexp "^thread [0-9]+ started at:$"
	assert_line --regexp "^    0x[0-9a-f]+$"
	refute_output --partial "start_workers"
	run "$CTXCTL" "$BG" threads --symbols
	assert_success
	# The first frame is the program's call site, not the shim's hook.
	run sh -c "\"$CTXCTL\" $BG threads --symbols | grep -A1 'started at:' | grep -v 'started at' | grep -v '^--'"
	assert_line --regexp "^    start_workers .*ctl_workers"
	refute_output --partial "libctxshim"
	run "$CTXCTL" --json "$BG" threads --symbols
	run jq -r '.threads[] | select(.spawn) | .spawn[] | .symbol // empty' <<<"$output"
	assert_line "__libc_start_main"
}

@test "without CTXSHIM_TRACE_SPAWN no spawn site is kept" {
	workers 1
	run "$CTXCTL" --json "$BG" threads
	assert_equal "$(jq '[.threads[] | select(.spawn)] | length' <<<"$output")" 0
	assert_equal "$(jq .trace_spawn <<<"$output")" false
}

# ---- list ------------------------------------------------------------------------

@test "list: processes with control on, with pid, uptime and program" {
	workers 2
	w=$BG
	bg "$CTXRUN" --control -- sleep 30
	until_ok 5 has_sock "$BG"
	run "$CTXCTL" list
	assert_success
	assert_line --index 0 --regexp "^PID +UPTIME +THREADS +PROGRAM$"
	assert_line --regexp "^$w +[0-9.]+s +4 +.*ctl_workers 2$"
	assert_line --regexp "^$BG +[0-9.]+s +2 +sleep 30$"
	run "$CTXCTL" --json list
	assert_equal "$(jq '.processes | length' <<<"$output")" 2
}

# ---- access ------------------------------------------------------------------------

@test "another user is refused, at the directory and by SO_PEERCRED; the process is unaffected" {
	workers 2
	nobody="setpriv --reuid=nobody --regid=nogroup --clear-groups"
	wd=$(world_dir)          # ctxctl where nobody can read it
	run $nobody "$wd/ctxctl" "$BG" set incident=evil
	assert_failure 1
	assert_output --partial "permission denied"
	# With CAP_DAC_OVERRIDE the modes no longer stop it: the process
	# checks the peer's uid itself.
	run $nobody --inh-caps=+dac_override --ambient-caps=+dac_override "$wd/ctxctl" "$BG" set incident=evil
	assert_failure 1
	assert_output --partial "permission denied: uid 65534 may not control process $BG"
	run $nobody --inh-caps=+dac_override --ambient-caps=+dac_override "$wd/ctxctl" "$BG" threads
	rm -rf "$wd"
	assert_failure 1
	run "$CTXCTL" "$BG" get
	assert_success
	assert_output "(no process-wide entries)"
	run "$CTXCTL" "$BG" threads
	assert_line --partial "request_id=req-2"
	kill -0 "$BG"
	# Modes: directory 0700, socket 0600, both root's.
	assert_equal "$(stat -c %a:%u "$CTXSHIM_CONTROL_DIR")" "700:0"
	assert_equal "$(stat -c %a:%u "$(sock_of "$BG")")" "600:0"
}

@test "a directory that is a symlink or open to others is not used" {
	d=$(mktemp -d)
	chmod 755 "$d"
	run env CTXSHIM_CONTROL_DIR="$d" CTXSHIM_CONTROL=1 LD_PRELOAD="$SHIM" sh -c 'echo ran'
	assert_success
	assert_line "ran"
	assert_line --partial "ctxshim: CTXSHIM_CONTROL: no control endpoint"
	assert_equal "$(ls -A "$d")" ""
	chmod 700 "$d"
	ln -s "$d" "$W/link"
	run env CTXSHIM_CONTROL_DIR="$W/link" CTXSHIM_CONTROL=1 LD_PRELOAD="$SHIM" sh -c 'echo ran'
	assert_line "ran"
	assert_line --partial "no control endpoint"
	assert_equal "$(ls -A "$d")" ""
	rm -rf "$d"
}

# ---- hostile and broken clients ------------------------------------------------------

@test "garbage, oversize and half-open requests get an error or are dropped; the process carries on" {
	workers 2
	run timeout 20 python3 - "$(sock_of "$BG")" <<-'EOF'
		import socket, sys, time
		path = sys.argv[1]
		def conn():
		    s = socket.socket(socket.AF_UNIX); s.settimeout(8); s.connect(path); return s
		def answer(s):
		    data = b""
		    while not data.endswith(b"\n"):
		        c = s.recv(65536)
		        if not c: break
		        data += c
		    return data.decode("utf-8", "replace").strip()
		# Binary garbage, and a NUL byte.
		s = conn(); s.sendall(bytes(range(1, 256)) + b"\n"); print("garbage:", answer(s))
		s = conn(); s.sendall(b"get\0\n"); print("nul:", answer(s))
		# Unknown verb, empty line.
		s = conn(); s.sendall(b"rm -rf /\n"); print("unknown:", answer(s))
		s = conn(); s.sendall(b"\n"); print("empty:", answer(s))
		# Oversize: 1 MiB without a newline.
		s = conn()
		try: s.sendall(b"x" * (1 << 20))
		except OSError: pass
		print("oversize:", answer(s))
		# Half-open: part of a request, then silence.  The process closes it.
		h = [conn() for _ in range(10)]
		for x in h: x.sendall(b"thr")
		# Meanwhile other clients are served at once.
		t = time.time(); s = conn(); s.sendall(b"get\n"); a = answer(s)
		print("served meanwhile: %s in %.1fs" % (a[:11], time.time() - t))
		t = time.time()
		closed = sum(1 for x in h if x.recv(10) == b"")
		print("half-open closed: %d after %.0fs" % (closed, time.time() - t))
		# Request sent, write side shut: answered.
		s = conn(); s.sendall(b"info"); s.shutdown(socket.SHUT_WR); print("shut:", answer(s)[:11])
		# Connect and vanish; connect and close at once.
		for _ in range(20):
		    s = conn(); s.close()
		s = conn(); s.sendall(b"threads\n"); s.close()
		print("done")
	EOF
	assert_success
	assert_line --partial 'garbage: {"ok":false,"error":"request is not printable ASCII"}'
	assert_line --partial 'nul: {"ok":false,"error":"request holds a NUL byte"}'
	assert_line --partial 'unknown: {"ok":false,"error":"unknown request'
	assert_line --partial 'empty: {"ok":false,"error":"empty request"}'
	assert_line --partial 'oversize: {"ok":false,"error":"request too large'
	assert_line --regexp '^served meanwhile: \{"ok":true, in 0\.[0-9]s$'
	assert_line --regexp '^half-open closed: 10 after [1-4]s$'
	assert_line 'shut: {"ok":true,'
	assert_line done
	# The process still runs, its workers still log, it still answers.
	kill -0 "$BG"
	n=$(wc -l <"$W/err")
	until_ok 5 lines_over "$W/err" "$n"
	run "$CTXCTL" "$BG" threads
	assert_success
	assert_line --partial "request_id=req-1"
}

@test "50 concurrent ctxctl clients are all answered" {
	workers 4
	clients=
	for i in $(seq 50); do
		case $((i % 3)) in
		0) "$CTXCTL" --timeout 20 "$BG" set "k$i=v$i" >"$W/c$i" 2>&1 & ;;
		1) "$CTXCTL" --timeout 20 --json "$BG" threads >"$W/c$i" 2>&1 & ;;
		2) "$CTXCTL" --timeout 20 --json "$BG" get >"$W/c$i" 2>&1 & ;;
		esac
		clients="$clients $!"
	done
	# Each ctxctl gives up after 20 s: this wait is bounded.
	wait $clients
	ok=0
	for i in $(seq 50); do
		if [ $((i % 3)) = 0 ]; then grep -q "^k$i=v$i$" "$W/c$i" && ok=$((ok + 1))
		else jq -e .ok "$W/c$i" >/dev/null && ok=$((ok + 1)); fi
	done
	assert_equal "$ok" 50
	run "$CTXCTL" --json "$BG" get
	assert_equal "$(jq '.global | length' <<<"$output")" 16
}

@test "signals still reach the program's threads (the listener blocks them all)" {
	workers 2
	for i in $(seq 10); do
		kill -USR1 "$BG"
		until_ok 5 count_is "$W/out" spawned "$i"
	done
	kill -0 "$BG"
	kill -TERM "$BG"
	timeout 5 tail --pid="$BG" -f /dev/null
	assert_equal "$(tail -n1 "$W/err")" "[tenant=acme] main exits"
}

@test "a program closing every fd it does not know of gets nothing of ours; the endpoint comes back" {
	bg env CTXSHIM_CONTROL=1 LD_PRELOAD="$SHIM" "$T/ctl_closefrom" 6
	until_ok 5 has_line "$W/out" closed
	until_ok 5 "$CTXCTL" "$BG" get
	run "$CTXCTL" "$BG" set after=close
	assert_success
	timeout 10 tail --pid="$BG" -f /dev/null
	wait "$BG"
	refute_line CORRUPT
	run grep -c '^ok ' "$W/out"
	[ "$output" -gt 10 ]
}

# ---- stale sockets, exit, fork -----------------------------------------------------

@test "exit: the owner removes its socket; a killed process's socket is removed by list and by the next start" {
	workers 1
	p=$BG
	kill -TERM "$p"
	timeout 5 tail --pid="$p" -f /dev/null
	run has_sock "$p"
	assert_failure
	# SIGKILL runs nothing: the socket stays, but says nothing of a live pid.
	bg env CTXSHIM_CONTROL=1 LD_PRELOAD="$SHIM" sleep 30
	until_ok 5 has_sock "$BG"
	kill -9 "$BG"
	wait "$BG" || true
	has_sock "$BG"
	run "$CTXCTL" "$BG" get
	assert_failure 1
	assert_output "ctxctl: no such process: $BG (its stale socket was removed)"
	run has_sock "$BG"
	assert_failure
	# Again, for list.
	bg env CTXSHIM_CONTROL=1 LD_PRELOAD="$SHIM" sleep 30
	until_ok 5 has_sock "$BG"
	kill -9 "$BG"
	wait "$BG" || true
	has_sock "$BG"
	run "$CTXCTL" list
	assert_success
	assert_output "no process with control on"
	run has_sock "$BG"
	assert_failure
	# The next process to start sweeps what dead ones left.
	d=$(dead_pid)
	stale_socket "$(sock_of "$d")"
	touch "$CTXSHIM_CONTROL_DIR/.$d.0123.tmp"
	run env CTXSHIM_CONTROL=1 LD_PRELOAD="$SHIM" true
	assert_equal "$(ls -A "$CTXSHIM_CONTROL_DIR")" ""
}

@test "a socket left under a pid now used by another process does not confuse anyone" {
	# A process not under control has a pid a killed one once had.
	bg sleep 30
	stale_socket "$(sock_of "$BG")"
	run "$CTXCTL" "$BG" get
	assert_failure 1
	assert_output --partial "has no control endpoint (a stale socket was removed)"
	run has_sock "$BG"
	assert_failure
	stale_socket "$(sock_of "$BG")"
	run "$CTXCTL" list
	assert_output "no process with control on"
	run has_sock "$BG"
	assert_failure
	# A process under control that gets the pid replaces the leftover: the
	# shell makes the stale socket under its own pid, then execs into it.
	bg sh -c 'python3 -c "import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])" \
		"$CTXSHIM_CONTROL_DIR/$$.sock"; exec env CTXSHIM_CONTROL=1 LD_PRELOAD="$0" "$1" 2' \
		"$SHIM" "$T/ctl_workers"
	until_ok 10 has_line "$W/out" ready
	run "$CTXCTL" "$BG" threads
	assert_success
	assert_line --partial "request_id=req-2"
}

@test "fork: the child gets an endpoint of its own and removes only its own at exit" {
	bg env CTXSHIM_CONTROL=1 LD_PRELOAD="$SHIM" "$T/ctl_forker" "$W/go"
	until_ok 5 has_line "$W/out" child
	parent=$BG
	child=$(sed -n 's/^child //p' "$W/out")
	[ "$child" != "$parent" ]
	until_ok 5 has_sock "$child"
	run "$CTXCTL" --json "$child" threads
	assert_success
	assert_equal "$(jq .pid <<<"$output")" "$child"
	assert_equal "$(jq '[.threads[] | select(.known)] | length' <<<"$output")" 1
	run "$CTXCTL" --json "$parent" get
	assert_equal "$(jq .pid <<<"$output")" "$parent"
	# The child holds no fd of its parent's endpoint.
	run python3 "$BATS_TEST_DIRNAME/control_fds.py" "$child" "$CTXSHIM_CONTROL_DIR"
	assert_output "$child"
	touch "$W/go"
	until_ok 5 has_line "$W/out" "child done"
	run has_sock "$child"
	assert_failure
	has_sock "$parent"
	run "$CTXCTL" "$parent" get
	assert_success
}

@test "daemon(3): the daemonized process is reachable by its own pid" {
	bg env CTXSHIM_CONTROL=1 LD_PRELOAD="$SHIM" "$T/ctl_forker" "$W/go" daemon
	until_ok 5 has_line "$W/out" daemon
	d=$(sed -n 's/^daemon //p' "$W/out")
	PIDS="$PIDS $d"
	until_ok 5 has_sock "$d"
	run "$CTXCTL" --json "$d" get
	assert_success
	assert_equal "$(jq .pid <<<"$output")" "$d"
	touch "$W/go"
}

# ---- the listener's lifecycle ------------------------------

@test "fork: a child makes its endpoint and listener at its first wait, not inside fork" {
	mkfifo "$W/fifo"
	bg env CTXSHIM_CONTROL=1 LD_PRELOAD="$SHIM" "$T/ctl_lazy" "$W/fifo"
	parent=$BG
	exec 7>"$W/fifo"          # returns once the child has opened it
	until_ok 5 has_line "$W/out" child
	child=$(sed -n 's/^child \([0-9][0-9]*\)$/\1/p' "$W/out")
	PIDS="$PIDS $child"
	until_ok 5 has_sock "$parent"
	# The child has run since fork (printed, opened the FIFO, now blocks in
	# read) but has waited for nothing: no socket, no listener thread.
	run has_sock "$child"
	assert_failure
	assert_equal "$(ls /proc/$child/task | wc -l)" 1
	run "$CTXCTL" "$child" get
	assert_failure 1
	assert_output --partial "has no control endpoint"
	# Its first wait (one poll) makes them; it answers while blocked in read.
	echo poll >&7
	until_ok 5 has_line "$W/out" polled
	until_ok 5 has_sock "$child"
	run "$CTXCTL" --json "$child" threads
	assert_success
	assert_equal "$(jq .pid <<<"$output")" "$child"
	assert_equal "$(ls /proc/$child/task | wc -l)" 2
	run python3 "$BATS_TEST_DIRNAME/control_fds.py" "$child" "$CTXSHIM_CONTROL_DIR"
	assert_output "$child"
	echo exit >&7
	exec 7>&-
	until_ok 5 has_line "$W/out" "child done"
	run has_sock "$child"
	assert_failure
}

# seccomp_child MODE: tests/progs/ctl_seccomp MODE with control on, bounded
# by timeout; its status in $status, its output in $output (and $W/out);
# the child's pid is killed in teardown.
seccomp_child() {
	status=0
	timeout 20 env CTXSHIM_CONTROL=1 LD_PRELOAD="$SHIM" "$T/ctl_seccomp" "$1" >"$W/out" 2>&1 ||
		status=$?
	PIDS="$PIDS $(sed -n 's/^child \([0-9][0-9]*\)$/\1/p' "$W/out")"
	output=$(cat "$W/out")
	lines=()
	mapfile -t lines <"$W/out"
	echo "$1: status $status"
	cat "$W/out"
}

@test "sandbox: a child that installs a seccomp filter killing unlink exits at once and cleanly" {
	# prctl(PR_SET_SECCOMP) as sshd does: the endpoint is shut down first.
	seccomp_child prctl
	assert_success
	assert_line "child exited 0"
	assert_equal "$(ls -A "$CTXSHIM_CONTROL_DIR")" ""
	# The seccomp() system call (not seen by the shim): at exit the listener
	# stops first and removes the socket itself.
	seccomp_child syscall
	assert_success
	assert_line "child exited 0"
	assert_equal "$(ls -A "$CTXSHIM_CONTROL_DIR")" ""
	# The filter on every thread: the listener dies removing the socket; the
	# process still ends normally.
	seccomp_child tsync
	assert_success
	assert_line "child exited 0"
}

@test "sandbox: unshare(CLONE_NEWUSER), which needs a single thread, works once the listener runs" {
	# python3 sleeps first (its listener starts), then unshares a user
	# namespace: the listener is stopped and joined before, for good.  The
	# answer must be the one the same program gets without the shim
	# ("0 0 65534 1"; a chroot, where the kernel refuses user namespaces,
	# answers EPERM both ways).
	prog='
import ctypes, os, time
time.sleep(0.05)
libc = ctypes.CDLL(None, use_errno=True)
r = libc.unshare(0x10000000)
print(r, ctypes.get_errno(), os.getuid(), len(os.listdir("/proc/self/task")))'
	run python3 -c "$prog"
	assert_success
	plain=$output
	run env CTXSHIM_CONTROL=1 LD_PRELOAD="$SHIM" python3 -c "$prog"
	assert_success
	assert_output "$plain"
	assert_equal "$(ls -A "$CTXSHIM_CONTROL_DIR")" ""
}

@test "the listener never keeps a process alive: main thread killed, or gone by pthread_exit" {
	# The main thread is killed by the filter while the listener runs: the
	# process ends as it would without the shim.
	seccomp_child leader
	assert_success
	assert_line "child killed by signal 31"
	# main calls pthread_exit, its last thread returns: glibc ends the
	# process with status 0, as without the listener.
	seccomp_child pexit
	assert_success
	assert_line "worker done"
	assert_line "child exited 0"
}

# descendants PID: the pids of PID's children and grandchildren.
descendants() {
	local c
	for c in $(pgrep -P "$1"); do
		echo "$c $(pgrep -d ' ' -P "$c")"
	done
}

@test "sshd under the shim with control on: a key login completes" {
	local d=$W/ssh port
	mkdir -p "$d"
	ssh-keygen -q -t ed25519 -N '' -f "$d/host" </dev/null
	ssh-keygen -q -t ed25519 -N '' -f "$d/user" </dev/null
	cp "$d/user.pub" "$d/authorized_keys"
	port=$(free_port)
	cat >"$d/sshd_config" <<-EOF2
		Port $port
		ListenAddress 127.0.0.1
		HostKey $d/host
		PidFile none
		AuthorizedKeysFile $d/authorized_keys
		StrictModes no
		UsePAM no
		PasswordAuthentication no
		KbdInteractiveAuthentication no
		PermitRootLogin prohibit-password
	EOF2
	# Privilege separation needs it (left in place: it is the system's).
	[ -d /run/sshd ] || mkdir -p -m 0755 /run/sshd
	bg env CTXSHIM_CONTROL=1 LD_PRELOAD="$SHIM" /usr/sbin/sshd -D -e -f "$d/sshd_config"
	wait_port "$port"
	for i in 1 2; do
		status=0
		output=$(timeout 20 ssh -o BatchMode=yes -o StrictHostKeyChecking=no \
			-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -i "$d/user" -p "$port" \
			"$(id -un)@127.0.0.1" 'echo logged-in' 2>&1) || status=$?
		# What a hung login leaves (killed in teardown).
		PIDS="$PIDS $(descendants "$BG")"
		assert_success
		assert_output logged-in
	done
	# Every connection's processes are gone; the listener still answers.
	until_ok 10 sh -c "! pgrep -P $BG >/dev/null"
	run "$CTXCTL" --json "$BG" get
	assert_success
	assert_equal "$(jq .pid <<<"$output")" "$BG"
}

@test "exit with libfaketime preloaded after the shim: 40 runs all exit 0 printing 1" {
	ft=$(dpkg -L libfaketime | grep '/libfaketime\.so\.1$' | head -n1)
	[ -n "$ft" ]
	for i in $(seq 40); do
		if [ $((i % 2)) = 0 ]; then f=-1d; else f='@2000-01-01 00:00:00'; fi
		run timeout 20 env LD_PRELOAD="$SHIM:$ft" FAKETIME="$f" CTXSHIM_CONTROL=1 \
			python3 -c 'print(1)'
		if [ "$status" != 0 ] || [ "$output" != 1 ]; then
			echo "run $i, FAKETIME=$f: status $status, output: $output"
			return 1
		fi
	done
	assert_equal "$(ls -A "$CTXSHIM_CONTROL_DIR")" ""
}

# ---- nginx ----------------------------------------------------------------------

# nginx with a private prefix on a free port, master and one worker (which
# runs as nobody: $W/ng/www is readable by it).  Extra ctxrun options: the
# arguments.
start_nginx() {
	local d=$W/ng
	mkdir -p "$d/logs" "$d/tmp" "$d/www"
	chmod 755 "$W" "$d" "$d/www"
	head -c 20000000 /dev/zero >"$d/www/big.bin"
	chmod 644 "$d/www/big.bin"
	NGPORT=$(free_port)
	cat >"$d/nginx.conf" <<-EOF
		daemon off;
		worker_processes 1;
		pid $d/nginx.pid;
		error_log $d/logs/error.log warn;
		events { worker_connections 64; }
		http {
		  access_log off;
		  client_body_temp_path $d/tmp;
		  proxy_temp_path $d/tmp;
		  fastcgi_temp_path $d/tmp;
		  uwsgi_temp_path $d/tmp;
		  scgi_temp_path $d/tmp;
		  server {
		    listen 127.0.0.1:$NGPORT;
		    root $d/www;
		    location = / { return 200 "hi\\n"; }
		  }
		}
	EOF
	bg "$CTXRUN" --control "$@" -- nginx -p "$d" -c "$d/nginx.conf" -e "$d/logs/error.log"
	wait_port "$NGPORT"
	NGMASTER=$BG
	until_ok 5 pgrep -P "$NGMASTER"
	NGWORKER=$(pgrep -P "$NGMASTER")
}

@test "nginx: master and worker are each reachable by their own pid" {
	start_nginx
	until_ok 5 has_sock "$NGMASTER"
	until_ok 5 has_sock "$NGWORKER"
	run "$CTXCTL" --json "$NGMASTER" get
	assert_equal "$(jq .pid <<<"$output")" "$NGMASTER"
	run "$CTXCTL" --json "$NGWORKER" get
	assert_equal "$(jq .pid <<<"$output")" "$NGWORKER"
	run "$CTXCTL" list
	assert_line --regexp "^$NGMASTER .*nginx: master process"
	assert_line --regexp "^$NGWORKER .*nginx: worker process"
	# Each holds only its own listener.
	run python3 "$BATS_TEST_DIRNAME/control_fds.py" "$NGWORKER" "$CTXSHIM_CONTROL_DIR"
	assert_output "$NGWORKER"
	run python3 "$BATS_TEST_DIRNAME/control_fds.py" "$NGMASTER" "$CTXSHIM_CONTROL_DIR"
	assert_output "$NGMASTER"
	# The worker (now running as nobody) still serves, and takes a setting.
	run "$CTXCTL" "$NGWORKER" set incident=INC-7
	assert_success
	run curl -s -m 5 "http://127.0.0.1:$NGPORT/"
	assert_output hi
	run "$CTXCTL" "$NGMASTER" get
	assert_output "(no process-wide entries)"
}

# ---- threads that come and go -------------------------------------------------

@test "threads ending by return, pthread_exit and cancellation leave the list; readers meanwhile are safe" {
	bg env CTXSHIM_CONTROL=1 LD_PRELOAD="$SHIM" "$T/ctl_churn" 4
	until_ok 5 has_line "$W/out" started
	until_ok 5 has_sock "$BG"
	# Read every thread's context over and over while threads come and go.
	n=0
	while ! has_line "$W/out" idle; do
		"$CTXCTL" --json "$BG" threads >"$W/t" || break
		jq -e '.ok' "$W/t" >/dev/null
		n=$((n + 1))
		[ "$n" -lt 400 ]
	done
	has_line "$W/out" idle
	[ "$(sed -n 's/^idle //p' "$W/out")" -gt 100 ]
	run "$CTXCTL" --json "$BG" threads
	assert_success
	# Only the main thread is left registered (and the listener, unknown).
	assert_equal "$(jq '[.threads[] | select(.known)] | length' <<<"$output")" 1
	assert_equal "$(jq '.threads | length' <<<"$output")" 2
	kill -0 "$BG"
}

@test "a socket someone else put under a process's name gets no request" {
	bg sleep 30
	victim=$BG
	# Another process listens under the victim's name and records what comes.
	python3 - "$(sock_of "$victim")" "$W/got" <<-'EOF' &
		import socket, sys
		s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(8)
		open(sys.argv[2] + ".ready", "w").close()
		s.settimeout(10)
		with open(sys.argv[2], "wb") as f:
		    while True:
		        try: c, _ = s.accept()
		        except OSError: break
		        c.settimeout(1)
		        try: f.write(c.recv(4096)); f.flush()
		        except OSError: pass
		        try: c.sendall(b'{"ok":true,"pid":1,"global":{"fake":"1"}}\n')
		        except OSError: pass
		        c.close()
	EOF
	PIDS="$PIDS $!"
	until_ok 5 test -e "$W/got.ready"
	run "$CTXCTL" "$victim" set secret=value
	assert_failure 1
	assert_output --partial "was not made by process $victim"
	run "$CTXCTL" list
	refute_output --partial "$victim"
	assert_equal "$(cat "$W/got")" ""
}

# ---- conns -------------------------------------------------------------------

# slow_get PORT PATH ID: a GET read at 100 kB/s (so it stays in flight),
# with X-Request-ID ID; killed in teardown.
slow_get() {
	curl -s -m 60 --limit-rate 100k -H "X-Request-ID: $3" -o /dev/null \
		"http://127.0.0.1:$1$2" &
	PIDS="$PIDS $!"
}

conns_has() {
	"$CTXCTL" --json "$1" conns | jq -e --arg id "$2" '.conns[].requests[] | select(.request_id == $id)' >/dev/null
}

@test "conns: python3 -m http.server under --http --control lists a slow request with its path and request_id" {
	mkdir -p "$W/www"
	head -c 20000000 /dev/zero >"$W/www/big.bin"
	port=$(free_port)
	bg "$CTXRUN" --http --control -- python3 -m http.server -b 127.0.0.1 -d "$W/www" "$port"
	wait_port "$port"
	slow_get "$port" /big.bin slow-req-1
	until_ok 10 conns_has "$BG" slow-req-1
	sleep 2.5     # past the listener's periodic check of its endpoint
	run "$CTXCTL" "$BG" conns
	assert_success
	assert_line --index 0 --regexp '^CONN_ID +PEER +AGE +REQUEST_ID +REQ_AGE +METHOD +PATH$'
	assert_line --regexp '^[0-9a-f]{16} +127\.0\.0\.1:[0-9]+ +[0-9.]+s +slow-req-1 +[2-9]\.[0-9]s +GET +/big\.bin$'
	run "$CTXCTL" --json "$BG" conns
	assert_equal "$(jq -r '.conns[] | select(.requests[0].request_id == "slow-req-1") | .requests[0].path' <<<"$output")" /big.bin
	# The thread serving it works under the same request.
	run "$CTXCTL" --json "$BG" threads
	run jq -r '.threads[] | select(.context.request_id == "slow-req-1") | .context.request_path' <<<"$output"
	assert_output /big.bin
	# Once answered, it is no longer in flight.
	curl -s -m 10 -H 'X-Request-ID: quick-1' -o /dev/null "http://127.0.0.1:$port/"
	run "$CTXCTL" --json "$BG" conns
	refute_output --partial quick-1
}

@test "conns: a pipelined request waiting behind a slow one is listed with its method and path" {
	mkdir -p "$W/www"
	head -c 20000000 /dev/zero >"$W/www/big.bin"
	echo hi >"$W/www/small.txt"
	port=$(free_port)
	bg "$CTXRUN" --http --control -- python3 -m http.server -b 127.0.0.1 -d "$W/www" -p HTTP/1.1 "$port"
	wait_port "$port"
	# Both requests in one write; the client reads nothing, so the first
	# response stalls and the second waits (its context not made yet).
	python3 -c '
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /big.bin HTTP/1.1\r\nX-Request-ID: pipe-1\r\n\r\n"
          b"GET /small.txt?x=2 HTTP/1.1\r\nX-Request-ID: pipe-2\r\n\r\n")
time.sleep(60)' "$port" &
	PIDS="$PIDS $!"
	until_ok 10 conns_has "$BG" pipe-2
	run "$CTXCTL" --json "$BG" conns
	assert_equal "$(jq -c '.conns[] | select(.requests[0].request_id == "pipe-1") | [.requests[] | [.request_id, .method, .path]]' <<<"$output")" \
		'[["pipe-1","GET","/big.bin"],["pipe-2","GET","/small.txt?x=2"]]'
}

@test "conns: nginx's worker lists a slow request; the master, no connection" {
	start_nginx --http
	slow_get "$NGPORT" /big.bin ng-slow-1
	until_ok 10 conns_has "$NGWORKER" ng-slow-1
	# The worker has dropped to nobody and emptied its environment: its
	# endpoint is still the one in our directory, past its periodic check.
	sleep 2.5
	run "$CTXCTL" "$NGWORKER" conns
	assert_success
	assert_line --regexp '^[0-9a-f]{16} +127\.0\.0\.1:[0-9]+ +[0-9.]+s +ng-slow-1 +[0-9.]+s +GET +/big\.bin$'
	assert_equal "$(stat -c %U /proc/$NGWORKER)" nobody
	run "$CTXCTL" "$NGMASTER" conns
	assert_success
	assert_output "no watched connection is open"
}

@test "conns: without --conn or --http the process says so" {
	workers 1
	run "$CTXCTL" "$BG" conns
	assert_success
	assert_output --partial "connections are not watched in process $BG"
	run "$CTXCTL" --json "$BG" conns
	assert_equal "$(jq -c '[.watching, .conns]' <<<"$output")" '[false,[]]'
}

@test "conns: with --conn only, connections are listed without requests" {
	port=$(free_port)
	bg "$CTXRUN" --conn --control -- python3 -m http.server -b 127.0.0.1 -d "$W" "$port"
	wait_port "$port"
	python3 -c 'import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1]))); time.sleep(30)' "$port" &
	PIDS="$PIDS $!"
	until_ok 10 sh -c "\"$CTXCTL\" --json $BG conns | jq -e '.conns | length >= 1' >/dev/null"
	run "$CTXCTL" "$BG" conns
	assert_line --regexp '^[0-9a-f]{16} +127\.0\.0\.1:[0-9]+ +[0-9.]+s +- +- +- +-$'
	assert_line --partial "requests are not tracked"
}

@test "valgrind: control on, threads coming and going, a client reading: nothing lost or invalid" {
	bg env CTXSHIM_CONTROL=1 LD_PRELOAD="$SHIM" valgrind -q --leak-check=full \
		--errors-for-leak-kinds=definite,possible --error-exitcode=9 "$T/ctl_churn" 2
	until_ok 60 has_line "$W/out" started
	p=$(pgrep -f "ctl_churn 2" | head -n1)
	until_ok 30 has_sock "$p"
	"$CTXCTL" --timeout 30 "$p" threads >/dev/null
	"$CTXCTL" --timeout 30 "$p" set incident=vg >/dev/null
	until_ok 60 has_line "$W/out" idle
	"$CTXCTL" --timeout 30 --json "$p" threads | jq -e .ok >/dev/null
	kill -TERM "$p"
	rc=0
	wait "$BG" || rc=$?
	cat "$W/err"
	assert_equal "$rc" 0
	assert_equal "$(grep -c '==[0-9]*==' "$W/err")" 0
	run has_sock "$p"
	assert_failure
}
