#!/usr/bin/env python3
"""Issue 7.5 helper for scripts/bench-server.sh.

  bench_server.py setup HOST PORT N [E]    create N sessions, each with x = [1,2,3,4] (or E values
                                           0..1) and y = x + 1; prints the session ids, one a line
  bench_server.py latency HOST PORT SID K  K op requests (y = x + 1 into y, `out`), one at a time on
                                           one keep-alive connection; prints the client round-trip p50
  bench_server.py p50 LOG SINCE            p50 of the server's own duration_us of the op requests
                                           logged after line SINCE of the tensord log
  bench_server.py mxnet K                  MXNet in-process: one imperative op (x * 2, waited for)
"""
import json
import socket
import statistics
import sys
import time

OP = b'{"inputs":["x"],"params":{"scalar":1},"out":"y"}'


def roundtrip(sock, raw):
    sock.sendall(raw)
    buf = b""
    while b"\r\n\r\n" not in buf:
        buf += sock.recv(65536)
    head, _, body = buf.partition(b"\r\n\r\n")
    length = int(next(l.split(b":")[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")))
    while len(body) < length:
        body += sock.recv(65536)
    return int(head.split(b" ")[1]), body


def request(method, path, body=b""):
    return (f"{method} {path} HTTP/1.1\r\nHost: b\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


def main():
    kind = sys.argv[1]
    if kind == "setup":
        sock = socket.create_connection((sys.argv[2], int(sys.argv[3])))
        for _ in range(int(sys.argv[4])):
            status, body = roundtrip(sock, request("POST", "/v1/sessions", b"{}"))
            sid = json.loads(body)["id"]
            size = int(sys.argv[5]) if len(sys.argv) > 5 else 0
            data = json.dumps([i / size for i in range(size)] if size else [1, 2, 3, 4])
            run = ('{"steps":[{"create":{"data":%s},"id":"x"},{"op":"_plus_scalar","inputs":["x"],'
                   '"params":{"scalar":1},"id":"y"}]}' % data).encode()
            status, body = roundtrip(sock, request("POST", f"/v1/sessions/{sid}/run", run))
            assert status == 200, body
            print(sid)
    elif kind == "latency":
        sock = socket.create_connection((sys.argv[2], int(sys.argv[3])))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        raw = request("POST", f"/v1/sessions/{sys.argv[4]}/ops/_plus_scalar", OP)
        times = []
        for _ in range(int(sys.argv[5])):
            t = time.perf_counter()
            status, body = roundtrip(sock, raw)
            times.append(time.perf_counter() - t)
            assert status == 201, body
        print(f"client_p50_us {statistics.median(times) * 1e6:.1f}")
    elif kind == "p50":
        durations = []
        with open(sys.argv[2], errors="replace") as log:
            for n, line in enumerate(log):
                if n < int(sys.argv[3]) or '"request"' not in line or "/ops/{op}" not in line:
                    continue
                durations.append(json.loads(line)["duration_us"])
        print(f"server_p50_us {statistics.median(durations):.1f} of {len(durations)}")
    elif kind == "mxnet":
        import mxnet as mx
        x = mx.nd.array([1, 2, 3, 4])
        times = []
        for _ in range(int(sys.argv[2])):
            t = time.perf_counter()
            (x * 2).wait_to_read()
            times.append(time.perf_counter() - t)
        print(f"mxnet_op_p50_us {statistics.median(times) * 1e6:.1f}")


if __name__ == "__main__":
    main()
