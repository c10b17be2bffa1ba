#!/usr/bin/python3
"""net_frame_server.py PORT LOG: a keep-alive HTTP/1.1 server on python's own
http.server that frames request bodies by Content-Length alone (as
BaseHTTPRequestHandler applications do: Transfer-Encoding is not looked at)
and answers every request with a body that looks like a response head, so a
line added in the wrong place lands where a client would see it.

Every byte it writes is logged to LOG, one JSON object a line:
{"port": client port, "kind": "head"|"body", "hex": the bytes}, so a test can
tell exactly which of the bytes a client got were the server's.  With
FRAME_ACCESS_LOG set, one access line per request on stderr.  Knows nothing
of the shim.
"""
import http.server
import json
import os
import sys


class Tee:
    def __init__(self, f, h):
        self.f, self.h = f, h

    def write(self, b):
        self.h.record("body", b)
        return self.f.write(b)

    def __getattr__(self, name):
        return getattr(self.f, name)


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def version_string(self):
        return "frame/1"

    def date_time_string(self, timestamp=None):
        return "Thu, 01 Jan 2026 00:00:00 GMT"

    def log_message(self, fmt, *args):
        # An access line on stderr (one write) only when asked for.
        if os.environ.get("FRAME_ACCESS_LOG"):
            sys.stderr.write("%s %s\n" % (self.requestline, fmt % args))
            sys.stderr.flush()

    def setup(self):
        super().setup()
        self.wfile = Tee(self.wfile, self)

    def record(self, kind, b):
        LOG.write(json.dumps({"port": self.client_address[1], "kind": kind,
                              "hex": bytes(b).hex()}) + "\n")
        LOG.flush()

    def flush_headers(self):
        if hasattr(self, "_headers_buffer"):
            head = b"".join(self._headers_buffer)
            self._headers_buffer = []
            self.record("head", head)
            self.wfile.f.write(head)

    def answer(self):
        try:
            n = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self.send_error(400)
            return
        data = self.rfile.read(n) if n > 0 else b""
        body = (b"HTTP/1.1 200 OK\r\nX-Echo: " + self.command.encode() + b" " +
                self.path.encode("latin-1") + b"\r\nContent-Length: " +
                str(len(data)).encode() + b"\r\n\r\n" + data)
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_POST = do_HEAD = do_PUT = answer


LOG = open(sys.argv[2], "a")
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
