#!/usr/bin/env python3
"""Issue 7.3 client: `.npy` upload and download of one large float32 array over one keep-alive
connection, wall time per transfer, median of several runs, in MiB/s.

  bench_npy.py tensord HOST PORT [MiB] [runs]   create a session, POST the array once, then time
                                               PUT .../data (upload) and GET .../data (download)
  bench_npy.py write PATH [MiB]                 write that array's .npy file (for nginx)
  bench_npy.py nginx HOST PORT [MiB] [runs]     time PUT /upload (nginx reads and drops the body)
                                               and GET /array.npy (a static file of the same bytes)

Raw sockets (no http.client buffering): the body goes out with one sendall from a memoryview and
the response is received with recv_into a preallocated buffer, so the client adds no copy of its
own and the figure is the server's. Prints `upload_MiBps X` and `download_MiBps Y` lines.
"""
import json
import socket
import statistics
import struct
import sys
import time


def npy_bytes(count):
    """A version 1.0 .npy of `count` float32 values 0, 1, 2, ... (header padded to 64 bytes)."""
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%d,), }" % count
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    head = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode()
    data = bytearray(count * 4)
    view = memoryview(data).cast("f")
    for i in range(0, count, 4096):   # cheap, non-constant values
        view[i] = float(i)
    return head + bytes(data)


class Conn:
    def __init__(self, host, port):
        self.sock = socket.create_connection((host, port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for opt in (socket.SO_SNDBUF, socket.SO_RCVBUF):
            self.sock.setsockopt(socket.SOL_SOCKET, opt, 4 << 20)
        self.pending = b""
        self.big = bytearray(0)

    def request(self, method, path, body=b"", headers=()):
        head = f"{method} {path} HTTP/1.1\r\nHost: bench\r\nContent-Length: {len(body)}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
        self.sock.sendall(head.encode())
        if body:
            self.sock.sendall(memoryview(body))
        return self.response()

    def response(self):
        buf = self.pending
        while b"\r\n\r\n" not in buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("server closed the connection")
            buf += chunk
        head, _, rest = buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        length = 0
        for line in lines[1:]:
            k, _, v = line.partition(":")
            if k.strip().lower() == "content-length":
                length = int(v)
        if len(rest) >= length:
            self.pending = rest[length:]
            return status, rest[:length]
        if len(self.big) < length:
            self.big = bytearray(length)
        view = memoryview(self.big)
        view[:len(rest)] = rest
        got = len(rest)
        while got < length:
            n = self.sock.recv_into(view[got:length])
            if n == 0:
                raise ConnectionError("server closed the connection mid-body")
            got += n
        self.pending = b""
        return status, view[:length]


def timed(f, runs):
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main():
    if sys.argv[1] == "write":   # write PATH [MiB]: the file nginx serves
        open(sys.argv[2], "wb").write(npy_bytes(int(sys.argv[3]) * 1024 * 1024 // 4))
        return
    kind, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    mib = int(sys.argv[4]) if len(sys.argv) > 4 else 64
    runs = int(sys.argv[5]) if len(sys.argv) > 5 else 7
    body = npy_bytes(mib * 1024 * 1024 // 4)
    conn = Conn(host, port)
    if kind == "tensord":
        status, reply = conn.request("POST", "/v1/sessions", b"{}", [("Content-Type", "application/json")])
        assert status == 201, (status, bytes(reply))
        sid = json.loads(bytes(reply))["id"]
        arrays = f"/v1/sessions/{sid}/arrays"
        status, reply = conn.request("POST", arrays + "?id=big", body, [("Content-Type", "application/x-npy")])
        assert status == 201, (status, bytes(reply)[:300])
        up = lambda: conn.request("PUT", arrays + "/big/data", body, [("Content-Type", "application/x-npy")])
        down = lambda: conn.request("GET", arrays + "/big/data", headers=[("Accept", "application/x-npy")])
    else:
        up = lambda: conn.request("PUT", "/upload", body, [("Content-Type", "application/octet-stream")])
        down = lambda: conn.request("GET", "/array.npy")
    status, reply = up()
    assert status in (200, 204), (status, bytes(reply)[:300])
    status, reply = down()
    assert status == 200 and bytes(reply) == body, f"download differs from upload ({status}, {len(reply)} bytes)"
    size = len(body) / (1024 * 1024)
    print(f"upload_MiBps {size / timed(up, runs):.1f}")
    print(f"download_MiBps {size / timed(down, runs):.1f}")
    if kind == "tensord":
        conn.request("DELETE", f"/v1/sessions/{sid}")


if __name__ == "__main__":
    main()
