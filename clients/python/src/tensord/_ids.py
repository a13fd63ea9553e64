"""Client-chosen array ids: unique per client process, valid under ``^[A-Za-z0-9_.:-]{1,128}$``."""

import itertools
import os

_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"


def _random_tag(n=8):
    raw = os.urandom(n)
    return "".join(_ALPHABET[b % 32] for b in raw)


class IdAllocator:
    """Hands out ids ``c<tag>.<n>``; the random tag keeps two clients of one session apart."""

    def __init__(self, prefix="c"):
        self._prefix = "%s%s." % (prefix, _random_tag())
        # itertools.count hands out each number once also across threads (one C call).
        self._counter = itertools.count(1)

    def next(self):
        return self._prefix + str(next(self._counter))

    def take(self, count):
        return [self.next() for _ in range(count)]
