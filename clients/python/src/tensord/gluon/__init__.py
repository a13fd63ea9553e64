"""``tensord.gluon`` (also ``mx.gluon``): a subset of MXNet Gluon whose parameters live in a
tensord session.

``nn`` (Dense, Conv2D, MaxPool2D, Dropout, BatchNorm, Embedding, Sequential, ...), ``loss``
(L2Loss, L1Loss, SoftmaxCrossEntropyLoss, SigmoidBinaryCrossEntropyLoss), ``Trainer`` (sgd,
adam; one request per step), ``Parameter``/``ParameterDict``, initializers in ``init``, and
``TrainStep``, which runs forward, loss, backward and update as a single request.
"""

from . import init, loss, nn  # noqa: F401
from .block import Block, HybridBlock, Symbol  # noqa: F401
from .parameter import DeferredInitializationError, Parameter, ParameterDict  # noqa: F401
from .step import TrainStep  # noqa: F401
from .trainer import Trainer  # noqa: F401

__all__ = ["nn", "loss", "init", "Block", "HybridBlock", "Parameter", "ParameterDict",
           "Trainer", "TrainStep", "DeferredInitializationError"]
