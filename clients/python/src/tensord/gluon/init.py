"""Initializers (``mx.init`` / ``gluon.init``): how a parameter's first values are drawn.

Values are drawn by the server's generator (seeded by ``mx.random.seed``), so an initializer
describes an operator step rather than producing numbers here. Dispatch on the parameter name
follows MXNet's ``Initializer``: names ending in ``bias``/``beta``/``running_mean`` start at
zero, ``gamma``/``running_var`` at one, ``weight`` (and anything else) from the initializer.
"""

import math

import numpy as np

__all__ = ["Initializer", "Uniform", "Normal", "Xavier", "Zero", "One", "Constant", "create"]


class Initializer:
    """Base class. ``step(name, shape)`` returns ``(op, params)`` or a numpy array of values.

    A block's global initializer goes through ``step`` (dispatch on the name); a parameter's
    own initializer (``Dense(bias_initializer='zeros')``) through ``weight_step`` directly.
    """

    def step(self, name, shape):
        if name.endswith(("bias", "beta", "running_mean", "moving_mean")):
            return Zero().weight_step(name, shape)
        if name.endswith(("gamma", "running_var", "moving_var")):
            return One().weight_step(name, shape)
        return self.weight_step(name, shape)

    def weight_step(self, name, shape):
        raise NotImplementedError

    def __repr__(self):
        return "%s()" % type(self).__name__


class Uniform(Initializer):
    """U(-scale, scale); MXNet's default (scale 0.07)."""

    def __init__(self, scale=0.07):
        self.scale = float(scale)

    def weight_step(self, name, shape):
        return "random_uniform", {"low": -self.scale, "high": self.scale, "shape": tuple(shape)}


class Normal(Initializer):
    """N(0, sigma²) (default sigma 0.01)."""

    def __init__(self, sigma=0.01):
        self.sigma = float(sigma)

    def weight_step(self, name, shape):
        return "random_normal", {"loc": 0.0, "scale": self.sigma, "shape": tuple(shape)}


class Xavier(Initializer):
    """Glorot initialisation with MXNet's parameters (``rnd_type``, ``factor_type``, ``magnitude``).

    fan_in = shape[1]·prod(shape[2:]), fan_out = shape[0]·prod(shape[2:]); the scale is
    sqrt(magnitude / factor) with factor fan_in, fan_out or their mean.
    """

    def __init__(self, rnd_type="uniform", factor_type="avg", magnitude=3):
        if rnd_type not in ("uniform", "gaussian"):
            raise ValueError("Unknown random type %r" % rnd_type)
        if factor_type not in ("avg", "in", "out"):
            raise ValueError("Incorrect factor type %r" % factor_type)
        self.rnd_type, self.factor_type, self.magnitude = rnd_type, factor_type, float(magnitude)

    def weight_step(self, name, shape):
        if len(shape) < 2:
            raise ValueError("Xavier initializer cannot be applied to vector %s. It requires at "
                             "least 2D." % name)
        hw = float(np.prod(shape[2:])) if len(shape) > 2 else 1.0
        fan_in, fan_out = shape[1] * hw, shape[0] * hw
        factor = {"avg": (fan_in + fan_out) / 2.0, "in": fan_in, "out": fan_out}[self.factor_type]
        scale = math.sqrt(self.magnitude / factor)
        if self.rnd_type == "uniform":
            return "random_uniform", {"low": -scale, "high": scale, "shape": tuple(shape)}
        return "random_normal", {"loc": 0.0, "scale": scale, "shape": tuple(shape)}


class Constant(Initializer):
    """Every element set to ``value`` (a number, or an array broadcast to the shape)."""

    def __init__(self, value):
        self.value = value

    def weight_step(self, name, shape):
        if np.ndim(self.value) == 0:
            return "full", {"shape": tuple(shape), "value": float(self.value)}
        return np.broadcast_to(np.asarray(self.value, dtype=np.float32), tuple(shape))


class Zero(Constant):
    def __init__(self):
        super().__init__(0.0)


class One(Constant):
    def __init__(self):
        super().__init__(1.0)


_NAMES = {"zeros": Zero, "zero": Zero, "ones": One, "one": One, "uniform": Uniform,
          "normal": Normal, "xavier": Xavier}


def create(init):
    """An initializer from an instance, a name (``'zeros'``, ``'xavier'``, ...) or None."""
    if init is None or isinstance(init, Initializer):
        return init
    if isinstance(init, str) and init.lower() in _NAMES:
        return _NAMES[init.lower()]()
    raise ValueError("unknown initializer %r" % (init,))
