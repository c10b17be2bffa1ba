#!/usr/bin/env bats
# Control: the process-wide layer set with ctxctl is
# replaced on every set; a replaced layer must be freed once no thread can
# read it, while threads (and their signal handlers) keep reading it.
load common

setup() {
	CTXSHIM_CONTROL_DIR=$(mktemp -d /tmp/ctl.XXXXXX)
	export CTXSHIM_CONTROL_DIR
	W=$(mktemp -d)
	PID=
}

teardown() {
	if [ -n "$PID" ]; then
		kill -9 "$PID" 2>/dev/null
		wait "$PID" 2>/dev/null
	fi
	rm -rf "$W" "$CTXSHIM_CONTROL_DIR"
}

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

# layer_run N PAUSE_US SETS [MODE]: tests/progs/ctl_layer N PAUSE_US under
# the shim with control on and decorated stderr, then SETS `ctxctl set` of a
# 60 KiB layer (tests/control_layer.py); then the program is stopped.  Sets
# GROWTH (KiB) and leaves the program's report in $W/out, its stderr in
# $W/err.
layer_run() {
	env CTXSHIM_CONTROL=1 CTXSHIM_MODE="${4:-copy}" CTXSHIM_LOG=stderr \
		CTXSHIM_LOG_FORMAT='[{tag}] {message}' \
		LD_PRELOAD="$SHIM" "$T/ctl_layer" "$1" "$2" >"$W/out" 2>"$W/err" &
	PID=$!
	until_ok 10 grep -q ready "$W/out"
	until_ok 10 test -S "$CTXSHIM_CONTROL_DIR/$PID.sock"
	run timeout 300 python3 "$ROOT/tests/control_layer.py" "$PID" "$3"
	assert_success
	GROWTH=$(sed -n 's/^rss_growth_kb //p' <<<"$output")
	echo "RSS growth over the last 90% of $3 sets: $GROWTH KiB"
	kill -TERM "$PID"
	rc=0
	wait "$PID" || rc=$?
	PID=
	cat "$W/out"
	assert_equal "$rc" 0
}

@test "400 ctxctl set of a 60 KiB layer: replaced layers are freed (resident size stays flat)" {
	layer_run 2 200 400
	# Kept forever, the replaced layers were 400 x 3 x 60 KiB (70 MiB).
	[ "$GROWTH" -lt 1024 ]
	grep -q ' bad 0$' "$W/out"
}

@test "readers that never pause and signal handlers that read: every value whole while layers are freed" {
	for mode in copy share chain; do
		layer_run 4 0 $([ $mode = copy ] && echo 400 || echo 150) $mode
		grep -q '^reads [1-9][0-9]* signals [1-9][0-9]* bad 0$' "$W/out"
		# Held back only by reads in progress: at most the cap (1 MiB)
		# and a layer.
		[ "$GROWTH" -lt 2048 ]
		# The decorated lines name one tag each, whole.
		run grep -cvE '^(\[(v[0-9]+)?\] )?reader [0-9]+ round [0-9]+$' "$W/err"
		assert_output 0
		grep -qE '^\[v[0-9]+\] reader' "$W/err"
	done
}

rss_kb() {
	sed -n 's/^VmRSS: *\([0-9]*\) kB$/\1/p' "/proc/$1/status"
}

# blocked_in_write PID: a thread of PID waits in a pipe write.
blocked_in_write() {
	cat /proc/$1/task/*/wchan | grep -q pipe_write
}

@test "a thread stuck inside a read holds replaced layers back: capped at 1 MiB, sets refused, then freed" {
	# Two workers log json lines to a pipe nobody reads: soon one blocks
	# in write() in the middle of a line whose fields come from the layer
	# (a0 fits in a line; k0..k13, 56 KiB, make each replacement big), a
	# read of the layer open meanwhile.
	mkfifo "$W/fifo"
	exec 7<>"$W/fifo"
	env CTXSHIM_CONTROL=1 CTXSHIM_LOG_STYLE=json LD_PRELOAD="$SHIM" "$T/ctl_workers" 2 \
		>"$W/out" 2>"$W/fifo" &
	PID=$!
	until_ok 10 grep -q ready "$W/out"
	until_ok 10 test -S "$CTXSHIM_CONTROL_DIR/$PID.sock"
	big() { printf "%s=%${3:-4096}s\n" "$1" "" | tr ' ' "$2"; }
	"$ROOT/scripts/ctxctl" "$PID" set $(big a0 x 900) $(for k in $(seq 0 13); do big k$k a; done) \
		>/dev/null
	until_ok 30 blocked_in_write "$PID"
	base=$(rss_kb "$PID")
	refused=
	for i in $(seq 40); do
		run "$ROOT/scripts/ctxctl" --timeout 20 "$PID" set "$(big k14 b)" "$(big k15 c)"
		if [ "$status" != 0 ]; then
			refused=$i
			break
		fi
	done
	echo "refused at set $refused"
	[ -n "$refused" ]
	assert_output "ctxctl: process $PID: 0 of 2 set; then: replaced layers are still being read; try again later"
	growth=$(($(rss_kb "$PID") - base))
	echo "RSS growth while held back: $growth KiB"
	[ "$growth" -lt 2048 ]
	# The pipe is read: the writer goes on, what it held is freed, sets
	# work again.
	cat "$W/fifo" >/dev/null &
	CAT=$!
	for i in $(seq 20); do
		"$ROOT/scripts/ctxctl" --timeout 20 "$PID" set "$(big k14 d)" "$(big k15 e)" >/dev/null
	done
	growth=$(($(rss_kb "$PID") - base))
	echo "RSS growth after 20 more sets: $growth KiB"
	[ "$growth" -lt 2048 ]
	kill "$PID"
	wait "$PID" || true
	PID=
	kill "$CAT" 2>/dev/null || true
	exec 7>&-
}
