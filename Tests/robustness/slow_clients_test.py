#!/usr/bin/env python3
"""Slow clients (issue 8): 500 connections trickle header bytes (one byte every 0.5 s, never
finishing) while a normal client keeps making requests. The normal client's p99 must stay under
a stated bound, and the header timeout must close every trickling connection.

Usage: slow_clients_test.py --bin path/to/tensord [--slow 500] [--header-timeout 3] [--p99-ms 50]
"""
import argparse
import asyncio
import sys
import time

from harness import Conn, Server, percentile, raise_fd_limit


async def trickler(port, closed, stop_at):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = b"GET /v1/ops HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 1000
    i = 0
    try:
        while time.monotonic() < stop_at and i < len(request):
            writer.write(request[i:i + 1])
            await writer.drain()
            i += 1
            try:  # the server closing the connection shows up as EOF
                data = await asyncio.wait_for(reader.read(1024), timeout=0.5)
                if data == b"" or data.startswith(b"HTTP/1.1 408"):
                    closed.append(time.monotonic())
                    return
            except asyncio.TimeoutError:
                pass
    except (ConnectionError, OSError):
        closed.append(time.monotonic())
    finally:
        writer.close()


async def normal_client(port, stop_at, latencies, errors):
    conn = Conn(port)
    while time.monotonic() < stop_at:
        t = time.perf_counter()
        try:
            status, _ = await conn.request("GET", "/livez")
            if status != 200:
                errors.append(status)
        except Exception as e:  # noqa: BLE001
            errors.append(repr(e))
            conn.close()
        latencies.append(time.perf_counter() - t)
        await asyncio.sleep(0.005)
    conn.close()


async def main_async(a):
    server = Server(a.bin, "--header-timeout", str(int(a.header_timeout)))
    try:
        baseline_lat = []
        await normal_client(server.port, time.monotonic() + 2, baseline_lat, [])
        closed, latencies, errors = [], [], []
        stop_at = time.monotonic() + a.header_timeout * 3 + 4
        started = time.monotonic()
        await asyncio.gather(normal_client(server.port, stop_at, latencies, errors),
                             *(trickler(server.port, closed, stop_at) for _ in range(a.slow)))
        p99, base99 = percentile(latencies, 99) * 1e3, percentile(baseline_lat, 99) * 1e3
        last_close = (max(closed) - started) if closed else float("nan")
        print(f"slow: normal client p99 {p99:.2f} ms with {a.slow} trickling connections "
              f"(alone: {base99:.2f} ms; bound {a.p99_ms} ms); errors {len(errors)}")
        print(f"slow: {len(closed)}/{a.slow} trickling connections closed by the server, "
              f"last after {last_close:.1f}s (header timeout {a.header_timeout}s)")
        assert not errors, errors[:5]
        assert p99 <= a.p99_ms, f"p99 {p99:.2f} ms above {a.p99_ms} ms"
        assert len(closed) == a.slow, "some trickling connections were never closed"
        assert last_close <= a.header_timeout * 2 + 3, "header timeout enforced too late"
    finally:
        server.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--slow", type=int, default=500)
    ap.add_argument("--header-timeout", type=int, default=3)
    ap.add_argument("--p99-ms", type=float, default=50)
    a = ap.parse_args()
    raise_fd_limit(4096)
    asyncio.run(main_async(a))


if __name__ == "__main__":
    sys.exit(main())
