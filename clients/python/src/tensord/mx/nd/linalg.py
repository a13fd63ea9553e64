"""``nd.linalg``: the catalog's ``linalg_*`` operators under their short names (``gemm2`` ...)."""

from .. import _state


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    from . import __getattr__ as nd_getattr
    ops = _state.catalog()
    for full in ("_linalg_" + name, "linalg_" + name):
        if full in ops:
            return nd_getattr(full)
    raise AttributeError("module 'tensord.mx.nd.linalg' has no attribute %r" % name)
