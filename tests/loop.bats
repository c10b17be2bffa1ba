#!/usr/bin/env bats
# Event loops: a callback runs in the context that was current when
# it was registered, and the loop's own context is back when it returns.
# The programs in tests/progs print "WHAT reg=REQUEST ctx=REQUEST_ID" from
# inside each callback: REQUEST is what the program registered it for (in its
# own data pointer), REQUEST_ID what ctxshim gives it.
load common

setup() {
	OUT=$BATS_TEST_TMPDIR
}

teardown() {
	if [ -n "${MC_PID:-}" ]; then
		kill "$MC_PID" 2>/dev/null
		wait "$MC_PID" 2>/dev/null
	fi
	true
}

# Run PROG (with args) under the shim, output in $OUT/with; bounded.
with_shim() {
	timeout 120 env LD_PRELOAD="$SHIM" "$@" >"$OUT/with" 2>"$OUT/with.err"
}

without_shim() {
	timeout 120 "$@" >"$OUT/without" 2>"$OUT/without.err"
}

# Every reg=/ctx= line of FILE agrees, and there are N of them.
agree() {
	awk -v want="$2" '/ reg=/ { split($2, a, "="); split($3, b, "="); n++
		if (a[2] != b[2]) { print "disagrees: " $0; bad = 1 } }
		/ WRONG$/ { print "failed check: " $0; bad = 1 }
		END { if (n != want) { print n " lines, expected " want; bad = 1 }; exit bad }' "$1"
}

# The output less its context values, sorted: must be the same either way.
labels() {
	sed 's/ ctx=.*//' "$1" | sort
}

same_without_shim() {
	without_shim "$@"
	with_shim "$@"
	diff <(labels "$OUT/with") <(labels "$OUT/without")
	# Without the shim nothing has a context.
	run grep -v ' ctx=-$' "$OUT/without"
	refute_output --partial ' reg='
}

# PROG MODE... : 1,000,000 cycles each, RSS growth under 1 MB (a byte a
# cycle); the output names each mode's figures.
rss_flat() {
	local prog=$1 mode line growth
	shift
	for mode in "$@"; do
		line=$(timeout 120 env LD_PRELOAD="$SHIM" "$T/$prog" "$mode" 1000000)
		echo "$prog: $line"
		growth=${line##*growth=}
		[ -n "$growth" ] && [ "$growth" -lt 1024 ] || { echo "$prog $mode: RSS grew ${growth} kB"; return 1; }
	done
}

# PROG MODE...: a short run of each under valgrind, no definite leak.
vg() {
	local prog=$1 mode
	shift
	for mode in "$@"; do
		LD_PRELOAD="$SHIM" timeout 300 valgrind -q --leak-check=full --show-possibly-lost=no \
			--errors-for-leak-kinds=definite --error-exitcode=1 \
			"$T/$prog" $mode >"$OUT/vg.out" 2>"$OUT/vg.err" ||
			{ echo "valgrind: $prog $mode"; cat "$OUT/vg.err"; return 1; }
	done
}

# ---- libuv --------------------------------------------------------------------

@test "libuv: each callback runs in the request that registered it (timers every run, siblings, both halves of uv_queue_work, async, fs, dns, streams, close)" {
	with_shim "$T/uv_ctx"
	agree "$OUT/with" 42
	run cat "$OUT/with"
	for r in 0 1 2 3; do
		for k in 1 2 3; do assert_line "timer-run$k reg=req-$r ctx=req-$r"; done
		assert_line "sibling reg=req-$r ctx=req-$r"
		assert_line "work reg=req-$r ctx=req-$r"
		assert_line "after-work reg=req-$r ctx=req-$r"
		assert_line "close reg=req-$r ctx=req-$r"
	done
	assert_line "async reg=sender-A ctx=sender-A"
	assert_line "async reg=sender-B ctx=sender-B"
}

@test "libuv: pool threads started before any request run each item in its submitter's context, and none for an item from none" {
	with_shim "$T/uv_ctx"
	run grep '^work ' "$OUT/with"
	refute_output --partial 'pool-creator'
	assert_line 'work reg=- ctx=-'
}

@test "libuv: the loop thread's own context is back after uv_run; registering keeps errno" {
	with_shim "$T/uv_ctx"
	run tail -n 1 "$OUT/with"
	assert_output 'after reg=loop-main ctx=loop-main'
	run grep errno "$OUT/with"
	assert_output 'errno-kept ok'
}

@test "libuv: the program behaves identically without the shim" {
	same_without_shim "$T/uv_ctx"
}

@test "libuv: 1,000,000 register/fire cycles of each kind leave RSS flat" {
	rss_flat uv_leak timer idle async close work fs
}

@test "libuv: valgrind finds no definite leak" {
	vg uv_ctx ""
	vg uv_leak "timer 2000" "idle 2000" "async 2000" "close 2000" "work 2000" "fs 2000"
}

# ---- libevent -------------------------------------------------------------------

@test "libevent: each callback runs in the request that registered it (persistent timers every run, once siblings, assign, active, signal, bufferevent, another thread)" {
	with_shim "$T/ev_ctx"
	agree "$OUT/with" 32
	run cat "$OUT/with"
	for r in 0 1 2 3; do
		for k in 1 2 3; do assert_line "persist-run$k reg=req-$r ctx=req-$r"; done
		assert_line "once reg=req-$r ctx=req-$r"
		assert_line "assigned-run2 reg=req-$r ctx=req-$r"
	done
	assert_line 'active reg=req-2 ctx=req-2'
	assert_line 'signal reg=req-3 ctx=req-3'
	assert_line 'bev-read reg=req-1 ctx=req-1'
	assert_line 'thread-active reg=thr-9 ctx=thr-9'
}

@test "libevent: the program reads back its own callbacks and args (event_get_callback*, event_get_assignment, event_self_cbarg, bufferevent_getcb)" {
	with_shim "$T/ev_ctx"
	run cat "$OUT/with"
	for c in get-callback get-callback-arg get-assignment bev-getcb self-cbarg errno-kept; do
		assert_line "$c ok"
	done
}

@test "libevent: the loop thread's own context is back after event_base_dispatch" {
	with_shim "$T/ev_ctx"
	run grep '^after ' "$OUT/with"
	assert_output 'after reg=loop-main ctx=loop-main'
}

@test "libevent: the program behaves identically without the shim" {
	same_without_shim "$T/ev_ctx"
}

@test "libevent: an evhttp client request's callback runs in the context of evhttp_make_request, also when the connection fails" {
	with_shim "$T/ev_http"
	agree "$OUT/with" 6
	run cat "$OUT/with"
	for r in 0 1 2 3; do assert_line "response reg=req-$r ctx=req-$r"; done
	assert_line 'failed reg=req-2 ctx=req-2'
	assert_line 'after reg=loop-main ctx=loop-main'
	same_without_shim "$T/ev_http"
}

@test "libevent: 1,000,000 register/fire cycles of each kind leave RSS flat" {
	rss_flat ev_leak once new assign persist active never unfired-once bev
}

@test "libevent: valgrind finds no definite leak" {
	vg ev_ctx ""
	vg ev_http ""
	vg ev_leak "once 2000" "new 2000" "assign 2000" "persist 2000" "active 2000" \
		"never 2000" "unfired-once 3000" "bev 500"
}

# ---- GLib -----------------------------------------------------------------------

@test "GLib: each callback runs in the request that registered it (timeouts every run, destroy notifies, idle siblings, once, set_callback, invoke, GTask, nested loops)" {
	with_shim "$T/glib_ctx"
	agree "$OUT/with" 40
	run cat "$OUT/with"
	for r in 0 1 2 3; do
		for k in 1 2 3; do assert_line "timeout-run$k reg=req-$r ctx=req-$r"; done
		assert_line "notify reg=req-$r ctx=req-$r"
		assert_line "idle reg=req-$r ctx=req-$r"
	done
	assert_line 'idle-once reg=req-2 ctx=req-2'
	assert_line 'timeout-once reg=req-3 ctx=req-3'
	assert_line 'set-callback reg=req-0 ctx=req-0'
	assert_line 'invoke-worker reg=req-1 ctx=req-1'
	assert_line 'invoke-here reg=req-1 ctx=req-1'
	assert_line 'task-thread reg=req-3 ctx=req-3'
	assert_line 'task-done reg=req-3 ctx=req-3'
	# A nested iteration inside a callback: inner and outer each their own.
	assert_line 'nested-outer-before reg=req-0 ctx=req-0'
	assert_line 'nested-inner reg=req-1 ctx=req-1'
	assert_line 'nested-outer-after reg=req-0 ctx=req-0'
}

@test "GLib: a thread pool whose threads predate the requests runs each item in its pusher's context; sort, move_to_front and dropped items see the program's data" {
	with_shim "$T/glib_ctx"
	run cat "$OUT/with"
	for r in 0 1 2 3; do assert_line "pool-item reg=req-$r ctx=req-$r"; done
	assert_line 'pool-item reg=- ctx=-'
	for c in sort-sees-program-data move-to-front move-to-front-absent pool-user-data; do
		assert_line "$c ok"
	done
	for d in a b c; do assert_line "dropped-sort-$d reg=req-2 ctx=req-2"; done
}

@test "GLib: the program's user_data still finds its sources (find_source_by_user_data, remove_by_user_data, idle_remove_by_data)" {
	with_shim "$T/glib_ctx"
	run cat "$OUT/with"
	for c in find-by-user-data remove-by-user-data idle-remove-by-data errno-kept; do
		assert_line "$c ok"
	done
	refute_line --partial 'never reg='
}

@test "GLib: the loop thread's own context is back after g_main_loop_run" {
	with_shim "$T/glib_ctx"
	run grep '^after ' "$OUT/with"
	assert_output 'after reg=loop-main ctx=loop-main'
}

@test "GLib: the program behaves identically without the shim" {
	same_without_shim "$T/glib_ctx"
}

@test "GLib: 1,000,000 register/fire cycles of each kind leave RSS flat" {
	rss_flat glib_leak idle timeout setcb remove invoke pool
}

@test "GLib: valgrind finds no definite leak" {
	vg glib_ctx ""
	vg glib_leak "idle 2000" "timeout 2000" "setcb 2000" "remove 2000" "invoke 2000" "pool 2000"
}

# ---- ucontext --------------------------------------------------------------------

@test "ucontext: coroutines start in their maker's request and keep their own across switches; the scheduler keeps its own" {
	with_shim "$T/ucontext_ctx"
	agree "$OUT/with" 41
	run cat "$OUT/with"
	for r in 0 1 2 3; do
		assert_line "coro-run1 reg=req-$r ctx=req-$r"
		assert_line "coro-run3 reg=own-$r ctx=own-$r"
	done
	run grep -c '^sched-back reg=sched ctx=sched$' "$OUT/with"
	assert_output 12
}

@test "ucontext: a pooled fibre (OpenSSL async jobs) runs each job in the request that started it, also after a pause" {
	with_shim "$T/ucontext_ctx"
	run cat "$OUT/with"
	for r in 0 1 2 3; do
		assert_line "job-start reg=req-$r ctx=req-$r"
		assert_line "job-resume reg=req-$r ctx=req-$r"
	done
	run tail -n 1 "$OUT/with"
	assert_output 'after reg=sched ctx=sched'
}

@test "ucontext: the program behaves identically without the shim" {
	same_without_shim "$T/ucontext_ctx"
}

@test "ucontext: 1,000,000 make/switch cycles leave RSS flat, valgrind finds no definite leak" {
	rss_flat ucontext_leak make swap
	vg ucontext_ctx ""
	vg ucontext_leak "make 2000" "swap 2000"
}

# ---- all of them ----------------------------------------------------------------

@test "fork: a child forked while another thread registers and runs callbacks runs its own in their contexts, and never hangs" {
	run env LD_PRELOAD="$SHIM" timeout 60 "$T/ev_fork"
	assert_success
	assert_line 'children ok'
	run grep -c '^child reg=req-0 ctx=req-0$' <<<"$output"
	assert_output 50
}

@test "modes: a callback's own writes follow CTXSHIM_MODE (copy and chain keep them from the loop thread, share does not)" {
	for mode in copy share chain; do
		run env CTXSHIM_MODE=$mode LD_PRELOAD="$SHIM" timeout 30 "$T/ev_modes"
		assert_success
		assert_line 'callback sees request_id=main'
		assert_line 'main sees request_id=main'
		if [ $mode = share ]; then
			assert_line 'main sees cb=written'
		else
			assert_line 'main sees cb=-'
		fi
	done
}

@test "dlopen: a plugin loaded after start that uses libevent has its callbacks run in their contexts" {
	run ldd "$T/dl_plugin"
	refute_output --partial libevent
	run env LD_PRELOAD="$SHIM" timeout 30 "$T/dl_plugin" "$T/libev_plugin.so"
	assert_success
	for r in 0 1 2 3; do assert_line "plugin-once reg=req-$r ctx=req-$r"; done
}

@test "a program that uses none of these libraries does not load them" {
	run env LD_PRELOAD="$SHIM" cat /proc/self/maps
	assert_success
	assert_output --partial libctxshim.so
	refute_output --partial libuv
	refute_output --partial libevent
	refute_output --partial libglib
}

@test "CTXSHIM_DISABLE=1: the programs run as without the shim" {
	for p in uv_ctx ev_ctx glib_ctx ucontext_ctx; do
		run env CTXSHIM_DISABLE=1 LD_PRELOAD="$SHIM" timeout 60 "$T/$p"
		assert_success
		refute_output --regexp 'ctx=[^-]'
	done
}

# ---- a real program -------------------------------------------------------------

@test "memcached -vv (libevent, 2 worker threads) under CTXSHIM_CONN=1: each worker's command line carries its connection's conn_id; two concurrent clients never swap ids" {
	command -v memcached
	PORT=$(free_port)
	LOG=$OUT/memcached.log
	CTXSHIM_CONN=1 CTXSHIM_LOG=stderr CTXSHIM_LOG_FORMAT='[{conn_id}] {message}' \
		LD_PRELOAD="$SHIM" timeout 120 memcached -vv -U 0 -t 2 -u root -l 127.0.0.1 \
		-p "$PORT" 2>"$LOG" &
	MC_PID=$!
	wait_port "$PORT"
	run timeout 60 python3 "$BATS_TEST_DIRNAME/mc_clients.py" "$PORT" 50
	assert_output OK
	kill "$MC_PID"
	wait "$MC_PID" || true
	MC_PID=
	# Every command line ("<FD set/get KEY", ">FD STORED/END/sending key")
	# carries an id; each client's keys, and each fd, go with one id only.
	run awk '
		/^(\[[^]]*\] )?[<>][0-9]+ (set|get|STORED|END|sending)/ {
			if ($1 !~ /^\[[0-9a-f]+\]$/) { print "no conn_id: " $0; bad = 1; next }
			fd = substr($2, 2)
			if (fd in byfd && byfd[fd] != $1) { print "fd " fd " swapped ids: " $0; bad = 1 }
			byfd[fd] = $1
			if ($3 == "get" || $3 == "set") {
				c = substr($4, 1, 1)
				if (c in byclient && byclient[c] != $1) { print "client " c " swapped: " $0; bad = 1 }
				byclient[c] = $1
				n[c]++
			}
		}
		END {
			if (n["a"] != 100 || n["b"] != 100) { print "commands seen: a=" n["a"] " b=" n["b"]; bad = 1 }
			if (byclient["a"] == byclient["b"]) { print "both clients under " byclient["a"]; bad = 1 }
			exit bad
		}' "$LOG"
	assert_success
}
