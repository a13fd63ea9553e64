"""Fixtures: a real tensord on an ephemeral loopback port, sessions, and ``mx`` bound to one.

The binary is ``$TENSORD_BIN`` or ``<swift build --show-bin-path>/tensord`` of the repository
this client lives in (build it with ``swift build --product tensord``). Extra server flags can be
passed in ``$TENSORD_ARGS``.
"""

import os
import shlex
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

sys.path.insert(0, os.path.dirname(__file__))

import tensord  # noqa: E402
from tensord.mx import _state  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))


def _binary():
    path = os.environ.get("TENSORD_BIN")
    if not path:
        out = subprocess.run(["swift", "build", "--show-bin-path"], cwd=REPO, capture_output=True,
                             text=True, timeout=300)
        path = os.path.join(out.stdout.strip(), "tensord")
    if not os.access(path, os.X_OK):
        raise RuntimeError("tensord binary not found at %s: run `swift build --product tensord` "
                           "or set TENSORD_BIN" % path)
    return path


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def tensord_url(tmp_path_factory):
    """Starts tensord on 127.0.0.1:<free port>, waits for /livez, stops it at the end."""
    if os.environ.get("TENSORD_TEST_URL"):
        yield os.environ["TENSORD_TEST_URL"].rstrip("/")
        return
    port = _free_port()
    log_path = tmp_path_factory.mktemp("tensord") / "tensord.log"
    args = [_binary(), "--host", "127.0.0.1", "--port", str(port)]
    args += shlex.split(os.environ.get("TENSORD_ARGS", ""))
    log = open(log_path, "wb")
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
    url = "http://127.0.0.1:%d" % port
    deadline = time.monotonic() + 30
    while True:
        if proc.poll() is not None:
            log.close()
            raise RuntimeError("tensord exited with %s:\n%s" % (proc.returncode, log_path.read_text()))
        try:
            with urllib.request.urlopen(url + "/livez", timeout=1) as resp:
                if resp.status == 200:
                    break
        except OSError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("tensord did not answer /livez within 30 s:\n" + log_path.read_text())
        time.sleep(0.05)
    try:
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(scope="session")
def client(tensord_url):
    with tensord.Client(tensord_url) as c:
        yield c


@pytest.fixture
def session(client):
    """A fresh session, deleted after the test."""
    with client.create_session() as s:
        yield s


@pytest.fixture(params=["sync", "pipelined"])
def mxs(request, session):
    """``tensord.mx`` bound to a fresh session for the duration of the test, once waiting for
    every response and once pipelining (errors then surface at the next synchronising call,
    so tests that expect one call ``nd.waitall()`` inside ``pytest.raises``)."""
    session.pipeline = request.param == "pipelined"
    previous = _state.set_session(session)
    try:
        yield session
    finally:
        if previous is not None:
            _state.set_session(previous)
