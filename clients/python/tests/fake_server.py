"""An in-process stand-in for tensord's HTTP transport, for offline client tests.

It implements sessions, arrays (JSON and .npy), release, a handful of numpy-backed operators
and problem+json errors, and logs every request so tests can assert what the client sent.
It is NOT an autograd engine: the real server is tested by the integration tests.
"""

import json
import re

import numpy as np

from tensord import _codec
from tensord._transport import Response

_BINARY = {"broadcast_add": np.add, "broadcast_sub": np.subtract, "broadcast_mul": np.multiply,
           "broadcast_div": np.divide, "broadcast_mod": np.mod, "broadcast_power": np.power,
           "broadcast_equal": np.equal, "broadcast_not_equal": np.not_equal,
           "broadcast_greater": np.greater, "broadcast_greater_equal": np.greater_equal,
           "broadcast_lesser": np.less, "broadcast_lesser_equal": np.less_equal}
_SCALAR = {"_plus_scalar": lambda x, s: x + s, "_minus_scalar": lambda x, s: x - s,
           "_rminus_scalar": lambda x, s: s - x, "_mul_scalar": lambda x, s: x * s,
           "_div_scalar": lambda x, s: x / s, "_rdiv_scalar": lambda x, s: s / x,
           "_mod_scalar": lambda x, s: np.mod(x, s), "_rmod_scalar": lambda x, s: np.mod(s, x),
           "_power_scalar": lambda x, s: x ** s, "_rpower_scalar": lambda x, s: s ** x,
           "_equal_scalar": lambda x, s: x == s, "_not_equal_scalar": lambda x, s: x != s,
           "_greater_scalar": lambda x, s: x > s, "_greater_equal_scalar": lambda x, s: x >= s,
           "_lesser_scalar": lambda x, s: x < s, "_lesser_equal_scalar": lambda x, s: x <= s}


def _slice(x, begin, end, step):
    return x[tuple(slice(b, e, s) for b, e, s in zip(begin, end, step))]


_UNARY = {"exp": lambda x, p: np.exp(x), "_copy": lambda x, p: x.copy(),
          "zeros_like": lambda x, p: np.zeros_like(x), "transpose": lambda x, p: x.T.copy(),
          "reshape": lambda x, p: x.reshape(p["shape"]),
          "slice": lambda x, p: _slice(x, p["begin"], p["end"], p["step"]).copy(),
          "sum": lambda x, p: np.asarray(x.sum(axis=None if p.get("axis") is None
                                               else tuple(np.atleast_1d(p["axis"])))).reshape(-1)}

CATALOG = [{"name": n, "aliases": [], "inputs": ["lhs", "rhs"], "variadic": False, "outputs": 1,
            "params": [], "differentiable": True, "summary": n} for n in _BINARY] + \
          [{"name": n, "aliases": [], "inputs": ["data"], "variadic": False, "outputs": 1,
            "params": [{"name": "scalar", "type": "float", "default": None, "required": True}],
            "differentiable": True, "summary": n} for n in _SCALAR] + \
          [{"name": n, "aliases": [], "inputs": ["data"], "variadic": False, "outputs": 1,
            "params": [], "differentiable": True, "summary": n} for n in _UNARY] + \
          [{"name": "concat", "aliases": [], "inputs": ["data"], "variadic": True, "outputs": 1,
            "params": [{"name": "dim", "type": "int", "default": 1, "required": False}],
            "differentiable": True, "summary": "concat"},
           {"name": "clip", "aliases": [], "inputs": ["data"], "variadic": False, "outputs": 1,
            "params": [{"name": "a_min", "type": "float", "default": None, "required": True},
                       {"name": "a_max", "type": "float", "default": None, "required": True}],
            "differentiable": True, "summary": "clip"},
           {"name": "split", "aliases": [], "inputs": ["data"], "variadic": False, "outputs": 0,
            "params": [{"name": "num_outputs", "type": "int", "default": None, "required": True},
                       {"name": "axis", "type": "int", "default": 1, "required": False}],
            "differentiable": True, "summary": "split"}]
for _spec in CATALOG:
    if _spec["name"] == "sum":
        _spec["params"] = [{"name": "axis", "type": "shape", "default": None, "required": False}]


def _problem(status, code, detail):
    body = json.dumps({"type": "https://tensord.dev/problems/" + code, "title": code,
                       "status": status, "detail": detail, "code": code}).encode()
    return Response(status, {"content-type": "application/problem+json"}, body)


def _ok(obj, status=200):
    return Response(status, {"content-type": "application/json"},
                    json.dumps(obj).encode() if obj is not None else b"")


class FakeTransport:
    url = "http://fake"

    def __init__(self):
        self.log = []           # (method, path, parsed JSON body or raw bytes, content type, accept)
        self.arrays = {}        # id -> numpy
        self.session_id = "sfake"
        self.counter = 0
        self.fail_next = None   # (status, code, detail) answered to the next request

    def close(self):
        pass

    def _info(self, aid):
        a = self.arrays[aid]
        return {"id": aid, "shape": list(a.shape), "dtype": a.dtype.name, "size": int(a.size),
                "bytes": int(a.nbytes), "grad_req": None, "in_graph": False}

    def _new_id(self):
        self.counter += 1
        return "t%d" % self.counter

    def request(self, method, path, body=None, content_type=None, accept="application/json"):
        parsed = json.loads(body) if body is not None and content_type == "application/json" else body
        self.log.append((method, path, parsed, content_type, accept))
        if self.fail_next:
            status, code, detail = self.fail_next
            self.fail_next = None
            return _problem(status, code, detail)
        if path == "/v1/ops":
            return _ok({"ops": CATALOG})
        if method == "POST" and path == "/v1/sessions":
            return _ok({"id": self.session_id}, 201)
        m = re.match(r"^/v1/sessions/([^/?]+)(/[^?]*)?(\?.*)?$", path)
        if not m:
            return _problem(404, "not-found", "no route")
        rest, query = m.group(2) or "", m.group(3) or ""
        if rest == "" and method == "DELETE":
            return _ok(None, 204)
        if rest == "" and method == "GET":
            return _ok({"id": self.session_id, "usage": {"arrays": len(self.arrays)}})
        if rest == "/arrays" and method == "POST":
            if content_type == _codec.NPY_TYPE:
                arr = _codec.decode_npy(body)
                aid = re.search(r"id=([^&]+)", query).group(1)
            else:
                arr = _codec.array_from_tensor(parsed)
                aid = parsed.get("id") or self._new_id()
            self.arrays[aid] = arr
            return _ok(self._info(aid), 201)
        if rest == "/release":
            n = sum(1 for i in parsed["ids"] if self.arrays.pop(i, None) is not None)
            return _ok({"released": n})
        if rest == "/mark_variables":
            return _ok({})
        if rest == "/run":
            return self._run(parsed)
        m2 = re.match(r"^/arrays/([^/]+)/data$", rest)
        if m2:
            aid = m2.group(1)
            if aid not in self.arrays:
                return _problem(404, "array-not-found", "array %s not found" % aid)
            if method == "PUT":
                arr = _codec.decode_npy(body) if content_type == _codec.NPY_TYPE \
                    else _codec.array_from_tensor(parsed)
                self.arrays[aid][...] = arr.reshape(self.arrays[aid].shape)
                return _ok(self._info(aid))
            arr = self.arrays[aid]
            if accept == _codec.NPY_TYPE:
                return Response(200, {"content-type": _codec.NPY_TYPE}, _codec.encode_npy(arr))
            return _ok(_codec.tensor_json(arr))
        m2 = re.match(r"^/ops/(.+)$", rest)
        if m2:
            return self._op(m2.group(1), parsed)
        return _problem(404, "not-found", "fake server has no route for %s %s" % (method, rest))

    def _op(self, op, body):
        xs = [self.arrays[i] for i in body["inputs"]]
        p = body.get("params") or {}
        if op in _BINARY:
            results = [_BINARY[op](xs[0], xs[1]).astype(xs[0].dtype)]
        elif op in _SCALAR:
            results = [np.asarray(_SCALAR[op](xs[0], xs[0].dtype.type(p["scalar"]))).astype(xs[0].dtype)]
        elif op in _UNARY:
            results = [np.asarray(_UNARY[op](xs[0], p)).astype(xs[0].dtype)]
        elif op == "concat":
            results = [np.concatenate(xs, axis=p.get("dim", 1))]
        elif op == "clip":
            results = [np.clip(xs[0], p["a_min"], p["a_max"])]
        elif op == "split":
            results = np.split(xs[0], p["num_outputs"], axis=p.get("axis", 1))
        else:
            return _problem(404, "unknown-op", "Cannot find operator %s" % op)
        if "out" in body:
            outs = body["out"] if isinstance(body["out"], list) else [body["out"]]
            for o, r in zip(outs, results):
                self.arrays[o][...] = r
            ids = outs
        else:
            ids = body.get("ids") or [self._new_id() for _ in results]
            for i, r in zip(ids, results):
                self.arrays[i] = np.ascontiguousarray(r)
        return _ok({"outputs": [self._info(i) for i in ids]}, 201)

    def _run(self, body):
        outputs = {}
        for step in body["steps"]:
            if "op" in step:
                call = {k: step[k] for k in ("inputs", "params", "out") if k in step}
                if "out" not in step:
                    call["ids"] = step.get("ids") or [step["id"]]
                resp = self._op(step["op"], call)
                if resp.status >= 300:
                    return resp
                if "out" not in step:
                    outputs.update({i["id"]: i for i in json.loads(resp.body)["outputs"]})
            elif "release" in step:
                for i in step["release"]:
                    self.arrays.pop(i, None)
            elif "mark_variables" not in step:
                return _problem(400, "invalid-argument", "fake run: unsupported step %s" % step)
        fetched = {f: _codec.tensor_json(self.arrays[f]) for f in body.get("fetch", [])}
        return _ok({"steps": len(body["steps"]), "fetched": fetched, "outputs": outputs})

    def ops_sent(self):
        return [(path.rsplit("/", 1)[1], body) for method, path, body, _, _ in self.log
                if "/ops/" in path]
