"""``mx.random``: seeding and sampling."""

from . import _state
from .nd.random import normal, randint, uniform  # noqa: F401


def seed(seed_state, ctx="all"):
    """Seeds the session's random generator (``mx.random.seed``)."""
    _state.session().seed(seed_state)
