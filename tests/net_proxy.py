#!/usr/bin/python3
"""net_proxy.py: an upstream that records what it receives, and clients for
tests/net_lease.bats (nginx as a reverse proxy under the shim).

  upstream PORT OUT              HTTP/1.1 keep-alive server (never under the
                                 shim): one line per request, "PATH ID TP"
                                 ("-" for a header it lacked)
  burst PORT N                   N concurrent clients, one request each to
                                 /up/bN, sending no id
  keepalive PORT C R             C clients x R keep-alive requests to
                                 /up/kC-R, each with its own X-Request-ID
                                 kC-R-id and a traceparent of its own
  check UPOUT ACCESSLOG [own]    every upstream request's id is the one the
                                 access line of that client request carries
                                 (with "own": the id the client sent, and
                                 the trace id it sent)
"""
import http.client
import http.server
import re
import socket
import sys
import threading


def upstream(port, out):
    lock = threading.Lock()
    f = open(out, "a", buffering=1)

    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            rid = self.headers.get("X-Request-ID", "-")
            tp = self.headers.get("traceparent", "-")
            with lock:
                f.write("%s %s %s\n" % (self.path, rid, tp))
            body = b"up\n"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    class S(http.server.ThreadingHTTPServer):
        request_queue_size = 512

    S(("127.0.0.1", port), H).serve_forever()


def trace_of(c, r):
    return "%032x" % (0xabc00000 + c * 1000 + r), "%016x" % (0x5100 + r)


def run_all(fns):
    start = threading.Barrier(len(fns))
    errs = []

    def wrap(fn):
        try:
            start.wait(30)
            fn()
        except Exception as e:    # noqa: BLE001 - reported below
            errs.append(repr(e))
    ts = [threading.Thread(target=wrap, args=(fn,)) for fn in fns]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errs:
        print("client errors: %d (%s)" % (len(errs), errs[0]))
        return 1
    return 0


def burst(port, n):
    def one(i):
        def fn():
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            c.request("GET", "/up/b%d" % i)
            r = c.getresponse()
            r.read()
            if r.status != 200:
                raise RuntimeError("status %d" % r.status)
            c.close()
        return fn
    return run_all([one(i) for i in range(n)])


def keepalive(port, clients, requests):
    def one(ci):
        def fn():
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            for ri in range(requests):
                tid, sid = trace_of(ci, ri)
                c.request("GET", "/up/k%d-%d" % (ci, ri), headers={
                    "X-Request-ID": "k%d-%d-id" % (ci, ri),
                    "traceparent": "00-%s-%s-01" % (tid, sid)})
                r = c.getresponse()
                r.read()
                if r.status != 200:
                    raise RuntimeError("status %d" % r.status)
            c.close()
        return fn
    return run_all([one(i) for i in range(clients)])


def check(upout, access, own):
    up = {}
    for line in open(upout):
        path, rid, tp = line.split()
        up[path] = (rid, tp)
    logged = {}
    for line in open(access):
        m = re.search(r'"GET /up(/\S+) HTTP', line)
        if not m:
            continue
        d = re.match(r"\[([^]]*)\]", line)
        ids = re.findall(r"request_id=([^ \]]+)", d.group(1)) if d else []
        logged[m.group(1)] = ids[0] if len(ids) == 1 else None
    bad = 0
    for path, (rid, tp) in sorted(up.items()):
        want = logged.get(path)
        if own:
            ci, ri = map(int, path[2:].split("-"))
            want_own = "k%d-%d-id" % (ci, ri)
            tid, _ = trace_of(ci, ri)
            if want != want_own or not tp.startswith("00-%s-" % tid):
                bad += 1
                print("mismatch", path, rid, tp, want)
                continue
        if want is None or rid != want:
            bad += 1
            print("mismatch", path, rid, want)
    print("%d upstream requests, %d logged, %d mismatches" % (len(up), len(logged), bad))
    return 1 if bad else 0


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "upstream":
        upstream(int(sys.argv[2]), sys.argv[3])
    elif cmd == "burst":
        sys.exit(burst(int(sys.argv[2]), int(sys.argv[3])))
    elif cmd == "keepalive":
        sys.exit(keepalive(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])))
    elif cmd == "check":
        sys.exit(check(sys.argv[2], sys.argv[3], len(sys.argv) > 4 and sys.argv[4] == "own"))
