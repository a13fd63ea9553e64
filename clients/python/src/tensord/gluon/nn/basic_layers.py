"""Basic layers with MXNet Gluon's constructor arguments, defaults and parameter names."""

import numpy as np

from ..block import HybridBlock

__all__ = ["Dense", "Activation", "Dropout", "BatchNorm", "Embedding", "Flatten"]


class Activation(HybridBlock):
    """Applies ``act_type`` (``relu``, ``sigmoid``, ``tanh``, ``softrelu``, ``softsign``)."""

    def __init__(self, activation, **kwargs):
        self._act_type = activation
        super().__init__(**kwargs)

    def _alias(self):
        return self._act_type

    def hybrid_forward(self, F, x):
        return F.Activation(x, act_type=self._act_type)

    def __repr__(self):
        return "Activation(%s)" % self._act_type


class Dense(HybridBlock):
    """Fully connected layer: ``out = activation(dot(x, weight.T) + bias)``.

    ``in_units=0`` infers the input size at the first call; ``flatten=True`` collapses all
    axes but the first (MXNet's ``FullyConnected``). weight (units, in_units), bias (units,).
    """

    def __init__(self, units, activation=None, use_bias=True, flatten=True, dtype="float32",
                 weight_initializer=None, bias_initializer="zeros", in_units=0, **kwargs):
        super().__init__(**kwargs)
        self._units = int(units)
        self._in_units = int(in_units)
        self._flatten = flatten
        with self.name_scope():
            self.weight = self.params.get("weight", shape=(units, in_units), init=weight_initializer,
                                          dtype=dtype, allow_deferred_init=True)
            if use_bias:
                self.bias = self.params.get("bias", shape=(units,), init=bias_initializer,
                                            dtype=dtype, allow_deferred_init=True)
            else:
                self.bias = None
            self.act = Activation(activation, prefix=activation + "_") if activation is not None else None

    def infer_shape(self, x, *args):
        in_units = int(np.prod(x.shape[1:])) if self._flatten else int(x.shape[-1])
        self.weight.shape = (self._units, in_units)

    def hybrid_forward(self, F, x, weight, bias=None):
        out = F.FullyConnected(x, weight, bias, no_bias=bias is None, num_hidden=self._units,
                               flatten=self._flatten)
        if self.act is not None:
            out = self.act(out)
        return out

    def __repr__(self):
        shape = self.weight.shape
        return "Dense(%s -> %d, %s)" % (shape[1] if shape and shape[1] else None, shape[0],
                                         "linear" if self.act is None else repr(self.act))


class Dropout(HybridBlock):
    """Inverted dropout with rate ``rate`` in training mode; identity when predicting."""

    def __init__(self, rate, axes=(), **kwargs):
        super().__init__(**kwargs)
        self._rate = float(rate)
        self._axes = tuple(axes)

    def hybrid_forward(self, F, x):
        if self._rate > 0:
            if self._axes:
                return F.Dropout(x, p=self._rate, axes=self._axes)
            return F.Dropout(x, p=self._rate)
        return F._copy(x)

    def __repr__(self):
        return "Dropout(p = %s, axes=%s)" % (self._rate, self._axes)


class BatchNorm(HybridBlock):
    """Batch normalisation with Gluon's defaults: ``epsilon=1e-5``, ``momentum=0.9``,
    ``fix_gamma = not scale`` (False by default; the operator's own defaults differ).

    ``running_mean``/``running_var`` are auxiliary parameters (``grad_req='null'``), updated
    by the server when backward runs in training mode (MXNet on CPU).
    """

    def __init__(self, axis=1, momentum=0.9, epsilon=1e-5, center=True, scale=True,
                 use_global_stats=False, beta_initializer="zeros", gamma_initializer="ones",
                 running_mean_initializer="zeros", running_variance_initializer="ones",
                 in_channels=0, **kwargs):
        super().__init__(**kwargs)
        self._kwargs = {"axis": int(axis), "eps": float(epsilon), "momentum": float(momentum),
                        "fix_gamma": not scale, "use_global_stats": bool(use_global_stats)}
        self._axis = int(axis)
        with self.name_scope():
            self.gamma = self.params.get("gamma", grad_req="write" if scale else "null",
                                         shape=(in_channels,), init=gamma_initializer,
                                         allow_deferred_init=True, differentiable=scale)
            self.beta = self.params.get("beta", grad_req="write" if center else "null",
                                        shape=(in_channels,), init=beta_initializer,
                                        allow_deferred_init=True, differentiable=center)
            self.running_mean = self.params.get("running_mean", grad_req="null",
                                                shape=(in_channels,), init=running_mean_initializer,
                                                allow_deferred_init=True, differentiable=False)
            self.running_var = self.params.get("running_var", grad_req="null",
                                               shape=(in_channels,), init=running_variance_initializer,
                                               allow_deferred_init=True, differentiable=False)

    def infer_shape(self, x, *args):
        channels = int(x.shape[self._axis])
        for p in (self.gamma, self.beta, self.running_mean, self.running_var):
            p.shape = (channels,)

    def hybrid_forward(self, F, x, gamma, beta, running_mean, running_var):
        return F.BatchNorm(x, gamma, beta, running_mean, running_var, **self._kwargs)

    def __repr__(self):
        return "BatchNorm(axis=%d, eps=%s, momentum=%s, fix_gamma=%s, in_channels=%s)" % (
            self._axis, self._kwargs["eps"], self._kwargs["momentum"], self._kwargs["fix_gamma"],
            self.gamma.shape[0] if self.gamma.shape and self.gamma.shape[0] else None)


class Embedding(HybridBlock):
    """Maps integer indices (given as floats, as MXNet does) to rows of ``weight``
    (input_dim, output_dim)."""

    def __init__(self, input_dim, output_dim, dtype="float32", weight_initializer=None,
                 sparse_grad=False, **kwargs):
        super().__init__(**kwargs)
        if sparse_grad:
            raise ValueError("tensord supports only dense gradients (sparse_grad=False)")
        self._kwargs = {"input_dim": int(input_dim), "output_dim": int(output_dim), "dtype": dtype}
        with self.name_scope():
            self.weight = self.params.get("weight", shape=(input_dim, output_dim),
                                          init=weight_initializer, dtype=dtype)

    def hybrid_forward(self, F, x, weight):
        return F.Embedding(x, weight, **self._kwargs)

    def __repr__(self):
        return "Embedding(%d -> %d, %s)" % (self._kwargs["input_dim"], self._kwargs["output_dim"],
                                            self._kwargs["dtype"])


class Flatten(HybridBlock):
    """Collapses all axes but the first."""

    def hybrid_forward(self, F, x):
        return F.flatten(x)

    def __repr__(self):
        return "Flatten"
