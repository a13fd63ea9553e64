"""tensord client: MXNet-style tensors and autograd on a tensord server.

- :class:`Client`, :class:`Session`, :class:`Program`: the REST API (docs/API.md), one method per
  operation, plus a builder for batched ``run`` programs.
- :mod:`tensord.mx`: a drop-in for ``mxnet``'s ``nd`` + ``autograd`` (``from tensord import mx``).
"""

from .client import Client, Program, Session  # noqa: F401
from .errors import MXNetError, TensordError  # noqa: F401

__version__ = "0.1.0"
__all__ = ["Client", "Session", "Program", "TensordError", "MXNetError", "mx"]


def __getattr__(name):
    if name == "mx":
        import importlib
        return importlib.import_module(".mx", __name__)
    raise AttributeError(name)
