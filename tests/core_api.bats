#!/usr/bin/env bats
# The public API (include/ctxshim.h): with the shim, without it, and linked.
load common

@test "API with the shim: every call keeps its contract (copy, share, chain)" {
	for m in copy share chain; do
		run env CTXSHIM_MODE=$m LD_PRELOAD="$SHIM" "$T/api_limits"
		assert_success
		refute_output --partial FAIL
		assert_line --regexp '^job id JOB-[0-9a-f]{32}$'
	done
}

@test "API without the shim: a plain 'cc -I include' program runs; set fails with ENOSYS, get reports unset" {
	run "$T/api_limits" absent
	assert_success
	refute_output --partial FAIL
	assert_line "ok absent: set fails with ENOSYS"
	assert_line "ok absent: get reports unset"
}

@test "API linked with -lctxshim works without LD_PRELOAD" {
	tmp=$(mktemp -d)
	cc -I"$ROOT/include" "$ROOT/tests/progs/api_limits.c" -L"$ROOT/build" -lctxshim \
		-Wl,-rpath,"$ROOT/build" -pthread -o "$tmp/linked"
	run "$tmp/linked"
	rm -rf "$tmp"
	assert_success
	refute_output --partial FAIL
}

@test "CTXSHIM_DISABLE=1: the API acts as if the shim were absent" {
	run env CTXSHIM_DISABLE=1 LD_PRELOAD="$SHIM" "$T/api_limits" absent
	assert_success
	refute_output --partial FAIL
}

@test "the library exports only the API and the hooks listed in hooks.def" {
	exported=$(nm -D --defined-only "$SHIM" | awk '{print $3}' | sort)
	listed=$( (sed -n 's/^HOOK[A-Z_]*(\([A-Za-z0-9_]*\).*/\1/p' "$ROOT/shim/hooks.def";
		   sed -n 's/^CTXSHIM__DECL [^(]*[ *]\(ctxshim_[a-z_]*\)(.*/\1/p' "$ROOT/include/ctxshim.h") | sort)
	[ "$exported" = "$listed" ]
}
