"""Checks of log output for tests/logging*.bats (python3, standard library).

  partial STYLE LINES FILE     log_partial's lines, each whole, one decoration
  signal FILE                  log_sig's lines, each whole
  threads THREADS LINES FILE   log_threads' lines, each with its thread's id
  relay OUT CMD...             run CMD with stderr a socket (4 kB buffers)
                               to this process, a slow reader outside the
                               shim, which copies what it reads to OUT

Prints "ok ..." or what is wrong.
"""
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


def main(argv):
    if argv[1] == "relay":
        sys.exit(relay(argv[2], argv[3:]))
    elif argv[1] == "partial":
        print(partial(argv[2], int(argv[3]), argv[4]))
    elif argv[1] == "signal":
        print(signal(argv[2]))
    elif argv[1] == "threads":
        print(threads(int(argv[2]), int(argv[3]), argv[4]))


if __name__ == "__main__":
    main(sys.argv)
