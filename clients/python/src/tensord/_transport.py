"""HTTP/1.1 over one persistent keep-alive connection, with the standard library's socket/ssl.

A small purpose-built client rather than ``http.client``: it costs a fraction of the CPU per
request (one ``sendall`` per small request, no ``email`` header parsing) and it keeps its own
read buffer, so several requests can be written before their responses are read (HTTP/1.1
pipelining, :meth:`HTTPTransport.submit`), which ``http.client`` cannot do.
"""

import collections
import json
import os
import select
import socket
import ssl
import threading
import time
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

#: Submitted requests are held back and written together (one ``sendall``) once this many are
#: waiting, or this many bytes, or as soon as a response is needed: on a loaded machine every
#: loopback write costs a wake-up of the server, far more than the write itself.
CORK_REQUESTS = 16
CORK_BYTES = 64 * 1024


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
        self.last_io = time.monotonic()

    def closed_by_peer(self):
        """True when the server has closed (or reset) this idle connection: its EOF is waiting
        to be read. Checked before reusing a connection that has been idle, so that a request is
        not written into a connection the server already gave up (where it could not be resent
        safely). Bytes that arrive unasked stay buffered for the response reader."""
        if self.buf:
            return False
        try:
            readable, _, _ = select.select([self.sock], [], [], 0)
        except (OSError, ValueError):
            return True
        if not readable:
            return False
        timeout = self.sock.gettimeout()
        self.sock.setblocking(False)
        try:
            chunk = self.sock.recv(_RECV)
        except (BlockingIOError, ssl.SSLWantReadError):
            return False            # e.g. a TLS 1.3 session ticket, no application data
        except OSError:
            return True
        finally:
            self.sock.settimeout(timeout)
        if not chunk:
            return True
        self.buf += chunk
        return False

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
        try:
            return self._read_response(method)
        finally:
            self.last_io = time.monotonic()

    def _read_response(self, method):
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


#: Methods resent after the connection died before their response began: repeating them cannot
#: change the outcome. Any other request may have been executed by then, so it is not resent
#: unless the server's answer proves that it was not read (see ``HTTPTransport``).
_RESENDABLE = frozenset(("GET", "HEAD", "OPTIONS"))

#: A connection idle for longer than this is checked for a close by the server before reuse.
_IDLE_CHECK = 0.001


class Ticket:
    """A request: ``done`` turns True once its ``response`` has been handed to the callback (or
    it failed with a transport error, kept in ``error``; the callback then gets ``None``)."""

    __slots__ = ("method", "path", "data", "body", "callback", "done", "response", "error", "resent")

    def __init__(self, method, path, data, body, callback):
        self.method = method
        self.path = path
        self.data = data
        self.body = body
        self.callback = callback
        self.done = False
        self.response = None
        self.error = None
        self.resent = False


class HTTPTransport:
    """Sends requests on one keep-alive connection.

    Thread-safe: requests are serialised by a lock (one connection). ``request`` waits for its
    response; ``submit`` only writes (pipelining) and its response is read later, in order,
    by ``drain``/``wait`` or before the next ``request``.
    ``TENSORD_API_KEY``, when set, is sent as ``Authorization: Bearer <key>``.

    Resending is limited to requests the server provably did not execute, so that a request
    is never applied twice: those written after a response that closed the connection
    (RFC 9112 §9.6: the server reads no further requests), those whose write failed (the
    server never had them whole), and ``GET``/``HEAD``/``OPTIONS``. When the connection dies
    before any byte of a response to another request, that request and every one after it
    fail with ``connection-failed``; whether it ran is unknown, as after any lost response.
    A connection idle for more than a millisecond is checked for a close by the server before
    it is reused, so the common idle-timeout race costs a reconnect, not an error.
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
        self._written = 0
        self._corked = 0            # bytes of submitted requests not written yet

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

    # -- requests -------------------------------------------------------------------------------
    # ``_in_flight`` holds the tickets sent or still to send, oldest first; the first ``_written``
    # of them were written whole on the current connection, the rest are still to be written.

    def submit(self, method, path, body=None, content_type=None, accept="application/json",
               callback=None):
        """Writes a request without waiting for its response; returns its :class:`Ticket`.

        ``callback(response)`` runs (under the transport lock: it must not send requests) when
        the response is read; ``callback(None)`` if the connection failed first.
        """
        return self._enqueue(method, path, body, content_type, accept, callback)

    def _enqueue(self, method, path, body, content_type, accept, callback):
        data, rest = self._head(method, path, body, content_type, accept)
        ticket = Ticket(method, path, data, rest, callback)
        with self._lock:
            while len(self._in_flight) >= MAX_IN_FLIGHT:
                self._read_one()
            self._in_flight.append(ticket)
            self._corked += len(data) + (len(rest) if rest is not None else 0)
            if len(self._in_flight) - self._written >= CORK_REQUESTS or self._corked >= CORK_BYTES:
                try:
                    self._write_pending()
                except OSError:
                    pass  # the read side finds out, and resends or fails (see _read_one)
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

    def _write_pending(self):
        """Writes the tickets not written yet, in order, on the current connection (a new one
        if there is none, or if the server closed the idle one)."""
        if self._conn is not None and self._written == 0 and \
                time.monotonic() - self._conn.last_io > _IDLE_CHECK and self._conn.closed_by_peer():
            self._drop()
        if self._conn is None:
            self._written = 0
            self._conn = self._connect()
        self._corked = 0
        pending = len(self._in_flight) - self._written
        if pending == 1:
            t = self._in_flight[self._written]
            self._write(t.data, t.body)
            self._written += 1
            return
        # Small requests go out in one write. A failed write may have delivered any prefix of
        # them, so they count as written (possibly executed) before it starts.
        batch = []
        for i in range(self._written, len(self._in_flight)):
            t = self._in_flight[i]
            batch.append(t.data)
            if t.body is not None:
                self._written = i + 1
                self._write(b"".join(batch), t.body)
                batch = []
        if batch:
            self._written = len(self._in_flight)
            self._conn.sock.sendall(b"".join(batch))
        self._written = len(self._in_flight)

    def _read_one(self):
        ticket = self._in_flight[0]
        conn = None
        try:
            if self._written < len(self._in_flight):
                self._write_pending()
            conn = self._conn
            resp, keep_alive = conn.read_response(ticket.method)
        except (_Stale, BrokenPipeError, ConnectionResetError) as exc:
            # The connection died before any byte of this response. The written requests may
            # have run: resend only when all of them are safe to repeat, and only once.
            written = list(self._in_flight)[:self._written]
            received = conn is not None and conn.received_any
            if received or ticket.resent or any(t.method not in _RESENDABLE for t in written):
                self._fail_in_flight(ConnectionError(
                    "the server closed the connection before answering %s %s%s" % (
                        ticket.method, ticket.path,
                        "" if ticket.method in _RESENDABLE else " (it may have been executed; not resent)"))
                    if not received else exc)
                return
            for t in written:
                t.resent = True
            ticket.resent = True
            self._drop()
            return
        except (OSError, ValueError) as exc:
            self._fail_in_flight(exc)
            return
        self._in_flight.popleft()
        self._written -= 1
        if not keep_alive:
            # RFC 9112 §9.6: the server read none of the requests after this one.
            self._drop()
        self._finish(ticket, resp, None)

    def _fail_in_flight(self, exc):
        self._drop()
        tickets = list(self._in_flight)
        self._in_flight.clear()
        for t in tickets:
            self._finish(t, None, exc)

    def _drop(self):
        self._written = 0
        self._corked = 0
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    @staticmethod
    def _finish(ticket, resp, error):
        ticket.done = True
        ticket.response = resp
        ticket.error = error
        if ticket.callback is not None:
            ticket.callback(resp)

    # -- one request, one response --------------------------------------------------------
    def request(self, method, path, body=None, content_type=None, accept="application/json"):
        """Performs one request and returns a :class:`Response` (any status).

        Responses of earlier submitted requests are read (and handled) first.
        """
        ticket = self._enqueue(method, path, body, content_type, accept, None)
        self.wait(ticket)
        if ticket.error is not None:
            raise TensordError("connection to %s failed: %s" % (
                self.url, str(ticket.error) or "closed by the server"),
                code="connection-failed") from ticket.error
        return ticket.response


def check(resp):
    """Returns ``resp`` if it is a 2xx response, otherwise raises its :class:`TensordError`."""
    if 200 <= resp.status < 300:
        return resp
    raise error_from_response(resp.status, resp.content_type, resp.body)
