"""2-D convolution and pooling layers (layout NCHW) with MXNet Gluon's arguments."""

from ..block import HybridBlock
from .basic_layers import Activation

__all__ = ["Conv2D", "MaxPool2D", "AvgPool2D", "GlobalAvgPool2D"]


def _pair(v):
    return (int(v),) * 2 if isinstance(v, int) else tuple(int(i) for i in v)


def _check_layout(layout):
    if layout != "NCHW":
        raise ValueError("tensord supports only the NCHW layout, got %r" % (layout,))


class Conv2D(HybridBlock):
    """2-D convolution; weight (channels, in_channels/groups, kh, kw), bias (channels,).

    ``in_channels=0`` infers the input channels at the first call.
    """

    def __init__(self, channels, kernel_size, strides=(1, 1), padding=(0, 0), dilation=(1, 1),
                 groups=1, layout="NCHW", activation=None, use_bias=True, weight_initializer=None,
                 bias_initializer="zeros", in_channels=0, **kwargs):
        super().__init__(**kwargs)
        _check_layout(layout)
        self._channels = int(channels)
        self._groups = int(groups)
        self._kernel = _pair(kernel_size)
        self._kwargs = {"kernel": self._kernel, "stride": _pair(strides), "pad": _pair(padding),
                        "dilate": _pair(dilation), "num_filter": self._channels,
                        "num_group": self._groups, "no_bias": not use_bias}
        with self.name_scope():
            self.weight = self.params.get(
                "weight", shape=(channels, in_channels // groups if in_channels else 0) + self._kernel,
                init=weight_initializer, allow_deferred_init=True)
            if use_bias:
                self.bias = self.params.get("bias", shape=(channels,), init=bias_initializer,
                                            allow_deferred_init=True)
            else:
                self.bias = None
            self.act = Activation(activation, prefix=activation + "_") if activation is not None else None

    def _alias(self):
        return "conv"

    def infer_shape(self, x, *args):
        self.weight.shape = (self._channels, int(x.shape[1]) // self._groups) + self._kernel

    def hybrid_forward(self, F, x, weight, bias=None):
        out = F.Convolution(x, weight, bias, **self._kwargs)
        if self.act is not None:
            out = self.act(out)
        return out

    def __repr__(self):
        return "Conv2D(%s -> %d, kernel_size=%s, stride=%s)" % (
            self.weight.shape[1] or None, self._channels, self._kernel, self._kwargs["stride"])


class _Pool2D(HybridBlock):
    def __init__(self, pool_size, strides, padding, ceil_mode, global_pool, pool_type, layout,
                 count_include_pad=None, **kwargs):
        super().__init__(**kwargs)
        _check_layout(layout)
        if strides is None:
            strides = pool_size
        self._kwargs = {"kernel": _pair(pool_size), "stride": _pair(strides), "pad": _pair(padding),
                        "global_pool": global_pool, "pool_type": pool_type,
                        "pooling_convention": "full" if ceil_mode else "valid"}
        if count_include_pad is not None:
            self._kwargs["count_include_pad"] = count_include_pad

    def _alias(self):
        return "pool"

    def hybrid_forward(self, F, x):
        return F.Pooling(x, **self._kwargs)

    def __repr__(self):
        return "%s(size=%s, stride=%s, padding=%s, ceil_mode=%s, global_pool=%s)" % (
            type(self).__name__, self._kwargs["kernel"], self._kwargs["stride"],
            self._kwargs["pad"], self._kwargs["pooling_convention"] == "full",
            self._kwargs["global_pool"])


class MaxPool2D(_Pool2D):
    """Max pooling; ``strides`` default to ``pool_size``."""

    def __init__(self, pool_size=(2, 2), strides=None, padding=0, layout="NCHW", ceil_mode=False,
                 **kwargs):
        super().__init__(pool_size, strides, padding, ceil_mode, False, "max", layout, **kwargs)


class AvgPool2D(_Pool2D):
    """Average pooling; ``strides`` default to ``pool_size``."""

    def __init__(self, pool_size=(2, 2), strides=None, padding=0, layout="NCHW", ceil_mode=False,
                 count_include_pad=True, **kwargs):
        super().__init__(pool_size, strides, padding, ceil_mode, False, "avg", layout,
                         count_include_pad, **kwargs)


class GlobalAvgPool2D(_Pool2D):
    """Average over the whole spatial extent: (N, C, H, W) → (N, C, 1, 1)."""

    def __init__(self, layout="NCHW", **kwargs):
        super().__init__((1, 1), None, 0, True, True, "avg", layout, **kwargs)
