#!/usr/bin/python3
"""net_smuggle.py: a request-smuggling corpus (CL.TE, TE.CL, TE.TE with an
obfuscated Transfer-Encoding, duplicate and malformed Content-Length, folds,
bare LFs) sent to a server under the shim with echo on.  The client is not
under the shim.  What must hold for every case: the bytes the client gets are
exactly the server's bytes plus whole X-Request-ID header lines inside
response heads, never anywhere else.

  frame PORT LOG        against net_frame_server.py (which logs every byte it
                        writes): the client's bytes are checked against the
                        server's own log, head by head, body by body.
  compare PORT PLAIN    against two instances of one server (nginx), with and
                        without the shim: the bytes must be the same once the
                        Date lines are set aside and the X-Request-ID lines
                        that stand last in a head (after a header line, right
                        before the blank line) are taken out.  (The bodies
                        this server sends hold no CRLF, so a line added in a
                        body could not pass for one in a head.)

Prints one line per case and exits 1 if any case fails.
"""
import json
import re
import socket
import sys

HOST = b"Host: x\r\n"
SMUG = b"HEAD /smuggled HTTP/1.1\r\n" + HOST + b"X-Request-ID: smuggled\r\n\r\n"
NEXT = b"GET /next HTTP/1.1\r\n" + HOST + b"X-Request-ID: next\r\n\r\n"


def clte(te_lines, cl_line=b"Content-Length: %d\r\n", after=NEXT):
    """The body by Content-Length holds a chunked end and a HEAD request."""
    body = b"0\r\n\r\n" + SMUG
    cl = cl_line % len(body) if b"%d" in cl_line else cl_line
    return b"POST /a HTTP/1.1\r\n" + HOST + cl + te_lines + b"\r\n" + body + after


def tecl(te_lines):
    """Content-Length covers the chunk size line; the chunk is a HEAD
    request whose own Content-Length eats the chunked end."""
    chunk = b"HEAD /smuggled HTTP/1.1\r\n" + HOST + b"Content-Length: 7\r\n\r\n"
    size = b"%x\r\n" % len(chunk)
    return (b"POST /a HTTP/1.1\r\n" + HOST + te_lines +
            b"Content-Length: %d\r\n\r\n" % len(size) + size + chunk + b"\r\n0\r\n\r\n" + NEXT)


TE = b"Transfer-Encoding: chunked\r\n"
CASES = [
    ("plain pipelined", b"GET /1 HTTP/1.1\r\n" + HOST + b"\r\n" +
     b"POST /2 HTTP/1.1\r\n" + HOST + b"Content-Length: 5\r\n\r\nhello" + NEXT),
    ("CL.TE", clte(TE)),
    ("CL.TE, TE first", b"POST /a HTTP/1.1\r\n" + HOST + TE +
     b"Content-Length: %d\r\n\r\n" % len(b"0\r\n\r\n" + SMUG) + b"0\r\n\r\n" + SMUG + NEXT),
    ("TE.CL", tecl(TE)),
    ("TE.TE: space before the colon", clte(b"Transfer-Encoding : chunked\r\n")),
    ("TE.TE: xchunked", clte(b"Transfer-Encoding: xchunked\r\n")),
    ("TE.TE: tab", clte(b"Transfer-Encoding:\tchunked\r\n")),
    ("TE.TE: two headers", clte(TE + b"Transfer-Encoding: x\r\n")),
    ("TE.TE: the same header twice", clte(TE + TE)),
    ("TE.TE: a list", clte(b"Transfer-Encoding: identity, chunked\r\n")),
    ("TE.TE: folded", clte(b"Transfer-Encoding: x\r\n chunked\r\n")),
    ("TE.TE: folded name", clte(b"X-Pad: y\r\n Transfer-Encoding: chunked\r\n")),
    ("TE.TE: bare LF", clte(b"Transfer-Encoding: chunked\n")),
    ("TE.TE: bare CR", clte(b"X-Pad: y\rTransfer-Encoding: chunked\r\n")),
    ("TE.TE: upper case", clte(b"TRANSFER-ENCODING: CHUNKED\r\n")),
    ("TE.CL: tab", tecl(b"Transfer-Encoding:\tchunked\r\n")),
    ("TE.CL: two headers", tecl(TE + b"Transfer-Encoding: x\r\n")),
    ("duplicate CL, same value", clte(b"", b"Content-Length: %d\r\nContent-Length: %d\r\n" %
                                      (len(b"0\r\n\r\n" + SMUG), len(b"0\r\n\r\n" + SMUG)))),
    ("duplicate CL, other value", clte(b"", b"Content-Length: %d\r\nContent-Length: 0\r\n" %
                                       len(b"0\r\n\r\n" + SMUG))),
    ("CL with a sign", clte(b"", b"Content-Length: +%d\r\n")),
    ("CL with spaces", clte(b"", b"Content-Length:  %d  \r\n")),
    ("CL list", clte(b"", b"Content-Length: %d, 0\r\n" % len(b"0\r\n\r\n" + SMUG))),
    ("chunked alone", b"POST /a HTTP/1.1\r\n" + HOST + TE + b"\r\n5\r\nhello\r\n0\r\n\r\n" + NEXT),
    ("chunk size with bare LF", b"POST /a HTTP/1.1\r\n" + HOST + TE +
     b"\r\n5\nhello\r\n0\r\n\r\n" + SMUG + NEXT),
]

ID_LINE = re.compile(rb"X-Request-ID: [A-Za-z0-9._:+/=-]{1,200}\r\n")


def exchange(port, payload):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(payload)
    s.shutdown(socket.SHUT_WR)
    data = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
    except (socket.timeout, ConnectionResetError):
        pass
    port_used = s.getsockname()[1]
    s.close()
    return port_used, data


def check_frame(got, chunks):
    """GOT against the server's writes: each head may gain ID lines just
    before its blank line; everything else byte for byte."""
    pos = 0
    added = 0
    for kind, b in chunks:
        if kind == "head":
            if not b.endswith(b"\r\n\r\n") or not got.startswith(b[:-2], pos):
                return "head %r differs at %d: %r" % (b[:40], pos, got[pos:pos + 80])
            pos += len(b) - 2
            m = ID_LINE.match(got, pos)
            if m:
                pos = m.end()
                added += 1
            if not got.startswith(b"\r\n", pos):
                return "after a head at %d: %r" % (pos, got[pos:pos + 80])
            pos += 2
        else:
            if not got.startswith(b, pos):
                return "body differs at %d: %r vs %r" % (pos, got[pos:pos + 80], b[:80])
            pos += len(b)
    if pos != len(got):
        return "extra bytes at %d: %r" % (pos, got[pos:pos + 80])
    return None


DATE = re.compile(rb"\r\nDate: [^\r\n]*")
LAST_ID = re.compile(rb"(?<=[^\n]\r\n)X-Request-ID: [A-Za-z0-9._:+/=-]{1,200}\r\n(?=\r\n)")


def frame(port, log):
    bad = 0
    for name, payload in CASES:
        used, got = exchange(port, payload)
        chunks = []
        with open(log) as f:
            for line in f:
                o = json.loads(line)
                if o["port"] == used:
                    chunks.append((o["kind"], bytes.fromhex(o["hex"])))
        err = check_frame(got, chunks)
        ids = len(ID_LINE.findall(got))
        print("%-32s %s (%d responses, %d id lines)" %
              (name, err or "ok", sum(k == "head" for k, _ in chunks), ids))
        bad += err is not None
    return 1 if bad else 0


def compare(port, plain):
    bad = 0
    for name, payload in CASES:
        _, got = exchange(port, payload)
        _, ref = exchange(plain, payload)
        g = DATE.sub(b"\r\nDate: -", got)
        r = DATE.sub(b"\r\nDate: -", ref)
        ids = len(LAST_ID.findall(g))
        g = LAST_ID.sub(b"", g)
        err = None if g == r else "differs: %r\n  vs plain %r" % (g[:600], r[:600])
        print("%-32s %s (%d id lines)" % (name, err or "ok", ids))
        bad += err is not None
    return 1 if bad else 0


if __name__ == "__main__":
    if sys.argv[1] == "frame":
        sys.exit(frame(int(sys.argv[2]), sys.argv[3]))
    sys.exit(compare(int(sys.argv[2]), int(sys.argv[3])))
