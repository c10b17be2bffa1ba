#!/usr/bin/env bats
# Logging, syslog: messages reach a real syslog socket decorated,
# with their priority, ident and %m intact.  Each test runs in a private
# mount namespace where /dev is overlaid and /dev/log is a datagram socket
# bound by the test itself, so the host's syslog is never touched.
load common

PY=/usr/bin/python3

# The receiver: every datagram on its own line (newlines as \n) until one
# reads "END".
RECEIVER='
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
try:
    os.unlink("/dev/log")
except FileNotFoundError:
    pass
s.bind("/dev/log")
s.settimeout(20)
with open(sys.argv[1], "wb") as out:
    while True:
        d = s.recv(65536)
        if d == b"END":
            break
        out.write(d.replace(b"\n", b"\\n") + b"\n")
        out.flush()
'

# devlog CMD...: run CMD (with the shim preloaded, env from the caller)
# where /dev/log is our socket; the datagrams end up in $BATS_TEST_TMPDIR/log
# and CMD's stderr in $BATS_TEST_TMPDIR/stderr.
devlog() {
	local d=$BATS_TEST_TMPDIR ov
	ov=$(mktemp -d "$d/ov.XXXXXX")   # a fresh overlay for each run
	mkdir -p "$ov/up" "$ov/work"
	: >"$d/log"
	timeout 30 unshare -m /bin/sh -c '
		d=$1 py=$2 rx=$3 shim=$4 ov=$5; shift 5
		mount --make-rprivate / &&
		mount -t overlay overlay -o "lowerdir=/dev,upperdir=$ov/up,workdir=$ov/work" /dev ||
			{ echo "cannot overlay /dev" >&2; exit 97; }
		"$py" -c "$rx" "$d/log" & rx_pid=$!
		i=0
		while [ ! -S /dev/log ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
		LD_PRELOAD=$shim "$@" 2>"$d/stderr"
		rc=$?
		"$py" -c "import socket; socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b\"END\", \"/dev/log\")"
		wait $rx_pid
		exit $rc' sh "$d" "$PY" "$RECEIVER" "$SHIM" "$ov" "$@"
}

@test "syslog and vsyslog: the message is decorated; priority, ident and pid kept" {
	BAGGAGE=request_id=r1 devlog "$T/log_calls" openlog syslog vsyslog
	run cat "$BATS_TEST_TMPDIR/log"
	[ "${#lines[@]}" -eq 2 ]
	# LOG_LOCAL3 (152) + LOG_WARNING (4), + LOG_NOTICE (5)
	assert_line --index 0 --regexp '^<156>[A-Z][a-z]{2} [ 0-9]{2} [0-9:]{8} logcalls\[[0-9]+\]: \[request_id=r1\] syslog warning 9$'
	assert_line --index 1 --regexp '^<157>.* logcalls\[[0-9]+\]: \[request_id=r1\] vsyslog notice$'
}

@test "fortified __syslog_chk and __vsyslog_chk are decorated too" {
	run nm -D "$T/log_fortify"
	assert_output --partial __syslog_chk
	assert_output --partial __vsyslog_chk
	BAGGAGE=request_id=r2 devlog "$T/log_fortify" syslog vsyslog syslog_m
	run cat "$BATS_TEST_TMPDIR/log"
	[ "${#lines[@]}" -eq 3 ]
	# no openlog: LOG_USER (8) and the program's name
	assert_line --index 0 --regexp '^<12>.* log_fortify: \[request_id=r2\] syslog warning 9$'
	assert_line --index 1 --regexp '^<13>.* log_fortify: \[request_id=r2\] vsyslog notice$'
	assert_line --index 2 --regexp '^<11>.* log_fortify: \[request_id=r2\] open failed: No such file or directory$'
}

@test "%m in syslog shows the caller's errno text" {
	BAGGAGE=request_id=r1 devlog "$T/log_calls" syslog_m
	run cat "$BATS_TEST_TMPDIR/log"
	assert_line --regexp '^<11>.* log_calls: \[request_id=r1\] open failed: No such file or directory$'
}

@test "a % in a context value stays literal; positional arguments, %% and %m still work" {
	BAGGAGE='request_id=a%25s%25n%25%25,x=%25m' devlog "$T/log_calls" syslog_pos
	run cat "$BATS_TEST_TMPDIR/log"
	[ "${#lines[@]}" -eq 1 ]
	assert_line --regexp '^<14>.* log_calls: \[request_id=a%s%n%% x=%m\] b a 50% Permission denied$'
	BAGGAGE='request_id=a%25s' devlog "$T/log_fortify" syslog_pos syslog_m
	run cat "$BATS_TEST_TMPDIR/log"
	assert_line --index 0 --regexp '^<14>.* log_fortify: \[request_id=a%s\] b a 50% Permission denied$'
	assert_line --index 1 --regexp '^<11>.* log_fortify: \[request_id=a%s\] open failed: No such file or directory$'
}

@test "fortified syslog with %n in a writable format still aborts, as without the shim" {
	cat >"$BATS_TEST_TMPDIR/n.c" <<'EOF'
#define _FORTIFY_SOURCE 2
#include <string.h>
#include <syslog.h>
int main(void)
{
	char fmt[16];
	int n;
	strcpy(fmt, "ab%n");
	syslog(LOG_INFO, fmt, &n);
	return 0;
}
EOF
	cc -O2 -o "$BATS_TEST_TMPDIR/n" "$BATS_TEST_TMPDIR/n.c"
	status=0
	BAGGAGE=request_id=r1 devlog "$BATS_TEST_TMPDIR/n" || status=$?
	[ "$status" -eq 134 ]
}

@test "CTXSHIM_LOG_LEVEL drops syslog messages below the level" {
	BAGGAGE=request_id=r1 CTXSHIM_LOG_LEVEL=info devlog "$T/log_calls" syslog_debug syslog
	run cat "$BATS_TEST_TMPDIR/log"
	[ "${#lines[@]}" -eq 2 ]
	assert_line --index 0 --regexp '^<14>.*\] info detail$'
	assert_line --index 1 --regexp '^<12>.*\] syslog warning 9$'
	# default: everything
	BAGGAGE=request_id=r1 devlog "$T/log_calls" syslog_debug
	run cat "$BATS_TEST_TMPDIR/log"
	[ "${#lines[@]}" -eq 2 ]
	assert_line --index 0 --regexp '^<15>.*\] debug detail$'
}

@test "empty context: the datagrams are exactly glibc's own" {
	devlog "$T/log_calls" openlog syslog vsyslog syslog_m syslog_debug
	sed -E 's/^(<[0-9]+>)[A-Z][a-z]{2} [ 0-9]{2} [0-9:]{8}/\1TIME/; s/\[[0-9]+\]/[PID]/' \
		"$BATS_TEST_TMPDIR/log" >"$BATS_TEST_TMPDIR/with"
	# the same program without the shim, through the same kind of socket
	SHIM= devlog "$T/log_calls" openlog syslog vsyslog syslog_m syslog_debug
	sed -E 's/^(<[0-9]+>)[A-Z][a-z]{2} [ 0-9]{2} [0-9:]{8}/\1TIME/; s/\[[0-9]+\]/[PID]/' \
		"$BATS_TEST_TMPDIR/log" >"$BATS_TEST_TMPDIR/without"
	run cat "$BATS_TEST_TMPDIR/with"
	[ "${#lines[@]}" -eq 5 ]
	cmp "$BATS_TEST_TMPDIR/with" "$BATS_TEST_TMPDIR/without"
}

@test "LOG_PERROR: the copy on stderr carries the one decoration of the message" {
	BAGGAGE=request_id=r1 devlog "$T/log_calls" openlog_perror syslog
	run cat "$BATS_TEST_TMPDIR/log"
	assert_line --regexp '^<156>.* logcalls: \[request_id=r1\] syslog warning 9$'
	run cat "$BATS_TEST_TMPDIR/stderr"
	[ "$output" = "logcalls: [request_id=r1] syslog warning 9" ]
}

@test "json style in syslog: the message is one JSON object with the syslog level" {
	BAGGAGE='request_id=r1,path=/a%22b' CTXSHIM_LOG_STYLE=json devlog "$T/log_calls" syslog syslog_m
	run $PY -c '
import json, sys
for line in open(sys.argv[1]):
    o = json.loads(line.split(": ", 1)[1])
    print(o["level"], o["request_id"], o["path"], o["message"])' "$BATS_TEST_TMPDIR/log"
	[ "$output" = 'warning r1 /a"b syslog warning 9
error r1 /a"b open failed: No such file or directory' ]
}

@test "otel style in syslog: one LogRecord per message, severityNumber from the syslog level" {
	BAGGAGE='request_id=r1,path=/a%22b' CTXSHIM_LOG_STYLE=otel \
		devlog "$T/log_calls" openlog syslog vsyslog syslog_m syslog_debug
	run $PY "$BATS_TEST_DIRNAME/otel_check.py" "$BATS_TEST_TMPDIR/log" --after ': '
	assert_success
	# the data model's mapping: warning WARN, notice INFO2, err ERROR, debug DEBUG, info INFO
	[ "$output" = "13 warning - - - log_calls request_id='r1',path='/a\"b' 'syslog warning 9'
10 notice - - - log_calls request_id='r1',path='/a\"b' 'vsyslog notice'
17 error - - - log_calls request_id='r1',path='/a\"b' 'open failed: No such file or directory'
5 debug - - - log_calls request_id='r1',path='/a\"b' 'debug detail'
9 info - - - log_calls request_id='r1',path='/a\"b' 'info detail'" ]
}

@test "rfc5424: structured data [ctx@32473 ...] with \" \\ ] escaped, ident, facility and level kept" {
	BAGGAGE='request_id=r1,q=a%22b%5Cc%5Dd' CTXSHIM_LOG_SYSLOG=rfc5424 \
		devlog "$T/log_calls" openlog syslog syslog_m
	run cat "$BATS_TEST_TMPDIR/log"
	[ "${#lines[@]}" -eq 2 ]
	assert_line --index 0 --regexp '^<156>1 20[0-9-]{8}T[0-9:]{8}\.[0-9]{3}Z [^ ]+ logcalls [0-9]+ - \[ctx@32473 request_id="r1" q="a\\"b\\\\c\\]d"\] syslog warning 9$'
	assert_line --index 1 --regexp '^<155>1 .* logcalls [0-9]+ - \[ctx@32473 request_id="r1" .*\] open failed: No such file or directory$'
	# with an empty context, glibc's own message
	CTXSHIM_LOG_SYSLOG=rfc5424 devlog "$T/log_calls" openlog syslog
	run cat "$BATS_TEST_TMPDIR/log"
	assert_line --regexp '^<156>[A-Z][a-z]{2} .* logcalls\[[0-9]+\]: syslog warning 9$'
}

@test "rfc5424 obeys setlogmask and LOG_PERROR" {
	cat >"$BATS_TEST_TMPDIR/m.c" <<'EOF'
#include <syslog.h>
int main(void)
{
	openlog("masked", LOG_PERROR | LOG_PID, LOG_DAEMON);
	setlogmask(LOG_UPTO(LOG_NOTICE));
	syslog(LOG_INFO, "hidden");
	syslog(LOG_ERR, "shown %d", 1);
	return 0;
}
EOF
	cc -O2 -o "$BATS_TEST_TMPDIR/m" "$BATS_TEST_TMPDIR/m.c"
	BAGGAGE=request_id=r1 CTXSHIM_LOG_SYSLOG=rfc5424 devlog "$BATS_TEST_TMPDIR/m"
	run cat "$BATS_TEST_TMPDIR/log"
	[ "${#lines[@]}" -eq 1 ]
	assert_line --regexp '^<27>1 .* masked [0-9]+ - \[ctx@32473 request_id="r1"\] shown 1$'
	run cat "$BATS_TEST_TMPDIR/stderr"
	assert_output --regexp '^masked\[[0-9]+\]: \[ctx@32473 request_id="r1"\] shown 1$'
}

@test "the syslog sink can be turned off: messages pass untouched, stderr still decorated" {
	BAGGAGE=request_id=r1 CTXSHIM_LOG=stderr devlog "$T/log_calls" syslog fprintf
	run cat "$BATS_TEST_TMPDIR/log"
	assert_line --regexp '^<12>.* log_calls: syslog warning 9$'
	run cat "$BATS_TEST_TMPDIR/stderr"
	[ "$output" = "[request_id=r1] fprintf 1 one" ]
}

@test "logger(1), which builds its own packets on its own socket, passes untouched" {
	BAGGAGE=request_id=lg1 devlog logger -t mytag --socket-errors=on "disk almost full"
	run cat "$BATS_TEST_TMPDIR/log"
	# logger writes RFC 5424 itself, through its own socket: not decorated,
	# and untouched
	assert_line --regexp '^<13>[A-Z][a-z]{2} [ 0-9]{2} [0-9:]{8} mytag: disk almost full$'
	refute_output --partial "request_id"
}

@test "python's syslog module, an unmodified interpreter, is decorated; %-signs stay literal" {
	BAGGAGE=request_id=py1 devlog /usr/bin/python3 -c '
import syslog
syslog.openlog("pyapp", syslog.LOG_PID, syslog.LOG_DAEMON)
syslog.syslog(syslog.LOG_ERR, "disk 100% full %s %m")'
	run cat "$BATS_TEST_TMPDIR/log"
	assert_line --regexp '^<27>.* pyapp\[[0-9]+\]: \[request_id=py1\] disk 100% full %s %m$'
}

@test "C1 controls, ESC and invalid bytes in context values are escaped in syslog: text, json and rfc5424" {
	local hostile='request_id=r1,k=%C2%9B%5B31m%1B%5B2J%9B%FF' f=$BATS_TEST_TMPDIR/log
	# no datagram holds a raw control (C0 but the receiver's \n, DEL, C1)
	# or a byte that is not UTF-8
	clean='
import re, sys
for raw in open(sys.argv[1], "rb").read().split(b"\n")[:-1]:
    line = raw.decode("utf-8", "strict")
    assert not re.search("[\x00-\x1f\x7f-\x9f]", line), repr(line)
print("clean")'
	BAGGAGE=$hostile devlog "$T/log_calls" syslog
	run $PY -c "$clean" "$f"
	assert_output clean
	run cat "$f"
	assert_line --regexp '^<12>.* log_calls: \[request_id=r1 k="\\u009b\[31m\\u001b\[2J\\ufffd\\ufffd"\] syslog warning 9$'
	BAGGAGE=$hostile CTXSHIM_LOG_FORMAT='[{k}] {message}' devlog "$T/log_calls" syslog
	run $PY -c "$clean" "$f"
	assert_output clean
	run cat "$f"
	assert_line --regexp '^<12>.* log_calls: \[\\u009b\[31m\\x1b\[2J\\x9b\\xff\] syslog warning 9$'
	BAGGAGE=$hostile CTXSHIM_LOG_STYLE=json devlog "$T/log_calls" syslog
	run $PY -c "$clean" "$f"
	assert_output clean
	run $PY -c '
import json, sys
print(json.dumps(json.loads(open(sys.argv[1]).readline().split(": ", 1)[1])["k"]))' "$f"
	[ "$output" = '"\u009b[31m\u001b[2J\ufffd\ufffd"' ]
	BAGGAGE=$hostile CTXSHIM_LOG_SYSLOG=rfc5424 devlog "$T/log_calls" openlog syslog
	run $PY -c "$clean" "$f"
	assert_output clean
	run cat "$f"
	assert_line --regexp '^<156>1 .* logcalls [0-9]+ - \[ctx@32473 request_id="r1" k="\\u009b\[31m\\x1b\[2J'$'\xef\xbf\xbd\xef\xbf\xbd''"\] syslog warning 9$'
}
