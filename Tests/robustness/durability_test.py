"""Durable sessions (issue 8): kill -9 in the middle of traffic, restart with the same
--data-dir, and every array of the last completed snapshot is back bit for bit; a graceful
SIGTERM restart loses nothing; a corrupted snapshot is set aside and start-up continues.

Which state a snapshot holds: `tensord_snapshot_passes_total` counts completed passes, and a
pass captures every change acknowledged before it began. Reading the counter as p0 after a set
of acknowledged writes and waiting until it reaches p0 + 2 guarantees that a pass which began
after those writes has completed (pass p0 + 1 may have begun before them).

Overwritten arrays hold values derived from a sequence number (also stored bit-exactly in a NaN
payload), so a restored array must be bit for bit the values of one write the client sent, and
no older than the last write acknowledged before that pass."""
import argparse
import glob
import http.client
import io
import os
import shutil
import signal
import sys
import tempfile
import threading
import time

import numpy as np

from harness import Server

ELEMENTS = 256


def npy(array):
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def generation(seq):
    """The values written with sequence number `seq`: float64, a NaN carrying seq at [0]."""
    values = np.random.default_rng(seq).standard_normal(ELEMENTS)
    values[0] = np.array([0x7FF8_0000_0000_0000 | seq], dtype="<u8").view("<f8")[0]
    values[1] = -0.0
    return values


def sequence_of(values):
    return int(values[:1].view("<u8")[0] & 0xFFFF_FFFF)


class Client:
    """One keep-alive connection."""

    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)

    def call(self, method, path, body=None, headers=None):
        self.conn.request(method, path, body=body, headers=headers or {})
        response = self.conn.getresponse()
        return response.status, response.read()

    def json(self, method, path, body=None):
        import json
        status, raw = self.call(method, path, json.dumps(body) if body is not None else None,
                                {"Content-Type": "application/json"} if body is not None else {})
        return status, (json.loads(raw) if raw else None)

    def put_npy(self, path, array, method="PUT"):
        return self.call(method, path, npy(array), {"Content-Type": "application/x-npy"})

    def get_npy(self, path):
        status, raw = self.call("GET", path, headers={"Accept": "application/x-npy"})
        assert status == 200, (path, status, raw[:200])
        return np.load(io.BytesIO(raw), allow_pickle=False)

    def metric(self, name):
        status, raw = self.call("GET", "/metrics")
        for line in raw.decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
        raise AssertionError(f"metric {name} missing")


def same_bits(a, b):
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def static_arrays():
    """Arrays written once: odd bit patterns of every dtype."""
    return {
        "f64": np.array([0x7FF8_0000_DEAD_BEEF, 0xFFF0_0000_0000_0001, 0x8000_0000_0000_0000, 1], dtype="<u8").view("<f8").reshape(2, 2),
        "f32": np.array([0x7FC0_1234, 0xFF80_0001, 0x8000_0000, 1, 0x3F80_0000], dtype="<u4").view("<f4"),
        "i64": np.array([-2**63, -1, 0, 2**63 - 1], dtype="<i8"),
        "i32": np.array([-2**31, 7, 2**31 - 1], dtype="<i4"),
        "u8": np.array([0, 128, 255], dtype="|u1"),
    }


class Traffic(threading.Thread):
    """Overwrites the counter arrays and creates new arrays until stopped (or the server dies)."""

    def __init__(self, port, sessions, counters):
        super().__init__(daemon=True)
        self.client = Client(port)
        self.sessions, self.counters = sessions, counters
        self.lock = threading.Lock()
        self.sent = {}          # (sid, aid) -> set of seqs sent
        self.acked = {}         # (sid, aid) -> last acknowledged seq
        self.created = {}       # (sid, aid) -> seq of a created array, once acknowledged
        self.seq = 1000
        self.stopping = threading.Event()
        self.failed = None

    def snapshot_of_acks(self):
        with self.lock:
            return dict(self.acked), dict(self.created)

    def run(self):
        round_number = 0
        try:
            while not self.stopping.is_set():
                for sid in self.sessions:
                    for aid in self.counters:
                        self.seq += 1
                        key = (sid, aid)
                        with self.lock:
                            self.sent.setdefault(key, set()).add(self.seq)
                        status, raw = self.client.put_npy(f"/v1/sessions/{sid}/arrays/{aid}/data", generation(self.seq))
                        assert status == 200, (status, raw[:200])
                        with self.lock:
                            self.acked[key] = self.seq
                round_number += 1
                if round_number % 5 == 0:
                    self.seq += 1
                    sid, aid = self.sessions[round_number % len(self.sessions)], f"n{self.seq}"
                    status, raw = self.client.put_npy(f"/v1/sessions/{sid}/arrays?id={aid}", generation(self.seq), method="POST")
                    assert status == 201, (status, raw[:200])
                    with self.lock:
                        self.created[(sid, aid)] = self.seq
        except (OSError, http.client.HTTPException):
            if not self.stopping.is_set():
                self.failed = "connection lost before the kill"
        except AssertionError as error:
            self.failed = f"traffic request failed: {error}"


def populate(client, count):
    sessions = []
    for index in range(count):
        status, body = client.json("POST", "/v1/sessions", {"labels": {"n": str(index)}})
        assert status == 201, body
        sid = body["id"]
        for aid, array in static_arrays().items():
            status, raw = client.put_npy(f"/v1/sessions/{sid}/arrays?id={aid}", array, method="POST")
            assert status == 201, raw
        assert client.json("POST", f"/v1/sessions/{sid}/arrays", {"id": "x", "data": [1, 2, 3], "dtype": "float32"})[0] == 201
        assert client.json("PUT", f"/v1/sessions/{sid}/arrays/x/grad", {"grad_req": "add"})[0] == 200
        status, program = client.json("POST", f"/v1/sessions/{sid}/run", {"steps": [
            {"scope": "record", "steps": [{"op": "square", "inputs": ["x"], "id": "y"}]},
            {"backward": {"heads": ["y"]}}]})
        assert status == 200, program
        for aid in ("c0", "c1", "c2"):
            status, raw = client.put_npy(f"/v1/sessions/{sid}/arrays?id={aid}", generation(index), method="POST")
            assert status == 201, raw
        sessions.append(sid)
    return sessions


def check_static(client, sid):
    for aid, array in static_arrays().items():
        restored = client.get_npy(f"/v1/sessions/{sid}/arrays/{aid}/data")
        assert same_bits(restored, array), (sid, aid, restored, array)
    grad = client.get_npy(f"/v1/sessions/{sid}/arrays/x/grad")
    assert same_bits(grad, np.array([2, 4, 6], dtype="<f4")), (sid, grad)
    status, info = client.json("GET", f"/v1/sessions/{sid}/arrays/x")
    assert status == 200 and info["grad_req"] == "add", info


def wait_for_pass_after(client, deadline_s=20):
    """Blocks until a snapshot pass that began after this call has completed."""
    p0 = client.metric("tensord_snapshot_passes_total")
    deadline = time.time() + deadline_s
    while client.metric("tensord_snapshot_passes_total") < p0 + 2:
        assert time.time() < deadline, "no snapshot pass completed"
        time.sleep(0.05)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--sessions", type=int, default=3)
    parser.add_argument("--traffic-seconds", type=float, default=3)
    args = parser.parse_args()
    data_dir = tempfile.mkdtemp(prefix="tensord-data-")
    flags = ["--data-dir", data_dir, "--snapshot-interval", "1", "--log-format", "json"]
    servers = []
    try:
        # 1. kill -9 in the middle of traffic.
        server = Server(args.bin, *flags)
        servers.append(server)
        client = Client(server.port)
        sessions = populate(client, args.sessions)
        traffic = Traffic(server.port, sessions, ["c0", "c1", "c2"])
        traffic.start()
        time.sleep(args.traffic_seconds / 2)
        acked, created = traffic.snapshot_of_acks()
        wait_for_pass_after(client)
        time.sleep(args.traffic_seconds / 2)
        assert traffic.failed is None, traffic.failed
        passes = client.metric("tensord_snapshot_passes_total")
        written = client.metric("tensord_snapshots_written_total")
        traffic.stopping.set()
        server.proc.send_signal(signal.SIGKILL)
        server.proc.wait(10)
        traffic.join(10)
        with traffic.lock:
            sent = {key: set(seqs) for key, seqs in traffic.sent.items()}

        server = Server(args.bin, *flags)
        servers.append(server)
        client = Client(server.port)
        assert '"msg":"sessions restored"' in server.log_tail() and f'"restored":{args.sessions}' in server.log_tail(), server.log_tail()
        assert client.metric("tensord_snapshots_restored_total") == args.sessions
        newer = 0
        for sid in sessions:
            check_static(client, sid)
            for aid in ("c0", "c1", "c2"):
                restored = client.get_npy(f"/v1/sessions/{sid}/arrays/{aid}/data")
                seq = sequence_of(restored)
                assert same_bits(restored, generation(seq)), (sid, aid, "not the bits of any write")
                assert seq in sent[(sid, aid)], (sid, aid, seq, "never sent")
                assert seq >= acked[(sid, aid)], (sid, aid, seq, acked[(sid, aid)], "older than the snapshot")
                newer += seq > acked[(sid, aid)]
            status, listing = client.json("GET", f"/v1/sessions/{sid}/arrays")
            assert status == 200
            ids = {entry["id"] for entry in listing["arrays"]}
            for (owner, aid), seq in created.items():
                if owner == sid:
                    assert aid in ids, (sid, aid, "created before the snapshot but lost")
                    assert same_bits(client.get_npy(f"/v1/sessions/{sid}/arrays/{aid}/data"), generation(seq))
            # Arrays created after the awaited pass may or may not be back, but only whole.
            for aid in ids - {"f64", "f32", "i64", "i32", "u8", "x", "y", "c0", "c1", "c2"}:
                assert aid.startswith("n"), (sid, aid)
                assert same_bits(client.get_npy(f"/v1/sessions/{sid}/arrays/{aid}/data"), generation(int(aid[1:])))
        print(f"durability: kill -9 after {int(passes)} snapshot passes ({int(written)} files written): "
              f"{args.sessions} sessions restored bit for bit, {newer} counters newer than the awaited snapshot")

        # 2. Graceful restart: the final pass at shutdown loses nothing.
        final = {}
        for index, sid in enumerate(sessions):
            for aid in ("c0", "c1", "c2"):
                seq = 900_000 + index * 10 + int(aid[1])
                assert client.put_npy(f"/v1/sessions/{sid}/arrays/{aid}/data", generation(seq))[0] == 200
                final[(sid, aid)] = seq
            assert client.put_npy(f"/v1/sessions/{sid}/arrays?id=late", generation(7), method="POST")[0] == 201
        status, body = client.json("POST", "/v1/sessions", {})
        assert status == 201
        late_session = body["id"]
        assert client.json("DELETE", f"/v1/sessions/{sessions[-1]}")[0] == 204
        assert server.stop(signal.SIGTERM) == 0, server.log_tail()
        server = Server(args.bin, *flags)
        servers.append(server)
        client = Client(server.port)
        for sid in sessions[:-1]:
            check_static(client, sid)
            for aid in ("c0", "c1", "c2"):
                assert same_bits(client.get_npy(f"/v1/sessions/{sid}/arrays/{aid}/data"), generation(final[(sid, aid)]))
            assert same_bits(client.get_npy(f"/v1/sessions/{sid}/arrays/late/data"), generation(7))
        assert client.json("GET", f"/v1/sessions/{late_session}")[0] == 200
        status, body = client.json("GET", f"/v1/sessions/{sessions[-1]}")
        assert status == 404 and body["reason"] == "replica-restarted", body
        print(f"durability: SIGTERM restart kept every acknowledged write; the deleted session stayed deleted")

        # 3. A corrupted snapshot is set aside and logged; start-up and the other sessions go on.
        assert server.stop(signal.SIGTERM) == 0
        victim = sessions[0]
        path = os.path.join(data_dir, "sessions", victim + ".tsnap")
        with open(path, "r+b") as f:
            f.seek(os.path.getsize(path) // 2)
            byte = f.read(1)
            f.seek(-1, os.SEEK_CUR)
            f.write(bytes([byte[0] ^ 0x40]))
        server = Server(args.bin, *flags)
        servers.append(server)
        client = Client(server.port)
        log = server.log_tail(20000)
        assert '"msg":"snapshot set aside"' in log and "checksum" in log, log
        assert len(glob.glob(os.path.join(data_dir, "corrupt", victim + ".tsnap.*"))) == 1
        status, body = client.json("GET", f"/v1/sessions/{victim}")
        assert status == 404 and body["reason"] == "replica-restarted", body
        for sid in sessions[1:-1]:
            check_static(client, sid)
        assert client.metric("tensord_snapshots_set_aside_total") == 1
        assert client.call("GET", "/livez")[0] == 200
        print("durability: a flipped byte was detected by the checksum, the file moved to corrupt/, start-up went on")
    finally:
        for server in servers:
            if server.proc.poll() is None:
                server.proc.kill()
                server.proc.wait()
        shutil.rmtree(data_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
