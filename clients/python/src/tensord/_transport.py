"""HTTP transport over one persistent keep-alive connection (standard library only)."""

import http.client
import json
import os
import socket
import threading
import urllib.parse

from .errors import TensordError, error_from_response

DEFAULT_URL = "http://127.0.0.1:8080"

# Errors meaning the server closed an idle keep-alive connection before reading our request.
_STALE = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError,
          http.client.CannotSendRequest, http.client.BadStatusLine)


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
        return json.loads(self.body.decode("utf-8")) if self.body else None


class HTTPTransport:
    """Sends requests on one keep-alive connection, reconnecting once if it went stale.

    Thread-safe: requests are serialised by a lock (one connection, one request at a time).
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
        self._headers = dict(headers or {})
        key = os.environ.get("TENSORD_API_KEY")
        if key and "Authorization" not in self._headers:
            self._headers["Authorization"] = "Bearer " + key
        self._conn = None
        self._lock = threading.Lock()

    def _connect(self):
        cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        conn = cls(self._host, self._port, timeout=self._timeout)
        conn.connect()
        # Small requests must not wait for Nagle's algorithm.
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn

    def close(self):
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def request(self, method, path, body=None, content_type=None, accept="application/json"):
        """Performs one request and returns a :class:`Response` (any status)."""
        headers = dict(self._headers)
        headers["Accept"] = accept
        if body is not None:
            headers["Content-Type"] = content_type or "application/json"
        target = self._prefix + path
        with self._lock:
            for attempt in (0, 1):
                fresh = self._conn is None
                try:
                    if fresh:
                        self._conn = self._connect()
                    self._conn.request(method, target, body=body, headers=headers)
                    resp = self._conn.getresponse()
                    data = resp.read()
                except _STALE as exc:
                    self._drop()
                    if fresh or attempt == 1:
                        raise TensordError("connection to %s failed: %s" % (self.url, exc),
                                           code="connection-failed") from exc
                    continue
                except OSError as exc:
                    self._drop()
                    raise TensordError("connection to %s failed: %s" % (self.url, exc),
                                       code="connection-failed") from exc
                hdrs = {k.lower(): v for k, v in resp.getheaders()}
                if resp.will_close:
                    self._drop()
                return Response(resp.status, hdrs, data)

    def _drop(self):
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def check(resp):
    """Returns ``resp`` if it is a 2xx response, otherwise raises its :class:`TensordError`."""
    if 200 <= resp.status < 300:
        return resp
    raise error_from_response(resp.status, resp.content_type, resp.body)
