"""Low-level client: one method per REST operation of tensord's API v1 (docs/API.md).

Methods take array ids (strings) or objects with an ``id`` attribute (such as
``tensord.mx.nd.NDArray``) and return the server's JSON (dicts/lists) or numpy arrays.
"""

import collections
import json
import threading
import urllib.parse

import numpy as np

from . import _codec
from ._ids import IdAllocator
from ._transport import HTTPTransport, check
from .errors import TensordError, error_from_response

__all__ = ["Client", "Session", "Program"]

#: Pending releases are sent in one ``POST .../release`` (before the next request) once this many
#: have accumulated, or once they hold ``RELEASE_BYTES`` of server memory.
RELEASE_BATCH = 256
RELEASE_BYTES = 64 << 20

#: A pipelined session's queued steps leave as one ``run`` request once this many are waiting
#: (or as soon as anything needs an answer).
BATCH_STEPS = 64


def _aid(x):
    """The array id of ``x`` (a string, or an object with ``id``)."""
    if isinstance(x, str):
        return x
    aid = getattr(x, "id", None)
    if isinstance(aid, str):
        return aid
    raise TypeError("expected an array id or an array, got %s" % type(x).__name__)


def _aid_or_none(x):
    return None if x is None else _aid(x)


def _out_field(out):
    """``out`` as the API takes it: one id, or a list of ids for several outputs."""
    if isinstance(out, (list, tuple)):
        return _aid(out[0]) if len(out) == 1 else [_aid(o) for o in out]
    return _aid(out)


# One encoder: json.dumps with options builds a new one per call.
_ENCODER = json.JSONEncoder(separators=(",", ":"), allow_nan=False)


def _dumps(obj):
    return _ENCODER.encode(obj).encode("utf-8")


def _quote(segment):
    return urllib.parse.quote(segment, safe="")


def to_param(v):
    """An op parameter as JSON: tuples become lists, numpy scalars and dtypes plain values."""
    if isinstance(v, (list, tuple)):
        return [to_param(i) for i in v]
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, (bool, int, float, str)) or v is None:
        return v
    if isinstance(v, (type, np.dtype)):
        return _codec.dtype_name(v)
    raise TypeError("unsupported operator parameter value %r" % (v,))


class Client:
    """A connection to one tensord server.

    ``Client(url=None)`` takes the URL from the argument, else ``TENSORD_URL``, else
    ``http://127.0.0.1:8080``. Use as a context manager to close the connection on exit.
    """

    def __init__(self, url=None, timeout=60.0, headers=None, transport=None):
        self.transport = transport if transport is not None else HTTPTransport(url, timeout, headers)
        self._catalog = None
        self._catalog_lock = threading.Lock()

    @property
    def url(self):
        return self.transport.url

    def close(self):
        self.transport.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- plumbing -----------------------------------------------------------------------------
    def request(self, method, path, obj=None, body=None, content_type=None, accept="application/json"):
        """One request; ``obj`` is sent as JSON. Raises :class:`TensordError` on a non-2xx status."""
        if obj is not None:
            body, content_type = _dumps(obj), _codec.JSON_TYPE
        return check(self.transport.request(method, path, body, content_type, accept))

    def request_json(self, method, path, obj=None):
        return self.request(method, path, obj).json()

    # -- operations ---------------------------------------------------------------------------
    def livez(self):
        return self.request_json("GET", "/livez")

    def readyz(self):
        """True when the server reports ready (200), False on 503."""
        resp = self.transport.request("GET", "/readyz", None, None, "application/json")
        if resp.status == 503:
            return False
        check(resp)
        return True

    def openapi(self):
        return self.request("GET", "/openapi.yaml", accept="application/yaml").body.decode("utf-8")

    def ops(self):
        """The operator catalog: a dict from op name (and alias) to its ``OpSpec``."""
        if self._catalog is not None:
            return self._catalog
        with self._catalog_lock:
            if self._catalog is None:
                specs = self.request_json("GET", "/v1/ops")["ops"]
                catalog = {}
                for spec in specs:
                    catalog[spec["name"]] = spec
                    for alias in spec.get("aliases") or ():
                        catalog.setdefault(alias, spec)
                self._catalog = catalog
            return self._catalog

    def op(self, name):
        return self.request_json("GET", "/v1/ops/" + _quote(name))

    def create_session(self, idle_timeout_s=None, seed=None, labels=None, pipeline=False, ttl_s=None):
        """Creates a session; the returned :class:`Session` deletes it when used with ``with``.

        ``pipeline=True``: ``tensord.mx`` sends operations without waiting (see ``Session``).
        ``ttl_s``: absolute lifetime in seconds, requests or not (the server caps it).
        """
        body = {}
        if idle_timeout_s is not None:
            body["idle_timeout_s"] = idle_timeout_s
        if ttl_s is not None:
            body["ttl_s"] = ttl_s
        if seed is not None:
            body["seed"] = seed
        if labels is not None:
            body["labels"] = labels
        info = self.request_json("POST", "/v1/sessions", body)
        session = Session(self, info["id"], info)
        session.pipeline = pipeline
        return session

    def sessions(self):
        return self.request_json("GET", "/v1/sessions")["sessions"]

    def attach(self, session_id):
        """A :class:`Session` object for an existing session id."""
        return Session(self, session_id)


class _Batch:
    """Steps queued by a pipelined session, to be sent as one ``run`` program.

    ``stack`` holds the step lists steps are added to: the program's, then those of the scopes
    entered and not yet left (each such scope step is the last one of its parent list);
    ``path`` the index of each of those scope steps. ``names`` maps a step's index path to the
    operation it stands for, so that a failure reported by the server can be named.
    """

    __slots__ = ("steps", "stack", "path", "frames", "names", "arrays", "count")

    def __init__(self):
        self.steps = []
        self.stack = [self.steps]
        self.path = []
        self.frames = []
        self.names = {}
        self.arrays = []
        self.count = 0

    def add(self, step, what):
        top = self.stack[-1]
        self.names[(*self.path, len(top))] = what
        top.append(step)
        self.count += 1


class ScopeFrame:
    """A scope entered on a pipelined session (see :meth:`Session.enter_scope`)."""

    __slots__ = ("kind", "id", "train_mode", "batch")

    def __init__(self, kind, scope_id, train_mode, batch):
        self.kind = kind
        self.id = scope_id
        self.train_mode = train_mode
        self.batch = batch          # the batch holding its scope step; None once entered for real


class Session:
    """One server session: arrays, flags, scopes, ops, autograd (see docs/API.md).

    The methods here wait for their response. With ``pipeline = True``, ``tensord.mx`` queues
    operators, scopes, backward and releases with :meth:`queue` without waiting (like MXNet's
    asynchronous engine): they leave together as one ``run`` request (``"on_error":
    "continue"``, so every step runs as separate requests would) when anything needs an
    answer; a small read rides in the same request as a ``fetch``. Any method that needs an
    answer first reads the outstanding responses and raises the first failure among them, its
    message naming the operation.
    """

    #: Whether ``tensord.mx`` pipelines requests on this session.
    pipeline = False

    def __init__(self, client, session_id, info=None):
        self.client = client
        self.id = session_id
        self.created = info         # the Session object returned at creation (None if attached)
        self._base = "/v1/sessions/" + _quote(session_id)
        self.ids = IdAllocator()
        # Ids of collected arrays awaiting release. A deque: finalizers may append at any moment
        # (even during a flush), and append/popleft are atomic.
        self._pending = collections.deque()
        self._pending_bytes = 0
        self._error = None          # the first failure of a pipelined request, not raised yet
        self._batch = None          # steps queued by a pipelined session (a _Batch), not sent yet
        self.closed = False

    def __repr__(self):
        return "<tensord.Session %s @ %s>" % (self.id, self.client.url)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- plumbing -----------------------------------------------------------------------------
    def _req(self, method, suffix, obj=None, body=None, content_type=None, accept="application/json"):
        if self.pipeline and method == "GET" and self._error is None:
            # A read goes out behind the pipelined requests in the same write; their failures
            # (raised first) are read before its answer.
            self._maybe_flush()
            if self._batch is not None:
                self._send_batch()
            ticket = self.client.transport.submit(method, self._base + suffix, None, None, accept)
            self.sync()
            self.client.transport.wait(ticket)
            if ticket.error is not None:
                return self.client.request(method, self._base + suffix, None, None, None, accept)
            return check(ticket.response)
        if self.pipeline or self._error is not None:
            self.sync()
        self._maybe_flush()
        return self.client.request(method, self._base + suffix, obj, body, content_type, accept)

    def _maybe_flush(self):
        if len(self._pending) >= RELEASE_BATCH or self._pending_bytes >= RELEASE_BYTES:
            self.flush_releases()

    # -- pipelining ---------------------------------------------------------------------------
    def submit(self, method, suffix, obj, what, on_ok=None):
        """Sends a JSON request without waiting (after the queued steps); returns the
        transport's ticket.

        ``on_ok(result_json)`` runs when a 2xx response is read. A failure is kept and raised,
        as ``"<what>: <detail>"``, by the next :meth:`sync` (every waiting method syncs).
        """
        self._maybe_flush()
        if self._batch is not None:
            self._send_batch()

        def done(resp):
            if resp is not None and 200 <= resp.status < 300:
                if on_ok is not None:
                    on_ok(resp.json())
                return
            self._keep_error(resp, what)

        return self._submit(method, suffix, obj, done)

    def _submit(self, method, suffix, obj, done):
        body = None if obj is None else _dumps(obj)
        return self.client.transport.submit(method, self._base + suffix, body,
                                            _codec.JSON_TYPE if body is not None else None,
                                            callback=done)

    def _keep_error(self, resp, what, err=None):
        """Keeps the first failure (raised by the next sync), named after ``what``."""
        if self._error is not None:
            return
        if err is None:
            err = error_from_response(resp.status, resp.content_type, resp.body) \
                if resp is not None else TensordError(
                    "connection to %s failed" % self.client.url, code="connection-failed")
        problem = dict(err.problem, operation=what)
        self._error = TensordError(err.detail, err.code, err.status, problem,
                                   message="%s: %s" % (what, err.detail))

    # -- batched steps (pipelined sessions) ----------------------------------------------------
    def queue(self, step, what, arrays=()):
        """Queues one ``run`` step (``what`` names it in errors); it is sent, with the steps
        queued before and after it, as one ``run`` request when an answer is needed or
        ``BATCH_STEPS`` are waiting. ``arrays`` (objects with ``id`` and ``_set_info(info)``)
        receive their ``ArrayInfo`` from the response."""
        b = self._batch
        if b is None:
            b = self._batch = _Batch()
        b.add(step, what)
        if arrays:
            b.arrays.extend(arrays)
        if b.count >= BATCH_STEPS:
            self._send_batch()

    @property
    def queued(self):
        """How many steps are queued, not sent yet (pipelined sessions)."""
        return 0 if self._batch is None else self._batch.count

    def enter_scope(self, kind, scope_id, train_mode=None):
        """Queues entering a ``kind`` scope; returns its :class:`ScopeFrame` for :meth:`exit_scope`."""
        step = {"scope": kind, "steps": []}
        if train_mode is not None:
            step["train_mode"] = bool(train_mode)
        b = self._batch
        if b is None:
            b = self._batch = _Batch()
        b.add(step, "enter %s scope" % kind)
        frame = ScopeFrame(kind, scope_id, train_mode, b)
        b.path.append(len(b.stack[-1]) - 1)
        b.stack.append(step["steps"])
        b.frames.append(frame)
        return frame

    def exit_scope(self, frame):
        """Leaves ``frame``'s scope: closes its queued scope step, or, if the scope was entered
        on the server already (its batch was sent while it was open), sends its exit."""
        b = frame.batch
        if b is not None and b is self._batch and b.frames and b.frames[-1] is frame:
            b.frames.pop()
            b.stack.pop()
            b.path.pop()
            return
        self.submit("DELETE", "/scopes/" + _quote(frame.id), None, "exit %s scope" % frame.kind)

    def _send_batch(self, fetch=None):
        """Sends the queued steps as ``run`` requests; returns the dict that receives the
        ``fetched`` values (and, under ``"error"``, a failure of the fetch itself).

        Scopes still open are entered on the server (with their client-chosen ids): the steps
        before each open scope step go in one ``run``, then the scope is entered, and so on."""
        b = self._batch
        self._batch = None
        if b is None:
            b = _Batch()
        plan = []
        last = len(b.stack) - 1
        for depth, steps in enumerate(b.stack):
            if depth < last:
                steps = steps[:-1]      # the open scope step: entered for real below
            if steps:
                plan.append((steps, tuple(b.path[:depth])))
            if depth < last:
                plan.append(b.frames[depth])
        if fetch and (not plan or not isinstance(plan[-1], tuple)):
            plan.append(([], ()))
        final = max((i for i, item in enumerate(plan) if isinstance(item, tuple)), default=-1)
        gathered, box = {}, {}
        for i, item in enumerate(plan):
            if isinstance(item, tuple):
                steps, prefix = item
                body = {"steps": steps, "on_error": "continue"}
                if i == final and fetch:
                    body["fetch"] = fetch
                self._submit("POST", "/run", body, self._run_done(
                    b.names, prefix, gathered, b.arrays if i == final else None,
                    box if i == final and fetch else None))
            else:
                item.batch = None
                body = {"kind": item.kind, "id": item.id}
                if item.train_mode is not None:
                    body["train_mode"] = bool(item.train_mode)
                what = "enter %s scope" % item.kind
                self._submit("POST", "/scopes", body,
                             lambda resp, what=what: None if resp is not None and 200 <= resp.status < 300
                             else self._keep_error(resp, what))
        return box

    def _run_done(self, names, prefix, gathered, arrays, box):
        """The callback of one batch ``run``: hands out ArrayInfos, keeps fetched values, and
        keeps the first failure under the name of the step that failed."""
        def done(resp):
            if resp is not None and 200 <= resp.status < 300:
                result = resp.json()
                gathered.update(result.get("outputs") or ())
                if box is not None:
                    box.update(result.get("fetched") or ())
            elif resp is None:
                self._keep_error(None, "run")
            else:
                err = error_from_response(resp.status, resp.content_type, resp.body)
                step = err.problem.pop("step", None)
                err.problem.pop("completed", None)
                if step is None and box is not None and resp.status != 400:
                    box["error"] = err   # the fetch failed, every step succeeded
                else:
                    path = prefix + tuple(int(i) for i in str(step).split(".")) if step else None
                    self._keep_error(resp, names.get(path, "run"), err)
            if arrays is not None:
                for a in arrays:
                    info = gathered.get(a.id)
                    if info is not None:
                        a._set_info(info)
        return done

    def fetch_values(self, name):
        """Pipelined read of a small array (``"<id>"``) or gradient (``"<id>.grad"``): the
        queued steps and the read leave as one ``run`` request. Returns a numpy array; raises
        the first failure among the outstanding requests first."""
        self._maybe_flush()
        box = self._send_batch(fetch=[name])
        self.sync()
        if "error" in box:
            raise box["error"]
        if name not in box:
            raise TensordError("the server did not return %s" % name, code="connection-failed")
        return _codec.array_from_tensor(box[name])

    def _settle(self):
        """Reads outstanding responses (which may free arrays), then sends pending releases."""
        if self.pipeline or self._error is not None:
            self.sync()
        self.flush_releases()

    def sync(self):
        """Sends the queued steps, reads all outstanding pipelined responses; raises the first
        failure among them."""
        if self._batch is not None:
            self._send_batch()
        self.client.transport.drain()
        if self._error is not None:
            err, self._error = self._error, None
            raise err

    def _json(self, method, suffix, obj=None):
        return self._req(method, suffix, obj).json()

    def release_later(self, aid, nbytes=0):
        """Queues ``aid`` for a batched release (safe to call from finalizers: no I/O here)."""
        if not self.closed:
            self._pending.append(aid)
            self._pending_bytes += nbytes

    def flush_releases(self):
        """Sends all queued releases in one request; returns how many the server released."""
        if not self._pending or self.closed:
            return 0
        self._pending_bytes = 0
        ids = []
        try:
            while True:
                ids.append(self._pending.popleft())
        except IndexError:
            pass
        if self.pipeline:
            self.queue({"release": ids}, "release")
            return len(ids)
        return self.client.request_json("POST", self._base + "/release", {"ids": ids})["released"]

    # -- session ------------------------------------------------------------------------------
    def info(self):
        """The ``Session`` object (``usage.arrays`` counts live arrays; pending releases are sent first)."""
        self._settle()
        return self._json("GET", "")

    def close(self):
        """Deletes the session on the server (idempotent; a missing session is not an error)."""
        if self.closed:
            return
        self.closed = True
        self._pending.clear()
        self._batch = None
        try:
            self.client.request("DELETE", self._base)
        except TensordError as exc:
            if exc.code != "session-not-found":
                raise
        finally:
            self._error = None

    delete = close

    def flags(self):
        return self._json("GET", "/flags")

    def set_flags(self, is_recording=None, is_training=None):
        """PATCH the flags; returns ``{"previous": {...}, "current": {...}}``."""
        body = {}
        if is_recording is not None:
            body["is_recording"] = bool(is_recording)
        if is_training is not None:
            body["is_training"] = bool(is_training)
        return self._json("PATCH", "/flags", body)

    def seed(self, seed):
        self._req("POST", "/seed", {"seed": int(seed)})

    # -- .npz export / import ------------------------------------------------------------------
    def export_npz(self, path=None):
        """The session's arrays as ``.npz`` bytes (``<id>`` values, ``grad/<grad_req>/<id>``
        gradient buffers); also written to ``path`` when given. ``numpy.load`` reads it."""
        self._settle()
        data = self._req("GET", "/export", accept="application/x-npz").body
        if path is not None:
            with open(path, "wb") as f:
                f.write(data)
        return data

    def import_npz(self, source):
        """Adds the arrays of an ``.npz`` (a path or bytes; the export's naming or plain
        ``np.savez`` output) to the session, all or nothing; returns their ``ArrayInfo`` list."""
        if isinstance(source, (bytes, bytearray)):
            data = bytes(source)
        else:
            with open(source, "rb") as f:
                data = f.read()
        self._settle()
        return self._req("POST", "/import", body=data, content_type="application/x-npz").json()["arrays"]

    # -- scopes -------------------------------------------------------------------------------
    def push_scope(self, kind, train_mode=None):
        body = {"kind": kind}
        if train_mode is not None:
            body["train_mode"] = bool(train_mode)
        return self._json("POST", "/scopes", body)

    def scopes(self):
        return self._json("GET", "/scopes")["scopes"]

    def pop_scope(self, scope_id):
        return self._json("DELETE", "/scopes/" + _quote(str(scope_id)))

    # -- arrays -------------------------------------------------------------------------------
    def create_array(self, value, dtype=None, id=None):
        """Uploads ``value`` (numpy array, nested list or scalar); returns its ``ArrayInfo``.

        The dtype defaults to float32 (MXNet's rule) unless ``dtype`` is given.
        """
        arr = np.asarray(value, dtype=_codec.dtype_name(dtype))
        if arr.ndim == 0:
            arr = arr.reshape(1)
        body, ctype = _codec.encode_values(arr, {"id": id} if id else None)
        suffix = "/arrays"
        if ctype == _codec.NPY_TYPE and id:
            suffix += "?id=" + _quote(id)
        return self._req("POST", suffix, body=body, content_type=ctype).json()

    def arrays(self):
        self._settle()
        return self._json("GET", "/arrays")["arrays"]

    def array(self, aid, data=False):
        return self._json("GET", "/arrays/%s%s" % (_quote(_aid(aid)), "?data=true" if data else ""))

    def delete_array(self, aid):
        self._req("DELETE", "/arrays/" + _quote(_aid(aid)))

    def release(self, ids):
        """Releases many arrays in one request (unknown ids are ignored); returns the count."""
        return self._json("POST", "/release", {"ids": [_aid(i) for i in ids]})["released"]

    def _values(self, suffix, size_hint, name):
        small = size_hint is not None and size_hint <= _codec.SMALL_ELEMENTS
        if small and self._batch is not None and self._error is None:
            return self.fetch_values(name)
        accept = _codec.JSON_TYPE if small else _codec.NPY_TYPE
        return _codec.decode_values(self._req("GET", suffix, accept=accept))

    def get_data(self, aid, size_hint=None):
        """The array's values as numpy (``.npy`` for large arrays, JSON for small ones; a small
        read on a pipelined session rides with the queued steps as the ``fetch`` of their
        ``run``)."""
        aid = _aid(aid)
        return self._values("/arrays/%s/data" % _quote(aid), size_hint, aid)

    def put_data(self, aid, value, dtype=None):
        """Overwrites the array's values in place (same shape); returns its ``ArrayInfo``."""
        arr = np.asarray(value) if dtype is None else np.asarray(value, dtype=_codec.dtype_name(dtype))
        if arr.ndim == 0:
            arr = arr.reshape(1)
        body, ctype = _codec.encode_values(arr)
        return self._req("PUT", "/arrays/%s/data" % _quote(_aid(aid)), body=body,
                         content_type=ctype).json()

    def attach_grad(self, aid, grad_req="write"):
        return self._json("PUT", "/arrays/%s/grad" % _quote(_aid(aid)), {"grad_req": grad_req})

    def get_grad(self, aid, size_hint=None):
        aid = _aid(aid)
        return self._values("/arrays/%s/grad" % _quote(aid), size_hint, aid + ".grad")

    def detach(self, aid, id=None):
        return self._json("POST", "/arrays/%s/detach" % _quote(_aid(aid)), {"id": id} if id else {})

    def graph(self, aid, format=None):
        """get_symbol: the ``Symbol`` JSON, or SVG/DOT text with ``format="svg"|"dot"``."""
        suffix = "/arrays/%s/graph" % _quote(_aid(aid))
        if format is None:
            return self._json("GET", suffix)
        return self._req("GET", suffix + "?format=" + _quote(format), accept="*/*").body.decode("utf-8")

    def mark_variables(self, variables, gradients, grad_reqs="write"):
        reqs = grad_reqs if isinstance(grad_reqs, str) else list(grad_reqs)
        return self._json("POST", "/mark_variables", {
            "variables": [_aid(v) for v in variables], "gradients": [_aid(g) for g in gradients],
            "grad_reqs": reqs})

    # -- operators and autograd ---------------------------------------------------------------
    @staticmethod
    def op_body(inputs, params=None, out=None, ids=None, return_data=False):
        """The JSON body of ``POST .../ops/{op}``."""
        body = {"inputs": [_aid(i) for i in inputs]}
        if params:
            body["params"] = {k: to_param(v) for k, v in params.items()}
        if out is not None:
            body["out"] = _out_field(out)
        if ids is not None:
            body["ids"] = list(ids)
        if return_data:
            body["return_data"] = True
        return body

    def invoke(self, op, inputs, params=None, out=None, ids=None, return_data=False):
        """Runs operator ``op``; returns the outputs' ``ArrayInfo`` list."""
        return self._json("POST", "/ops/" + _quote(op),
                          self.op_body(inputs, params, out, ids, return_data))["outputs"]

    @staticmethod
    def backward_body(heads, head_grads=None, retain_graph=False, train_mode=True):
        """The JSON body of ``POST .../backward``."""
        body = {"heads": [_aid(h) for h in heads], "retain_graph": bool(retain_graph),
                "train_mode": bool(train_mode)}
        if head_grads is not None:
            body["head_grads"] = [_aid_or_none(g) for g in head_grads]
        return body

    def backward(self, heads, head_grads=None, retain_graph=False, train_mode=True):
        return self._json("POST", "/backward",
                          self.backward_body(heads, head_grads, retain_graph, train_mode))["updated"]

    def grad(self, heads, variables, head_grads=None, retain_graph=None, create_graph=False,
             train_mode=True, ids=None):
        body = {"heads": [_aid(h) for h in heads], "variables": [_aid(v) for v in variables],
                "create_graph": bool(create_graph), "train_mode": bool(train_mode)}
        if head_grads is not None:
            body["head_grads"] = [_aid_or_none(g) for g in head_grads]
        if retain_graph is not None:
            body["retain_graph"] = bool(retain_graph)
        if ids is not None:
            body["ids"] = list(ids)
        return self._json("POST", "/grad", body)["grads"]

    def define_function(self, forward, backward):
        """Defines a custom Function from two programs; returns its id."""
        return self._json("POST", "/functions", {"forward": forward, "backward": backward})["id"]

    def call_function(self, fid, inputs, ids=None):
        body = {"inputs": [_aid(i) for i in inputs]}
        if ids is not None:
            body["ids"] = list(ids)
        return self._json("POST", "/functions/%s/call" % _quote(fid), body)["outputs"]

    def run(self, steps, fetch=None):
        """Runs a batched program; ``fetched`` values in the result are decoded to numpy."""
        body = {"steps": steps}
        if fetch:
            body["fetch"] = list(fetch)
        result = self._json("POST", "/run", body)
        fetched = result.get("fetched") or {}
        result["fetched"] = {k: _codec.array_from_tensor(v) for k, v in fetched.items()}
        return result

    def program(self):
        """A :class:`Program` builder bound to this session."""
        return Program(self)


class Program:
    """Builds a ``run`` program step by step. Methods return the ids of arrays they create.

    >>> p = session.program()
    >>> x = p.create([1, 2, 3, 4], id="x"); p.attach_grad(x)
    >>> with p.scope("record"):
    ...     y = p.op("_plus_scalar", [p.op("broadcast_mul", [x, x])], scalar=1)
    >>> p.backward([y]); p.run(fetch=[x + ".grad"])["fetched"][x + ".grad"]
    array([2., 4., 6., 8.], dtype=float32)
    """

    def __init__(self, session=None, ids=None):
        self.session = session
        self.ids = ids if ids is not None else (session.ids if session is not None else IdAllocator("p"))
        self.steps = []
        self._stack = [self.steps]

    def _add(self, step):
        self._stack[-1].append(step)
        return step

    def create(self, value, dtype=None, id=None):
        arr = np.asarray(value, dtype=_codec.dtype_name(dtype))
        if arr.ndim == 0:
            arr = arr.reshape(1)
        id = id or self.ids.next()
        self._add({"create": _codec.tensor_json(arr), "id": id})
        return id

    def op(self, name, inputs, params=None, out=None, id=None, ids=None, n_outputs=1, **kwparams):
        """Adds an op step; returns its output id (or the list of ids when ``n_outputs > 1``)."""
        merged = dict(params or {})
        merged.update(kwparams)
        step = {"op": name, "inputs": [_aid(i) for i in inputs]}
        if merged:
            step["params"] = {k: to_param(v) for k, v in merged.items()}
        if out is not None:
            step["out"] = _out_field(out)
            self._add(step)
            return step["out"]
        if ids is None:
            ids = [id] if id is not None and n_outputs == 1 else self.ids.take(n_outputs)
        if len(ids) == 1:
            step["id"] = ids[0]
        else:
            step["ids"] = list(ids)
        self._add(step)
        return ids[0] if len(ids) == 1 else list(ids)

    def scope(self, kind, train_mode=None):
        """Context manager: steps added inside run within a ``kind`` scope."""
        program = self

        class _Scope:
            def __enter__(self):
                step = {"scope": kind, "steps": []}
                if train_mode is not None:
                    step["train_mode"] = bool(train_mode)
                program._add(step)
                program._stack.append(step["steps"])

            def __exit__(self, *exc):
                program._stack.pop()

        return _Scope()

    def attach_grad(self, aid, grad_req="write"):
        self._add({"attach_grad": _aid(aid), "grad_req": grad_req})

    def backward(self, heads, head_grads=None, retain_graph=False, train_mode=True):
        step = {"backward": [_aid(h) for h in heads]}
        if head_grads is not None:
            step["head_grads"] = [_aid_or_none(g) for g in head_grads]
        if retain_graph:
            step["retain_graph"] = True
        if not train_mode:
            step["train_mode"] = False
        self._add(step)

    def grad(self, heads, variables, head_grads=None, retain_graph=None, create_graph=False,
             train_mode=True, ids=None):
        spec = {"heads": [_aid(h) for h in heads], "variables": [_aid(v) for v in variables],
                "create_graph": bool(create_graph), "train_mode": bool(train_mode)}
        if head_grads is not None:
            spec["head_grads"] = [_aid_or_none(g) for g in head_grads]
        if retain_graph is not None:
            spec["retain_graph"] = bool(retain_graph)
        ids = list(ids) if ids is not None else self.ids.take(len(spec["variables"]))
        self._add({"grad": spec, "ids": ids})
        return ids

    def assign(self, aid, value, dtype=None):
        arr = np.asarray(value) if dtype is None else np.asarray(value, dtype=_codec.dtype_name(dtype))
        self._add({"assign": _aid(aid), "data": _codec.tensor_json(arr.reshape(-1))["data"]})

    def detach(self, aid, id=None):
        id = id or self.ids.next()
        self._add({"detach": _aid(aid), "id": id})
        return id

    def release(self, ids):
        self._add({"release": [_aid(i) for i in ids]})

    def set_recording(self, flag):
        self._add({"set_recording": bool(flag)})

    def set_training(self, flag):
        self._add({"set_training": bool(flag)})

    def mark_variables(self, variables, gradients, grad_reqs="write"):
        self._add({"mark_variables": {
            "variables": [_aid(v) for v in variables], "gradients": [_aid(g) for g in gradients],
            "grad_reqs": grad_reqs if isinstance(grad_reqs, str) else list(grad_reqs)}})

    def seed(self, seed):
        self._add({"seed": int(seed)})

    def call(self, fid, inputs, ids):
        self._add({"call": fid, "inputs": [_aid(i) for i in inputs], "ids": list(ids)})
        return list(ids)

    def to_json(self, fetch=None):
        body = {"steps": self.steps}
        if fetch:
            body["fetch"] = list(fetch)
        return body

    def run(self, fetch=None):
        if self.session is None:
            raise ValueError("this program is not bound to a session")
        return self.session.run(self.steps, fetch)
