#!/usr/bin/env bats
# Processes inherit the calling thread's context through BAGGAGE, whatever
# way they are started; the parent's own environment never changes.
load common

SHOW='echo "$BAGGAGE|${LD_PRELOAD##*/}"'

@test "every way of starting a program passes the context and keeps the shim preloaded" {
	for m in fork-exec execve execv execvp execvpe execl execlp execle fexecve \
		 execveat posix_spawn posix_spawnp system popen vfork; do
		run "$CTXRUN" -s request_id=abc -s 'who=a b' -- "$T/spawner" $m /bin/sh -c "$SHOW"
		assert_success
		assert_output "request_id=abc,who=a%20b|libctxshim.so"
	done
}

@test "exec with an explicit environment: a stale BAGGAGE is replaced, LD_PRELOAD added" {
	run "$CTXRUN" -s request_id=fresh -- "$T/spawner" execle-stale /bin/sh -c "$SHOW"
	assert_success
	assert_output "request_id=fresh|libctxshim.so"
}

@test "each thread's children get that thread's context, not the process's environment" {
	for m in posix_spawn system popen fork-exec; do
		run "$CTXRUN" -s request_id=main -- "$T/api_spawn" $m
		assert_success
		assert_equal "$(printf '%s\n' "$output" | sort | tr '\n' ' ')" \
			"t0 request_id=t0 t1 request_id=t1 t2 request_id=t2 t3 request_id=t3 "
	done
}

@test "a thread that cleared its context starts children without BAGGAGE" {
	for m in posix_spawn system popen fork-exec; do
		run "$CTXRUN" -s request_id=main -- "$T/api_spawn" $m cleared
		assert_success
		assert_equal "$(printf '%s\n' "$output" | sort | tr '\n' ' ')" \
			"t0 none t1 none t2 none t3 none "
	done
}

@test "fork: the child process keeps the forking thread's context (copy, share, chain)" {
	for m in copy share chain; do
		run env CTXSHIM_MODE=$m BAGGAGE=request_id=forked LD_PRELOAD="$SHIM" \
			"$T/spawner" fork-exec "$CTXRUN" --get request_id
		assert_success
		assert_output "forked"
	done
}

@test "settings follow into a child started with an empty environment" {
	run env CTXSHIM_MODE=chain LD_PRELOAD="$SHIM" BAGGAGE=request_id=x \
		/usr/bin/env -i /bin/sh -c 'echo "$CTXSHIM_MODE $BAGGAGE ${LD_PRELOAD##*/}"'
	assert_success
	assert_output "chain request_id=x libctxshim.so"
}

@test "values with , ; = % spaces quotes, tabs and non-ASCII round-trip through BAGGAGE" {
	v=$(printf 'a,b;c=d%%25 "q" \\back\ttab é\001end')
	run "$CTXRUN" -s "v=$v" -- "$CTXRUN" --get v
	assert_success
	assert_output "$v"
}

@test "Baggage limits: 64 entries / 8192 bytes are carried; past that whole entries are dropped, request_id kept" {
	args=(-s request_id=the-id)
	for i in $(seq -w 1 63); do args+=(-s "k$i=$(printf 'v%.0s' $(seq 200))"); done
	run "$CTXRUN" "${args[@]}" -- /bin/sh -c 'printf %s "$BAGGAGE"'
	assert_success
	[ "${#output}" -le 8192 ]
	case "$output" in request_id=the-id,*) ;; *) false ;; esac
	# every member is whole: key=200 v's
	n=$(printf '%s' "$output" | tr ',' '\n' | grep -vc '^request_id=' || true)
	bad=$(printf '%s' "$output" | tr ',' '\n' | grep -v '^request_id=' | grep -cvE '^k[0-9]{2}=v{200}$' || true)
	[ "$bad" -eq 0 ]
	[ "$n" -ge 30 ]
}

@test "a hook called from another library's constructor, before ours ran, works" {
	# Listed second, libearly's constructor runs first (checked here).
	order=$(LD_PRELOAD="$SHIM $T/libearly.so" EARLY_DONE=1 LD_DEBUG=files /bin/true 2>&1 |
		grep -o 'calling init: .*\(libearly\|libctxshim\).so' | sed 's|.*/||' | tr '\n' ' ')
	assert_equal "$order" "libearly.so libctxshim.so "
	run env LD_PRELOAD="$SHIM $T/libearly.so" BAGGAGE=request_id=early /bin/true
	assert_success
	assert_output "early thread ran
early child: request_id=early"
}

@test "the hooks change nothing the program sees (errno, return codes, attributes, statuses)" {
	run "$T/passthrough"
	assert_success
	plain=$output
	run "$CTXRUN" -s request_id=x -- "$T/passthrough"
	assert_success
	refute_output --partial FAIL
	assert_equal "$output" "$plain"
	run env CTXSHIM_MODE=chain LD_PRELOAD="$SHIM" BAGGAGE=request_id=y "$T/passthrough"
	assert_equal "$output" "$plain"
}

@test "CTXSHIM_DISABLE=1: the environment passes untouched" {
	run env CTXSHIM_DISABLE=1 LD_PRELOAD="$SHIM" BAGGAGE='request_id=a, junk' \
		"$T/spawner" execle-stale /bin/sh -c "$SHOW"
	assert_success
	assert_output "request_id=stale|"
	run env CTXSHIM_DISABLE=1 LD_PRELOAD="$SHIM" BAGGAGE='request_id=a, junk' \
		"$T/spawner" posix_spawn /bin/sh -c 'echo "$BAGGAGE"'
	assert_output "request_id=a, junk"
}

@test "python's subprocess and os.system under the shim pass the context" {
	run "$CTXRUN" -s request_id=py -- python3 -c '
import os, subprocess, threading
def t():
    print(subprocess.run(["sh", "-c", "echo $BAGGAGE"], capture_output=True, text=True).stdout.strip())
th = threading.Thread(target=t); th.start(); th.join()
'
	assert_success
	assert_output "request_id=py"
}
