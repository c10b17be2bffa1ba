#!/usr/bin/env bats
# Logging: whatever bytes a program writes and
# whatever its context holds, every json line is one complete JSON object
# in valid UTF-8, every logfmt line is well formed, and no control character
# (C0, DEL, C1 such as CSI U+009B) nor invalid byte reaches a log from a
# context value.  Checked by tests/logging_check.py strict.
load common

CHECK=$BATS_TEST_DIRNAME/logging_check.py
PY=/usr/bin/python3
# A context with a C1 CSI (U+009B, C2 9B), an ESC, a raw 0x9b and a raw 0xff
HOSTILE='request_id=r1,k=%C2%9B%5B31m%1B%5B2J%9B%FF'

# strict STYLE CMD...: run CMD under the shim in STYLE; the checker's
# output (each message as JSON) in $output.
strict() {
	local style=$1
	shift
	LD_PRELOAD=$SHIM CTXSHIM_LOG_STYLE=$style "$@" 2>"$BATS_TEST_TMPDIR/err" \
		>"$BATS_TEST_TMPDIR/raw"
	run $PY "$CHECK" strict "$style" "$BATS_TEST_TMPDIR/err" ${RAW:+"$BATS_TEST_TMPDIR/raw"}
}

@test "json and logfmt: a UTF-8 sequence cut by the end of a write or a line is held, completed or U+FFFD" {
	for style in json logfmt; do
		BAGGAGE=request_id=r1 strict "$style" "$T/log_utf8" cutnl split splitv bad stdio
		assert_success
		[ "$output" = '"x\ufffd"
"\u20ac ok"
"a\ud83d\ude00 b"
"\ufffdA"
"y\ud83d\ude00"' ]
	done
}

@test "json and logfmt: 5,000 random writes of cut, invalid and control bytes give valid lines with the program's text" {
	for style in json logfmt; do
		for seed in 1 2 3; do
			BAGGAGE=request_id=r1 RAW=1 strict "$style" "$T/log_utf8" random 5000 "$seed"
			assert_success
			[ "${#lines[@]}" -gt 400 ]
		done
	done
}

# stderr is a socket to a slow reader outside the shim (logging_check.py
# relay): a socket the program made for its own child to read would be
# data, never decorated.
@test "json and logfmt: random pieces through short writes and EAGAIN on a slow non-blocking socket stay valid and whole" {
	for style in json logfmt; do
		for seed in 4 5; do
			$PY "$CHECK" relay "$BATS_TEST_TMPDIR/out" \
				env LD_PRELOAD="$SHIM" BAGGAGE=request_id=r1 CTXSHIM_LOG_STYLE=$style \
				timeout 60 "$T/log_utf8" partial 3000 "$seed" "$BATS_TEST_TMPDIR/raw" \
				>>"$BATS_TEST_TMPDIR/counts"
			run $PY "$CHECK" strict "$style" "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/raw"
			assert_success
			[ "${#lines[@]}" -gt 400 ]
		done
	done
	# the situation really arose (over the four runs)
	run cat "$BATS_TEST_TMPDIR/counts"
	[[ "$output" =~ short=[1-9] ]]
	[[ "$output" =~ eagain=[1-9] ]]
}

@test "a line begun through a dup2 copy of fd 2 and ended through another is one record (C program)" {
	for style in json logfmt; do
		BAGGAGE=request_id=r1 strict "$style" "$T/log_utf8" dup dupclose heir split
		assert_success
		[ "$output" = '"ab"
"ab"
"ab"
"\u20ac ok"' ]
	done
}

@test "bash: printf a >&2; echo b >&2 is one complete JSON record" {
	BAGGAGE=request_id=r1 strict json bash -c \
		'printf "a" >&2; echo "b" >&2; printf "x" >&2; printf "\xc3" >&2; printf "\xa9\n" >&2; printf "c\xe2" >&2; echo >&2'
	assert_success
	[ "$output" = '"ab"
"x\u00e9"
"c\ufffd"' ]
}

@test "json and logfmt: a record left open is ended at exit and when its file is replaced, not by a forked child" {
	for style in json logfmt; do
		BAGGAGE=request_id=r1 strict "$style" "$T/log_utf8" forknonl nonl
		assert_success
		[ "$output" = '"ab"
"tail\ufffd"' ]
	done
	# the line written only through copies of fd 2, never on fd 2 itself
	# (not judged yet when it is replaced or the process exits)
	for style in json logfmt; do
		BAGGAGE=request_id=r1 strict "$style" "$T/log_utf8" dupnull dupnonl
		assert_success
		[ "$output" = '"a"
"b"
"c"' ]
	done
	# stdout a log, fully buffered: the end goes after the buffered bytes
	LD_PRELOAD=$SHIM BAGGAGE=request_id=r1 CTXSHIM_LOG=stdout CTXSHIM_LOG_STYLE=json \
		"$T/log_utf8" outnonl >"$BATS_TEST_TMPDIR/out"
	run $PY "$CHECK" strict json "$BATS_TEST_TMPDIR/out"
	assert_success
	[ "$output" = '"one"
"partial more"' ]
	# bash: fd 2 replaced by /dev/null for one command, a subshell, then a
	# last line without a newline
	BAGGAGE=request_id=r1 strict json bash -c \
		'printf a >&2; echo hidden 2>/dev/null >&2; printf b >&2; (exit 0); v=$(echo x); printf "c$v" >&2'
	assert_success
	[ "$output" = '"a"
"bcx"' ]
	# python's subprocess dup2s over fd 2 in a vforked child, on the
	# parent's memory: the parent's open line goes on
	BAGGAGE=request_id=r1 strict json $PY -c '
import subprocess, sys
sys.stderr.write("a"); sys.stderr.flush()
subprocess.run(["true"], stderr=subprocess.DEVNULL)
subprocess.run(["true"], stderr=subprocess.STDOUT)
sys.stderr.write("b\n"); sys.stderr.flush()'
	assert_success
	[ "$output" = '"ab"' ]
}

@test "C1 controls and invalid bytes in message bytes are escaped in json and logfmt" {
	for style in json logfmt; do
		BAGGAGE=request_id=r1 strict "$style" "$T/log_utf8" c1
		assert_success
		[ "$output" = '"csi \u009b[31m and \ufffd raw"' ]
		run grep -c $'\xc2\x9b' "$BATS_TEST_TMPDIR/err"
		[ "$output" = 0 ]
	done
}

@test "C1 controls and invalid bytes in context values: escaped in json" {
	BAGGAGE=$HOSTILE strict json "$T/log_utf8" split
	assert_success
	run $PY -c 'import json,sys; print(json.dumps(json.loads(open(sys.argv[1]).readline())["k"]))' \
		"$BATS_TEST_TMPDIR/err"
	[ "$output" = '"\u009b[31m\u001b[2J\ufffd\ufffd"' ]
}

@test "C1 controls and invalid bytes in context values: escaped in logfmt" {
	BAGGAGE=$HOSTILE strict logfmt "$T/log_utf8" split
	assert_success
	run grep -o ' k="[^"]*"' "$BATS_TEST_TMPDIR/err"
	[ "$output" = ' k="\u009b[31m\u001b[2J\ufffd\ufffd"' ]
}

@test "C1 controls and invalid bytes in context values: escaped in text, as {KEY} and in {context}" {
	BAGGAGE=$HOSTILE CTXSHIM_LOG_FORMAT='[{k}] {message}' strict text "$T/log_utf8" split
	assert_success
	[ "$output" = '[\u009b[31m\x1b[2J\x9b\xff] "\u20ac ok"' ]
	BAGGAGE=$HOSTILE strict text "$T/log_utf8" split
	assert_success
	[ "$output" = '[request_id=r1 k="\u009b[31m\u001b[2J\ufffd\ufffd"] "\u20ac ok"' ]
	# the service name ({service}) goes through the same escaper
	BAGGAGE=$HOSTILE CTXSHIM_SERVICE=$'svc\xc2\x9bx' CTXSHIM_LOG_FORMAT='[{service}] {message}' \
		strict text "$T/log_utf8" split
	assert_success
	[ "$output" = '[svc\u009bx] "\u20ac ok"' ]
}
