"""The HTTP/1.1 transport against scripted servers on real loopback sockets."""

import socket
import threading
import time

import pytest

from tensord._transport import HTTPTransport
from tensord.errors import TensordError


class ScriptedServer:
    """Accepts connections and answers each request with the next scripted raw response.

    A script entry is bytes (sent as the response), ``(bytes, "close")`` (sent, then the
    connection is closed) or ``None`` (close without answering). Records every raw request
    head and body it read.
    """

    def __init__(self, script):
        self.script = list(script)
        self.requests = []
        self.connections = 0
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(4)
        self.listener.settimeout(10)
        self.url = "http://127.0.0.1:%d" % self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _read_request(self, conn, buf):
        while b"\r\n\r\n" not in buf:
            chunk = conn.recv(65536)
            if not chunk:
                return None, buf
            buf += chunk
        head, _, rest = buf.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            k, _, v = line.partition(b":")
            if k.strip().lower() == b"content-length":
                length = int(v)
        while len(rest) < length:
            rest += conn.recv(65536)
        self.requests.append((head.decode(), rest[:length]))
        return True, rest[length:]

    def _serve(self):
        try:
            while self.script:
                conn, _ = self.listener.accept()
                self.connections += 1
                buf = b""
                with conn:
                    while self.script:
                        ok, buf = self._read_request(conn, buf)
                        if ok is None:
                            break
                        reply = self.script.pop(0)
                        if reply is None:
                            break
                        if isinstance(reply, tuple):
                            conn.sendall(reply[0])
                            break
                        conn.sendall(reply)
        except OSError:
            pass

    def close(self):
        self.listener.close()


def ok(body=b'{"a":1}', extra=b""):
    return b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%s\r\n%s" % (
        len(body), extra, body)


def test_keep_alive_reuses_one_connection_and_sends_one_write():
    srv = ScriptedServer([ok(), ok(b'{"b":2}')])
    t = HTTPTransport(srv.url)
    assert t.request("GET", "/x").json() == {"a": 1}
    r = t.request("POST", "/y", b'{"k":1}', "application/json")
    assert r.json() == {"b": 2} and r.status == 200
    assert srv.connections == 1
    head, body = srv.requests[1]
    assert head.startswith("POST /y HTTP/1.1\r\n")
    assert "Content-Length: 7" in head and "Content-Type: application/json" in head
    assert body == b'{"k":1}'
    t.close()
    srv.close()


def test_chunked_body_with_extensions_and_trailers():
    raw = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: application/x-npy\r\n\r\n"
           b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n")
    srv = ScriptedServer([raw, ok()])
    t = HTTPTransport(srv.url)
    r = t.request("GET", "/c")
    assert r.body == b"hello world" and r.content_type == "application/x-npy"
    assert t.request("GET", "/after").json() == {"a": 1}      # connection still in sync
    assert srv.connections == 1
    srv.close()


def test_large_body_both_ways():
    payload = bytes(range(256)) * 8192                          # 2 MiB
    srv = ScriptedServer([b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(payload), payload)])
    t = HTTPTransport(srv.url)
    r = t.request("PUT", "/big", payload, "application/x-npy")
    assert r.body == payload and srv.requests[0][1] == payload
    srv.close()


def test_stale_keep_alive_connection_is_retried_once():
    srv = ScriptedServer([ok(), None, ok(b'{"again":true}')])
    t = HTTPTransport(srv.url)
    t.request("GET", "/1")
    # The server closes the kept-alive connection instead of answering: resend on a new one.
    assert t.request("GET", "/2").json() == {"again": True}
    assert srv.connections == 2
    srv.close()


def test_connection_close_and_204_and_interim_responses():
    srv = ScriptedServer([b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
                          b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nhi",
                          ok()])
    t = HTTPTransport(srv.url)
    assert t.request("DELETE", "/s").status == 204
    assert t.request("GET", "/c").body == b"hi"
    assert t.request("GET", "/n").json() == {"a": 1}
    assert srv.connections == 2                                   # reconnected after close
    srv.close()


def test_refused_connection_is_a_tensord_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t = HTTPTransport("http://127.0.0.1:%d" % port, timeout=2)
    with pytest.raises(TensordError) as err:
        t.request("GET", "/livez")
    assert err.value.code == "connection-failed" and err.value.status == 0


def test_truncated_response_is_an_error_not_a_retry():
    srv = ScriptedServer([(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", "close"), ok()])
    t = HTTPTransport(srv.url, timeout=5)
    with pytest.raises(TensordError, match="middle of a response"):
        t.request("GET", "/t")
    assert t.request("GET", "/next").json() == {"a": 1}          # a fresh connection works
    srv.close()


def test_url_prefix_and_api_key(monkeypatch):
    monkeypatch.setenv("TENSORD_API_KEY", "k123")
    srv = ScriptedServer([ok()])
    t = HTTPTransport(srv.url + "/base/")
    t.request("GET", "/v1/ops")
    head = srv.requests[0][0]
    assert head.startswith("GET /base/v1/ops HTTP/1.1")
    assert "Authorization: Bearer k123" in head and "Host: 127.0.0.1:" in head
    srv.close()


def test_rejects_other_schemes():
    with pytest.raises(ValueError):
        HTTPTransport("ftp://example")


def test_pipelined_requests_answered_in_order_on_one_connection():
    srv = ScriptedServer([ok(b'{"n":1}'), ok(b'{"n":2}'), ok(b'{"n":3}'), ok(b'{"n":4}')])
    t = HTTPTransport(srv.url)
    seen = []
    tickets = [t.submit("POST", "/p%d" % i, b"{}", "application/json",
                        callback=lambda r: seen.append(r.json()["n"])) for i in range(3)]
    assert t.in_flight == 3
    t.wait(tickets[0])
    assert tickets[0].done and seen[:1] == [1]
    # A plain request first reads what is still in flight.
    assert t.request("GET", "/last").json() == {"n": 4}
    assert seen == [1, 2, 3] and t.in_flight == 0
    assert [h.split(" ")[1] for h, _ in srv.requests] == ["/p0", "/p1", "/p2", "/last"]
    assert srv.connections == 1
    srv.close()


def test_idle_connection_closed_by_server_is_replaced_before_writing():
    # 1st connection: answers /a, then the server closes it while idle (no request pending).
    # 2nd connection: answers /b with Connection: close; /c, written behind it but provably not
    # read by the server, is resent on a 3rd.
    srv = ScriptedServer([(ok(b'{"n":0}'), "close"),
                          (b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 7\r\n\r\n{\"n\":1}",
                           "close"),
                          ok(b'{"n":2}')])
    t = HTTPTransport(srv.url)
    t.request("GET", "/a")
    time.sleep(0.05)                     # the close reaches the client while the connection idles
    seen = []
    for path in ("/b", "/c"):
        t.submit("POST", path, b"{}", "application/json", callback=lambda r: seen.append(r.json()["n"]))
    t.drain()
    assert seen == [1, 2]
    assert [h.split(" ")[1] for h, _ in srv.requests] == ["/a", "/b", "/c"]   # each sent once
    assert srv.connections == 3
    srv.close()


def test_request_read_then_unanswered_is_not_resent_unless_safe():
    # The server reads POST /p and closes without answering: it may have executed it, so the
    # client must not send it again (a resent create would fail with "id already exists").
    srv = ScriptedServer([ok(), None, None, None, ok(b'{"again":true}')])
    t = HTTPTransport(srv.url, timeout=5)
    t.request("GET", "/1")
    results = []
    t.submit("POST", "/p", b'{"id":"x"}', "application/json", callback=results.append)
    t.submit("POST", "/q", b"{}", "application/json", callback=results.append)
    t.drain()
    assert results == [None, None]
    with pytest.raises(TensordError, match="may have been executed") as err:
        t.request("POST", "/r", b"{}", "application/json")
    assert err.value.code == "connection-failed"
    # A GET lost the same way is repeated on a new connection.
    assert t.request("GET", "/g").json() == {"again": True}
    paths = [h.split(" ")[1] for h, _ in srv.requests]
    assert paths.count("/p") == 1 and paths.count("/r") == 1 and paths.count("/g") == 2
    srv.close()


def test_pipelined_failure_reaches_every_callback():
    srv = ScriptedServer([(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", "close")])
    t = HTTPTransport(srv.url, timeout=5)
    results = []
    for _ in range(3):
        t.submit("GET", "/x", callback=results.append)
    t.drain()
    assert results == [None, None, None] and t.in_flight == 0
    srv.close()


def test_submit_after_close_resends_lost_requests_first():
    close = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 7\r\n\r\n{\"n\":0}"
    srv = ScriptedServer([(close, "close"), ok(b'{"n":1}'), ok(b'{"n":2}')])
    t = HTTPTransport(srv.url)
    seen = []
    first = t.submit("POST", "/a", b"{}", "application/json", callback=lambda r: seen.append(r.json()["n"]))
    t.submit("POST", "/b", b"{}", "application/json", callback=lambda r: seen.append(r.json()["n"]))
    t.wait(first)                        # /a answered with close: /b was never read
    t.submit("POST", "/c", b"{}", "application/json", callback=lambda r: seen.append(r.json()["n"]))
    t.drain()
    assert seen == [0, 1, 2]
    paths = [h.split(" ")[1] for h, _ in srv.requests]
    assert paths[-2:] == ["/b", "/c"] and t.connections == 2
    srv.close()
