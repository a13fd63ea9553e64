#!/usr/bin/env python3
"""Scale-out test on one machine (loopback only, bounded): three tensord replicas behind nginx
configured by deploy/nginx/render.py.

1. 300 sessions created through the proxy spread over all replicas; each id's owner prefix names
   the replica that answers for it.
2. The seed example (x*x+1, backward, grad == [2,4,6,8]) runs through the proxy in every session.
3. A forged owner prefix gets 404 from the proxy.
4. SIGKILL one replica: every session on the other replicas still works.
5. Restart it (same replica id, new boot epoch): its old ids answer 404 reason=replica-restarted.
6. Add a fourth replica and reload nginx: no existing session breaks; new sessions reach it.
Usage: scaleout_test.py --bin path/to/tensord
"""
import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SEED_PROGRAM = {
    "steps": [
        {"create": {"data": [1, 2, 3, 4]}, "id": "x"},
        {"attach_grad": "x"},
        {"scope": "record", "steps": [
            {"op": "broadcast_mul", "inputs": ["x", "x"], "id": "xx"},
            {"op": "_plus_scalar", "inputs": ["xx"], "params": {"scalar": 1}, "id": "y"}]},
        {"backward": ["y"]},
    ],
    "fetch": ["x.grad"],
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Client:
    def __init__(self, port):
        self.port = port
        self.conn = None

    def request(self, method, path, body=None):
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            try:
                data = None if body is None else json.dumps(body).encode()
                headers = {"Content-Type": "application/json"} if data is not None else {}
                self.conn.request(method, path, body=data, headers=headers)
                r = self.conn.getresponse()
                raw = r.read()
                if r.getheader("Connection", "").lower() == "close":
                    self.conn.close(); self.conn = None
                return r.status, (json.loads(raw) if raw else None)
            except (ConnectionError, http.client.HTTPException, OSError):
                self.conn.close(); self.conn = None
                if attempt == 1:
                    raise


class Cluster:
    def __init__(self, binary, workdir):
        self.binary, self.dir = binary, workdir
        self.replicas = {}   # id -> (port, Popen)
        self.proxy_port = free_port()
        self.nginx_started = False

    def start_replica(self, rid, port=None):
        port = port or free_port()
        log = open(os.path.join(self.dir, f"replica-{rid}.log"), "ab")
        p = subprocess.Popen([self.binary, "--host", "127.0.0.1", "--port", str(port), "--replica-id", str(rid)],
                             stdout=log, stderr=log)
        self.replicas[rid] = (port, p)
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                if Client(port).request("GET", "/livez")[0] == 200:
                    return port
            except OSError:
                pass
            if p.poll() is not None:
                raise RuntimeError(f"replica {rid} exited with {p.returncode}")
            time.sleep(0.05)
        raise RuntimeError(f"replica {rid} did not become live")

    def write_nginx(self):
        args = [sys.executable, os.path.join(HERE, "nginx", "render.py"), "--listen", f"127.0.0.1:{self.proxy_port}",
                "--full", "--prefix", self.dir]
        for rid, (port, _) in sorted(self.replicas.items()):
            args += ["--replica", f"{rid}=127.0.0.1:{port}"]
        conf = subprocess.run(args, check=True, capture_output=True, text=True).stdout
        with open(os.path.join(self.dir, "nginx.conf"), "w") as f:
            f.write(conf)

    def nginx(self, *extra):
        subprocess.run(["nginx", "-c", os.path.join(self.dir, "nginx.conf"), "-p", self.dir, *extra], check=True)

    def start_proxy(self):
        self.write_nginx()
        self.nginx()
        self.nginx_started = True
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                if Client(self.proxy_port).request("GET", "/livez")[0] == 200:
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("nginx did not come up")

    def reload_proxy(self):
        self.write_nginx()
        self.nginx("-s", "reload")
        time.sleep(1.0)  # old workers finish; new ones read the new upstreams

    def stop(self):
        if self.nginx_started:
            subprocess.run(["nginx", "-c", os.path.join(self.dir, "nginx.conf"), "-p", self.dir, "-s", "stop"])
        for _, p in self.replicas.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for _, p in self.replicas.values():
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()


def owner(sid):
    assert sid.startswith("r") and "e" in sid and "-" in sid, sid
    return int(sid[1:sid.index("e")])


def seed_example(client, sid):
    status, body = client.request("POST", f"/v1/sessions/{sid}/run", SEED_PROGRAM)
    assert status == 200, (sid, status, body)
    grad = body["fetched"]["x.grad"]["data"]
    assert grad == [2, 4, 6, 8], (sid, grad)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--sessions", type=int, default=300)
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="tensord-scaleout-")
    cluster = Cluster(os.path.abspath(a.bin), work)
    started = time.time()
    try:
        for rid in range(3):
            cluster.start_replica(rid)
        cluster.start_proxy()
        proxy = Client(cluster.proxy_port)

        sessions = []
        for _ in range(a.sessions):
            status, body = proxy.request("POST", "/v1/sessions", {})
            assert status == 201, (status, body)
            sessions.append(body["id"])
        spread = {rid: sum(1 for s in sessions if owner(s) == rid) for rid in range(3)}
        print(f"scaleout: {len(sessions)} sessions spread {spread}")
        assert all(n >= a.sessions // 10 for n in spread.values()), f"uneven spread {spread}"
        for rid, (port, _) in cluster.replicas.items():  # the owner really holds them
            direct = Client(port)
            for sid in [s for s in sessions if owner(s) == rid][:20]:
                assert direct.request("GET", f"/v1/sessions/{sid}")[0] == 200, sid

        for sid in sessions:
            seed_example(proxy, sid)
        print("scaleout: seed example ok through the proxy in every session")

        sample = sessions[0]
        forged = "r9" + sample[sample.index("e"):]
        status, body = proxy.request("GET", f"/v1/sessions/{forged}")
        assert status == 404 and body["code"] == "session-not-found", (status, body)
        other = (owner(sample) + 1) % 3
        forged = f"r{other}" + sample[sample.index("e"):]
        status, body = proxy.request("GET", f"/v1/sessions/{forged}")
        assert status == 404 and body["code"] == "session-not-found", (status, body)
        print("scaleout: forged owner prefixes get 404")

        victim = 1
        port, proc = cluster.replicas[victim]
        proc.kill(); proc.wait()
        survivors = [s for s in sessions if owner(s) != victim]
        for sid in survivors:
            status, body = proxy.request("GET", f"/v1/sessions/{sid}/arrays/x/grad")
            assert status == 200 and body["data"] == [2, 4, 6, 8], (sid, status, body)
        print(f"scaleout: killed replica {victim}; {len(survivors)} sessions on the others untouched")

        cluster.start_replica(victim, port)
        lost = [s for s in sessions if owner(s) == victim]
        for sid in lost[:50]:
            status, body = proxy.request("GET", f"/v1/sessions/{sid}")
            assert status == 404 and body.get("reason") == "replica-restarted", (sid, status, body)
        print(f"scaleout: restarted replica {victim}: old ids answer 404 replica-restarted")

        cluster.start_replica(3)
        cluster.reload_proxy()
        for sid in survivors:
            status, body = proxy.request("GET", f"/v1/sessions/{sid}/arrays/x/grad")
            assert status == 200 and body["data"] == [2, 4, 6, 8], (sid, status, body)
        fresh = []
        for _ in range(40):
            status, body = proxy.request("POST", "/v1/sessions", {})
            assert status == 201, (status, body)
            fresh.append(body["id"])
        assert any(owner(s) == 3 for s in fresh), "no new session reached replica 3"
        for sid in fresh:
            seed_example(proxy, sid)
        print(f"scaleout: added replica 3 and reloaded nginx: no existing session broke, new sessions reach it")
        print(f"scaleout: ok in {time.time() - started:.1f}s")
    finally:
        cluster.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
