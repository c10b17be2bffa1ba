#!/usr/bin/env bats
# Logging, OpenTelemetry style (CTXSHIM_LOG_STYLE=otel): every decorated
# line is one OTLP/JSON LogRecord that tests/otel_check.py validates member
# by member (names and types as opentelemetry-proto's logs.proto gives them).
load common

PY=/usr/bin/python3
CHECK=$BATS_TEST_DIRNAME/otel_check.py
TRACE=4bf92f3577b34da6a3ce929d0e0e4736
SPAN=00f067aa0ba902b7

@test "otel style: each stderr line is one LogRecord; the context as attributes, the W3C ids as traceId/spanId" {
	LD_PRELOAD=$SHIM BAGGAGE="request_id=r1,user=x%0Ay%22z,trace_id=$TRACE,span_id=$SPAN,trace_flags=01" \
		CTXSHIM_LOG_STYLE=otel CTXSHIM_SERVICE=api \
		"$T/log_calls" fprintf pieces multi perror warnx write 2>"$BATS_TEST_TMPDIR/e"
	run $PY "$CHECK" "$BATS_TEST_TMPDIR/e"
	assert_success
	[ "${#lines[@]}" -eq 10 ]
	assert_line --index 0 "9 info $TRACE $SPAN 1 api request_id='r1',user='x\ny\"z' 'fprintf 1 one'"
	assert_line --index 1 --partial " 'a b c d e'"
	assert_line --index 7 --partial " 'perror: No such file or directory'"
	assert_line --index 8 --regexp " 'log_calls: warnx x'$"
	assert_line --index 9 --partial " 'write line'"
}

@test "otel style: whatever bytes the program writes, every record is valid JSON and UTF-8" {
	LD_PRELOAD=$SHIM BAGGAGE='request_id=r%FF1,k=%01%C2%85' CTXSHIM_LOG_STYLE=otel CTXSHIM_LOG_DEFAULT_LEVEL=warning \
		$PY -c 'import os
os.write(2, b"bad \xff utf8 \"q\" \\ \x01\x7f caf\xc3\xa9 \xe2\x80\xa8 \xc2\x85\n")
os.write(2, b"\xc3 \xed\xa0\x80 \xf4\x90\x80\x80\n")
os.write(2, b"split \xe2")
os.write(2, b"\x82\xac end\n")' 2>"$BATS_TEST_TMPDIR/e"
	run $PY "$CHECK" "$BATS_TEST_TMPDIR/e"
	assert_success
	[ "${#lines[@]}" -eq 3 ]
	# warning is WARN (13); bad bytes in values and messages become U+FFFD
	assert_line --index 0 "13 warning - - - python3 request_id='r\\ufffd1',k='\\x01\\x85' 'bad \\ufffd utf8 \"q\" \\\\ \\x01\\x7f caf\\xe9 \\u2028 \\x85'"
	assert_line --index 1 --partial " '\\ufffd \\ufffd\\ufffd\\ufffd \\ufffd\\ufffd\\ufffd\\ufffd'"
	assert_line --index 2 --partial " 'split \\u20ac end'"
}

@test "otel style: a line without a context is left as the program wrote it" {
	CTXSHIM_LOG_STYLE=otel shim "$T/log_calls" fprintf write 2>"$BATS_TEST_TMPDIR/shim"
	"$T/log_calls" fprintf write 2>"$BATS_TEST_TMPDIR/plain"
	cmp "$BATS_TEST_TMPDIR/plain" "$BATS_TEST_TMPDIR/shim"
}

@test "ctxrun --style otel sets the style; a bad style is refused" {
	run "$CTXRUN" --style otel -s request_id=r9 -- "$T/log_calls" fprintf
	assert_success
	assert_output --regexp '^\{"timeUnixNano":"[0-9]+","severityNumber":9,.*"key":"request_id","value":\{"stringValue":"r9"\}\}\],"body":\{"stringValue":"fprintf 1 one"\}\}$'
	run "$CTXRUN" --style otlp -- true
	assert_failure
	assert_output --partial 'text, logfmt, json or otel'
}
