"""Errors raised by the tensord client.

Every error the server reports (an RFC 9457 problem body) becomes one :class:`TensordError`,
which is also ``mx.base.MXNetError``: a ``RuntimeError`` whose message is the server's
``detail`` (MXNet's own text for engine errors).
"""

import json

__all__ = ["TensordError", "MXNetError", "error_from_response"]


class TensordError(RuntimeError):
    """A problem reported by tensord (or a transport failure talking to it).

    Attributes: ``code`` (the stable problem code such as ``"not-recorded"``), ``status`` (the
    HTTP status, 0 for transport failures), ``detail`` (the server's message), ``problem`` (the
    whole problem body as a dict). The exception text is ``detail`` unless ``message`` is given
    (pipelined failures prefix the operation's name).
    """

    def __init__(self, detail, code="internal", status=0, problem=None, message=None):
        super().__init__(message or detail)
        self.detail = detail
        self.code = code
        self.status = status
        self.problem = problem if problem is not None else {}

    def __getattr__(self, name):
        # Problem extensions (`step`, `op`, `reason`, `array_id`, ...) read as attributes.
        problem = self.__dict__.get("problem") or {}
        if name in problem:
            return problem[name]
        raise AttributeError(name)


#: MXNet's name for the same error (``mx.base.MXNetError``).
MXNetError = TensordError


def error_from_response(status, content_type, body):
    """Builds the error for a non-2xx response; tolerates bodies that are not problem JSON."""
    problem = None
    if body and ("json" in (content_type or "")):
        try:
            problem = json.loads(body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            problem = None
    if isinstance(problem, dict):
        detail = problem.get("detail") or problem.get("title") or "HTTP %d" % status
        code = problem.get("code") or "http-%d" % status
        return TensordError(detail, code=code, status=status, problem=problem)
    text = body.decode("utf-8", "replace").strip() if body else ""
    return TensordError(text or "HTTP %d" % status, code="http-%d" % status, status=status)
