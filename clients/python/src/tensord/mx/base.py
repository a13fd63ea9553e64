"""``mx.base``: the error type."""

from ..errors import MXNetError, TensordError  # noqa: F401
