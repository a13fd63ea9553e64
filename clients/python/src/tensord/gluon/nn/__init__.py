"""``gluon.nn``: layers (``Dense``, ``Conv2D``, ``MaxPool2D``, ``Dropout``, ``BatchNorm``,
``Embedding``, ...) and containers (``Sequential``, ``HybridSequential``)."""

from ..block import Block, HybridBlock, HybridSequential, Sequential  # noqa: F401
from .basic_layers import (Activation, BatchNorm, Dense, Dropout, Embedding,  # noqa: F401
                           Flatten)
from .conv_layers import AvgPool2D, Conv2D, GlobalAvgPool2D, MaxPool2D  # noqa: F401
