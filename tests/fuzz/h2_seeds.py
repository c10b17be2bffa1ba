#!/usr/bin/python3
"""h2_seeds.py: seed inputs for h2_fuzz (tests/fuzz/corpus/h2_fuzz/).

Each seed is h2_fuzz's options byte (1: client direction, starts with the
preface; 0: server direction) followed by one direction's bytes.
  h2_seeds.py pair DIR    both directions of a python3-h2 client and server
                          (python_h2_client, python_h2_server)
  h2_seeds.py serve DIR   a python3-h2 server on a free port (printed) that
                          records a real client, e.g. nghttp2-client's
                            nghttp -n -m 4 -H 'x-request-id: abc-123' \\
                              -H 'traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' \\
                              http://127.0.0.1:PORT/some/path?x=1 http://127.0.0.1:PORT/other
                          (nghttp_client, nghttp_server_python)
Needs Debian's python3-h2; only to make seeds, not to run tests.
"""
import os
import socket
import sys

import h2.config
import h2.connection
import h2.events


def save(out, name, first, data):
    with open(os.path.join(out, name), 'wb') as f:
        f.write(bytes([first]) + bytes(data))


def pair(out):
    cc = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    sc = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
    cc.initiate_connection()
    sc.initiate_connection()
    c2s, s2c = bytearray(), bytearray()

    def pump():
        d = cc.data_to_send()
        if d:
            c2s.extend(d)
            for e in sc.receive_data(d):
                if isinstance(e, h2.events.RequestReceived):
                    sid = e.stream_id
                    sc.send_headers(sid, [(':status', '200'), ('content-type', 'text/plain'),
                                          ('x-request-id', 'srv-%d' % sid),
                                          ('date', 'Fri, 04 Dec 2026 17:00:00 GMT')])
                    sc.send_data(sid, b'hello %d\n' % sid, end_stream=True)
        d = sc.data_to_send()
        if d:
            s2c.extend(d)
            cc.receive_data(d)

    pump()
    for i in range(8):
        sid = cc.get_next_available_stream_id()
        hdrs = [(':method', 'GET' if i % 2 else 'POST'), (':scheme', 'https'),
                (':path', '/api/item/%d?q=%d' % (i, i * 7)), (':authority', 'example.test'),
                ('user-agent', 'seed/1.0'), ('traceparent', '00-%032x-%016x-01' % (i + 1, i + 2))]
        if i % 3:
            hdrs.append(('x-request-id', 'req-%d-abcdef' % i))
        cc.send_headers(sid, hdrs, end_stream=(i % 2 == 1))
        if i % 2 == 0:
            cc.send_data(sid, b'body of %d' % i, end_stream=True)
        pump()
    cc.ping(b'12345678')
    cc.close_connection()
    pump()
    save(out, 'python_h2_client', 1, c2s)
    save(out, 'python_h2_server', 0, s2c)


def serve(out):
    ls = socket.socket()
    ls.bind(('127.0.0.1', 0))
    ls.listen(1)
    print(ls.getsockname()[1], flush=True)
    s, _ = ls.accept()
    sc = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
    sc.initiate_connection()
    c2s, s2c = bytearray(), bytearray()
    d = sc.data_to_send()
    s2c += d
    s.sendall(d)
    s.settimeout(5)
    done = False
    while not done:
        try:
            d = s.recv(65536)
        except socket.timeout:
            break
        if not d:
            break
        c2s += d
        for e in sc.receive_data(d):
            if isinstance(e, h2.events.RequestReceived):
                sc.send_headers(e.stream_id, [(':status', '200'), ('server', 'seed'),
                                              ('content-length', '3')])
                sc.send_data(e.stream_id, b'ok\n', end_stream=True)
            elif isinstance(e, h2.events.ConnectionTerminated):
                done = True
        d = sc.data_to_send()
        if d:
            s2c += d
            s.sendall(d)
    save(out, 'nghttp_client', 1, c2s)
    save(out, 'nghttp_server_python', 0, s2c)


if __name__ == '__main__':
    {'pair': pair, 'serve': serve}[sys.argv[1]](sys.argv[2])
