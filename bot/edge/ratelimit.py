"""A fixed-window rate limiter with bounded memory (per session and per client address)."""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Callable, Tuple


class RateLimiter:
    """At most `limit` hits per key in each `window` seconds; remembers at most `max_keys` keys.

    When the table is full the least recently used key is forgotten, so memory stays
    bounded whatever the traffic; a forgotten key simply starts a new window.
    """

    def __init__(
        self,
        limit: int,
        window: float = 60.0,
        max_keys: int = 50000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self._clock = clock
        self._hits: "OrderedDict[str, Tuple[float, int]]" = OrderedDict()

    def __len__(self) -> int:
        return len(self._hits)

    def allow(self, key: str) -> bool:
        """Count one hit for `key`; False when it is over the limit in this window."""
        now = self._clock()
        start, count = self._hits.get(key, (now, 0))
        if now - start >= self.window:
            start, count = now, 0
        count += 1
        self._hits[key] = (start, count)
        self._hits.move_to_end(key)
        while len(self._hits) > self.max_keys:
            self._hits.popitem(last=False)
        return count <= self.limit
