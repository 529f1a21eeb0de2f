"""Web-chat limits: token buckets (connections per address, frames per visitor) and slots.

A bucket holds up to `capacity` tokens and refills at `rate` tokens per second; each
connection or frame takes one. The per-key table forgets a bucket once it has refilled
completely, so an idle visitor or address costs no memory (a new bucket starts full, which
is the same thing). `ConnectionSlots` counts the sockets open per address; a key is dropped
when its last socket closes, so it never holds more keys than there are open sockets.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class TokenBucket:
    """One bucket; `take` answers 0 when allowed, else the seconds until a token is back."""

    __slots__ = ("capacity", "rate", "stamp", "tokens")

    def __init__(self, capacity: float, rate: float, now: float) -> None:
        if capacity < 1 or rate < 0:
            raise ValueError("capacity must be >= 1 and rate >= 0")
        self.capacity = capacity
        self.rate = rate
        self.tokens = float(capacity)
        self.stamp = now

    def _refill(self, now: float) -> None:
        if now > self.stamp:
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now

    def take(self, now: float, cost: float = 1.0) -> float:
        """Take `cost` tokens if there are enough; else take none and say how long to wait."""
        self._refill(now)
        if self.tokens >= cost:
            self.tokens -= cost
            return 0.0
        if self.rate == 0:
            return float("inf")
        return (cost - self.tokens) / self.rate

    def is_full(self, now: float) -> bool:
        """True once the bucket has refilled completely (it can then be forgotten)."""
        self._refill(now)
        return self.tokens >= self.capacity


class BucketTable:
    """Buckets by key (visitor id, client address), each with the capacity and rate given."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        sweep_seconds: float = 60.0,
        sweep_keys: int = 100_000,
    ) -> None:
        self._clock = clock
        self._sweep_seconds = sweep_seconds
        self._sweep_keys = sweep_keys
        self._buckets: dict[str, TokenBucket] = {}
        self._next_sweep = clock() + sweep_seconds
        self._sweep_at_size = sweep_keys

    def take(self, key: str, capacity: float, rate: float) -> float:
        """0 if `key` may go on, else the seconds to wait (nothing is taken then)."""
        now = self._clock()
        # a flood of distinct keys (addresses, new visitors) sweeps early: the table then
        # holds only buckets still refilling, not a minute's worth of one-off keys
        if now >= self._next_sweep or len(self._buckets) >= self._sweep_at_size:
            self._sweep(now)
        bucket = self._buckets.get(key)
        if bucket is None or bucket.capacity != capacity or bucket.rate != rate:
            bucket = self._buckets[key] = TokenBucket(capacity, rate, now)
        return bucket.take(now)

    def __len__(self) -> int:
        return len(self._buckets)

    def _sweep(self, now: float) -> None:
        self._next_sweep = now + self._sweep_seconds
        for key in [k for k, b in self._buckets.items() if b.is_full(now)]:
            del self._buckets[key]
        # keys that are all still refilling: sweep again only once the table has doubled,
        # so a sweep costs O(1) per take however long the flood lasts
        self._sweep_at_size = max(self._sweep_keys, 2 * len(self._buckets))


class ConnectionSlots:
    """Open sockets per key (a client address): a cap, and a release on every close."""

    def __init__(self) -> None:
        self._open: dict[str, int] = {}

    def acquire(self, key: str, cap: int) -> bool:
        """Take a slot for `key` if fewer than `cap` are open; False (nothing taken) if not."""
        held = self._open.get(key, 0)
        if held >= cap:
            return False
        self._open[key] = held + 1
        return True

    def release(self, key: str) -> None:
        """Give back one slot of `key` (the key is forgotten with its last slot)."""
        held = self._open.get(key, 0)
        if held <= 1:
            self._open.pop(key, None)
        else:
            self._open[key] = held - 1

    def held(self, key: str) -> int:
        """How many sockets `key` has open."""
        return self._open.get(key, 0)

    def __len__(self) -> int:
        return len(self._open)
