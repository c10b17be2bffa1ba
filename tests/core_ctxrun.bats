#!/usr/bin/env bats
# scripts/ctxrun, the launcher, and `make install`.
load common

@test "ctxrun --help describes every option" {
	run "$CTXRUN" --help
	assert_success
	for o in --set --mode --job --get --conn --http --control; do
		assert_output --partial -- "$o"
	done
}

@test "ctxrun: bad usage gets a one-line error and exit 2" {
	run "$CTXRUN"
	assert_failure 2
	assert_line --index 0 "ctxrun: no command given"
	run "$CTXRUN" --mode fast -- true
	assert_failure 2
	assert_line --index 0 "ctxrun: --mode must be copy, share or chain, not 'fast'"
	run "$CTXRUN" --frobnicate -- true
	assert_failure 2
	assert_line --index 0 "ctxrun: unknown option '--frobnicate'"
	run "$CTXRUN" -s
	assert_failure 2
	assert_line --index 0 "ctxrun: option '-s' needs an argument"
	run -127 "$CTXRUN" -- /nonexistent/program
	assert_output --partial "cannot run '/nonexistent/program'"
}

@test "ctxrun -s sets entries on top of an inherited BAGGAGE" {
	run env BAGGAGE="tenant=acme,request_id=old" "$CTXRUN" -s request_id=new -- "$CTXRUN" --get tenant
	assert_output acme
	run env BAGGAGE="tenant=acme,request_id=old" "$CTXRUN" -s request_id=new -- "$CTXRUN" --get request_id
	assert_output new
}

@test "ctxrun --get exits 1 when the key is unset and 2 for an invalid key" {
	run "$CTXRUN" --get request_id
	assert_failure 1
	assert_output ""
	run "$CTXRUN" --get 'bad key'
	assert_failure 2
}

@test "ctxrun --job: a unique request_id starting with JOB, request_path = the job name" {
	a=$("$CTXRUN" --job nightly -- "$CTXRUN" --get request_id)
	b=$("$CTXRUN" --job nightly -- "$CTXRUN" --get request_id)
	[[ $a =~ ^JOB-[0-9a-f]{32}$ ]]
	[ "$a" != "$b" ]
	run "$CTXRUN" --job nightly -- "$CTXRUN" --get request_path
	assert_output nightly
	# An explicit -s request_id wins over the job's generated one.
	run "$CTXRUN" --job nightly -s request_id=mine -- "$CTXRUN" --get request_id
	assert_output mine
}

@test "ctxrun --mode sets the mode for the whole process tree" {
	run "$CTXRUN" --mode chain -- /bin/sh -c 'echo $CTXSHIM_MODE'
	assert_output chain
	run "$CTXRUN" --mode share -- "$T/api_modes" table
	assert_line --index 2 "parent after: simple=from child complex=from parent"
}

@test "make install puts the library, header, ctxrun and a pkg-config file in place; the installed ctxrun works" {
	dest=$(mktemp -d)
	run make -C "$ROOT" install DESTDIR="$dest" PREFIX=/opt/ctxshim
	assert_success
	for f in lib/libctxshim.so include/ctxshim.h bin/ctxrun libexec/ctxshim/ctxrun-helper \
		 lib/pkgconfig/ctxshim.pc; do
		[ -e "$dest/opt/ctxshim/$f" ]
	done
	run "$dest/opt/ctxshim/bin/ctxrun" -s request_id=inst -- /bin/sh -c 'echo "$BAGGAGE ${LD_PRELOAD}"'
	assert_success
	assert_output "request_id=inst $dest/opt/ctxshim/lib/libctxshim.so.0"
	run env PKG_CONFIG_PATH="$dest/opt/ctxshim/lib/pkgconfig" pkg-config --cflags --libs ctxshim
	assert_equal "$(echo $output)" "-I/opt/ctxshim/include -L/opt/ctxshim/lib -lctxshim"
	rm -rf "$dest"
}

@test "ctxrun works with CDPATH set and rejects an empty job name" {
	mkdir -p "$BATS_TEST_TMPDIR/cdp/scripts"
	run env CDPATH="$BATS_TEST_TMPDIR/cdp:.:" "$CTXRUN" -s request_id=cd -- "$CTXRUN" --get request_id
	assert_success
	assert_output cd
	run "$CTXRUN" --job '' -- true
	assert_failure 2
	assert_line --index 0 "ctxrun: --job needs a non-empty NAME"
}

@test "ctxrun's own error lines carry no context decoration" {
	run -127 "$CTXRUN" -s request_id=abc -- /nonexistent/program
	assert_output "ctxrun: cannot run '/nonexistent/program': No such file or directory"
}
