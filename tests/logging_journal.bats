#!/usr/bin/env bats
# Logging, the journal sink: with CTXSHIM_LOG=journal, syslog messages and the
# lines of a stderr connected to journald's stream become native journal
# entries carrying one field per context entry.  Each test starts a real
# systemd-journald in a private mount namespace (tmpfs over /run/systemd,
# /run/log and /var/log/journal), so the host's journal is never touched,
# and reads the entries back with journalctl.
load common

JOURNALD=/lib/systemd/systemd-journald

# injournal CMD...: run CMD (a shell snippet) in a private namespace with its
# own journald; then the journal's entries as JSON lines in
# $BATS_TEST_TMPDIR/journal.json.
injournal() {
	local d=$BATS_TEST_TMPDIR
	timeout 60 unshare -m /bin/sh -c '
		d=$1 jd=$2; shift 2
		mount --make-rprivate / || exit 97
		# journald needs the cgroup file system (a bare chroot lacks it)
		mountpoint -q /sys/fs/cgroup || mount -t cgroup2 cgroup2 /sys/fs/cgroup || exit 97
		mkdir -p /run/systemd /run/log
		mount -t tmpfs tmpfs /run/systemd && mount -t tmpfs tmpfs /run/log || exit 97
		[ ! -d /var/log/journal ] || mount -t tmpfs tmpfs /var/log/journal || exit 97
		mkdir -p /run/systemd/journal
		"$jd" >/dev/null 2>&1 & jpid=$!
		i=0
		while [ ! -S /run/systemd/journal/socket ] || [ ! -S /run/systemd/journal/stdout ]; do
			[ $i -lt 200 ] || { echo "journald did not start" >&2; exit 98; }
			sleep 0.05; i=$((i + 1))
		done
		sh -c "$1"
		rc=$?
		journalctl --sync >/dev/null 2>&1 || sleep 0.5
		journalctl -D /run/log/journal --no-pager -o json >"$d/journal.json" 2>/dev/null
		kill $jpid; wait $jpid 2>/dev/null
		exit $rc' sh "$d" "$JOURNALD" "$@"
}

# jfield FIELD=VALUE FIELD2: the values of FIELD2 in entries with FIELD=VALUE.
jfield() {
	python3 - "$BATS_TEST_TMPDIR/journal.json" "$1" "$2" <<'EOF'
import json, sys
path, match, want = sys.argv[1:]
k, v = match.split("=", 1)
for line in open(path):
    e = json.loads(line)
    if e.get(k) == v:
        x = e.get(want)
        if isinstance(x, list):   # binary or non-UTF-8 values come as byte lists
            x = bytes(x).decode("utf-8", "replace")
        print(x)
EOF
}

@test "journal: a syslog message is one entry with REQUEST_ID, PRIORITY, SYSLOG_IDENTIFIER, SYSLOG_FACILITY; MESSAGE unchanged" {
	injournal "BAGGAGE=request_id=jr1,incident=INC-7 CTXSHIM_LOG=journal LD_PRELOAD=$SHIM $T/log_calls openlog syslog"
	run jfield REQUEST_ID=jr1 MESSAGE
	assert_output "syslog warning 9"
	run jfield REQUEST_ID=jr1 PRIORITY
	assert_output 4
	run jfield REQUEST_ID=jr1 SYSLOG_FACILITY
	assert_output 19          # LOG_LOCAL3
	run jfield REQUEST_ID=jr1 SYSLOG_IDENTIFIER
	assert_output logcalls
	run jfield REQUEST_ID=jr1 INCIDENT
	assert_output INC-7
	run jfield REQUEST_ID=jr1 _TRANSPORT
	assert_output journal
}

@test "journal: stderr lines on journald's stream (systemd-cat) become entries of their own, pieces joined into one line" {
	injournal "systemd-cat -t svc env BAGGAGE=request_id=jr2 CTXSHIM_LOG=journal LD_PRELOAD=$SHIM bash -c 'echo first line >&2; printf \"sec\" >&2; echo \"ond line\" >&2'"
	run jfield REQUEST_ID=jr2 MESSAGE
	assert_output "first line
second line"
	run jfield REQUEST_ID=jr2 _TRANSPORT
	assert_output "journal
journal"
}

@test "journal: context keys become upper-cased field names; a value with a newline stays whole; reserved names are prefixed" {
	injournal "BAGGAGE='request_id=jr3,user.name=a%0Ab,message=ctx-msg' CTXSHIM_LOG=journal LD_PRELOAD=$SHIM $T/log_calls syslog"
	run jfield REQUEST_ID=jr3 USER_NAME
	assert_output "a
b"
	run jfield REQUEST_ID=jr3 CTX_MESSAGE
	assert_output ctx-msg
	run jfield REQUEST_ID=jr3 MESSAGE
	assert_output "syslog warning 9"
}

@test "journal: without the journal sink a stream line stays decorated text; without a context a syslog message gets no fields" {
	injournal "BAGGAGE=request_id=jr4 CTXSHIM_LOG=stderr systemd-cat -t plain env LD_PRELOAD=$SHIM bash -c 'echo plain >&2'; systemd-cat -t nothing env CTXSHIM_LOG=journal LD_PRELOAD=$SHIM bash -c 'echo no context >&2'"
	run grep -c '"REQUEST_ID"' "$BATS_TEST_TMPDIR/journal.json"
	assert_output 0
	run jfield SYSLOG_IDENTIFIER=plain MESSAGE
	assert_output "[request_id=jr4] plain"
	run jfield SYSLOG_IDENTIFIER=nothing MESSAGE
	assert_output "no context"
}

@test "journal: a program logging through libsystemd (sd_journal_print/send/sendv) gets the context's fields; its own fields win" {
	injournal "BAGGAGE=request_id=jr5,tenant=t1 CTXSHIM_LOG=journal LD_PRELOAD=$SHIM $T/sdj_log print send sendv own >$BATS_TEST_TMPDIR/rc"
	run cat "$BATS_TEST_TMPDIR/rc"
	assert_output "print=0
send=0
sendv=0
own=0"
	run jfield REQUEST_ID=jr5 MESSAGE
	assert_output "print 42 x
send y 7
sendv line"
	run jfield MESSAGE=print\ 42\ x PRIORITY
	assert_output 5
	run jfield MESSAGE=send\ y\ 7 WIDGET
	assert_output 123456789012-w-z
	run jfield MESSAGE=send\ y\ 7 TENANT
	assert_output t1
	run jfield MESSAGE=send\ y\ 7 CODE_FUNC
	assert_output main
	run jfield MESSAGE=own\ id REQUEST_ID
	assert_output mine
}

@test "journal: without the journal sink, a libsystemd program's entries are its own" {
	injournal "BAGGAGE=request_id=jr6 CTXSHIM_LOG=stderr LD_PRELOAD=$SHIM $T/sdj_log print send >/dev/null"
	run grep -c '"REQUEST_ID"' "$BATS_TEST_TMPDIR/journal.json"
	assert_output 0
	run jfield MESSAGE=send\ y\ 7 WIDGET
	assert_output 123456789012-w-z
}
