"""A fixed-window rate limiter with bounded memory (per session and per client address),
and the client-address key the limits use.

An IPv6 client usually holds a whole /64 (it can pick any address in it), so IPv6
addresses are counted by their /64 prefix; IPv4 addresses one by one.
"""

from __future__ import annotations

import ipaddress
import time
from collections import OrderedDict
from typing import Callable, Optional, Tuple

IPV6_PREFIX = 64


def client_key(address: Optional[str]) -> str:
    """The rate-limit key for a client address: IPv4 as is, IPv6 by its /64 prefix.

    Anything that is not an IP address (an empty or odd value) is used as given.
    """
    text = (address or "").strip().strip("[]")
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return text or "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{ip}/{IPV6_PREFIX}", strict=False))
    return str(ip)


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


class Backoff:
    """A growing wait after repeated failures from one key (adviser sign-in per address).

    The first `free` failures in a row cost nothing; after that each attempt must wait
    `first * 2 ** (failures - free)` seconds (at most `longest`) from the last failure.
    A success clears the key. Remembers at most `max_keys` keys, like RateLimiter.
    """

    def __init__(
        self,
        free: int = 5,
        first: float = 2.0,
        longest: float = 900.0,
        max_keys: int = 50000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.free = free
        self.first = first
        self.longest = longest
        self.max_keys = max_keys
        self._clock = clock
        self._failures: "OrderedDict[str, Tuple[int, float]]" = OrderedDict()

    def __len__(self) -> int:
        return len(self._failures)

    def wait(self, key: str) -> float:
        """Seconds before `key` may try again (0: now)."""
        failures, last = self._failures.get(key, (0, 0.0))
        if failures < self.free:
            return 0.0
        delay = min(self.longest, self.first * 2 ** (failures - self.free))
        return max(0.0, last + delay - self._clock())

    def failed(self, key: str) -> None:
        """Count one failure for `key`."""
        failures, _ = self._failures.get(key, (0, 0.0))
        self._failures[key] = (failures + 1, self._clock())
        self._failures.move_to_end(key)
        while len(self._failures) > self.max_keys:
            self._failures.popitem(last=False)

    def succeeded(self, key: str) -> None:
        """Clear `key`'s failures."""
        self._failures.pop(key, None)
