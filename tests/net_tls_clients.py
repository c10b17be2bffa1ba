#!/usr/bin/env python3
"""TLS clients and a TLS server for tests/net_tls.bats (certificates are not
verified: the tests make their own).

  pipeline PORT PATH FILE N   sends N pipelined GETs of PATH on one TLS
        connection (ids p0..pN-1), reads the answers slowly, and checks each
        response: status 200, its X-Request-ID the one sent, its body FILE's
        bytes.  Exits 1 on any difference.
  rawecho PORT                sends an HTTP-looking request and 70 kB of
        random bytes to an echo server; exits 1 unless exactly those come back.
  echoserver PORT CERT KEY    a TLS server that returns whatever it reads.
"""
import os
import socket
import ssl
import sys
import threading
import time


def connect(port):
    ctx = ssl._create_unverified_context()
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    return ctx.wrap_socket(s, server_hostname="localhost")


def pipeline(port, path, file, n):
    want = open(file, "rb").read()
    s = connect(port)
    reqs = b"".join(b"GET %s HTTP/1.1\r\nHost: x\r\nX-Request-ID: p%d\r\n\r\n" % (path.encode(), i)
                    for i in range(n))
    s.sendall(reqs)
    buf = b""
    errors = 0
    for i in range(n):
        while b"\r\n\r\n" not in buf:
            buf += slow_recv(s)
        head, buf = buf.split(b"\r\n\r\n", 1)
        lines = head.split(b"\r\n")
        hdr = {}
        for l in lines[1:]:
            k, v = l.split(b":", 1)
            hdr.setdefault(k.strip().lower(), []).append(v.strip())
        length = int(hdr[b"content-length"][0])
        while len(buf) < length:
            buf += slow_recv(s)
        body, buf = buf[:length], buf[length:]
        ids = hdr.get(b"x-request-id", [])
        ok = lines[0].startswith(b"HTTP/1.1 200") and ids == [b"p%d" % i] and body == want
        print("response %d: %s ids=%r body %s" % (i, lines[0].decode(), ids,
                                                  "intact" if body == want else "DIFFERS"))
        errors += not ok
    return 1 if errors else 0


def slow_recv(s):
    """A slow reader: small reads with pauses, so that the server's writes
    fill the socket and OpenSSL asks it to retry them."""
    time.sleep(0.002)
    d = s.recv(16384)
    if not d:
        raise SystemExit("connection closed early")
    return d


def rawecho(port):
    data = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" + os.urandom(70000)
    s = connect(port)
    t = threading.Thread(target=s.sendall, args=(data,))
    t.start()
    got = b""
    while len(got) < len(data):
        d = s.recv(65536)
        if not d:
            break
        got += d
    t.join()
    print("sent %d bytes, got %d back, %s" % (len(data), len(got), "identical" if got == data else "DIFFERENT"))
    return 0 if got == data else 1


def echoserver(port, cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(8)
    while True:
        c, _ = ls.accept()
        try:
            t = ctx.wrap_socket(c, server_side=True)
            while True:
                d = t.recv(65536)
                if not d:
                    break
                t.sendall(d)
            t.close()
        except (ssl.SSLError, OSError):
            c.close()


if __name__ == "__main__":
    cmd, port = sys.argv[1], int(sys.argv[2])
    if cmd == "pipeline":
        sys.exit(pipeline(port, sys.argv[3], sys.argv[4], int(sys.argv[5])))
    if cmd == "rawecho":
        sys.exit(rawecho(port))
    if cmd == "echoserver":
        echoserver(port, sys.argv[3], sys.argv[4])
    sys.exit(2)
