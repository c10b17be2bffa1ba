#!/usr/bin/env python3
"""mc_clients.py PORT N: two memcached clients, A and B, connected at once,
sending N interleaved commands each (set/get of keys a-I and b-I), bounded
by timeouts.  Prints OK when every reply came back."""
import socket
import sys

port, n = int(sys.argv[1]), int(sys.argv[2])
conns = {}
for name in "ab":
    conns[name] = socket.create_connection(("127.0.0.1", port), timeout=10)


def ask(sock, cmd, end):
    sock.sendall(cmd)
    got = b""
    while not got.endswith(end):
        chunk = sock.recv(4096)
        if not chunk:
            raise SystemExit("connection closed early")
        got += chunk
    return got


for i in range(n):
    for name, sock in conns.items():
        key = b"%s-%d" % (name.encode(), i)
        ask(sock, b"set " + key + b" 0 0 1\r\nx\r\n", b"STORED\r\n")
        ask(sock, b"get " + key + b"\r\n", b"END\r\n")
for sock in conns.values():
    sock.sendall(b"quit\r\n")
    sock.close()
print("OK")
