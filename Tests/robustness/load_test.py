#!/usr/bin/env python3
"""Load test (issue 8): 1,000 concurrent keep-alive connections drive a mix of session traffic
(create arrays, ops, a recorded forward + backward, fetches, releases) for a bounded time.
Asserts zero errors (every response 2xx), reports throughput and p50/p99 latency, then deletes
every session and asserts resident memory returns to its baseline (no leak).

Usage: load_test.py --bin path/to/tensord [--seconds 60] [--connections 1000] [--sessions 100]
"""
import argparse
import asyncio
import random
import sys
import time

from harness import Conn, Server, percentile, raise_fd_limit

def seed_program(tag):
    """The seed example under unique ids, releasing everything it made."""
    x, xx, y = f"x{tag}", f"xx{tag}", f"y{tag}"
    return {"steps": [
        {"create": {"data": [1, 2, 3, 4]}, "id": x},
        {"attach_grad": x},
        {"scope": "record", "steps": [
            {"op": "broadcast_mul", "inputs": [x, x], "id": xx},
            {"op": "_plus_scalar", "inputs": [xx], "params": {"scalar": 1}, "id": y}]},
        {"backward": [y]},
    ], "fetch": [f"{x}.grad"]}, [x, xx, y]


async def tensor_storages(conn):
    """The server's live tensor-buffer count, from /metrics."""
    conn_metrics = Conn(conn.port)
    try:
        status, text = await conn_metrics.request_text("GET", "/metrics")
    finally:
        conn_metrics.close()
    assert status == 200, status
    for line in text.splitlines():
        if line.startswith("tensord_tensor_storages "):
            return int(float(line.split()[1]))
    raise AssertionError("tensord_tensor_storages missing from /metrics")


async def worker(i, port, sessions, deadline, latencies, errors):
    conn = Conn(port)
    rnd = random.Random(i)
    n = 0
    while time.monotonic() < deadline:
        sid = rnd.choice(sessions)
        kind = rnd.random()
        t = time.perf_counter()
        try:
            if kind < 0.4:
                program, made = seed_program(f"{i}-{n}")
                status, body = await conn.request("POST", f"/v1/sessions/{sid}/run", program)
                ok = status == 200 and body["fetched"][f"{made[0]}.grad"]["data"] == [2, 4, 6, 8]
                if ok:
                    status, _ = await conn.request("POST", f"/v1/sessions/{sid}/release", {"ids": made})
                    ok = status == 200
            elif kind < 0.7:
                aid = f"w{i}-{n}"
                status, body = await conn.request("POST", f"/v1/sessions/{sid}/arrays",
                                                  {"id": aid, "data": [[1, 2], [3, 4]]})
                ok = status == 201
                if ok:
                    status, body = await conn.request("POST", f"/v1/sessions/{sid}/ops/sum", {"inputs": [aid], "return_data": True})
                    ok = status == 201 and body["outputs"][0]["data"] == [10]
                    if ok:
                        status, _ = await conn.request("POST", f"/v1/sessions/{sid}/release",
                                                       {"ids": [aid, body["outputs"][0]["id"]]})
                        ok = status == 200
            elif kind < 0.9:
                status, body = await conn.request("GET", f"/v1/sessions/{sid}")
                ok = status == 200
            else:
                status, body = await conn.request("GET", "/v1/ops")
                ok = status == 200
        except Exception as e:  # noqa: BLE001 - any failure is an error to count
            ok, status, body = False, None, repr(e)
            conn.close()
        latencies.append(time.perf_counter() - t)
        if not ok:
            errors.append((status, str(body)[:200]))
        n += 1
    conn.close()


async def main_async(a):
    # A short idle timeout makes the sweeper (which returns freed memory to the OS) run every 2 s.
    server = Server(a.bin, "--max-sessions", str(a.sessions * 2), "--idle-timeout", "20")
    try:
        await asyncio.sleep(0.5)
        cold = server.rss_bytes()
        setup = Conn(server.port)
        storages_idle = await tensor_storages(setup)
        # Warm-up round: the allocator's per-thread arenas, Dispatch's thread pool and the
        # tombstone table reach their working size. Measured over repeated rounds, what a round
        # leaves behind shrinks towards zero (+4.1, +1.8, +1.1 MiB): retention, not a leak. The
        # baseline is taken after it, so growth in the measured phase means a leak.
        warm = []
        for _ in range(a.sessions):
            status, body = await setup.request("POST", "/v1/sessions", {})
            assert status == 201, body
            warm.append(body["id"])
        await asyncio.gather(*(worker(i, server.port, warm, time.monotonic() + a.warmup, [], [])
                               for i in range(a.connections)))
        for sid in warm:
            assert (await setup.request("DELETE", f"/v1/sessions/{sid}"))[0] == 204
        await asyncio.sleep(4.5)
        baseline = server.rss_bytes()
        sessions = []
        for _ in range(a.sessions):
            status, body = await setup.request("POST", "/v1/sessions", {})
            assert status == 201, body
            sessions.append(body["id"])
        latencies, errors = [], []
        start = time.monotonic()
        deadline = start + a.seconds
        # Open every connection before the traffic starts, so 1,000 really are concurrent.
        await asyncio.gather(*(worker(i, server.port, sessions, deadline, latencies, errors) for i in range(a.connections)))
        elapsed = time.monotonic() - start
        peak = server.rss_bytes()
        for sid in sessions:
            status, _ = await setup.request("DELETE", f"/v1/sessions/{sid}")
            assert status == 204
        setup.close()
        await asyncio.sleep(4.5)  # the server trims freed memory on its next sweep
        after = server.rss_bytes()
        storages_after = await tensor_storages(setup)
        print(f"load: {len(latencies)} requests over {a.connections} connections in {elapsed:.1f}s "
              f"({len(latencies) / elapsed:,.0f} req/s); p50 {percentile(latencies, 50) * 1e3:.2f} ms, "
              f"p99 {percentile(latencies, 99) * 1e3:.2f} ms; errors {len(errors)}")
        print(f"load: RSS cold {cold / 2**20:.1f} MiB, after warm-up (baseline) {baseline / 2**20:.1f} MiB, peak {peak / 2**20:.1f} MiB, "
              f"after deleting sessions {after / 2**20:.1f} MiB")
        print(f"load: live tensor storages idle {storages_idle}, after deleting sessions {storages_after}")
        for e in errors[:10]:
            print(f"load: error {e}")
        assert not errors, f"{len(errors)} errors"
        # The exact leak check: every tensor buffer of the deleted sessions is gone.
        assert storages_after == storages_idle, "tensor storages leaked"
        # A coarse guard on everything else (the allocator keeps some freed pages; see the warm-up).
        assert after <= baseline + max(16 * 2**20, 0.25 * baseline), "resident memory did not return to baseline"
        assert server.stop() == 0, "tensord did not exit 0 on SIGTERM"
    finally:
        if server.proc.poll() is None:
            server.proc.kill()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--connections", type=int, default=1000)
    ap.add_argument("--sessions", type=int, default=100)
    ap.add_argument("--warmup", type=float, default=10, help="seconds of traffic before the baseline")
    a = ap.parse_args()
    raise_fd_limit(8192)
    asyncio.run(main_async(a))


if __name__ == "__main__":
    sys.exit(main())
