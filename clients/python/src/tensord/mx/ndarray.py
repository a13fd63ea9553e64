"""``NDArray``: a handle to an array in a tensord session, behaving like ``mxnet.nd.NDArray``."""

import html
import math
import numbers

import numpy as np

from .. import _codec
from ..client import to_param
from ..errors import TensordError
from . import _state
from .context import Context, cpu

__all__ = ["NDArray", "invoke", "invoke_one", "check_grad_req", "add_tracer", "remove_tracer"]

#: Arrays with more elements show no values in ``_repr_html_`` (they are not fetched).
HTML_PREVIEW_MAX_ELEMENTS = 10_000

#: The grad_req names MXNet's Python layer accepts (anything else is a KeyError).
GRAD_REQS = {"null": 0, "write": 1, "add": 3}


def _is_scalar(x):
    # float and int first: the Number ABC check costs about a microsecond.
    return type(x) in _PLAIN_SCALARS or isinstance(x, (numbers.Number, np.bool_))


_PLAIN_SCALARS = (float, int)

#: Bytes per element of each dtype (what a release frees; numpy's dtype lookup is slower).
_ITEMSIZE = {name: np.dtype(name).itemsize for name in _codec.DTYPES}


def _session_of(arrays):
    sess = None
    for a in arrays:
        if sess is None:
            sess = a._session
        elif a._session is not sess:
            raise ValueError("arrays from different tensord sessions cannot be combined")
    return sess or _state.session()


def _n_outputs(spec, params):
    n = spec.get("outputs", 1) if spec else 1
    if n:
        return n
    if "num_outputs" in params:
        return int(params["num_outputs"])
    return None  # the server decides


# Active Function tracers (see autograd.Function): each op run is also reported to them.
_tracers = []


def add_tracer(tracer):
    _tracers.append(tracer)


def remove_tracer(tracer):
    _tracers.remove(tracer)


def invoke(op, inputs, params=None, out=None):
    """Runs catalog operator ``op`` on NDArrays; returns a list of NDArrays (``out`` if given)."""
    outputs = _invoke(op, inputs, params, out)
    if _tracers:
        _tracers[-1].record(op, inputs, params, out, outputs)
    return outputs


def _invoke(op, inputs, params, out):
    for i in inputs:
        if not isinstance(i, NDArray):
            raise TypeError("operator %s: inputs must be NDArrays, got %s" % (op, type(i).__name__))
    sess = _session_of(inputs if out is None else list(inputs) + list(out))
    params = params or {}
    if out is not None:
        if sess.pipeline:
            sess.queue(_op_step(op, inputs, params, "out", [a._id for a in out]), op)
        else:
            sess.invoke(op, inputs, params, out=out)
        return list(out)
    spec = sess.client.ops().get(op)
    n = _n_outputs(spec, params)
    ids = ([sess.ids.next()] if n == 1 else sess.ids.take(n)) if n else None
    if sess.pipeline and ids:
        # Named by the client, the outputs exist as handles at once; their shape and dtype
        # arrive with the response.
        outputs = [NDArray(sess, i, None, None) for i in ids]
        step = _op_step(op, inputs, params, "id", ids[0]) if n == 1 else \
            _op_step(op, inputs, params, "ids", ids)
        sess.queue(step, op, outputs)
        return outputs
    infos = sess.invoke(op, inputs, params, ids=ids)
    return [NDArray._from_info(sess, info) for info in infos]


def _op_step(op, inputs, params, key, value):
    """The ``run`` step of one operator call; ``key`` is ``id``, ``ids`` or ``out``."""
    step = {"op": op, "inputs": [i._id for i in inputs], key: value}
    if params:
        step["params"] = {k: v if type(v) in _PLAIN_PARAMS else to_param(v) for k, v in params.items()}
    return step


_PLAIN_PARAMS = (float, int, str, bool)


def invoke_one(op, inputs, params=None, out=None):
    if out is not None:
        invoke(op, inputs, params, out=[out])
        return out
    return invoke(op, inputs, params)[0]


def check_grad_req(grad_req):
    """MXNet's Python layer maps grad_req names through a dict: unknown names are a KeyError."""
    if grad_req not in GRAD_REQS:
        raise KeyError(grad_req)


class NDArray:
    """An n-dimensional array stored in a tensord session (MXNet's ``NDArray`` interface)."""

    __slots__ = ("_session", "_id", "_shape", "_dtype", "_grad", "__weakref__")
    # numpy must defer to our reflected operators (`np.float32(2) * x`).
    __array_priority__ = 1000.0

    def __init__(self, session, aid, shape, dtype):
        self._session = session
        self._id = aid
        # None while the creating request is in flight (pipelined sessions).
        self._shape = None if shape is None else tuple(shape)
        self._dtype = dtype
        self._grad = None

    def _resolve(self):
        """Waits for the response that describes this array (pipelined sessions only)."""
        if self._shape is None:
            self._session.sync()
            if self._shape is None:
                # Its batch failed at another step: the server still made it if its own step ran.
                try:
                    self._set_info(self._session.array(self._id))
                except TensordError as exc:
                    if exc.code != "array-not-found":
                        raise
                    raise TensordError("array %s does not exist: the operation that was to "
                                       "create it failed" % self._id, code="array-not-found",
                                       status=404) from None

    def _set_info(self, info):
        self._shape = tuple(info["shape"])
        self._dtype = info["dtype"]

    @property
    def _dtype_name(self):
        self._resolve()
        return self._dtype

    @classmethod
    def _from_info(cls, session, info):
        return cls(session, info["id"], info["shape"], info["dtype"])

    def __del__(self):
        try:
            nbytes = 0 if self._shape is None else \
                math.prod(self._shape) * _ITEMSIZE.get(self._dtype, 8)
            self._session.release_later(self._id, nbytes)
        except Exception:  # during interpreter shutdown module globals may be gone
            pass

    # -- properties -------------------------------------------------------------------------
    @property
    def id(self):
        """The server-side array id."""
        return self._id

    @property
    def session(self):
        return self._session

    @property
    def shape(self):
        self._resolve()
        return self._shape

    @property
    def dtype(self):
        """The numpy scalar type (``numpy.float32`` by default), as in MXNet."""
        self._resolve()
        return _codec.np_type(self._dtype)

    @property
    def size(self):
        self._resolve()
        return math.prod(self._shape)

    @property
    def ndim(self):
        self._resolve()
        return len(self._shape)

    @property
    def context(self):
        return cpu()

    ctx = context

    @property
    def stype(self):
        return "default"

    @property
    def grad(self):
        """The gradient buffer (aliases the server buffer), or ``None`` if not attached."""
        return self._grad

    @property
    def T(self):
        if len(self.shape) < 2:
            return self
        return invoke_one("transpose", [self])

    # -- values -----------------------------------------------------------------------------
    def asnumpy(self):
        """Copies the values into a numpy array (synchronises)."""
        return self._session.get_data(self._id, size_hint=self.size)

    def asscalar(self):
        s = self._session
        if self._shape is None and s.queued:
            # A fresh result of queued steps (`loss.sum().asscalar()`): read it with them in one
            # request instead of waiting for its shape first.
            value = s.fetch_values(self._id)
            if value.shape != (1,):
                raise ValueError("The current array is not a scalar")
            return value[0]
        if self.shape != (1,):
            raise ValueError("The current array is not a scalar")
        return self.asnumpy()[0]

    def tolist(self):
        return self.asnumpy().tolist()

    def wait_to_read(self):
        """Blocks until the value is computed (reads outstanding pipelined responses)."""
        self._session.sync()

    def __repr__(self):
        shape_info = "x".join("%d" % d for d in self.shape)
        return "\n%s\n<%s %s @%s>" % (str(self.asnumpy()), self.__class__.__name__, shape_info,
                                      self.context)

    def _repr_html_(self):
        """Jupyter: a small table of shape, dtype, grad_req and a preview of the values."""
        info = self._session.array(self._id)
        size = int(np.prod(info["shape"], dtype=np.int64))
        if size <= HTML_PREVIEW_MAX_ELEMENTS:
            values = np.array2string(self.asnumpy(), threshold=20, edgeitems=3)
        else:
            values = "(%d elements, not fetched)" % size
        rows = [("id", self._id), ("shape", str(tuple(info["shape"]))),
                ("dtype", info["dtype"]), ("grad_req", info.get("grad_req") or "none"),
                ("values", values)]
        cells = "".join('<tr><th style="text-align:left">%s</th><td><pre style="margin:0">%s</pre></td></tr>'
                        % (name, html.escape(str(value))) for name, value in rows)
        return '<table class="tensord-ndarray">%s</table>' % cells

    def __len__(self):
        return self.shape[0]

    def __iter__(self):
        for i in range(self.shape[0]):
            yield self[i]

    def __bool__(self):
        n = self.size
        if n == 0:
            return False
        if n == 1:
            return bool(self.asnumpy().reshape(-1)[0])
        raise ValueError("The truth value of an NDArray with multiple elements is ambiguous.")

    def __float__(self):
        return float(self.asscalar())

    def __int__(self):
        return int(self.asscalar())

    def __index__(self):
        if np.dtype(self._dtype_name).kind not in "iu":
            raise TypeError("only integer arrays can be used as an index")
        return int(self.asscalar())

    __hash__ = object.__hash__

    # -- autograd ---------------------------------------------------------------------------
    def attach_grad(self, grad_req="write", stype=None):
        """Attaches a zero gradient buffer (replacing any previous one) and marks a variable."""
        check_grad_req(grad_req)
        if stype not in (None, "default"):
            raise ValueError("tensord supports only dense (default) storage, got stype=%r" % stype)
        # The API addresses gradient buffers only through their variable, so (as MXNet's own
        # attach_grad does) make a zero buffer with an id and mark it: one request when the
        # catalog has zeros_like.
        s = self._session
        if "zeros_like" in s.client.ops():
            gid = s.ids.next()
            p = s.program()
            p.op("zeros_like", [self._id], id=gid)
            p.mark_variables([self._id], [gid], grad_req)
            if s.pipeline:
                grad = NDArray(s, gid, None, None)
                zeros, mark = p.steps
                s.queue(zeros, "attach_grad", (grad,))
                s.queue(mark, "attach_grad")
            else:
                grad = NDArray._from_info(s, p.run()["outputs"][gid])
        else:
            grad = zeros_like_array(self)
            s.mark_variables([self._id], [grad._id], grad_req)
        self._grad = grad

    def backward(self, out_grad=None, retain_graph=False, train_mode=True):
        """Computes gradients of this array w.r.t. the marked variables (see ``autograd.backward``)."""
        from . import autograd
        autograd.backward([self], None if out_grad is None else [out_grad],
                          retain_graph=retain_graph, train_mode=train_mode)

    def detach(self):
        """A new handle sharing memory with this array but with no recorded history."""
        s = self._session
        info = s.detach(self._id, id=s.ids.next())
        return NDArray._from_info(s, info)

    # -- conversion -------------------------------------------------------------------------
    def copy(self):
        return self.copyto(cpu())

    def copyto(self, other):
        if isinstance(other, NDArray):
            if other is self:
                return other
            return invoke_one(_copy_op(self._session), [self], out=other)
        if isinstance(other, Context):
            return invoke_one(_copy_op(self._session), [self])
        raise TypeError("copyto does not support type " + str(type(other)))

    def as_in_context(self, context):
        return self

    as_in_ctx = as_in_context

    def astype(self, dtype, copy=True):
        name = _codec.dtype_name(dtype)
        if not copy and name == self._dtype_name:
            return self
        return invoke_one(_first_op(self._session, "cast", "Cast"), [self], {"dtype": name})

    def reshape(self, *shape, **kwargs):
        if len(shape) == 1 and isinstance(shape[0], (list, tuple)):
            shape = shape[0]
        elif not shape:
            shape = kwargs.pop("shape")
        params = {"shape": tuple(shape)}
        if kwargs.pop("reverse", False):
            params["reverse"] = True
        if kwargs:
            raise TypeError("reshape: unexpected arguments %s" % sorted(kwargs))
        return invoke_one("reshape", [self], params)

    def reshape_like(self, other):
        return self.reshape(other.shape)

    # -- arithmetic (MXNet's dispatch: array op array -> broadcast_*, array op scalar -> _*_scalar)
    def _binary(self, other, array_op, scalar_op, out=None):
        if isinstance(other, NDArray):
            return invoke_one(array_op, [self, other], out=out)
        if _is_scalar(other):
            return invoke_one(scalar_op, [self], {"scalar": float(other)}, out=out)
        raise TypeError("type %s not supported" % str(type(other)))

    def _rbinary(self, other, rscalar_op):
        if _is_scalar(other):
            return invoke_one(rscalar_op, [self], {"scalar": float(other)})
        raise TypeError("type %s not supported" % str(type(other)))

    def __add__(self, o): return self._binary(o, "broadcast_add", "_plus_scalar")
    def __radd__(self, o): return self._rbinary(o, "_plus_scalar")
    def __iadd__(self, o): return self._binary(o, "broadcast_add", "_plus_scalar", out=self)
    def __sub__(self, o): return self._binary(o, "broadcast_sub", "_minus_scalar")
    def __rsub__(self, o): return self._rbinary(o, "_rminus_scalar")
    def __isub__(self, o): return self._binary(o, "broadcast_sub", "_minus_scalar", out=self)
    def __mul__(self, o): return self._binary(o, "broadcast_mul", "_mul_scalar")
    def __rmul__(self, o): return self._rbinary(o, "_mul_scalar")
    def __imul__(self, o): return self._binary(o, "broadcast_mul", "_mul_scalar", out=self)
    def __truediv__(self, o): return self._binary(o, "broadcast_div", "_div_scalar")
    def __rtruediv__(self, o): return self._rbinary(o, "_rdiv_scalar")
    def __itruediv__(self, o): return self._binary(o, "broadcast_div", "_div_scalar", out=self)
    def __mod__(self, o): return self._binary(o, "broadcast_mod", "_mod_scalar")
    def __rmod__(self, o): return self._rbinary(o, "_rmod_scalar")
    def __imod__(self, o): return self._binary(o, "broadcast_mod", "_mod_scalar", out=self)
    def __pow__(self, o): return self._binary(o, "broadcast_power", "_power_scalar")
    def __rpow__(self, o): return self._rbinary(o, "_rpower_scalar")

    def __neg__(self):
        return invoke_one("_mul_scalar", [self], {"scalar": -1.0})

    def __eq__(self, o): return self._binary(o, "broadcast_equal", "_equal_scalar")
    def __ne__(self, o): return self._binary(o, "broadcast_not_equal", "_not_equal_scalar")
    def __gt__(self, o): return self._binary(o, "broadcast_greater", "_greater_scalar")
    def __ge__(self, o): return self._binary(o, "broadcast_greater_equal", "_greater_equal_scalar")
    def __lt__(self, o): return self._binary(o, "broadcast_lesser", "_lesser_scalar")
    def __le__(self, o): return self._binary(o, "broadcast_lesser_equal", "_lesser_equal_scalar")

    # -- indexing ---------------------------------------------------------------------------
    def __getitem__(self, key):
        if isinstance(key, (NDArray, list, np.ndarray)):
            # Integer-array indexing on the first axis, as MXNet does it with `take`.
            if not isinstance(key, NDArray):
                s = self._session
                key = NDArray._from_info(s, s.create_array(np.asarray(key), dtype="int64",
                                                           id=s.ids.next()))
            return invoke_one("take", [self, key], {"axis": 0})
        begin, end, step, drop, full = _basic_index(key, self.shape)
        if full:
            return self
        out = invoke_one("slice", [self], {"begin": begin, "end": end, "step": step})
        if drop:
            kept = [d for axis, d in enumerate(out.shape) if axis not in drop]
            out = out.reshape(tuple(kept) or (1,))
        return out

    def __setitem__(self, key, value):
        begin, end, step, drop, full = _basic_index(key, self.shape)
        s = self._session
        if full:
            if isinstance(value, NDArray):
                if value.shape != self.shape:
                    value = _broadcast_value(value, self.shape)
                invoke_one(_copy_op(s), [value], out=self)
            else:
                arr = np.broadcast_to(np.asarray(value, dtype=self._dtype_name), self.shape)
                s.put_data(self._id, arr)
            return
        region = _region_shape(begin, end, step, self.shape)
        ops = s.client.ops()
        if isinstance(value, NDArray) and "_slice_assign" in ops:
            if value.shape != tuple(region):
                value = _broadcast_value(value, tuple(region))
            invoke("_slice_assign", [self, value],
                   {"begin": begin, "end": end, "step": step}, out=[self])
        elif _is_scalar(value) and "_slice_assign_scalar" in ops:
            invoke("_slice_assign_scalar", [self],
                   {"scalar": float(value), "begin": begin, "end": end, "step": step}, out=[self])
        else:
            # No slice-assign operator in the catalog: read, modify and write back the values.
            arr = self.asnumpy()
            index = tuple(slice(b, e, st) for b, e, st in zip(begin, end, step))
            arr[index] = value.asnumpy().reshape(region) if isinstance(value, NDArray) \
                else np.broadcast_to(np.asarray(value, dtype=self._dtype_name), region)
            s.put_data(self._id, arr)


def _broadcast_value(value, shape):
    if value.ndim < len(shape):
        value = value.reshape((1,) * (len(shape) - value.ndim) + value.shape)
    if value.shape == tuple(shape):
        return value
    return invoke_one("broadcast_to", [value], {"shape": tuple(shape)})


def _region_shape(begin, end, step, shape):
    # end None occurs only with a negative step and means "through index 0".
    return [len(range(b, -1 if e is None else e, st)) for b, e, st in zip(begin, end, step)]


def _basic_index(key, shape):
    """Normalises a basic index to per-axis (begin, end, step); returns also the int axes.

    Returns ``(begin, end, step, dropped_axes, covers_everything)``.
    """
    if not isinstance(key, tuple):
        key = (key,)
    if any(k is Ellipsis for k in key):
        i = next(i for i, k in enumerate(key) if k is Ellipsis)
        fill = len(shape) - (len(key) - 1)
        key = key[:i] + (slice(None),) * fill + key[i + 1:]
    if len(key) > len(shape):
        raise IndexError("too many indices (%d) for an array with %d dimensions" % (len(key), len(shape)))
    key = key + (slice(None),) * (len(shape) - len(key))
    begin, end, step, drop = [], [], [], set()
    full = True
    for axis, (k, n) in enumerate(zip(key, shape)):
        if isinstance(k, (numbers.Integral, np.integer)) and not isinstance(k, bool):
            i = int(k)
            if i < -n or i >= n:
                raise IndexError("index %d is out of bounds for axis %d with size %d" % (i, axis, n))
            i = i + n if i < 0 else i
            begin.append(i); end.append(i + 1); step.append(1)
            drop.add(axis)
            full = False
        elif isinstance(k, slice):
            b, e, st = k.indices(n)
            if st < 0 and e < 0:
                e = None  # runs past index 0: "up to the start"
            begin.append(b); end.append(e); step.append(st)
            if (b, e, st) != (0, n, 1):
                full = False
        else:
            raise IndexError("NDArray basic indexing supports int, slice and Ellipsis; got %s"
                             % type(k).__name__)
    return begin, end, step, drop, full


def _first_op(session, *names):
    ops = session.client.ops()
    for n in names:
        if n in ops:
            return n
    raise NotImplementedError("the server's catalog has none of the operators %s" % (names,))


def _copy_op(session):
    return _first_op(session, "_copy", "identity", "_copyto", "copy")


def zeros_like_array(x):
    """A zero-filled array of ``x``'s shape and dtype, made on the server."""
    s = x._session
    ops = s.client.ops()
    if "zeros_like" in ops:
        return invoke_one("zeros_like", [x])
    info = s.create_array(np.zeros(x.shape, dtype=x._dtype_name), dtype=x._dtype_name, id=s.ids.next())
    return NDArray._from_info(s, info)


# MXNet's NDArray methods that forward to the operator of the same name with self as first input.
_METHOD_OPS = (
    "sum", "mean", "max", "min", "prod", "norm", "argmax", "argmin", "nansum", "nanprod",
    "exp", "expm1", "log", "log2", "log10", "log1p", "sqrt", "rsqrt", "cbrt", "rcbrt", "square",
    "reciprocal", "abs", "sign", "round", "rint", "floor", "ceil", "trunc", "fix",
    "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "arcsinh",
    "arccosh", "arctanh", "degrees", "radians", "relu", "sigmoid", "softmax", "log_softmax",
    "transpose", "swapaxes", "expand_dims", "squeeze", "flatten", "tile", "repeat", "clip",
    "topk", "sort", "argsort", "pick", "one_hot", "take", "slice", "slice_axis", "slice_like",
    "split", "broadcast_to", "broadcast_like", "zeros_like", "ones_like", "flip", "diag",
    "pad", "depth_to_space", "space_to_depth", "softmin", "argmax_channel", "dot",
)


def _make_method(op_name):
    def method(self, *args, **kwargs):
        from . import nd
        return getattr(nd, op_name)(self, *args, **kwargs)
    method.__name__ = op_name
    method.__doc__ = "Same as ``nd.%s(self, ...)``." % op_name
    return method


for _name in _METHOD_OPS:
    setattr(NDArray, _name, _make_method(_name))
del _name
