#!/usr/bin/env bats
# Key handles (ctxshim_key, ctxshim_get_key) and the context version they and
# the log prefix cache rely on: after every change of a thread's current
# context, a handle read agrees with ctxshim_get and a log line's decoration
# shows the new context.  tests/progs/keycheck.h makes the loop and
# connection programs (tests/loop.bats, tests/net.bats) check the same
# agreement in every callback and on every connection switch.
load common

CTXCTL=$ROOT/scripts/ctxctl

setup() {
	W=$(mktemp -d)
	export CTXSHIM_CONTROL_DIR=$W/ctl
	mkdir -m 700 "$W/ctl"
	BGPID=
}

teardown() {
	[ -n "$BGPID" ] && kill "$BGPID" 2>/dev/null
	[ -n "$BGPID" ] && timeout 5 tail --pid="$BGPID" -f /dev/null 2>/dev/null
	rm -rf "$W"
}

# wait_line FILE LINE: up to 10 s for LINE to appear in FILE.
wait_line() {
	for _ in $(seq 200); do
		grep -qxF "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "no line '$2' in $1:"; cat "$1"
	return 1
}

@test "get_key agrees with get after set, unset, clear, attach, detach, a new thread and fork (copy, share, chain)" {
	for m in copy share chain; do
		run --separate-stderr env CTXSHIM_MODE=$m BAGGAGE=request_id=bag,user=bob \
			LD_PRELOAD="$SHIM" "$T/api_keys"
		echo "mode $m: $output $stderr"
		assert_success
		[[ "$stderr" != *MISMATCH* ]]
		assert_line "start request_id=bag user=bob"
		assert_line "set-user request_id=one user=alice"
		assert_line "set-again request_id=two user=alice"
		assert_line "unset request_id=two user=-"
		assert_line "clear request_id=- user=-"
		assert_line "attach-set request_id=attached user=-"
		assert_line "thread request_id=parent user=-"
		assert_line "thread-set request_id=in-thread user=-"
		assert_line "fork-child request_id=before-fork user=-"
		assert_line "fork-child-set request_id=in-child user=-"
		assert_line "child exit 0"
		assert_line "after-fork request_id=before-fork user=-"
	done
	# copy mode: a capture is a snapshot, so attach brings it back whole
	run env BAGGAGE=request_id=bag LD_PRELOAD="$SHIM" "$T/api_keys"
	assert_line "attach request_id=two user=-"
	assert_line "detach request_id=- user=-"
	assert_line "after-thread request_id=parent user=-"
}

@test "each decorated log line shows the context as it was when written, after every change (copy, share, chain)" {
	for m in copy share chain; do
		run --separate-stderr env CTXSHIM_MODE=$m CTXSHIM_LOG=stderr \
			BAGGAGE=request_id=bag,user=bob LD_PRELOAD="$SHIM" "$T/api_keys"
		assert_success
		local n=0 line id
		while IFS= read -r line; do
			case $line in
			*" request_id=-") [[ "$line" != *"request_id="*" request_id=-" ]] ;;
			*) id=${line##* request_id=}
			   [[ "$line" == "["*"request_id=$id"[\ \]]* ]] || { echo "bad: $line"; false; } ;;
			esac
			n=$((n + 1))
		done <<<"$stderr"
		[ "$n" -eq 19 ]
	done
}

@test "without the shim: ctxshim_key is 0 with ENOSYS and get_key reports unset, like get" {
	run "$T/api_keys"
	assert_failure 1
	assert_output "bad handles"
	run "$T/api_keys" watch
	assert_failure 1   # never sees "stop": gave up after its bounded wait
}

@test "ctxctl set and unset: a handle read sees each change of the process-wide layer (copy, share, chain)" {
	for m in copy share chain; do
		: >"$W/out"
		env CTXSHIM_MODE=$m CTXSHIM_CONTROL=1 LD_PRELOAD="$SHIM" \
			"$T/api_keys" watch >"$W/out" 2>"$W/err" &
		BGPID=$!
		wait_line "$W/out" ready
		wait_line "$W/out" "incident=-"
		for _ in $(seq 100); do
			"$CTXCTL" "$BGPID" set incident=INC-1 >/dev/null 2>&1 && break
			sleep 0.05
		done
		wait_line "$W/out" "incident=INC-1"
		"$CTXCTL" "$BGPID" set incident=INC-2 >/dev/null
		wait_line "$W/out" "incident=INC-2"
		"$CTXCTL" "$BGPID" unset incident >/dev/null
		wait_line "$W/out" "incident=-"
		"$CTXCTL" "$BGPID" set incident=stop >/dev/null
		wait_line "$W/out" "incident=stop"
		wait "$BGPID"
		BGPID=
		run cat "$W/err"
		refute_output --partial MISMATCH
		run grep -c '^incident=-$' "$W/out"
		assert_output 2
	done
}
