"""``nd.random``: random arrays drawn by the server's generator (seeded by ``mx.random.seed``)."""

from ... import _codec
from .. import _state
from ..ndarray import invoke_one


def _op(*names):
    ops = _state.catalog()
    for n in names:
        if n in ops:
            return n
    raise NotImplementedError("the server's catalog has none of the operators %s" % (names,))


def _shape(shape):
    if shape is None:
        return (1,)
    if isinstance(shape, int):
        return (shape,)
    return tuple(shape)


def uniform(low=0, high=1, shape=None, dtype=None, ctx=None, out=None, **kwargs):
    """Samples from U[low, high); ``shape`` defaults to ``(1,)`` as in MXNet."""
    return invoke_one(_op("_random_uniform", "random_uniform", "uniform"), [],
                      {"low": float(low), "high": float(high), "shape": _shape(shape),
                       "dtype": _codec.dtype_name(dtype)}, out=out)


def normal(loc=0, scale=1, shape=None, dtype=None, ctx=None, out=None, **kwargs):
    """Samples from N(loc, scale²)."""
    return invoke_one(_op("_random_normal", "random_normal", "normal"), [],
                      {"loc": float(loc), "scale": float(scale), "shape": _shape(shape),
                       "dtype": _codec.dtype_name(dtype)}, out=out)


def randint(low, high, shape=None, dtype=None, ctx=None, out=None, **kwargs):
    """Samples integers from [low, high); dtype int32 by default (MXNet's rule)."""
    return invoke_one(_op("_random_randint", "random_randint", "randint"), [],
                      {"low": int(low), "high": int(high), "shape": _shape(shape),
                       "dtype": _codec.dtype_name(dtype or "int32")}, out=out)
