"""HTTP/1.1 over one persistent keep-alive connection, with the standard library's socket/ssl.

A small purpose-built client rather than ``http.client``: it costs a fraction of the CPU per
request (one ``sendall`` per small request, no ``email`` header parsing) and it keeps its own
read buffer, so several requests can be written before their responses are read (HTTP/1.1
pipelining, :meth:`HTTPTransport.submit`), which ``http.client`` cannot do.
"""

import collections
import json
import os
import socket
import ssl
import threading
import urllib.parse

from .errors import TensordError, error_from_response

DEFAULT_URL = "http://127.0.0.1:8080"

# Bodies up to this size are sent in the same write as the headers.
_COALESCE = 64 * 1024
_RECV = 256 * 1024
_MAX_HEADER = 64 * 1024

#: Pipelined requests allowed in flight; beyond this the oldest response is read first, so
#: neither side's socket buffers can fill up with unread data.
MAX_IN_FLIGHT = 64


def resolve_url(url=None):
    """The server URL: the argument, else ``TENSORD_URL``, else ``http://127.0.0.1:8080``."""
    return (url or os.environ.get("TENSORD_URL") or DEFAULT_URL).rstrip("/")


class Response:
    """A finished HTTP exchange: ``status``, lower-cased ``headers`` and the raw ``body``."""

    __slots__ = ("status", "headers", "body")

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def content_type(self):
        return self.headers.get("content-type", "")

    def json(self):
        return json.loads(self.body) if self.body else None


class _Stale(Exception):
    """The server closed a reused connection before sending any byte of the response."""


class _Connection:
    """One socket plus the bytes read from it but not consumed yet."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = bytearray()
        self.received_any = False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def _fill(self):
        chunk = self.sock.recv(_RECV)
        if not chunk:
            if not self.received_any:
                raise _Stale()
            raise ConnectionError("the server closed the connection in the middle of a response")
        self.received_any = True
        self.buf += chunk

    def read_until(self, marker, limit):
        start = 0
        while True:
            i = self.buf.find(marker, start)
            if i >= 0:
                out = bytes(self.buf[:i])
                del self.buf[:i + len(marker)]
                return out
            if len(self.buf) > limit:
                raise ConnectionError("response header line too long")
            start = max(0, len(self.buf) - len(marker) + 1)
            self._fill()

    def read_exact(self, n):
        if len(self.buf) >= n:
            out = bytes(self.buf[:n])
            del self.buf[:n]
            return out
        out = bytearray(n)
        view = memoryview(out)
        have = len(self.buf)
        view[:have] = self.buf
        self.buf.clear()
        while have < n:
            got = self.sock.recv_into(view[have:], n - have)
            if not got:
                raise ConnectionError("the server closed the connection in the middle of a response")
            self.received_any = True
            have += got
        return bytes(out)

    def read_to_eof(self):
        while True:
            chunk = self.sock.recv(_RECV)
            if not chunk:
                out = bytes(self.buf)
                self.buf.clear()
                return out
            self.buf += chunk

    def read_response(self, method):
        """Reads one response; returns ``(Response, keep_alive)``."""
        self.received_any = bool(self.buf)
        while True:
            head = self.read_until(b"\r\n\r\n", _MAX_HEADER)
            lines = head.decode("latin-1").split("\r\n")
            parts = lines[0].split(" ", 2)
            if len(parts) < 2 or not parts[0].startswith("HTTP/"):
                raise ConnectionError("malformed HTTP status line %r" % lines[0][:80])
            status = int(parts[1])
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                name = name.strip().lower()
                value = value.strip()
                headers[name] = headers[name] + ", " + value if name in headers else value
            if status >= 200:
                break  # 1xx interim responses carry no body: read the next head
        tokens = headers.get("connection", "").lower()
        keep_alive = "close" not in tokens and (parts[0] != "HTTP/1.0" or "keep-alive" in tokens)
        if method == "HEAD" or status in (204, 304):
            body = b""
        elif "chunked" in headers.get("transfer-encoding", "").lower():
            body = self._read_chunked()
        elif "content-length" in headers:
            body = self.read_exact(int(headers["content-length"]))
        else:
            body = self.read_to_eof()
            keep_alive = False
        return Response(status, headers, body), keep_alive

    def _read_chunked(self):
        pieces = []
        while True:
            size_line = self.read_until(b"\r\n", _MAX_HEADER)
            size = int(size_line.split(b";", 1)[0].strip(), 16)
            if size == 0:
                while self.read_until(b"\r\n", _MAX_HEADER):
                    pass  # trailer fields, up to the empty line
                return b"".join(pieces)
            pieces.append(self.read_exact(size))
            if self.read_exact(2) != b"\r\n":
                raise ConnectionError("malformed chunked encoding")


class Ticket:
    """A pipelined request: ``done`` turns True once its response has been handed to the
    callback (or it failed with a transport error, passed to the callback as ``None``)."""

    __slots__ = ("method", "data", "body", "callback", "done")

    def __init__(self, method, data, body, callback):
        self.method = method
        self.data = data
        self.body = body
        self.callback = callback
        self.done = False


class HTTPTransport:
    """Sends requests on one keep-alive connection, reconnecting once if it went stale.

    Thread-safe: requests are serialised by a lock (one connection). ``request`` waits for its
    response; ``submit`` only writes (pipelining) and its response is read later, in order,
    by ``drain``/``wait`` or before the next ``request``.
    ``TENSORD_API_KEY``, when set, is sent as ``Authorization: Bearer <key>``.
    """

    def __init__(self, url=None, timeout=60.0, headers=None):
        self.url = resolve_url(url)
        parts = urllib.parse.urlsplit(self.url)
        if parts.scheme not in ("http", "https"):
            raise ValueError("tensord URL must be http:// or https://, got %r" % self.url)
        self._https = parts.scheme == "https"
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or (443 if self._https else 80)
        self._prefix = parts.path.rstrip("/")
        self._timeout = timeout
        extra = dict(headers or {})
        key = os.environ.get("TENSORD_API_KEY")
        if key and "Authorization" not in extra:
            extra["Authorization"] = "Bearer " + key
        host = self._host if ":" not in self._host else "[%s]" % self._host
        default_port = 443 if self._https else 80
        fixed = "Host: %s\r\n" % (host if self._port == default_port else "%s:%d" % (host, self._port))
        fixed += "".join("%s: %s\r\n" % kv for kv in extra.items())
        self._fixed_headers = fixed
        self._ssl = ssl.create_default_context() if self._https else None
        self._conn = None
        self.connections = 0        # connections opened so far (a reconnect counter)
        self._lock = threading.Lock()
        self._in_flight = collections.deque()

    def _connect(self):
        self.connections += 1
        sock = socket.create_connection((self._host, self._port), timeout=self._timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self._ssl is not None:
            sock = self._ssl.wrap_socket(sock, server_hostname=self._host)
        return _Connection(sock)

    def close(self):
        with self._lock:
            self._fail_in_flight(ConnectionError("the transport was closed"))
            self._drop()

    def _drop(self):
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _head(self, method, path, body, content_type, accept):
        head = "%s %s%s HTTP/1.1\r\n%sAccept: %s\r\n" % (method, self._prefix, path,
                                                         self._fixed_headers, accept)
        if body is not None:
            head += "Content-Type: %s\r\nContent-Length: %d\r\n\r\n" % (
                content_type or "application/json", len(body))
        elif method in ("POST", "PUT", "PATCH"):
            head += "Content-Length: 0\r\n\r\n"
        else:
            head += "\r\n"
        head = head.encode("latin-1")
        if body is not None and len(body) <= _COALESCE:
            return head + body, None
        return head, body

    def _write(self, data, body):
        sock = self._conn.sock
        sock.sendall(data)
        if body is not None:
            sock.sendall(body)

    # -- pipelining ---------------------------------------------------------------------------
    def submit(self, method, path, body=None, content_type=None, accept="application/json",
               callback=None):
        """Writes a request without waiting for its response; returns its :class:`Ticket`.

        ``callback(response)`` runs (under the transport lock: it must not send requests) when
        the response is read; ``callback(None)`` if the connection failed first.
        """
        data, rest = self._head(method, path, body, content_type, accept)
        ticket = Ticket(method, data, rest, callback)
        with self._lock:
            while len(self._in_flight) >= MAX_IN_FLIGHT:
                self._read_one()
            self._in_flight.append(ticket)
            try:
                if self._conn is None:
                    # Earlier requests lost with a closed connection go first, in order.
                    self._resend_in_flight()
                else:
                    self._write(data, rest)
            except OSError:
                # Sent on a dead connection: the read side notices and resends everything.
                pass
        return ticket

    def drain(self):
        """Reads the responses of all submitted requests."""
        with self._lock:
            while self._in_flight:
                self._read_one()

    def wait(self, ticket):
        """Reads responses until ``ticket``'s has been handled."""
        with self._lock:
            while not ticket.done and self._in_flight:
                self._read_one()

    @property
    def in_flight(self):
        return len(self._in_flight)

    def _resend_in_flight(self):
        self._drop()
        self._conn = self._connect()
        for t in self._in_flight:
            self._write(t.data, t.body)

    def _read_one(self):
        ticket = self._in_flight[0]
        for attempt in (0, 1):
            try:
                if self._conn is None:
                    self._resend_in_flight()
                resp, keep_alive = self._conn.read_response(ticket.method)
                break
            except (_Stale, BrokenPipeError, ConnectionResetError) as exc:
                # The server closed the connection before answering this request, so it read
                # none of the pending ones: send them again on a new connection, once.
                if attempt == 1 or (self._conn is not None and self._conn.received_any):
                    self._fail_in_flight(exc)
                    return
                try:
                    self._resend_in_flight()
                except OSError as exc2:
                    self._fail_in_flight(exc2)
                    return
            except (OSError, ValueError) as exc:
                self._fail_in_flight(exc)
                return
        self._in_flight.popleft()
        if not keep_alive:
            self._drop()  # later requests were not read by the server: resent on next read
        self._finish(ticket, resp)

    def _fail_in_flight(self, exc):
        self._drop()
        tickets = list(self._in_flight)
        self._in_flight.clear()
        for t in tickets:
            self._finish(t, None)

    @staticmethod
    def _finish(ticket, resp):
        ticket.done = True
        if ticket.callback is not None:
            ticket.callback(resp)

    # -- one request, one response --------------------------------------------------------
    def request(self, method, path, body=None, content_type=None, accept="application/json"):
        """Performs one request and returns a :class:`Response` (any status).

        Responses of earlier submitted requests are read (and handled) first.
        """
        data, rest = self._head(method, path, body, content_type, accept)
        with self._lock:
            while self._in_flight:
                self._read_one()
            for attempt in (0, 1):
                fresh = self._conn is None
                try:
                    if fresh:
                        self._conn = self._connect()
                    self._write(data, rest)
                    resp, keep_alive = self._conn.read_response(method)
                except (_Stale, BrokenPipeError, ConnectionResetError) as exc:
                    # A reused connection the server had closed: safe to send again, since
                    # the server read nothing of this request.
                    received = self._conn is not None and self._conn.received_any
                    self._drop()
                    if fresh or attempt == 1 or received:
                        raise TensordError("connection to %s failed: %s" % (
                            self.url, str(exc) or "closed by the server"),
                            code="connection-failed") from exc
                    continue
                except (OSError, ValueError) as exc:
                    self._drop()
                    raise TensordError("connection to %s failed: %s" % (self.url, exc),
                                       code="connection-failed") from exc
                if not keep_alive:
                    self._drop()
                return resp


def check(resp):
    """Returns ``resp`` if it is a 2xx response, otherwise raises its :class:`TensordError`."""
    if 200 <= resp.status < 300:
        return resp
    raise error_from_response(resp.status, resp.content_type, resp.body)
