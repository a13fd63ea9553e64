"""The session behind ``tensord.mx``: created on first use, deleted at interpreter exit.

``TENSORD_PIPELINE=1`` makes the default session pipelined (see ``set_pipelining``).
"""

import atexit
import os
import threading

from ..client import Client

_lock = threading.Lock()
_client = None
_session = None
_owned = False


def set_session(session):
    """Makes ``session`` (a :class:`tensord.Session`) the one ``tensord.mx`` uses from now on.

    The caller keeps ownership: it is not deleted at exit. Returns the previous session.
    """
    global _session, _owned, _client
    with _lock:
        previous = _session
        _session, _owned, _client = session, False, session.client
        return previous


def session():
    """The current session, creating the default one (``TENSORD_URL``) on first use."""
    global _session, _owned, _client
    s = _session
    if s is not None and not s.closed:
        return s
    with _lock:
        if _session is None or _session.closed:
            if _client is None:
                _client = Client()
            _session = _client.create_session(pipeline=os.environ.get("TENSORD_PIPELINE") == "1")
            _owned = True
        return _session


def reset(url=None):
    """Deletes the default session (if this module created it) and forgets the client.

    The next use creates a fresh session, on ``url`` if given.
    """
    global _session, _owned, _client
    with _lock:
        if _session is not None and _owned:
            _session.close()
        _session, _owned = None, False
        if _client is not None:
            _client.close()
        _client = Client(url) if url else None


def set_pipelining(on=True):
    """Turns pipelining on or off for the current session; returns the previous setting.

    When on, operators, scopes, backward and releases are sent without waiting for their
    responses; errors surface at the next call that needs a value (``asnumpy``, ``asscalar``,
    ``wait_to_read``, printing, ``shape`` of a fresh result, flag queries), naming the failed
    operation. Turning it off first waits for everything outstanding.
    """
    s = session()
    previous = s.pipeline
    if previous and not on:
        s.sync()
    s.pipeline = bool(on)
    return previous


def catalog(sess=None):
    return (sess or session()).client.ops()


@atexit.register
def _close_at_exit():
    s = _session
    if s is not None and _owned and not s.closed:
        try:
            s.close()
        except Exception:
            pass
