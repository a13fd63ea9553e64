"""Output shapes of the operators traced by Gluon blocks (MXNet's shape rules).

Only the shapes a traced forward pass needs are inferred: layers read them to size deferred
parameters and losses to reshape labels. An operator without a rule gives ``None``.
"""

import math

import numpy as np

__all__ = ["infer_shape"]

#: Operators whose (first) output has the shape of their first input.
_SAME = {
    "relu", "sigmoid", "tanh", "softsign", "Activation", "LeakyReLU", "Dropout", "BatchNorm",
    "LayerNorm", "InstanceNorm", "GroupNorm", "L2Normalization", "softmax", "log_softmax", "exp",
    "log", "log1p", "expm1", "sqrt", "rsqrt", "square", "abs", "sign", "negative", "reciprocal",
    "clip", "cast", "_copy", "copy", "identity", "BlockGrad", "stop_gradient", "make_loss",
    "zeros_like", "ones_like", "_plus_scalar", "_minus_scalar", "_rminus_scalar", "_mul_scalar",
    "_div_scalar", "_rdiv_scalar", "_power_scalar", "_rpower_scalar", "_maximum_scalar",
    "_minimum_scalar", "elemwise_add", "elemwise_sub", "elemwise_mul", "elemwise_div",
    "smooth_l1", "floor", "ceil", "round", "erf",
}


def _tuple(v, n):
    if v is None or v == () or v == []:
        return None
    if isinstance(v, int):
        return (v,) * n
    return tuple(int(i) for i in v)


def _broadcast(a, b):
    try:
        return tuple(np.broadcast_shapes(tuple(a), tuple(b)))
    except ValueError:
        return None


def _reduce(shape, params):
    axis = params.get("axis")
    keepdims = bool(params.get("keepdims", False))
    n = len(shape)
    if axis is None or axis == ():
        axes = set(range(n))
    else:
        axes = {(a + n) % n for a in ((axis,) if isinstance(axis, int) else axis)}
    if params.get("exclude"):
        axes = set(range(n)) - axes
    out = [1 if i in axes else d for i, d in enumerate(shape) if keepdims or i not in axes]
    return tuple(out) or (1,)


def _reshape(shape, target):
    out, i = [], 0
    for t in target:
        if t == 0:
            out.append(shape[i]); i += 1
        elif t == -1:
            out.append(-1); i += 1
        elif t == -2:
            out.extend(shape[i:]); i = len(shape)
        else:
            out.append(int(t)); i += 1
    if -1 in out:
        known = int(np.prod([d for d in out if d != -1]))
        out[out.index(-1)] = int(np.prod(shape)) // max(known, 1)
    return tuple(out)


def _spatial(size, k, s, p, d, ceil):
    span = d * (k - 1) + 1
    num = size + 2 * p - span
    return (int(math.ceil(num / s)) if ceil else num // s) + 1


def infer_shape(op, in_shapes, params):
    """The output shapes of ``op`` for inputs of ``in_shapes`` (a list; ``[None]`` if unknown)."""
    if not in_shapes or any(s is None for s in in_shapes):
        return [None]
    x = tuple(in_shapes[0])
    if op in _SAME:
        return [x]
    if op.startswith("broadcast_") and len(in_shapes) == 2 and op not in ("broadcast_to", "broadcast_like"):
        return [_broadcast(x, in_shapes[1])]
    if op == "broadcast_like":
        return [tuple(in_shapes[1])]
    if op == "FullyConnected":
        units = int(params["num_hidden"])
        if params.get("flatten", True):
            return [(x[0], units)]
        return [x[:-1] + (units,)]
    if op == "Convolution":
        k = _tuple(params["kernel"], 2)
        nd = len(k)
        stride = _tuple(params.get("stride"), nd) or (1,) * nd
        pad = _tuple(params.get("pad"), nd) or (0,) * nd
        dil = _tuple(params.get("dilate"), nd) or (1,) * nd
        spatial = tuple(_spatial(x[2 + i], k[i], stride[i], pad[i], dil[i], False) for i in range(nd))
        return [(x[0], int(params["num_filter"])) + spatial]
    if op == "Pooling":
        nd = len(x) - 2
        if params.get("global_pool"):
            return [x[:2] + (1,) * nd]
        k = _tuple(params["kernel"], nd)
        stride = _tuple(params.get("stride"), nd) or (1,) * nd
        pad = _tuple(params.get("pad"), nd) or (0,) * nd
        ceil = params.get("pooling_convention", "valid") == "full"
        return [x[:2] + tuple(_spatial(x[2 + i], k[i], stride[i], pad[i], 1, ceil) for i in range(nd))]
    if op == "Embedding":
        return [x + (int(params["output_dim"]),)]
    if op in ("flatten", "Flatten"):
        return [(x[0], int(np.prod(x[1:])))]
    if op in ("reshape", "Reshape"):
        return [_reshape(x, params["shape"])]
    if op in ("sum", "mean", "max", "min", "prod", "argmax", "argmin", "norm"):
        return [_reduce(x, params)]
    if op == "pick":
        axis = params.get("axis", -1)
        axis = axis + len(x) if axis < 0 else axis
        keep = bool(params.get("keepdims", False))
        return [tuple(1 if i == axis else d for i, d in enumerate(x) if keep or i != axis) or (1,)]
    if op == "take" and params.get("axis", 0) == 0:
        return [tuple(in_shapes[1]) + x[1:]]
    if op == "one_hot":
        return [x + (int(params["depth"]),)]
    if op == "softmax_cross_entropy":
        return [(1,)]
    return [None]
