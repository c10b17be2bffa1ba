#!/usr/bin/env bats
# Logging: lines an unmodified program writes to stderr (stdio,
# err/warn/error, write/writev) carry its context; nothing else changes.
load common

PY=/usr/bin/python3
ALL="fprintf vfprintf dprintf fputs fputc putc fwrite perror warn warnx vwarn vwarnx
     error error_at_line progname write writev pieces multi"

# Run CMD under the shim with request_id=r1; stderr in $err, stdout in $out.
ctx() {
	status=0
	LD_PRELOAD=$SHIM BAGGAGE=request_id=r1 "$@" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" ||
		status=$?
	out=$(cat "$BATS_TEST_TMPDIR/out")
	err=$(cat "$BATS_TEST_TMPDIR/err")
}

@test "empty context or CTXSHIM_DISABLE: every line family is byte-for-byte what it is without the shim" {
	# shellcheck disable=SC2086
	"$T/log_calls" $ALL printf puts putchar ret long:70000 >"$BATS_TEST_TMPDIR/plain" 2>&1
	# shellcheck disable=SC2086
	shim "$T/log_calls" $ALL printf puts putchar ret long:70000 >"$BATS_TEST_TMPDIR/shim" 2>&1
	cmp "$BATS_TEST_TMPDIR/plain" "$BATS_TEST_TMPDIR/shim"
	# disabled, with a context: error() and error_at_line() are printed by
	# the shim's own code then, byte for byte glibc's
	# shellcheck disable=SC2086
	CTXSHIM_DISABLE=1 BAGGAGE=request_id=r1 shim "$T/log_calls" $ALL printf puts putchar ret \
		long:70000 >"$BATS_TEST_TMPDIR/disabled" 2>&1
	cmp "$BATS_TEST_TMPDIR/plain" "$BATS_TEST_TMPDIR/disabled"
	# shellcheck disable=SC2086
	CTXSHIM_LOG_STYLE=json shim "$T/log_fortify" $ALL >"$BATS_TEST_TMPDIR/shim2" 2>&1
	# shellcheck disable=SC2086
	"$T/log_fortify" $ALL >"$BATS_TEST_TMPDIR/plain2" 2>&1
	cmp "$BATS_TEST_TMPDIR/plain2" "$BATS_TEST_TMPDIR/shim2"
}

@test "stdio on stderr: fprintf, vfprintf, dprintf, fputs, fputc, putc, fwrite each get one decoration" {
	ctx "$T/log_calls" fprintf vfprintf dprintf fputs fputc putc fwrite
	[ "$status" -eq 0 ]
	[ "$err" = "[request_id=r1] fprintf 1 one
[request_id=r1] vfprintf 2
[request_id=r1] dprintf 5
[request_id=r1] fputs line
[request_id=r1] f
[request_id=r1] u
[request_id=r1] fwrite line" ]
}

@test "fortified builds: __fprintf_chk, __vfprintf_chk, __dprintf_chk, __printf_chk are decorated" {
	run nm -D "$T/log_fortify"
	assert_output --partial __fprintf_chk
	assert_output --partial __vfprintf_chk
	assert_output --partial __dprintf_chk
	assert_output --partial __printf_chk
	LD_PRELOAD=$SHIM BAGGAGE=request_id=r1 CTXSHIM_LOG=stderr,stdout \
		"$T/log_fortify" fprintf vfprintf dprintf printf >"$BATS_TEST_TMPDIR/o" 2>&1
	run cat "$BATS_TEST_TMPDIR/o"
	assert_line "[request_id=r1] fprintf 1 one"
	assert_line "[request_id=r1] vfprintf 2"
	assert_line "[request_id=r1] dprintf 5"
	assert_line "[request_id=r1] printf 3"
}

@test "fortified %n in a writable format still aborts under the shim" {
	cat >"$BATS_TEST_TMPDIR/n.c" <<'EOF'
#define _FORTIFY_SOURCE 2
#include <stdio.h>
#include <string.h>
int main(void)
{
	char fmt[16];
	int n;
	strcpy(fmt, "ab%n\n");
	fprintf(stderr, fmt, &n);
	return 0;
}
EOF
	cc -O2 -o "$BATS_TEST_TMPDIR/n" "$BATS_TEST_TMPDIR/n.c"
	run env LD_PRELOAD="$SHIM" BAGGAGE=request_id=r1 "$BATS_TEST_TMPDIR/n"
	[ "$status" -eq 134 ]   # SIGABRT from glibc's check, as without the shim
	assert_output --partial "%n in writable segment detected"
}

@test "err, errx, warn, warnx, vwarn, vwarnx, verr, verrx keep their text and exit status" {
	ctx "$T/log_calls" warn warnx vwarn vwarnx
	[ "$err" = "[request_id=r1] log_calls: warn w: Permission denied
[request_id=r1] log_calls: warnx x
[request_id=r1] log_calls: vwarn 6: Operation not permitted
[request_id=r1] log_calls: vwarnx 7" ]
	ctx "$T/log_calls" err
	[ "$status" -eq 2 ]
	[ "$err" = "[request_id=r1] log_calls: err fatal: No space left on device" ]
	ctx "$T/log_calls" errx
	[ "$status" -eq 2 ]
	[ "$err" = "[request_id=r1] log_calls: errx fatal" ]
	ctx "$T/log_calls" verr
	[ "$status" -eq 3 ]
	[ "$err" = "[request_id=r1] log_calls: verr 10: Input/output error" ]
	ctx "$T/log_calls" verrx
	[ "$status" -eq 3 ]
	[ "$err" = "[request_id=r1] log_calls: verrx 11" ]
}

@test "perror, error and error_at_line: glibc's text, one_per_line and error_print_progname kept" {
	ctx "$T/log_calls" perror error error_at_line progname
	[ "$err" = "[request_id=r1] perror: No such file or directory
[request_id=r1] $T/log_calls: error e: File exists
[request_id=r1] $T/log_calls:src.c:42: error_at_line 8
[request_id=r1] $T/log_calls:src.c:43: once
[request_id=r1] custom-name: with a custom name" ]
}

@test "write and writev on fd 2: one decoration per line" {
	ctx "$T/log_calls" write writev multi
	[ "$err" = "[request_id=r1] write line
[request_id=r1] writev one
[request_id=r1] writev two
[request_id=r1] m1
[request_id=r1] m2
[request_id=r1] m3
[request_id=r1] m4
[request_id=r1] m5" ]
}

@test "a line written in pieces through write, fprintf and fputs gets one decoration, at its start" {
	ctx "$T/log_calls" pieces pieces
	[ "$err" = "[request_id=r1] a b c d e
[request_id=r1] a b c d e" ]
}

@test "a line longer than every internal buffer stays whole, in text and json" {
	ctx "$T/log_calls" long:300000 longf:300000
	run awk '{ print length($0), substr($0, 1, 20) }' "$BATS_TEST_TMPDIR/err"
	[ "${lines[0]}" = "300015 [request_id=r1] abcd" ]
	[ "${lines[1]}" = "300016 [request_id=r1] abcd" ]
	[ "${#lines[@]}" -eq 2 ]
	LD_PRELOAD=$SHIM BAGGAGE=request_id=r1 CTXSHIM_LOG_STYLE=json "$T/log_calls" long:300000 longf:300000 \
		2>"$BATS_TEST_TMPDIR/json"
	run $PY -c '
import json, sys
for line in open(sys.argv[1]):
    o = json.loads(line)
    print(o["request_id"], len(o["message"]))' "$BATS_TEST_TMPDIR/json"
	[ "$output" = "r1 299999
r1 300000" ]
}

@test "return values count the program's bytes and errno is kept" {
	ctx "$T/log_calls" ret
	[ "$out" = "fprintf=18 write=10 writev=11 fputs=1 fwrite=11 dprintf=14 fputc=10 badfd=-1/EBADF errno_kept=1" ]
	[[ "$err" == *"[request_id=r1] ret fprintf 12345"* ]]
}

# stderr is a socket with small buffers to a slow reader outside the shim
# (logging_check.py relay): a socket the program made for its own child to
# read would be data, never decorated.
@test "short writes, EAGAIN on a non-blocking stderr: every line arrives whole with one decoration" {
	for style in text json; do
		$PY "$BATS_TEST_DIRNAME/logging_check.py" relay "$BATS_TEST_TMPDIR/o" \
			env LD_PRELOAD="$SHIM" BAGGAGE=request_id=pw CTXSHIM_LOG_STYLE=$style \
			timeout 60 "$T/log_partial" nonblock 300 given >"$BATS_TEST_TMPDIR/e"
		run $PY "$BATS_TEST_DIRNAME/logging_check.py" partial "$style" 300 "$BATS_TEST_TMPDIR/o"
		[ "$output" = "ok 300" ]
	done
	# the situation really arose
	run cat "$BATS_TEST_TMPDIR/e"
	[[ "$output" =~ short=[1-9] ]]
	[[ "$output" =~ eagain=[1-9] ]]
}

@test "EINTR and short writes from a timer without SA_RESTART: every line whole, one decoration" {
	for style in text logfmt text; do
		$PY "$BATS_TEST_DIRNAME/logging_check.py" relay "$BATS_TEST_TMPDIR/o" \
			env LD_PRELOAD="$SHIM" BAGGAGE=request_id=pw CTXSHIM_LOG_STYLE=$style \
			timeout 60 "$T/log_partial" eintr 300 given >>"$BATS_TEST_TMPDIR/e"
		run $PY "$BATS_TEST_DIRNAME/logging_check.py" partial "$style" 300 "$BATS_TEST_TMPDIR/o"
		[ "$output" = "ok 300" ]
	done
	# the situation really arose (it depends on timing: over three runs)
	run cat "$BATS_TEST_TMPDIR/e"
	[[ "$output" =~ eintr=[1-9] ]]
}

@test "a write from a signal handler neither deadlocks nor allocates, and is decorated" {
	LD_PRELOAD=$SHIM BAGGAGE=request_id=sig timeout 30 "$T/log_sig" 300 \
		>"$BATS_TEST_TMPDIR/o" 2>"$BATS_TEST_TMPDIR/e"
	[ "$(cat "$BATS_TEST_TMPDIR/o")" = "handled=300 allocs=0" ]
	run $PY "$BATS_TEST_DIRNAME/logging_check.py" signal "$BATS_TEST_TMPDIR/e"
	[ "$output" = "ok" ]
}

@test "8 threads x 5,000 lines through fprintf and write: 40,000 whole lines, each with its thread's id" {
	LD_PRELOAD=$SHIM timeout 60 "$T/log_threads" 8 5000 2>"$BATS_TEST_TMPDIR/e"
	run $PY "$BATS_TEST_DIRNAME/logging_check.py" threads 8 5000 "$BATS_TEST_TMPDIR/e"
	[ "$output" = "ok 40000" ]
}

@test "a newline or control character in a value can never start a line" {
	LD_PRELOAD=$SHIM BAGGAGE='request_id=x%0A2024-01-01%20FAKE%0D%1B[2J' "$T/log_calls" fprintf \
		2>"$BATS_TEST_TMPDIR/e"
	run cat "$BATS_TEST_TMPDIR/e"
	[ "${#lines[@]}" -eq 1 ]
	[ "$output" = '[request_id="x\n2024-01-01 FAKE\r\u001b[2J"] fprintf 1 one' ]
	LD_PRELOAD=$SHIM BAGGAGE='request_id=x%0Ay' CTXSHIM_LOG_FORMAT='<{request_id}> {message}' \
		"$T/log_calls" write 2>"$BATS_TEST_TMPDIR/e"
	run cat "$BATS_TEST_TMPDIR/e"
	[ "$output" = '<x\ny> write line' ]
}

@test "no double decoration when one hooked function calls another" {
	# fprintf and perror write through glibc's own write; vdprintf through
	# a stream of its own; error() calls the program's error_print_progname,
	# which calls fprintf
	ctx "$T/log_calls" fprintf perror dprintf progname
	run grep -c 'request_id=r1.*request_id' "$BATS_TEST_TMPDIR/err"
	[ "$output" = 0 ]
	run grep -c '^\[request_id=r1\] ' "$BATS_TEST_TMPDIR/err"
	[ "$output" = 4 ]
}

@test "templates: aiolocals' format, built-in fields and a suffix after the message" {
	LD_PRELOAD=$SHIM BAGGAGE='request_id=abc,request_path=/users' CTXSHIM_SERVICE=api \
		CTXSHIM_LOG_FORMAT='{service}: [{request_path}#{request_id}] {level} - {message}' \
		"$T/log_calls" write fprintf 2>"$BATS_TEST_TMPDIR/e"
	run cat "$BATS_TEST_TMPDIR/e"
	assert_line --index 0 "api: [/users#abc] info - write line"
	assert_line --index 1 "api: [/users#abc] info - fprintf 1 one"
	LD_PRELOAD=$SHIM BAGGAGE='request_id=abc' CTXSHIM_LOG_DEFAULT_LEVEL=warning \
		CTXSHIM_LOG_FORMAT='{message} <{level} {request_id} {pid}/{tid} {unset}>' \
		"$T/log_calls" pieces multi 2>"$BATS_TEST_TMPDIR/e"
	run cat "$BATS_TEST_TMPDIR/e"
	assert_line --index 0 --regexp '^a b c d e <warning abc [0-9]+/[0-9]+ >$'
	assert_line --index 1 --regexp '^m1 <warning abc [0-9]+/[0-9]+ >$'
	[ "${#lines[@]}" -eq 6 ]
}

@test "{time} and {time_utc}: ISO 8601 with milliseconds, local offset and Z" {
	TZ=Asia/Kolkata LD_PRELOAD=$SHIM BAGGAGE=request_id=t CTXSHIM_LOG_FORMAT='{time} {time_utc} {message}' \
		"$T/log_calls" fprintf write 2>"$BATS_TEST_TMPDIR/e"
	run cat "$BATS_TEST_TMPDIR/e"
	assert_line --index 0 --regexp '^20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]\.[0-9]{3}\+05:30 20[0-9-]{8}T[0-9:]{8}\.[0-9]{3}Z fprintf 1 one$'
	assert_line --index 1 --regexp '\+05:30 .*Z write line$'
	# the two agree
	run $PY -c '
import sys, datetime
a, b = open(sys.argv[1]).readline().split()[:2]
la = datetime.datetime.fromisoformat(a)
ub = datetime.datetime.fromisoformat(b.replace("Z", "+00:00"))
print(abs((la - ub).total_seconds()) < 0.01)' "$BATS_TEST_TMPDIR/e"
	[ "$output" = True ]
}

@test "{caller}: the function that wrote the line, from the symbol table" {
	LD_PRELOAD=$SHIM BAGGAGE=request_id=c CTXSHIM_LOG_FORMAT='{caller}: {message}' \
		"$T/log_caller" 2>"$BATS_TEST_TMPDIR/e"
	run cat "$BATS_TEST_TMPDIR/e"
	assert_line --index 0 --regexp '^handle_request\+0x[0-9a-f]+: handling 1$'
	assert_line --index 1 --regexp '^handle_request\+0x[0-9a-f]+: handling 2$'
	# write(2) lines name exported functions only (no libunwind there:
	# it may run in a signal handler), else file+offset
	assert_line --index 2 --regexp '^(finish_request|log_caller)\+0x[0-9a-f]+: finished$'
	# the shim never links libunwind
	run ldd "$SHIM"
	refute_output --partial libunwind
}

@test "logfmt style: key=value pairs, quoted when needed" {
	LD_PRELOAD=$SHIM BAGGAGE='request_id=r1,user=a%20b,q=say%22hi%22' CTXSHIM_LOG_STYLE=logfmt \
		"$T/log_calls" fprintf pieces 2>"$BATS_TEST_TMPDIR/e"
	run cat "$BATS_TEST_TMPDIR/e"
	assert_line --index 0 --regexp '^time=20[0-9-]+T[0-9:.]+Z level=info service=log_calls request_id=r1 q="say\\"hi\\"" user="a b" msg="fprintf 1 one"$'
	assert_line --index 1 --regexp ' msg="a b c d e"$'
}

@test "json style: one valid object per line, escaped, with every context entry" {
	LD_PRELOAD=$SHIM BAGGAGE='request_id=r1,user=x%0Ay%22z' CTXSHIM_LOG_STYLE=json \
		"$T/log_calls" fprintf pieces multi perror 2>"$BATS_TEST_TMPDIR/e"
	LD_PRELOAD=$SHIM BAGGAGE=request_id=r1 CTXSHIM_LOG_STYLE=json \
		$PY -c 'import os; os.write(2, b"bad \xff utf8 \"q\" \\ \x01 caf\xc3\xa9\n")' 2>>"$BATS_TEST_TMPDIR/e"
	run $PY -c '
import json, sys
for line in open(sys.argv[1], "rb"):
    o = json.loads(line)
    print(list(o), o["request_id"], ascii(o.get("user")), ascii(o["message"]))' "$BATS_TEST_TMPDIR/e"
	[ "${#lines[@]}" -eq 9 ]
	assert_line --index 0 "['time', 'level', 'service', 'request_id', 'user', 'message'] r1 'x\ny\"z' 'fprintf 1 one'"
	assert_line --index 1 --partial "'a b c d e'"
	assert_line --index 6 --partial "'m5'"
	assert_line --index 7 --partial "'perror: No such file or directory'"
	assert_line --index 8 "['time', 'level', 'service', 'request_id', 'message'] r1 None 'bad \\ufffd utf8 \"q\" \\\\ \\x01 caf\\xe9'"
}

@test "stdout is a sink only when asked: printf, puts, putchar" {
	LD_PRELOAD=$SHIM BAGGAGE=request_id=r1 "$T/log_calls" printf puts putchar >"$BATS_TEST_TMPDIR/o"
	[ "$(cat "$BATS_TEST_TMPDIR/o")" = "printf 3
puts line
p" ]
	LD_PRELOAD=$SHIM BAGGAGE=request_id=r1 CTXSHIM_LOG=stdout "$T/log_calls" printf vprintf puts putchar \
		fprintf >"$BATS_TEST_TMPDIR/o" 2>"$BATS_TEST_TMPDIR/e"
	[ "$(cat "$BATS_TEST_TMPDIR/o")" = "[request_id=r1] printf 3
[request_id=r1] vprintf 4
[request_id=r1] puts line
[request_id=r1] p" ]
	# stderr is not a sink then
	[ "$(cat "$BATS_TEST_TMPDIR/e")" = "fprintf 1 one" ]
}

@test "CTXSHIM_LOG=none leaves stderr alone; a bad setting warns and keeps going" {
	LD_PRELOAD=$SHIM BAGGAGE=request_id=r1 CTXSHIM_LOG=none "$T/log_calls" fprintf write 2>"$BATS_TEST_TMPDIR/e"
	[ "$(cat "$BATS_TEST_TMPDIR/e")" = "fprintf 1 one
write line" ]
	LD_PRELOAD=$SHIM BAGGAGE=request_id=r1 CTXSHIM_LOG=stderr,bogus CTXSHIM_LOG_STYLE=yaml \
		"$T/log_calls" write 2>"$BATS_TEST_TMPDIR/e"
	run cat "$BATS_TEST_TMPDIR/e"
	assert_line --partial "unknown sink 'bogus'"
	assert_line --partial "CTXSHIM_LOG_STYLE=yaml"
	assert_line "[request_id=r1] write line"
}

@test "python's stderr (sys.stderr, logging) and http.server's request log are decorated" {
	LD_PRELOAD=$SHIM BAGGAGE=request_id=py1 $PY -c '
import sys, logging
sys.stderr.write("part "); sys.stderr.write("two\n")
logging.basicConfig(level=logging.INFO); logging.info("via logging")' 2>"$BATS_TEST_TMPDIR/e"
	[ "$(cat "$BATS_TEST_TMPDIR/e")" = "[request_id=py1] part two
[request_id=py1] INFO:root:via logging" ]
	port=$(free_port)
	LD_PRELOAD=$SHIM BAGGAGE=request_id=srv $PY -m http.server "$port" --bind 127.0.0.1 \
		--directory "$BATS_TEST_TMPDIR" 2>"$BATS_TEST_TMPDIR/srv" >/dev/null &
	SRV=$!
	wait_port "$port"
	curl -s -o /dev/null "http://127.0.0.1:$port/"
	kill "$SRV"
	wait "$SRV" || true
	run cat "$BATS_TEST_TMPDIR/srv"
	assert_line --regexp '^\[request_id=srv\] 127\.0\.0\.1 - - \[.*\] "GET / HTTP/1\.1" 200 -$'
}

@test "shells: echo >&2 in sh and bash is decorated (dup2 carries the log fd), stdout is not" {
	for sh in sh bash; do
		LD_PRELOAD=$SHIM BAGGAGE=request_id=s1 $sh -c 'echo to-stderr >&2; echo to-stdout; echo again >&2' \
			>"$BATS_TEST_TMPDIR/o" 2>"$BATS_TEST_TMPDIR/e"
		[ "$(cat "$BATS_TEST_TMPDIR/o")" = "to-stdout" ]
		[ "$(cat "$BATS_TEST_TMPDIR/e")" = "[request_id=s1] to-stderr
[request_id=s1] again" ]
	done
}

@test "coreutils and grep (glibc's error() in Debian binaries) are decorated" {
	run env LD_PRELOAD="$SHIM" BAGGAGE=request_id=c1 ls /nonexistent-ctxshim
	[ "$output" = "[request_id=c1] ls: cannot access '/nonexistent-ctxshim': No such file or directory" ]
	run env LD_PRELOAD="$SHIM" BAGGAGE=request_id=c1 grep -q x /nonexistent-ctxshim
	[ "$output" = "[request_id=c1] grep: /nonexistent-ctxshim: No such file or directory" ]
}

teardown() {
	[ -n "${SRV:-}" ] && kill "$SRV" 2>/dev/null || true
}

@test "daemonising: close(2) then dup2(file, 2) makes fd 2 a decorated log again" {
	f=$BATS_TEST_TMPDIR/err.log
	run env BAGGAGE=request_id=abc LD_PRELOAD="$SHIM" python3 -c "
import os
fd = os.open('$f', os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
os.close(2)
os.dup2(fd, 2)
os.write(2, b'hello\n')"
	assert_success
	assert_equal "$(cat "$f")" "[request_id=abc] hello"
}
