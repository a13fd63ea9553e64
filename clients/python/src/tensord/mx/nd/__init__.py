"""``tensord.mx.nd``: MXNet's ``mxnet.nd`` backed by a tensord session.

Creation functions are defined here; every operator in the server's catalog (``GET /v1/ops``)
is available as ``nd.<name>`` with MXNet's calling convention (positional arrays, keyword or
positional parameters in catalog order, ``out=``), generated on first use.
"""

import numbers

import numpy as np

from ... import _codec
from .. import _state
from ..ndarray import NDArray, invoke, invoke_one, zeros_like_array
from . import random  # noqa: F401  (nd.random)
from . import linalg  # noqa: F401  (nd.linalg)

_generated = {}


def _shape(shape):
    if isinstance(shape, numbers.Integral):
        return (int(shape),)
    return tuple(int(d) for d in shape)


def _sess():
    return _state.session()


def _has(name):
    return name in _state.catalog()


def _upload(arr, dtype):
    s = _sess()
    info = s.create_array(arr, dtype=dtype, id=s.ids.next())
    return NDArray._from_info(s, info)


def array(source_array, ctx=None, dtype=None):
    """An array from a list, numpy array, scalar or NDArray (default dtype float32, as MXNet)."""
    if isinstance(source_array, NDArray):
        copy = source_array.copy()
        return copy if dtype is None else copy.astype(dtype)
    name = _codec.dtype_name(dtype)
    return _upload(np.asarray(source_array, dtype=name), name)


def _filled(op, shape, dtype, value):
    name = _codec.dtype_name(dtype)
    shape = _shape(shape)
    if _has(op):
        params = {"shape": shape, "dtype": name}
        if op == "_full":
            params["value"] = float(value)
        return invoke_one(op, [], params)
    return _upload(np.full(shape, value, dtype=name), name)


def zeros(shape, ctx=None, dtype=None, **kwargs):
    """An array of zeros (float32 unless ``dtype`` is given), made on the server."""
    return _filled("_zeros", shape, dtype, 0)


def ones(shape, ctx=None, dtype=None, **kwargs):
    """An array of ones (float32 unless ``dtype`` is given), made on the server."""
    return _filled("_ones", shape, dtype, 1)


def empty(shape, ctx=None, dtype=None):
    """An uninitialised array in MXNet; here zero-filled."""
    return zeros(shape, ctx, dtype)


def full(shape, val, ctx=None, dtype=None, out=None):
    """An array filled with ``val`` (float32 unless ``dtype`` is given)."""
    result = _filled("_full", shape, dtype, val)
    if out is not None:
        out[:] = result
        return out
    return result


def arange(start, stop=None, step=1.0, repeat=1, infer_range=None, ctx=None, dtype=None):
    """Evenly spaced values in [start, stop), each repeated ``repeat`` times (MXNet's arange)."""
    name = _codec.dtype_name(dtype)
    if _has("_arange"):
        return invoke_one("_arange", [], {"start": float(start),
                                         "stop": None if stop is None else float(stop),
                                         "step": float(step), "repeat": int(repeat), "dtype": name})
    values = np.arange(start, stop, step) if stop is not None else np.arange(0, start, step)
    return _upload(np.repeat(values, repeat).astype(name), name)


def zeros_like(data, out=None):
    """Zeros of ``data``'s shape and dtype."""
    if _has("zeros_like"):
        return invoke_one("zeros_like", [data], out=out)
    result = zeros_like_array(data)
    if out is not None:
        out[:] = result
        return out
    return result


def ones_like(data, out=None):
    """Ones of ``data``'s shape and dtype."""
    if _has("ones_like"):
        return invoke_one("ones_like", [data], out=out)
    result = _upload(np.ones(data.shape, dtype=data._dtype_name), data._dtype_name)
    if out is not None:
        out[:] = result
        return out
    return result


def concatenate(arrays, axis=0, always_copy=True):
    """Joins arrays along ``axis`` (``concat`` with ``dim=axis``)."""
    return invoke_one("concat", list(arrays), {"dim": axis})


def waitall():
    """Waits for all outstanding (pipelined) work of the current session; raises its first error."""
    _sess().sync()


def _ufunc(lhs, rhs, array_op, scalar_op, rscalar_op, py):
    if isinstance(lhs, NDArray) and isinstance(rhs, NDArray):
        return invoke_one(array_op, [lhs, rhs])
    if isinstance(lhs, NDArray):
        return invoke_one(scalar_op, [lhs], {"scalar": float(rhs)})
    if isinstance(rhs, NDArray):
        return invoke_one(rscalar_op, [rhs], {"scalar": float(lhs)})
    return py(lhs, rhs)


def add(lhs, rhs):
    """``lhs + rhs`` for arrays and/or scalars (broadcast_add or _plus_scalar)."""
    return _ufunc(lhs, rhs, "broadcast_add", "_plus_scalar", "_plus_scalar", lambda a, b: a + b)


def subtract(lhs, rhs):
    """``lhs - rhs`` (broadcast_sub, _minus_scalar or _rminus_scalar)."""
    return _ufunc(lhs, rhs, "broadcast_sub", "_minus_scalar", "_rminus_scalar", lambda a, b: a - b)


def multiply(lhs, rhs):
    """``lhs * rhs`` (broadcast_mul or _mul_scalar)."""
    return _ufunc(lhs, rhs, "broadcast_mul", "_mul_scalar", "_mul_scalar", lambda a, b: a * b)


def divide(lhs, rhs):
    """``lhs / rhs`` (broadcast_div, _div_scalar or _rdiv_scalar)."""
    return _ufunc(lhs, rhs, "broadcast_div", "_div_scalar", "_rdiv_scalar", lambda a, b: a / b)


true_divide = divide


def modulo(lhs, rhs):
    """``lhs % rhs`` (broadcast_mod, _mod_scalar or _rmod_scalar)."""
    return _ufunc(lhs, rhs, "broadcast_mod", "_mod_scalar", "_rmod_scalar", lambda a, b: a % b)


def power(base, exp):
    """``base ** exp`` (broadcast_power, _power_scalar or _rpower_scalar)."""
    return _ufunc(base, exp, "broadcast_power", "_power_scalar", "_rpower_scalar", lambda a, b: a ** b)


def maximum(lhs, rhs):
    """Elementwise maximum (broadcast_maximum or _maximum_scalar)."""
    return _ufunc(lhs, rhs, "broadcast_maximum", "_maximum_scalar", "_maximum_scalar", max)


def minimum(lhs, rhs):
    """Elementwise minimum (broadcast_minimum or _minimum_scalar)."""
    return _ufunc(lhs, rhs, "broadcast_minimum", "_minimum_scalar", "_minimum_scalar", min)


def equal(lhs, rhs):
    """``lhs == rhs`` as 0/1 in the input dtype."""
    return _ufunc(lhs, rhs, "broadcast_equal", "_equal_scalar", "_equal_scalar", lambda a, b: a == b)


def not_equal(lhs, rhs):
    """``lhs != rhs`` as 0/1 in the input dtype."""
    return _ufunc(lhs, rhs, "broadcast_not_equal", "_not_equal_scalar", "_not_equal_scalar",
                  lambda a, b: a != b)


def greater(lhs, rhs):
    """``lhs > rhs`` as 0/1 in the input dtype."""
    return _ufunc(lhs, rhs, "broadcast_greater", "_greater_scalar", "_lesser_scalar", lambda a, b: a > b)


def greater_equal(lhs, rhs):
    """``lhs >= rhs`` as 0/1 in the input dtype."""
    return _ufunc(lhs, rhs, "broadcast_greater_equal", "_greater_equal_scalar",
                  "_lesser_equal_scalar", lambda a, b: a >= b)


def lesser(lhs, rhs):
    """``lhs < rhs`` as 0/1 in the input dtype."""
    return _ufunc(lhs, rhs, "broadcast_lesser", "_lesser_scalar", "_greater_scalar", lambda a, b: a < b)


def lesser_equal(lhs, rhs):
    """``lhs <= rhs`` as 0/1 in the input dtype."""
    return _ufunc(lhs, rhs, "broadcast_lesser_equal", "_lesser_equal_scalar",
                  "_greater_equal_scalar", lambda a, b: a <= b)


def make_op_function(name, spec):
    """A Python function calling catalog operator ``spec`` the way MXNet's generated ones do."""
    in_names = list(spec.get("inputs") or ())
    variadic = bool(spec.get("variadic"))
    param_names = [p["name"] for p in spec.get("params") or ()]
    op = spec["name"]

    def fn(*args, out=None, name=None, **kwargs):
        args = list(args)
        if variadic:
            if len(args) == 1 and isinstance(args[0], (list, tuple)):
                args = list(args[0]) + args[1:]
            inputs = []
            while args and isinstance(args[0], NDArray):
                inputs.append(args.pop(0))
            for key in in_names:
                if key in kwargs and isinstance(kwargs[key], (list, tuple)):
                    inputs.extend(kwargs.pop(key))
        else:
            slots = [None] * len(in_names)
            i = 0
            while args and i < len(in_names) and (isinstance(args[0], NDArray) or args[0] is None):
                slots[i] = args.pop(0)
                i += 1
            for j, key in enumerate(in_names):
                if key in kwargs:
                    if slots[j] is not None:
                        raise TypeError("%s() got multiple values for input '%s'" % (op, key))
                    slots[j] = kwargs.pop(key)
            while slots and slots[-1] is None:
                slots.pop()
            if any(s is None for s in slots):
                missing = [in_names[j] for j, s in enumerate(slots) if s is None]
                raise TypeError("%s(): missing input(s) %s" % (op, ", ".join(missing)))
            inputs = slots
        params = {}
        free = [p for p in param_names if p not in kwargs]
        if len(args) > len(free):
            raise TypeError("%s() takes %d positional parameters after its inputs, %d given"
                            % (op, len(free), len(args)))
        for pname, value in zip(free, args):
            params[pname] = value
        for key, value in kwargs.items():
            if isinstance(value, NDArray):
                raise TypeError("%s(): '%s' is not an input of this operator" % (op, key))
            params[key] = value
        outs = invoke(op, inputs, params, out=None if out is None else
                      (list(out) if isinstance(out, (list, tuple)) else [out]))
        if out is not None:
            return out
        return outs[0] if len(outs) == 1 else outs

    fn.__name__ = name
    fn.__qualname__ = name
    lines = [spec.get("summary") or "", "", "Inputs: " + (", ".join(in_names) or "none")
             + (" (variadic)" if variadic else "")]
    for p in spec.get("params") or ():
        lines.append("  %s (%s%s): %s" % (p["name"], p.get("type", ""),
                                          ", required" if p.get("required") else
                                          ", default %r" % (p.get("default"),), p.get("doc", "")))
    fn.__doc__ = "\n".join(lines)
    return fn


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    fn = _generated.get(name)
    if fn is None:
        spec = _state.catalog().get(name)
        if spec is None:
            raise AttributeError("module 'tensord.mx.nd' has no attribute %r "
                                 "(not in the server's operator catalog)" % name)
        fn = _generated[name] = make_op_function(name, spec)
    return fn


def __dir__():
    names = set(globals())
    s = _state._session
    if s is not None and s.client._catalog is not None:
        names.update(s.client._catalog)
    return sorted(names)
