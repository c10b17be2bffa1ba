#!/usr/bin/python3
"""net_clients.py: HTTP client harness for tests/net*.bats (not under the shim).

  keepalive PORT PATH CLIENTS REQUESTS   each client sends REQUESTS requests on
        one keep-alive connection, every one with a unique X-Request-ID (odd
        ones) or none (even ones); prints "sent echoed path" per request and
        exits 1 on any echo that is not the id sent (or, when none was sent,
        not a fresh 32-hex id).
  slow PORT N one|pipelined              N requests to net_slow_server, read
        slowly; the stream must be the server's bytes plus one id line each.
  checklog CLIENTS_OUT LOG                keepalive's output against the server's
        log: one line per request, carrying that request's id.
  hostile PORT PATH                      sends requests with hostile ids; prints
        one line per request: the echoed id; exits 1 if a hostile value came
        back, one that is not a bare CR got no fresh id, or the server
        stopped answering.
"""
import http.client
import os
import re
import socket
import ssl
import sys
import threading
import uuid

HEX32 = re.compile(r"^[0-9a-f]{32}$")


def connection(port):
    """HTTP, or HTTPS without verification when NET_TLS is set (net_tls.bats)."""
    if os.environ.get("NET_TLS"):
        return http.client.HTTPSConnection("127.0.0.1", port, timeout=10,
                                           context=ssl._create_unverified_context())
    return http.client.HTTPConnection("127.0.0.1", port, timeout=10)


def keepalive(port, path, clients, requests):
    errors, lines, lock = [], [], threading.Lock()

    def client(c):
        conn = connection(port)
        for r in range(requests):
            rid = "c%d-r%d-%s" % (c, r, uuid.uuid4().hex[:8]) if r % 2 else None
            tag = rid or "none-c%d-r%d-%s" % (c, r, uuid.uuid4().hex[:8])
            p = "%s?tag=%s" % (path, tag)
            conn.request("GET", p, headers={"X-Request-ID": rid} if rid else {})
            resp = conn.getresponse()
            resp.read()
            echoed = resp.getheader("X-Request-ID")
            ok = echoed == rid if rid else bool(echoed and HEX32.match(echoed))
            with lock:
                lines.append("%s %s %s" % (rid or "-", echoed, tag))
                if not ok:
                    errors.append("client %d request %d: sent %r, echoed %r" % (c, r, rid, echoed))
        conn.close()

    ts = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    for line in lines:
        print(line)
    generated = [l.split()[1] for l in lines if l.startswith("- ")]
    if len(set(generated)) != len(generated):
        errors.append("a generated id was echoed twice")
    for e in errors:
        print("ERROR", e, file=sys.stderr)
    return 1 if errors or len(lines) != clients * requests else 0


HOSTILE = [
    b"%s%n%x%p",
    b"b" * 5000,
    b"a b",
    b"caf\xc3\xa9",
    b"abc\rX-Evil: 1",
    b"%0d%0aX-Evil:%201",
    b"<script>",
    b"",
]


def head_of(port, raw):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    if os.environ.get("NET_TLS"):
        s = ssl._create_unverified_context().wrap_socket(s)
    s.sendall(raw)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    return data.split(b"\r\n\r\n")[0]


def hostile(port, path):
    bad = 0
    for h in HOSTILE:
        raw = b"GET " + path.encode() + b" HTTP/1.1\r\nHost: x\r\nX-Request-ID: " + h + \
              b"\r\nConnection: close\r\n\r\n"
        head = head_of(port, raw)
        status = head.split(b"\r\n")[0].decode("latin-1")
        ids = [l.split(b":", 1)[1].strip() for l in head.split(b"\r\n")[1:]
               if l.lower().startswith(b"x-request-id:")]
        echoed = ids[0].decode("latin-1") if ids else None
        print("%s -> %s %s" % (h[:40], status, echoed))
        # A bare CR makes the head ambiguous (RFC 9112 2.2): the shim then
        # leaves the connection alone, so no id at all is echoed.
        if b"\r" in h:
            ok = not ids
        else:
            ok = len(ids) == 1 and HEX32.match(echoed)
        if not ok or (h and h in head):
            print("ERROR hostile %r: head %r" % (h[:40], head[:300]), file=sys.stderr)
            bad += 1
    # Still serving, and a good id still works.
    head = head_of(port, b"GET " + path.encode() +
                   b" HTTP/1.1\r\nHost: x\r\nX-Request-ID: fine-1\r\nConnection: close\r\n\r\n")
    if b"\r\nX-Request-ID: fine-1" not in head:
        print("ERROR server no longer answers well: %r" % head[:300], file=sys.stderr)
        bad += 1
    return 1 if bad else 0


def slow(port, requests, pipelined):
    """Against net_slow_server: responses read slowly through a small receive
    buffer must be exactly the server's bytes with one X-Request-ID line
    added before each blank line."""
    import time
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(5)
    s.connect(("127.0.0.1", port))
    want = b""
    reqs = b""
    for k in range(requests):
        rid = b"slow-%d" % k
        pad, body = (k * 997) % 9000, (k * 7919) % 30000
        want += (b"HTTP/1.1 200 OK\r\nX-Pad: " + b"p" * pad +
                 b"\r\nContent-Length: %d\r\nX-Request-ID: " % body + rid + b"\r\n\r\n" +
                 bytes((i * 31 + k) & 255 for i in range(body)))
        reqs += b"GET /slow/%d HTTP/1.1\r\nHost: x\r\nX-Request-ID: " % k + rid + b"\r\n\r\n"
    got = b""
    if pipelined:
        s.sendall(reqs)
    parts = reqs.split(b"\r\n\r\n")[:-1]
    for k in range(requests):
        if not pipelined:
            s.sendall(parts[k] + b"\r\n\r\n")
        end = len(want) if pipelined else None
        # Read this response (or, pipelined, everything) slowly.
        target = end or len(want.split(b"HTTP/1.1 200 OK")[0]) + sum(
            len(b"HTTP/1.1 200 OK" + x) for x in want.split(b"HTTP/1.1 200 OK")[1:k + 2])
        while len(got) < target:
            try:
                chunk = s.recv(1500)
            except socket.timeout:
                break
            if not chunk:
                break
            got += chunk
            if len(got) % 7 == 0:
                time.sleep(0.001)
        if pipelined:
            break
    s.close()
    if got != want:
        i = next((i for i in range(min(len(got), len(want))) if got[i] != want[i]), min(len(got), len(want)))
        print("ERROR stream differs at byte %d of %d/%d: got %r want %r" %
              (i, len(got), len(want), got[i - 20:i + 40], want[i - 20:i + 40]), file=sys.stderr)
        return 1
    print("ok %d bytes" % len(got))
    return 0


def checklog(clients_out, log):
    """Every request keepalive sent (its lines in CLIENTS_OUT: "sent echoed
    tag") has exactly one line in LOG naming its tag, and that line's
    decoration carries the id the request had: the one sent, or the one
    echoed when none was sent."""
    want = {}
    for line in open(clients_out):
        sent, echoed, tag = line.split()
        want[tag] = sent if sent != "-" else echoed
    seen = {}
    for line in open(log, errors="replace"):
        m = re.search(r"tag=([A-Za-z0-9-]+)", line)
        if not m or m.group(1) not in want:
            continue
        d = re.search(r"request_id=(\S+?)[ \]]", line)
        seen.setdefault(m.group(1), []).append(d.group(1) if d else None)
    bad = 0
    for tag, rid in want.items():
        got = seen.get(tag, [])
        if got != [rid]:
            bad += 1
            if bad <= 5:
                print("ERROR %s: want request_id=%s, log has %r" % (tag, rid, got), file=sys.stderr)
    print("%d requests, %d logged lines checked, %d mix-ups" % (len(want), sum(map(len, seen.values())), bad))
    return 1 if bad else 0


if __name__ == "__main__":
    if sys.argv[1] == "checklog":
        sys.exit(checklog(sys.argv[2], sys.argv[3]))
    cmd, port = sys.argv[1], int(sys.argv[2])
    if cmd == "keepalive":
        sys.exit(keepalive(port, sys.argv[3], int(sys.argv[4]), int(sys.argv[5])))
    if cmd == "slow":
        sys.exit(slow(port, int(sys.argv[3]), sys.argv[4] == "pipelined"))
    if cmd == "hostile":
        sys.exit(hostile(port, sys.argv[3]))
    sys.exit(2)
