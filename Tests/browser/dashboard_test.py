#!/usr/bin/env python3
"""Browser test of the dashboard (issue 10): start tensord, run the seed example, open `/` in
headless Chromium, take a screenshot, and check the rendered page shows the session, its arrays
and the recorded graph's nodes.

Usage: dashboard_test.py --bin path/to/tensord [--screenshot out.png]
"""
import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

SEED = {"steps": [
    {"create": {"data": [1, 2, 3, 4]}, "id": "x"},
    {"attach_grad": "x"},
    {"scope": "record", "steps": [
        {"op": "broadcast_mul", "inputs": ["x", "x"], "id": "xx"},
        {"op": "_plus_scalar", "inputs": ["xx"], "params": {"scalar": 1}, "id": "y"}]},
    {"backward": ["y"], "retain_graph": True},
], "fetch": ["x.grad"]}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(port, method, path, body=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request(method, path, body=None if body is None else json.dumps(body),
              headers={"Content-Type": "application/json"})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, (json.loads(data) if data and r.getheader("Content-Type", "").endswith("json") else data)


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    raise SystemExit("dashboard_test: chromium not installed")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--screenshot", default=None)
    a = ap.parse_args()
    port = free_port()
    proc = subprocess.Popen([a.bin, "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    profile = tempfile.mkdtemp(prefix="tensord-chromium-")
    try:
        for _ in range(200):
            try:
                if call(port, "GET", "/livez")[0] == 200:
                    break
            except OSError:
                time.sleep(0.05)
        status, session = call(port, "POST", "/v1/sessions", {})
        assert status == 201, session
        sid = session["id"]
        status, result = call(port, "POST", f"/v1/sessions/{sid}/run", SEED)
        assert status == 200 and result["fetched"]["x.grad"]["data"] == [2, 4, 6, 8], result
        url = f"http://127.0.0.1:{port}/#session={sid}&array=y"
        url_x = f"http://127.0.0.1:{port}/#session={sid}&array=x"
        base = [chromium(), "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                f"--user-data-dir={profile}", "--window-size=1400,1000", "--virtual-time-budget=8000",
                "--hide-scrollbars"]
        shot = a.screenshot or os.path.join(profile, "dashboard.png")
        subprocess.run(base + [f"--screenshot={shot}", url], check=True, timeout=90,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        size = os.path.getsize(shot)
        assert size > 20_000, f"screenshot suspiciously small ({size} bytes)"
        dom = subprocess.run(base + ["--dump-dom", url], check=True, timeout=90, capture_output=True, text=True).stdout
        text = re.sub(r"<[^>]+>", " ", dom)
        dom_x = subprocess.run(base + ["--dump-dom", url_x], check=True, timeout=90, capture_output=True, text=True).stdout
        text_x = re.sub(r"<[^>]+>", " ", dom_x)
        checks = {
            "session id": sid in dom,
            "arrays table lists x and y": re.search(r'data-aid="x"', dom) and re.search(r'data-aid="y"', dom),
            "graph rendered as inline SVG": "<svg" in dom[dom.find('id="graph"'):],
            "graph shows broadcast_mul": "broadcast_mul" in text,
            "graph shows _plus_scalar": "_plus_scalar" in text,
            "server status live": ">live<" in dom,
            "x's values and gradient preview [2 4 6 8]": re.search(r"1\.0\s+2\.0\s+3\.0\s+4\.0\s+grad:\s+2\s+4\s+6\s+8", text_x) is not None,
        }
        failed = [k for k, ok in checks.items() if not ok]
        for k, ok in checks.items():
            print(f"dashboard: {'ok  ' if ok else 'FAIL'} {k}")
        print(f"dashboard: screenshot {shot} ({size} bytes)")
        if failed:
            sys.exit(1)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    main()
