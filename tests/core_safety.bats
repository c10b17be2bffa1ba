#!/usr/bin/env bats
# Bad input, concurrency, leaks and secure execution: the host never suffers.
load common

@test "malformed BAGGAGE members are skipped with exactly one warning line; the rest is kept" {
	bag='request_id=ok, bad key=1,x=%zz,=v,k=v;prop=1,nul=%00,quote="q",,  sp = padded  '
	run --separate-stderr env BAGGAGE="$bag" LD_PRELOAD="$SHIM" \
		/bin/sh -c 'exec printenv BAGGAGE'
	assert_success
	assert_output "request_id=ok,k=v,sp=padded"
	[ "$(printf '%s\n' "$stderr" | grep -c .)" -eq 1 ]
	assert_equal "$stderr" "ctxshim: BAGGAGE: skipped 5 malformed and 0 excess member(s)"
}

@test "a 120 kB BAGGAGE of junk, and one with 5,000 members, do not hurt the program" {
	junk=$(head -c 90000 /dev/urandom | base64 -w0 | tr '+/' ',;')
	run env BAGGAGE="$junk" LD_PRELOAD="$SHIM" /bin/echo alive
	assert_success
	assert_line alive
	many=$(seq 5000 | sed 's/^/k/; s/$/=v/' | paste -sd,)
	run --separate-stderr env BAGGAGE="$many" LD_PRELOAD="$SHIM" "$CTXRUN" --get k64
	assert_success
	assert_output v
	[ "$(printf '%s\n' "$stderr" | grep -c 'excess')" -eq 1 ]
}

@test "oversize values and invalid keys are refused with a clear error; nothing runs half-set" {
	run "$CTXRUN" -s "big=$(head -c 5000 /dev/zero | tr '\0' x)" -- /bin/echo ran
	assert_failure 2
	assert_output --partial "ctxrun: invalid entry"
	refute_output --partial ran
	run "$CTXRUN" -s 'bad key=1' -- /bin/echo ran
	assert_failure 2
	run "$CTXRUN" -s 'noequals' -- /bin/echo ran
	assert_failure 2
	assert_output --partial "is not KEY=VALUE"
}

@test "a value with a newline cannot smuggle a second BAGGAGE member or variable" {
	run "$CTXRUN" -s "v=$(printf 'x\nBAGGAGE=evil,request_id=evil')" -- /bin/sh -c 'printf "%s" "$BAGGAGE"'
	assert_success
	assert_output "v=x%0ABAGGAGE%3Devil%2Crequest_id%3Devil"
}

@test "400 request threads x 10 children: every child sees its own request's id (copy and chain)" {
	for m in copy chain; do
		run env CTXSHIM_MODE=$m LD_PRELOAD="$SHIM" "$T/api_stress" 400 10
		assert_success
		assert_output "reads 8400 mixups 0"
	done
}

@test "200,000 create/join cycles with a 16-entry context leave RSS flat (< 2 MB growth)" {
	for m in copy chain; do
		run env CTXSHIM_MODE=$m LD_PRELOAD="$SHIM" "$T/api_leak" 200000
		assert_success
		read -r _ warm end <<<"$output"
		echo "mode $m: rss $warm kB -> $end kB"
		[ $((end - warm)) -lt 2048 ]
	done
}

@test "valgrind: no memory definitely lost (threads, processes, all three modes)" {
	command -v valgrind
	for m in copy share chain; do
		run env CTXSHIM_MODE=$m LD_PRELOAD="$SHIM" valgrind -q --leak-check=full \
			--errors-for-leak-kinds=definite --error-exitcode=9 "$T/api_leak" 300
		assert_success
		run env CTXSHIM_MODE=$m LD_PRELOAD="$SHIM" valgrind -q --leak-check=full \
			--errors-for-leak-kinds=definite --error-exitcode=9 "$T/api_modes" grandchild
		assert_success
		run env CTXSHIM_MODE=$m LD_PRELOAD="$SHIM" BAGGAGE=request_id=v valgrind -q \
			--leak-check=full --errors-for-leak-kinds=definite --error-exitcode=9 \
			"$T/api_spawn" posix_spawn
		assert_success
	done
}

@test "secure execution (setuid): no environment variable is trusted" {
	[ "$(id -u)" = 0 ] || fail "needs root to install a setuid test program (CI runs as root)"
	libdir=/usr/lib/x86_64-linux-gnu
	tmp=$(mktemp -d /tmp/ctxshim-sec.XXXXXX)
	chmod 755 "$tmp"
	# ld.so preloads into a setuid program only a library from a system
	# directory that has its own set-user-ID bit, named without a slash.
	cp "$SHIM" "$libdir/libctxshim-sectest.so"
	chmod 4755 "$libdir/libctxshim-sectest.so"
	cp "$T/api_limits" "$tmp/prog"
	cat > "$tmp/probe.c" <<'C'
#include <ctxshim.h>
#include <stdio.h>
int main(void)
{
	char v[64];
	int set = ctxshim_set("probe", "1");
	printf("shim %s, request_id %s\n", set == 0 ? "loaded" : "absent",
	       ctxshim_get("request_id", v, sizeof v) < 0 ? "unset" : v);
	return 0;
}
C
	cc -I"$ROOT/include" "$tmp/probe.c" -o "$tmp/probe"
	chown nobody "$tmp/probe"
	chmod 4755 "$tmp/probe"
	run env LD_PRELOAD=libctxshim-sectest.so BAGGAGE=request_id=evil CTXSHIM_MODE=bogus "$tmp/probe"
	rm -f "$libdir/libctxshim-sectest.so"
	rm -rf "$tmp"
	assert_success
	# Loaded (the API works) but BAGGAGE and CTXSHIM_MODE were ignored:
	# no warning about the bogus mode, no inherited request_id.
	assert_output "shim loaded, request_id unset"
}

@test "a vforked child's exec hook allocates nothing (copy, share, chain)" {
	for m in copy share chain; do
		run env CTXSHIM_MODE=$m BAGGAGE=request_id=v \
			LD_PRELOAD="$T/libnomalloc.so $SHIM" "$T/spawner" vfork /bin/sh -c 'echo "$BAGGAGE"'
		assert_success
		assert_output "request_id=v"
	done
	# The detector itself works: an allocation while armed exits 99.
	run env LD_PRELOAD="$T/libnomalloc.so" python3 -c '
import ctypes; lib = ctypes.CDLL(None)
ctypes.c_int.in_dll(lib, "nomalloc_armed").value = 1
lib.malloc(16)'
	assert_failure 99
}

@test "no symbol lookup on the hot path: 1 or 2,000 thread creations resolve pthread_create equally often" {
	count() {
		LD_DEBUG=symbols LD_PRELOAD="$SHIM" BAGGAGE=request_id=x "$T/api_leak" "$1" 2>&1 |
			grep -c 'symbol=pthread_create;'
	}
	one=$(count 1)
	many=$(count 2000)
	echo "lookups: $one for 1 cycle, $many for 2000"
	[ "$one" -gt 0 ]
	[ "$one" -eq "$many" ]
}

@test "a signal handler's log write while the thread holds a context lock neither deadlocks nor loses the line (copy, share, chain)" {
	for m in copy share chain; do
		run --separate-stderr env CTXSHIM_MODE=$m LD_PRELOAD="$SHIM" timeout 60 "$T/api_sigwrite"
		assert_success
		n=${output#done }
		[ "$n" -gt 0 ]
		[ "$(printf '%s\n' "$stderr" | grep -c 'tick from a signal handler$')" -eq "$n" ]
		# decorated lines carry one of the thread's ids
		[ "$(printf '%s\n' "$stderr" | grep -c '^\[request_id=req-[0-9]*\] tick')" -gt 0 ]
	done
}

@test "a thread with a 16 kB stack starts programs by every route (copy, share, chain)" {
	for m in copy share chain; do
		run env CTXSHIM_MODE=$m BAGGAGE=request_id=ss LD_PRELOAD="$SHIM" timeout 30 "$T/api_edge" smallstack
		assert_success
		assert_output "spawned request_id=ss
system request_id=ss
popen request_id=ss
spawned request_id=ss"
	done
}

@test "popen streams opened with and without a context close independently (no pclose hang)" {
	for m in copy share chain; do
		run env CTXSHIM_MODE=$m LD_PRELOAD="$SHIM" timeout 20 "$T/api_edge" popenmix
		assert_success
		assert_output "pclose first: 0
pclose second: 0"
	done
}

@test "execve from a signal handler that interrupted a context change works (copy, share, chain)" {
	for m in copy share chain; do
		run env CTXSHIM_MODE=$m LD_PRELOAD="$SHIM" timeout 20 "$T/api_edge" sigexec
		assert_success
		assert_output "exec from a signal handler"
	done
}

@test "chain mode: a thread's view holds at most 64 entries; set past it fails with ENOSPC, unset frees room" {
	run env CTXSHIM_MODE=chain LD_PRELOAD="$SHIM" "$T/api_edge" chainfull
	assert_success
	assert_output "child set 4 new keys, sees 64 entries
replace an inherited key: 0
unset an inherited key: 0
unset an own key: 0
child sees 62 entries"
}

@test "attach(NULL) runs on an empty context and detach restores the caller's" {
	for m in copy share chain; do
		run env CTXSHIM_MODE=$m LD_PRELOAD="$SHIM" "$T/api_edge" attachnull
		assert_output "inside -1 after mine"
	done
}

@test "ctxshim_get from another library's constructor, before ours ran, finds the inherited value" {
	run env LD_PRELOAD="$SHIM $T/libearlyget.so" BAGGAGE=request_id=abc /bin/true
	assert_success
	assert_output "early get: 3 abc"
}
