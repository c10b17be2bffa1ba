"""Checks of log output for tests/logging*.bats (python3, standard library).

  partial STYLE LINES FILE     log_partial's lines, each whole, one decoration
  signal FILE                  log_sig's lines, each whole
  threads THREADS LINES FILE   log_threads' lines, each with its thread's id
  relay OUT CMD...             run CMD with stderr a socket (4 kB buffers)
                               to this process, a slow reader outside the
                               shim, which copies what it reads to OUT
  strict STYLE FILE [RAW]      every line whole, valid UTF-8 and free of C0,
                               DEL and C1 controls; json: one object, logfmt:
                               key=value pairs then msg="..."; text: only
                               the decoration is checked (the message is the
                               program's bytes).  Empty lines are skipped.
                               RAW: the bytes the program wrote; each json
                               or logfmt message must be their line, read
                               as UTF-8 with U+FFFD for each invalid byte.  Prints each message as JSON
                               (ASCII), one a line, or what is wrong.

Prints "ok ..." or what is wrong.
"""
import codecs
import json
import re
import sys
from collections import Counter


def partial(style, count, path):
    lines = open(path, "rb").read().decode().split("\n")
    if lines[-1] != "":
        return "last line cut: %r" % lines[-1][:60]
    lines = lines[:-1]
    if len(lines) != count:
        return "%d lines, not %d" % (len(lines), count)
    for i, line in enumerate(lines):
        body = (i * 397) % 6000 + 1
        want = "L%d " % i + "".join(chr(97 + (i + k) % 26) for k in range(body))
        if style == "text":
            got = line[len("[request_id=pw] "):] if line.startswith("[request_id=pw] ") else None
        elif style == "json":
            o = json.loads(line)
            got = o["message"] if o.get("request_id") == "pw" else None
        else:
            m = re.fullmatch(r'time=\S+ level=info service=\S+ request_id=pw msg="(.*)"', line)
            got = m.group(1) if m else None
        if got != want:
            return "line %d wrong: %r" % (i, line[:80])
    return "ok %d" % count


def signal(path):
    allowed = re.compile(r"(\[request_id=sig\] )?(main fprintf \d+|main write|from handler)")
    decorated = plain = 0
    for line in open(path).read().split("\n")[:-1]:
        if not allowed.fullmatch(line):
            return "bad line: %r" % line[:80]
        if line.endswith("from handler"):
            if line.startswith("[request_id=sig] "):
                decorated += 1
            else:
                plain += 1
    # a handler landing inside the shim's own formatting writes plainly;
    # most must be decorated
    if decorated < 2 * plain:
        return "only %d of %d handler lines decorated" % (decorated, decorated + plain)
    return "ok"


def threads(nthreads, nlines, path):
    per = Counter()
    pat = re.compile(r"\[request_id=t(\d+)\] t=(\d+) n=(\d+) "
                     r"(fprintf-padding-padding-padding|write-padding-padding-padding-pad)")
    seen = set()
    for line in open(path).read().split("\n")[:-1]:
        m = pat.fullmatch(line)
        if not m or m.group(1) != m.group(2):
            return "bad line: %r" % line[:80]
        key = (m.group(2), m.group(3))
        if key in seen:
            return "line twice: %r" % line
        seen.add(key)
        per[m.group(1)] += 1
    if sorted(per.values()) != [nlines] * nthreads:
        return "per thread: %s" % dict(per)
    return "ok %d" % sum(per.values())


def relay(out, cmd):
    import socket
    import subprocess
    import time
    mine, theirs = socket.socketpair()
    theirs.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    mine.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    proc = subprocess.Popen(cmd, stderr=theirs)
    theirs.close()
    with open(out, "wb") as f:
        while True:
            data = mine.recv(700)
            if not data:
                break
            f.write(data)
            time.sleep(0.00005)   # slower than the writer
    return proc.wait()


CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f]")
QUOTED = r'"(?:[^"\\]|\\.)*"'
LOGFMT = re.compile(r"time=\S+ level=[a-z]+ service=(?:%s|[^\s\"=]+)"
                    r"((?: [A-Za-z0-9_.-]+=(?:%s|[^\s\"=\\]+))*) msg=(%s)" % (QUOTED, QUOTED, QUOTED))


codecs.register_error("perbyte", lambda e: ("\ufffd" * (e.end - e.start), e.end))


def strict(style, path, raw_path=None):
    data = open(path, "rb").read()
    if data and not data.endswith(b"\n"):
        return "last line not ended: %r" % data[-80:]
    out = []
    for raw in data.split(b"\n")[:-1]:
        if raw == b"":
            continue       # an empty line carries no message: left alone
        if style == "text":
            # [decoration] message: the decoration must be clean
            end = raw.find(b"] ")
            if not raw.startswith(b"[") or end < 0:
                return "not decorated: %r" % raw[:80]
            raw, msg = raw[:end + 1], raw[end + 2:]
        try:
            line = raw.decode("utf-8", "strict")
        except UnicodeDecodeError as e:
            return "invalid UTF-8 (%s): %r" % (e.reason, raw[:120])
        if CONTROLS.search(line):
            return "raw control character: %r" % line[:120]
        if style == "json":
            try:
                o = json.loads(line)
            except ValueError as e:
                return "not JSON (%s): %r" % (e, line[:120])
            if not isinstance(o, dict) or not isinstance(o.get("message"), str):
                return "not a record: %r" % line[:120]
            msg = o["message"]
        elif style == "logfmt":
            m = LOGFMT.fullmatch(line)
            if not m:
                return "not logfmt: %r" % line[:120]
            for q in re.findall(QUOTED, line):
                try:
                    json.loads(q)
                except ValueError:
                    return "bad escape in %r" % q
            msg = json.loads(m.group(2))
        elif style == "text":
            out.append(line + " " + json.dumps(msg.decode("utf-8", "backslashreplace")))
            continue
        out.append(json.dumps(msg))
    if raw_path:
        want = [json.dumps(line.decode("utf-8", "perbyte"))
                for line in open(raw_path, "rb").read().split(b"\n")[:-1] if line]
        if want != out:
            for i, (a, b) in enumerate(zip(want, out)):
                if a != b:
                    return "message %d: %s, not %s" % (i, b[:200], a[:200])
            return "%d messages, not %d" % (len(out), len(want))
    print("\n".join(out))
    return None


def main(argv):
    if argv[1] == "relay":
        sys.exit(relay(argv[2], argv[3:]))
    elif argv[1] == "partial":
        print(partial(argv[2], int(argv[3]), argv[4]))
    elif argv[1] == "signal":
        print(signal(argv[2]))
    elif argv[1] == "threads":
        print(threads(int(argv[2]), int(argv[3]), argv[4]))
    elif argv[1] == "strict":
        bad = strict(argv[2], argv[3], argv[4] if len(argv) > 4 else None)
        if bad:
            print("BAD " + bad)
            sys.exit(1)


if __name__ == "__main__":
    main(sys.argv)
