#!/usr/bin/env bats
# Control (issue 10, item 12): the process-wide layer set with ctxctl is
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
