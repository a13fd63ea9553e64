"""Shared helpers for the robustness tests: start tensord, raw asyncio HTTP/1.1 keep-alive
connections, resident-memory readings. Loopback only; every loop is bounded in time."""
import asyncio
import json
import os
import resource
import signal
import socket
import subprocess
import tempfile
import time


def raise_fd_limit(at_least):
    """Raises this process's open-file limit to `at_least` (within the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, at_least)), hard))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A tensord process on an ephemeral loopback port."""

    def __init__(self, binary, *args, env=None):
        self.port = free_port()
        self.args = [binary, "--host", "127.0.0.1", "--port", str(self.port), *args]
        # The server logs a line per request: a file, never an unread pipe (a full pipe blocks it).
        self.log = tempfile.NamedTemporaryFile(prefix="tensord-", suffix=".log", delete=False)
        self.proc = subprocess.Popen(self.args, stdout=subprocess.DEVNULL, stderr=self.log,
                                     env={**os.environ, **(env or {})})
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"tensord exited: {self.log_tail()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("tensord did not start")

    def log_tail(self, n=2000):
        with open(self.log.name, "rb") as f:
            return f.read()[-n:].decode(errors="replace")

    def rss_bytes(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        return 0

    def stop(self, sig=signal.SIGTERM, timeout=15):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                return self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise
        return self.proc.returncode


class Conn:
    """One keep-alive HTTP/1.1 connection with a minimal response reader."""

    def __init__(self, port, headers=None):
        self.port, self.extra = port, headers or {}
        self.reader = self.writer = None

    async def open(self):
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)

    async def request_text(self, method, path):
        """A request whose response body is text (not JSON)."""
        status, raw = await self._exchange(method, path, None)
        return status, raw.decode()

    async def request(self, method, path, body=None):
        status, payload = await self._exchange(method, path, body)
        return status, (json.loads(payload) if payload else None)

    async def _exchange(self, method, path, body):
        if self.writer is None:
            await self.open()
        data = b"" if body is None else json.dumps(body).encode()
        head = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{self.port}", f"Content-Length: {len(data)}"]
        if body is not None:
            head.append("Content-Type: application/json")
        head += [f"{k}: {v}" for k, v in self.extra.items()]
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + data)
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("server closed the connection")
        status = int(status_line.split()[1])
        length, close = 0, False
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "connection" and value.strip().lower() == "close":
                close = True
            elif name == "transfer-encoding":
                raise ConnectionError("unexpected chunked response")
        payload = await self.reader.readexactly(length) if length else b""
        if close:
            self.close()
        return status, payload

    def close(self):
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def percentile(values, p):
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]
