"""``tensord.mx``: a namespace shaped like ``mxnet`` (``nd``, ``autograd``, ``random``, ``base``).

``from tensord import mx`` replaces ``import mxnet as mx``. Arrays live in a session on the
tensord server at ``TENSORD_URL`` (default ``http://127.0.0.1:8080``), created on first use and
deleted at interpreter exit; ``mx.set_session(s)`` uses a session of your own instead.
"""

from . import autograd, base, context, nd, random  # noqa: F401
from ._state import reset, session, set_pipelining, set_session  # noqa: F401
from .base import MXNetError  # noqa: F401
from .context import Context, cpu, current_context, gpu, num_gpus  # noqa: F401
from .ndarray import NDArray  # noqa: F401

ndarray = nd


def __getattr__(name):  # mx.gluon and mx.init load lazily (tensord.gluon imports this package)
    if name in ("gluon", "init"):
        import importlib
        return importlib.import_module({"gluon": "tensord.gluon", "init": "tensord.gluon.init"}[name])
    raise AttributeError("module 'tensord.mx' has no attribute %r" % name)
